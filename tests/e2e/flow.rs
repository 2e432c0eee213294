//! The shape of a run (issue 11): one cause counted and annotated once, an explicit Deny named
//! from SES's own words when IAM is closed, and a report whose header shows the key and region
//! the run ended with.

use crate::cli::{FixKind, Home, Outcome, StepId};
use crate::support::emulator;
use crate::worlds::{healthy_sender, DOMAIN, FULL_ACCESS};

const DENY_SENDING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"*"}]}"#;

#[tokio::test]
async fn an_explicit_deny_without_admin_credentials_is_one_cause_named_from_ses_words() {
    // AmazonSESFullAccess and a Deny; no admin profile, and IAM closed to the mailer: only SES
    // can say what is wrong, and it says "explicit deny".
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.attach_policy("mailer", FULL_ACCESS).await;
    account
        .put_inline_policy("mailer", "NoSending", DENY_SENDING)
        .await;
    account.create_identity("eu-west-1", DOMAIN, true).await;
    account.set_ses_account("eu-west-1", true, true);
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        "[profile mailer]\nregion = eu-west-1\n",
    );
    let out = home
        .for_account(&account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--yes",
            "--profile",
            "mailer",
            "--regions",
            "eu-west-1",
            "--from",
            "noreply@example.com",
        ])
        .env("GITHUB_ACTIONS", "true")
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(1).report();

    let permissions = report.step(StepId::Permissions);
    let denied = &permissions.findings[0];
    assert_eq!(denied.code, "permission-explicitly-denied", "{denied:?}");
    assert!(
        denied.title.contains("an identity-based policy"),
        "{}",
        denied.title
    );
    // Granting cannot beat a Deny: no grant is offered.
    assert!(denied.fixes.iter().all(|f| f.kind == FixKind::Manual));
    assert!(!report.codes().contains(&"permission-missing"));

    // The test email is refused for the same Deny: the same cause, counted once.
    let email = &report.step(StepId::TestEmail).findings[0];
    assert_eq!(email.code, "permission-explicitly-denied");
    assert_eq!(email.repeat_of, Some(3));
    assert_eq!(report.summary.errors, 1, "{:?}", report.codes());
    assert_eq!(report.summary.outcome, Outcome::Problems);

    // One ::error annotation for the one cause, and no contradicting one.
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("permission-explicitly-denied"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn the_header_shows_the_key_and_region_the_run_ended_with() {
    // A broken secret in us-east-1, the identity in eu-west-1: --yes makes a new key and moves
    // the profile to eu-west-1.
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let wrong = keys.with_wrong_secret();
    let home = Home::mailer_and_admin(
        &account,
        &wrong.access_key_id,
        &wrong.secret_access_key,
        "[profile mailer]\nregion = us-east-1\n",
    );
    let report = home
        .for_account(&account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--yes",
            "--profile",
            "mailer",
            "--admin-profile",
            "admin",
            "--regions",
            "us-east-1,eu-west-1",
            "--from",
            "noreply@example.com",
        ])
        .secret(&keys.secret_access_key)
        .secret(&wrong.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    let sending = report.credentials.sending.as_ref().unwrap();
    let saved = std::fs::read_to_string(home.credentials_file()).unwrap();
    let new_id = sending.access_key_id.clone().unwrap();
    assert_ne!(new_id, keys.access_key_id);
    assert!(saved.contains(&new_id), "the header names the saved key");
    assert_eq!(
        sending.previous_access_key_id.as_deref(),
        Some(keys.access_key_id.as_str())
    );
    let region = report.region.as_ref().unwrap();
    assert_eq!(region.name, "eu-west-1");
    assert_eq!(region.previous.as_deref(), Some("us-east-1"));
    assert_eq!(region.source, "fix");
    // The SMTP note of the new key is for the region the mailer now uses.
    let key_step = report.step(StepId::AccessKey);
    let smtp = key_step
        .findings
        .iter()
        .chain(report.step(StepId::Identity).findings.iter())
        .flat_map(|f| f.evidence.iter())
        .find(|e| e.label == "SMTP")
        .map(|e| e.value.clone())
        .unwrap_or_default();
    assert!(smtp.contains("for eu-west-1"), "{smtp:?}");
    assert!(!smtp.contains("us-east-1"), "{smtp:?}");
}
