//! The report as text for a person: a checklist of the steps (✓ ! ✗, one line each), then the
//! findings that need reading, wrapped to the width, then a summary that counts each cause once.

use crate::report::{Finding, FixKind, FixStatus, Report, Severity, Step, StepStatus};
use console::Style;
use std::fmt::Write;

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

impl Theme {
    pub fn bold_text(&self, text: &str) -> String {
        self.bold.apply_to(text).to_string()
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

/// How the text is laid out.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Columns to wrap at: the terminal's, or a readable default when there is none.
    pub width: usize,
    /// `-v`: the evidence behind each finding, and the findings of passed steps.
    pub verbose: bool,
    /// The checklist was already shown line by line as the steps finished (a person watching a
    /// terminal), so the report does not list the steps a second time.
    pub checklist_shown: bool,
    /// The home directory, shown as `~` (paths then fit a line).
    pub home: Option<String>,
    /// The person is asked about the fixes right after this text, so it does not tell them how
    /// to apply fixes.
    pub asking_next: bool,
}

impl Layout {
    /// Text that is not shown on a terminal (a file, a pipe): wrapped at a readable width.
    pub const DEFAULT_WIDTH: usize = 88;
    /// Wider than this is harder to read, whatever the terminal.
    pub const MAX_WIDTH: usize = 100;
    const MIN_WIDTH: usize = 40;

    pub fn new(width: usize, verbose: bool, checklist_shown: bool) -> Self {
        Layout {
            width: width.clamp(Self::MIN_WIDTH, Self::MAX_WIDTH),
            verbose,
            checklist_shown,
            home: None,
            asking_next: false,
        }
    }

    /// `text` with the home directory shown as `~`.
    fn tilde(&self, text: &str) -> String {
        match &self.home {
            Some(home) => text.replace(&format!("{}/", home.trim_end_matches('/')), "~/"),
            None => text.to_owned(),
        }
    }
}

/// The checklist entry of a finished step: its mark, name and state, and (for a passed step) what
/// it found or (for a skipped one) why.
fn step_parts(step: &Step, theme: &Theme) -> (String, Option<String>) {
    let (mark, status) = match step.status {
        StepStatus::Passed => (theme.pass.apply_to("✓"), "passed"),
        StepStatus::Warning => (theme.warn.apply_to("!"), "warning"),
        StepStatus::Failed => (theme.error.apply_to("✗"), "failed"),
        StepStatus::Incomplete => (theme.error.apply_to("✗"), "incomplete"),
        StepStatus::Skipped => (theme.dim.apply_to("-"), "skipped"),
    };
    let detail = match (&step.reason, step.status) {
        (Some(reason), _) => Some(reason.clone()),
        (None, StepStatus::Passed) => step
            .findings
            .iter()
            .find(|f| f.severity == Severity::Pass && !f.title.is_empty())
            .map(|f| f.title.clone()),
        _ => None,
    };
    let head = format!("Step {} · {} {status}", step.number, step.title);
    (format!("{mark} {}", theme.bold.apply_to(head)), detail)
}

/// One line of the checklist, cut to `width` (shown as each step finishes, on a terminal: the
/// details follow below the checklist).
pub fn step_line(step: &Step, theme: &Theme, width: usize) -> String {
    let (head, detail) = step_parts(step, theme);
    // The head, ": ", and a free last column.
    let room = width.saturating_sub(console::measure_text_width(&head) + 2 + 1);
    match detail {
        Some(d) => format!(
            "{head}{}",
            theme.dim.apply_to(format!(": {}", cut(&d, room)))
        ),
        None => head,
    }
}

fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(room.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The findings a person needs to read for a step.
fn shown<'a>(step: &'a Step, layout: &Layout) -> Vec<&'a Finding> {
    step.findings
        .iter()
        .filter(|f| f.severity != Severity::Pass || f.resolved || layout.verbose)
        .filter(|f| !f.title.is_empty())
        .collect()
}

pub fn render(report: &Report, theme: &Theme, layout: &Layout) -> String {
    let mut out = String::new();
    header(&mut out, report, theme, layout);
    let mut hidden_evidence = false;
    for step in &report.steps {
        let findings = shown(step, layout);
        if layout.checklist_shown {
            if findings.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n{}",
                theme
                    .bold
                    .apply_to(format!("Step {} · {}", step.number, step.title))
            );
        } else {
            // In full (a file, a pipe), wrapped rather than cut.
            let (head, detail) = step_parts(step, theme);
            match detail {
                Some(d) => para_indent(
                    &mut out,
                    &format!("{head}: "),
                    &layout.tilde(&d),
                    "",
                    layout.width,
                    4,
                ),
                None => {
                    let _ = writeln!(out, "{head}");
                }
            }
        }
        for f in findings {
            hidden_evidence |= finding(&mut out, f, theme, layout);
        }
    }
    summary(&mut out, report, theme, layout, hidden_evidence);
    out
}

fn header(out: &mut String, report: &Report, theme: &Theme, layout: &Layout) {
    let _ = writeln!(
        out,
        "{}",
        theme
            .bold
            .apply_to(format!("ses-doctor {} diagnosis", report.tool_version))
    );
    let key = |id: Option<&str>, was: Option<&str>| match (id, was) {
        (Some(k), Some(w)) => format!(" [{k}, replaced {w}]"),
        (Some(k), None) => format!(" [{k}]"),
        _ => String::new(),
    };
    let mut lines = Vec::new();
    if let Some(s) = &report.credentials.sending {
        lines.push((
            "Sending credentials:",
            format!(
                "{}{}",
                s.detail,
                key(
                    s.access_key_id.as_deref(),
                    s.previous_access_key_id.as_deref()
                )
            ),
        ));
    }
    lines.push((
        "Admin credentials:",
        match &report.credentials.admin {
            Some(a) => format!("{}{}", a.detail, key(a.access_key_id.as_deref(), None)),
            None => "the sending credentials (no --admin-profile)".into(),
        },
    ));
    lines.push((
        "Region:",
        match &report.region {
            Some(r) => match &r.previous {
                Some(was) => format!("{} (set by this run; was {was})", r.name),
                None => format!("{} (from {})", r.name, r.source),
            },
            None => "not configured".into(),
        },
    ));
    for (label, value) in lines {
        para(
            out,
            &format!("  {label:<20} "),
            &layout.tilde(&value),
            "",
            layout.width,
        );
    }
    if !layout.checklist_shown {
        let _ = writeln!(out);
    }
}

/// A finding, wrapped to the layout. Returns whether evidence was left out (shown with `-v`).
fn finding(out: &mut String, f: &Finding, theme: &Theme, layout: &Layout) -> bool {
    let code = theme.dim.apply_to(format!("[{}]", f.code));
    let body = layout.width;
    if let Some(step) = f.repeat_of {
        let line = format!("{} (the same cause as in step {step})", f.title);
        para(
            out,
            &format!("  {} ", mark(theme, f.severity)),
            &line,
            &code.to_string(),
            body,
        );
        return false;
    }
    if f.resolved {
        // What was wrong, and what is true now.
        let now = f
            .evidence
            .iter()
            .find(|e| e.label == "after the fix")
            .map(|e| e.value.clone())
            .or_else(|| {
                f.fixes
                    .iter()
                    .find(|x| x.status == FixStatus::Applied)
                    .map(|x| format!("{} (done)", x.description))
            })
            .unwrap_or_else(|| "fixed".into());
        para(
            out,
            &format!("  {} ", theme.pass.apply_to("✓")),
            &format!("now: {now}"),
            &code.to_string(),
            body,
        );
        para(out, "    ", &format!("was: {}", f.title), "", body);
    } else {
        para(
            out,
            &format!("  {} ", mark(theme, f.severity)),
            &layout.tilde(&f.title),
            &code.to_string(),
            body,
        );
        // A note (i) is one line; why it matters is there with -v.
        if !f.explanation.is_empty() && (f.severity != Severity::Info || layout.verbose) {
            para(out, "    ", &layout.tilde(&f.explanation), "", body);
        }
    }
    if layout.verbose {
        for e in &f.evidence {
            para(
                out,
                &format!("    {} ", theme.dim.apply_to(format!("{}:", e.label))),
                &layout.tilde(&e.value),
                "",
                body,
            );
        }
    }
    for fix in &f.fixes {
        if f.resolved && fix.status == FixStatus::Applied {
            continue;
        }
        let state = match (fix.kind, fix.status) {
            (_, FixStatus::Applied) => "fixed",
            (_, FixStatus::Planned) => "would fix (dry run)",
            (_, FixStatus::Declined) => "declined",
            (_, FixStatus::Failed) => "fix failed",
            (FixKind::Automatic, FixStatus::Proposed) => "fix",
            (FixKind::Manual, FixStatus::Proposed) => "to fix",
        };
        para(
            out,
            &format!("    → {}: ", theme.bold.apply_to(state)),
            &layout.tilde(&fix.description),
            "",
            body,
        );
        if let Some(cmd) = &fix.command {
            // A command is copied whole: never wrapped.
            let _ = writeln!(out, "        $ {cmd}");
        }
    }
    !layout.verbose && !f.evidence.is_empty()
}

/// `lead` then `text` wrapped with a hanging indent under it, then `tail` (kept whole) at the
/// end, all within `width` columns.
fn para(out: &mut String, lead: &str, text: &str, tail: &str, width: usize) {
    let indent = console::measure_text_width(lead);
    para_indent(out, lead, text, tail, width, indent);
}

/// [`para`] with the lines after the first indented by `indent` columns.
fn para_indent(out: &mut String, lead: &str, text: &str, tail: &str, width: usize, indent: usize) {
    let whole = if tail.is_empty() {
        text.to_owned()
    } else {
        format!("{text} {tail}")
    };
    let first = width.saturating_sub(console::measure_text_width(lead));
    let rest = width.saturating_sub(indent);
    let mut lines = wrap(&whole, first).into_iter();
    match lines.next() {
        Some(line) => {
            let _ = writeln!(out, "{lead}{line}");
        }
        None => {
            let _ = writeln!(out, "{lead}");
            return;
        }
    }
    let remaining: Vec<String> = lines.collect();
    for line in wrap(&remaining.join(" "), rest) {
        let _ = writeln!(out, "{:indent$}{line}", "");
    }
}

fn summary(
    out: &mut String,
    report: &Report,
    theme: &Theme,
    layout: &Layout,
    hidden_evidence: bool,
) {
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
    let verdict = match (s.outcome, s.warnings) {
        ("clean", 0) => theme.pass.apply_to("Nothing wrong remains.".to_string()),
        ("clean", _) => theme
            .warn
            .apply_to("Nothing stops sending; the warnings above are worth a look.".to_string()),
        ("problems", _) => theme.error.apply_to("Problems remain.".to_string()),
        _ => theme
            .error
            .apply_to("The diagnosis could not complete.".to_string()),
    };
    let _ = writeln!(out);
    let counts = format!(
        "{} error{}, {} warning{}, {} fix{} applied. {verdict} (exit {})",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.fixes_applied,
        if s.fixes_applied == 1 { "" } else { "es" },
        s.exit_code
    );
    let width = layout.width;
    para(
        out,
        &format!("{} ", theme.bold.apply_to("Summary:")),
        &counts,
        "",
        width,
    );
    if proposed > 0 && !layout.asking_next {
        let next = format!(
            "ses-doctor can apply {proposed} of the fixes above: run it on a terminal to be asked, or again with --yes (deleting, deactivating and rotating keys also need their own flags)."
        );
        para(
            out,
            &format!("{} ", theme.bold.apply_to("Next:")),
            &next,
            "",
            width,
        );
    }
    if planned > 0 {
        let dry = format!(
            "{planned} change{} would be made; nothing was changed (--dry-run).",
            plural(planned)
        );
        para(
            out,
            &format!("{} ", theme.bold.apply_to("Dry run:")),
            &dry,
            "",
            width,
        );
    }
    if hidden_evidence {
        let _ = writeln!(
            out,
            "{}",
            theme
                .dim
                .apply_to("(-v shows the evidence behind each finding)")
        );
    }
}

/// The fixes the diagnosis pass would make, for the person to approve.
pub fn plan(plan: &[crate::consent::Planned], theme: &Theme, layout: &Layout) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{}", theme.bold.apply_to("ses-doctor can fix this:"));
    let body = layout.width;
    let needed = plan.iter().filter(|p| !p.optional);
    let optional = plan.iter().filter(|p| p.optional);
    for (i, p) in needed.enumerate() {
        let text = layout.tilde(p.question.trim_end_matches('?'));
        para(&mut out, &format!("  {}. ", i + 1), &text, "", body);
    }
    for p in optional {
        let text = layout.tilde(p.question.trim_end_matches('?'));
        para(&mut out, "  optional: ", &text, "", body);
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

/// Words into lines of at most `width` columns (colour codes take none); a word wider than the
/// line is broken.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        // Colour codes take no columns.
        let w = console::measure_text_width(word);
        if !line.is_empty() && used + 1 + w > width {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if w > width && width > 0 && w == word.chars().count() {
            // A word wider than the line (a long path): broken, not left to run off the edge.
            let chars: Vec<char> = word.chars().collect();
            let mut pieces = chars.chunks(width).peekable();
            while let Some(piece) = pieces.next() {
                let piece: String = piece.iter().collect();
                if pieces.peek().is_some() {
                    lines.push(piece);
                } else {
                    used = piece.chars().count();
                    line = piece;
                }
            }
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with(step: Step) -> Report {
        let mut report = Report::new(crate::report::ReportCredentials::default(), None);
        report.push_step(step);
        report
    }

    #[test]
    fn a_fixed_finding_reads_as_was_and_now() {
        use crate::codes::Code;
        use crate::report::{Finding, StepId};
        let mut finding = Finding::new(Code::PermissionMissing, Severity::Error, "u may not send");
        finding.resolved = true;
        finding.note("after the fix", "IAM allows both actions");
        let mut step = Step::new(StepId::Permissions);
        step.push(finding);
        step.push(Finding::new(Code::SesSandbox, Severity::Warning, "sandbox"));
        let text = render(
            &report_with(step),
            &Theme::new(false),
            &Layout::new(88, false, false),
        );
        assert!(
            text.contains(
                "  ✓ now: IAM allows both actions [permission-missing]\n    was: u may not send\n"
            ),
            "{text}"
        );
        assert!(text.contains("  ! sandbox [ses-sandbox]"), "{text}");
        assert!(text.contains("! Step 3 · Permissions warning"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour codes without colour");
    }

    #[test]
    fn every_line_fits_the_width_and_evidence_needs_verbose() {
        use crate::codes::Code;
        use crate::report::{Finding, Fix, StepId};
        let long = "An explicit Deny overrides every Allow, so attaching AmazonSESFullAccess cannot fix this. Remove or narrow the Deny statement, or send with a user it does not apply to.";
        let mut step = Step::new(StepId::Permissions);
        step.push(
            Finding::new(
                Code::PermissionExplicitlyDenied,
                Severity::Error,
                "Sending is explicitly denied to wordpress by an identity-based policy",
            )
            .explain(long)
            .evidence(
                "ses:SendEmail",
                "explicitly denied by an identity-based policy",
            )
            .fix(Fix::manual(
                "Remove the Deny on ses:SendEmail / ses:SendRawEmail from an identity-based policy",
            )),
        );
        let report = report_with(step);
        for width in [40, 60, 80] {
            let text = render(
                &report,
                &Theme::new(false),
                &Layout::new(width, false, false),
            );
            for line in text
                .lines()
                .filter(|l| !l.starts_with("Summary:") && !l.starts_with('('))
            {
                assert!(
                    console::measure_text_width(line) <= width,
                    "{width}: {line:?} is {} wide\n{text}",
                    console::measure_text_width(line)
                );
            }
            assert!(!text.contains("explicitly denied by an identity"), "{text}");
            assert!(text.contains("-v shows the evidence"), "{text}");
        }
        let verbose = render(&report, &Theme::new(false), &Layout::new(80, true, false));
        assert!(
            verbose.contains("ses:SendEmail: explicitly denied by an identity-based policy"),
            "{verbose}"
        );
    }

    #[test]
    fn after_a_streamed_checklist_only_steps_with_something_to_read_are_shown() {
        use crate::codes::Code;
        use crate::report::{Finding, StepId};
        let mut ok = Step::new(StepId::Identity);
        ok.push(Finding::new(
            Code::CredentialsValid,
            Severity::Pass,
            "key belongs to u",
        ));
        let mut bad = Step::new(StepId::Region);
        bad.push(Finding::new(
            Code::RegionMismatch,
            Severity::Error,
            "wrong region",
        ));
        let mut report = report_with(ok);
        report.push_step(bad);
        let streamed = render(&report, &Theme::new(false), &Layout::new(88, false, true));
        assert!(!streamed.contains("Identity"), "{streamed}");
        assert!(
            streamed.contains("Step 2 · Region\n  ✗ wrong region"),
            "{streamed}"
        );
        let whole = render(&report, &Theme::new(false), &Layout::new(88, false, false));
        assert!(
            whole.contains("✓ Step 1 · Identity passed: key belongs to u"),
            "{whole}"
        );
    }

    #[test]
    fn wrapping_keeps_words_and_width() {
        let text = "one two three four five six seven eight nine ten";
        let lines = wrap(text, 10);
        assert!(lines.iter().all(|l| l.chars().count() <= 10));
        assert_eq!(lines.join(" "), text);
    }
}
