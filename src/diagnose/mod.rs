//! `ses-doctor diagnose`: the fix flow, step by step, into one [`Report`].

pub mod identity;
pub mod local;
pub mod permissions;
pub mod region;

use crate::aws_setup::{AwsSetup, Clients, RegionSetting, DEFAULT_REGION};
use crate::codes::Code;
use crate::consent::Consent;
use crate::credentials::{Environment, Lookup};
use crate::exit::Failure;
use crate::report::{Finding, Report, ReportCredentials, Severity, Step, StepId};
use aws_config::profile::ProfileSet;
use permissions::PolicyChoice;

pub struct Diagnosis<'a> {
    pub env: &'a Environment,
    pub profiles: &'a ProfileSet,
    pub profile_flag: Option<&'a str>,
    pub setup: &'a AwsSetup,
    pub region: RegionSetting,
    pub sending: Lookup,
    pub admin: Option<Lookup>,
    pub consent: &'a Consent,
    /// `--regions`: the regions to scan.
    pub scan_regions: Vec<&'static crate::regions::RegionEntry>,
    pub from: Option<String>,
    pub policy: PolicyChoice,
}

/// Progress reporting: the caller decides whether and where it is shown.
pub trait Progress {
    fn step_started(&self, step: StepId);
}

pub async fn run(d: Diagnosis<'_>, progress: &dyn Progress) -> Result<Report, Failure> {
    let credentials = ReportCredentials {
        sending: Some(d.sending.info()),
        admin: d.admin.as_ref().map(Lookup::info),
    };
    let mut report = Report::new(credentials, d.region.info());

    progress.step_started(StepId::Local);
    let local = local::check(&local::LocalInput {
        sending: &d.sending,
        env: d.env,
        profiles: d.profiles,
        profile_flag: d.profile_flag,
        region: &d.region,
    });
    let key_unusable =
        local.has(Code::CredentialsNotFound) || local.has(Code::AccessKeyIdMalformed);
    report.push_step(local);

    let key = match (&d.sending.key, key_unusable) {
        (Ok(key), false) => key,
        _ => {
            report.push_step(Step::skipped(
                StepId::Identity,
                "there is no usable access key to check (see step 0)",
            ));
            push_skipped(
                &mut report,
                &ALL_AFTER_IDENTITY,
                "step 1 could not confirm the credentials",
            );
            return Ok(report);
        }
    };

    progress.step_started(StepId::Identity);
    let sending = d.setup.sdk_config(key).await;
    let mut admin_problem = None;
    let admin = match &d.admin {
        Some(Lookup {
            key: Ok(admin_key), ..
        }) => Some(d.setup.sdk_config(admin_key).await),
        Some(Lookup {
            key: Err(reason),
            detail,
            ..
        }) => {
            admin_problem = Some(
                Finding::new(
                    Code::AdminCredentialsFailed,
                    Severity::Warning,
                    "The admin credentials could not be loaded; causes that need IAM are not pinned down",
                )
                .evidence("looked in", detail)
                .evidence("reason", reason),
            );
            None
        }
        None => None,
    };
    let admin_clients = admin.as_ref().map(|a| a as &dyn Clients);
    let outcome = identity::check(identity::IdentityInput {
        sending: &sending,
        admin: admin_clients,
        key_id: &key.id,
    })
    .await;
    let mut step = outcome.step;
    if let Some(f) = admin_problem {
        step.push(f);
    }
    let identity_failed = step.findings.iter().any(|f| f.severity == Severity::Error);
    report.push_step(step);
    let caller = match outcome.caller {
        Some(caller) if !identity_failed || caller.is_root() => caller,
        _ => {
            push_skipped(
                &mut report,
                &ALL_AFTER_IDENTITY,
                "step 1 found a problem with the credentials to fix first",
            );
            return Ok(report);
        }
    };

    // Inspection goes through the admin credentials when there are any: a sending-only user
    // usually may not list identities or call IAM.
    let (inspect, inspected_with): (&dyn Clients, &'static str) = match admin_clients {
        Some(a) => (a, "admin credentials"),
        None => (&sending, "sending credentials"),
    };

    progress.step_started(StepId::Region);
    let region = region::check(region::RegionInput {
        clients: inspect,
        scanned_with: inspected_with,
        regions: d.scan_regions.clone(),
        configured: &d.region,
        from: d.from.as_deref(),
        timeout: d.setup.timeout,
        source: &d.sending.source,
        env: d.env,
        consent: d.consent,
    })
    .await?;
    let choice = region.choice;
    report.push_step(region.step);

    progress.step_started(StepId::Permissions);
    let send_region = choice
        .as_ref()
        .map(|c| c.region)
        .or(d.region.valid())
        .unwrap_or(DEFAULT_REGION);
    let identities = choice
        .as_ref()
        .map(|c| c.identities.clone())
        .unwrap_or_default();
    let permissions = permissions::check(permissions::PermissionInput {
        caller: &caller,
        iam: inspect,
        iam_is_admin: admin_clients.is_some(),
        sending: &sending,
        region: send_region,
        identities: &identities,
        policy: d.policy,
        consent: d.consent,
    })
    .await?;
    report.push_step(permissions);

    push_skipped(
        &mut report,
        &[StepId::AccessKey, StepId::IamUser, StepId::TestEmail],
        "not yet implemented in this version of ses-doctor",
    );
    Ok(report)
}

const ALL_AFTER_IDENTITY: [StepId; 5] = [
    StepId::Region,
    StepId::Permissions,
    StepId::AccessKey,
    StepId::IamUser,
    StepId::TestEmail,
];

/// Steps that did not run are reported, not left out, so the report always says what was and
/// was not checked.
fn push_skipped(report: &mut Report, steps: &[StepId], reason: &str) {
    for id in steps {
        report.push_step(Step::skipped(*id, reason));
    }
}
