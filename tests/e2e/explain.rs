//! `ses-doctor explain`: the real binary, offline (no emulator): a finding code, an AWS error
//! code, a pasted multi-line SDK error, an SMTP 535, the JSON document decoded into the tests' own
//! types, and the exit codes (0 recognised, 1 not recognised, 2 empty input).

use crate::cli::{Home, Output, SesDoctor};
use serde::{Deserialize, Deserializer};

// ---------------------------------------------------------------------------------------------
// The JSON contract of `explain --output json`. Every field is required (an Option must be
// present, possibly null), so a document that drops or renames one fails to decode.
// ---------------------------------------------------------------------------------------------

fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

#[derive(Debug, Deserialize)]
pub struct Explanation {
    pub schema_version: u32,
    pub input: String,
    pub recognised: bool,
    #[serde(deserialize_with = "required")]
    pub recognised_as: Option<String>,
    #[serde(deserialize_with = "required")]
    pub entry: Option<String>,
    pub meaning: String,
    pub found: Found,
    pub causes: Vec<Cause>,
    pub next: Next,
}

#[derive(Debug, Deserialize)]
pub struct Found {
    pub regions: Vec<String>,
    pub identities: Vec<String>,
    #[serde(deserialize_with = "required")]
    pub action: Option<String>,
    #[serde(deserialize_with = "required")]
    pub principal: Option<String>,
    #[serde(deserialize_with = "required")]
    pub resource: Option<String>,
    #[serde(deserialize_with = "required")]
    pub access_key_id: Option<String>,
    pub smtp: bool,
    #[serde(deserialize_with = "required")]
    pub mailer: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Cause {
    pub rank: usize,
    #[serde(deserialize_with = "required")]
    pub code: Option<String>,
    pub title: String,
    pub why: String,
    pub steps: Vec<String>,
    #[serde(deserialize_with = "required")]
    pub mailer_setting: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Next {
    pub command: String,
    pub why: String,
}

impl Output {
    /// stdout as one `explain` JSON document.
    fn explanation(&self) -> Explanation {
        let e: Explanation = serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not one explain document ({err}):\n{}",
                self.both()
            )
        });
        assert_eq!(e.schema_version, 1);
        assert_eq!(e.recognised, self.code == 0, "recognised is the exit code");
        for (i, cause) in e.causes.iter().enumerate() {
            assert_eq!(cause.rank, i + 1, "ranks run 1, 2, 3…");
            assert!(!cause.title.is_empty() && !cause.why.is_empty() && !cause.steps.is_empty());
        }
        assert!(e.next.command.starts_with("ses-doctor diagnose"));
        assert!(!e.next.why.is_empty());
        e
    }
}

/// `ses-doctor explain …` in a home of its own. No AWS call is made: the endpoint is a closed
/// port, so a call would fail loudly.
fn explain(home: &Home) -> SesDoctor {
    home.command("http://127.0.0.1:9").arg("explain")
}

trait Arg {
    fn arg(self, a: &str) -> Self;
}

impl Arg for SesDoctor {
    fn arg(self, a: &str) -> Self {
        self.args([a])
    }
}

/// The text with its line wrapping undone, to look for phrases.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// The texts below are real reports (see src/explain.rs for the full set and sources).

/// aws/aws-sdk-php#1669: a PHP SDK error over several lines, SES's XML in the middle.
const SDK_SIGNATURE_EXPIRED: &str = "AWS HTTP error: Client error: `POST https://email.us-west-2.amazonaws.com` resulted in a `403 Forbidden` response:
<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">
  <Error>
    <Type>Sender</Type>
    <Code>SignatureDo (truncated...)
 SignatureDoesNotMatch (client): Signature expired: 20181107T003842Z is now earlier than 20181107T005054Z (20181107T005554Z - 5 min.)";

/// django-ses/django-ses#120.
const DJANGO_NOT_VERIFIED: &str = "SESAddressNotVerifiedError: 400 Email address is not verified.
<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">
  <Error>
    <Type>Sender</Type>
    <Code>MessageRejected</Code>
    <Message>Email address is not verified. The following identities failed the check in region US-EAST-1: alice@paulhauner.com, paul@paulhauner.com</Message>
  </Error>
  <RequestId>a0ee8dcf-39e2-11e7-a5c1-f3494eddd8b3</RequestId>
</ErrorResponse>";

#[test]
fn a_finding_code_is_explained_with_its_fix() {
    let home = Home::new();
    let out = explain(&home).arg("secret-key-truncated").run();
    out.assert_code(0);
    let text = flat(&out.stdout);
    for part in [
        "finding code `secret-key-truncated`",
        "What it means",
        "shorter than 40 characters",
        "1. The secret access key was cut off when copied [secret-key-truncated]",
        "Fix:",
        "ses-doctor diagnose --rotate-key",
        "In the mailer: Secret access key: all 40 characters",
        "$ ses-doctor diagnose",
    ] {
        assert!(text.contains(part), "missing {part:?}\n{}", out.both());
    }
    assert!(out.stderr.is_empty(), "{}", out.both());
}

#[test]
fn an_aws_error_code_lists_its_causes_in_order() {
    let home = Home::new();
    let out = explain(&home).arg("SignatureDoesNotMatch").run();
    out.assert_code(0);
    let first = out
        .stdout
        .find("[signature-mismatch]")
        .expect("signature-mismatch");
    let later = out
        .stdout
        .find("[clock-skew]")
        .expect("clock-skew is a cause too");
    assert!(first < later, "{}", out.stdout);
    // NO_COLOR is set by the test home: no escape codes.
    assert!(!out.stdout.contains('\u{1b}'));

    let coloured = explain(&home)
        .args(["--color", "always", "InvalidClientTokenId"])
        .run();
    coloured.assert_code(0);
    assert!(coloured.stdout.contains('\u{1b}'), "{}", coloured.both());
    assert!(coloured.stdout.contains("[access-key-unknown]"));
}

#[test]
fn a_pasted_multi_line_sdk_error_from_stdin_or_an_argument() {
    let home = Home::new();
    let from_stdin = explain(&home).arg("-").stdin(SDK_SIGNATURE_EXPIRED).run();
    from_stdin.assert_code(0);
    let as_argument = explain(&home).arg(SDK_SIGNATURE_EXPIRED).run();
    as_argument.assert_code(0);
    assert_eq!(from_stdin.stdout, as_argument.stdout);
    let text = &flat(&from_stdin.stdout);
    assert!(
        text.starts_with("AWS error: the signature expired (clock skew)"),
        "{text}"
    );
    assert!(
        text.contains("1. The sending machine's clock is off by more than 5 minutes [clock-skew]")
    );
    assert!(text.contains("region us-west-2"), "{text}");
    assert!(
        text.contains("$ ses-doctor diagnose --region us-west-2"),
        "{text}"
    );
}

#[test]
fn an_smtp_535_names_the_smtp_password_and_a_diagnosis_over_smtp() {
    let home = Home::new();
    // The words of the command line are joined with spaces.
    let out = explain(&home)
        .args([
            "535",
            "Authentication",
            "Credentials",
            "Invalid",
            "email-smtp.eu-west-1.amazonaws.com",
        ])
        .run();
    out.assert_code(0);
    let text = &flat(&out.stdout);
    assert!(
        text.starts_with("SMTP 535: Authentication Credentials Invalid"),
        "{text}"
    );
    assert!(
        text.contains(
            "1. The secret access key was used as the SMTP password [smtp-password-is-secret-key]"
        ),
        "{text}"
    );
    assert!(
        text.contains("In the mailer: SMTP password: the one from `ses-doctor smtp-password --region eu-west-1`, not the secret access key"),
        "{text}"
    );
    assert!(text.contains("[smtp-password-wrong-region]"), "{text}");
    assert!(
        text.contains("$ ses-doctor diagnose --region eu-west-1 --via smtp"),
        "{text}"
    );

    // The legacy password's own text wins over the generic 535.
    let legacy = explain(&home)
        .arg("535 Signature Version 2 is deprecated for use with SES from March 26, 2021.")
        .run();
    legacy.assert_code(0);
    assert!(flat(&legacy.stdout).contains(
        "1. The SMTP password is a legacy Signature Version 2 password [smtp-password-legacy]"
    ));
    assert!(!legacy.stdout.contains("[smtp-password-is-secret-key]"));
}

#[test]
fn json_output_is_one_document_of_the_contract() {
    let home = Home::new();
    let out = explain(&home)
        .args(["--output", "json", DJANGO_NOT_VERIFIED])
        .run();
    out.assert_code(0);
    let e = out.explanation();
    assert_eq!(
        e.recognised_as.as_deref(),
        Some("SES MessageRejected: Email address is not verified")
    );
    assert_eq!(e.entry.as_deref(), Some("identity-not-verified"));
    assert!(e.meaning.contains("us-east-1"), "{}", e.meaning);
    assert_eq!(e.found.regions, ["us-east-1"]);
    assert_eq!(
        e.found.identities,
        ["alice@paulhauner.com", "paul@paulhauner.com"]
    );
    assert_eq!(e.found.mailer.as_deref(), Some("Django (django-ses)"));
    assert!(!e.found.smtp);
    assert!(e.found.action.is_none() && e.found.access_key_id.is_none());
    let codes: Vec<_> = e.causes.iter().map(|c| c.code.as_deref()).collect();
    assert_eq!(
        codes,
        [
            Some("ses-sandbox"),
            Some("identity-unverified"),
            Some("region-mismatch")
        ]
    );
    let mismatch = &e.causes[2];
    let setting = mismatch.mailer_setting.as_deref().unwrap();
    assert!(setting.contains("AWS_SES_REGION_NAME"), "{setting}");
    assert!(setting.contains("not us-east-1"), "{setting}");
    assert_eq!(e.next.command, "ses-doctor diagnose --region us-east-1");
    assert!(e.input.starts_with("SESAddressNotVerifiedError"));

    // The global option also works after the subcommand; a finding code's document.
    let code = explain(&home)
        .args(["access-key-limit", "--output", "json"])
        .run();
    code.assert_code(0);
    let e = code.explanation();
    assert_eq!(e.entry.as_deref(), Some("code:access-key-limit"));
    assert_eq!(e.causes[0].code.as_deref(), Some("access-key-limit"));
    assert!(e.causes[0].mailer_setting.is_none());
}

#[test]
fn a_secret_pasted_with_the_error_is_never_printed() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let home = Home::new();
    let text = format!(
        "SMTP_USERNAME=AKIAIOSFODNN7EXAMPLE\nSMTP_PASSWORD={secret}\n535 Authentication Credentials Invalid"
    );
    for format in ["json", "human"] {
        let out = explain(&home)
            .args(["--output", format, "-"])
            .stdin(&text)
            .secret(secret)
            .run();
        out.assert_code(0);
        assert!(out.stdout.contains("[smtp-password-is-secret-key]") || format == "json");
        if format == "json" {
            let e = out.explanation();
            assert!(
                e.input.contains("SMTP_PASSWORD=[masked, 40 characters]"),
                "{}",
                e.input
            );
            assert_eq!(
                e.causes[0].code.as_deref(),
                Some("smtp-password-is-secret-key")
            );
            assert_eq!(
                e.found.access_key_id.as_deref(),
                Some("AKIAIOSFODNN7EXAMPLE")
            );
            assert!(e
                .next
                .command
                .ends_with("--via smtp --smtp-username AKIAIOSFODNN7EXAMPLE"));
        }
    }
}

#[test]
fn text_nothing_matches_exits_1_and_points_to_diagnose() {
    let home = Home::new();
    let out = explain(&home).arg("the printer is on fire").run();
    out.assert_code(1);
    assert!(out.stdout.starts_with("Not recognised"), "{}", out.both());
    assert!(
        out.stdout.contains("$ ses-doctor diagnose"),
        "{}",
        out.both()
    );

    let json = explain(&home)
        .args(["--output", "json", "the printer is on fire"])
        .run();
    json.assert_code(1);
    let e = json.explanation();
    assert!(!e.recognised);
    assert!(e.recognised_as.is_none() && e.entry.is_none() && e.causes.is_empty());
    assert_eq!(e.next.command, "ses-doctor diagnose");
}

#[test]
fn empty_input_exits_2() {
    let home = Home::new();
    for out in [
        explain(&home).arg("").run(),
        explain(&home).args(["  ", "\n"]).run(),
        explain(&home).arg("-").stdin("\n\n").run(),
    ] {
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{}", out.both());
        assert!(out.stderr.contains("nothing to explain"), "{}", out.both());
    }
    // No argument at all: clap's usage error.
    let none = home.command("http://127.0.0.1:9").arg("explain").run();
    none.assert_code(2);
}

#[test]
fn an_access_denied_over_smtp_names_the_caller_the_action_and_the_identity() {
    // ministryofjustice/analytical-platform#6944 (Python smtplib).
    let text = r#"smtplib.SMTPDataError: (554, b"Access denied: User `arn:aws:iam::381491960855:user/mwaa-ses' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:eu-west-2:381491960855:identity/jacob.woffenden@justice.gov.uk'")"#;
    let home = Home::new();
    let out = explain(&home).args(["--output", "json", text]).run();
    out.assert_code(0);
    let e = out.explanation();
    assert_eq!(e.entry.as_deref(), Some("not-authorized"));
    assert_eq!(
        e.found.principal.as_deref(),
        Some("arn:aws:iam::381491960855:user/mwaa-ses")
    );
    assert_eq!(
        e.found.resource.as_deref(),
        Some("arn:aws:ses:eu-west-2:381491960855:identity/jacob.woffenden@justice.gov.uk")
    );
    assert_eq!(e.found.action.as_deref(), Some("ses:SendRawEmail"));
    assert_eq!(e.found.identities, ["jacob.woffenden@justice.gov.uk"]);
    assert!(e.found.smtp);
    assert_eq!(e.causes[0].code.as_deref(), Some("permission-missing"));
    assert!(e.causes[0].title.contains("ses:SendRawEmail"));
    assert!(e.causes[0]
        .steps
        .iter()
        .any(|s| s.contains("aws iam attach-user-policy --user-name mwaa-ses")));
    assert_eq!(
        e.next.command,
        "ses-doctor diagnose --region eu-west-2 --via smtp"
    );
    assert!(e.next.why.contains("--admin-profile"));
}
