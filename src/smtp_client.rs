//! The test email over SMTP, as a mailer sends it: TLS (STARTTLS or TLS wrapper), AUTH, then MAIL
//! FROM / RCPT TO / DATA. AUTH and the message are separate connections on purpose: SES accepts
//! AUTH (235) and rejects unverified senders or missing permissions only later (554), so the two
//! answers tell different stories.

use crate::secret::Secret;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// How long a port probe waits for the TCP handshake. A port that answers does so within a
/// round trip; a blocked one (EC2's throttled 25, a firewall that drops) never does.
pub const PORT_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// SES's SMTP ports, in the order a mailer should prefer them: STARTTLS on 587 and 2587, TLS
/// wrapper on 465 and 2465, and 25 last (throttled on EC2).
pub const SES_PORTS: [u16; 5] = [587, 2587, 465, 2465, 25];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS (ports 25, 587, 2587).
    StartTls,
    /// TLS from the first byte (ports 465, 2465).
    Wrapper,
}

impl TlsMode {
    /// SES's ports: 465 and 2465 are TLS wrapper, the others STARTTLS.
    pub fn for_port(port: u16) -> Self {
        if port == 465 || port == 2465 {
            TlsMode::Wrapper
        } else {
            TlsMode::StartTls
        }
    }
}

impl TlsMode {
    pub fn describe(self) -> &'static str {
        match self {
            TlsMode::StartTls => "STARTTLS",
            TlsMode::Wrapper => "TLS wrapper",
        }
    }
}

/// The region of an SES SMTP host name: `email-smtp.<region>.amazonaws.com`, or its FIPS
/// variant `email-smtp-fips.<region>.amazonaws.com`. `None` for any other host.
pub fn region_of_host(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let rest = host
        .strip_prefix("email-smtp-fips.")
        .or_else(|| host.strip_prefix("email-smtp."))?;
    let region = rest.strip_suffix(".amazonaws.com")?;
    crate::regions::is_region_shaped(region).then(|| region.to_owned())
}

/// Where a connection to `host:port` really goes. Only the end-to-end tests set these
/// variables (see `failpoint.rs`): `SES_DOCTOR_TEST_SMTP_HOST` dials every SMTP host at that
/// address (its name is still the one TLS verifies), and `SES_DOCTOR_TEST_SMTP_PORTS`
/// (`587=40001,465=40002`) maps SES's well-known ports to a local stand-in's.
fn dial(host: &str, port: u16) -> (String, u16) {
    let host = std::env::var("SES_DOCTOR_TEST_SMTP_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| host.to_owned());
    let port = std::env::var("SES_DOCTOR_TEST_SMTP_PORTS")
        .ok()
        .and_then(|map| {
            map.split(',').find_map(|pair| {
                let (from, to) = pair.split_once('=')?;
                (from.trim().parse::<u16>().ok()? == port)
                    .then(|| to.trim().parse::<u16>().ok())
                    .flatten()
            })
        })
        .unwrap_or(port);
    (host, port)
}

/// The ports of `ports` that accept a TCP connection on `host` within `timeout`, all tried at
/// once, in the order given.
pub async fn open_ports(host: &str, ports: &[u16], timeout: Duration) -> Vec<u16> {
    let mut probes = tokio::task::JoinSet::new();
    for (i, &port) in ports.iter().enumerate() {
        let (dial_host, dial_port) = dial(host, port);
        probes.spawn(async move {
            let connect = tokio::net::TcpStream::connect((dial_host.as_str(), dial_port));
            let open = matches!(tokio::time::timeout(timeout, connect).await, Ok(Ok(_)));
            (i, open)
        });
    }
    let mut open = vec![false; ports.len()];
    while let Some(result) = probes.join_next().await {
        if let Ok((i, true)) = result {
            open[i] = true;
        }
    }
    ports
        .iter()
        .zip(open)
        .filter_map(|(&port, open)| open.then_some(port))
        .collect()
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Extra CA to trust (a test server or a private relay), besides the system's.
    pub ca_file: Option<PathBuf>,
}

pub struct SmtpCredentials {
    pub username: String,
    pub password: Secret,
}

/// How far a session got.
#[derive(Debug)]
pub enum Outcome {
    /// Accepted through DATA: SES's message ID.
    Sent { message_id: String },
    /// The server would not authenticate (535 and the like).
    AuthRejected { code: u16, text: String },
    /// AUTH was accepted, then the message was rejected (554 after MAIL FROM / DATA).
    MessageRejected { code: u16, text: String },
    /// No SMTP conversation: connection, TLS, timeout.
    Unreachable(String),
}

pub struct TestMessage<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Removes every secret from a text an SMTP library or server produced, in case one echoed it.
fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if !s.expose().is_empty() {
            out = out.replace(s.expose(), "<redacted>");
        }
    }
    out
}

fn transport(
    endpoint: &Endpoint,
    creds: &SmtpCredentials,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut params = TlsParameters::builder(endpoint.host.clone());
    if let Some(ca) = &endpoint.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read {}: {e}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("{}: not a PEM certificate: {e}", ca.display()))?;
        params = params.add_root_certificate(cert);
    }
    let params = params
        .build_rustls()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let tls = match endpoint.tls {
        TlsMode::StartTls => Tls::Required(params),
        TlsMode::Wrapper => Tls::Wrapper(params),
    };
    let (dial_host, dial_port) = dial(&endpoint.host, endpoint.port);
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(dial_host)
            .port(dial_port)
            .tls(tls)
            .credentials(Credentials::new(
                creds.username.clone(),
                creds.password.expose().to_owned(),
            ))
            .authentication(vec![Mechanism::Plain, Mechanism::Login])
            .timeout(Some(timeout))
            .build(),
    )
}

fn split(err: &lettre::transport::smtp::Error, secrets: &[&Secret]) -> (Option<u16>, String) {
    let code = err.status().map(u16::from);
    let text = crate::exit::error_chain(err);
    // lettre says "permanent error (554): <server text>"; the code is reported on its own.
    let text = match code {
        Some(c) => text
            .strip_prefix(&format!("permanent error ({c}): "))
            .or_else(|| text.strip_prefix(&format!("transient error ({c}): ")))
            .map(str::to_owned)
            .unwrap_or(text),
        None => text,
    };
    (code, redact(&text, secrets))
}

/// Connects, authenticates, and sends `message`.
pub async fn send(
    endpoint: &Endpoint,
    creds: &SmtpCredentials,
    message: &TestMessage<'_>,
    timeout: Duration,
) -> Outcome {
    let secrets = [&creds.password];
    let transport = match transport(endpoint, creds, timeout) {
        Ok(t) => t,
        Err(e) => return Outcome::Unreachable(e),
    };
    // lettre's timeout covers the connection, not a greeting that never comes (STARTTLS spoken
    // to a TLS-wrapper port waits in silence): each phase gets a deadline of its own.
    let silent = || {
        Outcome::Unreachable(format!(
            "the server did not answer within {} s (timed out)",
            timeout.as_secs()
        ))
    };
    // 1. Connect, TLS, AUTH (lettre authenticates as part of connecting), NOOP, QUIT.
    match tokio::time::timeout(timeout, transport.test_connection()).await {
        Err(_) => return silent(),
        Ok(Err(e)) => {
            return match split(&e, &secrets) {
                (Some(code), text) => Outcome::AuthRejected { code, text },
                (None, text) => Outcome::Unreachable(text),
            }
        }
        Ok(Ok(_)) => {}
    }
    // 2. The message, through DATA.
    let email = match build(message) {
        Ok(m) => m,
        Err(e) => return Outcome::MessageRejected { code: 0, text: e },
    };
    let Ok(sent) = tokio::time::timeout(timeout, transport.send(email)).await else {
        return silent();
    };
    match sent {
        Ok(response) => {
            let line = response.first_line().unwrap_or_default();
            // SES answers "250 Ok <message-id>".
            let message_id = line.strip_prefix("Ok ").unwrap_or(line).trim().to_owned();
            Outcome::Sent { message_id }
        }
        Err(e) => match split(&e, &secrets) {
            (Some(code), text) if code == 535 || code == 530 => {
                Outcome::AuthRejected { code, text }
            }
            (Some(code), text) => Outcome::MessageRejected { code, text },
            (None, text) => Outcome::Unreachable(text),
        },
    }
}

fn build(m: &TestMessage<'_>) -> Result<Message, String> {
    let from: Mailbox = m
        .from
        .parse()
        .map_err(|e| format!("--from {}: {e}", m.from))?;
    let to: Mailbox = m.to.parse().map_err(|e| format!("--to {}: {e}", m.to))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.to_owned())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port with a listener answers, a closed one does not; the order given is kept.
    #[tokio::test]
    async fn probes_tell_open_ports_from_closed_ones() {
        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open_port = open.local_addr().unwrap().port();
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let found = open_ports("127.0.0.1", &[closed_port, open_port], PORT_PROBE_TIMEOUT).await;
        assert_eq!(found, [open_port]);
    }

    #[test]
    fn ports_and_redaction() {
        assert_eq!(TlsMode::for_port(587), TlsMode::StartTls);
        assert_eq!(TlsMode::for_port(2465), TlsMode::Wrapper);
        assert_eq!(
            region_of_host("email-smtp.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_host("Email-SMTP-FIPS.us-gov-west-1.amazonaws.com.").as_deref(),
            Some("us-gov-west-1")
        );
        for other in [
            "127.0.0.1",
            "email.eu-west-1.amazonaws.com",
            "email-smtp.amazonaws.com",
            "email-smtp.eu-west-1.example.com",
        ] {
            assert_eq!(region_of_host(other), None, "{other}");
        }
        let s = Secret::new("BPassword+/=");
        assert_eq!(
            redact("auth failed for BPassword+/= here", &[&s]),
            "auth failed for <redacted> here"
        );
    }
}
