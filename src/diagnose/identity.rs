//! Step 1: who do these credentials belong to? STS `GetCallerIdentity` needs no permission and
//! cannot be denied, so its failure is about the credentials themselves. Every failure is
//! classified; with separate admin credentials the cause is pinned through IAM and STS.

use crate::aws_setup::{Clients, DEFAULT_REGION};
use crate::codes::Code;
use crate::concurrent::alongside;
use crate::diagnose::aws_errors;
use crate::report::{Finding, Fix, Severity, Step, StepId};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// AWS rejects requests signed more than 5 minutes from its clock.
const SKEW_LIMIT_SECS: i64 = 300;
/// Worth a warning before it starts failing.
const SKEW_WARN_SECS: i64 = 120;

/// Whose credentials these are, once STS has said.
#[derive(Clone, Debug)]
pub struct Caller {
    pub arn: String,
    pub account: String,
    /// The IAM user name when the ARN is an IAM user's.
    pub user_name: Option<String>,
    /// The role name when the credentials are an assumed role's
    /// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    pub role_name: Option<String>,
}

impl Caller {
    fn from_arn(arn: String, account: String) -> Self {
        let user_name = arn
            .split_once(":user/")
            .map(|(_, path)| path.rsplit('/').next().unwrap_or(path).to_owned());
        let role_name = arn
            .split_once(":assumed-role/")
            .and_then(|(_, rest)| rest.split('/').next())
            .map(str::to_owned);
        Caller {
            arn,
            account,
            user_name,
            role_name,
        }
    }

    pub fn is_root(&self) -> bool {
        self.arn.ends_with(":root")
    }
}

pub struct IdentityInput<'a> {
    pub sending: &'a dyn Clients,
    /// Admin credentials, when different from the sending ones.
    pub admin: Option<&'a dyn Clients>,
    pub key_id: &'a str,
}

pub struct IdentityOutcome {
    pub step: Step,
    pub caller: Option<Caller>,
    /// When the key was rejected and admin credentials found its IAM user.
    pub key_owner: Option<String>,
}

pub async fn check(input: IdentityInput<'_>) -> IdentityOutcome {
    let mut step = Step::new(StepId::Identity);
    let mut propagated_after: Option<std::time::Duration> = None;
    // The admin credentials' own caller does not depend on the sending key's answer: asked at
    // the same time, and awaited only where it is needed (dropped when STS gave no answer).
    let (sent, mut admin_started) = match input.admin {
        Some(admin) => {
            let (sent, admin_said) = alongside(
                call(input.sending, DEFAULT_REGION),
                call(admin, DEFAULT_REGION),
            )
            .await;
            (sent, Some(admin_said))
        }
        None => (call(input.sending, DEFAULT_REGION).await, None),
    };
    let caller = 'found: {
        match sent {
            Ok((caller, date)) => {
                if let Some(f) = skew_finding(date.as_deref(), SystemTime::now(), true) {
                    step.push(f);
                }
                caller
            }
            Err(failure) => {
                let mut key_owner = None;
                let mut finding = classify(&failure, input.key_id, SystemTime::now());
                if let Failure::Trouble(t) = &failure {
                    finding = aws_errors::finding_for(t, "STS", input.sending);
                    step.mark_incomplete(format!(
                        "{} (nothing is concluded about the credentials)",
                        finding.title
                    ));
                } else if let Some(admin) = input.admin {
                    let admin_said = async {
                        match admin_started.take() {
                            Some(started) => started.finish().await,
                            None => call(admin, DEFAULT_REGION).await,
                        }
                    };
                    let pinned = pin_with_admin(admin, input.key_id, finding, admin_said).await;
                    // IAM has the key, active, but STS does not know it yet: a new key that IAM has
                    // not finished spreading. Wait for it (bounded) instead of calling it unknown.
                    if pinned.finding.code == Code::AccessKeyUnknown
                        && pinned.status.as_deref() == Some("Active")
                    {
                        if let Some((caller, waited)) = wait_for_propagation(input.sending).await {
                            propagated_after = Some(waited);
                            break 'found caller;
                        }
                    }
                    finding = pinned.finding;
                    key_owner = pinned.owner;
                }
                step.push(finding);
                return IdentityOutcome {
                    step,
                    caller: None,
                    key_owner,
                };
            }
        }
    };

    if caller.is_root() {
        step.push(root_finding(&caller));
    } else {
        step.push(
            Finding::new(
                Code::CredentialsValid,
                Severity::Pass,
                format!("AWS accepted the key: it belongs to {}", caller.arn),
            )
            .explain("The access key ID and secret are valid and active.")
            .evidence("caller", &caller.arn)
            .evidence("account", &caller.account),
        );
        if let Some(waited) = propagated_after {
            if let Some(f) = step.findings.last_mut() {
                f.note(
                    "accepted after",
                    format!(
                        "{} s: the key is new, and IAM takes seconds to spread it",
                        waited.as_secs()
                    ),
                );
            }
        }
    }

    if let Some(admin) = input.admin {
        let admin_said = match admin_started.take() {
            Some(started) => started.finish().await,
            // Used by the look-up of a rejected key that then turned out to be new.
            None => call(admin, DEFAULT_REGION).await,
        };
        match admin_said {
            Ok((admin_caller, _)) if admin_caller.account != caller.account => {
                step.push(other_account(
                    input.key_id,
                    &caller.account,
                    &admin_caller.account,
                ));
            }
            Ok(_) => {}
            Err(failure) => step.push(admin_failed(&failure)),
        }
    }
    IdentityOutcome {
        step,
        caller: Some(caller),
        key_owner: None,
    }
}

/// A failed AWS call, reduced to what the classification needs.
#[derive(Debug)]
pub(crate) enum Failure {
    Service {
        code: String,
        message: String,
        /// The server's `Date` header: its clock.
        date: Option<String>,
    },
    /// No usable answer: no answer at all, throttling or a server error, an unreadable answer.
    Trouble(aws_errors::Trouble),
    Other(String),
}

impl Failure {
    pub(crate) fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(
        err: &SdkError<E, HttpResponse>,
    ) -> Self {
        if let Some(t) = aws_errors::trouble(err) {
            return Failure::Trouble(t);
        }
        match err {
            SdkError::ServiceError(service) => Failure::Service {
                code: service.err().code().unwrap_or("unknown").to_owned(),
                message: service.err().message().unwrap_or_default().to_owned(),
                date: service.raw().headers().get("date").map(str::to_owned),
            },
            _ => Failure::Other(crate::exit::error_chain(err)),
        }
    }
}

pub(crate) async fn call(
    clients: &dyn Clients,
    region: &str,
) -> Result<(Caller, Option<String>), Failure> {
    let recorder = DateRecorder::default();
    let result = clients
        .sts(region)
        .get_caller_identity()
        .customize()
        .interceptor(recorder.clone())
        .send()
        .await;
    match result {
        Ok(out) => {
            let (arn, account) = (
                out.arn().unwrap_or_default(),
                out.account().unwrap_or_default(),
            );
            // An answer without a caller is no answer: never take it for a valid key.
            let arn_ok = arn.starts_with("arn:") && arn.split(':').count() >= 6;
            let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
            if !(arn_ok && account_ok) {
                return Err(Failure::Trouble(aws_errors::Trouble::Unreadable(format!(
                    "GetCallerIdentity answered without a caller (Arn {arn:?}, Account {account:?})"
                ))));
            }
            Ok((
                Caller::from_arn(arn.to_owned(), account.to_owned()),
                recorder.get(),
            ))
        }
        Err(e) => Err(Failure::from_sdk(&e)),
    }
}

/// Polls STS with the same credentials for up to about 30 s.
async fn wait_for_propagation(clients: &dyn Clients) -> Option<(Caller, std::time::Duration)> {
    let start = std::time::Instant::now();
    for delay in [1u64, 1, 2, 2, 3, 5, 8, 8] {
        tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
        if let Ok((caller, _)) = call(clients, DEFAULT_REGION).await {
            return Some((caller, start.elapsed()));
        }
    }
    None
}

/// Records the `Date` header of the response, which is AWS's clock.
#[derive(Clone, Debug, Default)]
struct DateRecorder(Arc<Mutex<Option<String>>>);

impl DateRecorder {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|d| d.clone())
    }
}

impl Intercept for DateRecorder {
    fn name(&self) -> &'static str {
        "DateRecorder"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let (Some(date), Ok(mut slot)) =
            (context.response().headers().get("date"), self.0.lock())
        {
            *slot = Some(date.to_owned());
        }
        Ok(())
    }
}

/// Seconds by which AWS's clock (from `Date`) is ahead of ours; negative if ours is ahead.
fn skew_seconds(server_date: &str, now: SystemTime) -> Option<i64> {
    let server = DateTime::from_str(server_date, Format::HttpDate).ok()?;
    let local = DateTime::from(now);
    Some(server.secs() - local.secs())
}

fn skew_finding(server_date: Option<&str>, now: SystemTime, accepted: bool) -> Option<Finding> {
    let skew = skew_seconds(server_date?, now)?;
    let limit = if accepted {
        SKEW_WARN_SECS
    } else {
        SKEW_LIMIT_SECS
    };
    if skew.abs() <= limit {
        return None;
    }
    let direction = if skew > 0 { "behind" } else { "ahead of" };
    let (severity, title) = if skew.abs() > SKEW_LIMIT_SECS {
        (
            Severity::Error,
            format!(
                "This computer's clock is {} {direction} AWS's: signatures are rejected",
                human_duration(skew.unsigned_abs())
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "This computer's clock is {} {direction} AWS's; at 5 minutes requests start failing",
                human_duration(skew.unsigned_abs())
            ),
        )
    };
    Some(
        Finding::new(Code::ClockSkew, severity, title)
            .explain(
                "Every AWS request is signed with the current time, and AWS rejects signatures more \
                 than 5 minutes from its own clock, whatever the key. The AWS SDKs do not correct \
                 for this themselves.",
            )
            .evidence("AWS time (Date header)", server_date?)
            .evidence("local time", DateTime::from(now).fmt(Format::HttpDate).unwrap_or_default())
            .fix(
                Fix::manual("Synchronise the clock of the machine that sends the mail with NTP")
                    .command("sudo timedatectl set-ntp true"),
            ),
    )
}

fn human_duration(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} seconds"),
        120..=7199 => format!("{} minutes", secs / 60),
        _ => format!("{} hours", secs / 3600),
    }
}

/// The finding for a failed GetCallerIdentity with the sending credentials.
pub(crate) fn classify(failure: &Failure, key_id: &str, now: SystemTime) -> Finding {
    match failure {
        Failure::Service {
            code,
            message,
            date,
        } => {
            // A skewed clock breaks every signature; say so before blaming the key.
            if let Some(f) = skew_finding(date.as_deref(), now, false) {
                return f.evidence("AWS said", format!("{code}: {message}"));
            }
            match code.as_str() {
                "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" => {
                    access_key_unknown(key_id, code, message)
                }
                "SignatureDoesNotMatch" | "IncompleteSignature"
                    if message.contains("Signature expired")
                        || message.contains("not yet current") =>
                {
                    Finding::new(
                        Code::ClockSkew,
                        Severity::Error,
                        "AWS rejected the request as signed at the wrong time: this computer's clock is off",
                    )
                    .explain(
                        "AWS rejects signatures more than 5 minutes from its own clock, whatever the key.",
                    )
                    .evidence("AWS said", format!("{code}: {message}"))
                    .fix(
                        Fix::manual("Synchronise the clock of the machine that sends the mail with NTP")
                            .command("sudo timedatectl set-ntp true"),
                    )
                }
                // Checked before the secret is blamed: AWS refuses the credential scope's
                // region before it looks at the signature.
                "SignatureDoesNotMatch" | "InvalidSignatureException"
                    if message.to_ascii_lowercase().contains("scoped to a valid region") =>
                {
                    signing_region_mismatch(code, message)
                }
                "SignatureDoesNotMatch" => signature_mismatch(key_id, code, message),
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
                    Finding::new(
                        Code::CredentialsExpired,
                        Severity::Error,
                        "The temporary credentials have expired",
                    )
                    .explain(
                        "Session tokens (from SSO, an assumed role or GetSessionToken) last from 15 \
                         minutes to 36 hours. A mailer needs long-term IAM user keys, or a role its \
                         platform refreshes for it.",
                    )
                    .evidence("access key ID", key_id)
                    .evidence("AWS said", format!("{code}: {message}"))
                    .fix(Fix::manual(
                        "Refresh the credentials (for SSO: `aws sso login`), or give the mailer an IAM user's access key",
                    ))
                }
                _ => aws_call_failed(&format!("{code}: {message}")),
            }
        }
        Failure::Trouble(t) => aws_errors::finding(t, "STS", None),
        Failure::Other(msg) => aws_call_failed(msg),
    }
}

fn aws_call_failed(detail: &str) -> Finding {
    Finding::new(
        Code::AwsCallFailed,
        Severity::Error,
        "AWS STS rejected the request with an error ses-doctor does not recognise",
    )
    .explain("The raw error is below; `ses-doctor explain` may know more about it.")
    .evidence("AWS said", detail)
}

fn access_key_unknown(key_id: &str, code: &str, message: &str) -> Finding {
    Finding::new(
        Code::AccessKeyUnknown,
        Severity::Error,
        format!("AWS does not recognise the access key {key_id}"),
    )
    .explain(
        "AWS answers \"The security token included in the request is invalid\" when the key ID \
         does not exist: it was deleted, mistyped, is deactivated, or belongs to another \
         partition (China, GovCloud). Give ses-doctor admin credentials (--admin-profile) to \
         tell these apart.",
    )
    .evidence("access key ID", key_id)
    .evidence("AWS said", format!("{code}: {message}"))
    .fix(Fix::manual(
        "Compare the key ID with the one in the IAM console (IAM > Users > Security credentials); if the key is gone, create a new one",
    ))
}

/// "Credential should be scoped to a valid region, not 'us-east-1'": the region the request was
/// signed for is not the endpoint's. Its usual cause is an endpoint override (AWS_ENDPOINT_URL_STS,
/// a profile's endpoint_url) of another region than the region setting.
fn signing_region_mismatch(code: &str, message: &str) -> Finding {
    let signed = message
        .split_once("not '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(region, _)| region.to_owned());
    let mut f = Finding::new(
        Code::SigningRegionMismatch,
        Severity::Error,
        match &signed {
            Some(r) => format!("The request was signed for {r}, but the endpoint it went to is another region's"),
            None => "The request was signed for another region than the endpoint's".to_owned(),
        },
    )
    .explain(
        "AWS checks that a request is signed for the region of the endpoint it is sent to before          it looks at the key, so the key and the secret are not at fault: do not replace them.          An endpoint override (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SES, a profile's          endpoint_url, a client's endpoint setting) names a regional endpoint of another region          than the region the client signs for. ses-doctor signs its STS check for us-east-1, the          global endpoint's region.",
    )
    .evidence("AWS said", format!("{code}: {message}"));
    if let Some(r) = &signed {
        f = f.evidence("signed for", r);
    }
    f.fix(Fix::manual(
        "Make the endpoint and the region agree: remove the endpoint override (the SDK then picks the region's own endpoint), or point it at the endpoint of the region the client signs for",
    ))
}

fn signature_mismatch(key_id: &str, code: &str, message: &str) -> Finding {
    Finding::new(
        Code::SignatureMismatch,
        Severity::Error,
        format!("AWS knows the key {key_id}, but the secret does not match it"),
    )
    .explain(
        "The secret access key is wrong: truncated when copied, with stray whitespace or quotes, \
         the secret of another key, or an SMTP password. AWS shows a secret only once, when the \
         key is created; if it is lost, create a new key.",
    )
    .evidence("access key ID", key_id)
    .evidence("AWS said", format!("{code}: {message}"))
    .fix(Fix::manual(
        "Copy the secret again from where it was saved when the key was created; if it is lost, create a new access key",
    ))
}

fn root_finding(caller: &Caller) -> Finding {
    Finding::new(
        Code::RootCredentials,
        Severity::Error,
        "These are the root user's access keys",
    )
    .explain(
        "Root keys can do anything in the account and cannot be limited by policies; AWS advises \
         never to create them. Send mail with an IAM user that may only send email, and delete \
         the root keys.",
    )
    .evidence("caller", &caller.arn)
    .fix(Fix::manual(
        "Create an IAM user for sending (ses-doctor will offer this), then delete the root access keys in the console (account menu > Security credentials)",
    ))
}

fn other_account(key_id: &str, key_account: &str, admin_account: &str) -> Finding {
    Finding::new(
        Code::AccessKeyOtherAccount,
        Severity::Error,
        format!("The key {key_id} belongs to account {key_account}, not {admin_account}"),
    )
    .explain(
        "The admin credentials are for another AWS account than the sending key. Identities, \
         permissions and sending limits are per account: the mailer's key must come from the \
         account where SES is set up.",
    )
    .evidence("key's account", key_account)
    .evidence("admin account", admin_account)
    .fix(Fix::manual(format!(
        "Create an access key for an IAM user in account {admin_account} and give it to the mailer, or pass the right --admin-profile"
    )))
}

fn admin_failed(failure: &Failure) -> Finding {
    let detail = match failure {
        Failure::Service { code, message, .. } => format!("{code}: {message}"),
        Failure::Trouble(t) => aws_errors::finding(t, "STS", None).title,
        Failure::Other(m) => m.clone(),
    };
    Finding::new(
        Code::AdminCredentialsFailed,
        Severity::Warning,
        "The admin credentials were rejected; causes that need IAM could not be pinned down",
    )
    .explain("Run `ses-doctor diagnose --profile <admin profile>` to see what is wrong with them.")
    .evidence("AWS said", detail)
}

/// With admin credentials, turn "AWS does not accept this key" into the precise cause: which
/// account owns it, whether it was deleted, whether it is inactive.
/// For a key met elsewhere (an SMTP user name): what admin credentials can say about it.
pub(crate) async fn pin_key(admin: &dyn Clients, key_id: &str, finding: Finding) -> Finding {
    pin_with_admin(admin, key_id, finding, call(admin, DEFAULT_REGION))
        .await
        .finding
}

/// What admin credentials found out about a rejected key.
struct Pinned {
    finding: Finding,
    owner: Option<String>,
    /// The key's status in IAM (Active, Inactive), when found.
    status: Option<String>,
}

impl Pinned {
    fn only(finding: Finding) -> Self {
        Pinned {
            finding,
            owner: None,
            status: None,
        }
    }
}

/// `admin_said`: the admin credentials' GetCallerIdentity, perhaps already under way.
async fn pin_with_admin(
    admin: &dyn Clients,
    key_id: &str,
    finding: Finding,
    admin_said: impl std::future::Future<Output = Result<(Caller, Option<String>), Failure>>,
) -> Pinned {
    if !matches!(
        finding.code,
        Code::AccessKeyUnknown | Code::SignatureMismatch
    ) {
        return Pinned::only(finding);
    }
    let iam = admin.iam();
    // Three independent questions at once; the answers are read in the order of the verdicts
    // (an admin failure first, then another account, then IAM's view of the key).
    let (admin_said, owner, last_used) = tokio::join!(
        admin_said,
        async {
            admin
                .sts(DEFAULT_REGION)
                .get_access_key_info()
                .access_key_id(key_id)
                .send()
                .await
        },
        iam.get_access_key_last_used().access_key_id(key_id).send(),
    );
    let admin_account = match admin_said {
        Ok((caller, _)) => caller.account,
        Err(failure) => {
            let note = admin_failed(&failure);
            return Pinned::only(finding.evidence("admin check", note.title));
        }
    };
    if let Ok(info) = &owner {
        if let Some(owner) = info.account().filter(|a| *a != admin_account) {
            let f = other_account(key_id, owner, &admin_account)
                .evidence("AWS said (sending key)", original_said(&finding));
            return Pinned::only(f);
        }
    }

    let user = match last_used {
        Ok(out) => out.user_name().map(str::to_owned),
        Err(e) => {
            let code = e.code().unwrap_or_default();
            if code == "NoSuchEntity" && finding.code == Code::AccessKeyUnknown {
                return Pinned::only(
                    finding.evidence(
                        "IAM",
                    format!(
                        "account {admin_account} has no access key {key_id}: it was deleted or the ID is mistyped"
                    ),
                    ),
                );
            }
            return Pinned::only(
                finding.evidence("IAM", format!("could not look the key up: {code}")),
            );
        }
    };
    let Some(user) = user else {
        return Pinned::only(finding);
    };
    let keys = iam.list_access_keys().user_name(&user).send().await;
    let status = keys.ok().and_then(|k| {
        k.access_key_metadata()
            .iter()
            .find(|m| m.access_key_id() == Some(key_id))
            .and_then(|m| m.status().map(|s| s.as_str().to_owned()))
    });
    let pinned = match status.as_deref() {
        Some("Inactive") => Finding::new(
            Code::AccessKeyInactive,
            Severity::Error,
            format!("The access key {key_id} of IAM user {user} is deactivated"),
        )
        .explain(
            "An inactive key is rejected by AWS with \"The security token included in the \
             request is invalid\". Someone deactivated it (often during a rotation); activating \
             it again restores it, if it should still be in use.",
        )
        .evidence("user", &user)
        .evidence("status", "Inactive")
        .evidence("AWS said (sending key)", original_said(&finding))
        .fix(
            Fix::manual("Activate the key again, or create a new key and give that to the mailer")
                .command(format!(
                    "aws iam update-access-key --user-name {user} --access-key-id {key_id} --status Active"
                )),
        ),
        Some("Active") if finding.code == Code::SignatureMismatch => finding
            .evidence("user", &user)
            .evidence("IAM", "the key exists and is active: only the secret is wrong"),
        Some(other) => finding
            .evidence("user", &user)
            .evidence("IAM", format!("the key's status is {other}")),
        None => finding.evidence("user", &user),
    };
    Pinned {
        finding: pinned,
        owner: Some(user),
        status,
    }
}

fn original_said(finding: &Finding) -> String {
    finding
        .evidence
        .iter()
        .find(|e| e.label == "AWS said")
        .map(|e| e.value.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod mock_tests {
    //! What the emulator cannot produce: a server clock far from ours, an expired session token.
    //! The SDK is driven through `aws-smithy-mocks` with AWS's real response shapes.
    use super::*;
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use std::time::Duration;

    struct Mocked {
        sts: aws_sdk_sts::Client,
        iam: aws_sdk_iam::Client,
    }

    impl Clients for Mocked {
        fn sts(&self, _: &str) -> aws_sdk_sts::Client {
            self.sts.clone()
        }
        fn iam(&self) -> aws_sdk_iam::Client {
            self.iam.clone()
        }
        fn sesv2(&self, _: &str) -> aws_sdk_sesv2::Client {
            mock_client!(
                aws_sdk_sesv2,
                RuleMode::MatchAny,
                &[] as &[&aws_smithy_mocks::Rule]
            )
        }
    }

    fn sts_only(rules: &[&aws_smithy_mocks::Rule]) -> Mocked {
        Mocked {
            sts: mock_client!(aws_sdk_sts, RuleMode::MatchAny, rules),
            iam: mock_client!(
                aws_sdk_iam,
                RuleMode::MatchAny,
                &[] as &[&aws_smithy_mocks::Rule]
            ),
        }
    }

    fn http_date(offset_secs: i64) -> String {
        let now = SystemTime::now();
        let t = if offset_secs >= 0 {
            now + Duration::from_secs(offset_secs as u64)
        } else {
            now - Duration::from_secs(offset_secs.unsigned_abs())
        };
        DateTime::from(t).fmt(Format::HttpDate).unwrap()
    }

    fn sts_error(code: &str, message: &str, date: String) -> Response {
        let body = format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>4f1a</RequestId></ErrorResponse>"#
        );
        let mut resp = Response::new(StatusCode::try_from(403).unwrap(), SdkBody::from(body));
        resp.headers_mut().insert("content-type", "text/xml");
        resp.headers_mut().insert("date", date);
        resp
    }

    fn input<'a>(sending: &'a Mocked, admin: Option<&'a Mocked>) -> IdentityInput<'a> {
        IdentityInput {
            sending,
            admin: admin.map(|a| a as &dyn Clients),
            key_id: "AKIAIOSFODNN7EXAMPLE",
        }
    }

    #[tokio::test]
    async fn clock_skew_from_signature_expired_and_the_date_header() {
        let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
            sts_error(
                "SignatureDoesNotMatch",
                "Signature expired: 20261122T170000Z is now earlier than 20261122T171500Z (20261122T172000Z - 5 min.)",
                http_date(20 * 60),
            )
        });
        let sending = sts_only(&[&rule]);
        let out = check(input(&sending, None)).await;
        let f = &out.step.findings[0];
        assert_eq!(f.code, Code::ClockSkew);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.title.contains("20 minutes behind"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.label.starts_with("AWS time")));
        assert!(out.caller.is_none());
    }

    #[tokio::test]
    async fn expired_session_token() {
        let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
            sts_error(
                "ExpiredToken",
                "The security token included in the request is expired",
                http_date(0),
            )
        });
        let sending = sts_only(&[&rule]);
        let out = check(input(&sending, None)).await;
        assert_eq!(out.step.findings[0].code, Code::CredentialsExpired);
        assert_eq!(out.step.status, crate::report::StepStatus::Failed);
    }

    #[tokio::test]
    async fn accepted_request_with_a_drifting_clock_warns() {
        let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
            let body = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/mailer</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#;
            let mut resp = Response::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body));
            resp.headers_mut().insert("content-type", "text/xml");
            resp.headers_mut().insert("date", http_date(-200));
            resp
        });
        let sending = sts_only(&[&rule]);
        let out = check(input(&sending, None)).await;
        let codes: Vec<_> = out
            .step
            .findings
            .iter()
            .map(|f| (f.code, f.severity))
            .collect();
        assert_eq!(
            codes,
            vec![
                (Code::ClockSkew, Severity::Warning),
                (Code::CredentialsValid, Severity::Pass)
            ]
        );
        assert_eq!(out.caller.unwrap().user_name.as_deref(), Some("mailer"));
    }

    #[tokio::test]
    async fn root_keys_are_an_error() {
        let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            GetCallerIdentityOutput::builder()
                .arn("arn:aws:iam::111122223333:root")
                .account("111122223333")
                .build()
        });
        let sending = sts_only(&[&rule]);
        let out = check(input(&sending, None)).await;
        assert_eq!(out.step.findings[0].code, Code::RootCredentials);
        assert_eq!(out.step.findings[0].severity, Severity::Error);
    }

    #[tokio::test]
    async fn unreachable_sts_makes_the_step_incomplete() {
        let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_error(|| {
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError::unhandled("x")
        });
        // An unhandled error is not a dispatch failure: classified as an unknown AWS error.
        let sending = sts_only(&[&rule]);
        let out = check(input(&sending, None)).await;
        assert_eq!(out.step.findings[0].code, Code::AwsCallFailed);

        let failure = Failure::Trouble(aws_errors::Trouble::NoAnswer {
            timed_out: false,
            detail: "connection refused".into(),
        });
        let f = classify(&failure, "AKIAIOSFODNN7EXAMPLE", SystemTime::now());
        assert_eq!(f.code, Code::EndpointUnreachable);
    }
}

#[cfg(test)]
mod concurrency {
    //! The look-ups of step 1 against a fake AWS that answers each call after 1 s (paused time):
    //! the sending and admin credentials side by side.
    use super::*;
    use crate::fake_aws::{query_ok, Answer, Call, FakeAws};
    use std::time::Duration;

    const SENDING: &str = "AKIASENDINGKEYEXAMPL";
    const ADMIN: &str = "AKIAADMINKEYEXAMPLE1";

    /// The sending key is rejected, or accepted in `sending_account`; IAM has it, inactive, for
    /// user `mailer` of the admin's account 111122223333.
    fn aws(sending_account: Option<&'static str>) -> FakeAws {
        FakeAws::new(Duration::from_secs(1), move |call: &Call| {
            let a = call.action.as_str();
            match (a, call.key_id.as_str()) {
                ("GetCallerIdentity", SENDING) => match sending_account {
                    Some(account) => query_ok(a, &format!("<Arn>arn:aws:iam::{account}:user/mailer</Arn><UserId>AIDAEXAMPLE</UserId><Account>{account}</Account>")),
                    None => Answer::QueryError(403, "InvalidClientTokenId", "The security token included in the request is invalid.".into()),
                },
                ("GetCallerIdentity", _) => query_ok(a, "<Arn>arn:aws:iam::111122223333:user/admin</Arn><UserId>AIDAADMIN</UserId><Account>111122223333</Account>"),
                ("GetAccessKeyInfo", _) => query_ok(a, "<Account>111122223333</Account>"),
                ("GetAccessKeyLastUsed", _) => query_ok(a, "<UserName>mailer</UserName><AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed>"),
                ("ListAccessKeys", _) => query_ok(a, &format!(
                    "<AccessKeyMetadata><member><UserName>mailer</UserName><AccessKeyId>{SENDING}</AccessKeyId><Status>Inactive</Status><CreateDate>2024-01-01T00:00:00Z</CreateDate></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>"
                )),
                (other, key) => panic!("unexpected call {other} with {key}"),
            }
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejected_key_is_pinned_with_independent_questions_at_once() {
        let fake = aws(None);
        let (sending, admin) = (fake.with_key(SENDING), fake.with_key(ADMIN));
        let start = tokio::time::Instant::now();
        let out = check(IdentityInput {
            sending: &sending,
            admin: Some(&admin),
            key_id: SENDING,
        })
        .await;
        assert_eq!(out.step.findings[0].code, Code::AccessKeyInactive);
        assert_eq!(out.key_owner.as_deref(), Some("mailer"));
        // Both callers at once; then the key's account and its last use; then the user's keys.
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "{:?}",
            fake.calls()
        );
        assert_eq!(fake.max_in_flight(), 2, "{:?}", fake.calls());
    }

    #[tokio::test(start_paused = true)]
    async fn the_admin_caller_is_asked_alongside_the_sending_one() {
        let fake = aws(Some("444455556666"));
        let (sending, admin) = (fake.with_key(SENDING), fake.with_key(ADMIN));
        let start = tokio::time::Instant::now();
        let out = check(IdentityInput {
            sending: &sending,
            admin: Some(&admin),
            key_id: SENDING,
        })
        .await;
        let codes: Vec<Code> = out.step.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [Code::CredentialsValid, Code::AccessKeyOtherAccount]);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(1),
            "{:?}",
            fake.calls()
        );
        assert_eq!(fake.max_in_flight(), 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn service(code: &str, message: &str, date: Option<&str>) -> Failure {
        Failure::Service {
            code: code.into(),
            message: message.into(),
            date: date.map(str::to_owned),
        }
    }

    #[test]
    fn classification_of_sts_errors() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let date = DateTime::from(now).fmt(Format::HttpDate).unwrap();
        let cases = [
            ("InvalidClientTokenId", "The security token included in the request is invalid.", Code::AccessKeyUnknown),
            ("SignatureDoesNotMatch", "The request signature we calculated does not match", Code::SignatureMismatch),
            // cloud-custodian/cloud-custodian#4874, hashicorp/terraform-provider-aws#34865.
            ("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'us-east-2'. ", Code::SigningRegionMismatch),
            ("SignatureDoesNotMatch", "Credential should be scoped to a valid region.", Code::SigningRegionMismatch),
            ("SignatureDoesNotMatch", "Signature expired: 20231114T220000Z is now earlier than 20231114T221320Z (20231114T221820Z - 5 min.)", Code::ClockSkew),
            ("ExpiredToken", "The security token included in the request is expired", Code::CredentialsExpired),
            ("Throttling", "Rate exceeded", Code::AwsCallFailed),
        ];
        for (code, message, expected) in cases {
            let f = classify(
                &service(code, message, Some(&date)),
                "AKIAIOSFODNN7EXAMPLE",
                now,
            );
            assert_eq!(f.code, expected, "{code}: {message}");
        }
    }

    #[test]
    fn skew_from_the_date_header_wins_over_the_error_code() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let server = DateTime::from(now + Duration::from_secs(900))
            .fmt(Format::HttpDate)
            .unwrap();
        let f = classify(
            &service("InvalidClientTokenId", "x", Some(&server)),
            "AKIA",
            now,
        );
        assert_eq!(f.code, Code::ClockSkew);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.title.contains("15 minutes behind"), "{}", f.title);
    }

    #[test]
    fn small_skew_on_success_is_a_warning_and_tiny_is_nothing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |secs: u64| {
            DateTime::from(now - Duration::from_secs(secs))
                .fmt(Format::HttpDate)
                .unwrap()
        };
        assert!(skew_finding(Some(&at(30)), now, true).is_none());
        let f = skew_finding(Some(&at(200)), now, true).unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.title.contains("ahead of"));
    }

    #[test]
    fn caller_parsing() {
        let c = Caller::from_arn(
            "arn:aws:iam::123456789012:user/mail/wordpress".into(),
            "123456789012".into(),
        );
        assert_eq!(c.user_name.as_deref(), Some("wordpress"));
        assert!(!c.is_root());
        assert!(Caller::from_arn("arn:aws:iam::123456789012:root".into(), "1".into()).is_root());
    }
}

/// STS refused to let the source credentials assume the profile's role: the credentials the
/// mailer would send with do not exist.
pub fn role_denied(
    sending: &crate::credentials::Lookup,
    denied: &crate::credentials::RoleDenied,
) -> Finding {
    // STS names the role it refused (in a chain, perhaps not the outermost one).
    let role = denied
        .aws_said
        .rsplit_once("on resource: ")
        .map(|(_, r)| r.trim().to_owned())
        .unwrap_or_else(|| denied.role_arn.clone());
    let name = role.rsplit('/').next().unwrap_or(&role).to_owned();
    Finding::new(
        Code::RoleAssumptionDenied,
        Severity::Error,
        format!("STS refused to let the source credentials assume {role}"),
    )
    .explain(
        "The profile's credentials come from assuming a role, and STS said no: the role's trust \
         policy does not name the source user (or names its account, and no policy of the user \
         allows sts:AssumeRole on the role), or the role does not exist. Nothing can be sent \
         until the role can be assumed.",
    )
    .evidence("credentials from", &sending.detail)
    .evidence("role", &role)
    .evidence("AWS said", &denied.aws_said)
    .fix(
        Fix::manual(format!(
            "Allow the source user to assume {role} in the role's trust policy (and, when the trust names the account, with a policy of the user allowing sts:AssumeRole on it)"
        ))
        .command(format!(
            "aws iam get-role --role-name {name} --query Role.AssumeRolePolicyDocument"
        )),
    )
}
