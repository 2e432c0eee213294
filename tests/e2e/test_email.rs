//! Step 6 end to end: the test email through the SES API, and over SMTP against the emulator's
//! SES-like SMTP server (STARTTLS and TLS wrapper, AUTH checked against the SES derivation, 554s
//! after AUTH). No secret or SMTP password appears in any output.

use crate::cli::{Home, Severity, StepId, StepStatus};
use crate::support::{emulator, smtp_password, smtp_password_v2, Account, Keys};
use crate::worlds::healthy_sender;

const REGION: &str = "us-east-1";

fn home_for(account: &Account, keys: &Keys) -> Home {
    Home::mailer_and_admin(
        account,
        &keys.access_key_id,
        &keys.secret_access_key,
        "[profile mailer]\nregion = us-east-1\n",
    )
}

fn diagnose(home: &Home, account: &Account, keys: &Keys) -> crate::cli::SesDoctor {
    home.for_account(account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--profile",
            "mailer",
            "--admin-profile",
            "admin",
        ])
        .args(["--regions", "us-east-1"])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
}

/// `diagnose --via smtp` against the emulator's SMTP listener for us-east-1 (STARTTLS port).
fn over_smtp(home: &Home, account: &Account, keys: &Keys) -> crate::cli::SesDoctor {
    let smtp = emulator().smtp(REGION);
    diagnose(home, account, keys)
        .args(["--via", "smtp"])
        .args([
            "--smtp-endpoint",
            &format!("{}:{}", smtp.host, smtp.starttls_port),
        ])
        .args(["--smtp-ca-file", smtp.ca_file.to_str().unwrap()])
        .secret(&smtp_password(&keys.secret_access_key, REGION))
}

#[tokio::test]
async fn api_test_email_reaches_the_simulator() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("test-email-sent");
    assert_eq!(f.severity, Severity::Pass);
    assert!(!f.evidence("message ID").is_empty());
    assert_eq!(f.evidence("via"), "SES API (SendEmail)");
    assert!(
        f.title.contains("ses-doctor-test@example.com")
            && f.title.contains("success@simulator.amazonses.com"),
        "{}",
        f.title
    );

    // --no-send skips it, and says so.
    let report = diagnose(&home, &account, &keys)
        .args(["--no-send"])
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.step(StepId::TestEmail).status, StepStatus::Skipped);
}

#[tokio::test]
async fn api_test_email_from_an_unverified_sender() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys)
        .args(["--from", "bob@unverified.example.org"])
        .run()
        .assert_code(1)
        .report();
    let step = report.step(StepId::TestEmail);
    let f = &step.findings[0];
    assert_eq!(f.code, "identity-unverified");
    assert!(
        f.evidence("SES said")
            .contains("Email address is not verified"),
        "{}",
        f.all_evidence()
    );
    assert!(f
        .evidence("SES said")
        .contains("bob@unverified.example.org"));
}

#[tokio::test]
async fn api_test_email_in_the_sandbox_to_an_unverified_recipient() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    account.set_ses_account(REGION, false, true);
    let home = home_for(&account, &keys);
    // To the simulator it goes through, sandbox or not.
    diagnose(&home, &account, &keys).run().assert_code(0);
    let report = diagnose(&home, &account, &keys)
        .args(["--to", "carol@customer.example.net"])
        .run()
        .assert_code(1)
        .report();
    let f = &report.step(StepId::TestEmail).findings[0];
    assert_eq!(f.code, "ses-sandbox");
    assert!(f
        .evidence("SES said")
        .contains("carol@customer.example.net"));
}

#[tokio::test]
async fn smtp_with_the_derived_password_goes_through_data() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);

    // Derived by ses-doctor from the profile's key.
    let report = over_smtp(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("test-email-sent");
    assert!(
        f.evidence("via").starts_with("SMTP 127.0.0.1:"),
        "{}",
        f.all_evidence()
    );
    assert_eq!(
        f.evidence("SMTP"),
        "AUTH accepted (235), message accepted after DATA (250)"
    );
    let messages = account.smtp_messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        messages[0]["message_id"].as_str().unwrap(),
        f.evidence("message ID")
    );
    assert!(messages[0]["data"]
        .as_str()
        .unwrap()
        .contains("Subject: ses-doctor test email"));

    // As the mailer has them: user name and password given, over the TLS-wrapper port.
    let smtp = emulator().smtp(REGION);
    let password = smtp_password(&keys.secret_access_key, REGION);
    diagnose(&home, &account, &keys)
        .args(["--via", "smtp", "--smtp-tls", "wrapper"])
        .args([
            "--smtp-endpoint",
            &format!("{}:{}", smtp.host, smtp.tls_port),
        ])
        .args(["--smtp-ca-file", smtp.ca_file.to_str().unwrap()])
        .args(["--smtp-username", &keys.access_key_id])
        .env("SES_DOCTOR_SMTP_PASSWORD", &password)
        .secret(&password)
        .run()
        .assert_code(0);
    assert_eq!(account.smtp_messages().len(), 2);
}

#[tokio::test]
async fn smtp_with_the_secret_key_as_password() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let report = over_smtp(&home, &account, &keys)
        .args(["--smtp-username", &keys.access_key_id])
        .env("SES_DOCTOR_SMTP_PASSWORD", &keys.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("smtp-password-is-secret-key");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.fixes[0]
        .command
        .as_deref()
        .unwrap()
        .contains("smtp-password --region us-east-1"));
    // The password derived from it works: the diagnosis is proven, not guessed.
    assert_eq!(
        f.evidence("proven"),
        "with the corrected password, SES accepted the test email"
    );
    assert!(report.codes().contains(&"test-email-sent"));
}

#[tokio::test]
async fn smtp_with_a_password_for_another_region() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let eu = smtp_password(&keys.secret_access_key, "eu-west-1");
    let report = over_smtp(&home, &account, &keys)
        .args(["--smtp-username", &keys.access_key_id])
        .env("SES_DOCTOR_SMTP_PASSWORD", &eu)
        .secret(&eu)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("smtp-password-wrong-region");
    assert_eq!(f.evidence("derived for"), "eu-west-1");
    assert!(
        f.title.contains("eu-west-1") && f.title.contains("us-east-1"),
        "{}",
        f.title
    );
}

#[tokio::test]
async fn smtp_with_a_legacy_password() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let legacy = smtp_password_v2(&keys.secret_access_key);
    let report = over_smtp(&home, &account, &keys)
        .args(["--smtp-username", &keys.access_key_id])
        .env("SES_DOCTOR_SMTP_PASSWORD", &legacy)
        .secret(&legacy)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("smtp-password-legacy");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.explanation.contains("2021"));
}

#[tokio::test]
async fn smtp_auth_accepted_but_sender_unverified() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let report = over_smtp(&home, &account, &keys)
        .args(["--from", "bob@unverified.example.org"])
        .run()
        .assert_code(1)
        .report();
    let f = &report.step(StepId::TestEmail).findings[0];
    assert_eq!(f.code, "identity-unverified");
    assert_eq!(
        f.evidence("SMTP"),
        "AUTH was accepted (235); SES rejected the message after it"
    );
    assert!(
        f.evidence("SES said").starts_with("554"),
        "{}",
        f.all_evidence()
    );
    assert!(account.smtp_messages().is_empty());
}

#[tokio::test]
async fn smtp_535_is_traced_to_the_key_behind_it() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    // The mailer has a second user's SMTP credentials; that user's key was deactivated.
    let other = account.create_user_with_key("wordpress").await;
    let password = smtp_password(&other.secret_access_key, REGION);
    account
        .set_key_active("wordpress", &other.access_key_id, false)
        .await;
    let home = home_for(&account, &keys);
    let report = over_smtp(&home, &account, &keys)
        .args(["--smtp-username", &other.access_key_id])
        .env("SES_DOCTOR_SMTP_PASSWORD", &password)
        .secret(&password)
        .secret(&other.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("smtp-auth-failed");
    assert!(
        f.evidence("SMTP said").starts_with("535"),
        "{}",
        f.all_evidence()
    );
    assert!(
        f.evidence("the key behind it")
            .ends_with("[access-key-inactive]"),
        "{}",
        f.all_evidence()
    );
}

#[tokio::test]
async fn smtp_credentials_are_tested_even_when_the_api_key_is_broken() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    // The profile's API key was deleted; the mailer's SMTP credentials belong to another key.
    let smtp_keys = account.create_key("mailer").await;
    account.delete_key("mailer", &keys.access_key_id).await;
    let password = smtp_password(&smtp_keys.secret_access_key, REGION);
    let home = home_for(&account, &keys);
    let report = over_smtp(&home, &account, &keys)
        .args([
            "--smtp-username",
            &smtp_keys.access_key_id,
            "--from",
            "noreply@example.com",
        ])
        .env("SES_DOCTOR_SMTP_PASSWORD", &password)
        .secret(&password)
        .secret(&smtp_keys.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    assert!(report.codes().contains(&"access-key-unknown"));
    assert_eq!(report.step(StepId::Region).status, StepStatus::Skipped);
    // The SMTP side works: the mailer's SMTP settings are fine, only the API key is gone.
    let f = report.finding("test-email-sent");
    assert!(f.evidence("via").starts_with("SMTP"));
}
