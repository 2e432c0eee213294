//! The one model every renderer reads: a [`Report`] of steps, each with findings, each with
//! evidence and fixes. Checks build it and never print; `render` turns it into text or JSON.

use crate::codes::Code;
use crate::exit::ExitCode;
use serde::Serialize;

/// Bumped whenever a field is removed or changes meaning; adding fields keeps the version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Pass,
    Info,
    Warning,
    Error,
}

/// The steps of the fix flow, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    Local,
    Identity,
    Region,
    Permissions,
    AccessKey,
    IamUser,
    TestEmail,
}

impl StepId {
    pub const ALL: [StepId; 7] = [
        StepId::Local,
        StepId::Identity,
        StepId::Region,
        StepId::Permissions,
        StepId::AccessKey,
        StepId::IamUser,
        StepId::TestEmail,
    ];

    pub fn number(self) -> u8 {
        StepId::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }

    pub fn title(self) -> &'static str {
        match self {
            StepId::Local => "Local checks",
            StepId::Identity => "Identity",
            StepId::Region => "Region",
            StepId::Permissions => "Permissions",
            StepId::AccessKey => "Access key",
            StepId::IamUser => "IAM user",
            StepId::TestEmail => "Test email",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Passed,
    Warning,
    Failed,
    /// Could not finish (network, timeout): the report cannot say whether the step is healthy.
    Incomplete,
    Skipped,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub id: StepId,
    pub number: u8,
    pub title: &'static str,
    pub status: StepStatus,
    /// Why a step was skipped or is incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
}

impl Step {
    pub fn new(id: StepId) -> Self {
        Step {
            id,
            number: id.number(),
            title: id.title(),
            status: StepStatus::Passed,
            reason: None,
            findings: Vec::new(),
        }
    }

    pub fn skipped(id: StepId, reason: impl Into<String>) -> Self {
        Step {
            status: StepStatus::Skipped,
            reason: Some(reason.into()),
            ..Step::new(id)
        }
    }

    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
        self.refresh_status();
    }

    pub fn mark_incomplete(&mut self, reason: impl Into<String>) {
        self.status = StepStatus::Incomplete;
        self.reason = Some(reason.into());
    }

    /// Recomputes the status after findings were changed in place (a fix resolved one).
    pub fn refresh(&mut self) {
        self.refresh_status();
    }

    /// Status follows the worst unresolved finding, unless the step was skipped or cut short.
    fn refresh_status(&mut self) {
        if matches!(self.status, StepStatus::Skipped | StepStatus::Incomplete) {
            return;
        }
        self.status = match self.worst() {
            Some(Severity::Error) => StepStatus::Failed,
            Some(Severity::Warning) => StepStatus::Warning,
            _ => StepStatus::Passed,
        };
    }

    fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| !f.resolved)
            .map(|f| f.severity)
            .max()
    }

    pub fn has(&self, code: Code) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// One line, specific to this case ("The secret is 39 characters: one was lost when copying").
    pub title: String,
    /// Plain words: what it means and why it breaks sending.
    pub explanation: String,
    /// What the finding rests on. Values are built from non-secret data only (see `secret.rs`).
    pub evidence: Vec<Evidence>,
    pub fixes: Vec<Fix>,
    /// True once an applied fix was verified to remove the problem.
    pub resolved: bool,
    /// Set on an open problem an earlier step already reported (the step's number): one cause,
    /// seen twice, is counted and annotated once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<u8>,
}

impl Finding {
    pub fn new(code: Code, severity: Severity, title: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            title: title.into(),
            explanation: String::new(),
            evidence: Vec::new(),
            fixes: Vec::new(),
            resolved: false,
            repeat_of: None,
        }
    }

    pub fn explain(mut self, text: impl Into<String>) -> Self {
        self.explanation = text.into();
        self
    }

    pub fn evidence(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.evidence.push(Evidence {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    /// Adds evidence to a finding already made (what a fix did, the state it left).
    pub fn note(&mut self, label: &str, value: impl Into<String>) {
        self.evidence.push(Evidence {
            label: label.into(),
            value: value.into(),
        });
    }

    pub fn fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub label: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// ses-doctor can apply it (with consent or `--yes`).
    Automatic,
    /// The user must do it (in the mailer, the console, the shell).
    Manual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixStatus {
    Proposed,
    Applied,
    Declined,
    Failed,
    /// `--dry-run`: would have been applied.
    Planned,
}

#[derive(Clone, Debug, Serialize)]
pub struct Fix {
    pub kind: FixKind,
    pub description: String,
    /// A command that applies the fix, where one exists (shell-ready, no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub status: FixStatus,
}

impl Fix {
    pub fn manual(description: impl Into<String>) -> Self {
        Fix {
            kind: FixKind::Manual,
            description: description.into(),
            command: None,
            status: FixStatus::Proposed,
        }
    }

    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }
}

/// Where a set of credentials came from, as shown to the user and in JSON.
#[derive(Clone, Debug, Serialize)]
pub struct CredentialsInfo {
    /// `pasted`, `environment`, `profile`, or `default-chain`.
    pub source: &'static str,
    /// How they were obtained: `pasted`, `environment`, `static-keys`, `assume-role`, `sso`,
    /// `credential-process`, `web-identity`, `credential-source`, `container`,
    /// `instance-profile`, `login-session`, or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    /// The role whose credentials these are (role profiles, web identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Human-readable, e.g. "profile 'mailer' (--profile): assumed role R via static keys in
    /// profile 'base'; in ~/.aws/credentials / ~/.aws/config".
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The key the run started with, when a fix replaced it (`access_key_id` is the new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_access_key_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RegionInfo {
    pub name: String,
    /// `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `profile`, or `none`; `fix` when this
    /// run set it.
    pub source: String,
    /// The region the run started with, when a fix changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// `clean`, `problems` or `incomplete`.
    pub outcome: &'static str,
    pub exit_code: i32,
    pub errors: usize,
    pub warnings: usize,
    pub fixes_applied: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool_version: &'static str,
    pub credentials: ReportCredentials,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionInfo>,
    pub steps: Vec<Step>,
    pub summary: Summary,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReportCredentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending: Option<CredentialsInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<CredentialsInfo>,
}

impl Report {
    pub fn new(credentials: ReportCredentials, region: Option<RegionInfo>) -> Self {
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            credentials,
            region,
            steps: Vec::new(),
            summary: Summary {
                outcome: "clean",
                exit_code: 0,
                errors: 0,
                warnings: 0,
                fixes_applied: 0,
            },
        };
        report.finish();
        report
    }

    /// Adds a step in flow order (steps may run out of order: a key fixed in step 4 lets
    /// steps 2 and 3 run after it).
    pub fn push_step(&mut self, step: Step) {
        let at = self.steps.partition_point(|s| s.number <= step.number);
        self.steps.insert(at, step);
        self.finish();
    }

    /// Recomputes the summary after findings were changed in place.
    pub fn refresh(&mut self) {
        self.finish();
    }

    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.steps.iter().flat_map(|s| s.findings.iter())
    }

    /// The exit-code contract: 3 if a step could not finish, else 1 if an error remains or a fix
    /// that was attempted failed (whatever the finding's severity: a failed rotation is not a
    /// clean run), else 0. Warnings are reported but do not fail the run.
    pub fn exit_code(&self) -> ExitCode {
        if self
            .steps
            .iter()
            .any(|s| s.status == StepStatus::Incomplete)
        {
            ExitCode::Incomplete
        } else if self.findings().any(|f| {
            (f.severity == Severity::Error && !f.resolved)
                || f.fixes.iter().any(|x| x.status == FixStatus::Failed)
        }) {
            ExitCode::Problems
        } else {
            ExitCode::Clean
        }
    }

    /// Marks repeats: an open problem whose code an earlier step already reported open is the
    /// same cause seen again (the test email refused for the Deny step 3 found).
    fn mark_repeats(&mut self) {
        let mut seen: Vec<(crate::codes::Code, u8)> = Vec::new();
        for step in &mut self.steps {
            let mut here = Vec::new();
            for f in &mut step.findings {
                let open = !f.resolved && f.severity >= Severity::Warning;
                f.repeat_of = seen
                    .iter()
                    .find(|(code, _)| open && *code == f.code)
                    .map(|(_, n)| *n);
                if open && f.repeat_of.is_none() {
                    here.push((f.code, step.number));
                }
            }
            seen.extend(here);
        }
    }

    fn finish(&mut self) {
        self.mark_repeats();
        let open = |sev| {
            self.findings()
                .filter(|f| f.severity == sev && !f.resolved && f.repeat_of.is_none())
                .count()
        };
        let (errors, warnings) = (open(Severity::Error), open(Severity::Warning));
        let fixes_applied = self
            .findings()
            .flat_map(|f| f.fixes.iter())
            .filter(|x| x.status == FixStatus::Applied)
            .count();
        let code = self.exit_code();
        self.summary = Summary {
            outcome: match code {
                ExitCode::Clean => "clean",
                ExitCode::Problems => "problems",
                _ => "incomplete",
            },
            exit_code: code.code(),
            errors,
            warnings,
            fixes_applied,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with(findings: &[(Code, Severity)]) -> Report {
        let mut step = Step::new(StepId::Local);
        for (code, sev) in findings {
            step.push(Finding::new(*code, *sev, "t"));
        }
        let mut r = Report::new(ReportCredentials::default(), None);
        r.push_step(step);
        r
    }

    #[test]
    fn exit_code_follows_the_worst_open_finding() {
        assert_eq!(report_with(&[]).exit_code(), ExitCode::Clean);
        let warn = report_with(&[(Code::EnvShadowsProfile, Severity::Warning)]);
        assert_eq!(warn.exit_code(), ExitCode::Clean);
        assert_eq!(warn.summary.warnings, 1);
        let err = report_with(&[(Code::SecretKeyTruncated, Severity::Error)]);
        assert_eq!(err.exit_code(), ExitCode::Problems);
        assert_eq!(err.steps[0].status, StepStatus::Failed);
        assert_eq!(err.summary.outcome, "problems");
    }

    #[test]
    fn incomplete_step_wins_over_problems() {
        let mut r = report_with(&[(Code::SecretKeyTruncated, Severity::Error)]);
        let mut step = Step::new(StepId::Identity);
        step.mark_incomplete("STS did not answer");
        r.push_step(step);
        assert_eq!(r.exit_code(), ExitCode::Incomplete);
        assert_eq!(r.summary.exit_code, 3);
    }

    #[test]
    fn one_cause_in_two_steps_is_counted_once() {
        let mut permissions = Step::new(StepId::Permissions);
        permissions.push(Finding::new(
            Code::PermissionExplicitlyDenied,
            Severity::Error,
            "denied",
        ));
        let mut email = Step::new(StepId::TestEmail);
        email.push(Finding::new(
            Code::PermissionExplicitlyDenied,
            Severity::Error,
            "SES refused",
        ));
        email.push(Finding::new(Code::SesSandbox, Severity::Error, "sandbox"));
        let mut r = Report::new(ReportCredentials::default(), None);
        r.push_step(email);
        r.push_step(permissions);
        assert_eq!(r.summary.errors, 2, "two causes");
        let email = r.step(StepId::TestEmail).unwrap();
        assert_eq!(email.findings[0].repeat_of, Some(3));
        assert_eq!(email.findings[1].repeat_of, None);
        assert_eq!(
            r.step(StepId::Permissions).unwrap().findings[0].repeat_of,
            None
        );
        // Still a failed step and a failing run: the repeat is only not counted twice.
        assert_eq!(email.status, StepStatus::Failed);
        assert_eq!(r.exit_code(), ExitCode::Problems);
    }

    #[test]
    fn skipped_status_is_kept() {
        let mut step = Step::skipped(StepId::Region, "needs working credentials");
        step.push(Finding::new(Code::RegionMismatch, Severity::Error, "t"));
        assert_eq!(step.status, StepStatus::Skipped);
    }
}
