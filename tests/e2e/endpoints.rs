//! SES's two hosts in each other's place: the SMTP host (email-smtp.<region>.amazonaws.com) as an
//! API endpoint, and the API host (email.<region>.amazonaws.com) as the SMTP server. Neither
//! answers the other's protocol, so without these checks the run ends in a timeout
//! (endpoint-unreachable) or a false healthy.

use crate::cli::{Home, Severity, StepId};
use crate::support::emulator;
use crate::worlds::healthy_sender;

#[tokio::test]
async fn the_smtp_host_as_the_ses_api_endpoint_is_refused_before_any_call() {
    // django-ses/django-ses#258, bramley/phplist-plugin-amazonses#5: the SMTP host where the
    // API's endpoint belongs.
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        "[profile mailer]\nregion = eu-west-1\n",
    );
    let out = home
        .for_account(&account)
        .env(
            "AWS_ENDPOINT_URL_SESV2",
            "https://email-smtp.eu-west-1.amazonaws.com",
        )
        .args(["diagnose", "--output", "json", "--profile", "mailer"])
        .secret(&keys.secret_access_key)
        .run();
    out.assert_code(2);
    let text = out.both();
    assert!(
        text.contains("AWS_ENDPOINT_URL_SESV2 'https://email-smtp.eu-west-1.amazonaws.com' is SES's SMTP host, not an API endpoint [endpoint-is-smtp-host]"),
        "{text}"
    );
    assert!(
        text.contains("https://email.eu-west-1.amazonaws.com"),
        "{text}"
    );
    assert!(!text.contains("endpoint-unreachable"), "{text}");
}

#[tokio::test]
async fn the_api_host_as_the_smtp_endpoint_is_refused_before_any_call() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
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
            "--profile",
            "mailer",
            "--via",
            "smtp",
            "--smtp-endpoint",
            "email.eu-west-1.amazonaws.com:587",
        ])
        .secret(&keys.secret_access_key)
        .run();
    out.assert_code(2);
    let text = out.both();
    assert!(
        text.contains("is the SES API's host, not its SMTP host [endpoint-is-smtp-host]"),
        "{text}"
    );
    assert!(
        text.contains("email-smtp.eu-west-1.amazonaws.com (587 STARTTLS, 465 TLS)"),
        "{text}"
    );
    for wrong in ["smtp-auth-failed", "endpoint-unreachable"] {
        assert!(!text.contains(wrong), "{text}");
    }
}

#[tokio::test]
async fn a_profile_endpoint_url_on_the_smtp_host_is_named() {
    // The mailer's profile sends every API call to the SMTP host; here AWS_ENDPOINT_URL (the
    // emulator) overrides it, as an endpoint variable overrides a profile's endpoint_url in
    // every SDK, so the run goes on and is otherwise healthy: without the check, a false
    // healthy for a profile that fails wherever the variable is not set.
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        "[profile mailer]\nregion = eu-west-1\nendpoint_url = https://email-smtp.eu-west-1.amazonaws.com\n",
    );
    let report = home
        .for_account(&account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--profile",
            "mailer",
            "--admin-profile",
            "admin",
            "--regions",
            "eu-west-1",
        ])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("endpoint-is-smtp-host");
    assert_eq!(f.severity, Severity::Error);
    assert!(report
        .step(StepId::Local)
        .findings
        .iter()
        .any(|x| x.code == "endpoint-is-smtp-host"));
    assert_eq!(f.evidence("profile"), "mailer");
    assert!(
        f.evidence("here")
            .starts_with("AWS_ENDPOINT_URL overrides it"),
        "{}",
        f.all_evidence()
    );
    assert!(
        f.fixes[0]
            .description
            .contains("https://email.eu-west-1.amazonaws.com"),
        "{}",
        f.fixes[0].description
    );
    // The rest of the run is what it is: the key works and the mail goes.
    assert!(
        report.codes().contains(&"test-email-sent"),
        "{:?}",
        report.codes()
    );
}
