//! Step 3: may this user send? `iam SimulatePrincipalPolicy` for `ses:SendEmail` and
//! `ses:SendRawEmail` on the verified identities, and the user's policies listed. When IAM is
//! closed to ses-doctor, SES itself is asked: a send from an address no one can have verified is
//! refused with AccessDenied when the permission is missing, and with MessageRejected (nothing
//! is sent) when it is there.

use crate::aws_setup::Clients;
use crate::codes::Code;
use crate::concurrent::{alongside, join_all};
use crate::consent::{Consent, Decision};
use crate::diagnose::aws_errors;
use crate::diagnose::identity::Caller;
use crate::exit::Failure;
use crate::report::{Finding, Fix, FixKind, FixStatus, Severity, Step, StepId};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::PolicyEvaluationDecisionType as Decide;
use std::time::Duration;

pub const SEND_ACTIONS: [&str; 2] = ["ses:SendEmail", "ses:SendRawEmail"];
pub const FULL_ACCESS_ARN: &str = "arn:aws:iam::aws:policy/AmazonSESFullAccess";
pub const SEND_ONLY_POLICY_NAME: &str = "ses-doctor-send";
/// The probe's sender: `.invalid` is reserved (RFC 2606), so no one can have verified it and
/// SES can never deliver the probe.
const PROBE_FROM: &str = "ses-doctor-probe@permission-check.invalid";

/// Mailers whose own "test connection" asks SES for more than sending, with what they ask: a
/// send-only grant is not enough for that button, though it is for their mail.
pub const MAILER_TESTS_NEED: &str =
    "FluentSMTP's connection test also calls ses:ListIdentities and ses:GetSendQuota";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyChoice {
    /// Attach AWS's managed AmazonSESFullAccess (what the older guides advise).
    FullAccess,
    /// An inline policy allowing only ses:SendEmail and ses:SendRawEmail on the identities
    /// (the default: AWS's guidance is least privilege, never `*FullAccess`, for a sender).
    SendOnly,
}

/// The decision for one action, and what decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDecision {
    pub action: &'static str,
    pub decision: Verdict,
    /// Policies whose statements matched ("AmazonSESFullAccess (aws-managed)").
    pub sources: Vec<String>,
    /// Layers above the identity policies that refuse the action (the simulation's boundary
    /// and Organizations details, or SES's own words): granting cannot fix those, even when
    /// the refusal is no explicit Deny.
    pub blocked_by: Vec<Blocker>,
}

/// A layer above the principal's own policies that refuses an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocker {
    PermissionsBoundary,
    OrganizationScp,
}

/// Where an explicit Deny (or a refusing boundary or SCP) lives: each needs its own fix, and
/// none is fixed by granting more.
#[derive(Clone, Debug, PartialEq, Eq)]
enum DenyLayer {
    /// The principal's own policies (inline or attached to it).
    Identity(Vec<String>),
    /// A policy of a group the user is in: (policy, group).
    Group(Vec<(String, String)>),
    /// The permissions boundary; `explicit`: a Deny in it, else it simply does not allow.
    Boundary {
        policies: Vec<String>,
        explicit: bool,
    },
    OrganizationScp,
    /// An explicit Deny no identity statement matched: a boundary or an SCP, not told apart.
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

pub struct PermissionInput<'a> {
    pub caller: &'a Caller,
    /// For IAM: the admin credentials when given, else the sending ones.
    pub iam: &'a dyn Clients,
    pub iam_is_admin: bool,
    /// The sending credentials, for the SES probe.
    pub sending: &'a dyn Clients,
    pub region: &'a str,
    /// Verified identities in `region`, to simulate against.
    pub identities: &'a [String],
    pub policy: PolicyChoice,
    pub consent: &'a Consent,
    /// From [`lookup`], started earlier; `None`: looked up here. Used only when it was made for
    /// this caller (a repaired key or a new user changes whose policies decide).
    pub prefetched: Option<Prefetched>,
}

/// What step 3 asks IAM that depends only on the caller, not on the region or the identities:
/// the principal's ARN to simulate, and its policies. [`lookup`] gets it, so that it can be
/// started as soon as the caller is known, alongside the region scan.
#[derive(Clone, Debug)]
pub struct Prefetched {
    /// The caller it was made for.
    caller_arn: String,
    arn: String,
    policies: Policies,
}

/// Step 3's look-ups that do not depend on the region (see [`Prefetched`]), with `iam`: the
/// same clients as [`PermissionInput::iam`]. Its calls are read-only.
pub async fn lookup(iam: &dyn Clients, caller: &Caller) -> Prefetched {
    let (arn, policies) = match Principal::of(caller) {
        Some(principal) => {
            tokio::join!(principal.arn(caller, iam), list_policies(iam, &principal))
        }
        // Step 3 is skipped for such a caller: nothing to ask.
        None => (caller.arn.clone(), Policies::default()),
    };
    Prefetched {
        caller_arn: caller.arn.clone(),
        arn,
        policies,
    }
}

/// Whose policies decide: an IAM user's, or the role's behind assumed-role credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    User(String),
    Role(String),
}

impl Principal {
    pub fn of(caller: &Caller) -> Option<Principal> {
        match (&caller.user_name, &caller.role_name) {
            (Some(user), _) => Some(Principal::User(user.clone())),
            (None, Some(role)) => Some(Principal::Role(role.clone())),
            _ => None,
        }
    }

    /// `user` or `role`, as in the AWS CLI's `attach-user-policy --user-name`.
    fn kind(&self) -> &'static str {
        match self {
            Principal::User(_) => "user",
            Principal::Role(_) => "role",
        }
    }

    fn name(&self) -> &str {
        match self {
            Principal::User(n) | Principal::Role(n) => n,
        }
    }

    /// The IAM ARN to simulate: the user's as STS gave it; for a role, IAM's own (with its path).
    async fn arn(&self, caller: &Caller, iam: &dyn Clients) -> String {
        match self {
            Principal::User(_) => caller.arn.clone(),
            Principal::Role(name) => match iam.iam().get_role().role_name(name).send().await {
                Ok(out) => out.role().map(|r| r.arn().to_owned()).unwrap_or_default(),
                Err(_) => {
                    let partition = caller.arn.split(':').nth(1).unwrap_or("aws");
                    format!("arn:{partition}:iam::{}:role/{name}", caller.account)
                }
            },
        }
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::User(n) => f.write_str(n),
            Principal::Role(n) => write!(f, "role {n}"),
        }
    }
}

pub async fn check(input: PermissionInput<'_>) -> Result<Step, Failure> {
    let mut step = Step::new(StepId::Permissions);
    let Some(principal) = Principal::of(input.caller) else {
        step.reason =
            Some("the credentials are neither an IAM user's nor a role's (see step 1)".into());
        step.status = crate::report::StepStatus::Skipped;
        return Ok(step);
    };
    let user = &principal;
    let resources = resource_arns(
        partition_of(&input.caller.arn),
        &input.caller.account,
        input.region,
        input.identities,
    );
    let prefetched = input
        .prefetched
        .as_ref()
        .filter(|p| p.caller_arn == input.caller.arn);
    // The simulation does not wait for the policy list, which is needed only when it answers.
    let simulation = async {
        let arn = match prefetched {
            Some(p) => p.arn.clone(),
            None => principal.arn(input.caller, input.iam).await,
        };
        let decisions = simulate(input.iam, &arn, &resources).await;
        (arn, decisions)
    };
    let listing = async {
        match prefetched {
            Some(p) => p.policies.clone(),
            None => list_policies(input.iam, user).await,
        }
    };
    let ((arn, decisions), listing) = alongside(simulation, listing).await;

    let decisions = match decisions {
        Ok(d) => d,
        Err(e) => {
            // Without a simulation the policy list is not needed: its calls are cancelled.
            drop(listing);
            return simulation_failed(&input, user, step, e).await;
        }
    };
    let policies = listing.finish().await;
    let mut finding = judge(&decisions, &user.to_string(), &policies);
    if matches!(finding.code, Code::PermissionMissing) {
        apply_grant(&mut finding, &input, user, &arn, &resources).await?;
    }
    step.push(finding);
    Ok(step)
}

/// Step 3 when the simulation gave no decisions.
async fn simulation_failed(
    input: &PermissionInput<'_>,
    user: &Principal,
    mut step: Step,
    error: SimulationError,
) -> Result<Step, Failure> {
    match error {
        SimulationError::Denied(message) => probe_fallback(input, user, step, message).await,
        SimulationError::Trouble(t) => {
            let finding = aws_errors::finding_for(&t, "IAM", input.iam);
            step.mark_incomplete(finding.title.clone());
            step.push(finding);
            Ok(step)
        }
        SimulationError::Other(message) => {
            step.push(
                Finding::new(
                    Code::AwsCallFailed,
                    Severity::Error,
                    "IAM could not simulate the user's policies",
                )
                .explain("The raw error is below.")
                .evidence("AWS said", message),
            );
            Ok(step)
        }
    }
}

/// What a send-only grant covers, and what is simulated: the identities' ARNs, or, when none is
/// known, every identity of the account in `region` (`*`: in any region). Never `*` itself: a
/// sender's key should not send as another account's identity it was authorised for.
pub fn resource_arns(
    partition: &str,
    account: &str,
    region: &str,
    identities: &[String],
) -> Vec<String> {
    if identities.is_empty() {
        return vec![format!("arn:{partition}:ses:{region}:{account}:identity/*")];
    }
    identities
        .iter()
        .map(|i| format!("arn:{partition}:ses:{region}:{account}:identity/{i}"))
        .collect()
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it is not one.
pub fn partition_of(arn: &str) -> &str {
    match arn.split(':').nth(1) {
        Some(p) if arn.starts_with("arn:") && !p.is_empty() => p,
        _ => "aws",
    }
}

/// The account of an ARN (its fifth field), when it has one.
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

enum SimulationError {
    /// The credentials may not call IAM.
    Denied(String),
    /// No usable answer from IAM: nothing is known about the permission.
    Trouble(aws_errors::Trouble),
    Other(String),
}

async fn simulate(
    clients: &dyn Clients,
    arn: &str,
    resources: &[String],
) -> Result<Vec<ActionDecision>, SimulationError> {
    let mut request = clients
        .iam()
        .simulate_principal_policy()
        .policy_source_arn(arn);
    for action in SEND_ACTIONS {
        request = request.action_names(action);
    }
    for resource in resources {
        request = request.resource_arns(resource);
    }
    let out = request.send().await.map_err(|e| {
        if let Some(t) = aws_errors::trouble(&e) {
            return SimulationError::Trouble(t);
        }
        let code = e.code().unwrap_or_default().to_owned();
        let message = e.message().unwrap_or_default().to_owned();
        if code == "AccessDenied" || code == "AccessDeniedException" {
            SimulationError::Denied(message)
        } else if code.is_empty() {
            SimulationError::Other(crate::exit::error_chain(&e))
        } else {
            SimulationError::Other(format!("{code}: {message}"))
        }
    })?;
    Ok(SEND_ACTIONS
        .iter()
        .map(|action| {
            let results: Vec<_> = out
                .evaluation_results()
                .iter()
                .filter(|r| r.eval_action_name() == *action)
                .collect();
            // The most restrictive decision wins, over every resource.
            let mut decision = Verdict::Allowed;
            let mut sources = Vec::new();
            if results.is_empty() {
                decision = Verdict::ImplicitDeny;
            }
            for r in &results {
                let mut per_resource: Vec<&Decide> = r
                    .resource_specific_results()
                    .iter()
                    .map(|rr| rr.eval_resource_decision())
                    .collect();
                per_resource.push(r.eval_decision());
                for d in per_resource {
                    decision = match (decision, d) {
                        (_, Decide::ExplicitDeny) | (Verdict::ExplicitDeny, _) => {
                            Verdict::ExplicitDeny
                        }
                        (_, Decide::ImplicitDeny) | (Verdict::ImplicitDeny, _) => {
                            Verdict::ImplicitDeny
                        }
                        _ => decision,
                    };
                }
                for m in r.matched_statements() {
                    let id = m.source_policy_id().unwrap_or("a policy");
                    let kind = m
                        .source_policy_type()
                        .map(|t| t.as_str())
                        .unwrap_or("unknown");
                    let s = format!("{id} ({kind})");
                    if !sources.contains(&s) {
                        sources.push(s);
                    }
                }
            }
            let mut blocked_by = Vec::new();
            if results.iter().any(|r| {
                r.permissions_boundary_decision_detail()
                    .is_some_and(|d| !d.allowed_by_permissions_boundary())
            }) {
                blocked_by.push(Blocker::PermissionsBoundary);
            }
            if results.iter().any(|r| {
                r.organizations_decision_detail()
                    .is_some_and(|d| !d.allowed_by_organizations())
            }) {
                blocked_by.push(Blocker::OrganizationScp);
            }
            ActionDecision {
                action,
                decision,
                sources,
                blocked_by,
            }
        })
        .collect())
}

/// The user's policies, for the report: attached, inline, and through groups.
#[derive(Clone, Debug, Default)]
pub struct Policies {
    pub lines: Vec<String>,
    pub full_access: Option<String>,
    /// Set when IAM refused to list them.
    pub unknown: Option<String>,
}

async fn list_policies(clients: &dyn Clients, principal: &Principal) -> Policies {
    match principal {
        Principal::User(user) => list_user_policies(&clients.iam(), user).await,
        Principal::Role(role) => list_role_policies(&clients.iam(), role).await,
    }
}

/// The role's attached and inline policies, asked for together.
async fn list_role_policies(iam: &aws_sdk_iam::Client, role: &str) -> Policies {
    let mut p = Policies::default();
    let (attached, inline) = tokio::join!(
        iam.list_attached_role_policies().role_name(role).send(),
        iam.list_role_policies().role_name(role).send(),
    );
    match attached {
        Ok(out) => {
            for a in out.attached_policies() {
                if a.policy_arn() == Some(FULL_ACCESS_ARN) {
                    p.full_access = Some("attached to the role".into());
                }
                p.lines.push(format!(
                    "{} (attached)",
                    a.policy_name().unwrap_or_default()
                ));
            }
        }
        Err(e) => {
            p.unknown = Some(e.code().unwrap_or("error").to_owned());
            return p;
        }
    }
    if let Ok(out) = inline {
        for name in out.policy_names() {
            p.lines.push(format!("{name} (inline)"));
        }
    }
    p
}

/// The user's policies: attached, inline, and each group's, all asked for at once (the groups'
/// lists wait only for the list of groups). Assembled in a fixed order whatever answers first.
async fn list_user_policies(iam: &aws_sdk_iam::Client, user: &str) -> Policies {
    let mut p = Policies::default();
    let groups = async {
        let groups = iam
            .list_groups_for_user()
            .user_name(user)
            .send()
            .await
            .ok()?;
        let names: Vec<String> = groups
            .groups()
            .iter()
            .map(|g| g.group_name().to_owned())
            .collect();
        let lists = join_all(names.iter().map(|group| async move {
            tokio::join!(
                iam.list_attached_group_policies().group_name(group).send(),
                iam.list_group_policies().group_name(group).send(),
            )
        }))
        .await;
        Some(names.into_iter().zip(lists).collect::<Vec<_>>())
    };
    let (attached, inline, groups) = tokio::join!(
        iam.list_attached_user_policies().user_name(user).send(),
        iam.list_user_policies().user_name(user).send(),
        groups,
    );
    match attached {
        Ok(out) => {
            for a in out.attached_policies() {
                let name = a.policy_name().unwrap_or_default();
                if a.policy_arn() == Some(FULL_ACCESS_ARN) {
                    p.full_access = Some("attached to the user".into());
                }
                p.lines.push(format!("{name} (attached)"));
            }
        }
        Err(e) => {
            p.unknown = Some(e.code().unwrap_or("error").to_owned());
            return p;
        }
    }
    if let Ok(out) = inline {
        for name in out.policy_names() {
            p.lines.push(format!("{name} (inline)"));
        }
    }
    for (group, (attached, inline)) in groups.unwrap_or_default() {
        if let Ok(out) = attached {
            for a in out.attached_policies() {
                if a.policy_arn() == Some(FULL_ACCESS_ARN) {
                    p.full_access = Some(format!("through group {group}"));
                }
                p.lines.push(format!(
                    "{} (attached to group {group})",
                    a.policy_name().unwrap_or_default()
                ));
            }
        }
        if let Ok(out) = inline {
            for name in out.policy_names() {
                p.lines.push(format!("{name} (inline in group {group})"));
            }
        }
    }
    p
}

fn add_policy_evidence(mut f: Finding, policies: &Policies) -> Finding {
    match &policies.unknown {
        Some(code) => f = f.evidence("policies", format!("could not be listed ({code})")),
        None => {
            let list = if policies.lines.is_empty() {
                "none".to_owned()
            } else {
                policies.lines.join(", ")
            };
            f = f.evidence("policies", list).evidence(
                "AmazonSESFullAccess",
                policies
                    .full_access
                    .clone()
                    .unwrap_or_else(|| "not attached".into()),
            );
        }
    }
    f
}

fn decision_text(d: &ActionDecision) -> String {
    let verdict = match d.decision {
        Verdict::Allowed => "allowed",
        Verdict::ImplicitDeny => "not allowed (no policy grants it)",
        Verdict::ExplicitDeny => "explicitly denied",
    };
    if d.sources.is_empty() {
        verdict.to_owned()
    } else {
        format!("{verdict} by {}", d.sources.join(", "))
    }
}

/// The finding for a set of decisions.
pub fn judge(decisions: &[ActionDecision], user: &str, policies: &Policies) -> Finding {
    // A boundary or an SCP that refuses is no more fixable by granting than a Deny.
    let denied: Vec<&ActionDecision> = decisions
        .iter()
        .filter(|d| d.decision == Verdict::ExplicitDeny || !d.blocked_by.is_empty())
        .collect();
    let missing: Vec<&ActionDecision> = decisions
        .iter()
        .filter(|d| d.decision == Verdict::ImplicitDeny && d.blocked_by.is_empty())
        .collect();
    let mut f = if !denied.is_empty() {
        denied_finding(&denied, user, policies)
    } else if !missing.is_empty() {
        let actions: Vec<&str> = missing.iter().map(|d| d.action).collect();
        let raw_ok = decisions
            .iter()
            .any(|d| d.action == "ses:SendRawEmail" && d.decision == Verdict::Allowed);
        let (severity, why) = if raw_ok {
            (
                Severity::Warning,
                "ses:SendRawEmail is allowed, which is all SMTP needs, but the SES API's SendEmail \
                 is refused: a mailer using the API fails with \"not authorized to perform \
                 ses:SendEmail\".",
            )
        } else {
            (
                Severity::Error,
                "No policy of the user allows sending, so SES answers \"AccessDenied: User ... is \
                 not authorized to perform ses:SendRawEmail\" (SMTP answers 554 or 535).",
            )
        };
        Finding::new(
            Code::PermissionMissing,
            severity,
            format!("{user} is not allowed {}", actions.join(" or ")),
        )
        .explain(why)
    } else {
        Finding::new(
            Code::PermissionGranted,
            Severity::Pass,
            format!("{user} may send with ses:SendEmail and ses:SendRawEmail"),
        )
    };
    for d in decisions {
        f = f.evidence(d.action, decision_text(d));
    }
    add_policy_evidence(f, policies)
}

/// Which layer refuses: the simulation's details first (an SCP, then a boundary), then where the
/// denying policies are attached, from the policy list.
fn deny_layer(denied: &[&ActionDecision], policies: &Policies) -> DenyLayer {
    let blocked = |b: Blocker| denied.iter().any(|d| d.blocked_by.contains(&b));
    let explicit = denied.iter().any(|d| d.decision == Verdict::ExplicitDeny);
    let mut names: Vec<String> = Vec::new();
    let mut raw: Vec<String> = Vec::new();
    for s in denied.iter().flat_map(|d| d.sources.iter()) {
        if !raw.contains(s) {
            raw.push(s.clone());
        }
        // "NoSending (user)" -> "NoSending"; SES's own words are kept whole.
        let name = match s.rsplit_once(" (") {
            Some((name, _)) => name.to_owned(),
            None => s.clone(),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // Where a policy of that name is attached, from the listing: None when it is in none of
    // them (a boundary's policy is not listed among the user's).
    let attached_to = |name: &str| {
        policies
            .lines
            .iter()
            .find(|l| l.starts_with(&format!("{name} (")))
            .map(|l| {
                l.rsplit_once(" group ")
                    .map(|(_, g)| g.trim_end_matches(')').to_owned())
            })
    };
    if blocked(Blocker::OrganizationScp) {
        return DenyLayer::OrganizationScp;
    }
    if blocked(Blocker::PermissionsBoundary) {
        let own: Vec<String> = names
            .iter()
            .filter(|n| policies.unknown.is_none() && attached_to(n).is_none())
            .cloned()
            .collect();
        return DenyLayer::Boundary {
            policies: own,
            explicit,
        };
    }
    if names.is_empty() {
        return DenyLayer::Unknown;
    }
    if policies.unknown.is_some() {
        return DenyLayer::Identity(raw);
    }
    let groups: Vec<(String, String)> = names
        .iter()
        .filter_map(|n| attached_to(n).flatten().map(|g| (n.clone(), g)))
        .collect();
    if groups.len() == names.len() {
        DenyLayer::Group(groups)
    } else {
        DenyLayer::Identity(raw)
    }
}

/// The finding for a refusal granting cannot fix, with the layer's own evidence and advice.
fn denied_finding(denied: &[&ActionDecision], user: &str, policies: &Policies) -> Finding {
    let actions = "ses:SendEmail / ses:SendRawEmail";
    match deny_layer(denied, policies) {
        DenyLayer::Identity(names) => {
            let by = names.join(", ");
            Finding::new(
                Code::PermissionExplicitlyDenied,
                Severity::Error,
                format!("Sending is explicitly denied to {user} by {by}"),
            )
            .explain(
                "A Deny statement in the user's own policies overrides every Allow, so attaching \
                 AmazonSESFullAccess cannot fix this. Remove or narrow the Deny statement, or send \
                 with a user it does not apply to.",
            )
            .evidence("layer", "identity policy")
            .fix(Fix::manual(format!(
                "Remove the Deny on {actions} from {by}"
            )))
        }
        DenyLayer::Group(pairs) => {
            let by: Vec<String> = pairs
                .iter()
                .map(|(p, g)| format!("{p} of group {g}"))
                .collect();
            let by = by.join(", ");
            let mut f = Finding::new(
                Code::PermissionExplicitlyDenied,
                Severity::Error,
                format!("Sending is explicitly denied to {user} by {by}"),
            )
            .explain(
                "The Deny is in a policy of a group the user is in, so it applies to every member \
                 and overrides every Allow: granting cannot fix it. Remove or narrow the Deny in \
                 the group's policy (it affects the whole group), or take the user out of the \
                 group.",
            )
            .evidence("layer", "group policy");
            for (policy, group) in &pairs {
                f = f.fix(
                    Fix::manual(format!(
                        "Remove the Deny on {actions} from {policy} of group {group}, or take {user} out of group {group}"
                    ))
                    .command(format!(
                        "aws iam remove-user-from-group --group-name {group} --user-name {user}"
                    )),
                );
            }
            f
        }
        DenyLayer::Boundary { policies, explicit } => {
            let boundary = match policies.as_slice() {
                [] => "its permissions boundary".to_owned(),
                names => format!("its permissions boundary {}", names.join(", ")),
            };
            let title = if explicit {
                format!("Sending is explicitly denied to {user} by {boundary}")
            } else {
                format!("Sending is outside {user}'s permissions boundary: {boundary} does not allow it")
            };
            Finding::new(Code::PermissionExplicitlyDenied, Severity::Error, title)
                .explain(
                    "A permissions boundary caps what the user's policies may grant: an action it \
                     denies, or does not allow, is refused whatever the policies allow, so \
                     granting (AmazonSESFullAccess included) cannot fix this. Whoever set the \
                     boundary meant to cap this user: ask them.",
                )
                .evidence("layer", "permissions boundary")
                .fix(Fix::manual(format!(
                    "Allow {actions} in the boundary policy ({boundary}), or remove the boundary if it no longer applies (aws iam delete-user-permissions-boundary / delete-role-permissions-boundary)"
                )))
        }
        DenyLayer::OrganizationScp => Finding::new(
            Code::PermissionExplicitlyDenied,
            Severity::Error,
            format!("Sending is denied to {user} by an organization service control policy (SCP)"),
        )
        .explain(
            "An SCP of the AWS Organization caps every principal of the account, the root user \
             included: nothing in this account can override it, and granting cannot fix it. Only \
             the organization's management account can change it.",
        )
        .evidence("layer", "organization SCP")
        .fix(Fix::manual(format!(
            "Ask the organization's administrator to allow {actions} in the SCP that covers this account (AWS Organizations > Policies > Service control policies), or send from an account it does not cover"
        ))),
        DenyLayer::Unknown => {
            let source = "a permissions boundary or an organization SCP (no identity policy of the user matched)";
            Finding::new(
                Code::PermissionExplicitlyDenied,
                Severity::Error,
                format!("Sending is explicitly denied to {user} by {source}"),
            )
            .explain(
                "An explicit Deny overrides every Allow, so attaching AmazonSESFullAccess cannot \
                 fix this. No policy of the user matched, so it is in a permissions boundary or \
                 an organization SCP.",
            )
            .evidence("layer", "permissions boundary or organization SCP")
            .fix(Fix::manual(format!(
                "Remove the Deny on {actions} from the user's permissions boundary, or ask the organization's administrator about its SCPs"
            )))
        }
    }
}

fn send_only_document(resources: &[String]) -> String {
    // SES also authorises SendEmail against the configuration set a message names (or the
    // identity's default one), so the account's configuration sets where the identities are go
    // with them: otherwise a mailer that sets one is refused with this very policy.
    let mut all: Vec<String> = resources.to_vec();
    for r in resources {
        if let Some((region_account, _)) = r.rsplit_once(":identity/") {
            let sets = format!("{region_account}:configuration-set/*");
            if !all.contains(&sets) {
                all.push(sets);
            }
        }
    }
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SesDoctorSend",
            "Effect": "Allow",
            "Action": SEND_ACTIONS,
            "Resource": all,
        }]
    })
    .to_string()
}

/// The identities a send-only grant covers, in words.
fn scope_text(resources: &[String]) -> String {
    let names: Vec<&str> = resources
        .iter()
        .filter_map(|r| r.rsplit_once(":identity/").map(|(_, name)| name))
        .collect();
    match names.as_slice() {
        ["*"] => "the account's identities".to_owned(),
        [one] => (*one).to_owned(),
        [first, other] => format!("{first} and {other}"),
        [first, rest @ ..] => format!("{first} and {} more identities", rest.len()),
        [] => "no identity".to_owned(),
    }
}

/// Grant the permission (with consent), then wait for IAM to show it: IAM is eventually
/// consistent, so the simulation is repeated for a bounded time.
async fn apply_grant(
    finding: &mut Finding,
    input: &PermissionInput<'_>,
    user: &Principal,
    arn: &str,
    resources: &[String],
) -> Result<(), Failure> {
    let (kind, name) = (user.kind(), user.name());
    let (description, command) = match input.policy {
        PolicyChoice::FullAccess => (
            format!("Attach AmazonSESFullAccess to {user}"),
            format!("aws iam attach-{kind}-policy --{kind}-name {name} --policy-arn {FULL_ACCESS_ARN}"),
        ),
        PolicyChoice::SendOnly => (
            format!("Let {user} send from {} only (inline policy {SEND_ONLY_POLICY_NAME})", scope_text(resources)),
            format!(
                "aws iam put-{kind}-policy --{kind}-name {name} --policy-name {SEND_ONLY_POLICY_NAME} --policy-document '{}'",
                send_only_document(resources)
            ),
        ),
    };
    let mut fix = Fix {
        kind: FixKind::Automatic,
        description,
        command: Some(command),
        status: FixStatus::Proposed,
    };
    if !input.iam_is_admin {
        // The user may grant itself nothing it cannot already do; say so rather than try.
        fix.description
            .push_str(" (needs admin credentials: --admin-profile)");
    }
    let question = format!("{}?", fix.description);
    if input.policy == PolicyChoice::SendOnly {
        fix.description.push_str(&format!(
            ". Enough to send; a mailer's own connection test may need more ({MAILER_TESTS_NEED}): allow those too, or use --policy full-access"
        ));
    }
    match input.consent.decide(&question)? {
        Decision::Leave(status) => fix.status = status,
        Decision::Apply => match grant(&input.iam.iam(), user, input.policy, resources).await {
            Err(message) => {
                fix.status = FixStatus::Failed;
                finding.note("fix failed", message);
            }
            Ok(()) => {
                fix.status = FixStatus::Applied;
                match wait_until_allowed(input.iam, arn, resources).await {
                    Some(waited) => {
                        finding.resolved = true;
                        finding.note("after the fix", format!("IAM allows both actions (confirmed after {} s)", waited.as_secs()));
                    }
                    None => finding.note("after the fix", "IAM does not show the permission yet (it can take a minute): run ses-doctor again"),
                }
            }
        },
    }
    finding.fixes.push(fix);
    Ok(())
}

/// Grants the principal the right to send: AmazonSESFullAccess, or the send-only inline policy
/// on `resources`.
pub async fn grant(
    iam: &aws_sdk_iam::Client,
    principal: &Principal,
    policy: PolicyChoice,
    resources: &[String],
) -> Result<(), String> {
    let describe = |e: &dyn ProvideErrorMetadata| {
        format!(
            "{}: {}",
            e.code().unwrap_or("error"),
            e.message().unwrap_or_default()
        )
    };
    let document = send_only_document(resources);
    match (principal, policy) {
        (Principal::User(user), PolicyChoice::FullAccess) => iam
            .attach_user_policy()
            .user_name(user)
            .policy_arn(FULL_ACCESS_ARN)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
        (Principal::User(user), PolicyChoice::SendOnly) => iam
            .put_user_policy()
            .user_name(user)
            .policy_name(SEND_ONLY_POLICY_NAME)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
        (Principal::Role(role), PolicyChoice::FullAccess) => iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(FULL_ACCESS_ARN)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
        (Principal::Role(role), PolicyChoice::SendOnly) => iam
            .put_role_policy()
            .role_name(role)
            .policy_name(SEND_ONLY_POLICY_NAME)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
    }
}

/// The policy a grant gives, in words.
pub fn grant_description(policy: PolicyChoice) -> &'static str {
    match policy {
        PolicyChoice::FullAccess => "AmazonSESFullAccess",
        PolicyChoice::SendOnly => {
            "an inline policy allowing only ses:SendEmail and ses:SendRawEmail from the account's identities"
        }
    }
}

/// Polls the simulation until both actions are allowed: at most about 30 s.
async fn wait_until_allowed(
    clients: &dyn Clients,
    arn: &str,
    resources: &[String],
) -> Option<Duration> {
    let start = std::time::Instant::now();
    for delay in [0u64, 1, 2, 3, 5, 8, 13] {
        tokio::time::sleep(Duration::from_secs(delay)).await;
        if let Ok(decisions) = simulate(clients, arn, resources).await {
            if decisions.iter().all(|d| d.decision == Verdict::Allowed) {
                return Some(start.elapsed());
            }
        }
    }
    None
}

/// IAM is closed to these credentials: ask SES itself.
async fn probe_fallback(
    input: &PermissionInput<'_>,
    user: &Principal,
    mut step: Step,
    iam_said: String,
) -> Result<Step, Failure> {
    let ses = input.sending.sesv2(input.region);
    let mut decisions = Vec::new();
    let mut notes = Vec::new();
    for action in SEND_ACTIONS {
        let content = if action == "ses:SendEmail" {
            aws_sdk_sesv2::types::EmailContent::builder()
                .simple(
                    aws_sdk_sesv2::types::Message::builder()
                        .subject(
                            aws_sdk_sesv2::types::Content::builder()
                                .data("ses-doctor permission check")
                                .build()
                                .expect("data is set"),
                        )
                        .body(
                            aws_sdk_sesv2::types::Body::builder()
                                .text(
                                    aws_sdk_sesv2::types::Content::builder()
                                        .data("not sent")
                                        .build()
                                        .expect("data is set"),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        } else {
            let raw = format!(
                "From: {PROBE_FROM}\r\nTo: success@simulator.amazonses.com\r\nSubject: ses-doctor permission check\r\n\r\nnot sent\r\n"
            );
            aws_sdk_sesv2::types::EmailContent::builder()
                .raw(
                    aws_sdk_sesv2::types::RawMessage::builder()
                        .data(aws_sdk_sesv2::primitives::Blob::new(raw))
                        .build()
                        .expect("data is set"),
                )
                .build()
        };
        let result = ses
            .send_email()
            .from_email_address(PROBE_FROM)
            .destination(
                aws_sdk_sesv2::types::Destination::builder()
                    .to_addresses("success@simulator.amazonses.com")
                    .build(),
            )
            .content(content)
            .send()
            .await;
        let mut sources = Vec::new();
        let mut blocked_by = Vec::new();
        let decision = match &result {
            Ok(_) => Verdict::Allowed,
            Err(e) => match e.code() {
                Some("AccessDeniedException" | "AccessDenied") => {
                    let said = e.message().unwrap_or_default();
                    notes.push(format!("{action}: {said}"));
                    // SES names an explicit Deny, and where it is, in its own words: granting
                    // cannot fix that, so it must not read as a missing permission.
                    blocked_by = blockers_named_in(said);
                    match explicit_deny_in(said) {
                        Some(layer) => {
                            sources.push(layer);
                            Verdict::ExplicitDeny
                        }
                        None => Verdict::ImplicitDeny,
                    }
                }
                // Authorised, then rejected for the unverified sender: the permission is there.
                Some(code) => {
                    notes.push(format!(
                        "{action}: authorised (SES then refused the probe: {code})"
                    ));
                    Verdict::Allowed
                }
                None => {
                    step.push(
                        Finding::new(
                            Code::EndpointUnreachable,
                            Severity::Error,
                            "SES could not be asked whether the user may send",
                        )
                        .evidence("error", crate::exit::error_chain(e)),
                    );
                    step.mark_incomplete("SES did not answer the permission probe");
                    return Ok(step);
                }
            },
        };
        decisions.push(ActionDecision {
            action,
            decision,
            sources,
            blocked_by,
        });
    }
    let policies = Policies {
        unknown: Some("IAM closed to these credentials".into()),
        ..Default::default()
    };
    let mut finding = judge(&decisions, &user.to_string(), &policies);
    for note in notes {
        finding = finding.evidence("SES answered", note);
    }
    if finding.code == Code::PermissionMissing {
        let (kind, name) = (user.kind(), user.name());
        let fix = match input.policy {
            PolicyChoice::FullAccess => Fix::manual(format!(
                "With admin credentials, attach AmazonSESFullAccess to {user}"
            ))
            .command(format!(
                "aws iam attach-{kind}-policy --{kind}-name {name} --policy-arn {FULL_ACCESS_ARN}"
            )),
            PolicyChoice::SendOnly => {
                let resources = resource_arns(
                    partition_of(&input.caller.arn),
                    &input.caller.account,
                    input.region,
                    input.identities,
                );
                Fix::manual(format!(
                    "With admin credentials, let {user} send from {} only (inline policy {SEND_ONLY_POLICY_NAME}). Enough to send; a mailer's own connection test may need more ({MAILER_TESTS_NEED})",
                    scope_text(&resources)
                ))
                .command(format!(
                    "aws iam put-{kind}-policy --{kind}-name {name} --policy-name {SEND_ONLY_POLICY_NAME} --policy-document '{}'",
                    send_only_document(&resources)
                ))
            }
        };
        finding = finding.fix(fix);
    }
    step.push(finding);
    step.push(
        Finding::new(
            Code::InsufficientAccess,
            Severity::Info,
            "IAM is closed to these credentials: which policy grants or denies sending is unknown",
        )
        .explain(
            "The answer above comes from SES itself (a send from an address no one can verify, \
             which SES refuses before anything is sent). Boundaries, SCPs and the policy names \
             could not be checked; run with --admin-profile for them.",
        )
        .evidence("IAM said", iam_said),
    );
    Ok(step)
}

/// The layer an AccessDenied message says holds an explicit Deny ("… with an explicit deny in an
/// identity-based policy"), as the report names it.
fn explicit_deny_in(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("with an explicit deny")?;
    let rest = lower[at..]
        .trim_start_matches("with an explicit deny")
        .trim()
        .trim_start_matches("in ")
        .trim_end_matches('.')
        .trim();
    Some(if rest.is_empty() {
        "an explicit Deny (SES did not say where)".to_owned()
    } else {
        // "an identity-based policy", "a permissions boundary", "a service control policy"…
        rest.to_owned()
    })
}

/// The layers above the identity policies that an AccessDenied message names: "… in a
/// permissions boundary", "because no permissions boundary allows …", the same for "service
/// control policy".
fn blockers_named_in(message: &str) -> Vec<Blocker> {
    let lower = message.to_ascii_lowercase();
    let mut found = Vec::new();
    if lower.contains("permissions boundary") {
        found.push(Blocker::PermissionsBoundary);
    }
    if lower.contains("service control policy") {
        found.push(Blocker::OrganizationScp);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_words_name_the_layer_of_an_explicit_deny() {
        // AWS's AccessDenied texts ("Troubleshooting access denied error messages", IAM User
        // Guide): the layer is named after "in" or "no".
        assert_eq!(
            blockers_named_in("User: arn:aws:iam::1:user/u is not authorized to perform: ses:SendRawEmail with an explicit deny in a permissions boundary"),
            [Blocker::PermissionsBoundary]
        );
        assert_eq!(
            blockers_named_in("User: u is not authorized to perform: ses:SendEmail because no permissions boundary allows the ses:SendEmail action"),
            [Blocker::PermissionsBoundary]
        );
        assert_eq!(
            blockers_named_in("… with an explicit deny in a service control policy"),
            [Blocker::OrganizationScp]
        );
        assert!(
            blockers_named_in("… with an explicit deny in an identity-based policy").is_empty()
        );
        assert_eq!(
            explicit_deny_in("User: arn:aws:iam::1:user/u is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:eu-west-1:1:identity/x with an explicit deny in an identity-based policy").as_deref(),
            Some("an identity-based policy")
        );
        assert_eq!(
            explicit_deny_in("… with an explicit deny in a service control policy.").as_deref(),
            Some("a service control policy")
        );
        assert_eq!(
            explicit_deny_in("User: u is not authorized to perform: ses:SendEmail because no identity-based policy allows the ses:SendEmail action"),
            None
        );
    }

    fn d(action: &'static str, decision: Verdict, sources: &[&str]) -> ActionDecision {
        ActionDecision {
            action,
            decision,
            sources: sources.iter().map(|s| s.to_string()).collect(),
            blocked_by: Vec::new(),
        }
    }

    #[test]
    fn judging_decisions() {
        let p = Policies::default();
        let ok = judge(
            &[
                d("ses:SendEmail", Verdict::Allowed, &[]),
                d("ses:SendRawEmail", Verdict::Allowed, &[]),
            ],
            "u",
            &p,
        );
        assert_eq!(ok.code, Code::PermissionGranted);
        let none = judge(
            &[
                d("ses:SendEmail", Verdict::ImplicitDeny, &[]),
                d("ses:SendRawEmail", Verdict::ImplicitDeny, &[]),
            ],
            "u",
            &p,
        );
        assert_eq!(
            (none.code, none.severity),
            (Code::PermissionMissing, Severity::Error)
        );
        let smtp_only = judge(
            &[
                d("ses:SendEmail", Verdict::ImplicitDeny, &[]),
                d("ses:SendRawEmail", Verdict::Allowed, &[]),
            ],
            "u",
            &p,
        );
        assert_eq!(
            (smtp_only.code, smtp_only.severity),
            (Code::PermissionMissing, Severity::Warning)
        );
        let deny = judge(
            &[
                d(
                    "ses:SendEmail",
                    Verdict::ExplicitDeny,
                    &["NoSending (user)"],
                ),
                d("ses:SendRawEmail", Verdict::ImplicitDeny, &[]),
            ],
            "u",
            &p,
        );
        assert_eq!(deny.code, Code::PermissionExplicitlyDenied);
        assert!(deny.title.contains("NoSending (user)"));
        let both = judge(
            &[
                d(
                    "ses:SendEmail",
                    Verdict::ExplicitDeny,
                    &["NoSending (user)"],
                ),
                d(
                    "ses:SendRawEmail",
                    Verdict::ExplicitDeny,
                    &["NoSending (user)"],
                ),
            ],
            "u",
            &p,
        );
        assert_eq!(both.title.matches("NoSending").count(), 1, "{}", both.title);
        let boundary = judge(&[d("ses:SendEmail", Verdict::ExplicitDeny, &[])], "u", &p);
        assert!(boundary.title.contains("boundary or an organization SCP"));
    }

    #[test]
    fn each_layer_that_denies_is_named_with_its_own_advice() {
        let listed = Policies {
            lines: vec![
                "own (inline)".into(),
                "NoMail (inline in group contractors)".into(),
            ],
            ..Default::default()
        };
        let layer = |f: &Finding| {
            f.evidence
                .iter()
                .find(|e| e.label == "layer")
                .unwrap()
                .value
                .clone()
        };
        let group = judge(
            &[d(
                "ses:SendEmail",
                Verdict::ExplicitDeny,
                &["NoMail (group)"],
            )],
            "u",
            &listed,
        );
        assert_eq!(layer(&group), "group policy");
        assert!(
            group.title.contains("NoMail of group contractors"),
            "{}",
            group.title
        );
        assert!(group.fixes[0]
            .command
            .as_deref()
            .unwrap()
            .contains("remove-user-from-group --group-name contractors --user-name u"));
        let mut capped = d(
            "ses:SendEmail",
            Verdict::ExplicitDeny,
            &["SesCap (user-managed)"],
        );
        capped.blocked_by = vec![Blocker::PermissionsBoundary];
        let boundary = judge(&[capped.clone()], "u", &listed);
        assert_eq!(layer(&boundary), "permissions boundary");
        assert!(
            boundary.title.contains("its permissions boundary SesCap"),
            "{}",
            boundary.title
        );
        // A boundary that only fails to allow: not fixable by granting either.
        capped.decision = Verdict::ImplicitDeny;
        capped.sources.clear();
        let outside = judge(&[capped], "u", &listed);
        assert_eq!(outside.code, Code::PermissionExplicitlyDenied);
        assert!(
            outside.title.contains("outside u's permissions boundary"),
            "{}",
            outside.title
        );
        let mut scp = d("ses:SendRawEmail", Verdict::ExplicitDeny, &[]);
        scp.blocked_by = vec![Blocker::OrganizationScp];
        let org = judge(&[scp], "u", &listed);
        assert_eq!(layer(&org), "organization SCP");
        assert!(org.fixes[0]
            .description
            .contains("organization's administrator"));
        let own = judge(
            &[d("ses:SendEmail", Verdict::ExplicitDeny, &["own (user)"])],
            "u",
            &listed,
        );
        assert_eq!(layer(&own), "identity policy");
    }

    #[test]
    fn send_only_policy_names_the_identities() {
        let arns = resource_arns(
            "aws",
            "111122223333",
            "eu-west-1",
            &["example.com".into(), "a@example.com".into()],
        );
        assert_eq!(
            arns,
            vec![
                "arn:aws:ses:eu-west-1:111122223333:identity/example.com",
                "arn:aws:ses:eu-west-1:111122223333:identity/a@example.com"
            ]
        );
        let doc: serde_json::Value = serde_json::from_str(&send_only_document(&arns)).unwrap();
        assert_eq!(doc["Statement"][0]["Action"][1], "ses:SendRawEmail");
        assert_eq!(
            doc["Statement"][0]["Resource"][2],
            "arn:aws:ses:eu-west-1:111122223333:configuration-set/*"
        );
        assert_eq!(doc["Statement"][0]["Resource"].as_array().unwrap().len(), 3);
        assert_eq!(scope_text(&arns), "example.com and a@example.com");
        assert_eq!(scope_text(&arns[..1]), "example.com");
        // Unknown identities: the account's, never `*`.
        let any = resource_arns("aws-cn", "111122223333", "*", &[]);
        assert_eq!(any, vec!["arn:aws-cn:ses:*:111122223333:identity/*"]);
        assert_eq!(scope_text(&any), "the account's identities");
        assert_eq!(partition_of("arn:aws-us-gov:iam::1:user/u"), "aws-us-gov");
        assert_eq!(partition_of("garbage"), "aws");
        assert_eq!(
            account_of("arn:aws:iam::111122223333:user/u"),
            Some("111122223333")
        );
    }

    mod concurrency {
        //! The look-ups of step 3 against a fake IAM that answers each call after 1 s (paused
        //! time): what matters is how many calls were in flight at once, and that the answers
        //! are put together in the same order whatever answered first.
        use super::*;
        use crate::consent::{scripted::Scripted, Consent, Mode};
        use crate::fake_aws::{query_ok, Answer, Call, FakeAws};

        fn attached(names: &[(&str, &str)]) -> String {
            let members: String = names
                .iter()
                .map(|(n, arn)| {
                    format!(
                        "<member><PolicyName>{n}</PolicyName><PolicyArn>{arn}</PolicyArn></member>"
                    )
                })
                .collect();
            format!(
                "<AttachedPolicies>{members}</AttachedPolicies><IsTruncated>false</IsTruncated>"
            )
        }

        fn inline(names: &[&str]) -> String {
            let members: String = names
                .iter()
                .map(|n| format!("<member>{n}</member>"))
                .collect();
            format!("<PolicyNames>{members}</PolicyNames><IsTruncated>false</IsTruncated>")
        }

        /// User `mailer` with a policy of each kind, in groups `ops` and `senders` (whose
        /// attached policies include AmazonSESFullAccess).
        fn iam(call: &Call) -> Answer {
            let group = call.param("GroupName").unwrap_or_default();
            let a = call.action.as_str();
            match a {
                "ListAttachedUserPolicies" => query_ok(a, &attached(&[("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess")])),
                "ListUserPolicies" => query_ok(a, &inline(&["own"])),
                "ListGroupsForUser" => query_ok(a, &format!(
                    "<Groups>{}</Groups><IsTruncated>false</IsTruncated>",
                    ["ops", "senders"].map(|g| format!(
                        "<member><Path>/</Path><GroupName>{g}</GroupName><GroupId>AGPA{g}</GroupId><Arn>arn:aws:iam::111122223333:group/{g}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>"
                    )).concat()
                )),
                "ListAttachedGroupPolicies" if group == "senders" => query_ok(a, &attached(&[("AmazonSESFullAccess", FULL_ACCESS_ARN)])),
                "ListAttachedGroupPolicies" => query_ok(a, &attached(&[("Billing", "arn:aws:iam::aws:policy/job-function/Billing")])),
                "ListGroupPolicies" => query_ok(a, &inline(&[&format!("{group}-inline")])),
                "ListAttachedRolePolicies" => query_ok(a, &attached(&[("AmazonSESFullAccess", FULL_ACCESS_ARN)])),
                "ListRolePolicies" => query_ok(a, &inline(&["role-inline"])),
                "GetRole" => query_ok(a, "<Role><Path>/service/</Path><RoleName>sender</RoleName><RoleId>AROAEXAMPLE</RoleId><Arn>arn:aws:iam::111122223333:role/service/sender</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></Role>"),
                "SimulatePrincipalPolicy" => query_ok(a, &format!(
                    "<EvaluationResults>{}</EvaluationResults><IsTruncated>false</IsTruncated>",
                    SEND_ACTIONS.map(|action| format!(
                        "<member><EvalActionName>{action}</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>allowed</EvalDecision><MatchedStatements/><MissingContextValues/></member>"
                    )).concat()
                )),
                other => panic!("unexpected IAM call {other}"),
            }
        }

        fn caller(arn: &str) -> Caller {
            let (user, role) = match arn.split_once(":user/") {
                Some((_, u)) => (Some(u.to_owned()), None),
                None => (None, Some("sender".to_owned())),
            };
            Caller {
                arn: arn.into(),
                account: "111122223333".into(),
                user_name: user,
                role_name: role,
            }
        }

        const USER_LINES: [&str; 6] = [
            "ReadOnly (attached)",
            "own (inline)",
            "Billing (attached to group ops)",
            "ops-inline (inline in group ops)",
            "AmazonSESFullAccess (attached to group senders)",
            "senders-inline (inline in group senders)",
        ];

        #[tokio::test(start_paused = true)]
        async fn a_users_policies_are_listed_at_once_in_a_stable_order() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let start = tokio::time::Instant::now();
            let p = list_policies(&fake, &Principal::User("mailer".into())).await;
            assert_eq!(p.lines, USER_LINES);
            assert_eq!(p.full_access.as_deref(), Some("through group senders"));
            assert!(p.unknown.is_none());
            // The user's three lists at once, then both lists of both groups at once.
            assert_eq!(fake.max_in_flight(), 4, "{:?}", fake.calls());
            assert_eq!(
                start.elapsed(),
                Duration::from_secs(2),
                "{:?}",
                fake.calls()
            );
        }

        #[tokio::test(start_paused = true)]
        async fn a_roles_policies_are_listed_at_once() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let p = list_policies(&fake, &Principal::Role("sender".into())).await;
            assert_eq!(
                p.lines,
                ["AmazonSESFullAccess (attached)", "role-inline (inline)"]
            );
            assert_eq!(p.full_access.as_deref(), Some("attached to the role"));
            assert_eq!(fake.max_in_flight(), 2, "{:?}", fake.calls());
        }

        #[tokio::test(start_paused = true)]
        async fn a_refused_listing_leaves_the_policies_unknown() {
            let fake = FakeAws::new(Duration::from_secs(1), |call: &Call| {
                match call.action.as_str() {
                    "ListAttachedUserPolicies" => {
                        Answer::QueryError(403, "AccessDenied", "no".into())
                    }
                    _ => iam(call),
                }
            });
            let p = list_policies(&fake, &Principal::User("mailer".into())).await;
            assert_eq!(p.unknown.as_deref(), Some("AccessDenied"));
            assert!(p.lines.is_empty() && p.full_access.is_none());
        }

        fn input<'a>(
            fake: &'a FakeAws,
            caller: &'a Caller,
            consent: &'a Consent,
            prefetched: Option<Prefetched>,
        ) -> PermissionInput<'a> {
            PermissionInput {
                caller,
                iam: fake,
                iam_is_admin: true,
                sending: fake,
                region: "eu-west-1",
                identities: &[],
                policy: PolicyChoice::SendOnly,
                consent,
                prefetched,
            }
        }

        fn consent() -> Consent {
            Consent::new(Mode::ReportOnly, Box::new(Scripted::new(vec![])))
        }

        fn policies_evidence(step: &Step) -> String {
            step.findings[0]
                .evidence
                .iter()
                .find(|e| e.label == "policies")
                .map(|e| e.value.clone())
                .unwrap_or_default()
        }

        #[tokio::test(start_paused = true)]
        async fn the_simulation_does_not_wait_for_the_policy_list() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let who = caller("arn:aws:iam::111122223333:user/mailer");
            let consent = consent();
            let start = tokio::time::Instant::now();
            let step = check(input(&fake, &who, &consent, None)).await.unwrap();
            assert_eq!(step.findings[0].code, Code::PermissionGranted);
            assert_eq!(policies_evidence(&step), USER_LINES.join(", "));
            // Simulation and the user's three lists together; then the groups' four.
            assert_eq!(fake.max_in_flight(), 4, "{:?}", fake.calls());
            assert_eq!(
                start.elapsed(),
                Duration::from_secs(2),
                "{:?}",
                fake.calls()
            );
        }

        #[tokio::test(start_paused = true)]
        async fn a_roles_arn_is_looked_up_alongside_its_policies() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let who = caller("arn:aws:sts::111122223333:assumed-role/sender/session");
            let consent = consent();
            let start = tokio::time::Instant::now();
            let step = check(input(&fake, &who, &consent, None)).await.unwrap();
            assert_eq!(step.findings[0].code, Code::PermissionGranted);
            // GetRole, then the simulation of the role's ARN with its path; the lists meanwhile.
            assert_eq!(
                start.elapsed(),
                Duration::from_secs(2),
                "{:?}",
                fake.calls()
            );
            assert_eq!(fake.max_in_flight(), 3, "{:?}", fake.calls());
            assert!(fake.calls().contains(&"SimulatePrincipalPolicy(PolicySourceArn=arn:aws:iam::111122223333:role/service/sender)".to_owned()), "{:?}", fake.calls());
        }

        #[tokio::test(start_paused = true)]
        async fn a_prefetched_lookup_is_used_for_its_caller_only() {
            let fake = FakeAws::new(Duration::from_secs(1), iam);
            let who = caller("arn:aws:iam::111122223333:user/mailer");
            let consent = consent();
            let pre = lookup(&fake, &who).await;
            let before = fake.calls().len();
            assert_eq!(before, 7, "{:?}", fake.calls());
            let step = check(input(&fake, &who, &consent, Some(pre.clone())))
                .await
                .unwrap();
            assert_eq!(policies_evidence(&step), USER_LINES.join(", "));
            // Only the simulation was left to do.
            assert_eq!(fake.calls()[before..], ["SimulatePrincipalPolicy(PolicySourceArn=arn:aws:iam::111122223333:user/mailer)"]);

            // Another caller (a new user took over): looked up again.
            let other = caller("arn:aws:iam::111122223333:user/ses-sender");
            let before = fake.calls().len();
            check(input(&fake, &other, &consent, Some(pre)))
                .await
                .unwrap();
            let calls = fake.calls()[before..].to_vec();
            assert!(
                calls.contains(&"ListUserPolicies(UserName=ses-sender)".to_owned()),
                "{calls:?}"
            );
        }
    }
}
