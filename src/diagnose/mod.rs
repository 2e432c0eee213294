//! `ses-doctor diagnose`: the fix flow, step by step, into one [`Report`].

pub mod identity;
pub mod local;

use crate::aws_setup::{AwsSetup, RegionSetting};
use crate::codes::Code;
use crate::credentials::{Environment, Lookup};
use crate::report::{Finding, Report, ReportCredentials, Severity, Step, StepId};
use aws_config::profile::ProfileSet;

pub struct Diagnosis<'a> {
    pub env: &'a Environment,
    pub profiles: &'a ProfileSet,
    pub profile_flag: Option<&'a str>,
    pub setup: &'a AwsSetup,
    pub region: RegionSetting,
    pub sending: Lookup,
    pub admin: Option<Lookup>,
}

/// Progress reporting: the caller decides whether and where it is shown.
pub trait Progress {
    fn step_started(&self, step: StepId);
}

pub async fn run(d: Diagnosis<'_>, progress: &dyn Progress) -> Report {
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
            push_later_steps(&mut report, "step 1 could not confirm the credentials");
            return report;
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
    let outcome = identity::check(identity::IdentityInput {
        sending: &sending,
        admin: admin.as_ref().map(|a| a as &dyn crate::aws_setup::Clients),
        key_id: &key.id,
        region: d.region.valid(),
    })
    .await;
    let mut step = outcome.step;
    if let Some(f) = admin_problem {
        step.push(f);
    }
    report.push_step(step);
    push_later_steps(
        &mut report,
        "not yet implemented in this version of ses-doctor",
    );
    report
}

/// Steps 2-6. They are reported, not silently left out, so the report always says what was and
/// was not checked.
fn push_later_steps(report: &mut Report, reason: &str) {
    for id in [
        StepId::Region,
        StepId::Permissions,
        StepId::AccessKey,
        StepId::IamUser,
        StepId::TestEmail,
    ] {
        report.push_step(Step::skipped(id, reason));
    }
}
