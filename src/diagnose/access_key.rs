//! Step 4: the user's access keys. Activating an inactive key, creating a new one, retiring a
//! spare one. These change credentials, so they are built never to leave the user worse off:
//!
//! - a new key is created only when there is somewhere to save it, and saved at once (if saving
//!   fails the new key is deleted again, so no key exists whose secret nobody has);
//! - a slot is freed only with consent (`--delete-old-key` under `--yes`), never the key in use;
//! - the new key is proven (STS accepts it, then an SES call) before the old one may be retired,
//!   and retiring is a separate, optional consent (`--deactivate-old-key` under `--yes`);
//! - every outcome, including a half-way failure, says what state the account and files are in.

use crate::aws_files::{self, FileKind, Updated};
use crate::aws_setup::{AwsSetup, Clients};
use crate::codes::Code;
use crate::concurrent::join_all;
use crate::consent::{Consent, Decision};
use crate::credentials::Environment;
use crate::diagnose::aws_errors;
use crate::diagnose::identity::{self, Caller};
use crate::exit::Failure;
use crate::key_journal::{self, Entry as JournalEntry, Journal};
use crate::report::{Finding, Fix, FixKind, FixStatus, Severity, Step, StepId};
use crate::secret::{AccessKey, Secret};
use crate::shared_files::SharedFiles;
use crate::smtp_password;
use aws_config::SdkConfig;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::StatusType;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Keys older than this should be rotated (AWS's and CIS's advice).
pub const MAX_KEY_AGE_DAYS: i64 = 90;
/// IAM allows two keys per user; inactive keys count.
const KEYS_PER_USER: usize = 2;

#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub id: String,
    pub active: bool,
    pub created: Option<DateTime>,
    pub last_used: Option<(DateTime, String, String)>,
}

impl KeyInfo {
    fn age_days(&self, now: SystemTime) -> Option<i64> {
        self.created
            .map(|c| (DateTime::from(now).secs() - c.secs()) / 86_400)
    }

    fn describe(&self, in_use: Option<&str>, now: SystemTime) -> String {
        let day = |d: &DateTime| {
            d.fmt(Format::DateTime)
                .map(|s| s[..10].to_owned())
                .unwrap_or_default()
        };
        let created = match (&self.created, self.age_days(now)) {
            (Some(c), Some(age)) => format!("created {} ({age} days ago)", day(c)),
            _ => "creation date unknown".into(),
        };
        let used = match &self.last_used {
            Some((when, service, region)) => {
                format!("last used {} ({service}, {region})", day(when))
            }
            None => "never used".into(),
        };
        let marker = if in_use == Some(self.id.as_str()) {
            " (in use)"
        } else {
            ""
        };
        format!(
            "{}{marker}: {}, {created}, {used}",
            self.id,
            if self.active { "Active" } else { "Inactive" }
        )
    }
}

/// Why the keys could not be listed: IAM's refusal, or no usable answer at all.
#[derive(Debug)]
pub struct ListError {
    pub message: String,
    pub trouble: Option<aws_errors::Trouble>,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The user's keys with their last use, in IAM's order: the last-use look-ups of all keys at once.
pub async fn list_keys(clients: &dyn Clients, user: &str) -> Result<Vec<KeyInfo>, ListError> {
    let iam = clients.iam();
    let out = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .map_err(|e| ListError {
            message: iam_error(&e),
            trouble: aws_errors::trouble(&e),
        })?;
    let last_used = join_all(out.access_key_metadata().iter().map(|m| {
        iam.get_access_key_last_used()
            .access_key_id(m.access_key_id().unwrap_or_default())
            .send()
    }))
    .await;
    Ok(out
        .access_key_metadata()
        .iter()
        .zip(last_used)
        .map(|(m, used)| KeyInfo {
            id: m.access_key_id().unwrap_or_default().to_owned(),
            active: m.status() == Some(&StatusType::Active),
            created: m.create_date().copied(),
            last_used: used.ok().and_then(|o| {
                let u = o.access_key_last_used()?;
                Some((
                    *u.last_used_date()?,
                    u.service_name().to_owned(),
                    u.region().to_owned(),
                ))
            }),
        })
        .collect())
}

/// Activates or deactivates a key.
async fn set_key_status(
    clients: &dyn Clients,
    user: &str,
    key_id: &str,
    status: StatusType,
) -> Result<(), String> {
    clients
        .iam()
        .update_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .status(status)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| iam_error(&e))
}

fn iam_error<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &E) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => crate::exit::error_chain(e),
    }
}

/// Where a new key is saved. Decided before any key is created.
#[derive(Clone, Debug, Default)]
pub struct SaveTarget {
    pub credentials_file: PathBuf,
    /// `--write-profile`, else the profile the credentials came from.
    pub profile: Option<String>,
    /// `--credentials-out FILE`: a new file, mode 0600.
    pub credentials_out: Option<PathBuf>,
}

impl SaveTarget {
    pub fn is_set(&self) -> bool {
        self.profile.is_some() || self.credentials_out.is_some()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.profile {
            parts.push(format!(
                "profile '{p}' in {}",
                self.credentials_file.display()
            ));
        }
        if let Some(f) = &self.credentials_out {
            parts.push(f.display().to_string());
        }
        parts.join(" and ")
    }
}

/// Shows a secret to the person once, on the terminal (never in a report).
pub trait Reveal: Sync {
    /// False for machine output (`--output json`): secrets are then only saved, never shown.
    fn can_reveal(&self) -> bool;
    fn reveal(&self, label: &str, secret: &Secret);
}

pub struct KeyContext<'a> {
    /// Credentials allowed to change IAM (admin, or the sending ones when they may).
    pub iam: &'a dyn Clients,
    /// Where the shared files are, to see who else holds a key before one is retired.
    pub env: &'a Environment,
    pub setup: &'a AwsSetup,
    pub consent: &'a Consent,
    pub target: &'a SaveTarget,
    /// For the SES call that proves a key, and for the SMTP password.
    pub region: &'a str,
    pub delete_old_key: bool,
    pub deactivate_old_key: bool,
    /// Keys created in this run. Their SMTP password is offered at the end of the run, for the
    /// region the run ends with (a region fix may come after the key).
    pub new_keys: &'a std::sync::Mutex<Vec<NewKey>>,
}

/// A key created in this run, and the region its SMTP password was first given for.
pub struct NewKey {
    pub key: AccessKey,
    pub region: String,
}

/// Who on this machine holds which access key, read at the moment a key would be retired: every
/// profile of both shared files, `AWS_ACCESS_KEY_ID`, and the `--credentials-out` file. A key
/// someone holds is in use, whichever profile ses-doctor is diagnosing.
pub struct KeyHolders {
    holders: Vec<(String, String)>,
}

impl KeyHolders {
    pub fn scan(env: &Environment, credentials_out: Option<&std::path::Path>) -> KeyHolders {
        let mut holders = Vec::new();
        if let Ok(files) = SharedFiles::read(env) {
            for file in [&files.credentials, &files.config] {
                for s in file.sections() {
                    if let (Some(profile), Some(p)) = (&s.profile, s.get("aws_access_key_id")) {
                        holders.push((
                            p.value.clone(),
                            format!("profile '{profile}' ({})", file.path.display()),
                        ));
                    }
                }
            }
        }
        if let Some(id) = env.get("AWS_ACCESS_KEY_ID") {
            holders.push((id.to_owned(), "AWS_ACCESS_KEY_ID in the environment".into()));
        }
        if let Some(text) = credentials_out.and_then(|p| std::fs::read_to_string(p).ok()) {
            for s in aws_files::sections(&text, FileKind::Credentials) {
                if let Some(p) = s.get("aws_access_key_id") {
                    holders.push((
                        p.value.clone(),
                        format!(
                            "{}",
                            credentials_out
                                .unwrap_or(std::path::Path::new(""))
                                .display()
                        ),
                    ));
                }
            }
        }
        KeyHolders { holders }
    }

    /// Who holds `key_id`, e.g. "profile 'site2' (/home/u/.aws/credentials)".
    pub fn of(&self, key_id: &str) -> Vec<&str> {
        let mut who: Vec<&str> = self
            .holders
            .iter()
            .filter(|(id, _)| id == key_id)
            .map(|(_, h)| h.as_str())
            .collect();
        who.dedup();
        who
    }
}

/// Credentials proven to work.
pub struct Working {
    pub key: AccessKey,
    pub config: SdkConfig,
    pub caller: Caller,
}

/// The key as working credentials, once STS accepts it.
pub async fn prove(setup: &AwsSetup, key: &AccessKey) -> Option<Working> {
    wait_until_accepted(setup, key).await.map(|(w, _)| w)
}

/// Polls STS until `key` is accepted: IAM takes seconds to spread a change (about 30 s at most).
async fn wait_until_accepted(setup: &AwsSetup, key: &AccessKey) -> Option<(Working, Duration)> {
    let config = setup.sdk_config(key).await;
    let start = std::time::Instant::now();
    for delay in [0u64, 1, 1, 2, 2, 3, 5, 8, 10] {
        tokio::time::sleep(Duration::from_secs(delay)).await;
        if let Ok((caller, _)) = identity::call(&config, crate::aws_setup::DEFAULT_REGION).await {
            let working = Working {
                key: key.clone(),
                config,
                caller,
            };
            return Some((working, start.elapsed()));
        }
    }
    None
}

/// An SES call with the key: an answer, even AccessDenied, proves SES accepts it.
async fn ses_answers(config: &SdkConfig, region: &str) -> Result<String, String> {
    match config.sesv2(region).get_account().send().await {
        Ok(_) => Ok(format!("SES in {region} answered GetAccount")),
        Err(e) => match e.code() {
            Some("AccessDeniedException") => Ok(format!(
                "SES in {region} recognised the key (AccessDenied for GetAccount: the key is valid)"
            )),
            Some(code) => Err(format!("{code}: {}", e.message().unwrap_or_default())),
            None => Err(crate::exit::error_chain(&e)),
        },
    }
}

/// Activates an inactive key (with consent), then waits until AWS accepts it.
pub async fn activate(
    ctx: &KeyContext<'_>,
    finding: &mut Finding,
    user: &str,
    key: &AccessKey,
) -> Result<Option<Working>, Failure> {
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description: format!("Activate the access key {} of {user}", key.id),
        command: Some(format!(
            "aws iam update-access-key --user-name {user} --access-key-id {} --status Active",
            key.id
        )),
        status: FixStatus::Proposed,
    };
    // The automatic fix replaces the manual instruction step 1 gave.
    finding.fixes.retain(|f| f.kind != FixKind::Manual);
    let decision = ctx
        .consent
        .decide(&format!("Activate the access key {} of {user}?", key.id))?;
    let mut working = None;
    match decision {
        Decision::Leave(status) => fix.status = status,
        Decision::Apply => {
            let result = set_key_status(ctx.iam, user, &key.id, StatusType::Active).await;
            match result {
                Err(e) => {
                    fix.status = FixStatus::Failed;
                    finding.note("fix failed", e);
                }
                Ok(_) => {
                    fix.status = FixStatus::Applied;
                    match wait_until_accepted(ctx.setup, key).await {
                        Some((w, waited)) => {
                            finding.resolved = true;
                            finding.note("after the fix", format!("AWS accepts the key (after {} s)", waited.as_secs()));
                            working = Some(w);
                        }
                        None => finding.note("after the fix",
                            "the key is Active in IAM but AWS does not accept it yet: run ses-doctor again in a minute",
                        ),
                    }
                }
            }
        }
    }
    finding.fixes.push(fix);
    Ok(working)
}

/// Why a new key is being made: a repair is applied under `--yes`; a rotation of a working key is
/// optional and needs `--rotate-key` there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Repair,
    Rotation { forced: bool },
    NewUser,
}

/// Creates a new access key for `user`, saves it, and proves it. `finding` is the problem it
/// solves; the fix and every state change are recorded on it.
pub async fn create_key(
    ctx: &KeyContext<'_>,
    step: &mut Step,
    finding: &mut Finding,
    user: &str,
    in_use: Option<&str>,
    purpose: Purpose,
) -> Result<Option<Working>, Failure> {
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description: format!(
            "Create a new access key for {user} and save it in {}",
            describe_target(ctx.target)
        ),
        command: Some(format!("aws iam create-access-key --user-name {user}")),
        status: FixStatus::Proposed,
    };
    if purpose == Purpose::Repair {
        finding.fixes.retain(|f| f.kind != FixKind::Manual);
    }
    if !ctx.target.is_set() {
        // Never create a key that cannot be saved: its secret would be lost at once.
        fix.description = format!(
            "Create a new access key for {user} (give --write-profile NAME or --credentials-out FILE to say where to save it)"
        );
        finding.fixes.push(fix);
        return Ok(None);
    }
    let question = format!(
        "Create a new access key for {user} and save it in {}?",
        short_target(ctx.target)
    );
    let decision = match purpose {
        Purpose::Repair => ctx.consent.decide(&question)?,
        Purpose::Rotation { forced } => ctx.consent.decide_optional(&question, forced)?,
        // Consent was given for the user and its key together.
        Purpose::NewUser => Decision::Apply,
    };
    if let Decision::Leave(status) = decision {
        fix.status = status;
        finding.fixes.push(fix);
        return Ok(None);
    }

    // A free slot: two keys is IAM's limit, and inactive keys count.
    let keys = match list_keys(ctx.iam, user).await {
        Ok(k) => k,
        Err(e) => {
            fix.status = FixStatus::Failed;
            finding.note("fix failed", format!("cannot list the keys of {user}: {e}"));
            finding.fixes.push(fix);
            return Ok(None);
        }
    };
    if keys.len() >= KEYS_PER_USER && !free_a_slot(ctx, step, user, &keys, in_use).await? {
        fix.status = FixStatus::Proposed;
        finding.note(
            "blocked",
            format!("{user} already has two access keys (see access-key-limit)"),
        );
        finding.fixes.push(fix);
        return Ok(None);
    }

    // The intent first: a run killed from here on leaves a journal the next run completes.
    let journal = Journal::beside(&ctx.target.credentials_file, user);
    let mut entry = JournalEntry {
        version: 1,
        user: user.to_owned(),
        started: key_journal::now(),
        keys_before: keys.iter().map(|k| k.id.clone()).collect(),
        key_id: None,
        profile: ctx.target.profile.clone(),
        credentials_file: ctx.target.credentials_file.clone(),
        credentials_out: ctx.target.credentials_out.clone(),
        pid: std::process::id(),
    };
    if let Err(e) = journal.write(&entry) {
        fix.status = FixStatus::Failed;
        finding.note(
            "fix failed",
            format!(
                "cannot record the key creation in {} ({e}); no key was created",
                journal.path().display()
            ),
        );
        finding.fixes.push(fix);
        return Ok(None);
    }
    crate::failpoint::hit("before-create-key");
    let created = ctx
        .iam
        .iam()
        .create_access_key()
        .user_name(user)
        .send()
        .await;
    let new_key = match created {
        Ok(out) => match out.access_key() {
            Some(k) => AccessKey {
                id: k.access_key_id().to_owned(),
                secret: Secret::new(k.secret_access_key()),
                session_token: None,
            },
            None => {
                fix.status = FixStatus::Failed;
                finding.note("fix failed", "IAM returned no key");
                finding.fixes.push(fix);
                return Ok(None);
            }
        },
        Err(e) => {
            fix.status = FixStatus::Failed;
            finding.note("fix failed", format!("CreateAccessKey: {}", iam_error(&e)));
            finding.fixes.push(fix);
            let _ = journal.clear();
            return Ok(None);
        }
    };
    crate::failpoint::hit("after-create-key");
    entry.key_id = Some(new_key.id.clone());
    // Best effort: without the key ID the next run still finds the key by `keys_before`.
    let _ = journal.write(&entry);

    // Saved before anything else can fail.
    match save(ctx.target, &new_key, ctx.region) {
        Ok(saved) => {
            crate::failpoint::hit("after-save");
            let _ = journal.clear();
            crate::failpoint::hit("after-journal-cleared");
            finding.note(
                "new key",
                format!("{} created for {user}, saved in {saved}", new_key.id),
            )
        }
        Err(failure) => {
            // Unsaved, the key's secret is lost the moment this process ends: take it back.
            let deleted = ctx
                .iam
                .iam()
                .delete_access_key()
                .user_name(user)
                .access_key_id(&new_key.id)
                .send()
                .await;
            fix.status = FixStatus::Failed;
            let files = match &failure.undone {
                Ok(()) => "every file is as it was".to_owned(),
                Err(e) => format!("the files could not all be put back: {e}"),
            };
            let state = match deleted {
                Ok(_) => {
                    let _ = journal.clear();
                    format!(
                        "the new key {} could not be saved ({}); it was deleted again and {files}",
                        new_key.id, failure.why
                    )
                }
                Err(d) => format!(
                    "the new key {} could not be saved ({}) and could not be deleted ({}): the next run deletes it (see {}); {files}",
                    new_key.id,
                    failure.why,
                    iam_error(&d),
                    journal.path().display()
                ),
            };
            finding.note("state", state);
            finding.fixes.push(fix);
            return Ok(None);
        }
    }
    fix.status = FixStatus::Applied;
    let working = match wait_until_accepted(ctx.setup, &new_key).await {
        Some((w, waited)) => {
            finding.note(
                "accepted",
                format!("AWS accepts the new key (after {} s)", waited.as_secs()),
            );
            w
        }
        None => {
            finding.note("state",
                format!(
                    "the new key {} is saved in {} but AWS has not accepted it yet (IAM can take a minute); the old key is untouched. Next: run ses-doctor again",
                    new_key.id,
                    describe_target(ctx.target)
                ),
            );
            finding.fixes.push(fix);
            return Ok(None);
        }
    };
    match ses_answers(&working.config, ctx.region).await {
        Ok(said) => finding.note("proven", said),
        Err(e) => finding.note(
            "SES call",
            format!("SES did not accept the new key yet: {e}"),
        ),
    }
    finding.resolved = true;
    finding.fixes.push(fix);
    // SMTP passwords are derived from the secret: a new key means a new SMTP password.
    finding.note(
        SMTP_NOTE,
        smtp_note(
            ctx.region,
            &new_key.id,
            ctx.target.credentials_out.is_some(),
        ),
    );
    if let Ok(mut keys) = ctx.new_keys.lock() {
        keys.push(NewKey {
            key: new_key.clone(),
            region: ctx.region.to_owned(),
        });
    }
    Ok(Some(working))
}

/// Where the key goes, short enough for a one-line question.
fn short_target(target: &SaveTarget) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &target.profile {
        parts.push(format!("profile '{p}'"));
    }
    if let Some(f) = &target.credentials_out {
        parts.push(
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    }
    parts.join(" and ")
}

fn describe_target(target: &SaveTarget) -> String {
    if target.is_set() {
        target.describe()
    } else {
        "(nowhere yet)".into()
    }
}

/// One change a save made, so that a failure later in the same save can take it back.
enum Undo {
    Restore {
        path: PathBuf,
        previous: Option<String>,
    },
    Remove(PathBuf),
}

/// Why a save failed, and whether everything it had written was put back.
struct SaveFailure {
    why: String,
    /// `Ok` when every target is as it was before the save.
    undone: Result<(), String>,
}

fn undo_all(undo: Vec<Undo>) -> Result<(), String> {
    let mut failed = Vec::new();
    for u in undo.into_iter().rev() {
        let result = match &u {
            Undo::Restore { path, previous } => aws_files::restore(path, previous.as_deref())
                .map_err(|e| format!("cannot restore {}: {e}", path.display())),
            Undo::Remove(path) => std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display())),
        };
        if let Err(e) = result {
            failed.push(e);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Writes the new key into every target the user asked for, as one transaction: all targets
/// hold the key, or every one of them is put back as it was. Returns where the key went.
fn save(target: &SaveTarget, key: &AccessKey, region: &str) -> Result<String, SaveFailure> {
    let mut places = Vec::new();
    let mut undo = Vec::new();
    let fail = |why: String, undo: Vec<Undo>| SaveFailure {
        why,
        undone: undo_all(undo),
    };
    if let Some(profile) = &target.profile {
        let file = &target.credentials_file;
        let updated = aws_files::update(file, Some(0o600), |text| {
            let text = aws_files::set_property(
                text,
                FileKind::Credentials,
                profile,
                "aws_access_key_id",
                &key.id,
            );
            let text = aws_files::set_property(
                &text,
                FileKind::Credentials,
                profile,
                "aws_secret_access_key",
                key.secret.expose(),
            );
            // A session token left from temporary keys would make AWS reject the new key.
            crate::diagnose::local::TOKEN_KEYS
                .iter()
                .fold(text, |t, k| {
                    aws_files::remove_property(&t, FileKind::Credentials, profile, k)
                })
        });
        let backup = match updated {
            Err(e) => return Err(fail(format!("cannot write {}: {e}", file.display()), undo)),
            Ok(Updated::Written { backup, previous }) => {
                undo.push(Undo::Restore {
                    path: file.clone(),
                    previous,
                });
                backup
                    .map(|b| format!("; the previous file is kept as {}", b.display()))
                    .unwrap_or_default()
            }
            Ok(Updated::Unchanged) => String::new(),
        };
        // Read back as the SDK reads the file: the key must be what the profile now resolves to.
        let back = std::fs::read_to_string(aws_files::link_target(file).unwrap_or(file.clone()));
        let resolved = back.as_deref().ok().and_then(|t| {
            aws_files::get_property(t, FileKind::Credentials, profile, "aws_access_key_id")
        });
        if resolved.as_deref() != Some(key.id.as_str()) {
            return Err(fail(
                format!(
                    "read back, profile '{profile}' in {} holds {} instead of the new key",
                    file.display(),
                    resolved.unwrap_or_else(|| "no key".into())
                ),
                undo,
            ));
        }
        places.push(format!("profile '{profile}' in {}{backup}", file.display()));
    }
    crate::failpoint::hit("after-save-profile");
    if let Some(out) = &target.credentials_out {
        if let Err(e) = write_credentials_out(out, key, region) {
            return Err(fail(format!("cannot write {}: {e}", out.display()), undo));
        }
        undo.push(Undo::Remove(out.clone()));
        places.push(out.display().to_string());
    }
    Ok(places.join(" and "))
}

/// `--credentials-out`: a new file (never an existing one), mode 0600, in the credentials-file
/// format, with the SMTP password for the region as a comment-free extra key. A write that fails
/// half-way (a full disk) removes what it wrote: part of a secret is still a secret.
fn write_credentials_out(
    path: &std::path::Path,
    key: &AccessKey,
    region: &str,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let smtp = smtp_password::derive(&key.secret, region);
    let written = write!(
        file,
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n# SES SMTP user name: the access key ID; SMTP password for {region}:\nses_smtp_password_{} = {}\n",
        key.id,
        key.secret.expose(),
        region.replace('-', "_"),
        smtp.expose()
    )
    .and_then(|_| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// The label of the note that tells a mailer using SMTP what changes with a new key.
pub const SMTP_NOTE: &str = "SMTP";

/// What a mailer using SMTP needs after a key change, for `region`.
pub fn smtp_note(region: &str, key_id: &str, in_credentials_out: bool) -> String {
    format!(
        "a mailer that sends over SMTP needs the new key's SMTP password for {region}: user name {key_id}, password from `ses-doctor smtp-password --region {region}`{}",
        if in_credentials_out { " (also in the --credentials-out file)" } else { "" }
    )
}

/// `--credentials-out` holds the SMTP password for the region the key was made in; a run that
/// then moves the mailer to another region adds the password for that one.
pub fn add_smtp_password(
    path: &std::path::Path,
    key: &AccessKey,
    region: &str,
) -> std::io::Result<()> {
    use std::io::Write;
    let smtp = smtp_password::derive(&key.secret, region);
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    write!(
        file,
        "# SMTP password for {region}, where this run moved the mailer:\nses_smtp_password_{} = {}\n",
        region.replace('-', "_"),
        smtp.expose()
    )
    .and_then(|_| file.sync_all())
}

/// On a terminal, the person may see a new secret once (to paste it into the mailer), and the
/// SMTP password derived for `region`: the region the run ended with.
pub fn offer_reveal(
    consent: &Consent,
    reveal: &dyn Reveal,
    key: &AccessKey,
    region: &str,
) -> Result<(), Failure> {
    if !reveal.can_reveal() {
        return Ok(());
    }
    if consent.ask(&format!(
        "Show the new secret access key {} once, to paste into the mailer?",
        key.id
    ))? {
        reveal.reveal(&format!("Secret access key for {}", key.id), &key.secret);
    }
    if consent.ask(&format!(
        "Show the SES SMTP password for {region} (for mailers that use SMTP)?"
    ))? {
        let smtp = smtp_password::derive(&key.secret, region);
        reveal.reveal(
            &format!("SMTP password for {region} (user name {})", key.id),
            &smtp,
        );
    }
    Ok(())
}

/// Two keys already: delete one, never the one in use, with consent. Returns whether a slot is
/// free now. Adds an `access-key-limit` finding saying what happened.
async fn free_a_slot(
    ctx: &KeyContext<'_>,
    step: &mut Step,
    user: &str,
    keys: &[KeyInfo],
    in_use: Option<&str>,
) -> Result<bool, Failure> {
    let now = SystemTime::now();
    let holders = KeyHolders::scan(ctx.env, ctx.target.credentials_out.as_deref());
    let mut candidates: Vec<&KeyInfo> = keys
        .iter()
        .filter(|k| Some(k.id.as_str()) != in_use && holders.of(&k.id).is_empty())
        .collect();
    // Inactive first, then the least recently used.
    candidates.sort_by_key(|k| {
        (
            k.active,
            k.last_used
                .as_ref()
                .map(|(d, _, _)| d.secs())
                .unwrap_or(i64::MIN),
        )
    });
    let mut finding = Finding::new(
        Code::AccessKeyLimit,
        Severity::Error,
        format!("{user} already has two access keys, so a new one needs a free slot"),
    )
    .explain(
        "IAM allows two access keys per user, inactive ones included. One of them must be \
         deleted before a new key can be created. The key in use is never proposed.",
    );
    for k in keys {
        finding = finding.evidence("key", k.describe(in_use, now));
        let held_by = holders.of(&k.id);
        if Some(k.id.as_str()) != in_use && !held_by.is_empty() {
            finding = finding.evidence(
                "in use",
                format!(
                    "{} is held by {}, so it is not offered for deletion",
                    k.id,
                    held_by.join(" and ")
                ),
            );
        }
    }
    let Some(first) = candidates.first() else {
        step.push(finding);
        return Ok(false);
    };
    let items: Vec<String> = candidates.iter().map(|k| k.describe(in_use, now)).collect();
    let index = ctx
        .consent
        .choose("Which key should be deleted to make room?", &items, 0)?;
    let victim = candidates.get(index).copied().unwrap_or(first);
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description: format!("Delete the access key {} of {user}", victim.id),
        command: Some(format!(
            "aws iam delete-access-key --user-name {user} --access-key-id {}",
            victim.id
        )),
        status: FixStatus::Proposed,
    };
    // A deletion is never a default: under --yes it needs its own flag.
    let decision = ctx.consent.decide_optional(
        &format!(
            "Delete the access key {} of {user}? This cannot be undone.",
            victim.id
        ),
        ctx.delete_old_key,
    )?;
    let freed = match decision {
        Decision::Leave(status) => {
            fix.status = status;
            if status == FixStatus::Proposed {
                finding.explanation.push_str(
                    " Nothing was deleted: run again with --delete-old-key to delete the key \
                     proposed below, or delete a key yourself.",
                );
            }
            false
        }
        Decision::Apply => {
            let result = ctx
                .iam
                .iam()
                .delete_access_key()
                .user_name(user)
                .access_key_id(&victim.id)
                .send()
                .await;
            match result {
                Ok(_) => {
                    fix.status = FixStatus::Applied;
                    finding.resolved = true;
                    true
                }
                Err(e) => {
                    fix.status = FixStatus::Failed;
                    finding = finding.evidence("fix failed", iam_error(&e));
                    false
                }
            }
        }
    };
    finding.fixes.push(fix);
    step.push(finding);
    Ok(freed)
}

pub struct HygieneInput<'a> {
    pub ctx: &'a KeyContext<'a>,
    pub user: &'a str,
    pub in_use: &'a str,
    /// `--rotate-key`: rotate the key in use even if it is recent.
    pub rotate: bool,
    /// The user's keys as [`list_keys`] gave them, when they were listed earlier (with
    /// `ctx.iam`); `None`: listed here. A list without the key in use is from before a repair
    /// (a new key, a slot freed): it is listed again.
    pub keys: Option<Result<Vec<KeyInfo>, ListError>>,
}

/// The keys of a working user: age, spare active keys, the limit. Returns new credentials when
/// the key in use was rotated.
pub async fn check_keys(
    step: &mut Step,
    input: HygieneInput<'_>,
) -> Result<Option<Working>, Failure> {
    let ctx = input.ctx;
    let now = SystemTime::now();
    let listed = match input.keys {
        Some(Ok(keys)) if !keys.iter().any(|k| k.id == input.in_use) => {
            list_keys(ctx.iam, input.user).await
        }
        Some(listed) => listed,
        None => list_keys(ctx.iam, input.user).await,
    };
    let keys = match listed {
        Ok(k) => k,
        Err(ListError {
            trouble: Some(t), ..
        }) => {
            let finding = aws_errors::finding_for(&t, "IAM", ctx.iam);
            step.mark_incomplete(finding.title.clone());
            step.push(finding);
            return Ok(None);
        }
        Err(e) => {
            step.push(
                Finding::new(
                    Code::InsufficientAccess,
                    Severity::Info,
                    format!("The access keys of {} could not be listed", input.user),
                )
                .explain("Run with --admin-profile to check their age and status.")
                .evidence("IAM said", e.to_string()),
            );
            return Ok(None);
        }
    };
    let mut working = None;
    let current = keys.iter().find(|k| k.id == input.in_use);
    let old = current
        .and_then(|k| k.age_days(now))
        .filter(|d| *d > MAX_KEY_AGE_DAYS);
    if old.is_some() || input.rotate {
        let mut finding = match old {
            Some(days) => Finding::new(
                Code::AccessKeyOld,
                Severity::Warning,
                format!("The access key in use is {days} days old"),
            )
            .explain(
                "AWS advises rotating access keys at least every 90 days: create a new key, put \
                 it in the mailer, test it, then deactivate the old one. ses-doctor does all but \
                 the mailer part (with --rotate-key under --yes).",
            ),
            None => Finding::new(
                Code::AccessKeyOk,
                Severity::Pass,
                "The access key in use is recent; rotating it as asked (--rotate-key)",
            ),
        };
        if let Some(k) = current {
            finding = finding.evidence("key", k.describe(Some(input.in_use), now));
        }
        working = create_key(
            ctx,
            step,
            &mut finding,
            input.user,
            Some(input.in_use),
            Purpose::Rotation {
                forced: input.rotate,
            },
        )
        .await?;
        step.push(finding);
    }
    // After a rotation the previous key is the spare one.
    let in_use = working
        .as_ref()
        .map(|w| w.key.id.clone())
        .unwrap_or_else(|| input.in_use.to_owned());
    let keys = if working.is_some() {
        list_keys(ctx.iam, input.user).await.unwrap_or(keys)
    } else {
        keys
    };
    for spare in keys.iter().filter(|k| k.active && k.id != in_use) {
        step.push(retire(ctx, input.user, spare, &in_use, now).await?);
    }
    if step.findings.is_empty() {
        let mut f = Finding::new(
            Code::AccessKeyOk,
            Severity::Pass,
            "The key in use is active and less than 90 days old; no spare key is active",
        );
        for k in &keys {
            f = f.evidence("key", k.describe(Some(&in_use), now));
        }
        step.push(f);
    }
    Ok(working)
}

/// Another active key the mailer does not use: after a rotation, the old key. Deactivating it is
/// optional and reversible (`--deactivate-old-key` under `--yes`).
async fn retire(
    ctx: &KeyContext<'_>,
    user: &str,
    spare: &KeyInfo,
    in_use: &str,
    now: SystemTime,
) -> Result<Finding, Failure> {
    let holders = KeyHolders::scan(ctx.env, ctx.target.credentials_out.as_deref());
    let held_by = holders.of(&spare.id);
    if !held_by.is_empty() {
        // Two profiles (two sites) on one IAM user: the other key is theirs, not a leftover.
        return Ok(Finding::new(
            Code::AccessKeyUnused,
            Severity::Info,
            format!(
                "{user}'s other active key, {}, is in use by {}",
                spare.id,
                held_by.join(" and ")
            ),
        )
        .explain(
            "This mailer does not use it, but something else on this machine does, so it is \
             not offered for deactivation.",
        )
        .evidence("spare key", spare.describe(Some(in_use), now))
        .evidence("held by", held_by.join(", ")));
    }
    let mut finding = Finding::new(
        Code::AccessKeyUnused,
        Severity::Warning,
        format!(
            "{user} has another active access key, {}, that this mailer does not use",
            spare.id
        ),
    )
    .explain(
        "A second active key is often the old one left after a rotation, or one forgotten on \
         another machine. If nothing uses it, deactivate it (it can be activated again), and \
         delete it once you are sure.",
    )
    .evidence("spare key", spare.describe(Some(in_use), now));
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description: format!("Deactivate the access key {} of {user}", spare.id),
        command: Some(format!(
            "aws iam update-access-key --user-name {user} --access-key-id {} --status Inactive",
            spare.id
        )),
        status: FixStatus::Proposed,
    };
    let decision = ctx.consent.decide_optional(
        &format!("Deactivate {user}'s spare key {} (reversible)?", spare.id),
        ctx.deactivate_old_key,
    )?;
    match decision {
        Decision::Leave(status) => fix.status = status,
        Decision::Apply => {
            let result = set_key_status(ctx.iam, user, &spare.id, StatusType::Inactive).await;
            match result {
                Ok(_) => {
                    fix.status = FixStatus::Applied;
                    finding.resolved = true;
                }
                Err(e) => {
                    fix.status = FixStatus::Failed;
                    finding = finding.evidence("fix failed", e);
                }
            }
        }
    }
    finding.fixes.push(fix);
    Ok(finding)
}

/// What a previous, killed run left behind, and the clients to set it right with.
pub struct Recovery<'a> {
    /// IAM: the admin credentials, else the sending ones.
    pub iam: &'a dyn Clients,
    pub consent: &'a Consent,
    pub credentials_file: &'a std::path::Path,
    /// For the SMTP password of a `--credentials-out` file completed here.
    pub region: &'a str,
}

/// What happened to one key a killed run created.
enum Leftover {
    /// The profile holds it: only `--credentials-out` may be missing.
    Saved { key: AccessKey },
    /// A temporary file of the interrupted write holds it with its secret.
    InTemp { key: AccessKey },
    /// Nowhere: its secret is gone, so the key can only be deleted.
    Orphan { id: String },
}

/// The key and secret of `profile` in a credentials-file text, if it holds `key_id`.
fn key_in(text: &str, profile: &str, key_id: &str) -> Option<AccessKey> {
    let id = aws_files::get_property(text, FileKind::Credentials, profile, "aws_access_key_id")?;
    let secret = aws_files::get_property(
        text,
        FileKind::Credentials,
        profile,
        "aws_secret_access_key",
    )?;
    (id == key_id).then(|| AccessKey {
        id,
        secret: Secret::new(secret),
        session_token: None,
    })
}

/// The pid a temporary file's name ends with (`credentials.ses-doctor.tmp1234`).
fn temp_pid(path: &std::path::Path) -> Option<u32> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    name.rsplit_once(".ses-doctor.tmp")?.1.parse().ok()
}

/// Runs killed half-way left journals of the keys they were creating, or temporary copies of a
/// file they were writing (a journal or file of a run still going is left alone). Each journal is
/// completed, with consent: a key that was saved stays (and `--credentials-out` is written if it
/// was missing), a key found in the run's temporary file is saved from it, a key found nowhere is
/// deleted (its secret is gone). Leftover temporary files go. Returns one finding per leftover,
/// with the profile and key saved from a temporary file, if any (the profile's credentials
/// changed under the caller).
pub async fn recover(
    r: Recovery<'_>,
) -> Result<Vec<(Finding, Option<(String, AccessKey)>)>, Failure> {
    let mut out = Vec::new();
    for journal in Journal::all_beside(r.credentials_file) {
        match journal.read() {
            Err(e) => out.push((
                Finding::new(
                    Code::RunInterrupted,
                    Severity::Error,
                    "A key journal of an earlier run cannot be read",
                )
                .explain(
                    "ses-doctor records a key it is about to create in this journal, so that a \
                     run stopped half-way can be completed. This one is damaged: check the user's \
                     keys in IAM for one that no profile holds, then delete the journal.",
                )
                .evidence("journal", e),
                None,
            )),
            Ok(Some(entry)) if !key_journal::running(entry.pid) => {
                out.push(recover_key(&r, &journal, entry).await?);
            }
            // Gone since it was listed, or another run's work in progress.
            Ok(_) => {}
        }
    }
    let temps: Vec<std::path::PathBuf> = aws_files::leftover_temp_files(r.credentials_file)
        .into_iter()
        .filter(|t| !temp_pid(t).is_some_and(key_journal::running))
        .collect();
    if !temps.is_empty() {
        let mut finding = Finding::new(
            Code::RunInterrupted,
            Severity::Warning,
            "An earlier run was stopped while writing a file, and left a temporary copy",
        )
        .explain(
            "Files are written to a temporary file, then renamed over the old one, so the file \
             itself is whole. The temporary copy may hold secrets: it goes.",
        );
        for t in &temps {
            finding = finding.evidence("temporary file", t.display().to_string());
        }
        let mut fix = Fix {
            kind: FixKind::Automatic,
            description: format!("Remove {} temporary file(s)", temps.len()),
            command: None,
            status: FixStatus::Proposed,
        };
        match r.consent.decide(&format!("{}?", fix.description))? {
            Decision::Leave(status) => fix.status = status,
            Decision::Apply => {
                let failed: Vec<String> = temps
                    .iter()
                    .filter_map(|t| {
                        std::fs::remove_file(t)
                            .err()
                            .map(|e| format!("cannot remove {}: {e}", t.display()))
                    })
                    .collect();
                if failed.is_empty() {
                    fix.status = FixStatus::Applied;
                    finding.resolved = true;
                } else {
                    fix.status = FixStatus::Failed;
                    finding.note("fix failed", failed.join("; "));
                }
            }
        }
        finding.fixes.push(fix);
        out.push((finding, None));
    }
    Ok(out)
}

/// Completes one journal (see [`recover`]).
async fn recover_key(
    r: &Recovery<'_>,
    journal: &Journal,
    e: JournalEntry,
) -> Result<(Finding, Option<(String, AccessKey)>), Failure> {
    let mut finding = Finding::new(
        Code::RunInterrupted,
        Severity::Error,
        format!(
            "An earlier run was stopped while creating an access key for {}",
            e.user
        ),
    )
    .explain(
        "A run stopped half-way (killed, or the machine went down) leaves a journal of the key \
         it was creating. Completing the job puts the account and the files in a state that \
         works: a key that was saved is kept, a key left in the run's temporary file is saved \
         from it, and a key saved nowhere is deleted, since its secret is lost.",
    )
    .evidence("journal", journal.path().display().to_string())
    .evidence("user", &e.user);
    let keys = match list_keys(r.iam, &e.user).await {
        Ok(keys) => keys,
        Err(why) => {
            finding = finding.evidence("cannot list the user's keys", why.to_string());
            return Ok((finding, None));
        }
    };
    let current = std::fs::read_to_string(r.credentials_file).unwrap_or_default();
    // The run's own temporary file: the new credentials file it was about to rename into place.
    let temp = aws_files::leftover_temp_files(r.credentials_file)
        .into_iter()
        .find(|t| temp_pid(t) == Some(e.pid));
    let temp_text = temp.as_ref().and_then(|t| std::fs::read_to_string(t).ok());
    let mut leftovers = Vec::new();
    for k in keys.iter().filter(|k| {
        !e.keys_before.contains(&k.id) && e.key_id.as_ref().is_none_or(|id| *id == k.id)
    }) {
        let profile = e.profile.as_deref();
        let saved = profile.and_then(|p| key_in(&current, p, &k.id));
        let in_temp = profile
            .zip(temp_text.as_deref())
            .and_then(|(p, t)| key_in(t, p, &k.id));
        leftovers.push(match (saved, in_temp) {
            (Some(key), _) => Leftover::Saved { key },
            (None, Some(key)) => Leftover::InTemp { key },
            (None, None) => Leftover::Orphan { id: k.id.clone() },
        });
    }
    let mut plan: Vec<String> = leftovers
        .iter()
        .map(|l| match l {
            Leftover::Saved { key } => format!("keep {} (it was saved)", key.id),
            Leftover::InTemp { key } => {
                format!("save {} from the temporary file it was left in", key.id)
            }
            Leftover::Orphan { id } => format!("delete {id} (saved nowhere: its secret is lost)"),
        })
        .collect();
    if let Some(t) = &temp {
        plan.push(format!("remove {}", t.display()));
    }
    if plan.is_empty() {
        plan.push("nothing was created: remove the journal".into());
    }
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description: format!("Complete the interrupted run: {}", plan.join("; ")),
        command: None,
        status: FixStatus::Proposed,
    };
    let mut changed = None;
    match r.consent.decide(&format!("{}?", fix.description))? {
        Decision::Leave(status) => fix.status = status,
        Decision::Apply => {
            let mut failures = Vec::new();
            let target = SaveTarget {
                credentials_file: r.credentials_file.to_path_buf(),
                profile: e.profile.clone(),
                // Written only if it is not there yet: it is always a new file.
                credentials_out: e.credentials_out.clone().filter(|o| !o.exists()),
            };
            for l in &leftovers {
                match l {
                    Leftover::Saved { key } => {
                        if let Some(out) = &target.credentials_out {
                            if let Err(why) = write_credentials_out(out, key, r.region) {
                                failures.push(format!("cannot write {}: {why}", out.display()));
                            }
                        }
                    }
                    Leftover::InTemp { key } => match save(&target, key, r.region) {
                        Ok(_) => changed = target.profile.clone().map(|p| (p, key.clone())),
                        Err(f) => failures.push(f.why),
                    },
                    Leftover::Orphan { id } => {
                        let deleted = r
                            .iam
                            .iam()
                            .delete_access_key()
                            .user_name(&e.user)
                            .access_key_id(id)
                            .send()
                            .await;
                        if let Err(d) = deleted {
                            failures.push(format!("cannot delete {id}: {}", iam_error(&d)));
                        }
                    }
                }
            }
            if let Some(t) = &temp {
                if let Err(why) = std::fs::remove_file(t) {
                    failures.push(format!("cannot remove {}: {why}", t.display()));
                }
            }
            if failures.is_empty() {
                let _ = journal.clear();
                fix.status = FixStatus::Applied;
                finding.resolved = true;
            } else {
                fix.status = FixStatus::Failed;
                finding.note("fix failed", failures.join("; "));
            }
        }
    }
    finding.fixes.push(fix);
    Ok((finding, changed))
}

pub fn new_step() -> Step {
    Step::new(StepId::AccessKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_descriptions() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let k = KeyInfo {
            id: "AKIAEXAMPLE".into(),
            active: true,
            created: Some(DateTime::from_secs(1_800_000_000 - 120 * 86_400)),
            last_used: Some((
                DateTime::from_secs(1_799_000_000),
                "ses".into(),
                "eu-west-1".into(),
            )),
        };
        assert_eq!(k.age_days(now), Some(120));
        let text = k.describe(Some("AKIAEXAMPLE"), now);
        assert!(
            text.starts_with(
                "AKIAEXAMPLE (in use): Active, created 2026-09-17 (120 days ago), last used"
            ),
            "{text}"
        );
        assert!(text.ends_with("(ses, eu-west-1)"), "{text}");
    }

    #[derive(Default)]
    struct Recorder {
        allowed: bool,
        shown: std::sync::Mutex<Vec<(String, String)>>,
    }

    impl Reveal for Recorder {
        fn can_reveal(&self) -> bool {
            self.allowed
        }
        fn reveal(&self, label: &str, secret: &Secret) {
            self.shown
                .lock()
                .unwrap()
                .push((label.to_owned(), secret.expose().to_owned()));
        }
    }

    fn reveal_with(answers: Vec<crate::consent::scripted::Answer>, recorder: &Recorder) {
        use crate::consent::{scripted::Scripted, Consent, Mode};
        let consent = Consent::new(Mode::Ask, Box::new(Scripted::new(answers)));
        let key = AccessKey {
            id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        offer_reveal(&consent, recorder, &key, "eu-west-1").unwrap();
    }

    #[test]
    fn the_new_secret_is_shown_only_when_the_person_says_so() {
        use crate::consent::scripted::Answer;
        let recorder = Recorder {
            allowed: true,
            ..Default::default()
        };
        reveal_with(
            vec![Answer::Confirm(true), Answer::Confirm(false)],
            &recorder,
        );
        let shown = recorder.shown.lock().unwrap().clone();
        assert_eq!(
            shown,
            vec![(
                "Secret access key for AKIAIOSFODNN7EXAMPLE".to_owned(),
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned()
            )]
        );
        let recorder = Recorder {
            allowed: true,
            ..Default::default()
        };
        reveal_with(
            vec![Answer::Confirm(false), Answer::Confirm(true)],
            &recorder,
        );
        let shown = recorder.shown.lock().unwrap().clone();
        assert_eq!(shown.len(), 1);
        assert_eq!(
            shown[0].0,
            "SMTP password for eu-west-1 (user name AKIAIOSFODNN7EXAMPLE)"
        );
        assert!(shown[0].1.starts_with('B') && shown[0].1.len() == 44);
        // JSON output: nothing is asked (the script is empty) and nothing shown.
        let recorder = Recorder::default();
        reveal_with(vec![], &recorder);
        assert!(recorder.shown.lock().unwrap().is_empty());
    }

    #[test]
    fn credentials_out_is_new_private_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new-key.ini");
        let key = AccessKey {
            id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        write_credentials_out(&path, &key, "eu-west-1").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(text.contains("ses_smtp_password_eu_west_1 = B"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Never over an existing file.
        assert!(write_credentials_out(&path, &key, "eu-west-1").is_err());
    }

    mod concurrency {
        use super::*;
        use crate::consent::{scripted::Scripted, Consent, Mode};
        use crate::fake_aws::{query_ok, Answer, Call, FakeAws};

        const KEYS: [&str; 2] = ["AKIAFIRSTKEYEXAMPLE1", "AKIASECONDKEYEXAMPL2"];

        /// Two keys; the first key's last use is answered last.
        fn iam(call: &Call) -> Answer {
            let a = call.action.as_str();
            match a {
                "ListAccessKeys" => query_ok(a, &format!(
                    "<AccessKeyMetadata>{}</AccessKeyMetadata><IsTruncated>false</IsTruncated>",
                    KEYS.map(|k| format!(
                        "<member><UserName>mailer</UserName><AccessKeyId>{k}</AccessKeyId><Status>Active</Status><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>"
                    )).concat()
                )),
                "GetAccessKeyLastUsed" => {
                    let key = call.param("AccessKeyId").unwrap_or_default();
                    let region = if key == KEYS[0] { "eu-west-1" } else { "us-east-1" };
                    let answer = query_ok(a, &format!(
                        "<UserName>mailer</UserName><AccessKeyLastUsed><LastUsedDate>2024-05-01T00:00:00Z</LastUsedDate><ServiceName>ses</ServiceName><Region>{region}</Region></AccessKeyLastUsed>"
                    ));
                    let delay = if key == KEYS[0] { 3 } else { 1 };
                    Answer::After(Duration::from_secs(delay), Box::new(answer))
                }
                other => panic!("unexpected IAM call {other}"),
            }
        }

        #[tokio::test(start_paused = true)]
        async fn the_last_uses_are_asked_for_together_and_kept_in_order() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let start = tokio::time::Instant::now();
            let keys = list_keys(&fake, "mailer").await.unwrap();
            let got: Vec<(&str, &str)> = keys
                .iter()
                .map(|k| (k.id.as_str(), k.last_used.as_ref().unwrap().2.as_str()))
                .collect();
            assert_eq!(got, [(KEYS[0], "eu-west-1"), (KEYS[1], "us-east-1")]);
            assert_eq!(fake.max_in_flight(), 2, "{:?}", fake.calls());
            // The list (1 s), then the slowest last use (3 s).
            assert_eq!(start.elapsed(), Duration::from_secs(4));
        }

        async fn hygiene(fake: &FakeAws, keys: Option<Result<Vec<KeyInfo>, ListError>>) -> Step {
            let consent = Consent::new(Mode::ReportOnly, Box::new(Scripted::new(vec![])));
            let setup = AwsSetup::new(
                None,
                None,
                aws_runtime::env_config::file::EnvConfigFiles::builder()
                    .with_contents(aws_runtime::env_config::file::EnvConfigFileKind::Config, "")
                    .build(),
                Duration::from_secs(1),
            )
            .unwrap();
            let env = Environment::default();
            let ctx = KeyContext {
                iam: fake,
                env: &env,
                setup: &setup,
                consent: &consent,
                target: &SaveTarget::default(),
                region: "eu-west-1",
                delete_old_key: false,
                deactivate_old_key: false,
                new_keys: &std::sync::Mutex::new(Vec::new()),
            };
            let mut step = new_step();
            check_keys(
                &mut step,
                HygieneInput {
                    ctx: &ctx,
                    user: "mailer",
                    in_use: KEYS[0],
                    rotate: false,
                    keys,
                },
            )
            .await
            .unwrap();
            step
        }

        #[tokio::test(start_paused = true)]
        async fn a_list_made_earlier_is_used_when_it_holds_the_key_in_use() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let listed = list_keys(&fake, "mailer").await;
            let before = fake.calls().len();
            let step = hygiene(&fake, Some(listed)).await;
            assert_eq!(fake.calls().len(), before, "{:?}", fake.calls());
            let spare = step
                .findings
                .iter()
                .find(|f| f.code == Code::AccessKeyUnused)
                .unwrap();
            assert!(spare.title.contains(KEYS[1]), "{}", spare.title);

            // Listed before a repair that made a new key: listed again.
            let stale = vec![KeyInfo {
                id: "AKIAOLDKEYEXAMPLE999".into(),
                active: true,
                created: None,
                last_used: None,
            }];
            let step = hygiene(&fake, Some(Ok(stale))).await;
            assert_eq!(fake.calls()[before], "ListAccessKeys(UserName=mailer)");
            assert!(!format!("{:?}", step.findings).contains("AKIAOLDKEYEXAMPLE999"));
        }
    }
}
