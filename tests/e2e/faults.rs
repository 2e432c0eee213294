//! AWS misbehaving, end to end: the real binary through `tests/emulator/fault_proxy.py` in front
//! of the emulator. Throttling, 5xx, answers that cannot be read, hangs, resets after the
//! request was processed, answers that trickle in: each must end the run in bounded time with
//! an honest report (the diagnosis incomplete, exit 3, where AWS could not answer), and none
//! may be blamed on the credentials.

use crate::cli::{Home, Output, Report, Severity, Step, StepId, StepStatus};
use crate::support::{emulator, Account, FaultLogEntry, FaultProxy, Keys};
use crate::worlds::healthy_sender;
use serde_json::{json, Value};
use std::time::Duration;

const REGION_CONFIG: &str = "[profile mailer]\nregion = us-east-1\n";
const REGIONS: &str = "us-east-1,eu-west-1";

/// Findings that blame the credentials: never the verdict when AWS did not answer properly.
const BLAMES_CREDENTIALS: [&str; 5] = [
    "signature-mismatch",
    "access-key-unknown",
    "access-key-inactive",
    "credentials-expired",
    "clock-skew",
];

/// A healthy sender in us-east-1 (the configured region), a home with its key as profile
/// `mailer` and the account's administrator as `admin`, and a proxy of the test's own.
struct World {
    account: Account,
    keys: Keys,
    home: Home,
    proxy: FaultProxy,
}

async fn world() -> World {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        REGION_CONFIG,
    );
    let proxy = emulator().fault_proxy();
    World {
        account,
        keys,
        home,
        proxy,
    }
}

impl World {
    /// `diagnose --output json --profile mailer --admin-profile admin --timeout 3 --regions
    /// <regions>`, through the proxy.
    fn diagnose(&self, regions: &str) -> crate::cli::SesDoctor {
        self.diagnose_with_timeout(regions, "3")
    }

    /// [`World::diagnose`] with another `--timeout` (seconds).
    fn diagnose_with_timeout(&self, regions: &str, timeout: &str) -> crate::cli::SesDoctor {
        self.home
            .command(&self.proxy.endpoint)
            .args([
                "diagnose",
                "--output",
                "json",
                "--profile",
                "mailer",
                "--admin-profile",
                "admin",
                "--timeout",
                timeout,
                "--regions",
                regions,
            ])
            .secret(&self.keys.secret_access_key)
            .secret(&self.account.admin.secret_access_key)
    }

    /// The proxy's log, one line a request, for assertion messages.
    fn traffic(&self) -> String {
        self.proxy
            .log()
            .iter()
            .map(|e| {
                format!(
                    "#{} {} {} {} {} {} {} -> {:?} (fault {:?}, emulator {:?}, {})",
                    e.seq,
                    e.method,
                    e.path,
                    e.service.as_deref().unwrap_or("-"),
                    e.region.as_deref().unwrap_or("-"),
                    e.action.as_deref().unwrap_or("-"),
                    e.access_key_id.as_deref().unwrap_or("-"),
                    e.status,
                    e.fault,
                    e.upstream_status,
                    e.outcome
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The step's finding of `code`, or a failure that shows the whole run.
#[track_caller]
fn finding_in<'a>(
    step: &'a Step,
    code: &str,
    out: &Output,
    traffic: &str,
) -> &'a crate::cli::Finding {
    step.findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| {
            panic!(
                "no finding {code} in step {} ({:?}); its findings: {:?}\n{}\n--- proxy\n{traffic}",
                step.number,
                step.status,
                step.findings.iter().map(|f| &f.code).collect::<Vec<_>>(),
                out.both()
            )
        })
}

#[track_caller]
fn assert_step(report: &Report, id: StepId, status: StepStatus, out: &Output, traffic: &str) {
    let step = report.step(id);
    assert_eq!(
        step.status,
        status,
        "step {} ({id:?}), reason {:?}, findings {:?}\n{}\n--- proxy\n{traffic}",
        step.number,
        step.reason,
        step.findings.iter().map(|f| &f.code).collect::<Vec<_>>(),
        out.both()
    );
}

#[track_caller]
fn assert_code(out: &Output, code: i32, traffic: &str) {
    assert_eq!(
        out.code,
        code,
        "exit code\n{}\n--- proxy\n{traffic}",
        out.both()
    );
}

#[track_caller]
fn assert_none_of(report: &Report, codes: &[&str], out: &Output) {
    let found: Vec<&str> = report
        .codes()
        .into_iter()
        .filter(|c| codes.contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "findings {found:?} must not be reported here\n{}",
        out.both()
    );
}

/// Whether `text` names `what` (case-insensitive).
fn names(text: &str, what: &str) -> bool {
    text.to_lowercase().contains(&what.to_lowercase())
}

fn title_and_evidence(f: &crate::cli::Finding) -> String {
    format!("{}\n{}", f.title, f.all_evidence())
}

// ---------------------------------------------------------------------------
// a. AWS answers every request with an error that is AWS's, not the credentials'
// ---------------------------------------------------------------------------

async fn every_request_fails(status: u16, code: &str) {
    let w = world().await;
    w.proxy.set_rules(json!([{"status": status, "code": code}]));
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(60)).run();
    let traffic = w.traffic();
    assert_code(&out, 3, &traffic);
    let report = out.report();
    assert_eq!(report.summary.outcome, crate::cli::Outcome::Incomplete);

    assert_step(
        &report,
        StepId::Identity,
        StepStatus::Incomplete,
        &out,
        &traffic,
    );
    let identity = report.step(StepId::Identity);
    let f = finding_in(identity, "aws-unavailable", &out, &traffic);
    assert!(
        f.evidence("AWS said").contains(code),
        "AWS said {:?}, not {code}",
        f.evidence("AWS said")
    );
    for step in report.steps.iter().filter(|s| s.number > 1) {
        assert_eq!(
            step.status,
            StepStatus::Skipped,
            "step {} ({:?})\n{}",
            step.number,
            step.id,
            out.both()
        );
        let reason = step
            .reason
            .as_deref()
            .unwrap_or_else(|| panic!("step {} skipped without a reason", step.number));
        assert!(
            !names(reason, "credentials"),
            "step {} blames the credentials: {reason:?}",
            step.number
        );
    }
    let mut forbidden = BLAMES_CREDENTIALS.to_vec();
    forbidden.push("aws-call-failed");
    assert_none_of(&report, &forbidden, &out);

    // The proxy answered everything it saw, with the fault.
    let log = w.proxy.log();
    assert!(!log.is_empty(), "the run never reached the proxy");
    assert!(
        log.iter()
            .all(|e| e.fault.as_deref() == Some("status") && e.status == Some(status)),
        "{traffic}"
    );
}

#[tokio::test]
async fn every_request_throttled() {
    every_request_fails(429, "Throttling").await;
}

#[tokio::test]
async fn every_request_internal_failure() {
    every_request_fails(500, "InternalFailure").await;
}

#[tokio::test]
async fn every_request_service_unavailable() {
    every_request_fails(503, "ServiceUnavailable").await;
}

// ---------------------------------------------------------------------------
// b. STS answers GetCallerIdentity with something that cannot be read
// ---------------------------------------------------------------------------

async fn caller_identity_unreadable(rule: Value) {
    let w = world().await;
    let mut rule = rule;
    rule["service"] = json!("sts");
    rule["action"] = json!("GetCallerIdentity");
    w.proxy.set_rules(json!([rule]));
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(60)).run();
    let traffic = w.traffic();
    let report = out.report();
    assert_none_of(&report, &["credentials-valid"], &out);
    assert_code(&out, 3, &traffic);
    assert_step(
        &report,
        StepId::Identity,
        StepStatus::Incomplete,
        &out,
        &traffic,
    );
    let f = finding_in(
        report.step(StepId::Identity),
        "aws-call-failed",
        &out,
        &traffic,
    );
    assert!(
        names(f.evidence("AWS said"), "could not be read"),
        "AWS said {:?}\n{}",
        f.evidence("AWS said"),
        out.both()
    );
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);
    assert!(
        w.proxy
            .log()
            .iter()
            .any(|e| e.action.as_deref() == Some("GetCallerIdentity") && e.fault.is_some()),
        "{traffic}"
    );
}

#[tokio::test]
async fn caller_identity_truncated() {
    caller_identity_unreadable(json!({"truncate": 60})).await;
}

#[tokio::test]
async fn caller_identity_malformed() {
    caller_identity_unreadable(json!({"body": "<GetCallerIdentityResponse><oops"})).await;
}

#[tokio::test]
async fn caller_identity_empty() {
    let body = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
                \x20 <GetCallerIdentityResult>\n\
                \x20   <Arn></Arn>\n\
                \x20   <UserId>AIDAEXAMPLEEXAMPLE01</UserId>\n\
                \x20   <Account></Account>\n\
                \x20 </GetCallerIdentityResult>\n\
                \x20 <ResponseMetadata>\n\
                \x20   <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n\
                \x20 </ResponseMetadata>\n\
                </GetCallerIdentityResponse>\n";
    caller_identity_unreadable(json!({ "body": body })).await;
}

// ---------------------------------------------------------------------------
// c. IAM hangs: the permissions check cannot finish, STS still answers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn iam_hanging() {
    let w = world().await;
    w.proxy.set_rules(json!([{"service": "iam", "hang": true}]));
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(60)).run();
    let traffic = w.traffic();
    assert_code(&out, 3, &traffic);
    let report = out.report();
    assert_step(
        &report,
        StepId::Identity,
        StepStatus::Passed,
        &out,
        &traffic,
    );
    assert_step(
        &report,
        StepId::Permissions,
        StepStatus::Incomplete,
        &out,
        &traffic,
    );
    let f = finding_in(
        report.step(StepId::Permissions),
        "endpoint-unreachable",
        &out,
        &traffic,
    );
    assert!(
        title_and_evidence(f).contains("IAM"),
        "IAM is not named: {}\n{}",
        title_and_evidence(f),
        out.both()
    );
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);
    assert!(
        w.proxy
            .log()
            .iter()
            .any(|e| e.service.as_deref() == Some("iam") && e.fault.as_deref() == Some("hang")),
        "{traffic}"
    );
}

// ---------------------------------------------------------------------------
// d. SES took SendEmail, then the connection was reset: was it sent?
// ---------------------------------------------------------------------------

#[tokio::test]
async fn send_email_reset_after_ses_received_it() {
    let w = world().await;
    w.proxy.set_rules(json!([
        {"service": "ses", "action": "SendEmail", "reset_after_forward": true}
    ]));
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(60)).run();
    let traffic = w.traffic();
    assert_code(&out, 3, &traffic);
    let report = out.report();
    assert_step(
        &report,
        StepId::TestEmail,
        StepStatus::Incomplete,
        &out,
        &traffic,
    );
    let test_email = report.step(StepId::TestEmail);
    let f = finding_in(test_email, "test-email-unconfirmed", &out, &traffic);
    assert!(
        names(&f.title, "unknown") && names(&f.title, "sent"),
        "the title does not say it is unknown whether the message was sent: {:?}",
        f.title
    );
    assert!(
        !test_email
            .findings
            .iter()
            .any(|f| f.code == "endpoint-unreachable"),
        "SES was reached (it took the message): {:?}\n{}",
        test_email
            .findings
            .iter()
            .map(|f| &f.code)
            .collect::<Vec<_>>(),
        out.both()
    );
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);
    // SES did take it: the emulator answered 200 before the proxy reset the connection.
    let log = w.proxy.log();
    assert!(
        log.iter().any(|e| e.action.as_deref() == Some("SendEmail")
            && e.outcome == "reset"
            && e.upstream_status == Some(200)),
        "{traffic}"
    );
}

// ---------------------------------------------------------------------------
// e. STS hangs: --timeout bounds the whole call, retries included
// ---------------------------------------------------------------------------

#[tokio::test]
async fn caller_identity_hanging_costs_the_timeout() {
    let w = world().await;
    w.proxy.set_rules(json!([
        {"service": "sts", "action": "GetCallerIdentity", "hang": true}
    ]));
    let started = std::time::Instant::now();
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(20)).run();
    let elapsed = started.elapsed();
    let traffic = w.traffic();
    assert_code(&out, 3, &traffic);
    let report = out.report();
    assert_step(
        &report,
        StepId::Identity,
        StepStatus::Incomplete,
        &out,
        &traffic,
    );
    let f = finding_in(
        report.step(StepId::Identity),
        "endpoint-unreachable",
        &out,
        &traffic,
    );
    assert!(
        f.all_evidence().contains("3 s"),
        "the evidence does not give the 3 s timeout: {}\n(run took {elapsed:?})",
        f.all_evidence()
    );
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);
}

// ---------------------------------------------------------------------------
// f. Some regions of the scan misbehave; the configured one answers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn faulty_regions_do_not_stop_the_scan() {
    let w = world().await;
    w.proxy.set_rules(json!([
        {"service": "ses", "region": "eu-west-1", "status": 500},
        {"service": "ses", "region": "us-west-2", "trickle_ms": 400},
        {"service": "ses", "region": "ap-south-1", "hang": true},
    ]));
    let out = w
        .diagnose("us-east-1,eu-west-1,us-west-2,ap-south-1")
        .deadline(Duration::from_secs(90))
        .run();
    let traffic = w.traffic();
    assert!(
        out.code == 0 || out.code == 1,
        "the configured region answered: the diagnosis completes (exit 0 or 1), not {}\n{}\n--- proxy\n{traffic}",
        out.code,
        out.both()
    );
    let report = out.report();
    let region = report.step(StepId::Region);
    let unreachable: Vec<_> = region
        .findings
        .iter()
        .filter(|f| f.code == "endpoint-unreachable")
        .collect();
    for faulty in ["eu-west-1", "us-west-2", "ap-south-1"] {
        let f = unreachable
            .iter()
            .find(|f| title_and_evidence(f).contains(faulty))
            .unwrap_or_else(|| {
                panic!(
                    "no endpoint-unreachable finding of step 2 names {faulty}; step 2: {:?} {:?}\n{}\n--- proxy\n{traffic}",
                    region.status,
                    region
                        .findings
                        .iter()
                        .map(|f| format!("{}: {}", f.code, title_and_evidence(f)))
                        .collect::<Vec<_>>(),
                    out.both()
                )
            });
        assert_eq!(f.severity, Severity::Warning, "{faulty}: {}", f.title);
    }
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);
}

// ---------------------------------------------------------------------------
// f2. One region never answers: given up on a grace after the others, not after --timeout
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_silent_region_does_not_hold_the_diagnosis_for_the_timeout() {
    let w = world().await;
    w.proxy.set_rules(json!([
        {"service": "ses", "region": "ap-south-1", "hang": true},
    ]));
    // --timeout 60 and a deadline well under it: a run that waited the whole timeout for
    // ap-south-1 is killed, and the test fails on that, not on a measured time.
    let out = w
        .diagnose_with_timeout("us-east-1,eu-west-1,ap-south-1", "60")
        .deadline(Duration::from_secs(40))
        .run();
    let traffic = w.traffic();
    assert_code(&out, 0, &traffic);
    let report = out.report();
    assert_step(&report, StepId::Region, StepStatus::Warning, &out, &traffic);
    let region = report.step(StepId::Region);
    let silent: Vec<_> = region
        .findings
        .iter()
        .filter(|f| f.code == "endpoint-unreachable")
        .collect();
    assert_eq!(
        silent.len(),
        1,
        "one region is silent: {:?}\n{}",
        silent.iter().map(|f| &f.title).collect::<Vec<_>>(),
        out.both()
    );
    let f = silent[0];
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        f.title,
        "SES in ap-south-1 did not answer; its identities are unknown"
    );
    assert_eq!(f.evidence("region"), "ap-south-1");
    let said = f.evidence("error");
    assert!(
        said.starts_with("no answer within") && said.contains("the other regions answered within"),
        "the evidence does not say it was given up on after the others answered: {said}"
    );
    assert!(
        !said.contains("60 s"),
        "the region was waited for the whole timeout: {said}"
    );
    // The configured region answered, and the others were scanned.
    assert!(
        report
            .finding("region-ok")
            .evidence("scanned")
            .contains("1 did not answer"),
        "{}",
        out.both()
    );
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);
}

// ---------------------------------------------------------------------------
// g. Throttling that passes: the SDK's retries get through
// ---------------------------------------------------------------------------

#[tokio::test]
async fn throttling_that_passes_is_retried() {
    let w = world().await;
    w.proxy.set_rules(json!([
        {"service": "sts", "status": 429, "code": "Throttling", "times": 2}
    ]));
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(60)).run();
    let traffic = w.traffic();
    assert_code(&out, 0, &traffic);
    let report = out.report();
    assert_eq!(report.summary.outcome, crate::cli::Outcome::Clean);
    assert_none_of(&report, &BLAMES_CREDENTIALS, &out);

    // Both throttled requests were tried again, with the same key, and answered.
    let log: Vec<FaultLogEntry> = w.proxy.log();
    let throttled: Vec<&FaultLogEntry> = log
        .iter()
        .filter(|e| e.fault.as_deref() == Some("status"))
        .collect();
    assert_eq!(throttled.len(), 2, "{traffic}");
    for t in throttled {
        assert_eq!(t.status, Some(429));
        assert!(
            log.iter().any(|e| e.seq > t.seq
                && e.fault.is_none()
                && e.status == Some(200)
                && e.action == t.action
                && e.access_key_id == t.access_key_id),
            "#{} {:?} was not retried to success\n{traffic}",
            t.seq,
            t.action
        );
    }
}

// ---------------------------------------------------------------------------
// The harness itself: without rules the proxy changes nothing
// ---------------------------------------------------------------------------

#[tokio::test]
async fn without_rules_the_proxy_is_transparent() {
    let w = world().await;
    let out = w.diagnose(REGIONS).deadline(Duration::from_secs(60)).run();
    let traffic = w.traffic();
    assert_code(&out, 0, &traffic);
    let log = w.proxy.log();
    assert!(
        log.iter()
            .all(|e| e.fault.is_none() && e.outcome == "answered" && e.status == e.upstream_status),
        "{traffic}"
    );
    let saw = |service: &str, action: &str| {
        log.iter().any(|e| {
            e.service.as_deref() == Some(service)
                && e.action.as_deref() == Some(action)
                && e.account.as_deref() == Some(w.account.id.as_str())
        })
    };
    for (service, action) in [
        ("sts", "GetCallerIdentity"),
        ("ses", "GetAccount"),
        ("ses", "ListEmailIdentities"),
        ("iam", "SimulatePrincipalPolicy"),
        ("ses", "SendEmail"),
    ] {
        assert!(saw(service, action), "no {service} {action}:\n{traffic}");
    }
}

/// The SDK the product uses decodes the proxy's errors as AWS's own: the code from the awsQuery
/// XML (STS, IAM) and from `x-amzn-ErrorType` (SES v2); requests no rule matches pass; `times`
/// wears out; the log classifies each request (service, region, action, account).
#[tokio::test]
async fn proxy_errors_decode_as_aws_errors() {
    use crate::support::error_code;
    let account = emulator().new_account();
    let proxy = emulator().fault_proxy();
    proxy.set_rules(json!([
        {"service": "sts", "status": 429, "code": "Throttling", "times": 1},
        {"service": "iam", "action": ["ListUsers", "GetUser"], "status": 503},
        {"service": "ses", "region": "eu-west-1", "action": "GetAccount", "status": 500},
    ]));
    // One attempt, no retries (Account::sdk_config), through the proxy.
    let conf = account.sdk_config(&account.admin, "eu-west-1");
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&conf)
            .endpoint_url(&proxy.endpoint)
            .build(),
    );
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&conf)
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&proxy.endpoint)
            .build(),
    );
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&conf)
            .endpoint_url(&proxy.endpoint)
            .build(),
    );
    let code = |c: &str, m: &str| Some((Some(c.to_owned()), Some(m.to_owned())));

    let first = sts.get_caller_identity().send().await;
    assert_eq!(error_code(&first), code("Throttling", "Rate exceeded"));
    let second = sts.get_caller_identity().send().await;
    assert_eq!(error_code(&second), None, "times: 1 is used up");
    assert_eq!(
        error_code(&iam.list_users().send().await),
        code(
            "ServiceUnavailable",
            "Service is unavailable. Please try again later."
        )
    );
    assert_eq!(error_code(&iam.list_groups().send().await), None);
    assert_eq!(
        error_code(&ses.get_account().send().await),
        code(
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure."
        )
    );
    assert_eq!(error_code(&ses.list_email_identities().send().await), None);

    // "service region action status fault" per request.
    let seen: Vec<String> = proxy
        .log()
        .into_iter()
        .map(|e| {
            assert_eq!(e.account.as_deref(), Some(account.id.as_str()), "{e:?}");
            assert_eq!(
                e.access_key_id.as_deref(),
                Some(account.admin.access_key_id.as_str())
            );
            format!(
                "{} {} {} {} {}",
                e.service.unwrap_or_default(),
                e.region.unwrap_or_default(),
                e.action.unwrap_or_default(),
                e.status.map(|s| s.to_string()).unwrap_or_default(),
                e.fault.unwrap_or_else(|| "-".into())
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "sts eu-west-1 GetCallerIdentity 429 status",
            "sts eu-west-1 GetCallerIdentity 200 -",
            "iam us-east-1 ListUsers 503 status",
            "iam us-east-1 ListGroups 200 -",
            "ses eu-west-1 GetAccount 500 status",
            "ses eu-west-1 ListEmailIdentities 200 -",
        ]
    );
}

/// One HTTP/1.1 exchange on a connection of its own (`Connection: close`): the head, and the
/// body as framed by Content-Length.
fn exchange(endpoint: &str, request: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let authority = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect to the proxy");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("an answer, then the connection closed");
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&response)));
    let head = String::from_utf8_lossy(&response[..at]).into_owned();
    let body = response[at + 4..].to_vec();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no Content-Length in {head}"));
    assert_eq!(
        length,
        body.len(),
        "Content-Length is what was sent: {head}"
    );
    (head, body)
}

/// An STS request as the wire carries it, signed (badly) with `key_id` for `region`.
fn sts_request(endpoint: &str, key_id: &str, region: &str) -> String {
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         X-Amz-Date: 20250101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential={key_id}/20250101/{region}/sts/aws4_request, SignedHeaders=host, \
         Signature=00\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        endpoint.trim_start_matches("http://"),
        body.len()
    )
}

/// `truncate` sends a complete message with a cut body; `hang` holds a request until the rules
/// change, then forwards it; the log follows.
#[test]
fn proxy_truncates_and_releases_on_the_wire() {
    let account = emulator().new_account();
    let proxy = emulator().fault_proxy();
    let request = sts_request(&proxy.endpoint, &account.admin.access_key_id, "us-east-1");

    // Untouched: the emulator's answer to a bad signature.
    let (head, whole) = exchange(&proxy.endpoint, &request);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(
        String::from_utf8_lossy(&whole).contains("SignatureDoesNotMatch"),
        "{}",
        String::from_utf8_lossy(&whole)
    );

    proxy.set_rules(json!([{"service": "sts", "truncate": 14}]));
    let (head, cut) = exchange(&proxy.endpoint, &request);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert_eq!(cut, whole[..14].to_vec());

    proxy.set_rules(json!([{"account": account.id.clone(), "hang": true}]));
    let endpoint = proxy.endpoint.clone();
    let held = std::thread::spawn(move || exchange(&endpoint, &request));
    let pending = |proxy: &FaultProxy| {
        proxy
            .log()
            .last()
            .is_some_and(|e| e.fault.as_deref() == Some("hang") && e.outcome == "pending")
    };
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !pending(&proxy) {
        assert!(std::time::Instant::now() < until, "{:?}", proxy.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(!held.is_finished(), "a hanging request was answered");
    proxy.clear();
    let (head, _) = held
        .join()
        .expect("the held request is answered once released");
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let last = proxy.log().pop().unwrap();
    assert_eq!(
        (last.outcome.as_str(), last.status, last.upstream_status),
        ("released", Some(403), Some(403))
    );
}

/// A rule the proxy cannot apply is refused whole (400), and the rules stay as they were.
#[test]
fn proxy_refuses_bad_rules() {
    let proxy = emulator().fault_proxy();
    proxy.set_rules(json!([{"service": "sts", "status": 429}]));
    for bad in [
        json!({"service": "sts"}),
        json!([{"status": 429, "hang": true}]),
        json!([{"status": 200}]),
        json!([{"truncate": -1}]),
        json!([{"hang": true, "servce": "iam"}]),
        json!([{"hang": true, "times": 0}]),
        json!([{"body": "x", "code": "Throttling"}]),
    ] {
        let response = exchange(
            &proxy.endpoint,
            &format!(
                "POST /_fault/rules HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{bad}",
                bad.to_string().len()
            ),
        );
        assert!(
            response.0.starts_with("HTTP/1.1 400"),
            "{bad}: {response:?}"
        );
    }
    let (_, rules) = exchange(
        &proxy.endpoint,
        "GET /_fault/rules HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n",
    );
    let rules: Value = serde_json::from_slice(&rules).unwrap();
    assert_eq!(
        rules,
        json!([{"service": "sts", "status": 429, "applied": 0}])
    );
}

/// The guarantee the harness relies on: the proxy exits as soon as its stdin closes, even with
/// a request held by a hang.
#[test]
fn proxy_exits_when_its_stdin_closes() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let emulator = emulator();
    let mut child = Command::new(&emulator.python)
        .arg(crate::support::fault_proxy_script())
        .arg(&emulator.endpoint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the fault proxy");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    let rules = r#"[{"hang": true}]"#;
    exchange(
        &endpoint,
        &format!(
            "POST /_fault/rules HTTP/1.1\r\nHost: proxy\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{rules}",
            rules.len()
        ),
    );
    let authority = endpoint.trim_start_matches("http://").to_owned();
    let mut held = std::net::TcpStream::connect(&authority).unwrap();
    held.write_all(b"GET /anything HTTP/1.1\r\nHost: proxy\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    drop(child.stdin.take());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fault proxy still running 10 s after stdin closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(held);
}
