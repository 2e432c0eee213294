//! Whether a fix may be applied: with `--yes` every proposed fix is applied with its defaults;
//! with `--dry-run` it is planned only; on a terminal the person is asked; otherwise (a pipe, a
//! CI job without `--yes`) nothing is changed and the report says how to apply the fix.

use crate::exit::Failure;
use crate::report::FixStatus;
use std::io::IsTerminal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--yes`: apply with defaults, never prompt.
    Yes,
    /// `--dry-run`: change nothing, say what would change.
    DryRun,
    /// stdin and stderr are terminals: ask.
    Ask,
    /// No terminal and no `--yes`: never prompt, change nothing.
    ReportOnly,
}

impl Mode {
    pub fn detect(yes: bool, dry_run: bool) -> Mode {
        if dry_run {
            Mode::DryRun
        } else if yes {
            Mode::Yes
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Mode::Ask
        } else {
            Mode::ReportOnly
        }
    }
}

/// Asks the person. The terminal implementation uses dialoguer; tests script the answers.
pub trait Prompter: Sync {
    fn confirm(&self, question: &str, default: bool) -> Result<bool, Failure>;
    fn select(&self, prompt: &str, items: &[String], default: usize) -> Result<usize, Failure>;
    /// Free text, re-asked until `validate` accepts it.
    fn input(
        &self,
        prompt: &str,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Failure>;
}

/// dialoguer on stderr, with the spinner suspended while it asks.
pub struct TerminalPrompter {
    activity: std::sync::Arc<crate::printer::Activity>,
}

impl TerminalPrompter {
    pub fn new(activity: std::sync::Arc<crate::printer::Activity>) -> Self {
        TerminalPrompter { activity }
    }
}

fn prompt_error(e: dialoguer::Error) -> Failure {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            Failure::interrupted()
        }
        other => Failure::usage(format!("cannot prompt: {other}")),
    }
}

impl Prompter for TerminalPrompter {
    fn confirm(&self, question: &str, default: bool) -> Result<bool, Failure> {
        self.activity.suspend(|| {
            crate::terminal::flush_input();
            dialoguer::Confirm::new()
                .with_prompt(question)
                .default(default)
                .interact()
                .map_err(prompt_error)
        })
    }

    fn input(
        &self,
        prompt: &str,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Failure> {
        self.activity.suspend(|| {
            crate::terminal::flush_input();
            dialoguer::Input::<String>::new()
                .with_prompt(prompt)
                .default(default.to_owned())
                .validate_with(|text: &String| validate(text.trim()))
                .interact_text()
                .map(|text| text.trim().to_owned())
                .map_err(prompt_error)
        })
    }

    fn select(&self, prompt: &str, items: &[String], default: usize) -> Result<usize, Failure> {
        self.activity.suspend(|| {
            crate::terminal::flush_input();
            dialoguer::Select::new()
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact()
                .map_err(prompt_error)
        })
    }
}

pub struct Consent {
    pub mode: Mode,
    prompter: Box<dyn Prompter>,
}

/// What to do with one fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Apply,
    /// Leave it, with the status the report shows (declined, planned, proposed).
    Leave(FixStatus),
}

impl Consent {
    pub fn new(mode: Mode, prompter: Box<dyn Prompter>) -> Self {
        Consent { mode, prompter }
    }

    /// May the change described by `question` be made?
    pub fn decide(&self, question: &str) -> Result<Decision, Failure> {
        Ok(match self.mode {
            Mode::Yes => Decision::Apply,
            Mode::DryRun => Decision::Leave(FixStatus::Planned),
            Mode::ReportOnly => Decision::Leave(FixStatus::Proposed),
            Mode::Ask => {
                if self.prompter.confirm(question, true)? {
                    Decision::Apply
                } else {
                    Decision::Leave(FixStatus::Declined)
                }
            }
        })
    }

    /// Like [`decide`](Self::decide) for a change that is not needed to make sending work
    /// (rotating an old key, retiring a spare one): asked with "no" as the default, and applied
    /// under `--yes` only when its own flag (`forced`) was given.
    pub fn decide_optional(&self, question: &str, forced: bool) -> Result<Decision, Failure> {
        Ok(match self.mode {
            Mode::Yes if forced => Decision::Apply,
            Mode::Yes | Mode::ReportOnly => Decision::Leave(FixStatus::Proposed),
            Mode::DryRun => Decision::Leave(FixStatus::Planned),
            Mode::Ask if forced => Decision::Apply,
            Mode::Ask => {
                if self.prompter.confirm(question, false)? {
                    Decision::Apply
                } else {
                    Decision::Leave(FixStatus::Declined)
                }
            }
        })
    }

    /// A yes/no question for the person (revealing a secret), "no" without a terminal.
    pub fn ask(&self, question: &str) -> Result<bool, Failure> {
        match self.mode {
            Mode::Ask => self.prompter.confirm(question, false),
            _ => Ok(false),
        }
    }

    /// A name or an address, validated; the default without a person to ask.
    pub fn text(
        &self,
        prompt: &str,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Failure> {
        match self.mode {
            Mode::Ask => self.prompter.input(prompt, default, validate),
            _ => Ok(default.to_owned()),
        }
    }

    /// A choice among `items`; the default without a person to ask.
    pub fn choose(&self, prompt: &str, items: &[String], default: usize) -> Result<usize, Failure> {
        match self.mode {
            Mode::Ask if items.len() > 1 => self.prompter.select(prompt, items, default),
            _ => Ok(default),
        }
    }
}

#[cfg(test)]
pub mod scripted {
    //! A prompter that answers from a script, for unit tests of interactive flows.
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Clone)]
    pub enum Answer {
        Confirm(bool),
        Select(usize),
        Text(String),
    }

    pub struct Scripted {
        answers: Mutex<Vec<Answer>>,
        pub asked: Mutex<Vec<String>>,
    }

    impl Scripted {
        pub fn new(mut answers: Vec<Answer>) -> Self {
            answers.reverse();
            Scripted {
                answers: Mutex::new(answers),
                asked: Mutex::new(Vec::new()),
            }
        }
    }

    impl Prompter for Scripted {
        fn confirm(&self, question: &str, _: bool) -> Result<bool, Failure> {
            self.asked.lock().unwrap().push(question.to_owned());
            match self.answers.lock().unwrap().pop() {
                Some(Answer::Confirm(b)) => Ok(b),
                other => panic!("expected a confirm answer for {question:?}, script has {other:?}"),
            }
        }

        fn input(
            &self,
            prompt: &str,
            _: &str,
            validate: &dyn Fn(&str) -> Result<(), String>,
        ) -> Result<String, Failure> {
            // Like the terminal: answers are tried in turn until one is valid.
            loop {
                self.asked.lock().unwrap().push(prompt.to_owned());
                match self.answers.lock().unwrap().pop() {
                    Some(Answer::Text(t)) if validate(&t).is_ok() => return Ok(t),
                    Some(Answer::Text(_)) => continue,
                    other => panic!("expected a text answer for {prompt:?}, script has {other:?}"),
                }
            }
        }

        fn select(&self, prompt: &str, items: &[String], _: usize) -> Result<usize, Failure> {
            self.asked
                .lock()
                .unwrap()
                .push(format!("{prompt}: {}", items.join(" | ")));
            match self.answers.lock().unwrap().pop() {
                Some(Answer::Select(i)) => Ok(i),
                other => panic!("expected a select answer for {prompt:?}, script has {other:?}"),
            }
        }
    }

    #[test]
    fn modes_decide_without_asking_except_ask() {
        let c = Consent::new(Mode::Yes, Box::new(Scripted::new(vec![])));
        assert_eq!(c.decide("q").unwrap(), Decision::Apply);
        let c = Consent::new(Mode::DryRun, Box::new(Scripted::new(vec![])));
        assert_eq!(c.decide("q").unwrap(), Decision::Leave(FixStatus::Planned));
        let c = Consent::new(Mode::ReportOnly, Box::new(Scripted::new(vec![])));
        assert_eq!(c.decide("q").unwrap(), Decision::Leave(FixStatus::Proposed));
        assert_eq!(c.choose("p", &["a".into(), "b".into()], 1).unwrap(), 1);
        let c = Consent::new(
            Mode::Ask,
            Box::new(Scripted::new(vec![
                Answer::Confirm(false),
                Answer::Select(0),
            ])),
        );
        assert_eq!(c.decide("q").unwrap(), Decision::Leave(FixStatus::Declined));
        assert_eq!(c.choose("p", &["a".into(), "b".into()], 1).unwrap(), 0);
    }

    #[test]
    fn text_is_validated_and_defaults_without_a_person() {
        let valid = |t: &str| {
            if t.contains(' ') {
                Err("no spaces".to_owned())
            } else {
                Ok(())
            }
        };
        let c = Consent::new(Mode::Yes, Box::new(Scripted::new(vec![])));
        assert_eq!(c.text("Name", "ses-sender", &valid).unwrap(), "ses-sender");
        let c = Consent::new(
            Mode::Ask,
            Box::new(Scripted::new(vec![
                Answer::Text("bad name".into()),
                Answer::Text("wp-mailer".into()),
            ])),
        );
        assert_eq!(c.text("Name", "ses-sender", &valid).unwrap(), "wp-mailer");
    }

    #[test]
    fn optional_fixes_need_their_flag_under_yes() {
        let c = Consent::new(Mode::Yes, Box::new(Scripted::new(vec![])));
        assert_eq!(
            c.decide_optional("q", false).unwrap(),
            Decision::Leave(FixStatus::Proposed)
        );
        assert_eq!(c.decide_optional("q", true).unwrap(), Decision::Apply);
        assert!(!c.ask("show?").unwrap(), "never reveal without a person");
        let c = Consent::new(Mode::DryRun, Box::new(Scripted::new(vec![])));
        assert_eq!(
            c.decide_optional("q", true).unwrap(),
            Decision::Leave(FixStatus::Planned)
        );
        let c = Consent::new(
            Mode::Ask,
            Box::new(Scripted::new(vec![Answer::Confirm(true)])),
        );
        assert_eq!(c.decide_optional("q", false).unwrap(), Decision::Apply);
    }
}
