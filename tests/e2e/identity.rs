//! Steps 0 and 1 end to end: the real binary against the emulator, each test in a world of its
//! own that is broken the way users' are. Every run checks that no secret is printed.

use crate::cli::{Home, Severity, Source, StepId, StepStatus};
use crate::support::{emulator, Account, Keys};
use crate::worlds::healthy_sender;

fn json_args(profile: &str) -> Vec<String> {
    ["diagnose", "--output", "json", "--profile", profile]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A home with `mailer` (the sending key) and `admin`; the mailer's region is us-east-1.
fn home_with(account: &Account, mailer_key_id: &str, mailer_secret: &str) -> Home {
    Home::mailer_and_admin(
        account,
        mailer_key_id,
        mailer_secret,
        "[profile mailer]\nregion = us-east-1\n",
    )
}

#[tokio::test]
async fn healthy_key_passes_the_identity_step() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let home = home_with(&account, &keys.access_key_id, &keys.secret_access_key);

    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin"])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run();
    let report = out.assert_code(0).report();
    assert_eq!(report.schema_version, 1);
    // Nothing but passes: every check could be made, with the admin's help.
    assert!(
        report
            .steps
            .iter()
            .flat_map(|s| &s.findings)
            .all(|f| f.severity == Severity::Pass),
        "{:?}",
        report.codes()
    );
    let sending = report.credentials.sending.as_ref().unwrap();
    assert_eq!(sending.source, Source::Profile);
    assert_eq!(sending.profile.as_deref(), Some("mailer"));
    assert_eq!(
        sending.access_key_id.as_deref(),
        Some(keys.access_key_id.as_str())
    );
    assert_eq!(report.step(StepId::Local).status, StepStatus::Passed);
    let identity = report.step(StepId::Identity);
    assert_eq!(identity.status, StepStatus::Passed);
    let valid = report.finding("credentials-valid");
    assert_eq!(valid.severity, Severity::Pass);
    assert_eq!(valid.evidence("caller"), account.user_arn("mailer"));
    assert_eq!(report.region.as_ref().unwrap().name, "us-east-1");
    assert_eq!(report.region.as_ref().unwrap().source, "profile");
    assert_eq!(report.step(StepId::Region).status, StepStatus::Passed);
    assert_eq!(report.step(StepId::Permissions).status, StepStatus::Passed);
    assert_eq!(report.finding("access-key-ok").severity, Severity::Pass);
    let user_step = report.step(StepId::IamUser);
    assert_eq!(user_step.status, StepStatus::Passed);
    assert_eq!(
        user_step.reason.as_deref(),
        Some("the mailer sends as the IAM user mailer")
    );
    // And the proof: a test email to the mailbox simulator.
    assert_eq!(report.step(StepId::TestEmail).status, StepStatus::Passed);
    assert_eq!(report.finding("test-email-sent").severity, Severity::Pass);

    // The same diagnosis for a person: a checklist line per step and a summary, on stdout. A
    // passed step says what it found on its line, with nothing to read below it.
    let human = home
        .for_account(&account)
        .args(["diagnose", "--profile", "mailer"])
        .secret(&keys.secret_access_key)
        .run();
    human.assert_code(0);
    assert!(
        human.stdout.contains("Step 1 · Identity passed"),
        "{}",
        human.both()
    );
    assert!(
        human
            .stdout
            .contains("✓ Step 1 · Identity passed: AWS accepted the key: it belongs to"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("user/mailer"), "{}", human.stdout);
    // Compact: the header, a line or two per step, the summary; the steps listed once.
    assert!(
        human.stdout.lines().count() <= 24,
        "{} lines:\n{}",
        human.stdout.lines().count(),
        human.stdout
    );
    assert_eq!(human.stdout.matches("Step 1 · Identity").count(), 1);
    assert!(
        !human.stdout.contains("[credentials-valid]"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("Nothing wrong remains."));
}

#[tokio::test]
async fn truncated_secret() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    let truncated = &keys.secret_access_key[..39];
    let home = home_with(&account, &keys.access_key_id, truncated);

    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let local = report.finding("secret-key-truncated");
    assert_eq!(local.severity, Severity::Error);
    assert_eq!(local.evidence("secret length"), "39");
    assert_eq!(report.step(StepId::Local).status, StepStatus::Failed);
    // And AWS confirms it: the key is known, the signature does not match.
    let remote = report.finding("signature-mismatch");
    assert!(remote
        .evidence("AWS said")
        .starts_with("SignatureDoesNotMatch"));
    assert_eq!(report.summary.outcome, crate::cli::Outcome::Problems);
}

#[tokio::test]
async fn wrong_secret_pinned_with_admin_credentials() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    let wrong = keys.with_wrong_secret();
    let home = home_with(&account, &wrong.access_key_id, &wrong.secret_access_key);

    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin"])
        .secret(&keys.secret_access_key)
        .secret(&wrong.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    assert_eq!(
        report.codes(),
        vec!["credentials-well-formed", "signature-mismatch"]
    );
    let f = report.finding("signature-mismatch");
    assert_eq!(f.evidence("user"), "mailer");
    assert!(f.evidence("IAM").contains("only the secret is wrong"));
    assert_eq!(
        report
            .credentials
            .admin
            .as_ref()
            .unwrap()
            .profile
            .as_deref(),
        Some("admin")
    );
}

#[tokio::test]
async fn an_sts_endpoint_of_another_region_is_not_a_wrong_secret() {
    // A host whose environment sends STS to eu-west-1's regional endpoint (an interface
    // endpoint, or "use the regional STS" advice), while the profile's region, which the
    // request is signed for, is us-east-1: STS refuses the credential scope. The key and its
    // secret are right.
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let home = home_with(&account, &keys.access_key_id, &keys.secret_access_key);
    let sts = format!(
        "{}/_endpoint/sts.eu-west-1.amazonaws.com",
        account.endpoint()
    );

    let out = home
        .for_account(&account)
        .env("AWS_ENDPOINT_URL_STS", &sts)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin", "--yes"])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let codes = report.codes();
    assert!(codes.contains(&"signing-region-mismatch"), "{codes:?}");
    // Not the misdiagnosis it replaces, and no key repaired that was never broken.
    assert!(!codes.contains(&"signature-mismatch"), "{codes:?}");
    let f = report.finding("signing-region-mismatch");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.evidence("signed for"), "us-east-1");
    assert!(
        f.evidence("AWS said")
            .contains("Credential should be scoped to a valid region, not 'us-east-1'"),
        "{}",
        f.all_evidence()
    );
    let listed = account
        .iam()
        .list_access_keys()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1, "a new key was made");
}

#[tokio::test]
async fn deleted_key() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.delete_key("mailer", &keys.access_key_id).await;
    let home = home_with(&account, &keys.access_key_id, &keys.secret_access_key);

    // Without admin credentials: AWS does not know the key, and the report says what that means.
    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let f = report.finding("access-key-unknown");
    assert!(
        f.evidence("AWS said").starts_with("InvalidClientTokenId"),
        "{}",
        f.all_evidence()
    );
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Failed);

    // With them: IAM confirms the account has no such key.
    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin"])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let f = report.finding("access-key-unknown");
    assert!(
        f.evidence("IAM").contains("deleted"),
        "{}",
        f.all_evidence()
    );
}

#[tokio::test]
async fn inactive_key_pinned_with_admin_credentials() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account
        .set_key_active("mailer", &keys.access_key_id, false)
        .await;
    let home = home_with(&account, &keys.access_key_id, &keys.secret_access_key);

    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin"])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    assert!(
        !report.codes().contains(&"access-key-unknown"),
        "{:?}",
        report.codes()
    );
    let f = report.finding("access-key-inactive");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.evidence("user"), "mailer");
    assert_eq!(f.evidence("status"), "Inactive");
    let cmd = f.fixes[0].command.as_deref().unwrap();
    assert!(
        cmd.contains(&keys.access_key_id) && cmd.contains("--status Active"),
        "{cmd}"
    );
}

#[tokio::test]
async fn key_from_another_account() {
    let ours = emulator().new_account();
    let theirs = emulator().new_account();
    // The mailer has a perfectly good key, but from another account than the one with SES.
    let keys = theirs.create_user_with_key("mailer").await;
    let home = home_with(&ours, &keys.access_key_id, &keys.secret_access_key);

    let out = home
        .for_account(&ours)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin"])
        .secret(&keys.secret_access_key)
        .secret(&ours.admin.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let f = report.finding("access-key-other-account");
    assert_eq!(f.evidence("key's account"), theirs.id);
    assert_eq!(f.evidence("admin account"), ours.id);

    // A key of the other account that AWS rejects is still traced to its account.
    let wrong = keys.with_wrong_secret();
    let home = home_with(&ours, &wrong.access_key_id, &wrong.secret_access_key);
    let out = home
        .for_account(&ours)
        .args(json_args("mailer"))
        .args(["--admin-profile", "admin"])
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    assert_eq!(
        report
            .finding("access-key-other-account")
            .evidence("key's account"),
        theirs.id
    );
}

#[tokio::test]
async fn smtp_password_pasted_as_the_secret() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    let smtp_password = python_smtp_password(&keys.secret_access_key, "us-east-1");
    let home = Home::new();

    // Pasted: key ID on the command line, the "secret" on stdin, as a user would.
    let out = home
        .for_account(&account)
        .args(["diagnose", "--output", "json", "--region", "us-east-1"])
        .args(["--access-key-id", &keys.access_key_id])
        .stdin(&format!("{smtp_password}\n"))
        .secret(&smtp_password)
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let sending = report.credentials.sending.as_ref().unwrap();
    assert_eq!(sending.source, Source::Pasted);
    assert!(sending.detail.contains("stdin"));
    let f = report.finding("secret-is-smtp-password");
    assert_eq!(f.evidence("secret length"), "44");
    assert!(report.codes().contains(&"signature-mismatch"));
}

#[tokio::test]
async fn temporary_key_without_session_token() {
    let account = emulator().new_account();
    let home = Home::new();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let out = home
        .for_account(&account)
        .env("AWS_ACCESS_KEY_ID", "ASIAQWERTYUIOPASDFGH")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "eu-west-1")
        .args(["diagnose", "--output", "json"])
        .secret(secret)
        .run();
    let report = out.assert_code(1).report();
    assert_eq!(
        report.credentials.sending.as_ref().unwrap().source,
        Source::Environment
    );
    let f = report.finding("session-token-missing");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.evidence("access key ID"), "ASIAQWERTYUIOPASDFGH");
}

#[tokio::test]
async fn environment_variables_shadow_the_profile() {
    let account = emulator().new_account();
    let good = healthy_sender(&account, "mailer", "us-east-1").await;
    // An old key, long deleted, still exported in the shell's profile.
    let stale = account.create_key("mailer").await;
    account.delete_key("mailer", &stale.access_key_id).await;
    let home = home_with(&account, &good.access_key_id, &good.secret_access_key);

    let run = |home: &Home, stale: &Keys| {
        home.for_account(&account)
            .env("AWS_PROFILE", "mailer")
            .env("AWS_ACCESS_KEY_ID", &stale.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &stale.secret_access_key)
            .args(["diagnose", "--output", "json"])
            .secret(&stale.secret_access_key)
            .secret(&good.secret_access_key)
            .run()
    };
    let out = run(&home, &stale);
    let report = out.assert_code(1).report();
    // The SDKs use the environment's key, so that is what was tested, and the report says why.
    let sending = report.credentials.sending.as_ref().unwrap();
    assert_eq!(sending.source, Source::Environment);
    assert_eq!(
        sending.access_key_id.as_deref(),
        Some(stale.access_key_id.as_str())
    );
    let f = report.finding("env-shadows-profile");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.evidence("environment key"), stale.access_key_id);
    assert_eq!(f.evidence("profile key"), good.access_key_id);
    assert!(report.codes().contains(&"access-key-unknown"));

    // `--profile` tests the profile's key, as the AWS CLI would, and still warns.
    let out = home
        .for_account(&account)
        .env("AWS_ACCESS_KEY_ID", &stale.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &stale.secret_access_key)
        .args(json_args("mailer"))
        .secret(&stale.secret_access_key)
        .secret(&good.secret_access_key)
        .run();
    let report = out.assert_code(0).report();
    assert_eq!(
        report.credentials.sending.as_ref().unwrap().source,
        Source::Profile
    );
    assert_eq!(
        report.finding("env-shadows-profile").severity,
        Severity::Info
    );
}

#[tokio::test]
async fn root_credentials_are_an_error() {
    let account = emulator().new_account();
    let home = home_with(
        &account,
        &account.root.access_key_id,
        &account.root.secret_access_key,
    );
    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .secret(&account.root.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let f = report.finding("root-credentials");
    assert_eq!(
        f.evidence("caller"),
        format!("arn:aws:iam::{}:root", account.id)
    );
}

#[tokio::test]
async fn skewed_clock() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    // AWS's clock 20 minutes ahead of this machine's.
    account.set_clock_offset(20 * 60);
    let home = home_with(&account, &keys.access_key_id, &keys.secret_access_key);
    let out = home
        .for_account(&account)
        .args(json_args("mailer"))
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(1).report();
    let f = report.finding("clock-skew");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.title.contains("behind"), "{}", f.title);
    assert!(!report.codes().contains(&"signature-mismatch"));
}

#[tokio::test]
async fn unreachable_endpoint_is_incomplete_not_a_verdict() {
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = Home::new();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let out = home
        .command(&format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "AKIAQWERTYUIOPASDFGH")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .args(["diagnose", "--output", "json", "--timeout", "3"])
        .secret(secret)
        .run();
    let report = out.assert_code(3).report();
    let identity = report.step(StepId::Identity);
    assert_eq!(identity.status, StepStatus::Incomplete);
    assert!(identity
        .reason
        .as_deref()
        .unwrap()
        .contains("AWS STS did not answer"));
    let f = report.finding("endpoint-unreachable");
    assert_eq!(f.severity, Severity::Error);
    // The endpoint that did not answer is named: a wrong --endpoint-url is the usual cause.
    assert_eq!(f.evidence("endpoint"), format!("http://127.0.0.1:{port}"));
    let error = f.evidence("error");
    assert!(
        error.contains("Connection refused") || error == "no answer within 3 s (retries included)",
        "{error}"
    );
    // Nothing after it is blamed on the credentials; each says which endpoint gave no answer.
    let url = format!("http://127.0.0.1:{port}");
    for step in &report.steps[2..] {
        let reason = step.reason.as_deref().unwrap_or_default();
        assert!(!reason.contains("credentials"), "{:?}: {reason}", step.id);
        assert!(reason.contains(&url), "{:?}: {reason}", step.id);
    }
    // A person sees the endpoint without -v.
    let human = home
        .command(&url)
        .env("AWS_ACCESS_KEY_ID", "AKIAQWERTYUIOPASDFGH")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .args(["diagnose", "--timeout", "3"])
        .secret(secret)
        .run();
    human.assert_code(3);
    assert!(
        human
            .stdout
            .contains(&format!("AWS STS did not answer at {url}")),
        "{}",
        human.stdout
    );
}

/// The SES SMTP password, computed by Python's standard library from AWS's published algorithm,
/// independently of the Rust code under test.
pub fn python_smtp_password(secret: &str, region: &str) -> String {
    let script = r#"
import base64, hashlib, hmac, sys
secret, region = sys.stdin.read().split("\n")[:2]
sig = hmac.new(("AWS4" + secret).encode(), b"11111111", hashlib.sha256).digest()
for msg in (region, "ses", "aws4_request", "SendRawEmail"):
    sig = hmac.new(sig, msg.encode(), hashlib.sha256).digest()
print(base64.b64encode(b"\x04" + sig).decode())
"#;
    crate::cli::python_output(script, &format!("{secret}\n{region}\n"))
}
