//! The report as text for a person: one section per step, a mark per finding, a summary.

use crate::report::{FixKind, FixStatus, Report, Severity, StepStatus};
use console::Style;
use std::fmt::Write;

const WIDTH: usize = 88;

pub struct Theme {
    pass: Style,
    info: Style,
    warn: Style,
    error: Style,
    dim: Style,
    bold: Style,
}

impl Theme {
    pub fn new(color: bool) -> Self {
        let s = |style: Style| style.force_styling(color);
        Theme {
            pass: s(Style::new().green()),
            info: s(Style::new().cyan()),
            warn: s(Style::new().yellow()),
            error: s(Style::new().red().bold()),
            dim: s(Style::new().dim()),
            bold: s(Style::new().bold()),
        }
    }
}

fn mark(theme: &Theme, severity: Severity) -> String {
    match severity {
        Severity::Pass => theme.pass.apply_to("✓").to_string(),
        Severity::Info => theme.info.apply_to("i").to_string(),
        Severity::Warning => theme.warn.apply_to("!").to_string(),
        Severity::Error => theme.error.apply_to("✗").to_string(),
    }
}

pub fn render(report: &Report, theme: &Theme) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        theme
            .bold
            .apply_to(format!("ses-doctor {} diagnosis", report.tool_version))
    );
    if let Some(s) = &report.credentials.sending {
        let key = s
            .access_key_id
            .as_deref()
            .map(|k| format!(" [{k}]"))
            .unwrap_or_default();
        let _ = writeln!(out, "  Sending credentials: {}{key}", s.detail);
    }
    match &report.credentials.admin {
        Some(a) => {
            let key = a
                .access_key_id
                .as_deref()
                .map(|k| format!(" [{k}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  Admin credentials:   {}{key}", a.detail);
        }
        None => {
            let _ = writeln!(
                out,
                "  Admin credentials:   the sending credentials (no --admin-profile)"
            );
        }
    }
    match &report.region {
        Some(r) => {
            let _ = writeln!(out, "  Region:              {} (from {})", r.name, r.source);
        }
        None => {
            let _ = writeln!(out, "  Region:              not configured");
        }
    }

    for step in &report.steps {
        let status = match step.status {
            StepStatus::Passed => theme.pass.apply_to("passed"),
            StepStatus::Warning => theme.warn.apply_to("warning"),
            StepStatus::Failed => theme.error.apply_to("failed"),
            StepStatus::Incomplete => theme.error.apply_to("incomplete"),
            StepStatus::Skipped => theme.dim.apply_to("skipped"),
        };
        let _ = writeln!(out);
        let heading = format!("Step {} · {}", step.number, step.title);
        let _ = write!(out, "{} {}", theme.bold.apply_to(&heading), status);
        match &step.reason {
            Some(reason) => {
                let _ = writeln!(out, "{}", theme.dim.apply_to(format!(": {reason}")));
            }
            None => {
                let _ = writeln!(out);
            }
        }
        for f in &step.findings {
            // A problem fixed in this run is shown as such, not with its original mark.
            let (mark, fixed) = if f.resolved {
                (
                    theme.pass.apply_to("✓").to_string(),
                    format!(" {}", theme.pass.apply_to("(fixed)")),
                )
            } else {
                (mark(theme, f.severity), String::new())
            };
            let code = theme.dim.apply_to(format!("[{}]", f.code));
            let _ = writeln!(out, "  {mark} {}{fixed} {code}", f.title);
            if f.severity == Severity::Pass && f.explanation.is_empty() {
                continue;
            }
            for line in wrap(&f.explanation, WIDTH - 6) {
                let _ = writeln!(out, "      {line}");
            }
            for e in &f.evidence {
                let _ = writeln!(
                    out,
                    "      {} {}",
                    theme.dim.apply_to(format!("{}:", e.label)),
                    e.value
                );
            }
            for fix in &f.fixes {
                let state = match (fix.kind, fix.status) {
                    (_, FixStatus::Applied) => "fixed",
                    (_, FixStatus::Planned) => "would fix (dry run)",
                    (_, FixStatus::Declined) => "declined",
                    (_, FixStatus::Failed) => "fix failed",
                    (FixKind::Automatic, FixStatus::Proposed) => "fix",
                    (FixKind::Manual, FixStatus::Proposed) => "to fix",
                };
                let _ = writeln!(
                    out,
                    "      → {}: {}",
                    theme.bold.apply_to(state),
                    fix.description
                );
                if let Some(cmd) = &fix.command {
                    let _ = writeln!(out, "          $ {cmd}");
                }
            }
        }
    }

    let proposed = report
        .findings()
        .flat_map(|f| f.fixes.iter())
        .filter(|x| x.kind == FixKind::Automatic && x.status == FixStatus::Proposed)
        .count();
    let planned = report
        .findings()
        .flat_map(|f| f.fixes.iter())
        .filter(|x| x.status == FixStatus::Planned)
        .count();
    let s = &report.summary;
    let verdict = match s.outcome {
        "clean" => theme.pass.apply_to("Nothing wrong remains.".to_string()),
        "problems" => theme.error.apply_to("Problems remain.".to_string()),
        _ => theme
            .error
            .apply_to("The diagnosis could not complete.".to_string()),
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {} error{}, {} warning{}, {} fix{} applied. {verdict} (exit {})",
        theme.bold.apply_to("Summary:"),
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.fixes_applied,
        if s.fixes_applied == 1 { "" } else { "es" },
        s.exit_code
    );
    if proposed > 0 {
        let _ = writeln!(
            out,
            "{} ses-doctor can apply {proposed} of the fixes above: run it on a terminal to be asked, or again with --yes (deleting, deactivating and rotating keys also need their own flags).",
            theme.bold.apply_to("Next:")
        );
    }
    if planned > 0 {
        let _ = writeln!(
            out,
            "{} {planned} change{} would be made; nothing was changed (--dry-run).",
            theme.bold.apply_to("Dry run:"),
            plural(planned)
        );
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_findings_are_marked_fixed() {
        use crate::codes::Code;
        use crate::report::{Finding, ReportCredentials, Step, StepId};
        let mut finding = Finding::new(Code::PermissionMissing, Severity::Error, "u may not send");
        finding.resolved = true;
        let mut step = Step::new(StepId::Permissions);
        step.push(finding);
        step.push(Finding::new(Code::SesSandbox, Severity::Warning, "sandbox"));
        let mut report = Report::new(ReportCredentials::default(), None);
        report.push_step(step);
        let text = render(&report, &Theme::new(false));
        assert!(
            text.contains("  ✓ u may not send (fixed) [permission-missing]"),
            "{text}"
        );
        assert!(text.contains("  ! sandbox [ses-sandbox]"), "{text}");
        assert!(text.contains("Step 3 · Permissions warning"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour codes without colour");
    }

    #[test]
    fn wrapping_keeps_words_and_width() {
        let text = "one two three four five six seven eight nine ten";
        let lines = wrap(text, 10);
        assert!(lines.iter().all(|l| l.chars().count() <= 10));
        assert_eq!(lines.join(" "), text);
    }
}
