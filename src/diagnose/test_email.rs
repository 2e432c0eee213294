//! Step 6: the proof. A test email through SES, by the API (`sesv2 SendEmail`) or over SMTP as a
//! mailer sends it, from a verified identity to the mailbox simulator by default. A rejection is
//! classified from SES's own words. Over SMTP the credentials are first checked offline (an AWS
//! secret used as the password, a password derived for another region, a legacy one), and a 235
//! on AUTH is not taken as proof: the message must get through DATA.

use crate::aws_setup::Clients;
use crate::codes::Code;
use crate::consent::Consent;
use crate::diagnose::access_key::Reveal;
use crate::diagnose::aws_errors;
use crate::exit::Failure;
use crate::regions;
use crate::report::{Finding, Fix, Severity, Step, StepId};
use crate::secret::{AccessKey, Secret};
use crate::smtp_client::{self, Endpoint, Outcome, SmtpCredentials, TestMessage, TlsMode};
use crate::smtp_password::{self, PasswordVersion};
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use std::path::PathBuf;
use std::time::Duration;

/// The mailbox simulator: accepted in the sandbox, never delivered, not counted in the quota.
pub const SIMULATOR: &str = "success@simulator.amazonses.com";
const SUBJECT: &str = "ses-doctor test email";
const BODY: &str = "This message was sent by ses-doctor to prove that these credentials can send through Amazon SES.\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Api,
    Smtp,
}

#[derive(Clone, Debug, Default)]
pub struct SmtpOptions {
    /// `--smtp-endpoint HOST:PORT`; default: SES's endpoint for the region.
    pub endpoint: Option<(String, u16)>,
    pub port: Option<u16>,
    pub tls: Option<TlsMode>,
    pub ca_file: Option<PathBuf>,
    /// SMTP credentials as the mailer has them; default: derived from the access key.
    pub username: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct TestEmailOptions {
    pub via: Via,
    pub to: String,
    pub no_send: bool,
    pub smtp: SmtpOptions,
}

pub struct TestEmailInput<'a> {
    /// The sending credentials, when they work.
    pub sending: Option<&'a dyn Clients>,
    pub key: Option<&'a AccessKey>,
    pub admin: Option<&'a dyn Clients>,
    pub region: &'a str,
    pub from: Option<&'a str>,
    /// Verified identities in `region` (addresses and domains).
    pub identities: &'a [String],
    pub opts: &'a TestEmailOptions,
    pub consent: &'a Consent,
    pub reveal: &'a dyn Reveal,
    pub timeout: Duration,
}

pub async fn check(input: TestEmailInput<'_>) -> Result<Step, Failure> {
    let mut step = Step::new(StepId::TestEmail);
    if input.opts.no_send {
        return Ok(Step::skipped(StepId::TestEmail, "--no-send"));
    }
    let Some(from) = pick_sender(input.from, input.identities, input.consent)? else {
        return Ok(Step::skipped(
            StepId::TestEmail,
            format!(
                "there is no verified identity in {} to send from (see step 2); --from names one",
                input.region
            ),
        ));
    };
    let to = input.opts.to.as_str();
    match input.opts.via {
        Via::Api => {
            let Some(sending) = input.sending else {
                return Ok(Step::skipped(
                    StepId::TestEmail,
                    "the API credentials do not work (see step 1)",
                ));
            };
            let finding = send_api(sending, input.region, &from, to).await;
            if matches!(
                finding.code,
                Code::EndpointUnreachable | Code::AwsUnavailable | Code::TestEmailUnconfirmed
            ) || (finding.code == Code::AwsCallFailed)
            {
                step.mark_incomplete(finding.title.clone());
            }
            step.push(finding);
        }
        Via::Smtp => send_smtp(&mut step, &input, &from, to).await?,
    }
    Ok(step)
}

/// `--from`, else the first verified address, else an address at a verified domain (the person
/// picks the domain on a terminal).
fn pick_sender(
    from: Option<&str>,
    identities: &[String],
    consent: &Consent,
) -> Result<Option<String>, Failure> {
    if let Some(f) = from {
        return Ok(Some(f.to_owned()));
    }
    if let Some(address) = identities.iter().find(|i| i.contains('@')) {
        return Ok(Some(address.clone()));
    }
    let domains: Vec<String> = identities
        .iter()
        .filter(|i| !i.contains('@'))
        .cloned()
        .collect();
    if domains.is_empty() {
        return Ok(None);
    }
    let index = consent.choose(
        "Send the test email from which verified domain?",
        &domains,
        0,
    )?;
    let domain = domains[index].to_ascii_lowercase();
    // Any address at the domain (or a subdomain) is covered by its verification.
    let at_domain = |text: &str| -> Result<(), String> {
        let covered = text.rsplit_once('@').is_some_and(|(local, d)| {
            let d = d.to_ascii_lowercase();
            !local.is_empty() && (d == domain || d.ends_with(&format!(".{domain}")))
        });
        if covered {
            Ok(())
        } else {
            Err(format!(
                "an address at {domain}, like ses-doctor-test@{domain}"
            ))
        }
    };
    let from = consent.text(
        "Send the test email from which address?",
        &format!("ses-doctor-test@{domain}"),
        &at_domain,
    )?;
    Ok(Some(from))
}

fn sent(message_id: &str, from: &str, to: &str, region: &str, via: &str) -> Finding {
    Finding::new(
        Code::TestEmailSent,
        Severity::Pass,
        format!("SES accepted the test email from {from} to {to}"),
    )
    .explain(if to == SIMULATOR {
        "The mailbox simulator accepts it without delivering it, even in the sandbox."
    } else {
        "Check the inbox of the recipient."
    })
    .evidence("message ID", message_id)
    .evidence("region", region)
    .evidence("via", via)
}

async fn send_api(sending: &dyn Clients, region: &str, from: &str, to: &str) -> Finding {
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
    let text = |s: &str| {
        Content::builder()
            .data(s)
            .charset("UTF-8")
            .build()
            .expect("data is set")
    };
    let result = sending
        .sesv2(region)
        .send_email()
        .from_email_address(from)
        .destination(Destination::builder().to_addresses(to).build())
        .content(
            EmailContent::builder()
                .simple(
                    Message::builder()
                        .subject(text(SUBJECT))
                        .body(Body::builder().text(text(BODY)).build())
                        .build(),
                )
                .build(),
        )
        // Sending is not idempotent: a retry after a lost answer could send the email twice.
        .customize()
        .config_override(
            aws_sdk_sesv2::config::Config::builder()
                .retry_config(aws_config::retry::RetryConfig::disabled()),
        )
        .send()
        .await;
    let service = format!("SES in {region}");
    match result {
        Ok(out) => sent(
            out.message_id().unwrap_or_default(),
            from,
            to,
            region,
            "SES API (SendEmail)",
        ),
        Err(e) => match aws_errors::trouble(&e) {
            Some(aws_errors::Trouble::NoAnswer { detail, .. }) if sent_before_failing(&detail) => {
                Finding::new(
                    Code::TestEmailUnconfirmed,
                    Severity::Error,
                    format!("The test email went to SES in {region}, but the answer was lost: it is unknown whether it was sent"),
                )
                .explain(
                    "The connection broke after the request was sent, so SES may have sent the \
                     message. It is not sent again automatically, since that could deliver it \
                     twice. Check the recipient's mailbox before running again.",
                )
                .evidence("error", detail)
                .evidence("via", "SES API (SendEmail)")
            }
            Some(t) => aws_errors::finding_for(&t, &service, sending),
            None => match e.code() {
                Some(code) => {
                    let said = format!("{code}: {}", e.message().unwrap_or_default());
                    rejected(&said, from, to, region).evidence("via", "SES API (SendEmail)")
                }
                None => aws_errors::finding(
                    &aws_errors::Trouble::Unreadable(crate::exit::error_chain(&e)),
                    &service,
                    None,
                ),
            },
        },
    }
}

/// Whether a request that got no answer had reached the server: anything but a failure to
/// connect (refused, no route, DNS) may have been processed.
fn sent_before_failing(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    ![
        "refused",
        "dns",
        "resolve",
        "no route",
        "unreachable",
        "connect timed out",
        "tls handshake",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A rejection, classified from SES's words (the API's and SMTP's say the same things).
pub fn rejected(said: &str, from: &str, to: &str, region: &str) -> Finding {
    let lower = said.to_ascii_lowercase();
    let finding = if lower.contains("email address is not verified")
        || lower.contains("mailfromdomainnotverified")
    {
        // "... failed the check in region EU-WEST-1: a@b.c, d@e.f"
        let failed: Vec<String> = said
            .rsplit_once(':')
            .map(|(_, list)| {
                list.split(',')
                    .map(|s| s.trim().trim_end_matches('.').to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let recipient_failed = failed.iter().any(|f| f == &to.to_ascii_lowercase());
        let sender_failed =
            failed.iter().any(|f| f == &from.to_ascii_lowercase()) || !recipient_failed;
        if sender_failed {
            Finding::new(
                Code::IdentityUnverified,
                Severity::Error,
                format!(
                    "SES rejected the test email: the sender {from} is not verified in {region}"
                ),
            )
            .explain(
                "The From address, or its domain, must be a verified identity in the region the \
                 mail is sent through. Verify it there, or send from an identity that is.",
            )
            .fix(
                Fix::manual(format!("Verify {from} (or its domain) in {region}")).command(format!(
                    "aws sesv2 create-email-identity --email-identity {from} --region {region}"
                )),
            )
        } else {
            Finding::new(
                Code::SesSandbox,
                Severity::Error,
                format!("SES rejected the test email: in the sandbox, the recipient {to} must be verified"),
            )
            .explain(
                "In the SES sandbox every recipient must be a verified identity too (the mailbox \
                 simulator excepted). Request production access for the region, or verify the \
                 recipient.",
            )
            .fix(Fix::manual(format!("Request production access for {region} (SES console > Account dashboard)")))
        }
    } else if lower.contains("explicit deny") {
        Finding::new(
            Code::PermissionExplicitlyDenied,
            Severity::Error,
            "SES rejected the test email: an explicit Deny blocks sending",
        )
        .explain("A Deny overrides every Allow; see step 3 for the policy that denies it.")
        .fix(Fix::manual(
            "Remove the Deny on ses:SendEmail / ses:SendRawEmail",
        ))
    } else if (lower.contains("not authorized to perform") || lower.contains("accessdenied"))
        && (lower.contains("permissions boundary") || lower.contains("service control policy"))
    {
        // A boundary or an SCP that leaves sending out: granting more cannot fix it.
        Finding::new(
            Code::PermissionExplicitlyDenied,
            Severity::Error,
            "SES rejected the test email: a permissions boundary or an organization SCP does not allow sending",
        )
        .explain("Whatever the user's own policies allow, the boundary or SCP must allow it too; see step 3.")
        .fix(Fix::manual(
            "Allow ses:SendEmail / ses:SendRawEmail in the user's permissions boundary (or the SCP)",
        ))
    } else if lower.contains("not authorized to perform") || lower.contains("accessdenied") {
        Finding::new(
            Code::PermissionMissing,
            Severity::Error,
            "SES rejected the test email: the user may not send",
        )
        .explain("The user needs ses:SendEmail (API) or ses:SendRawEmail (SMTP); see step 3.")
        .fix(Fix::manual("Allow the user ses:SendEmail and ses:SendRawEmail on the identities it sends from (an inline policy; ses-doctor diagnose --admin-profile NAME puts one), or attach AmazonSESFullAccess"))
    } else if lower.contains("sending paused")
        || lower.contains("sendingpaused")
        || lower.contains("sending is paused")
    {
        Finding::new(
            Code::SesSendingPaused,
            Severity::Error,
            format!("SES rejected the test email: sending is paused in {region}"),
        )
        .explain("See step 2: resume sending, or ask AWS why it was paused.")
    } else {
        Finding::new(
            Code::TestEmailRejected,
            Severity::Error,
            "SES rejected the test email",
        )
        .explain("SES's answer is below; `ses-doctor explain` may know more about it.")
    };
    finding
        .evidence("SES said", said)
        .evidence("from", from)
        .evidence("to", to)
}

/// Whether `value` has the shape of an AWS secret access key (40 characters of base64).
fn secret_shaped(value: &str) -> bool {
    value.chars().count() == 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

/// A problem found before or while connecting, and what proves it when the corrected attempt
/// gets through.
struct Problem {
    finding: Finding,
    /// Noted as "proven" when the test email then goes through; `None` for a problem the test
    /// does not correct (the endpoint's region).
    proof: Option<&'static str>,
    /// A problem with the credentials: a 535 is then explained by it, not by the key.
    credentials: bool,
}

impl Problem {
    fn credentials(finding: Finding, proof: &'static str) -> Self {
        Problem {
            finding,
            proof: Some(proof),
            credentials: true,
        }
    }
}

/// The SMTP credentials to use, and what is wrong with the given ones, found offline.
struct Prepared {
    creds: SmtpCredentials,
    /// Problems found offline, each with the credentials corrected to what should work instead.
    problems: Vec<Problem>,
    /// The password was corrected: the working one is worth offering.
    password_corrected: bool,
    /// The credentials came from the user (not derived by ses-doctor).
    given: bool,
}

/// Whether `id` is an access key ID at all (a malformed one is left to the 535 it gets).
fn key_id_like(id: &str) -> bool {
    id.starts_with("AKIA") || id.starts_with("ASIA")
}

/// SES's SMTP interface refuses passwords derived from temporary credentials (AWS, "Obtaining
/// Amazon SES SMTP credentials": do not use temporary AWS credentials to derive them).
fn temporary_credentials(key_id: &str, source: &str) -> Finding {
    Finding::new(
        Code::SmtpCredentialsTemporary,
        Severity::Error,
        "SMTP credentials cannot come from a temporary (ASIA) access key",
    )
    .explain(
        "SES's SMTP interface only takes a password derived from an IAM user's long-term key \
         (AKIA…), with that key's ID as the user name; AWS says not to derive SMTP credentials \
         from temporary ones (a role, SSO, an instance profile), and they expire anyway. Create \
         an IAM user for SMTP with a key of its own, or send through the SES API with these \
         credentials.",
    )
    .evidence("access key ID", key_id)
    .evidence("from", source)
    .fix(
        Fix::manual(
            "Create an IAM user for SMTP, with a long-term key, and derive its SMTP password",
        )
        .command("ses-doctor diagnose --new-user --via smtp"),
    )
}

/// What a user name that is no access key ID most likely is.
fn username_kind(username: &str) -> &'static str {
    if username.is_empty() {
        "empty"
    } else if smtp_password::recognise(username).is_some() || secret_shaped(username) {
        "a password or secret (the user name and the password may be swapped)"
    } else if username.contains('@') {
        "an e-mail address"
    } else if username.starts_with("AIDA") {
        "an IAM user ID"
    } else if username.len() == 12 && username.chars().all(|c| c.is_ascii_digit()) {
        "an AWS account ID (a console login)"
    } else {
        "an IAM user name or a console login"
    }
}

fn username_not_key_id(username: &str, right: Option<&str>) -> Finding {
    let kind = username_kind(username);
    // A user name that looks like a secret is not shown.
    let title = if kind.starts_with("a password") || kind == "empty" {
        format!("The SMTP user name is {kind}, not an access key ID")
    } else {
        format!("The SMTP user name {username} is {kind}, not an access key ID")
    };
    let f = Finding::new(Code::SmtpUsernameNotKeyId, Severity::Error, title).explain(
        "SES's SMTP interface takes the access key ID (AKIA…, 20 characters) as the user name, with \
         the password derived from that key's secret. An IAM user name, an e-mail address or a \
         console login is refused with 535, however right the password is.",
    );
    match right {
        Some(id) => f.evidence("access key ID", id).fix(Fix::manual(format!(
            "Set the mailer's SMTP user name to {id}"
        ))),
        None => f.fix(Fix::manual(
            "Set the mailer's SMTP user name to the access key ID whose secret the SMTP password \
             was derived from (IAM > Users > Security credentials lists the user's keys)",
        )),
    }
}

/// Whether `password` was made from `secret`: derived for some region, the legacy form, or the
/// secret itself.
fn made_from(secret: &Secret, password: &Secret) -> bool {
    secret == password
        || smtp_password::derive_legacy(secret) == *password
        || regions::REGIONS
            .iter()
            .filter(|r| r.ses)
            .any(|r| smtp_password::derive(secret, r.name) == *password)
}

/// `input.region` is the SMTP endpoint's region here: the password is judged for it.
fn prepare(input: &TestEmailInput<'_>, step: &mut Step) -> Option<Prepared> {
    let region = input.region;
    let smtp = &input.opts.smtp;
    let Some(password) = smtp.password.clone() else {
        // Derived from the access key, as the SES console does.
        let Some(key) = input.key else {
            step.push(
                Finding::new(Code::SmtpAuthFailed, Severity::Error, "There are no SMTP credentials to test")
                    .explain("Give the mailer's SMTP user name (--smtp-username) and password (SES_DOCTOR_SMTP_PASSWORD or stdin), or working access keys to derive them from."),
            );
            return None;
        };
        if key.id.starts_with("ASIA") {
            step.push(temporary_credentials(
                &key.id,
                "the credentials under test (ses-doctor would derive the SMTP password from them)",
            ));
            return None;
        }
        return Some(Prepared {
            creds: SmtpCredentials {
                username: key.id.clone(),
                password: smtp_password::derive(&key.secret, region),
            },
            problems: Vec::new(),
            password_corrected: false,
            given: false,
        });
    };
    let mut username = smtp.username.clone().unwrap_or_default();
    let mut problems = Vec::new();
    if username.starts_with("ASIA") {
        step.push(temporary_credentials(&username, "--smtp-username"));
        return None;
    }
    if !key_id_like(&username) {
        // The key the password was made from, when ses-doctor has it, names the right user name.
        match input.key.filter(|k| made_from(&k.secret, &password)) {
            Some(key) if key.id.starts_with("ASIA") => {
                step.push(temporary_credentials(
                    &key.id,
                    "the credentials under test (the SMTP password was derived from them)",
                ));
                return None;
            }
            Some(key) => {
                problems.push(Problem::credentials(
                    username_not_key_id(&username, Some(&key.id)),
                    "with the access key ID as the user name, SES accepted the test email",
                ));
                username = key.id.clone();
            }
            None => {
                // SES would answer 535, which says nothing more.
                step.push(username_not_key_id(&username, None));
                return None;
            }
        }
    }
    // The secret behind the user name, when ses-doctor has it.
    let known_secret = input.key.filter(|k| k.id == username).map(|k| &k.secret);
    let mut use_password = password.clone();
    let mut password_corrected = false;
    match smtp_password::recognise(password.expose()) {
        None if secret_shaped(password.expose()) => {
            let derived = smtp_password::derive(&password, region);
            problems.push(Problem::credentials(
                Finding::new(
                    Code::SmtpPasswordIsSecretKey,
                    Severity::Error,
                    "The SMTP password is an AWS secret access key, not an SMTP password",
                )
                .explain(format!(
                    "SES's SMTP interface wants a password derived from the secret key for the \
                     region (44 characters, starting with B); the secret itself is refused with \
                     535. Put the derived password into the mailer: `ses-doctor smtp-password \
                     --region {region}` prints it."
                ))
                .fix(
                    Fix::manual(format!(
                        "Set the mailer's SMTP password to the one derived for {region}"
                    ))
                    .command(format!("ses-doctor smtp-password --region {region}")),
                ),
                "with the corrected password, SES accepted the test email",
            ));
            use_password = derived;
            password_corrected = true;
        }
        Some(PasswordVersion::Legacy) => {
            let mut f = Finding::new(
                Code::SmtpPasswordLegacy,
                Severity::Error,
                "The SMTP password is a legacy Signature Version 2 password",
            )
            .explain(format!(
                "SES stopped accepting SMTP passwords of signature version 2 in 2021. Derive a \
                 current one from the same secret key for {region}, or create new SMTP \
                 credentials."
            ))
            .fix(
                Fix::manual(format!("Derive a current SMTP password for {region}"))
                    .command(format!("ses-doctor smtp-password --region {region}")),
            );
            if let Some(secret) = known_secret {
                use_password = smtp_password::derive(secret, region);
                password_corrected = true;
                f = f.evidence(
                    "derived from",
                    "the access key's secret, for the test below",
                );
            }
            problems.push(Problem::credentials(
                f,
                "with the corrected password, SES accepted the test email",
            ));
        }
        Some(PasswordVersion::V4) => {
            if let Some(secret) = known_secret {
                let expected = smtp_password::derive(secret, region);
                if expected != password {
                    let other = regions::REGIONS
                        .iter()
                        .filter(|r| r.ses && r.name != region)
                        .find(|r| smtp_password::derive(secret, r.name) == password);
                    if let Some(other) = other {
                        problems.push(Problem::credentials(
                            Finding::new(
                                Code::SmtpPasswordWrongRegion,
                                Severity::Error,
                                format!("The SMTP password was derived for {}, but the mailer sends through {region}", other.name),
                            )
                            .explain(
                                "SMTP passwords are bound to a region: one derived for another \
                                 region is refused with 535. Derive it for the region of the \
                                 SMTP endpoint (or point the mailer at the other region's \
                                 endpoint, if the identities are there).",
                            )
                            .evidence("derived for", other.name)
                            .fix(Fix::manual(format!("Set the mailer's SMTP password to the one derived for {region}"))
                                .command(format!("ses-doctor smtp-password --region {region}"))),
                            "with the corrected password, SES accepted the test email",
                        ));
                        use_password = expected;
                        password_corrected = true;
                    }
                }
            }
        }
        None => {}
    }
    Some(Prepared {
        creds: SmtpCredentials {
            username,
            password: use_password,
        },
        problems,
        password_corrected,
        given: true,
    })
}

/// The SMTP endpoint is another region's than the one under test: the password is derived for
/// the endpoint's region (it is bound to it), and the mail is judged there.
fn endpoint_in_other_region(host: &str, smtp_region: &str, region: &str) -> Finding {
    Finding::new(
        Code::RegionMismatch,
        Severity::Warning,
        format!("The SMTP endpoint {host} is in {smtp_region}, not in {region}"),
    )
    .explain(format!(
        "An SMTP password is bound to the region of the endpoint it is sent to, and SES judges \
         the mail there: verified identities, the sandbox and quotas are per region. The test \
         below uses a password derived for {smtp_region}; the identities and permissions checked \
         above are {region}'s. Point the mailer at {region}'s endpoint, with the password derived \
         for {region}, or verify the identities in {smtp_region}."
    ))
    .evidence("SMTP endpoint's region", smtp_region)
    .evidence("region under test", region)
    .fix(
        Fix::manual(format!(
            "Set the mailer's SMTP host to email-smtp.{region}.amazonaws.com and its password to the one derived for {region}"
        ))
        .command(format!("ses-doctor smtp-password --region {region}")),
    )
}

/// Why a session that never got to SMTP failed, found by probing SES's ports on the host: the
/// port in use does not answer while others do (blocked), or it answers and the TLS mode
/// contradicts it. Returns the finding and the endpoint to try instead.
async fn transport_problem(
    endpoint: &Endpoint,
    error: &str,
    by_endpoint_flag: bool,
) -> Option<(Finding, Endpoint)> {
    let mut ports: Vec<u16> = smtp_client::SES_PORTS.to_vec();
    if !ports.contains(&endpoint.port) {
        ports.push(endpoint.port);
    }
    let open =
        smtp_client::open_ports(&endpoint.host, &ports, smtp_client::PORT_PROBE_TIMEOUT).await;
    let listed = |ports: &[u16]| {
        ports
            .iter()
            .map(|p| format!("{p} ({})", TlsMode::for_port(*p).describe()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if open.contains(&endpoint.port) {
        let expected = TlsMode::for_port(endpoint.port);
        if endpoint.tls == expected || !smtp_client::SES_PORTS.contains(&endpoint.port) {
            return None;
        }
        let (said, setting) = match endpoint.tls {
            TlsMode::Wrapper => (
                "TLS from the first byte was spoken to a port that starts in plain text and \
                 upgrades with STARTTLS: the server's greeting is not TLS (OpenSSL calls it \
                 \"wrong version number\")",
                "STARTTLS (in most mailers \"TLS\", secure: false, or SMTPSecure = tls)",
            ),
            TlsMode::StartTls => (
                "the mailer waits in plain text for a greeting, while the port waits for a TLS \
                 handshake: nothing happens until the timeout",
                "TLS wrapper (in most mailers \"SSL\", secure: true, or SMTPSecure = ssl)",
            ),
        };
        let finding = Finding::new(
            Code::SmtpTlsMismatch,
            Severity::Error,
            format!(
                "Port {} takes {}, but the mailer speaks {}",
                endpoint.port,
                expected.describe(),
                endpoint.tls.describe()
            ),
        )
        .explain(format!(
            "SES speaks STARTTLS on 25, 587 and 2587 and TLS from the first byte on 465 and \
             2465. Here {said}. Set the encryption to {setting} for port {}, or keep the \
             encryption and use port {}.",
            endpoint.port,
            match endpoint.tls {
                TlsMode::Wrapper => "465",
                TlsMode::StartTls => "587",
            }
        ))
        .evidence("error", error)
        .fix(Fix::manual(format!(
            "Set the mailer's SMTP encryption to {} for port {} (--smtp-tls {})",
            expected.describe(),
            endpoint.port,
            match expected {
                TlsMode::Wrapper => "wrapper",
                TlsMode::StartTls => "starttls",
            }
        )));
        let retry = Endpoint {
            tls: expected,
            ..endpoint.clone()
        };
        return Some((finding, retry));
    }
    let &first = open.first()?;
    let finding = Finding::new(
        Code::SmtpPortBlocked,
        Severity::Error,
        format!(
            "{} does not answer on port {}, but does on {}",
            endpoint.host,
            endpoint.port,
            listed(&open)
        ),
    )
    .explain(format!(
        "The connection to port {} never opened, while other SMTP ports of the same host answer: \
         the port is blocked or throttled between here and SES (EC2 throttles 25; hosting \
         providers and firewalls often block 25, 465 or 587). Change the mailer's SMTP port to one \
         that answers, with its TLS mode.",
        endpoint.port
    ))
    .evidence("error", error)
    .evidence("ports that answer", listed(&open))
    .fix(Fix::manual(format!(
        "Set the mailer's SMTP port to {first} with {} ({})",
        TlsMode::for_port(first).describe(),
        if by_endpoint_flag {
            // An IPv6 address goes in brackets, as --smtp-endpoint takes it.
            let host = if endpoint.host.contains(':') {
                format!("[{}]", endpoint.host)
            } else {
                endpoint.host.clone()
            };
            format!("--smtp-endpoint {host}:{first}")
        } else {
            format!("--smtp-port {first}")
        }
    )));
    let retry = Endpoint {
        port: first,
        tls: TlsMode::for_port(first),
        ..endpoint.clone()
    };
    Some((finding, retry))
}

async fn send_smtp(
    step: &mut Step,
    input: &TestEmailInput<'_>,
    from: &str,
    to: &str,
) -> Result<(), Failure> {
    let smtp = &input.opts.smtp;
    let (host, port) = match &smtp.endpoint {
        Some((h, p)) => (h.clone(), *p),
        None => (
            regions::lookup(input.region)
                .and_then(|r| r.smtp_host())
                .unwrap_or_else(|| format!("email-smtp.{}.amazonaws.com", input.region)),
            smtp.port.unwrap_or(587),
        ),
    };
    // An SMTP password is bound to its endpoint's region: derive and judge it for that one.
    let smtp_region = smtp_client::region_of_host(&host).unwrap_or_else(|| input.region.to_owned());
    let region_problem = (smtp_region != input.region).then(|| Problem {
        finding: endpoint_in_other_region(&host, &smtp_region, input.region),
        proof: None,
        credentials: false,
    });
    let input = &TestEmailInput {
        region: &smtp_region,
        ..*input
    };
    let Some(prepared) = prepare(input, step) else {
        if let Some(p) = region_problem {
            step.push(p.finding);
        }
        return Ok(());
    };
    let mut problems: Vec<Problem> = region_problem.into_iter().collect();
    problems.extend(prepared.problems);
    let mut endpoint = Endpoint {
        tls: smtp.tls.unwrap_or_else(|| TlsMode::for_port(port)),
        host,
        port,
        ca_file: smtp.ca_file.clone(),
    };
    let message = TestMessage {
        from,
        to,
        subject: SUBJECT,
        body: BODY,
    };
    let mut outcome = smtp_client::send(&endpoint, &prepared.creds, &message, input.timeout).await;
    if let Outcome::Unreachable(error) = &outcome {
        if let Some((finding, retry)) =
            transport_problem(&endpoint, error, smtp.endpoint.is_some()).await
        {
            let proof = match finding.code {
                Code::SmtpPortBlocked => "on the port that answers, SES accepted the test email",
                _ => "with the TLS mode of the port, SES accepted the test email",
            };
            problems.push(Problem {
                finding,
                proof: Some(proof),
                credentials: false,
            });
            endpoint = retry;
            outcome = smtp_client::send(&endpoint, &prepared.creds, &message, input.timeout).await;
        }
    }
    let via = format!(
        "SMTP {}:{} ({})",
        endpoint.host,
        endpoint.port,
        endpoint.tls.describe()
    );
    let username = prepared.creds.username.clone();
    let push_all = |step: &mut Step, problems: Vec<Problem>| {
        for p in problems {
            step.push(p.finding);
        }
    };
    match outcome {
        Outcome::Sent { message_id } => {
            for p in problems.iter_mut() {
                if let Some(proof) = p.proof {
                    // The corrected attempt worked: the fix is certain.
                    p.finding.note("proven", proof);
                }
            }
            if prepared.password_corrected {
                offer_password(input, &prepared.creds.password)?;
            }
            let f = sent(&message_id, from, to, input.region, &via).evidence(
                "SMTP",
                "AUTH accepted (235), message accepted after DATA (250)",
            );
            push_all(step, problems);
            step.push(f);
        }
        Outcome::AuthRejected { code, text } => {
            let explained = problems.iter().any(|p| p.credentials);
            for p in problems {
                let finding = if p.credentials {
                    p.finding.evidence("SMTP", format!("{code}: {text}"))
                } else {
                    p.finding
                };
                step.push(finding);
            }
            if !explained {
                let f = auth_failed(input, &username, code, &text, prepared.given).await;
                step.push(f.evidence("via", &via));
            }
        }
        Outcome::MessageRejected { code, text } => {
            push_all(step, problems);
            let said = format!("{code} {text}");
            step.push(
                rejected(&said, from, to, input.region)
                    .evidence("via", &via)
                    .evidence(
                        "SMTP",
                        "AUTH was accepted (235); SES rejected the message after it",
                    ),
            );
        }
        Outcome::Unreachable(text) => {
            push_all(step, problems);
            step.push(
                Finding::new(
                    Code::EndpointUnreachable,
                    Severity::Error,
                    format!(
                        "The SMTP endpoint {}:{} could not be reached",
                        endpoint.host, endpoint.port
                    ),
                )
                .explain(
                    "The connection or TLS failed before SMTP could start. Outbound port 25 is \
                     throttled on EC2 and blocked by many networks: try 587 or 2587 \
                     (--smtp-port), or 465/2465 with TLS wrapper.",
                )
                .evidence("error", text)
                .evidence("via", &via),
            );
            step.mark_incomplete("the SMTP endpoint did not answer");
        }
    }
    Ok(())
}

/// 535 with nothing found offline: the key behind the user name may be inactive, deleted or
/// another account's. The SMTP user name is the access key ID, so the identity checks apply.
async fn auth_failed(
    input: &TestEmailInput<'_>,
    username: &str,
    code: u16,
    text: &str,
    given: bool,
) -> Finding {
    let mut f = Finding::new(
        Code::SmtpAuthFailed,
        Severity::Error,
        format!("The SMTP server refused the credentials for {username} ({code})"),
    )
    .explain(if given {
        "Nothing is wrong with the password's form, so the key behind the user name is the \
         suspect: deleted, inactive, from another account, or the password was derived from a \
         different secret. The SMTP user name is the access key ID."
    } else {
        "The password was derived from the access key here, so SES refused the key itself."
    })
    .evidence("SMTP said", format!("{code} {text}"));
    if let Some(admin) = input.admin {
        let probe = Finding::new(Code::AccessKeyUnknown, Severity::Error, "");
        let pinned = crate::diagnose::identity::pin_key(admin, username, probe).await;
        f = f.evidence(
            "the key behind it",
            format!("{} [{}]", pinned.title, pinned.code),
        );
    }
    f
}

/// On a terminal, offer the SMTP password that works (to paste into the mailer).
fn offer_password(input: &TestEmailInput<'_>, password: &Secret) -> Result<(), Failure> {
    if input.reveal.can_reveal()
        && input.consent.ask(&format!(
            "Show the SMTP password that works for {}, to paste into the mailer?",
            input.region
        ))?
    {
        input
            .reveal
            .reveal(&format!("SMTP password for {}", input.region), password);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_that_leaves_sending_out_is_not_a_missing_grant() {
        let f = rejected(
            "AccessDeniedException: User: arn:aws:iam::1:user/u is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:eu-west-1:1:identity/example.com because no permissions boundary allows the ses:SendEmail action",
            "a@example.com",
            SIMULATOR,
            "eu-west-1",
        );
        assert_eq!(f.code, Code::PermissionExplicitlyDenied);
        assert!(f.fixes[0].description.contains("boundary"));
    }

    #[test]
    fn rejections_are_classified_from_ses_words() {
        let f = rejected(
            "MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: bob@example.com",
            "bob@example.com",
            SIMULATOR,
            "eu-west-1",
        );
        assert_eq!(f.code, Code::IdentityUnverified);
        let f = rejected(
            "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: carol@example.org",
            "noreply@example.com",
            "carol@example.org",
            "us-east-1",
        );
        assert_eq!(f.code, Code::SesSandbox);
        let f = rejected("AccessDeniedException: User: arn:aws:iam::1:user/u is not authorized to perform: ses:SendEmail", "a@b.c", SIMULATOR, "r");
        assert_eq!(f.code, Code::PermissionMissing);
        let f = rejected(
            "AccessDeniedException: User: arn:aws:iam::1:user/u is not authorized to perform: ses:SendEmail on resource: * with an explicit deny in an identity-based policy",
            "a@b.c",
            SIMULATOR,
            "r",
        );
        assert_eq!(f.code, Code::PermissionExplicitlyDenied);
        let f = rejected(
            "SendingPausedException: Sending is paused for this account",
            "a@b.c",
            SIMULATOR,
            "r",
        );
        assert_eq!(f.code, Code::SesSendingPaused);
        let f = rejected(
            "MessageRejected: Message length is more than 10485760 bytes long",
            "a@b.c",
            SIMULATOR,
            "r",
        );
        assert_eq!(f.code, Code::TestEmailRejected);
    }

    #[test]
    fn what_a_user_name_that_is_no_key_id_is() {
        assert_eq!(
            username_kind("ses-sender"),
            "an IAM user name or a console login"
        );
        assert_eq!(username_kind("noreply@example.com"), "an e-mail address");
        assert_eq!(username_kind("AIDAIOSFODNN7EXAMPLE"), "an IAM user ID");
        assert_eq!(
            username_kind("123456789012"),
            "an AWS account ID (a console login)"
        );
        // Swapped fields: the value is not shown.
        let password = smtp_password::derive(
            &Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "eu-west-1",
        );
        let f = username_not_key_id(password.expose(), None);
        assert!(!f.title.contains(password.expose()), "{}", f.title);
        assert!(key_id_like("AKIAIOSFODNN7EXAMPLE") && !key_id_like("mailer"));
    }

    #[test]
    fn passwords_made_from_a_secret() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        for made in [
            smtp_password::derive(&secret, "eu-west-1"),
            smtp_password::derive_legacy(&secret),
            secret.clone(),
        ] {
            assert!(made_from(&secret, &made));
        }
        let other = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz");
        assert!(!made_from(
            &other,
            &smtp_password::derive(&secret, "eu-west-1")
        ));
    }

    #[test]
    fn secret_shape() {
        assert!(secret_shaped("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!secret_shaped(
            "BPbkn/CN9aHWxHSMYm9TNXkf+jtdJ1G0etMuwmpxyKaS"
        ));
    }
}
