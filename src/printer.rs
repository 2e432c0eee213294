//! The one place that decides what goes to stdout (the report, the one thing a program reads),
//! what goes to stderr (progress, prompts, notes, errors, GitHub workflow commands), and whether
//! colour and a spinner are used.

use crate::cli::{ColorChoice, GlobalOpts, OutputFormat};
use crate::diagnose::Progress;
use crate::render;
use crate::report::{Report, Step, StepId, StepStatus};
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
            match slot.take() {
                Some(bar) => {
                    bar.set_style(
                        ProgressStyle::with_template("  {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.finish_with_message(line);
                }
                None => eprintln!("  {line}"),
            }
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
    verbose: u8,
    github_actions: bool,
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
        Printer {
            format: opts.output,
            color,
            verbose: opts.verbose,
            github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            // Progress only for a person watching stderr.
            activity: Arc::new(Activity {
                enabled: std::io::stderr().is_terminal(),
                bar: Mutex::new(None),
            }),
        }
    }

    /// Whether stdout gets colour (`--color`, `NO_COLOR`, a terminal).
    pub fn color(&self) -> bool {
        self.color
    }

    pub fn report(&self, report: &Report) {
        self.activity.clear();
        let text = match self.format {
            OutputFormat::Json => render::json::render(report),
            OutputFormat::Human => {
                render::human::render(report, &render::human::Theme::new(self.color))
            }
        };
        write_stdout(&text);
        if self.github_actions {
            self.github(report);
        }
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
        let mark = match step.status {
            StepStatus::Passed => "✓",
            StepStatus::Warning => "!",
            StepStatus::Failed | StepStatus::Incomplete => "✗",
            StepStatus::Skipped => "-",
        };
        let status = match step.status {
            StepStatus::Passed => "passed",
            StepStatus::Warning => "warning",
            StepStatus::Failed => "failed",
            StepStatus::Incomplete => "incomplete",
            StepStatus::Skipped => "skipped",
        };
        self.activity.finish(format!(
            "{mark} Step {} · {} {status}",
            step.number, step.title
        ));
    }
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`ses-doctor … | head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
