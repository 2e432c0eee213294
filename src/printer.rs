//! The one place that decides what goes to stdout (the report, the one thing a program reads),
//! what goes to stderr (progress, prompts, notes, errors, GitHub workflow commands), and whether
//! colour and a spinner are used.

use crate::cli::{ColorChoice, GlobalOpts, OutputFormat};
use crate::diagnose::Progress;
use crate::render;
use crate::report::{Report, Step, StepId};
use crate::secret::Secret;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The spinner on stderr while AWS is being called. Shared with the terminal prompter, which
/// suspends it while it asks, so a prompt is never drawn over.
#[derive(Default)]
pub struct Activity {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Activity {
    fn start(&self, message: String) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    /// Replaces the spinner with a finished line.
    fn finish(&self, line: String) {
        if !self.enabled {
            return;
        }
        if let Ok(mut slot) = self.bar.lock() {
            // The spinner goes, and the line is written as plain text: a finished bar is padded
            // to the terminal's edge and left without a newline, which the next line runs into.
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
            eprintln!("{line}");
        }
    }

    pub fn clear(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }

    /// Runs `f` (a prompt) with the spinner out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        let bar = self.bar.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}

pub struct Printer {
    pub format: OutputFormat,
    color: bool,
    /// Colour on stderr (the checklist), by the same rules for that stream.
    err_color: bool,
    verbose: u8,
    github_actions: bool,
    /// Columns to wrap the report at.
    width: usize,
    /// A person watches stderr: each step's checklist line stays there as the step finishes.
    /// Otherwise the progress is a spinner that leaves nothing behind.
    checklist: bool,
    /// The human report goes to the same screen as the checklist, so it does not repeat it.
    report_after_checklist: bool,
    pub activity: Arc<Activity>,
}

impl Printer {
    pub fn new(opts: &GlobalOpts) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match opts.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !no_color,
        };
        let stderr_tty = std::io::stderr().is_terminal();
        let err_color = match opts.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stderr_tty && !no_color,
        };
        let checklist = stderr_tty && (stdout_tty || opts.output == OutputFormat::Json);
        Printer {
            format: opts.output,
            color,
            err_color,
            verbose: opts.verbose,
            github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            width: report_width(stdout_tty),
            checklist,
            report_after_checklist: checklist && stdout_tty && opts.output == OutputFormat::Human,
            // Progress only for a person watching stderr.
            activity: Arc::new(Activity {
                enabled: stderr_tty,
                bar: Mutex::new(None),
            }),
        }
    }

    /// Whether stdout gets colour (`--color`, `NO_COLOR`, a terminal).
    pub fn color(&self) -> bool {
        self.color
    }

    fn layout(&self) -> render::human::Layout {
        let mut layout =
            render::human::Layout::new(self.width, self.verbose > 0, self.report_after_checklist);
        layout.home = std::env::var("HOME").ok().filter(|h| h.len() > 1);
        layout
    }

    pub fn report(&self, report: &Report) {
        self.activity.clear();
        let text = match self.format {
            OutputFormat::Json => render::json::render(report),
            OutputFormat::Human => render::human::render(
                report,
                &render::human::Theme::new(self.color),
                &self.layout(),
            ),
        };
        write_stdout(&text);
        if self.github_actions {
            self.github(report);
        }
    }

    /// The diagnosis of a person's terminal run, and the fixes ses-doctor would make, before
    /// anything is asked.
    pub fn diagnosis(&self, report: &Report, plan: &[crate::consent::Planned]) {
        self.activity.clear();
        let theme = render::human::Theme::new(self.color);
        let layout = render::human::Layout {
            asking_next: true,
            ..self.layout()
        };
        let mut text = render::human::render(report, &theme, &layout);
        text.push_str(&render::human::plan(plan, &theme, &layout));
        write_stdout(&text);
    }

    /// The person chose to change nothing: the diagnosis above is the report.
    pub fn nothing_changed(&self, report: &Report) {
        self.note("Nothing was changed.");
        if self.github_actions {
            self.github(report);
        }
    }

    /// The report of the pass that applied the fixes and checked again.
    pub fn after_fixes(&self, report: &Report) {
        self.activity.clear();
        write_stdout(&format!(
            "\n{}\n",
            render::human::Theme::new(self.color).bold_text("After the fixes")
        ));
        self.report(report);
    }

    /// Annotations on stderr, and the Markdown summary appended to `$GITHUB_STEP_SUMMARY`.
    fn github(&self, report: &Report) {
        for line in render::github::annotations(report) {
            eprintln!("{line}");
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let written = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .and_then(|mut f| f.write_all(render::github::summary_markdown(report).as_bytes()));
            if let Err(e) = written {
                self.note(&format!("note: cannot append to $GITHUB_STEP_SUMMARY: {e}"));
            }
        }
    }

    /// Under GitHub Actions, tells the runner to hide `secret` from the log from now on: only
    /// right before the secret is printed, since the mask command itself is a log line.
    fn mask(&self, secret: &Secret) {
        if self.github_actions {
            eprintln!("::add-mask::{}", secret.expose());
        }
    }

    /// A secret the user asked to see (the SMTP password command), on stdout, masked first.
    pub fn secret_line(&self, secret: &Secret) {
        self.mask(secret);
        write_stdout(&format!("{}\n", secret.expose()));
    }

    pub fn stdout(&self, text: &str) {
        write_stdout(text);
    }

    /// A note for the person, never for a program reading stdout.
    pub fn note(&self, text: &str) {
        self.activity.suspend(|| eprintln!("{text}"));
    }

    pub fn error(&self, text: &str) {
        self.activity.clear();
        let label = console::Style::new()
            .red()
            .bold()
            .force_styling(self.color && std::io::stderr().is_terminal());
        eprintln!("{} {text}", label.apply_to("error:"));
    }

    pub fn debug(&self, text: &str) {
        if self.verbose > 0 {
            self.note(&format!("[ses-doctor] {text}"));
        }
    }
}

impl crate::diagnose::access_key::Reveal for Printer {
    fn can_reveal(&self) -> bool {
        self.format == OutputFormat::Human
    }

    /// Only ever called on a terminal, after the person asked: to stderr, so a report piped to a
    /// file never holds it. Masked first under GitHub Actions.
    fn reveal(&self, label: &str, secret: &Secret) {
        self.mask(secret);
        self.activity
            .suspend(|| eprintln!("{label}: {}", secret.expose()));
    }
}

impl Progress for Printer {
    fn step_started(&self, step: StepId) {
        self.activity
            .start(format!("Step {} · {}", step.number(), step.title()));
        self.debug(&format!("step {} · {}", step.number(), step.title()));
    }

    fn step_finished(&self, step: &Step) {
        if self.checklist {
            let theme = render::human::Theme::new(self.err_color);
            self.activity
                .finish(render::human::step_line(step, &theme, stderr_width()));
        } else {
            self.activity.clear();
        }
    }
}

/// The terminal's width for the report on stdout; without a terminal, `COLUMNS` when set (as
/// less and man use it), else a readable default.
fn report_width(stdout_tty: bool) -> usize {
    let from_env = || {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|c| *c > 0)
    };
    let terminal = stdout_tty
        .then(|| console::Term::stdout().size_checked())
        .flatten()
        .map(|(_, cols)| cols as usize);
    terminal
        .or_else(from_env)
        .unwrap_or(render::human::Layout::DEFAULT_WIDTH)
}

fn stderr_width() -> usize {
    console::Term::stderr()
        .size_checked()
        .map(|(_, cols)| cols as usize)
        .unwrap_or(render::human::Layout::DEFAULT_WIDTH)
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`ses-doctor … | head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
