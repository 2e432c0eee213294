//! `ses-doctor diagnose`: the fix flow, step by step, into one [`Report`].
//!
//! Steps run in flow order, except that a broken key is repaired (step 4) or a missing IAM user
//! created (step 5) right after step 1 finds the problem, so that steps 2 and 3 can run with
//! working credentials. The report always lists the steps in flow order.
//!
//! Whether a fix is applied is the [`Consent`]'s decision. On a terminal, `run` is called twice
//! (see `run.rs`): first with [`crate::consent::Mode::Plan`], which changes nothing and records
//! the fixes it would have asked about, so the person reads the whole diagnosis before any
//! question; then, if they approve, again to apply the fixes and check everything once more
//! with the final credentials and region. Whatever the run hands the mailer (the header, the
//! SMTP password of a new key) is computed at the end, from that final state ([`conclude`]).

pub mod access_key;
pub mod aws_errors;
pub mod divergence;
pub mod iam_user;
pub mod identity;
pub mod local;
pub mod permissions;
pub mod region;
pub mod test_email;

use crate::aws_setup::{AwsSetup, Clients, RegionSetting, DEFAULT_REGION};
use crate::codes::Code;
use crate::consent::Consent;
use crate::credentials::{Environment, Lookup, Source};
use crate::exit::Failure;
use crate::report::{Finding, Report, ReportCredentials, Severity, Step, StepId, StepStatus};
use crate::secret::AccessKey;
use crate::shared_files::SharedFiles;
use access_key::{KeyContext, Purpose, Reveal, SaveTarget, Working};
use aws_config::profile::ProfileSet;
use aws_config::SdkConfig;
use identity::Caller;
use permissions::PolicyChoice;
use std::path::PathBuf;

/// What the key and user steps may do (the `diagnose` flags of steps 4 and 5).
#[derive(Clone, Debug, Default)]
pub struct KeyOptions {
    pub write_profile: Option<String>,
    pub credentials_out: Option<PathBuf>,
    pub delete_old_key: bool,
    pub deactivate_old_key: bool,
    pub rotate_key: bool,
    pub user_name: Option<String>,
    pub new_user: bool,
    pub reuse_user: bool,
}

#[derive(Clone)]
pub struct Diagnosis<'a> {
    pub env: &'a Environment,
    pub files: &'a SharedFiles,
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
    pub keys: KeyOptions,
    pub email: test_email::TestEmailOptions,
    pub reveal: &'a dyn Reveal,
}

/// Progress reporting: the caller decides whether and where it is shown.
pub trait Progress {
    fn step_started(&self, step: StepId);
    fn step_finished(&self, step: &Step);
}

/// Adds a finished step to the report, and tells the person watching.
fn push(report: &mut Report, progress: &dyn Progress, step: Step) {
    progress.step_finished(&step);
    report.push_step(step);
}

/// The credentials the mailer will send with, as they stand now.
struct Current {
    key: AccessKey,
    config: SdkConfig,
    caller: Option<Caller>,
}

impl Current {
    fn replace(&mut self, w: Working) {
        self.key = w.key;
        self.config = w.config;
        self.caller = Some(w.caller);
    }
}

pub async fn run(d: Diagnosis<'_>, progress: &dyn Progress) -> Result<Report, Failure> {
    let credentials = ReportCredentials {
        sending: Some(d.sending.info()),
        admin: d.admin.as_ref().map(Lookup::info),
    };
    let mut report = Report::new(credentials, d.region.info());

    progress.step_started(StepId::Local);
    let mut local = local::check(&local::LocalInput {
        sending: &d.sending,
        env: d.env,
        files: d.files,
        profiles: d.profiles,
        profile_flag: d.profile_flag,
        region: &d.region,
    });
    let key_unusable =
        local.has(Code::CredentialsNotFound) || local.has(Code::AccessKeyIdMalformed);
    let stray_token = local.has(Code::SessionTokenStray);
    if stray_token {
        local::remove_stray_token(&mut local, &d.sending, d.env, d.consent).await?;
    }
    push(&mut report, progress, local);

    let key = match (&d.sending.key, key_unusable) {
        (Ok(key), false) => {
            let mut key = key.clone();
            // A long-term key is checked as it works once the leftover token is gone.
            if stray_token {
                key.session_token = None;
            }
            key
        }
        _ => {
            let step = match &d.sending.role_denied {
                Some(denied) => {
                    let mut step = Step::new(StepId::Identity);
                    step.push(identity::role_denied(&d.sending, denied));
                    step
                }
                None => Step::skipped(
                    StepId::Identity,
                    "there is no usable access key to check (see step 0)",
                ),
            };
            push(&mut report, progress, step);
            push_skipped(
                &mut report,
                progress,
                &AFTER_IDENTITY,
                "step 1 could not confirm the credentials",
            );
            return Ok(report);
        }
    };

    progress.step_started(StepId::Identity);
    let sending = d.setup.sdk_config(&key).await;
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
    let mut id_step = outcome.step;
    if let Some(f) = admin_problem {
        id_step.push(f);
    }
    let mut current = Current {
        key: key.clone(),
        config: sending.clone(),
        caller: outcome.caller.clone(),
    };

    // Where a new key goes, decided before any key exists.
    let target = SaveTarget {
        credentials_file: d.env.credentials_file(),
        profile: d
            .keys
            .write_profile
            .clone()
            .or_else(|| match &d.sending.source {
                Source::Profile { name, .. } => Some(name.clone()),
                _ => None,
            }),
        credentials_out: d.keys.credentials_out.clone(),
    };
    let early_region = d.region.valid().unwrap_or(DEFAULT_REGION);
    let new_keys = std::sync::Mutex::new(Vec::new());
    // IAM changes go through the admin credentials, else the sending ones (root keys may).
    let writer: &dyn Clients = admin_clients.unwrap_or(&sending);
    let ctx = KeyContext {
        iam: writer,
        env: d.env,
        setup: d.setup,
        consent: d.consent,
        target: &target,
        region: early_region,
        delete_old_key: d.keys.delete_old_key,
        deactivate_old_key: d.keys.deactivate_old_key,
        new_keys: &new_keys,
    };
    let mut key_step: Option<Step> = None;
    let mut user_step: Option<Step> = None;

    // A run killed half-way through a key creation is completed before anything else touches
    // keys: its orphan would hold a slot, and its saved key may be the mailer's now.
    let answered = id_step.status != StepStatus::Incomplete;
    if let Some(user_iam) = admin_clients
        .or(outcome.caller.is_some().then_some(&sending as &dyn Clients))
        .filter(|_| answered)
    {
        for (finding, saved) in access_key::recover(access_key::Recovery {
            iam: user_iam,
            consent: d.consent,
            credentials_file: &target.credentials_file,
            region: early_region,
        })
        .await?
        {
            let mut step = key_step.take().unwrap_or_else(access_key::new_step);
            step.push(finding);
            key_step = Some(step);
            let mailer_profile = d.sending.source.profile().map(str::to_owned);
            if let Some((profile, key)) = saved.filter(|(p, _)| Some(p) == mailer_profile.as_ref())
            {
                if let Some(w) = access_key::prove(d.setup, &key).await {
                    for f in id_step
                        .findings
                        .iter_mut()
                        .filter(|f| f.severity == Severity::Error)
                    {
                        f.resolved = true;
                        f.note("after the fix", format!("profile '{profile}' now holds {}, saved by completing the interrupted run", key.id));
                    }
                    id_step.refresh();
                    current.replace(w);
                }
            }
        }
    }

    // Step 4 early: repair the key step 1 found broken, when IAM says whose it is.
    if let Some(i) = open_error(&id_step) {
        let code = id_step.findings[i].code;
        let owner = outcome.key_owner.clone();
        let mut step = key_step.take().unwrap_or_else(access_key::new_step);
        let working = match (code, admin_clients, owner) {
            (Code::AccessKeyInactive, Some(_), Some(user)) => {
                progress.step_started(StepId::AccessKey);
                access_key::activate(&ctx, &mut id_step.findings[i], &user, &key).await?
            }
            (Code::SignatureMismatch, Some(_), Some(user)) => {
                progress.step_started(StepId::AccessKey);
                access_key::create_key(
                    &ctx,
                    &mut step,
                    &mut id_step.findings[i],
                    &user,
                    None,
                    Purpose::Repair,
                )
                .await?
            }
            (Code::AccessKeyUnknown, Some(admin), _) => match &d.keys.user_name {
                Some(name) if user_exists(admin, name).await => {
                    progress.step_started(StepId::AccessKey);
                    access_key::create_key(
                        &ctx,
                        &mut step,
                        &mut id_step.findings[i],
                        name,
                        None,
                        Purpose::Repair,
                    )
                    .await?
                }
                Some(name) => {
                    progress.step_started(StepId::IamUser);
                    let mut ustep = iam_user::new_step();
                    let mut missing = iam_user::missing_user(name);
                    let w = iam_user::create_sender(
                        &mut ustep,
                        &mut missing,
                        iam_user::NewUser {
                            ctx: &ctx,
                            name,
                            reuse: d.keys.reuse_user,
                            policy: d.policy,
                            resources: Vec::new(),
                            replaces_root: false,
                        },
                    )
                    .await?;
                    if w.is_some() {
                        id_step.findings[i].resolved = true;
                        id_step.findings[i].note(
                            "after the fix",
                            format!("replaced by a key of the new IAM user {name} (step 5)"),
                        );
                    }
                    ustep.push(missing);
                    user_step = Some(ustep);
                    w
                }
                None => {
                    id_step.findings[i].fixes.push(crate::report::Fix::manual(
                        "If the key's IAM user still exists, name it to get a new key: ses-doctor diagnose --user-name NAME --admin-profile ADMIN",
                    ));
                    None
                }
            },
            _ => None,
        };
        if !step.findings.is_empty() || working.is_some() {
            key_step = Some(step);
        }
        if let Some(w) = working {
            current.replace(w);
        }
        id_step.refresh();
    }

    // Step 5 early: no IAM user (root keys) or one asked for.
    let root = current.caller.as_ref().is_some_and(Caller::is_root);
    if user_step.is_none() && (root || d.keys.new_user) {
        progress.step_started(StepId::IamUser);
        let name = match &d.keys.user_name {
            Some(name) => name.clone(),
            None => d.consent.text(
                "Name of the IAM user to send with",
                iam_user::DEFAULT_USER,
                &iam_user::validate_name,
            )?,
        };
        let mut ustep = iam_user::new_step();
        let mut finding = if root {
            iam_user::missing_user(&name)
                .explain("The mailer uses the root user's keys, so there is no IAM user to send with. An IAM user that may only send mail takes their place in the mailer's profile; the root keys are kept in the backup file, and should then be deleted in the console.")
        } else {
            iam_user::requested(&name)
        };
        let working = iam_user::create_sender(
            &mut ustep,
            &mut finding,
            iam_user::NewUser {
                ctx: &ctx,
                name: &name,
                reuse: d.keys.reuse_user,
                policy: d.policy,
                resources: Vec::new(),
                replaces_root: root,
            },
        )
        .await?;
        if let Some(w) = working {
            if root {
                for f in id_step
                    .findings
                    .iter_mut()
                    .filter(|f| f.code == Code::RootCredentials)
                {
                    f.resolved = true;
                    f.note(
                        "after the fix",
                        format!("the mailer sends as IAM user {name} (step 5)"),
                    );
                }
                // Only the root user can delete its keys, in the console: until then they are
                // still a way into everything, so the run does not end clean-sounding.
                id_step.push(iam_user::root_keys_active(&d.sending.key));
            }
            current.replace(w);
        }
        ustep.push(finding);
        user_step = Some(ustep);
    }

    let identity_ok = open_error(&id_step).is_none();
    let identity_incomplete = id_step.status == StepStatus::Incomplete;
    push(&mut report, progress, id_step);
    let caller = match (&current.caller, identity_ok) {
        (Some(c), true) => c.clone(),
        _ => {
            let reason = match (identity_incomplete, Clients::endpoint(&current.config)) {
                (true, Some(url)) => format!("step 1 got no usable answer from {url} (--endpoint-url / AWS_ENDPOINT_URL), so nothing after it could be checked"),
                (true, None) => "step 1 could not finish (AWS gave no usable answer), so nothing after it could be checked".to_owned(),
                (false, _) => "step 1 found a problem with the credentials to fix first".to_owned(),
            };
            let reason = reason.as_str();
            push(
                &mut report,
                progress,
                key_step.unwrap_or_else(|| Step::skipped(StepId::AccessKey, reason)),
            );
            push(
                &mut report,
                progress,
                user_step.unwrap_or_else(|| Step::skipped(StepId::IamUser, reason)),
            );
            push_skipped(
                &mut report,
                progress,
                &[StepId::Region, StepId::Permissions],
                reason,
            );
            // SMTP credentials given as the mailer has them can still be tested: the answer
            // (535, or a 554 after AUTH) says more about them.
            if d.email.via == test_email::Via::Smtp && d.email.smtp.password.is_some() {
                progress.step_started(StepId::TestEmail);
                let step = test_email::check(test_email::TestEmailInput {
                    sending: None,
                    key: Some(&key),
                    admin: admin_clients,
                    region: early_region,
                    from: d.from.as_deref(),
                    identities: &[],
                    opts: &d.email,
                    consent: d.consent,
                    reveal: d.reveal,
                    timeout: d.setup.timeout,
                })
                .await?;
                push(&mut report, progress, step);
            } else {
                push_skipped(&mut report, progress, &[StepId::TestEmail], reason);
            }
            conclude(&mut report, &d, &current, early_region, &new_keys)?;
            return Ok(report);
        }
    };

    // Inspection goes through the admin credentials when there are any: a sending-only user
    // usually may not list identities or call IAM.
    // A new user that took over may only send: the credentials that made it inspect instead.
    let took_over = (root || d.keys.new_user) && current.key.id != key.id;
    let (inspect, inspected_with): (&dyn Clients, &'static str) = match admin_clients {
        Some(a) => (a, "admin credentials"),
        None if took_over => (&sending, "the credentials that created the new user"),
        None => (&current.config, "sending credentials"),
    };

    progress.step_started(StepId::Region);
    let key_iam: &dyn Clients = admin_clients.unwrap_or(&current.config);
    let region_input = region::RegionInput {
        clients: inspect,
        scanned_with: inspected_with,
        regions: d.scan_regions.clone(),
        configured: &d.region,
        from: d.from.as_deref(),
        timeout: d.setup.timeout,
        source: &d.sending.source,
        env: d.env,
        consent: d.consent,
    };
    let list_keys = || async {
        match &caller.user_name {
            Some(user) => Some(access_key::list_keys(key_iam, user).await),
            None => None,
        }
    };
    let key_ctx = KeyContext {
        iam: key_iam,
        ..ctx
    };
    let in_use = current.key.id.clone();
    let mut key_step = key_step.unwrap_or_else(access_key::new_step);
    // Step 4 for the user in use (age, spares), after any repair above. Returns whether it ran,
    // and the new credentials of a rotation.
    macro_rules! hygiene {
        ($key_step:expr, $listed:expr, $region:expr) => {
            async {
                let ctx = KeyContext {
                    region: $region,
                    ..key_ctx
                };
                match &caller.user_name {
                    Some(user) => access_key::check_keys(
                        $key_step,
                        access_key::HygieneInput {
                            ctx: &ctx,
                            user,
                            in_use: &in_use,
                            rotate: d.keys.rotate_key,
                            keys: $listed,
                        },
                    )
                    .await
                    .map(|rotated| (true, rotated)),
                    None => Ok((false, None)),
                }
            }
        };
    }
    macro_rules! permission_input {
        ($choice:expr, $prefetched:expr) => {
            permissions::PermissionInput {
                caller: &caller,
                iam: inspect,
                iam_is_admin: admin_clients.is_some(),
                sending: &current.config,
                region: send_region(&$choice, &d.region),
                identities: identities(&$choice),
                policy: d.policy,
                consent: d.consent,
                prefetched: Some($prefetched),
            }
        };
    }
    macro_rules! email_input {
        ($current:expr, $choice:expr) => {
            test_email::TestEmailInput {
                sending: Some(&$current.config),
                key: Some(&$current.key),
                admin: admin_clients,
                region: send_region(&$choice, &d.region),
                from: d.from.as_deref(),
                identities: identities(&$choice),
                opts: &d.email,
                consent: d.consent,
                reveal: d.reveal,
                timeout: d.setup.timeout,
            }
        };
    }

    let (region_step, choice, permissions, key_ran, email) = if d.consent.may_change() {
        // A run that may change things goes one step at a time (the grant before the test
        // email, the rotation before it too); only the IAM look-ups, which need nothing but the
        // caller, run with the region scan.
        let (region, prefetched, listed) = tokio::join!(
            region::check(region_input),
            permissions::lookup(inspect, &caller),
            list_keys(),
        );
        let region = region?;
        let choice = region.choice;
        let permissions = permissions::check(permission_input!(choice, prefetched)).await?;
        let (ran, rotated) =
            hygiene!(&mut key_step, listed, send_region(&choice, &d.region)).await?;
        if let Some(w) = rotated {
            current.replace(w);
        }
        let email = test_email::check(email_input!(current, choice)).await?;
        (region.step, choice, permissions, ran, email)
    } else {
        // A run that only looks: each call starts once what it needs is known. The key step
        // needs only the caller; the permission simulation and the test email need the scan.
        let (after_scan, keys) = tokio::join!(
            async {
                let (region, prefetched) = tokio::join!(
                    region::check(region_input),
                    permissions::lookup(inspect, &caller)
                );
                let region = region?;
                let choice = region.choice;
                let (permissions, email) = tokio::join!(
                    permissions::check(permission_input!(choice, prefetched)),
                    test_email::check(email_input!(current, choice)),
                );
                Ok::<_, Failure>((region.step, choice, permissions?, email?))
            },
            async {
                let listed = list_keys().await;
                // Nothing is rotated in a run that only looks; the region is only for the
                // SES call that proves a new key, which such a run never makes.
                let configured = d.region.valid().unwrap_or(DEFAULT_REGION);
                hygiene!(&mut key_step, listed, configured).await
            },
        );
        let (region_step, choice, permissions, email) = after_scan?;
        (region_step, choice, permissions, keys?.0, email)
    };
    let send_region = send_region(&choice, &d.region);
    push(&mut report, progress, region_step);
    push(&mut report, progress, permissions);
    match key_ran {
        true => push(&mut report, progress, key_step),
        false => push(
            &mut report,
            progress,
            Step::skipped(
                StepId::AccessKey,
                match &caller.role_name {
                    Some(role) => format!(
                        "the credentials are temporary ones of role {role}: there is no access key of theirs to manage"
                    ),
                    None => "the credentials are not an IAM user's".into(),
                },
            ),
        ),
    }
    push(
        &mut report,
        progress,
        user_step.unwrap_or_else(|| {
            let mut s = iam_user::new_step();
            s.reason = Some(match (&caller.user_name, &caller.role_name) {
                (Some(user), _) => format!("the mailer sends as the IAM user {user}"),
                (None, Some(role)) => format!("the mailer sends as the role {role}"),
                _ => "the credentials are not an IAM user's".into(),
            });
            s
        }),
    );
    push(&mut report, progress, email);
    conclude(&mut report, &d, &current, send_region, &new_keys)?;
    Ok(report)
}

/// The run's end state, in the header and in what the mailer is given: a key or region a fix
/// changed is shown as it is now, and the SMTP password of a key made in this run is offered
/// for the region the run ends with (a region fix may have come after the key).
fn conclude(
    report: &mut Report,
    d: &Diagnosis<'_>,
    current: &Current,
    region: &str,
    new_keys: &std::sync::Mutex<Vec<access_key::NewKey>>,
) -> Result<(), Failure> {
    let new_keys = std::mem::take(&mut *new_keys.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(sending) = report.credentials.sending.as_mut() {
        if new_keys.iter().any(|k| k.key.id == current.key.id)
            && sending.access_key_id.as_deref() != Some(current.key.id.as_str())
        {
            sending.previous_access_key_id = sending.access_key_id.take();
            sending.access_key_id = Some(current.key.id.clone());
        }
    }
    let region_fixed = report
        .step(StepId::Region)
        .is_some_and(|s| s.findings.iter().any(|f| f.resolved && applied(f)));
    if region_fixed {
        let before = report.region.as_ref().map(|r| r.name.clone());
        if before.as_deref() != Some(region) {
            report.region = Some(crate::report::RegionInfo {
                name: region.to_owned(),
                source: "fix".into(),
                previous: before,
            });
        }
    }
    for new in &new_keys {
        if new.region != region {
            let mut note =
                access_key::smtp_note(region, &new.key.id, d.keys.credentials_out.is_some());
            if let Some(out) = d.keys.credentials_out.as_deref().filter(|p| p.exists()) {
                if let Err(e) = access_key::add_smtp_password(out, &new.key, region) {
                    note.push_str(&format!(
                        "; it could not be added to {}: {e}",
                        out.display()
                    ));
                }
            }
            for e in report
                .steps
                .iter_mut()
                .flat_map(|s| s.findings.iter_mut())
                .flat_map(|f| f.evidence.iter_mut())
                .filter(|e| e.label == access_key::SMTP_NOTE && e.value.contains(&new.key.id))
            {
                e.value = note.clone();
            }
        }
        access_key::offer_reveal(d.consent, d.reveal, &new.key, region)?;
    }
    report.refresh();
    Ok(())
}

/// The region mail goes through: the one the region step chose, else the configured one.
fn send_region<'a>(
    choice: &Option<region::RegionChoice>,
    configured: &'a RegionSetting,
) -> &'a str {
    choice
        .as_ref()
        .map(|c| c.region)
        .or(configured.valid())
        .unwrap_or(DEFAULT_REGION)
}

fn identities(choice: &Option<region::RegionChoice>) -> &[String] {
    choice
        .as_ref()
        .map(|c| c.identities.as_slice())
        .unwrap_or(&[])
}

fn applied(f: &Finding) -> bool {
    f.fixes
        .iter()
        .any(|x| x.status == crate::report::FixStatus::Applied)
}

async fn user_exists(clients: &dyn Clients, name: &str) -> bool {
    clients
        .iam()
        .get_user()
        .user_name(name)
        .send()
        .await
        .is_ok()
}

fn open_error(step: &Step) -> Option<usize> {
    step.findings
        .iter()
        .position(|f| f.severity == Severity::Error && !f.resolved)
}

const AFTER_IDENTITY: [StepId; 5] = [
    StepId::Region,
    StepId::Permissions,
    StepId::AccessKey,
    StepId::IamUser,
    StepId::TestEmail,
];

/// Steps that did not run are reported, not left out, so the report always says what was and
/// was not checked.
fn push_skipped(report: &mut Report, progress: &dyn Progress, steps: &[StepId], reason: &str) {
    for id in steps {
        push(report, progress, Step::skipped(*id, reason));
    }
}
