//! Under GitHub Actions (`GITHUB_ACTIONS=true`): an annotation per open error and warning, and a
//! Markdown summary of the report for `$GITHUB_STEP_SUMMARY`. Workflow commands go to stderr
//! (the runner reads both streams), so `--output json` keeps stdout one JSON document.

use crate::report::{Report, Severity, StepStatus};
use std::fmt::Write;

/// Escapes a workflow command's message (GitHub's rules: `%`, CR and LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn annotations(report: &Report) -> Vec<String> {
    report
        .findings()
        // One annotation per cause: a repeat in a later step would say it twice.
        .filter(|f| !f.resolved && f.repeat_of.is_none())
        .filter_map(|f| {
            let kind = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                _ => return None,
            };
            let title = escape_property(&format!("ses-doctor: {}", f.code));
            let fix = f
                .fixes
                .first()
                .map(|x| match &x.command {
                    Some(c) => format!("\nFix: {} ($ {c})", x.description),
                    None => format!("\nFix: {}", x.description),
                })
                .unwrap_or_default();
            Some(format!(
                "::{kind} title={title}::{}",
                escape_data(&format!("{}{fix}", f.title))
            ))
        })
        .collect()
}

pub fn summary_markdown(report: &Report) -> String {
    let mut out = String::new();
    let verdict = match report.summary.outcome {
        "clean" => "✅ nothing wrong remains",
        "problems" => "❌ problems remain",
        _ => "⚠️ the diagnosis could not complete",
    };
    let _ = writeln!(out, "## ses-doctor: {verdict}\n");
    let _ = writeln!(
        out,
        "{} errors, {} warnings, {} fixes applied (exit {}).\n",
        report.summary.errors,
        report.summary.warnings,
        report.summary.fixes_applied,
        report.summary.exit_code
    );
    let _ = writeln!(out, "| step | status | findings |\n|---|---|---|");
    for step in &report.steps {
        let status = match step.status {
            StepStatus::Passed => "passed",
            StepStatus::Warning => "warning",
            StepStatus::Failed => "failed",
            StepStatus::Incomplete => "incomplete",
            StepStatus::Skipped => "skipped",
        };
        let findings: Vec<String> = step
            .findings
            .iter()
            .map(|f| {
                let fixed = if f.resolved { " (fixed)" } else { "" };
                format!("`{}`{fixed}: {}", f.code, f.title.replace('|', "\\|"))
            })
            .collect();
        let cell = if findings.is_empty() {
            step.reason.clone().unwrap_or_default().replace('|', "\\|")
        } else {
            findings.join("<br>")
        };
        let _ = writeln!(
            out,
            "| {} · {} | {status} | {cell} |",
            step.number, step.title
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;
    use crate::report::{Finding, Fix, ReportCredentials, Step, StepId};

    #[test]
    fn annotations_and_summary() {
        let mut step = Step::new(StepId::Permissions);
        step.push(
            Finding::new(
                Code::PermissionMissing,
                Severity::Error,
                "u may not send: 100%\nreally",
            )
            .fix(Fix::manual("Attach it").command("aws iam attach-user-policy")),
        );
        step.push(Finding::new(Code::SesSandbox, Severity::Warning, "sandbox"));
        step.push(Finding::new(
            Code::PermissionGranted,
            Severity::Pass,
            "fine",
        ));
        let mut report = Report::new(ReportCredentials::default(), None);
        report.push_step(step);
        let lines = annotations(&report);
        assert_eq!(
            lines[0],
            "::error title=ses-doctor%3A permission-missing::u may not send: 100%25%0Areally%0AFix: Attach it ($ aws iam attach-user-policy)"
        );
        assert_eq!(
            lines[1],
            "::warning title=ses-doctor%3A ses-sandbox::sandbox"
        );
        assert_eq!(lines.len(), 2, "passes are not annotated");
        let md = summary_markdown(&report);
        assert!(md.starts_with("## ses-doctor: ❌ problems remain"), "{md}");
        assert!(
            md.contains("| 3 · Permissions | failed | `permission-missing`: u may not send"),
            "{md}"
        );
    }
}
