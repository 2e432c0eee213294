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
    } else if lower.contains("not authorized to perform") || lower.contains("accessdenied") {
        Finding::new(
            Code::PermissionMissing,
            Severity::Error,
            "SES rejected the test email: the user may not send",
        )
        .explain("The user needs ses:SendEmail (API) or ses:SendRawEmail (SMTP); see step 3.")
        .fix(Fix::manual("Grant AmazonSESFullAccess, or an inline policy allowing ses:SendEmail and ses:SendRawEmail"))
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

/// The SMTP credentials to use, and what is wrong with the given ones, found offline.
struct Prepared {
    creds: SmtpCredentials,
    /// A problem found offline, and the password that should work instead.
    problem: Option<Finding>,
    /// The credentials came from the user (not derived by ses-doctor).
    given: bool,
}

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
            step.push(
                Finding::new(Code::SmtpAuthFailed, Severity::Error, "SMTP passwords cannot be derived from temporary (ASIA) keys")
                    .explain("SES SMTP needs an IAM user's long-term key. Create one (step 4/5), and derive its SMTP password."),
            );
            return None;
        }
        return Some(Prepared {
            creds: SmtpCredentials {
                username: key.id.clone(),
                password: smtp_password::derive(&key.secret, region),
            },
            problem: None,
            given: false,
        });
    };
    let username = smtp.username.clone().unwrap_or_default();
    // The secret behind the user name, when ses-doctor has it.
    let known_secret = input.key.filter(|k| k.id == username).map(|k| &k.secret);
    let mut problem = None;
    let mut use_password = password.clone();
    match smtp_password::recognise(password.expose()) {
        None if secret_shaped(password.expose()) => {
            let derived = smtp_password::derive(&password, region);
            problem = Some(
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
            );
            use_password = derived;
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
                f = f.evidence(
                    "derived from",
                    "the access key's secret, for the test below",
                );
            }
            problem = Some(f);
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
                        problem = Some(
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
                        );
                        use_password = expected;
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
        problem,
        given: true,
    })
}

async fn send_smtp(
    step: &mut Step,
    input: &TestEmailInput<'_>,
    from: &str,
    to: &str,
) -> Result<(), Failure> {
    let Some(prepared) = prepare(input, step) else {
        return Ok(());
    };
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
    let endpoint = Endpoint {
        tls: smtp.tls.unwrap_or_else(|| TlsMode::for_port(port)),
        host,
        port,
        ca_file: smtp.ca_file.clone(),
    };
    let via = format!(
        "SMTP {}:{} ({})",
        endpoint.host,
        endpoint.port,
        if endpoint.tls == TlsMode::Wrapper {
            "TLS wrapper"
        } else {
            "STARTTLS"
        }
    );
    let message = TestMessage {
        from,
        to,
        subject: SUBJECT,
        body: BODY,
    };
    let outcome = smtp_client::send(&endpoint, &prepared.creds, &message, input.timeout).await;
    let username = prepared.creds.username.clone();
    let mut problem = prepared.problem;
    match outcome {
        Outcome::Sent { message_id } => {
            if let Some(p) = problem.as_mut() {
                // The corrected password worked: the fix is certain.
                p.note(
                    "proven",
                    "with the corrected password, SES accepted the test email",
                );
                offer_password(input, &prepared.creds.password)?;
            }
            let f = sent(&message_id, from, to, input.region, &via).evidence(
                "SMTP",
                "AUTH accepted (235), message accepted after DATA (250)",
            );
            if let Some(p) = problem {
                step.push(p);
            }
            step.push(f);
        }
        Outcome::AuthRejected { code, text } => match problem {
            Some(p) => step.push(p.evidence("SMTP", format!("{code}: {text}"))),
            None => {
                let f = auth_failed(input, &username, code, &text, prepared.given).await;
                step.push(f.evidence("via", &via));
            }
        },
        Outcome::MessageRejected { code, text } => {
            if let Some(p) = problem {
                step.push(p);
            }
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
            if let Some(p) = problem {
                step.push(p);
            }
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
    fn secret_shape() {
        assert!(secret_shaped("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!secret_shaped(
            "BPbkn/CN9aHWxHSMYm9TNXkf+jtdJ1G0etMuwmpxyKaS"
        ));
    }
}
