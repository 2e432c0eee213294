//! Proof, through the Rust SDK the product uses, that the emulator behaves as AWS
//! where ses-doctor depends on it: one test per patched behaviour, each asserting
//! the error code the SDK decodes (`ProvideErrorMetadata::code`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_iam::types::StatusType;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sts::error::ProvideErrorMetadata;

use crate::support::{emulator, show, Account, Keys};

const SES_FULL: &str = "arn:aws:iam::aws:policy/AmazonSESFullAccess";
const SIMULATOR: &str = "success@simulator.amazonses.com";
const SEND_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"*"}]}"#;
const DENY_SEND: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"*"}]}"#;

/// What the SDK made of a failed call.
#[derive(Debug, Clone)]
struct Failure {
    code: Option<String>,
    message: Option<String>,
    display: String,
}

type Outcome = Result<(), Failure>;

fn outcome<T, E>(result: Result<T, E>) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error,
{
    result.map(|_| ()).map_err(|e| Failure {
        code: e.code().map(str::to_string),
        message: e.message().map(str::to_string),
        display: show(&e),
    })
}

#[track_caller]
fn assert_code(what: &str, outcome: &Outcome, code: &str) -> Failure {
    match outcome {
        Ok(()) => panic!("{what}: succeeded, expected {code}"),
        Err(failure) => {
            assert_eq!(
                failure.code.as_deref(),
                Some(code),
                "{what}: {}",
                failure.display
            );
            failure.clone()
        }
    }
}

#[track_caller]
fn assert_ok(what: &str, outcome: &Outcome) {
    if let Err(failure) = outcome {
        panic!("{what}: {}", failure.display);
    }
}

fn simple_message(subject: &str) -> EmailContent {
    let text = Content::builder().data(subject).build().unwrap();
    EmailContent::builder()
        .simple(
            Message::builder()
                .subject(text.clone())
                .body(Body::builder().text(text).build())
                .build(),
        )
        .build()
}

async fn send(account: &Account, keys: &Keys, region: &str, from: &str, to: &[&str]) -> Outcome {
    let mut destination = Destination::builder();
    for address in to {
        destination = destination.to_addresses(*address);
    }
    outcome(
        account
            .sesv2_as(keys, region)
            .send_email()
            .from_email_address(from)
            .destination(destination.build())
            .content(simple_message("ses-doctor emulator smoke test"))
            .send()
            .await,
    )
}

/// The `Date` header(s) of the HTTP response behind a failed call.
fn date_headers<E>(
    error: &aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> Vec<String> {
    error
        .raw_response()
        .map(|r| r.headers().get_all("date").map(str::to_string).collect())
        .unwrap_or_default()
}

fn parse_http_date(value: &str) -> SystemTime {
    use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};
    let date = DateTime::from_str(value, DateTimeFormat::HttpDate)
        .unwrap_or_else(|e| panic!("bad Date header {value:?}: {e}"));
    SystemTime::try_from(date).expect("Date header in range")
}

/// Seconds from real now to `value` (a Date header).
fn offset_of(value: &str) -> i64 {
    let date = parse_http_date(value);
    match date.duration_since(SystemTime::now()) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    }
}

// ---------------------------------------------------------------------------

/// The stdin-EOF guarantee the harness relies on: a separate emulator exits as
/// soon as its stdin closes.
#[test]
fn emulator_exits_when_its_stdin_closes() {
    let emulator = emulator(); // ensures a Python with the pinned requirements exists
    assert!(emulator.is_running());
    let mut child = Command::new(&emulator.python)
        .arg(crate::support::emulator_script())
        .args(["--port", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn emulator");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("READY http://127.0.0.1:"), "{line:?}");
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "emulator still running 10 s after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn caller_identity_of_an_iam_user_and_of_root() {
    let account = emulator().new_account();
    let me = account
        .sts(&account.admin)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some(account.id.as_str()));
    assert_eq!(me.arn(), Some(account.user_arn("admin").as_str()));

    let root = account
        .sts(&account.root)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(root.account(), Some(account.id.as_str()));
    assert_eq!(
        root.arn(),
        Some(format!("arn:aws:iam::{}:root", account.id).as_str())
    );
    assert_eq!(root.user_id(), Some(account.id.as_str()));

    // Root may do everything, in IAM and SES alike.
    let user = account
        .iam_as(&account.root)
        .get_user()
        .send()
        .await
        .unwrap();
    assert_eq!(
        user.user().map(|u| u.arn()),
        Some(format!("arn:aws:iam::{}:root", account.id).as_str())
    );
    assert_ok(
        "root ListUsers",
        &outcome(account.iam_as(&account.root).list_users().send().await),
    );
    assert_ok(
        "root GetAccount",
        &outcome(
            account
                .sesv2_as(&account.root, "eu-west-1")
                .get_account()
                .send()
                .await,
        ),
    );
}

#[tokio::test]
async fn wrong_secret_is_a_signature_mismatch() {
    let account = emulator().new_account();
    let wrong = account.admin.with_wrong_secret();
    let sts = outcome(account.sts(&wrong).get_caller_identity().send().await);
    assert_code("sts", &sts, "SignatureDoesNotMatch");
    let iam = outcome(account.iam_as(&wrong).list_access_keys().send().await);
    let failure = assert_code("iam", &iam, "SignatureDoesNotMatch");
    assert!(failure
        .message
        .unwrap()
        .starts_with("The request signature we calculated does not match"),);
    let ses = outcome(
        account
            .sesv2_as(&wrong, "us-east-1")
            .get_account()
            .send()
            .await,
    );
    assert_code("sesv2", &ses, "InvalidSignatureException");
}

#[tokio::test]
async fn unknown_key_is_an_invalid_client_token() {
    let account = emulator().new_account();
    let unknown = Keys::unknown();
    let sts = outcome(account.sts(&unknown).get_caller_identity().send().await);
    let failure = assert_code("sts", &sts, "InvalidClientTokenId");
    assert_eq!(
        failure.message.as_deref(),
        Some("The security token included in the request is invalid.")
    );
    let iam = outcome(account.iam_as(&unknown).get_user().send().await);
    assert_code("iam", &iam, "InvalidClientTokenId");
    let ses = outcome(
        account
            .sesv2_as(&unknown, "us-east-1")
            .get_account()
            .send()
            .await,
    );
    let failure = assert_code("sesv2", &ses, "UnrecognizedClientException");
    assert_eq!(
        failure.message.as_deref(),
        Some("The security token included in the request is invalid.")
    );
}

#[tokio::test]
async fn inactive_key_is_rejected_until_reactivated() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.attach_policy("mailer", SES_FULL).await;
    account
        .set_key_active("mailer", &keys.access_key_id, false)
        .await;
    let sts = outcome(account.sts(&keys).get_caller_identity().send().await);
    assert_code("sts", &sts, "InvalidClientTokenId");
    let ses = outcome(
        account
            .sesv2_as(&keys, "us-east-1")
            .get_account()
            .send()
            .await,
    );
    assert_code("sesv2", &ses, "UnrecognizedClientException");

    account
        .set_key_active("mailer", &keys.access_key_id, true)
        .await;
    assert_ok(
        "sts",
        &outcome(account.sts(&keys).get_caller_identity().send().await),
    );
    assert_ok(
        "sesv2",
        &outcome(
            account
                .sesv2_as(&keys, "us-east-1")
                .get_account()
                .send()
                .await,
        ),
    );

    account.delete_key("mailer", &keys.access_key_id).await;
    let sts = outcome(account.sts(&keys).get_caller_identity().send().await);
    assert_code("sts after delete", &sts, "InvalidClientTokenId");
}

#[tokio::test]
async fn missing_permission_is_access_denied_with_aws_wording() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("wordpress").await;
    account
        .create_identity("us-east-1", "example.com", true)
        .await;

    // GetCallerIdentity needs no permission.
    assert_ok(
        "sts",
        &outcome(account.sts(&keys).get_caller_identity().send().await),
    );

    let ses = send(
        &account,
        &keys,
        "us-east-1",
        "wordpress@example.com",
        &[SIMULATOR],
    )
    .await;
    let failure = assert_code("sesv2 SendEmail", &ses, "AccessDeniedException");
    assert_eq!(
        failure.message.as_deref(),
        Some(
            format!(
                "User: {} is not authorized to perform: ses:SendEmail on resource: {} because no \
                 identity-based policy allows the ses:SendEmail action",
                account.user_arn("wordpress"),
                account.identity_arn("us-east-1", "example.com")
            )
            .as_str()
        )
    );
    let iam = outcome(account.iam_as(&keys).list_access_keys().send().await);
    let failure = assert_code("iam ListAccessKeys", &iam, "AccessDenied");
    assert!(
        failure.message.as_deref().unwrap().starts_with(&format!(
            "User: {} is not authorized to perform: iam:ListAccessKeys on resource: {}",
            account.user_arn("wordpress"),
            account.user_arn("wordpress")
        )),
        "{failure:?}"
    );
    let sts = outcome(
        account
            .sts(&keys)
            .get_access_key_info()
            .access_key_id(&keys.access_key_id)
            .send()
            .await,
    );
    assert_code("sts GetAccessKeyInfo", &sts, "AccessDenied");

    // A send-only inline policy is enough to send (to the simulator, in the sandbox).
    account
        .put_inline_policy("wordpress", "send-only", SEND_ONLY)
        .await;
    assert_ok(
        "send",
        &send(
            &account,
            &keys,
            "us-east-1",
            "wordpress@example.com",
            &[SIMULATOR],
        )
        .await,
    );
}

#[tokio::test]
async fn explicit_deny_beats_an_allow() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("denied").await;
    account.attach_policy("denied", SES_FULL).await;
    account
        .put_inline_policy("denied", "NoSending", DENY_SEND)
        .await;
    account
        .create_identity("us-east-1", "example.com", true)
        .await;
    let ses = send(&account, &keys, "us-east-1", "a@example.com", &[SIMULATOR]).await;
    let failure = assert_code("sesv2 SendEmail", &ses, "AccessDeniedException");
    assert!(failure
        .message
        .unwrap()
        .ends_with("with an explicit deny in an identity-based policy"));
    // Other SES calls are still allowed by AmazonSESFullAccess.
    assert_ok(
        "GetAccount",
        &outcome(
            account
                .sesv2_as(&keys, "us-east-1")
                .get_account()
                .send()
                .await,
        ),
    );
}

#[tokio::test]
async fn sesv2_get_requests_pass_the_signature_check() {
    let account = emulator().new_account();
    let ses = account.sesv2("us-east-1");
    assert_ok("GetAccount", &outcome(ses.get_account().send().await));
    // '@' and '+' in the path: percent-encoded in the request, signed double-encoded.
    account
        .create_identity("us-east-1", "first+tag@example.com", false)
        .await;
    let got = ses
        .get_email_identity()
        .email_identity("first+tag@example.com")
        .send()
        .await;
    assert_ok("GetEmailIdentity", &outcome(got));
}

#[tokio::test]
async fn sesv2_get_account_defaults_to_the_sandbox_and_follows_the_control_endpoint() {
    let account = emulator().new_account();
    let got = account
        .sesv2("eu-west-1")
        .get_account()
        .send()
        .await
        .unwrap();
    assert!(!got.production_access_enabled());
    assert!(got.sending_enabled());
    assert_eq!(got.enforcement_status(), Some("HEALTHY"));
    let quota = got.send_quota().unwrap();
    assert_eq!(
        (quota.max24_hour_send(), quota.max_send_rate()),
        (200.0, 1.0)
    );

    account.set_ses_account_fields(
        "eu-west-1",
        serde_json::json!({"production_access": true, "max_24_hour_send": 50000, "max_send_rate": 14}),
    );
    let got = account
        .sesv2("eu-west-1")
        .get_account()
        .send()
        .await
        .unwrap();
    assert!(got.production_access_enabled());
    assert_eq!(got.send_quota().unwrap().max24_hour_send(), 50000.0);
    // Per region.
    let other = account
        .sesv2("us-east-1")
        .get_account()
        .send()
        .await
        .unwrap();
    assert!(!other.production_access_enabled());
}

#[tokio::test]
async fn sesv2_list_email_identities_is_served() {
    let account = emulator().new_account();
    account
        .create_identity("eu-west-1", "example.com", true)
        .await;
    account
        .create_identity("eu-west-1", "pending@example.org", false)
        .await;
    let listed = account
        .sesv2("eu-west-1")
        .list_email_identities()
        .send()
        .await
        .unwrap();
    let mut names: Vec<(String, bool)> = listed
        .email_identities()
        .iter()
        .map(|i| (i.identity_name().unwrap().to_string(), i.sending_enabled()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("example.com".into(), true),
            ("pending@example.org".into(), false)
        ]
    );
    let elsewhere = account
        .sesv2("us-east-1")
        .list_email_identities()
        .send()
        .await
        .unwrap();
    assert!(elsewhere.email_identities().is_empty());
}

#[tokio::test]
async fn identities_stay_pending_until_verified() {
    use aws_sdk_sesv2::types::VerificationStatus;
    let account = emulator().new_account();
    let ses = account.sesv2("us-east-1");
    let created = ses
        .create_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .unwrap();
    assert!(!created.verified_for_sending_status());
    let got = ses
        .get_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.verification_status(),
        Some(&VerificationStatus::Pending)
    );
    assert!(!got.verified_for_sending_status());

    account.verify_identity("us-east-1", "example.com");
    let got = ses
        .get_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.verification_status(),
        Some(&VerificationStatus::Success)
    );
    assert!(got.verified_for_sending_status());
}

#[tokio::test]
async fn send_email_checks_sender_and_sandbox_recipients() {
    let account = emulator().new_account();
    let admin = account.admin.clone();
    account
        .create_identity("us-east-1", "example.com", false)
        .await;

    let unverified = send(
        &account,
        &admin,
        "us-east-1",
        "sender@example.com",
        &[SIMULATOR],
    )
    .await;
    let failure = assert_code("unverified sender", &unverified, "MessageRejected");
    assert_eq!(
        failure.message.as_deref(),
        Some("Email address is not verified. The following identities failed the check in region US-EAST-1: sender@example.com")
    );

    account.verify_identity("us-east-1", "example.com");
    // A verified domain covers every address at it; the simulator works in the sandbox.
    assert_ok(
        "to simulator",
        &send(
            &account,
            &admin,
            "us-east-1",
            "any@example.com",
            &[SIMULATOR],
        )
        .await,
    );
    let sandboxed = send(
        &account,
        &admin,
        "us-east-1",
        "any@example.com",
        &["someone@gmail.com"],
    )
    .await;
    let failure = assert_code("sandbox recipient", &sandboxed, "MessageRejected");
    assert!(failure
        .message
        .unwrap()
        .ends_with("in region US-EAST-1: someone@gmail.com"));

    // Identities are per region.
    let elsewhere = send(
        &account,
        &admin,
        "eu-west-1",
        "any@example.com",
        &[SIMULATOR],
    )
    .await;
    let failure = assert_code("other region", &elsewhere, "MessageRejected");
    assert!(failure
        .message
        .unwrap()
        .contains("in region EU-WEST-1: any@example.com"));

    account.set_ses_account("us-east-1", true, true);
    assert_ok(
        "production",
        &send(
            &account,
            &admin,
            "us-east-1",
            "any@example.com",
            &["someone@gmail.com"],
        )
        .await,
    );
}

#[tokio::test]
async fn paused_sending_is_a_sending_paused_exception() {
    let account = emulator().new_account();
    account
        .create_identity("us-east-1", "example.com", true)
        .await;
    account.set_ses_account("us-east-1", true, false);
    let paused = send(
        &account,
        &account.admin,
        "us-east-1",
        "a@example.com",
        &[SIMULATOR],
    )
    .await;
    let failure = assert_code("paused", &paused, "SendingPausedException");
    assert_eq!(
        failure.message.as_deref(),
        Some("Sending is paused for this account")
    );
    let got = account
        .sesv2("us-east-1")
        .get_account()
        .send()
        .await
        .unwrap();
    assert!(!got.sending_enabled());
}

#[tokio::test]
async fn simulate_principal_policy_reports_decisions_and_sources() {
    use aws_sdk_iam::types::{
        EvaluationResult, PolicyEvaluationDecisionType as D, PolicySourceType,
    };
    let account = emulator().new_account();
    let iam = account.iam();
    let simulate = |user: &str, actions: &[&str], resources: &[&str]| {
        let mut call = iam
            .simulate_principal_policy()
            .policy_source_arn(account.user_arn(user));
        for action in actions {
            call = call.action_names(*action);
        }
        for resource in resources {
            call = call.resource_arns(*resource);
        }
        async move {
            call.send()
                .await
                .unwrap_or_else(|e| panic!("{}", show(&e)))
                .evaluation_results()
                .to_vec()
        }
    };
    let decision = |r: &EvaluationResult| r.eval_decision().clone();

    account.create_user("nobody").await;
    let results = simulate("nobody", &["ses:SendEmail", "ses:SendRawEmail"], &[]).await;
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| decision(r) == D::ImplicitDeny));

    account.create_user("mailer").await;
    account.attach_policy("mailer", SES_FULL).await;
    let results = simulate("mailer", &["ses:SendEmail"], &[]).await;
    assert_eq!(decision(&results[0]), D::Allowed);
    let matched = &results[0].matched_statements()[0];
    assert_eq!(matched.source_policy_id(), Some("AmazonSESFullAccess"));
    assert_eq!(
        matched.source_policy_type(),
        Some(&PolicySourceType::AwsManaged)
    );

    account
        .put_inline_policy("mailer", "NoSending", DENY_SEND)
        .await;
    let results = simulate("mailer", &["ses:SendEmail"], &[]).await;
    assert_eq!(decision(&results[0]), D::ExplicitDeny);
    let matched = &results[0].matched_statements()[0];
    assert_eq!(matched.source_policy_id(), Some("NoSending"));
    assert_eq!(matched.source_policy_type(), Some(&PolicySourceType::User));

    // Through a group, and per resource.
    account.create_user("grouped").await;
    account.add_to_group("grouped", "senders", None).await;
    account
        .iam()
        .put_group_policy()
        .group_name("senders")
        .policy_name("example-only")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ses:SendEmail","Resource":"{}"}}]}}"#,
            account.identity_arn("us-east-1", "example.com")
        ))
        .send()
        .await
        .unwrap();
    let good = account.identity_arn("us-east-1", "example.com");
    let other = account.identity_arn("us-east-1", "example.org");
    let results = simulate("grouped", &["ses:SendEmail"], &[&good, &other]).await;
    assert_eq!(results.len(), 1, "one result per action");
    assert_eq!(
        decision(&results[0]),
        D::ImplicitDeny,
        "the most restrictive across resources"
    );
    let per_resource: Vec<(String, D)> = results[0]
        .resource_specific_results()
        .iter()
        .map(|r| {
            (
                r.eval_resource_name().to_string(),
                r.eval_resource_decision().clone(),
            )
        })
        .collect();
    assert_eq!(
        per_resource,
        vec![(good.clone(), D::Allowed), (other, D::ImplicitDeny)]
    );
    let matched = &results[0].resource_specific_results()[0].matched_statements()[0];
    assert_eq!(matched.source_policy_type(), Some(&PolicySourceType::Group));
    assert_eq!(matched.source_policy_id(), Some("example-only"));
}

#[tokio::test]
async fn skewed_clock_is_a_signature_expiry_and_shows_in_the_date_header() {
    let account = emulator().new_account();

    // AWS's clock 15 minutes ahead of ours: our request looks 15 minutes old.
    account.set_clock_offset(900);
    let error = account
        .sts(&account.admin)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.code(),
        Some("SignatureDoesNotMatch"),
        "{}",
        show(&error)
    );
    let message = error.message().unwrap();
    assert!(message.starts_with("Signature expired: "), "{message}");
    assert!(
        message.contains(" is now earlier than ") && message.ends_with(" - 5 min.)"),
        "{message}"
    );
    let dates = date_headers(&error);
    assert_eq!(dates.len(), 1, "exactly one Date header: {dates:?}");
    assert!((offset_of(&dates[0]) - 900).abs() <= 5, "{dates:?}");
    let ses = account
        .sesv2("us-east-1")
        .get_account()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        ses.code(),
        Some("InvalidSignatureException"),
        "{}",
        show(&ses)
    );

    // AWS's clock behind ours: our request is from the future.
    account.set_clock_offset(-900);
    let error = account.iam().get_user().send().await.unwrap_err();
    assert_eq!(
        error.code(),
        Some("SignatureDoesNotMatch"),
        "{}",
        show(&error)
    );
    assert!(
        error
            .message()
            .unwrap()
            .starts_with("Signature not yet current: "),
        "{}",
        show(&error)
    );
    assert!((offset_of(&date_headers(&error)[0]) + 900).abs() <= 5);

    // Within 5 minutes: accepted, and the Date header still shows AWS's clock.
    account.set_clock_offset(120);
    assert_ok(
        "sts",
        &outcome(
            account
                .sts(&account.admin)
                .get_caller_identity()
                .send()
                .await,
        ),
    );
    let error = account
        .iam()
        .get_user()
        .user_name("nobody")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("NoSuchEntity"), "{}", show(&error));
    let dates = date_headers(&error);
    assert_eq!(dates.len(), 1, "{dates:?}");
    assert!((offset_of(&dates[0]) - 120).abs() <= 5, "{dates:?}");

    // Another account's clock is unaffected.
    let other = emulator().new_account();
    let error = other
        .iam()
        .get_user()
        .user_name("nobody")
        .send()
        .await
        .unwrap_err();
    assert!(offset_of(&date_headers(&error)[0]).abs() <= 5);
}

#[tokio::test]
async fn opt_in_region_is_refused_until_enabled_for_the_account() {
    let account = emulator().new_account();
    let sts_in =
        |keys: &Keys, region: &str| aws_sdk_sts::Client::new(&account.sdk_config(keys, region));
    let invalid = Some("The security token included in the request is invalid.");

    // A new account: the default region works, the opt-in one refuses every key.
    assert_ok(
        "GetCallerIdentity in us-east-1",
        &outcome(
            sts_in(&account.admin, "us-east-1")
                .get_caller_identity()
                .send()
                .await,
        ),
    );
    let sts = outcome(
        sts_in(&account.admin, "af-south-1")
            .get_caller_identity()
            .send()
            .await,
    );
    let failure = assert_code("sts af-south-1", &sts, "InvalidClientTokenId");
    assert_eq!(failure.message.as_deref(), invalid);
    for (what, keys) in [
        ("root key", account.root.clone()),
        ("wrong secret", account.admin.with_wrong_secret()),
    ] {
        let sts = outcome(
            sts_in(&keys, "af-south-1")
                .get_caller_identity()
                .send()
                .await,
        );
        assert_code(
            &format!("sts af-south-1, {what}"),
            &sts,
            "InvalidClientTokenId",
        );
    }
    let ses = outcome(account.sesv2("af-south-1").get_account().send().await);
    let failure = assert_code("sesv2 af-south-1", &ses, "UnrecognizedClientException");
    assert_eq!(failure.message.as_deref(), invalid);

    // Enabled for this account: both answer; other opt-in regions and other
    // accounts are unaffected.
    account.set_region_enabled("af-south-1", true);
    assert_ok(
        "GetCallerIdentity in af-south-1, enabled",
        &outcome(
            sts_in(&account.admin, "af-south-1")
                .get_caller_identity()
                .send()
                .await,
        ),
    );
    assert_ok(
        "sesv2 GetAccount in af-south-1, enabled",
        &outcome(account.sesv2("af-south-1").get_account().send().await),
    );
    let ses = outcome(account.sesv2("me-south-1").get_account().send().await);
    assert_code("sesv2 me-south-1", &ses, "UnrecognizedClientException");
    let other = emulator().new_account();
    let ses = outcome(other.sesv2("af-south-1").get_account().send().await);
    assert_code(
        "other account, af-south-1",
        &ses,
        "UnrecognizedClientException",
    );

    // Disabled again: refused again.
    account.set_region_enabled("af-south-1", false);
    let ses = outcome(account.sesv2("af-south-1").get_account().send().await);
    assert_code(
        "sesv2 af-south-1, disabled",
        &ses,
        "UnrecognizedClientException",
    );

    // Only opt-in regions can be switched.
    let (status, body) = emulator().control(
        "POST",
        &format!("/_ses_doctor/accounts/{}/regions", account.id),
        &serde_json::json!({"region": "eu-west-1", "enabled": false}),
    );
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn hanging_region_times_out_without_holding_up_others() {
    use aws_sdk_sesv2::error::SdkError;

    let account = emulator().new_account();
    account.set_region_hang("ap-south-1", 300);
    let impatient =
        aws_sdk_sesv2::config::Builder::from(&account.sdk_config(&account.admin, "ap-south-1"))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(2))
                    .build(),
            )
            .build();
    let hanging = aws_sdk_sesv2::Client::from_conf(impatient);

    // While the ap-south-1 request hangs, eu-west-1 of the same account and
    // ap-south-1 of another account answer (each well within the 300 s hang).
    let other = emulator().new_account();
    let started = Instant::now();
    let (hung, (elsewhere, other_account)) = tokio::join!(
        async {
            let result = hanging.get_account().send().await;
            (result, started.elapsed())
        },
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            (
                outcome(account.sesv2("eu-west-1").get_account().send().await),
                outcome(other.sesv2("ap-south-1").get_account().send().await),
            )
        }
    );
    let (result, elapsed) = hung;
    match &result {
        Err(SdkError::TimeoutError(_)) => {}
        Err(e) => panic!("ap-south-1: expected a timeout, got {}", show(e)),
        Ok(_) => panic!("ap-south-1: answered despite the hang"),
    }
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(30),
        "timed out after {elapsed:?}"
    );
    assert_ok("eu-west-1 while ap-south-1 hangs", &elsewhere);
    assert_ok("another account's ap-south-1", &other_account);

    // Removed: ap-south-1 answers again.
    account.set_region_hang("ap-south-1", 0);
    assert_ok(
        "ap-south-1 after the hang is removed",
        &outcome(account.sesv2("ap-south-1").get_account().send().await),
    );
}

#[tokio::test]
async fn query_protocol_service_errors_are_decoded() {
    let account = emulator().new_account();
    let iam = account.iam();
    let missing = outcome(iam.get_user().user_name("nobody").send().await);
    assert_code("GetUser", &missing, "NoSuchEntity");
    account.create_user("twice").await;
    let again = outcome(iam.create_user().user_name("twice").send().await);
    assert_code("CreateUser", &again, "EntityAlreadyExists");
    account.create_key("twice").await;
    account.create_key("twice").await;
    let third = outcome(iam.create_access_key().user_name("twice").send().await);
    assert_code("third key", &third, "LimitExceeded");
}

#[tokio::test]
async fn access_key_info_and_last_used_behave_as_aws() {
    let account = emulator().new_account();
    let other = emulator().new_account();
    let sts = account.sts(&account.admin);
    for (key, owner) in [
        (&other.admin, &other.id),
        (&other.root, &other.id),
        (&account.admin, &account.id),
    ] {
        let info = sts
            .get_access_key_info()
            .access_key_id(&key.access_key_id)
            .send()
            .await
            .unwrap();
        assert_eq!(info.account(), Some(owner.as_str()));
    }

    let keys = account.create_user_with_key("mailer").await;
    let last_used = |key_id: String| {
        let iam = account.iam();
        async move {
            iam.get_access_key_last_used()
                .access_key_id(key_id)
                .send()
                .await
                .unwrap()
                .access_key_last_used()
                .cloned()
        }
    };
    // A rejected request is not a use.
    let _ = account
        .sts(&keys.with_wrong_secret())
        .get_caller_identity()
        .send()
        .await;
    let used = last_used(keys.access_key_id.clone()).await.unwrap();
    assert!(used.last_used_date().is_none(), "{used:?}");
    assert_eq!(used.service_name(), "N/A");
    // An accepted one is.
    account
        .sts(&keys)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let used = last_used(keys.access_key_id.clone()).await.unwrap();
    assert!(used.last_used_date().is_some(), "{used:?}");
    assert_eq!((used.service_name(), used.region()), ("sts", "us-east-1"));
}

/// How many days before now `date` is.
fn days_ago(date: &aws_sdk_iam::primitives::DateTime) -> f64 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    (now - date.as_secs_f64()) / 86_400.0
}

async fn key_last_used(account: &Account, key_id: &str) -> aws_sdk_iam::types::AccessKeyLastUsed {
    account
        .iam()
        .get_access_key_last_used()
        .access_key_id(key_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetAccessKeyLastUsed {key_id}: {}", show(&e)))
        .access_key_last_used()
        .cloned()
        .expect("AccessKeyLastUsed")
}

#[tokio::test]
async fn backdated_key_shows_its_age_and_last_use() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("veteran").await;
    let key_id = keys.access_key_id.as_str();
    let created_days_ago = || {
        let iam = account.iam();
        async move {
            let listed = iam
                .list_access_keys()
                .user_name("veteran")
                .send()
                .await
                .unwrap();
            let key = &listed.access_key_metadata()[0];
            assert_eq!(key.access_key_id(), Some(key_id));
            days_ago(key.create_date().expect("CreateDate"))
        }
    };
    assert!(created_days_ago().await.abs() < 0.01);

    // Created 120 days ago, last used 30 days ago (by default by SES in us-east-1).
    account.set_key_age(key_id, 120, Some(30));
    let age = created_days_ago().await;
    assert!((age - 120.0).abs() < 0.01, "created {age} days ago");
    let used = key_last_used(&account, key_id).await;
    let ago = days_ago(used.last_used_date().expect("LastUsedDate"));
    assert!((ago - 30.0).abs() < 0.01, "last used {ago} days ago");
    assert_eq!((used.service_name(), used.region()), ("ses", "us-east-1"));

    // Service and region of the last use can be chosen; the age stays.
    let path = format!("/_ses_doctor/accounts/{}/keys/{key_id}", account.id);
    let (status, body) = emulator().control(
        "POST",
        &path,
        &serde_json::json!({"last_used_days_ago": 2, "last_used_service": "ses",
                            "last_used_region": "eu-west-1"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["last_used_region"], "eu-west-1", "{body}");
    let used = key_last_used(&account, key_id).await;
    let ago = days_ago(used.last_used_date().expect("LastUsedDate"));
    assert!((ago - 2.0).abs() < 0.01, "last used {ago} days ago");
    assert_eq!((used.service_name(), used.region()), ("ses", "eu-west-1"));
    let age = created_days_ago().await;
    assert!((age - 120.0).abs() < 0.01, "created {age} days ago");

    // Never used.
    account.set_key_age(key_id, 120, None);
    let used = key_last_used(&account, key_id).await;
    assert!(used.last_used_date().is_none(), "{used:?}");
    assert_eq!((used.service_name(), used.region()), ("N/A", "N/A"));

    // A real (accepted) use replaces the backdated one.
    account
        .sts(&keys)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let used = key_last_used(&account, key_id).await;
    let ago = days_ago(used.last_used_date().expect("LastUsedDate"));
    assert!(ago.abs() < 0.01, "last used {ago} days ago");
    assert_eq!((used.service_name(), used.region()), ("sts", "us-east-1"));

    // Unknown key, unknown account, root key: 404; used before created: 400.
    let other = emulator().new_account();
    let unknown = Keys::unknown().access_key_id;
    let root = &account.root.access_key_id;
    for path in [
        format!("/_ses_doctor/accounts/{}/keys/{unknown}", account.id),
        format!("/_ses_doctor/accounts/{}/keys/{key_id}", other.id),
        format!("/_ses_doctor/accounts/000000000001/keys/{key_id}"),
        format!("/_ses_doctor/accounts/{}/keys/{root}", account.id),
    ] {
        let (status, body) = emulator().control("POST", &path, &serde_json::json!({}));
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, body) = emulator().control(
        "POST",
        &path,
        &serde_json::json!({"age_days": 10, "last_used_days_ago": 11}),
    );
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn new_keys_are_refused_until_iam_has_propagated_them() {
    let account = emulator().new_account();
    let earlier = account.create_user_with_key("earlier").await;
    account.set_propagation_delay(3);
    account.create_user("mailer").await;
    account.attach_policy("mailer", SES_FULL).await;
    let started = Instant::now();
    let fresh = account.create_key("mailer").await;

    // At once: refused everywhere, as an unknown key.
    let sts = outcome(account.sts(&fresh).get_caller_identity().send().await);
    let failure = assert_code("sts, new key", &sts, "InvalidClientTokenId");
    assert_eq!(
        failure.message.as_deref(),
        Some("The security token included in the request is invalid.")
    );
    let iam = outcome(account.iam_as(&fresh).get_user().send().await);
    assert_code("iam, new key", &iam, "InvalidClientTokenId");
    let ses = outcome(
        account
            .sesv2_as(&fresh, "us-east-1")
            .get_account()
            .send()
            .await,
    );
    assert_code("sesv2, new key", &ses, "UnrecognizedClientException");

    // Keys created before the setting, and backdated keys, are unaffected.
    assert_ok(
        "key created before the setting",
        &outcome(account.sts(&earlier).get_caller_identity().send().await),
    );
    assert_ok(
        "admin key",
        &outcome(
            account
                .sts(&account.admin)
                .get_caller_identity()
                .send()
                .await,
        ),
    );
    let backdated = account.create_key("mailer").await;
    let sts = outcome(account.sts(&backdated).get_caller_identity().send().await);
    assert_code("sts, second new key", &sts, "InvalidClientTokenId");
    account.set_key_age(&backdated.access_key_id, 1, None);
    assert_ok(
        "backdated key",
        &outcome(account.sts(&backdated).get_caller_identity().send().await),
    );

    // Polling: accepted once the delay is over.
    loop {
        let sts = outcome(account.sts(&fresh).get_caller_identity().send().await);
        if sts.is_ok() {
            break;
        }
        assert_code("sts while propagating", &sts, "InvalidClientTokenId");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "new key still refused after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "accepted after {waited:?}, before the 3 s delay"
    );
    assert_ok(
        "sesv2 after propagation",
        &outcome(
            account
                .sesv2_as(&fresh, "us-east-1")
                .get_account()
                .send()
                .await,
        ),
    );

    // Off: a new key works at once.
    account.set_propagation_delay(0);
    let later = account.create_user_with_key("later").await;
    assert_ok(
        "new key, delay off",
        &outcome(account.sts(&later).get_caller_identity().send().await),
    );
}

// ---------------------------------------------------------------------------
// Every operation ses-doctor uses, through the SDK, for success and each failure.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Service {
    Sts,
    Iam,
    Sesv2,
}

/// Runs every AWS operation the tool uses, as `keys`, in an order that makes each
/// succeed for an administrator. Returns (operation, service, outcome).
async fn every_operation(account: &Account, keys: &Keys) -> Vec<(&'static str, Service, Outcome)> {
    use Service::*;
    let sts = account.sts(keys);
    let iam = account.iam_as(keys);
    let ses = account.sesv2_as(keys, "us-east-1");
    let mut out = Vec::new();
    let user = "probe";
    let group = "probers";
    let document = SEND_ONLY;

    out.push((
        "GetCallerIdentity",
        Sts,
        outcome(sts.get_caller_identity().send().await),
    ));
    out.push((
        "GetAccessKeyInfo",
        Sts,
        outcome(
            sts.get_access_key_info()
                .access_key_id(&account.admin.access_key_id)
                .send()
                .await,
        ),
    ));

    out.push((
        "CreateUser",
        Iam,
        outcome(iam.create_user().user_name(user).send().await),
    ));
    out.push((
        "GetUser",
        Iam,
        outcome(iam.get_user().user_name(user).send().await),
    ));
    let created = iam.create_access_key().user_name(user).send().await;
    let key_id = created
        .as_ref()
        .ok()
        .and_then(|o| o.access_key().map(|k| k.access_key_id().to_string()))
        .unwrap_or_else(|| "AKIAZZZZZZZZZZZZZZZY".into());
    out.push(("CreateAccessKey", Iam, outcome(created)));
    out.push((
        "ListAccessKeys",
        Iam,
        outcome(iam.list_access_keys().user_name(user).send().await),
    ));
    out.push((
        "GetAccessKeyLastUsed",
        Iam,
        outcome(
            iam.get_access_key_last_used()
                .access_key_id(&key_id)
                .send()
                .await,
        ),
    ));
    out.push((
        "UpdateAccessKey",
        Iam,
        outcome(
            iam.update_access_key()
                .user_name(user)
                .access_key_id(&key_id)
                .status(StatusType::Inactive)
                .send()
                .await,
        ),
    ));
    out.push((
        "DeleteAccessKey",
        Iam,
        outcome(
            iam.delete_access_key()
                .user_name(user)
                .access_key_id(&key_id)
                .send()
                .await,
        ),
    ));
    out.push((
        "AttachUserPolicy",
        Iam,
        outcome(
            iam.attach_user_policy()
                .user_name(user)
                .policy_arn(SES_FULL)
                .send()
                .await,
        ),
    ));
    out.push((
        "ListAttachedUserPolicies",
        Iam,
        outcome(
            iam.list_attached_user_policies()
                .user_name(user)
                .send()
                .await,
        ),
    ));
    out.push((
        "DetachUserPolicy",
        Iam,
        outcome(
            iam.detach_user_policy()
                .user_name(user)
                .policy_arn(SES_FULL)
                .send()
                .await,
        ),
    ));
    out.push((
        "PutUserPolicy",
        Iam,
        outcome(
            iam.put_user_policy()
                .user_name(user)
                .policy_name("send-only")
                .policy_document(document)
                .send()
                .await,
        ),
    ));
    out.push((
        "ListUserPolicies",
        Iam,
        outcome(iam.list_user_policies().user_name(user).send().await),
    ));
    out.push((
        "GetUserPolicy",
        Iam,
        outcome(
            iam.get_user_policy()
                .user_name(user)
                .policy_name("send-only")
                .send()
                .await,
        ),
    ));
    out.push((
        "CreateGroup",
        Iam,
        outcome(iam.create_group().group_name(group).send().await),
    ));
    out.push((
        "AddUserToGroup",
        Iam,
        outcome(
            iam.add_user_to_group()
                .group_name(group)
                .user_name(user)
                .send()
                .await,
        ),
    ));
    out.push((
        "ListGroupsForUser",
        Iam,
        outcome(iam.list_groups_for_user().user_name(user).send().await),
    ));
    out.push((
        "ListAttachedGroupPolicies",
        Iam,
        outcome(
            iam.list_attached_group_policies()
                .group_name(group)
                .send()
                .await,
        ),
    ));
    out.push((
        "ListGroupPolicies",
        Iam,
        outcome(iam.list_group_policies().group_name(group).send().await),
    ));
    let policy = iam.get_policy().policy_arn(SES_FULL).send().await;
    let version = policy
        .as_ref()
        .ok()
        .and_then(|p| {
            p.policy()
                .and_then(|p| p.default_version_id().map(str::to_string))
        })
        .unwrap_or_else(|| "v1".into());
    out.push(("GetPolicy", Iam, outcome(policy)));
    out.push((
        "GetPolicyVersion",
        Iam,
        outcome(
            iam.get_policy_version()
                .policy_arn(SES_FULL)
                .version_id(version)
                .send()
                .await,
        ),
    ));
    out.push((
        "SimulatePrincipalPolicy",
        Iam,
        outcome(
            iam.simulate_principal_policy()
                .policy_source_arn(account.user_arn(user))
                .action_names("ses:SendEmail")
                .send()
                .await,
        ),
    ));
    let _ = iam.create_user().user_name("doomed").send().await;
    out.push((
        "DeleteUser",
        Iam,
        outcome(iam.delete_user().user_name("doomed").send().await),
    ));

    let created = ses
        .create_email_identity()
        .email_identity("probe.example")
        .send()
        .await;
    let identity_created = created.is_ok();
    out.push(("CreateEmailIdentity", Sesv2, outcome(created)));
    out.push((
        "GetEmailIdentity",
        Sesv2,
        outcome(
            ses.get_email_identity()
                .email_identity("probe.example")
                .send()
                .await,
        ),
    ));
    out.push((
        "ListEmailIdentities",
        Sesv2,
        outcome(ses.list_email_identities().send().await),
    ));
    out.push(("GetAccount", Sesv2, outcome(ses.get_account().send().await)));
    if identity_created {
        account.verify_identity("us-east-1", "probe.example");
    }
    out.push((
        "SendEmail",
        Sesv2,
        send(account, keys, "us-east-1", "me@probe.example", &[SIMULATOR]).await,
    ));
    out
}

#[tokio::test]
async fn every_operation_succeeds_for_an_administrator() {
    let account = emulator().new_account();
    let results = every_operation(&account, &account.admin).await;
    assert_eq!(results.len(), 29);
    for (operation, _, outcome) in &results {
        assert_ok(operation, outcome);
    }
}

#[tokio::test]
async fn every_operation_fails_with_the_right_code() {
    let account = emulator().new_account();
    let inactive = account.create_user_with_key("inactive").await;
    account
        .attach_policy("inactive", "arn:aws:iam::aws:policy/AdministratorAccess")
        .await;
    account
        .set_key_active("inactive", &inactive.access_key_id, false)
        .await;
    let powerless = account.create_user_with_key("powerless").await;

    let cases: [(&str, Keys, [&str; 3]); 4] = [
        (
            "wrong secret",
            account.admin.with_wrong_secret(),
            [
                "SignatureDoesNotMatch",
                "SignatureDoesNotMatch",
                "InvalidSignatureException",
            ],
        ),
        (
            "unknown key",
            Keys::unknown(),
            [
                "InvalidClientTokenId",
                "InvalidClientTokenId",
                "UnrecognizedClientException",
            ],
        ),
        (
            "inactive key",
            inactive,
            [
                "InvalidClientTokenId",
                "InvalidClientTokenId",
                "UnrecognizedClientException",
            ],
        ),
        (
            "no permission",
            powerless,
            ["AccessDenied", "AccessDenied", "AccessDeniedException"],
        ),
    ];
    for (case, keys, [sts_code, iam_code, ses_code]) in cases {
        for (operation, service, outcome) in every_operation(&account, &keys).await {
            let expected = match service {
                Service::Sts => sts_code,
                Service::Iam => iam_code,
                Service::Sesv2 => ses_code,
            };
            if case == "no permission" && operation == "GetCallerIdentity" {
                assert_ok("GetCallerIdentity needs no permission", &outcome);
                continue;
            }
            let failure = assert_code(&format!("{case}: {operation}"), &outcome, expected);
            if case == "no permission" {
                let prefix = format!(
                    "User: {} is not authorized to perform: ",
                    account.user_arn("powerless")
                );
                let message = failure.message.unwrap_or_default();
                assert!(message.starts_with(&prefix), "{operation}: {message}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// SMTP interface (email-smtp.<region>.amazonaws.com)
// ---------------------------------------------------------------------------

mod smtp {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use lettre::transport::smtp::authentication::{Credentials, Mechanism};
    use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls};
    use lettre::transport::smtp::extension::ClientId;
    use lettre::transport::smtp::response::Response;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    use super::{SEND_ONLY, SIMULATOR};
    use crate::support::{emulator, smtp_password, smtp_password_v2, Account, Keys, SmtpEndpoint};

    const REGION: &str = "eu-west-1";
    const TIMEOUT: Option<Duration> = Some(Duration::from_secs(20));

    fn message(from: &str, to: &str) -> Message {
        Message::builder()
            .from(from.parse().unwrap())
            .to(to.parse().unwrap())
            .subject("ses-doctor SMTP smoke test")
            .body("Hello from the emulator.".to_string())
            .unwrap()
    }

    /// A TLS-wrapper connection (as port 465), EHLO done, not authenticated.
    async fn connect(endpoint: &SmtpEndpoint) -> AsyncSmtpConnection {
        AsyncSmtpConnection::connect_tokio1(
            (endpoint.host.as_str(), endpoint.tls_port),
            TIMEOUT,
            &ClientId::default(),
            Some(endpoint.tls_parameters()),
            None,
        )
        .await
        .expect("connect to the TLS port")
    }

    async fn auth(
        conn: &mut AsyncSmtpConnection,
        user: &str,
        password: &str,
    ) -> Result<Response, lettre::transport::smtp::Error> {
        let credentials = Credentials::new(user.to_string(), password.to_string());
        conn.auth(&[Mechanism::Plain], &credentials).await
    }

    /// Authenticated with the right password (asserting AUTH's 235), then
    /// MAIL/RCPT/DATA: SES judges the message only at the end of DATA.
    async fn send_after_auth(
        endpoint: &SmtpEndpoint,
        keys: &Keys,
        from: &str,
        to: &str,
    ) -> Result<Response, lettre::transport::smtp::Error> {
        let mut conn = connect(endpoint).await;
        let password = smtp_password(&keys.secret_access_key, REGION);
        let ok = auth(&mut conn, &keys.access_key_id, &password)
            .await
            .expect("AUTH with the right password");
        assert_eq!(ok.code().to_string(), "235");
        let email = message(from, to);
        conn.send(email.envelope(), &email.formatted()).await
    }

    #[track_caller]
    fn assert_554(
        what: &str,
        result: Result<Response, lettre::transport::smtp::Error>,
        text: &str,
    ) {
        let error = result.expect_err(what);
        assert_eq!(
            error.status().map(|c| c.to_string()).as_deref(),
            Some("554"),
            "{what}: {error}"
        );
        assert_eq!(
            error.to_string(),
            format!("permanent error (554): {text}"),
            "{what}"
        );
    }

    /// A sending user (`ses:SendRawEmail`) and `example.com` verified in REGION.
    async fn sender_world() -> (Account, Keys) {
        let account = emulator().new_account();
        let keys = account.create_user_with_key("mailer").await;
        account.put_inline_policy("mailer", "send", SEND_ONLY).await;
        account.create_identity(REGION, "example.com", true).await;
        (account, keys)
    }

    #[tokio::test]
    async fn smtp_right_password_is_accepted_through_data_and_recorded() {
        let (account, keys) = sender_world().await;
        let endpoint = emulator().smtp(REGION);
        assert_eq!(emulator().smtp(REGION), endpoint, "same listeners again");
        let credentials = Credentials::new(
            keys.access_key_id.clone(),
            smtp_password(&keys.secret_access_key, REGION),
        );
        // STARTTLS (587) with AUTH PLAIN, then the TLS wrapper (465) with AUTH LOGIN,
        // through lettre's transport as the product uses it; a verified domain
        // covers its subdomains.
        for (port, tls, mechanism, from) in [
            (
                endpoint.starttls_port,
                Tls::Required(endpoint.tls_parameters()),
                Mechanism::Plain,
                "app@example.com",
            ),
            (
                endpoint.tls_port,
                Tls::Wrapper(endpoint.tls_parameters()),
                Mechanism::Login,
                "news@mail.example.com",
            ),
        ] {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&endpoint.host)
                .port(port)
                .tls(tls)
                .credentials(credentials.clone())
                .authentication(vec![mechanism])
                .timeout(TIMEOUT)
                .build();
            let response = transport
                .send(message(from, SIMULATOR))
                .await
                .unwrap_or_else(|e| panic!("send from {from} on port {port}: {e}"));
            assert_eq!(response.code().to_string(), "250");
            let line = response.first_line().unwrap();
            let id = line.strip_prefix("Ok ").unwrap_or_else(|| panic!("{line}"));
            assert!(
                id.starts_with("0100") && id.ends_with("-000000") && id.len() == 60,
                "{id}"
            );
        }
        let messages = account.smtp_messages();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0]["region"], REGION);
        assert_eq!(messages[0]["mail_from"], "app@example.com");
        assert_eq!(messages[0]["rcpt_to"], serde_json::json!([SIMULATOR]));
        assert!(messages[0]["data"]
            .as_str()
            .unwrap()
            .contains("Subject: ses-doctor SMTP smoke test"));
        assert_eq!(messages[1]["mail_from"], "news@mail.example.com");
        let attempts: Vec<_> = account
            .smtp_auth_attempts()
            .iter()
            .map(|a| format!("{} {}", a["mechanism"], a["outcome"]))
            .collect();
        assert_eq!(attempts, [r#""PLAIN" "ok""#, r#""LOGIN" "ok""#]);
    }

    #[tokio::test]
    async fn smtp_auth_refuses_the_secret_another_regions_password_a_legacy_one_and_an_inactive_key(
    ) {
        let (account, keys) = sender_world().await;
        let endpoint = emulator().smtp(REGION);
        let secret = &keys.secret_access_key;
        let mut conn = connect(&endpoint).await;
        let legacy = "Signature Version 2 is deprecated for use with SES from March 26, 2021.";
        for (password, text) in [
            (secret.clone(), "Authentication Credentials Invalid"),
            (
                smtp_password(secret, "us-east-1"),
                "Authentication Credentials Invalid",
            ),
            (smtp_password_v2(secret), legacy),
        ] {
            let error = auth(&mut conn, &keys.access_key_id, &password)
                .await
                .expect_err(text);
            assert_eq!(
                error.status().map(|c| c.to_string()).as_deref(),
                Some("535")
            );
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("permanent error (535): {text}")),
                "{error}"
            );
        }
        account
            .set_key_active("mailer", &keys.access_key_id, false)
            .await;
        let right = smtp_password(secret, REGION);
        let error = auth(&mut conn, &keys.access_key_id, &right)
            .await
            .expect_err("inactive key");
        assert_eq!(
            error.to_string(),
            "permanent error (535): Authentication Credentials Invalid"
        );

        let attempts = account.smtp_auth_attempts();
        let outcomes: Vec<_> = attempts
            .iter()
            .map(|a| a["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes,
            [
                "secret-as-password",
                "other-region",
                "legacy-v2",
                "inactive-key"
            ]
        );
        assert_eq!(attempts[1]["derived_for"], "us-east-1");
        assert!(account.smtp_messages().is_empty());
    }

    #[tokio::test]
    async fn smtp_unverified_sender_and_sandbox_recipient_are_rejected_at_data_not_at_auth() {
        let (account, keys) = sender_world().await;
        let endpoint = emulator().smtp(REGION);
        let unverified = "Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1:";
        assert_554(
            "unverified sender",
            send_after_auth(&endpoint, &keys, "me@other.example", SIMULATOR).await,
            &format!("{unverified} me@other.example"),
        );
        // The sandbox (the default): recipients must be verified too, but the simulator works.
        assert_554(
            "sandbox recipient",
            send_after_auth(&endpoint, &keys, "app@example.com", "someone@gmail.com").await,
            &format!("{unverified} someone@gmail.com"),
        );
        account.set_ses_account(REGION, true, false);
        assert_554(
            "paused",
            send_after_auth(&endpoint, &keys, "app@example.com", SIMULATOR).await,
            "Message rejected: Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account.",
        );
        account.set_ses_account(REGION, true, true);
        send_after_auth(&endpoint, &keys, "app@example.com", "someone@gmail.com")
            .await
            .expect("production access: any recipient");
        assert_eq!(account.smtp_messages().len(), 1);
    }

    #[tokio::test]
    async fn smtp_without_send_raw_email_is_access_denied_at_data() {
        let account = emulator().new_account();
        let keys = account.create_user_with_key("nosend").await;
        account.create_identity(REGION, "example.com", true).await;
        let endpoint = emulator().smtp(REGION);
        assert_554(
            "no permission",
            send_after_auth(&endpoint, &keys, "app@example.com", SIMULATOR).await,
            &format!(
                "Access denied: User `{}' is not authorized to perform `ses:SendRawEmail' on resource `{}'",
                account.user_arn("nosend"),
                account.identity_arn(REGION, "example.com")
            ),
        );
    }

    #[test]
    fn smtp_auth_before_starttls_is_530() {
        let endpoint = emulator().smtp(REGION);
        let mut stream =
            TcpStream::connect((endpoint.host.as_str(), endpoint.starttls_port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut reply = || {
            let mut lines = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                lines.push_str(&line);
                if line.len() < 4 || line.as_bytes()[3] != b'-' {
                    return lines;
                }
            }
        };
        assert!(reply().starts_with("220 "));
        stream.write_all(b"EHLO client.example\r\n").unwrap();
        let ehlo = reply();
        assert!(
            ehlo.contains("250-STARTTLS") && ehlo.contains("AUTH PLAIN LOGIN"),
            "{ehlo}"
        );
        // base64("\0AKIA...\0password"): any credentials, TLS comes first.
        stream
            .write_all(b"AUTH PLAIN AEFLSUFFWEFNUExFAHBhc3N3b3Jk\r\n")
            .unwrap();
        assert_eq!(reply(), "530 Must issue a STARTTLS command first\r\n");
        stream.write_all(b"QUIT\r\n").unwrap();
    }
}
