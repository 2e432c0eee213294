//! Step 5: an IAM user to send with, when there is none (root keys in use, the user was
//! deleted) or one was asked for (`--new-user`). Created, granted as in step 3, and given a key
//! as in step 4. An existing user of that name is used only when that is what was meant.

use crate::codes::Code;
use crate::consent::Decision;
use crate::diagnose::access_key::{self, KeyContext, Purpose, Working};
use crate::diagnose::permissions::{self, PolicyChoice};
use crate::exit::Failure;
use crate::report::{Finding, Fix, FixKind, FixStatus, Severity, Step, StepId};
use aws_sdk_iam::error::ProvideErrorMetadata;

/// The default name of the user ses-doctor creates.
pub const DEFAULT_USER: &str = "ses-sender";

/// IAM user names: 1-64 characters of letters, digits and `+=,.@_-`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a valid IAM user name (1-64 letters, digits and +=,.@_-)"
        ))
    }
}

pub struct NewUser<'a> {
    pub ctx: &'a KeyContext<'a>,
    pub name: &'a str,
    /// `--reuse-user`: an existing user of that name is the one to use.
    pub reuse: bool,
    pub policy: PolicyChoice,
    /// Identity ARNs for the send-only policy; empty when unknown (the user is made before the
    /// region scan): then every identity of the user's account, in any region.
    pub resources: Vec<String>,
    /// The mailer's profile holds root keys, which the new user's key takes the place of.
    pub replaces_root: bool,
}

pub fn new_step() -> Step {
    Step::new(StepId::IamUser)
}

/// Why a user is needed, as a finding of step 5 (root keys are reported by step 1 instead).
pub fn missing_user(name: &str) -> Finding {
    Finding::new(
        Code::IamUserMissing,
        Severity::Error,
        format!("There is no IAM user {name}"),
    )
    .explain(
        "The user the mailer's key belonged to no longer exists (deleting a user deletes its \
         keys), or the name is mistyped. A new user with permission to send and a new key \
         replaces it.",
    )
}

/// After the mailer moved off the root keys: they still work until the root user deletes them.
pub fn root_keys_active(root_key: &Result<crate::secret::AccessKey, String>) -> Finding {
    let id = root_key
        .as_ref()
        .map(|k| k.id.as_str())
        .unwrap_or("(unknown)");
    Finding::new(
        Code::RootCredentials,
        Severity::Warning,
        format!("The root user's access key {id} is still active"),
    )
    .explain(
        "The mailer no longer needs it, but anyone who has it can do anything in the account. \
         Only the root user can delete it (ses-doctor does not): sign in as root, then \
         Security credentials > Access keys > Delete. It stays in the backup file until then.",
    )
    .fix(Fix::manual(format!(
        "Delete the root access key {id} (console, signed in as root: Security credentials)"
    )))
}

pub fn requested(name: &str) -> Finding {
    Finding::new(
        Code::IamUserRequested,
        Severity::Info,
        format!("A dedicated IAM user for sending was asked for: {name}"),
    )
    .explain(
        "A user that may only send mail, used by nothing else, limits what a leaked key can do \
         and makes rotation simple.",
    )
}

/// Creates (or reuses, when meant) the user, grants it, and gives it a saved, proven key.
pub async fn create_sender(
    step: &mut Step,
    finding: &mut Finding,
    input: NewUser<'_>,
) -> Result<Option<Working>, Failure> {
    let ctx = input.ctx;
    let name = input.name;
    let iam = ctx.iam.iam();
    let grant = permissions::grant_description(input.policy);
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description: format!(
            "Create the IAM user {name} with {grant} and a new access key saved in {}{}",
            target_text(ctx),
            if input.replaces_root && ctx.target.profile.is_some() {
                " in place of the root user's keys (kept in the backup)"
            } else {
                ""
            }
        ),
        command: Some(format!("aws iam create-user --user-name {name}")),
        status: FixStatus::Proposed,
    };
    finding.fixes.retain(|f| f.kind != FixKind::Manual);
    if !ctx.target.is_set() {
        fix.description
            .push_str(" (give --write-profile NAME or --credentials-out FILE to say where)");
        finding.fixes.push(fix);
        return Ok(None);
    }

    let mut user_arn = None;
    let exists = match iam.get_user().user_name(name).send().await {
        Ok(out) => {
            user_arn = out.user().map(|u| u.arn().to_owned());
            true
        }
        Err(e) if e.code() == Some("NoSuchEntity") => false,
        Err(e) => {
            fix.status = FixStatus::Failed;
            finding.note(
                "fix failed",
                format!("GetUser: {}", e.code().unwrap_or("error")),
            );
            finding.fixes.push(fix);
            return Ok(None);
        }
    };
    let reuse = exists
        && (input.reuse
            || ctx.consent.ask(&format!(
                "The IAM user {name} already exists. Is it the one to send with?"
            ))?);
    if exists && !reuse {
        fix.description = format!(
            "The IAM user {name} already exists: choose another --user-name, or pass --reuse-user if it is the one to send with"
        );
        fix.kind = FixKind::Manual;
        finding.fixes.push(fix);
        return Ok(None);
    }
    if reuse {
        fix.description = format!(
            "Use the existing IAM user {name}: grant it {grant} and a new access key saved in {}",
            target_text(ctx)
        );
    }
    match ctx.consent.decide(&format!("{}?", fix.description))? {
        Decision::Leave(status) => {
            fix.status = status;
            finding.fixes.push(fix);
            return Ok(None);
        }
        Decision::Apply => {}
    }
    if !reuse {
        let created = iam
            .create_user()
            .user_name(name)
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("created-by")
                    .value("ses-doctor")
                    .build()
                    .expect("key and value are set"),
            )
            .send()
            .await;
        let created = created.map(|out| {
            user_arn = out.user().map(|u| u.arn().to_owned());
        });
        if let Err(e) = created {
            fix.status = FixStatus::Failed;
            finding.note(
                "fix failed",
                format!(
                    "CreateUser: {}: {}",
                    e.code().unwrap_or("error"),
                    e.message().unwrap_or_default()
                ),
            );
            finding.fixes.push(fix);
            return Ok(None);
        }
        finding.note("user", format!("created {name}"));
    }
    let resources = match user_arn.as_deref() {
        Some(arn) if input.resources.is_empty() => match permissions::account_of(arn) {
            Some(account) => {
                permissions::resource_arns(permissions::partition_of(arn), account, "*", &[])
            }
            // IAM always gives the account; should it not, sending is still all it may do.
            None => vec!["*".into()],
        },
        Some(_) => input.resources.clone(),
        None => vec!["*".into()],
    };
    if let Err(e) = permissions::grant(
        &iam,
        &permissions::Principal::User(name.to_owned()),
        input.policy,
        &resources,
    )
    .await
    {
        fix.status = FixStatus::Failed;
        finding.note(
            "state",
            format!("the user {name} exists but could not be granted {grant}: {e}"),
        );
        finding.fixes.push(fix);
        return Ok(None);
    }
    finding.note("granted", format!("{grant} for {name}"));
    fix.status = FixStatus::Applied;
    finding.fixes.push(fix);
    // The key, as in step 4: saved at once, then proven.
    let working = access_key::create_key(ctx, step, finding, name, None, Purpose::NewUser).await?;
    if working.is_none() {
        finding.resolved = false;
    }
    Ok(working)
}

fn target_text(ctx: &KeyContext<'_>) -> String {
    if ctx.target.is_set() {
        let mut parts = Vec::new();
        if let Some(p) = &ctx.target.profile {
            parts.push(format!("profile '{p}'"));
        }
        if let Some(f) = &ctx.target.credentials_out {
            parts.push(f.display().to_string());
        }
        parts.join(" and ")
    } else {
        "(nowhere yet)".into()
    }
}
