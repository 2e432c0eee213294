//! A person at a terminal: the real binary in a pseudo-terminal (stdin, stdout and stderr all the
//! PTY), answering dialoguer's prompts key by key, each test in an emulator world of its own. And
//! the opposite: a run with no terminal and a stdin that never ends must never wait for it.
//!
//! The terminal is set up as a person's is: echo on (rexpect turns it off; a hidden prompt must
//! turn it off itself), a size (a new PTY has 0 × 0), `TERM=xterm`. Keys are typed after a short
//! pause, as a person reads the question first; a confirmation is one key (dialoguer's `Confirm`
//! answers on `y`/`n`, without Enter), a choice is arrows and Enter (`\r`, as a terminal sends).

use crate::cli::{FixStatus, Home, Output, SesDoctor};
use crate::support::{emulator, smtp_password, Account, Keys};
use crate::worlds::{healthy_sender, DOMAIN, FULL_ACCESS};
use rexpect::process::WaitStatus;
use rexpect::session::{spawn_with_options, Options, PtySession};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one expectation may wait for the screen to show something.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a run may take after the last answer (IAM propagation waits are bounded by ~30 s).
const RUN_DEADLINE: Duration = Duration::from_secs(120);
/// A person reads the question before typing.
const THINK: Duration = Duration::from_millis(300);
const ARROW_DOWN: &str = "\x1b[B";
/// Asked once, after the diagnosis and the list of fixes are on screen.
const FIXES_QUESTION: &str = "What should ses-doctor do?";
const ENTER: &str = "\r";

/// A config file with neighbours, comments and odd spacing that a fix must leave alone.
const CONFIG: &str = "# Work profiles -- do not reorder\n[default]\nregion = us-west-2\noutput = json\n\n[profile mailer]\n# the WordPress site\nregion   =   us-east-1\ncli_pager =\n\n[profile other]\nregion = ap-southeast-2 ; keep\n";

// ---------------------------------------------------------------------------
// The terminal
// ---------------------------------------------------------------------------

/// `ses-doctor` running in a pseudo-terminal, with everything it has shown so far.
struct Terminal {
    session: PtySession,
    /// Every byte read from the terminal, in order (escape sequences included).
    seen: Vec<u8>,
    /// Values that must never appear on the terminal (checked when the run ends).
    secrets: Vec<String>,
    cols: u16,
}

/// How a terminal run ended.
struct Ended {
    status: WaitStatus,
    /// Every byte the run wrote to the terminal, as text (escape sequences included).
    screen: String,
    /// The terminal's settings once the run ended (`stty -a`).
    modes: String,
    cols: u16,
}

impl Ended {
    fn code(&self) -> Option<i32> {
        match self.status {
            WaitStatus::Exited(_, code) => Some(code),
            _ => None,
        }
    }

    fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "exit status {:?}; the terminal showed:\n{}",
            self.status,
            self.screen
        );
        self
    }

    /// The terminal as a person sees it at the end (what was overwritten is gone), each row with
    /// whether it ran past the right edge into the next row.
    fn rows(&self) -> Vec<(String, bool)> {
        // Tall enough that nothing scrolls away.
        let mut parser = vt100::Parser::new(2000, self.cols, 0);
        parser.process(self.screen.as_bytes());
        let screen = parser.screen();
        let rows: Vec<String> = screen.rows(0, self.cols).collect();
        let last = rows.iter().rposition(|r| !r.trim().is_empty()).unwrap_or(0);
        rows.into_iter()
            .take(last + 1)
            .enumerate()
            .map(|(i, r)| (r, screen.row_wrapped(i as u16)))
            .collect()
    }

    /// The screen without escape sequences, for reading.
    fn text(&self) -> String {
        plain(&self.screen)
    }

    fn assert_shows(&self, text: &str) -> &Self {
        assert!(
            self.text().contains(text),
            "the terminal never showed {text:?}:\n{}",
            self.text()
        );
        self
    }

    /// The run gave the terminal back as it found it: echo and line editing on.
    fn assert_terminal_restored(&self) -> &Self {
        for mode in ["echo", "icanon", "isig"] {
            assert!(
                has_mode(&self.modes, mode),
                "the terminal is left with {mode} off:\n{}",
                self.modes
            );
        }
        self
    }

    /// A secret must not appear whole, nor a recognisable part of it.
    fn assert_no_secret(&self, secret: &str) -> &Self {
        let probe = &secret[..secret.len().min(16)];
        assert!(
            !self.screen.contains(probe) && !self.text().contains(probe),
            "a secret appears on the terminal:\n{}",
            self.text()
        );
        self
    }
}

impl Terminal {
    /// Starts `doctor` in a new pseudo-terminal of 40 rows × 120 columns, echo on. `secrets`
    /// must never appear on it.
    fn start(doctor: SesDoctor, secrets: &[&str]) -> Terminal {
        Terminal::start_sized(doctor, secrets, 120)
    }

    /// As [`start`](Self::start), `cols` wide.
    fn start_sized(doctor: SesDoctor, secrets: &[&str], cols: u16) -> Terminal {
        let inner = doctor.into_command();
        // rexpect execs the command with the PTY as stdin, stdout and stderr; a shell sets the
        // terminal up as a person's first, then becomes ses-doctor (same process, same group).
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "stty rows 40 cols {cols} echo && exec \"$0\" \"$@\""
            ))
            .arg(inner.get_program())
            .args(inner.get_args());
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd.env("TERM", "xterm");
        let options = Options::new().timeout_ms(Some(EXPECT_TIMEOUT.as_millis() as u64));
        let session = spawn_with_options(cmd, options).expect("ses-doctor starts in a PTY");
        Terminal {
            session,
            seen: Vec::new(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
            cols,
        }
    }

    fn record(&mut self, text: &str) {
        // rexpect hands each byte over as one char.
        self.seen.extend(text.chars().map(|c| c as u32 as u8));
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// Waits until the terminal shows `text` (plain ASCII: rexpect reads bytes, not UTF-8).
    fn expect(&mut self, text: &str) {
        match self.session.exp_string(text) {
            Ok(before) => {
                self.record(&before);
                self.record(text);
            }
            Err(e) => self.fail(&format!("expected {text:?}"), e),
        }
    }

    /// Waits until the terminal shows a match of `regex`.
    fn expect_regex(&mut self, regex: &str) {
        match self.session.exp_regex(regex) {
            Ok((before, matched)) => {
                self.record(&before);
                self.record(&matched);
            }
            Err(e) => self.fail(&format!("expected /{regex}/"), e),
        }
    }

    fn fail(&mut self, what: &str, e: rexpect::error::Error) -> ! {
        let got = match &e {
            rexpect::error::Error::EOF { got, .. } | rexpect::error::Error::Timeout { got, .. } => {
                got.clone()
            }
            _ => String::new(),
        };
        self.record(&got);
        let status = self.session.process().status();
        panic!(
            "{what}: {}\nprocess: {status:?}\nthe terminal showed:\n{}",
            match e {
                rexpect::error::Error::EOF { .. } => "the program ended".to_owned(),
                rexpect::error::Error::Timeout { timeout, .. } =>
                    format!("not shown within {timeout:?}"),
                other => other.to_string(),
            },
            plain(&self.screen())
        );
    }

    /// The terminal's settings, as `stty -a` shows them (asked through the PTY's master side,
    /// which shares them with ses-doctor's side).
    fn modes(&self) -> String {
        let master = self
            .session
            .process()
            .get_file_handle()
            .expect("a handle on the PTY");
        let out = Command::new("stty")
            .arg("-a")
            .stdin(Stdio::from(master))
            .output()
            .expect("run stty");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the terminal no longer echoes what is typed (a hidden prompt turns echo off
    /// just after it shows its question).
    fn wait_for_echo_off(&mut self) {
        let started = Instant::now();
        while has_mode(&self.modes(), "echo") {
            if started.elapsed() > EXPECT_TIMEOUT {
                panic!(
                    "the terminal still echoes input at the hidden prompt after {EXPECT_TIMEOUT:?}; it showed:\n{}",
                    plain(&self.screen())
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys` after a moment's thought.
    fn type_keys(&mut self, keys: &str) {
        std::thread::sleep(THINK);
        self.session.send(keys).expect("type into the terminal");
        self.session.flush().expect("flush the terminal");
    }

    /// Waits for the yes/no `question` and answers it with one key.
    /// The question after the diagnosis: apply the fixes it listed, all together (the default).
    fn apply_the_fixes(&mut self) {
        self.expect(FIXES_QUESTION);
        std::thread::sleep(THINK);
        self.type_keys(ENTER);
    }

    /// The question after the diagnosis: decide fix by fix.
    fn one_by_one(&mut self) {
        self.expect(FIXES_QUESTION);
        std::thread::sleep(THINK);
        self.type_keys(ARROW_DOWN);
        self.type_keys(ENTER);
    }

    fn answer(&mut self, question: &str, yes: bool) {
        self.expect(question);
        self.type_keys(if yes { "y" } else { "n" });
    }

    fn ctrl_c(&mut self) {
        std::thread::sleep(THINK);
        self.session.send_control('c').expect("send Ctrl-C");
    }

    /// Reads to the end of the run (the PTY closes when ses-doctor exits), then its exit status.
    fn finish(mut self) -> Ended {
        let started = Instant::now();
        loop {
            match self.session.exp_eof() {
                Ok(rest) => {
                    self.record(&rest);
                    break;
                }
                Err(rexpect::error::Error::Timeout { .. }) if started.elapsed() < RUN_DEADLINE => {
                    continue
                }
                Err(e) => self.fail("expected the run to end", e),
            }
        }
        let modes = self.modes();
        let status = self.session.process().wait().expect("wait for ses-doctor");
        let ended = Ended {
            status,
            screen: self.screen(),
            modes,
            cols: self.cols,
        };
        for secret in &self.secrets {
            ended.assert_no_secret(secret);
        }
        ended
    }
}

/// Whether `stty -a` output shows `mode` on (`echo`, not `-echo`).
fn has_mode(modes: &str, mode: &str) -> bool {
    modes.split_whitespace().any(|w| w == mode)
}

/// `text` without ANSI escape sequences (CSI and two-byte ones) and carriage returns.
fn plain(text: &str) -> String {
    strip_escapes(text).replace('\r', "")
}

/// `text` without ANSI escape sequences (CSI and two-byte ones).
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.next() == Some('[') {
                    // Parameters and intermediates, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Worlds and homes
// ---------------------------------------------------------------------------

/// `mailer` (the sending key, as given) and `admin` in the credentials file, `config` as the
/// config file.
fn home_for(account: &Account, keys: &Keys, config: &str) -> Home {
    let home = Home::mailer_and_admin(
        account,
        &keys.access_key_id,
        &keys.secret_access_key,
        config,
    );
    home.sdks_disagree("`region = ap-southeast-2 ; keep`: botocore keeps the comment in the value");
    home
}

/// `diagnose --profile mailer --admin-profile admin --regions …`, human output.
/// `diagnose` on the terminal. The sender is named, so the only questions are the ones a test
/// is about (without `--from`, the sender address is asked for when only a domain is verified).
fn diagnose(home: &Home, account: &Account, regions: &str) -> SesDoctor {
    home.for_account(account).args([
        "diagnose",
        "--profile",
        "mailer",
        "--admin-profile",
        "admin",
        "--regions",
        regions,
        "--from",
        "noreply@example.com",
    ])
}

/// A mailer user with example.com verified in eu-west-1 (production access) and no permission.
async fn no_permission(account: &Account) -> Keys {
    let keys = account.create_user_with_key("mailer").await;
    account.create_identity("eu-west-1", DOMAIN, true).await;
    account.set_ses_account("eu-west-1", true, true);
    keys
}

/// The mailer's policies: managed ones by ARN, inline ones as "NAME (inline)".
async fn granted(account: &Account) -> Vec<String> {
    let out = account
        .iam()
        .list_attached_user_policies()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    let inline = account
        .iam()
        .list_user_policies()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    out.attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .chain(
            inline
                .policy_names()
                .iter()
                .map(|n| format!("{n} (inline)")),
        )
        .collect()
}

/// The grant ses-doctor proposes by default, as asked.
const GRANT: &str = "Let mailer send from example.com only (inline policy ses-doctor-send)";

/// The value of `key` in `[profile]` of a credentials file, read independently of ses-doctor.
fn profile_value(text: &str, profile: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == format!("[{profile}]");
        } else if inside {
            if let Some((k, v)) = t.split_once('=') {
                if k.trim() == key {
                    return Some(v.trim().to_owned());
                }
            }
        }
    }
    None
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_region_is_selected_from_the_list_and_written_to_the_profile() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.attach_policy("mailer", FULL_ACCESS).await;
    account.create_identity("eu-west-1", DOMAIN, true).await;
    account.set_ses_account("eu-west-1", true, true);
    account.create_identity("us-west-2", DOMAIN, true).await;
    account.set_ses_account("us-west-2", false, true);
    let home = home_for(&account, &keys, CONFIG);

    let mut term = Terminal::start(
        diagnose(&home, &account, "us-east-1,eu-west-1,us-west-2"),
        &[&keys.secret_access_key, &account.admin.secret_access_key],
    );
    term.one_by_one();
    term.expect("Which region should the mailer send through?");
    // Both regions, best first, each with what it has.
    term.expect_regex(r"eu-west-1 Europe \(Ireland\): example\.com; production access");
    term.expect_regex(r"us-west-2 US West \(Oregon\): example\.com; sandbox");
    term.type_keys(ARROW_DOWN);
    term.type_keys(ENTER);
    term.answer("Set the region of profile 'mailer' to us-west-2", true);
    let ended = term.finish();
    ended
        .assert_code(0)
        .assert_shows("Which region should the mailer send through?: us-west-2");

    // Only the region's value changed.
    assert_eq!(
        std::fs::read_to_string(home.config_file()).unwrap(),
        CONFIG.replace("region   =   us-east-1\n", "region   =   us-west-2\n"),
        "the terminal showed:\n{}",
        ended.text()
    );
}

#[tokio::test]
async fn the_diagnosis_is_on_screen_before_the_only_question_and_the_fixes_follow() {
    let account = emulator().new_account();
    let keys = no_permission(&account).await;
    let home = home_for(&account, &keys, "[profile mailer]\nregion = eu-west-1\n");

    let mut term = Terminal::start(
        diagnose(&home, &account, "eu-west-1,us-east-1"),
        &[&keys.secret_access_key, &account.admin.secret_access_key],
    );
    term.expect(FIXES_QUESTION);
    // Everything the person needs to decide is above the first question: what is wrong, why,
    // and what ses-doctor would change.
    let before = plain(&term.screen());
    let asked = before.find(FIXES_QUESTION).unwrap();
    for shown in [
        "✗ mailer is not allowed ses:SendEmail or ses:SendRawEmail [permission-missing]",
        "ses-doctor can fix this:",
        &format!("1. {GRANT}"),
    ] {
        let at = before.find(shown);
        assert!(
            at.is_some_and(|at| at < asked),
            "{shown:?} is not above the question:\n{before}"
        );
    }
    assert!(
        !before[..asked].contains("? ["),
        "a yes/no question came before the diagnosis:\n{before}"
    );
    term.type_keys(ENTER);
    let ended = term.finish();
    ended
        .assert_code(0)
        .assert_shows("After the fixes")
        .assert_shows("✓ now: IAM allows both actions")
        .assert_shows("was: mailer is not allowed ses:SendEmail or ses:SendRawEmail");
    assert_eq!(
        granted(&account).await,
        vec!["ses-doctor-send (inline)".to_owned()]
    );
    // Approved together: the fix itself was not asked again.
    assert!(
        !ended.text().contains(&format!("{GRANT}? [")),
        "{}",
        ended.text()
    );
}

#[tokio::test]
async fn an_80_column_terminal_gets_whole_lines_and_no_spinner_is_left() {
    let account = emulator().new_account();
    let keys = no_permission(&account).await;
    // The region is wrong too: two findings with long explanations, a fix with a command.
    let home = home_for(&account, &keys, CONFIG);
    let mut term = Terminal::start_sized(
        diagnose(&home, &account, "us-east-1,eu-west-1"),
        &[&keys.secret_access_key, &account.admin.secret_access_key],
        80,
    );
    term.one_by_one();
    term.answer("Set the region of profile 'mailer' to eu-west-1", false);
    term.answer(&format!("{GRANT}?"), false);
    let ended = term.finish();
    ended.assert_code(1);
    // Every line the run wrote, as it was drawn (a spinner redraws its line after a CR; padding
    // to the edge is not text), fits: a command is copied whole, so it alone may run on.
    for line in drawn_lines(&ended.screen) {
        assert!(
            line.chars().count() <= 80 || line.trim_start().starts_with("$ "),
            "a line runs past 80 columns: {line:?}\n{}",
            ended.text()
        );
    }
    // What is left on the screen at the end: no spinner frame (braille) frozen anywhere.
    let rows = ended.rows();
    for (i, (row, _)) in rows.iter().enumerate() {
        assert!(
            !row.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
            "a spinner frame is left on row {i}: {row:?}\n{}",
            screen_of(&rows)
        );
    }
    assert!(
        rows.iter()
            .any(|(r, _)| r.contains("Set region = eu-west-1")),
        "{}",
        screen_of(&rows)
    );
}

/// Each line of `screen` as last drawn: escape sequences out, the text after the line's last
/// carriage return, trailing blanks dropped.
fn drawn_lines(screen: &str) -> Vec<String> {
    screen
        .split('\n')
        .map(|line| {
            let line = strip_escapes(line.trim_end_matches('\r'));
            line.rsplit('\r').next().unwrap_or("").trim_end().to_owned()
        })
        .collect()
}

fn screen_of(rows: &[(String, bool)]) -> String {
    rows.iter()
        .map(|(r, w)| format!("{}{r}", if *w { "»" } else { " " }))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_smtp_password_offered_is_for_the_region_the_run_ends_with() {
    // A broken secret and the wrong region: the new key comes first, the region fix after it;
    // the SMTP password must be the one for the region the mailer is moved to.
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let wrong = keys.with_wrong_secret();
    let home = home_for(&account, &wrong, "[profile mailer]\nregion = us-east-1\n");
    let mut term = Terminal::start(
        diagnose(&home, &account, "us-east-1,eu-west-1"),
        &[
            &keys.secret_access_key,
            &wrong.secret_access_key,
            &account.admin.secret_access_key,
        ],
    );
    term.apply_the_fixes();
    // Not known before the key worked, so asked now.
    term.answer("Set the region of profile 'mailer' to eu-west-1", true);
    term.answer("Deactivate mailer's spare key", false);
    term.answer("Show the new secret access key", false);
    term.answer("Show the SES SMTP password for eu-west-1", true);
    let ended = term.finish();
    let text = std::fs::read_to_string(home.credentials_file()).unwrap();
    let new_secret = profile_value(&text, "mailer", "aws_secret_access_key").unwrap();
    assert_ne!(new_secret, wrong.secret_access_key, "a new key was saved");
    ended
        .assert_code(0)
        .assert_shows(&smtp_password(&new_secret, "eu-west-1"))
        .assert_no_secret(&smtp_password(&new_secret, "us-east-1"));
    assert!(
        !ended.text().contains("SMTP password for us-east-1"),
        "{}",
        ended.text()
    );
    let config = std::fs::read_to_string(home.config_file()).unwrap();
    assert!(config.contains("region = eu-west-1"), "{config}");
}

#[tokio::test]
async fn a_declined_grant_is_left_and_reported_as_declined() {
    let account = emulator().new_account();
    let keys = no_permission(&account).await;
    let home = home_for(&account, &keys, "[profile mailer]\nregion = eu-west-1\n");

    let mut term = Terminal::start(
        diagnose(&home, &account, "eu-west-1,us-east-1"),
        &[&keys.secret_access_key, &account.admin.secret_access_key],
    );
    term.one_by_one();
    term.answer(&format!("{GRANT}?"), false);
    let ended = term.finish();
    ended
        .assert_code(1)
        .assert_shows(&format!("declined: {GRANT}"));
    assert!(granted(&account).await.is_empty());
}

#[tokio::test]
async fn a_pasted_secret_is_typed_hidden_and_never_echoed() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let home = Home::new();

    let mut term = Terminal::start(
        home.for_account(&account).args([
            "diagnose",
            "--access-key-id",
            &keys.access_key_id,
            "--region",
            "us-east-1",
            "--regions",
            "us-east-1,eu-west-1",
            "--from",
            "noreply@example.com",
        ]),
        // Everything the terminal shows, from the first byte to the last, and never the secret.
        &[&keys.secret_access_key],
    );
    term.expect(&format!(
        "Secret access key for {} (hidden)",
        keys.access_key_id
    ));
    // What is typed now is not echoed by the terminal (nor, below, printed by ses-doctor).
    term.wait_for_echo_off();
    term.type_keys(&keys.secret_access_key);
    term.type_keys(ENTER);
    let ended = term.finish();
    ended
        .assert_terminal_restored()
        .assert_code(0)
        .assert_shows("secret from a hidden prompt")
        .assert_shows(&format!("[{}]", keys.access_key_id));
}

#[tokio::test]
async fn ctrl_c_at_a_prompt_exits_130_with_the_files_intact() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = home_for(&account, &keys, CONFIG);
    let config = std::fs::read(home.config_file()).unwrap();
    let credentials = std::fs::read(home.credentials_file()).unwrap();

    let mut term = Terminal::start(
        diagnose(&home, &account, "us-east-1,eu-west-1"),
        &[&keys.secret_access_key, &account.admin.secret_access_key],
    );
    term.one_by_one();
    term.expect("Set the region of profile 'mailer' to eu-west-1");
    term.ctrl_c();
    let ended = term.finish();
    ended
        .assert_code(130)
        .assert_shows("interrupted")
        .assert_terminal_restored();
    // No spinner frame drawn over the prompt's line after Ctrl-C (nor anywhere else).
    let rows = ended.rows();
    assert!(
        !rows
            .iter()
            .any(|(r, _)| r.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))),
        "{}",
        screen_of(&rows)
    );

    assert_eq!(std::fs::read(home.config_file()).unwrap(), config);
    assert_eq!(std::fs::read(home.credentials_file()).unwrap(), credentials);
    let files = files_in(&home.aws_dir());
    assert!(
        !files.iter().any(|f| f.contains(".ses-doctor.tmp")),
        "a temporary file is left behind: {files:?}"
    );
}

#[tokio::test]
async fn a_new_secret_is_shown_once_when_asked() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    let home = home_for(&account, &wrong, "[profile mailer]\nregion = us-east-1\n");

    let mut term = Terminal::start(
        diagnose(&home, &account, "us-east-1,eu-west-1"),
        &[
            &keys.secret_access_key,
            &wrong.secret_access_key,
            &account.admin.secret_access_key,
        ],
    );
    term.one_by_one();
    term.answer("Create a new access key for mailer and save it in", true);
    // The old key, now a spare, may be retired: not needed to send, so "no" here.
    term.answer("Deactivate mailer's spare key", false);
    // The new secret and its SMTP password are offered once the run knows its final region.
    term.answer("Show the new secret access key", true);
    term.answer("Show the SES SMTP password for us-east-1", false);
    let ended = term.finish();

    let text = std::fs::read_to_string(home.credentials_file()).unwrap();
    let new_id = profile_value(&text, "mailer", "aws_access_key_id").unwrap();
    let new_secret = profile_value(&text, "mailer", "aws_secret_access_key").unwrap();
    assert_ne!(new_id, keys.access_key_id, "a new key was saved");
    assert_eq!(
        ended.text().matches(&new_secret).count(),
        1,
        "the new secret is shown exactly once:\n{}",
        ended.text()
    );
    // The SMTP password was declined: not shown.
    ended.assert_no_secret(&smtp_password(&new_secret, "us-east-1"));
    ended
        .assert_shows(&format!("Secret access key for {new_id}: {new_secret}"))
        .assert_code(0);
}

#[tokio::test]
async fn without_a_terminal_nothing_waits_for_stdin() {
    let account = emulator().new_account();
    let keys = no_permission(&account).await;
    let home = home_for(&account, &keys, "[profile mailer]\nregion = eu-west-1\n");
    let config = std::fs::read(home.config_file()).unwrap();
    let credentials = std::fs::read(home.credentials_file()).unwrap();

    // stdin: a pipe that stays open and is never written to, as under a CI runner or `ssh -T`.
    let mut child = diagnose(&home, &account, "eu-west-1,us-east-1")
        .args(["--output", "json"])
        .into_command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ses-doctor starts");
    let stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ses-doctor waited on a stdin that never ends ({RUN_DEADLINE:?})");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    let output = Output {
        code: status.code().expect("ses-doctor exited, not killed"),
        stdout: out_reader.join().unwrap().unwrap(),
        stderr: err_reader.join().unwrap().unwrap(),
    };
    output.assert_no_secret(&keys.secret_access_key);
    output.assert_no_secret(&account.admin.secret_access_key);
    let report = output.assert_code(1).report();
    let fix = &report.finding("permission-missing").fixes[0];
    assert_eq!(fix.status, FixStatus::Proposed, "{}", output.both());
    assert!(
        fix.command
            .as_deref()
            .unwrap()
            .starts_with("aws iam put-user-policy --user-name mailer --policy-name ses-doctor-send --policy-document '"),
        "{:?}",
        fix.command
    );
    assert_eq!(report.summary.fixes_applied, 0);
    assert!(granted(&account).await.is_empty());
    assert_eq!(std::fs::read(home.config_file()).unwrap(), config);
    assert_eq!(std::fs::read(home.credentials_file()).unwrap(), credentials);
}

#[tokio::test]
async fn a_key_typed_ahead_never_answers_the_next_question() {
    // The region is wrong and the permission is missing: two questions in a row.
    let account = emulator().new_account();
    let keys = no_permission(&account).await;
    let home = home_for(&account, &keys, CONFIG);
    let mut term = Terminal::start(
        diagnose(&home, &account, "us-east-1,eu-west-1"),
        &[&keys.secret_access_key, &account.admin.secret_access_key],
    );
    term.one_by_one();
    term.expect("Set the region of profile 'mailer' to eu-west-1");
    // "n" answers; the Enter after it must not answer the next question by default.
    term.type_keys("n\r");
    term.expect(&format!("{GRANT}?"));
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        granted(&account).await.is_empty(),
        "the stray Enter approved a change the user never saw"
    );
    term.type_keys("n");
    let ended = term.finish();
    ended
        .assert_code(1)
        .assert_shows(&format!("declined: {GRANT}"));
    assert!(granted(&account).await.is_empty());
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), CONFIG);
}

#[tokio::test]
async fn ctrl_c_at_the_hidden_prompt_exits_130_with_echo_back_on() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let home = Home::new();
    let mut term = Terminal::start(
        home.for_account(&account).args([
            "diagnose",
            "--access-key-id",
            &keys.access_key_id,
            "--region",
            "us-east-1",
        ]),
        &[&keys.secret_access_key],
    );
    term.expect(&format!(
        "Secret access key for {} (hidden)",
        keys.access_key_id
    ));
    term.wait_for_echo_off();
    term.type_keys("half-typed");
    term.ctrl_c();
    let ended = term.finish();
    ended
        .assert_code(130)
        .assert_shows("interrupted")
        .assert_terminal_restored();
}

#[tokio::test]
async fn names_and_addresses_are_typed_and_validated() {
    // Root keys in the mailer's profile: a new IAM user is needed, and its name is asked for.
    let account = emulator().new_account();
    account.create_identity("us-east-1", DOMAIN, true).await;
    account.set_ses_account("us-east-1", true, true);
    let root = Keys {
        access_key_id: account.root.access_key_id.clone(),
        secret_access_key: account.root.secret_access_key.clone(),
    };
    let home = home_for(&account, &root, "[profile mailer]\nregion = us-east-1\n");
    let mut term = Terminal::start(
        home.for_account(&account).args([
            "diagnose",
            "--profile",
            "mailer",
            "--regions",
            "us-east-1",
        ]),
        &[&root.secret_access_key],
    );
    term.one_by_one();
    term.expect("Name of the IAM user to send with");
    // Refused with the rule, then asked again.
    term.type_keys("bad name!\r");
    term.expect("is not a valid IAM user name");
    term.type_keys("wp-sender\r");
    term.answer("Create the IAM user wp-sender", true);
    // Only a domain is verified: the sender address is asked for, at that domain.
    term.expect("Send the test email from which address?");
    term.type_keys("someone@elsewhere.org\r");
    term.expect("an address at example.com");
    term.type_keys("wordpress@example.com\r");
    term.answer("Show the new secret access key", false);
    term.answer("Show the SES SMTP password for us-east-1", false);
    let ended = term.finish();
    ended
        .assert_code(0)
        .assert_shows("SES accepted the test email from wordpress@example.com");
    let users = account.iam().get_user().user_name("wp-sender").send().await;
    assert!(users.is_ok(), "the typed name was used");
    assert!(account
        .iam()
        .get_user()
        .user_name("ses-sender")
        .send()
        .await
        .is_err());
}
