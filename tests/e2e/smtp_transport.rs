//! Issue 12, "SMTP transport": worlds broken in the SMTP path itself (a blocked port, the TLS
//! mode against the port, temporary credentials, a user name that is no key ID, an endpoint of
//! another region). Each is named as such, and not as the `endpoint-unreachable` or
//! `smtp-auth-failed` it used to be. SES's well-known ports and host names reach the emulator's
//! stand-in through `SES_DOCTOR_TEST_SMTP_PORTS` and `SES_DOCTOR_TEST_SMTP_HOST` (see
//! src/failpoint.rs).

use crate::cli::{Home, Severity, StepId};
use crate::support::{emulator, smtp_password, Account, Keys};
use crate::worlds::healthy_sender;

const REGION: &str = "us-east-1";
/// Nothing listens there (the other tests use it as a dead endpoint too).
const CLOSED: u16 = 9;

fn home_for(account: &Account, keys: &Keys) -> Home {
    Home::mailer_and_admin(
        account,
        &keys.access_key_id,
        &keys.secret_access_key,
        "[profile mailer]\nregion = us-east-1\n",
    )
}

/// `diagnose --via smtp` to `endpoint`, with SES's ports mapped by `ports`
/// (`587=40001,465=40002`), the stand-in's CA trusted.
fn over_smtp(
    home: &Home,
    account: &Account,
    keys: &Keys,
    endpoint: &str,
    ports: &str,
) -> crate::cli::SesDoctor {
    let smtp = emulator().smtp(REGION);
    home.for_account(account)
        .args(["diagnose", "--output", "json", "--profile", "mailer"])
        .args(["--admin-profile", "admin", "--regions", REGION])
        .args(["--via", "smtp", "--smtp-endpoint", endpoint])
        .args(["--smtp-ca-file", smtp.ca_file.to_str().unwrap()])
        .env("SES_DOCTOR_TEST_SMTP_PORTS", ports)
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .secret(&smtp_password(&keys.secret_access_key, REGION))
}

#[tokio::test]
async fn a_blocked_port_is_named_with_the_ports_that_answer() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let smtp = emulator().smtp(REGION);
    // Port 25 is blocked (as EC2 throttles it); 587 and 465 answer, 2587 and 2465 do not.
    let ports = format!(
        "25={CLOSED},587={},2587={CLOSED},465={},2465={CLOSED}",
        smtp.starttls_port, smtp.tls_port
    );
    let report = over_smtp(&home, &account, &keys, "127.0.0.1:25", &ports)
        .run()
        .assert_code(1)
        .report();
    let codes = report.codes();
    assert!(!codes.contains(&"endpoint-unreachable"), "{codes:?}");
    let f = report.finding("smtp-port-blocked");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.title.contains("port 25"), "{}", f.title);
    assert_eq!(
        f.evidence("ports that answer"),
        "587 (STARTTLS), 465 (TLS wrapper)"
    );
    assert!(
        f.fixes[0]
            .description
            .contains("port to 587 with STARTTLS (--smtp-endpoint 127.0.0.1:587)"),
        "{:?}",
        f.fixes
    );
    // The test email then went through the port that answers: the fix is proven.
    assert_eq!(
        f.evidence("proven"),
        "on the port that answers, SES accepted the test email"
    );
    assert!(report
        .finding("test-email-sent")
        .evidence("via")
        .starts_with("SMTP 127.0.0.1:587 (STARTTLS)"));
    assert_eq!(account.smtp_messages().len(), 1);
}

#[tokio::test]
async fn tls_from_the_first_byte_to_a_starttls_port() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let smtp = emulator().smtp(REGION);
    let ports = format!("587={},465={}", smtp.starttls_port, smtp.tls_port);
    let report = over_smtp(&home, &account, &keys, "127.0.0.1:587", &ports)
        .args(["--smtp-tls", "wrapper"])
        .run()
        .assert_code(1)
        .report();
    let codes = report.codes();
    assert!(!codes.contains(&"endpoint-unreachable"), "{codes:?}");
    let f = report.finding("smtp-tls-mismatch");
    assert_eq!(
        f.title,
        "Port 587 takes STARTTLS, but the mailer speaks TLS wrapper"
    );
    assert!(
        f.fixes[0].description.contains("--smtp-tls starttls"),
        "{:?}",
        f.fixes
    );
    assert_eq!(
        f.evidence("proven"),
        "with the TLS mode of the port, SES accepted the test email"
    );
    assert!(codes.contains(&"test-email-sent"));
}

#[tokio::test]
async fn starttls_to_the_tls_wrapper_port() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let smtp = emulator().smtp(REGION);
    let ports = format!("587={},465={}", smtp.starttls_port, smtp.tls_port);
    // The greeting never comes (the port waits for a TLS handshake): the session times out.
    let report = over_smtp(&home, &account, &keys, "127.0.0.1:465", &ports)
        .args(["--smtp-tls", "starttls", "--timeout", "2"])
        .run()
        .assert_code(1)
        .report();
    let codes = report.codes();
    assert!(!codes.contains(&"endpoint-unreachable"), "{codes:?}");
    let f = report.finding("smtp-tls-mismatch");
    assert_eq!(
        f.title,
        "Port 465 takes TLS wrapper, but the mailer speaks STARTTLS"
    );
    assert!(
        f.evidence("error").contains("timed out"),
        "{}",
        f.all_evidence()
    );
    assert!(codes.contains(&"test-email-sent"));
}

#[tokio::test]
async fn smtp_credentials_from_a_temporary_key() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let user_arn = account.user_arn("mailer");
    let role = account
        .create_role("Sender", &user_arn, Some(crate::worlds::FULL_ACCESS))
        .await;
    let (temporary, token) = account.assume_role(&keys, &role).await;
    let password = smtp_password(&temporary.secret_access_key, REGION);
    let home = home_for(&account, &keys);
    let smtp = emulator().smtp(REGION);

    // The mailer's SMTP user name and password come from the temporary key.
    let report = over_smtp(
        &home,
        &account,
        &keys,
        &format!("127.0.0.1:{}", smtp.starttls_port),
        "",
    )
    .args(["--smtp-username", &temporary.access_key_id])
    .env("SES_DOCTOR_SMTP_PASSWORD", &password)
    .secret(&password)
    .run()
    .assert_code(1)
    .report();
    assert!(!report.codes().contains(&"smtp-auth-failed"));
    let f = report.finding("smtp-credentials-temporary");
    assert_eq!(f.evidence("access key ID"), temporary.access_key_id);
    assert!(f.explanation.contains("long-term"), "{}", f.explanation);
    // Nothing was tried: SES would only have said 535.
    assert!(account.smtp_auth_attempts().is_empty());

    // The profile itself holds the temporary credentials: no password is derived from them.
    let home = Home::new();
    home.write_credentials(&format!(
        "[mailer]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {token}\n[admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        temporary.access_key_id,
        temporary.secret_access_key,
        account.admin.access_key_id,
        account.admin.secret_access_key
    ));
    home.write_config("[profile mailer]\nregion = us-east-1\n");
    let report = over_smtp(
        &home,
        &account,
        &temporary,
        &format!("127.0.0.1:{}", smtp.starttls_port),
        "",
    )
    .secret(&token)
    .run()
    .assert_code(1)
    .report();
    assert!(!report.codes().contains(&"smtp-auth-failed"));
    let step = report.step(StepId::TestEmail);
    assert_eq!(step.findings[0].code, "smtp-credentials-temporary");
}

#[test]
fn smtp_password_refuses_a_temporary_secret() {
    let home = Home::new();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    // The secret was copied from temporary credentials in the environment.
    let out = home
        .command("http://127.0.0.1:9")
        .args(["smtp-password", "--region", "eu-west-1"])
        .env("AWS_ACCESS_KEY_ID", "ASIAQWERTYUIOPASDFGH")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN")
        .stdin(&format!("{secret}\n"))
        .secret(secret)
        .run();
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "{}", out.both());
    assert!(
        out.stderr.contains("smtp-credentials-temporary")
            && out.stderr.contains("AWS_SESSION_TOKEN"),
        "{}",
        out.both()
    );
    // From a profile with a session token, the same.
    home.write_credentials(&format!(
        "[tmp]\naws_access_key_id = ASIAQWERTYUIOPASDFGH\naws_secret_access_key = {secret}\naws_session_token = FwoGZXIvYXdzEXAMPLETOKEN\n"
    ));
    let out = home
        .command("http://127.0.0.1:9")
        .args(["smtp-password", "--region", "eu-west-1"])
        .stdin(&format!("{secret}\n"))
        .secret(secret)
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("profile 'tmp'"), "{}", out.both());
    // A long-term key's secret is derived as before.
    home.write_credentials(&format!(
        "[tmp]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = {secret}\n"
    ));
    let out = home
        .command("http://127.0.0.1:9")
        .args(["smtp-password", "--region", "eu-west-1"])
        .stdin(&format!("{secret}\n"))
        .secret(secret)
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout.trim().len(), 44);
}

#[tokio::test]
async fn an_iam_user_name_as_the_smtp_user_name() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let smtp = emulator().smtp(REGION);
    let endpoint = format!("127.0.0.1:{}", smtp.starttls_port);
    let password = smtp_password(&keys.secret_access_key, REGION);

    // The password is the profile key's: the right user name is known, and proven.
    let report = over_smtp(&home, &account, &keys, &endpoint, "")
        .args(["--smtp-username", "mailer"])
        .env("SES_DOCTOR_SMTP_PASSWORD", &password)
        .run()
        .assert_code(1)
        .report();
    assert!(!report.codes().contains(&"smtp-auth-failed"));
    let f = report.finding("smtp-username-not-key-id");
    assert_eq!(
        f.title,
        "The SMTP user name mailer is an IAM user name or a console login, not an access key ID"
    );
    assert_eq!(f.evidence("access key ID"), keys.access_key_id);
    assert_eq!(
        f.evidence("proven"),
        "with the access key ID as the user name, SES accepted the test email"
    );
    assert!(report.codes().contains(&"test-email-sent"));

    // An e-mail address, with another key's password: named, and nothing sent for a bare 535.
    let other = account.create_user_with_key("wordpress").await;
    let other_password = smtp_password(&other.secret_access_key, REGION);
    let report = over_smtp(&home, &account, &keys, &endpoint, "")
        .args(["--smtp-username", "noreply@example.com"])
        .env("SES_DOCTOR_SMTP_PASSWORD", &other_password)
        .secret(&other_password)
        .secret(&other.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    assert!(!report.codes().contains(&"smtp-auth-failed"));
    let f = report.finding("smtp-username-not-key-id");
    assert!(f.title.contains("is an e-mail address"), "{}", f.title);
    assert_eq!(account.smtp_messages().len(), 1);
}

#[tokio::test]
async fn the_password_is_derived_for_the_endpoints_region() {
    let account = emulator().new_account();
    // The identities and --region are us-east-1's; the mailer points at eu-west-1's endpoint.
    let keys = healthy_sender(&account, "mailer", REGION).await;
    let home = home_for(&account, &keys);
    let eu = emulator().smtp("eu-west-1");
    let report = over_smtp(
        &home,
        &account,
        &keys,
        "email-smtp.eu-west-1.amazonaws.com:587",
        &format!("587={}", eu.starttls_port),
    )
    .env("SES_DOCTOR_TEST_SMTP_HOST", &eu.host)
    .secret(&smtp_password(&keys.secret_access_key, "eu-west-1"))
    .run()
    .assert_code(1)
    .report();
    let codes = report.codes();
    assert!(!codes.contains(&"smtp-auth-failed"), "{codes:?}");
    // SES accepted the login in eu-west-1: the password was derived for it.
    let attempts = account.smtp_auth_attempts();
    assert!(!attempts.is_empty());
    for a in &attempts {
        assert_eq!(a["region"], "eu-west-1", "{attempts:?}");
        assert_eq!(a["outcome"], "ok", "{attempts:?}");
    }
    let step = report.step(StepId::TestEmail);
    let mismatch = step
        .findings
        .iter()
        .find(|f| f.code == "region-mismatch")
        .expect("the region mismatch");
    assert_eq!(mismatch.evidence("SMTP endpoint's region"), "eu-west-1");
    assert_eq!(mismatch.evidence("region under test"), "us-east-1");
    // The sender is verified in us-east-1 only, and SES in eu-west-1 says so.
    let f = report.finding("identity-unverified");
    assert!(f.title.contains("eu-west-1"), "{}", f.title);
}
