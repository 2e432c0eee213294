//! The one place that decides what goes to stdout (the report, the one thing a program reads),
//! what goes to stderr (progress, notes, errors), and whether colour is used.

use crate::cli::{ColorChoice, GlobalOpts, OutputFormat};
use crate::diagnose::Progress;
use crate::render;
use crate::report::{Report, StepId};
use crate::secret::Secret;
use std::io::{IsTerminal, Write};

pub struct Printer {
    pub format: OutputFormat,
    color: bool,
    /// Progress lines only make sense for a person watching stderr.
    progress: bool,
    verbose: u8,
    github_actions: bool,
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
            progress: std::io::stderr().is_terminal(),
            verbose: opts.verbose,
            github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        }
    }

    pub fn report(&self, report: &Report) {
        let text = match self.format {
            OutputFormat::Json => render::json::render(report),
            OutputFormat::Human => {
                render::human::render(report, &render::human::Theme::new(self.color))
            }
        };
        write_stdout(&text);
    }

    /// A secret the user asked to see. Under GitHub Actions it is masked in the log first.
    pub fn secret_line(&self, secret: &Secret) {
        if self.github_actions {
            write_stdout(&format!("::add-mask::{}\n", secret.expose()));
        }
        write_stdout(&format!("{}\n", secret.expose()));
    }

    pub fn stdout(&self, text: &str) {
        write_stdout(text);
    }

    /// A note for the person, never for a program reading stdout.
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    pub fn error(&self, text: &str) {
        let label = console::Style::new()
            .red()
            .bold()
            .force_styling(self.color && std::io::stderr().is_terminal());
        eprintln!("{} {text}", label.apply_to("error:"));
    }

    pub fn debug(&self, text: &str) {
        if self.verbose > 0 {
            eprintln!("[ses-doctor] {text}");
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
        if self.github_actions {
            write_stdout(&format!("::add-mask::{}\n", secret.expose()));
        }
        eprintln!("{label}: {}", secret.expose());
    }
}

impl Progress for Printer {
    fn step_started(&self, step: StepId) {
        if self.progress {
            eprintln!("… step {} · {}", step.number(), step.title());
        } else {
            self.debug(&format!("step {} · {}", step.number(), step.title()));
        }
    }
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`ses-doctor … | head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
