//! Whether a fix may be applied: with `--yes` every proposed fix is applied with its defaults;
//! with `--dry-run` it is planned only; on a terminal the person is asked; otherwise (a pipe, a
//! CI job without `--yes`) nothing is changed and the report says how to apply the fix.
//!
//! On a terminal the diagnosis comes before any question: a first pass runs in [`Mode::Plan`],
//! which changes nothing and records each question it would have asked (the fix plan); the
//! person reads the diagnosis and the plan, then approves the plan as a whole
//! ([`Consent::approved`]) or fix by fix ([`Mode::Ask`]) for the pass that applies them.

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
    /// The diagnosis pass on a terminal: never prompt, change nothing, record the questions.
    Plan,
    /// The fixes of the plan were approved together: apply those, ask about any other.
    Approved,
}

impl Mode {
    /// `json`: a JSON report is read by a program, so it never comes with a question.
    pub fn detect(yes: bool, dry_run: bool, json: bool) -> Mode {
        if dry_run {
            Mode::DryRun
        } else if yes {
            Mode::Yes
        } else if !json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
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

/// dialoguer on stderr. The spinner is cleared first, not just hidden: a spinner redrawn after
/// the answer would leave a frozen frame above the prompt's line, or draw on it after Ctrl-C.
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
        self.activity.clear();
        {
            crate::terminal::flush_input();
            dialoguer::Confirm::new()
                .with_prompt(question)
                .default(default)
                .interact()
                .map_err(prompt_error)
        }
    }

    fn input(
        &self,
        prompt: &str,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, Failure> {
        self.activity.clear();
        {
            crate::terminal::flush_input();
            dialoguer::Input::<String>::new()
                .with_prompt(prompt)
                .default(default.to_owned())
                .validate_with(|text: &String| validate(text.trim()))
                .interact_text()
                .map(|text| text.trim().to_owned())
                .map_err(prompt_error)
        }
    }

    fn select(&self, prompt: &str, items: &[String], default: usize) -> Result<usize, Failure> {
        self.activity.clear();
        {
            crate::terminal::flush_input();
            dialoguer::Select::new()
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact()
                .map_err(prompt_error)
        }
    }
}

pub struct Consent {
    pub mode: Mode,
    prompter: Box<dyn Prompter>,
    /// [`Mode::Plan`]: the questions that would have been asked, in the order of the flow.
    planned: std::sync::Mutex<Vec<Planned>>,
    /// [`Mode::Approved`]: the questions approved together.
    approved: Vec<String>,
}

/// A fix the diagnosis pass would have asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The question, as the fixing pass asks it (so an approval can be matched to it).
    pub question: String,
    /// Not needed to make sending work (rotating, retiring a spare key): asked with "no" as
    /// the default, and applied together with the others only when its own flag was given.
    pub optional: bool,
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
        Consent {
            mode,
            prompter,
            planned: std::sync::Mutex::new(Vec::new()),
            approved: Vec::new(),
        }
    }

    /// The fixing pass after the person approved `plan` as a whole: each approved question is
    /// answered "yes" without asking again; a question the plan did not have is asked.
    pub fn approved(prompter: Box<dyn Prompter>, plan: &[Planned]) -> Self {
        Consent {
            approved: plan.iter().map(|p| p.question.clone()).collect(),
            ..Consent::new(Mode::Approved, prompter)
        }
    }

    /// Whether a fix may be applied in this mode (else the run only looks, and its calls may run
    /// in any order).
    pub fn may_change(&self) -> bool {
        matches!(self.mode, Mode::Yes | Mode::Ask | Mode::Approved)
    }

    /// What a [`Mode::Plan`] pass would have asked, in order, each question once.
    pub fn plan(&self) -> Vec<Planned> {
        self.planned.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn record(&self, question: &str, optional: bool) {
        if let Ok(mut planned) = self.planned.lock() {
            if !planned.iter().any(|p| p.question == question) {
                planned.push(Planned {
                    question: question.to_owned(),
                    optional,
                });
            }
        }
    }

    fn is_approved(&self, question: &str) -> bool {
        self.approved.iter().any(|q| q == question)
    }

    /// May the change described by `question` be made?
    pub fn decide(&self, question: &str) -> Result<Decision, Failure> {
        Ok(match self.mode {
            Mode::Yes => Decision::Apply,
            Mode::DryRun => Decision::Leave(FixStatus::Planned),
            Mode::ReportOnly => Decision::Leave(FixStatus::Proposed),
            Mode::Plan => {
                self.record(question, false);
                Decision::Leave(FixStatus::Proposed)
            }
            Mode::Approved if self.is_approved(question) => Decision::Apply,
            Mode::Ask | Mode::Approved => {
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
            Mode::Plan => {
                self.record(question, !forced);
                Decision::Leave(FixStatus::Proposed)
            }
            Mode::Ask | Mode::Approved if forced => Decision::Apply,
            Mode::Approved if self.is_approved(question) => Decision::Apply,
            Mode::Ask | Mode::Approved => {
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
            Mode::Ask | Mode::Approved => self.prompter.confirm(question, false),
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

/// How the person wants the fixes of the plan applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixChoice {
    Together,
    OneByOne,
    Nothing,
}

/// Asked once, after the diagnosis and the plan are on screen.
pub fn choose_fixes(prompter: &dyn Prompter, plan: &[Planned]) -> Result<FixChoice, Failure> {
    let needed = plan.iter().filter(|p| !p.optional).count();
    let mut items = Vec::new();
    let mut choices = Vec::new();
    if needed > 0 {
        items.push(match (needed, plan.len() - needed) {
            (1, 0) => "Apply the fix".to_owned(),
            (n, 0) => format!("Apply the {n} fixes"),
            (n, _) => format!(
                "Apply the {n} fix{} (the optional ones are asked one by one)",
                if n == 1 { "" } else { "es" }
            ),
        });
        choices.push(FixChoice::Together);
    }
    items.push("Decide one by one".to_owned());
    choices.push(FixChoice::OneByOne);
    items.push("Change nothing".to_owned());
    choices.push(FixChoice::Nothing);
    let i = prompter.select("What should ses-doctor do?", &items, 0)?;
    Ok(choices.get(i).copied().unwrap_or(FixChoice::Nothing))
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
    fn the_plan_records_each_question_and_asks_none() {
        let c = Consent::new(Mode::Plan, Box::new(Scripted::new(vec![])));
        assert_eq!(
            c.decide("Create a key?").unwrap(),
            Decision::Leave(FixStatus::Proposed)
        );
        assert_eq!(
            c.decide_optional("Rotate?", false).unwrap(),
            Decision::Leave(FixStatus::Proposed)
        );
        assert_eq!(
            c.decide_optional("Delete spare?", true).unwrap(),
            Decision::Leave(FixStatus::Proposed)
        );
        c.decide("Create a key?").unwrap();
        assert!(
            !c.ask("show?").unwrap(),
            "nothing is revealed while planning"
        );
        assert_eq!(
            c.text("Name", "ses-sender", &|_| Ok(())).unwrap(),
            "ses-sender"
        );
        let plan = c.plan();
        let summary: Vec<(&str, bool)> = plan
            .iter()
            .map(|p| (p.question.as_str(), p.optional))
            .collect();
        assert_eq!(
            summary,
            [
                ("Create a key?", false),
                ("Rotate?", true),
                ("Delete spare?", false)
            ]
        );
    }

    #[test]
    fn an_approved_plan_applies_its_fixes_and_asks_about_others() {
        let plan = vec![
            Planned {
                question: "Create a key?".into(),
                optional: false,
            },
            Planned {
                question: "Rotate?".into(),
                optional: true,
            },
        ];
        let prompter = Scripted::new(vec![Answer::Confirm(false), Answer::Confirm(true)]);
        let c = Consent::approved(Box::new(prompter), &plan);
        assert_eq!(c.decide("Create a key?").unwrap(), Decision::Apply);
        assert_eq!(
            c.decide_optional("Rotate?", false).unwrap(),
            Decision::Apply
        );
        // Not in the plan the person read: asked.
        assert_eq!(
            c.decide("Set the region?").unwrap(),
            Decision::Leave(FixStatus::Declined)
        );
        assert!(c.ask("Show the secret?").unwrap());
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
