//! Running the real `ses-doctor` binary in an isolated home, and the JSON report decoded into
//! types of the tests' own: the contract, checked from the outside (as ripgrep checks its JSON).

use crate::support::Account;
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// The JSON contract (README, "JSON report"). Every field a consumer may rely on is a required
// field here, so a report that drops or renames one fails to decode.
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool_version: String,
    pub credentials: Credentials,
    pub region: Option<Region>,
    pub steps: Vec<Step>,
    pub summary: Summary,
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub sending: Option<CredentialSource>,
    pub admin: Option<CredentialSource>,
}

#[derive(Debug, Deserialize)]
pub struct CredentialSource {
    pub source: Source,
    pub detail: String,
    pub profile: Option<String>,
    pub access_key_id: Option<String>,
    /// The key the run started with, when a fix replaced it.
    #[serde(default)]
    pub previous_access_key_id: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Pasted,
    Environment,
    Profile,
    DefaultChain,
}

#[derive(Debug, Deserialize)]
pub struct Region {
    pub name: String,
    pub source: String,
    /// The region the run started with, when a fix changed it.
    #[serde(default)]
    pub previous: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    pub id: StepId,
    pub number: u8,
    pub title: String,
    pub status: StepStatus,
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
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

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Passed,
    Warning,
    Failed,
    Incomplete,
    Skipped,
}

#[derive(Debug, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub fixes: Vec<Fix>,
    pub resolved: bool,
    /// The step that already reported this open problem.
    #[serde(default)]
    pub repeat_of: Option<u8>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Pass,
    Info,
    Warning,
    Error,
}

#[derive(Debug, Deserialize)]
pub struct Evidence {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
pub struct Fix {
    pub kind: FixKind,
    pub description: String,
    pub command: Option<String>,
    pub status: FixStatus,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    Automatic,
    Manual,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub enum FixStatus {
    Proposed,
    Applied,
    Declined,
    Failed,
    Planned,
}

#[derive(Debug, Deserialize)]
pub struct Summary {
    pub outcome: Outcome,
    pub exit_code: i32,
    pub errors: usize,
    pub warnings: usize,
    pub fixes_applied: usize,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Clean,
    Problems,
    Incomplete,
}

impl Report {
    pub fn step(&self, id: StepId) -> &Step {
        self.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id:?} in the report"))
    }

    /// Every finding code, in report order.
    pub fn codes(&self) -> Vec<&str> {
        self.steps
            .iter()
            .flat_map(|s| s.findings.iter().map(|f| f.code.as_str()))
            .collect()
    }

    pub fn finding(&self, code: &str) -> &Finding {
        self.steps
            .iter()
            .flat_map(|s| s.findings.iter())
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no finding {code}; findings: {:?}", self.codes()))
    }
}

impl Finding {
    pub fn evidence(&self, label: &str) -> &str {
        self.evidence
            .iter()
            .find(|e| e.label == label)
            .map(|e| e.value.as_str())
            .unwrap_or_else(|| panic!("no evidence {label:?} in {:?}", self.evidence))
    }

    pub fn all_evidence(&self) -> String {
        self.evidence
            .iter()
            .map(|e| format!("{}: {}", e.label, e.value))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// A home directory of its own for one test: the AWS config and credentials files live here,
/// and nothing of the developer's own AWS setup leaks in.
///
/// When a test's home goes away, its files as they ended up (written by the test, then edited by
/// ses-doctor) are read by both the Rust SDK and botocore: neither may refuse them, and both must
/// see the same profiles with the same region and access key ID. A test whose world is one the
/// two SDKs read differently on purpose says so with [`Home::sdks_disagree`].
pub struct Home {
    dir: TempDir,
    sdks_disagree: std::cell::Cell<Option<&'static str>>,
}

impl Home {
    pub fn new() -> Self {
        Home {
            dir: tempfile::Builder::new()
                .prefix("ses-doctor-home-")
                .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                .expect("temp home"),
            sdks_disagree: std::cell::Cell::new(None),
        }
    }

    /// This world is one the Rust SDK and botocore read differently (or one botocore refuses):
    /// skip the differential check of the files at the end of the test.
    pub fn sdks_disagree(&self, why: &'static str) {
        self.sdks_disagree.set(Some(why));
    }

    /// The differential check (see [`Home`]).
    fn check_both_sdks_agree(&self) {
        let files = [self.config_file(), self.credentials_file()];
        let mut contents = Vec::new();
        for path in &files {
            match std::fs::symlink_metadata(path) {
                Err(_) => contents.push(None),
                Ok(_) => match std::fs::metadata(path) {
                    // A FIFO, a directory, a dangling link: a bad-input test, not a file to read.
                    Ok(meta) if meta.is_file() => match std::fs::read_to_string(path) {
                        Ok(text) => contents.push(Some(text)),
                        Err(_) => return,
                    },
                    _ => return,
                },
            }
        }
        if contents.iter().all(Option::is_none) {
            return;
        }
        let boto = self.botocore("http://127.0.0.1:9", &[], None);
        boto.assert_parses();
        let rust = rust_sdk_profiles(&contents[0], &contents[1]);
        let boto_profiles = boto.profiles.clone().unwrap_or_default();
        let mut names: Vec<&String> = rust.keys().chain(boto_profiles.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            for key in ["region", "aws_access_key_id"] {
                let r = rust.get(name).and_then(|p| p.get(key)).cloned();
                let b = boto.value(name, key);
                assert_eq!(
                    r,
                    b,
                    "the Rust SDK and botocore read {key} of profile '{name}' differently in {}",
                    self.aws_dir().display()
                );
            }
        }
    }

    pub fn aws_dir(&self) -> PathBuf {
        self.dir.path().join(".aws")
    }

    pub fn credentials_file(&self) -> PathBuf {
        self.aws_dir().join("credentials")
    }

    pub fn config_file(&self) -> PathBuf {
        self.aws_dir().join("config")
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::create_dir_all(self.aws_dir()).unwrap();
        std::fs::write(self.credentials_file(), text).unwrap();
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.aws_dir()).unwrap();
        std::fs::write(self.config_file(), text).unwrap();
    }

    /// A home whose credentials file holds profile `mailer` (the sending key, as given: it may be
    /// broken on purpose) and `admin` (the account's administrator), with `config` as the config
    /// file.
    pub fn mailer_and_admin(account: &Account, key_id: &str, secret: &str, config: &str) -> Home {
        let home = Home::new();
        home.write_credentials(&format!(
            "# written by the test\n{}\n{}",
            profile_section("mailer", key_id, secret),
            profile_section(
                "admin",
                &account.admin.access_key_id,
                &account.admin.secret_access_key
            )
        ));
        home.write_config(config);
        home
    }

    /// What botocore (boto3, the AWS CLI v1) makes of this home's files, with the same isolated
    /// environment as [`Home::command`] plus `vars`: the JSON of `tests/emulator/botocore_probe.py`
    /// (never a secret: secrets come back as their SHA-256 and length).
    pub fn botocore(
        &self,
        endpoint: &str,
        vars: &[(&str, &str)],
        profile: Option<&str>,
    ) -> Botocore {
        let mut cmd = Command::new(&crate::support::emulator().python);
        cmd.arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/emulator/botocore_probe.py"),
        );
        if let Some(p) = profile {
            cmd.arg(p);
        }
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("AWS_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env("HOME", self.dir.path())
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_CONFIG_FILE", self.config_file())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_file());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run the botocore probe");
        assert!(
            out.status.success(),
            "botocore probe failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "botocore probe output ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// The backups ses-doctor kept of `name` (`credentials`, `config`) in `~/.aws`, oldest first:
    /// `<name>.ses-doctor.<UTC time>.bak`.
    pub fn backups(&self, name: &str) -> Vec<PathBuf> {
        let prefix = format!("{name}.ses-doctor.");
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.aws_dir())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        let n = p.file_name().unwrap().to_string_lossy();
                        n.starts_with(&prefix) && n.ends_with(".bak")
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// `ses-doctor` with an environment of nothing but this home and the emulator's endpoint.
    pub fn command(&self, endpoint: &str) -> SesDoctor {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ses-doctor"));
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("AWS_") || key.starts_with("SES_DOCTOR_") || key == "GITHUB_ACTIONS"
            {
                cmd.env_remove(&key);
            }
        }
        cmd.env("HOME", self.dir.path())
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .env("AWS_CONFIG_FILE", self.config_file())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_file());
        SesDoctor {
            cmd,
            stdin: None,
            secrets: Vec::new(),
            deadline: std::time::Duration::from_secs(120),
            home: Some(self.dir.path().to_path_buf()),
        }
    }

    pub fn for_account(&self, account: &Account) -> SesDoctor {
        self.command(account.endpoint())
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if std::thread::panicking() || self.sdks_disagree.get().is_some() {
            return;
        }
        self.check_both_sdks_agree();
    }
}

/// `profile -> key -> value` as the Rust SDK's own parser reads the two files (config first, the
/// credentials file's values winning).
fn rust_sdk_profiles(
    config: &Option<String>,
    credentials: &Option<String>,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    use ses_doctor::aws_files::FileKind;
    let config = config.clone().unwrap_or_default();
    let credentials = credentials.clone().unwrap_or_default();
    // On a thread of its own: this runs from `Drop`, inside a test's runtime.
    let set = std::thread::scope(|s| {
        s.spawn(|| {
            ses_doctor::shared_files::sdk_reading(&[
                (FileKind::Config, config.as_str()),
                (FileKind::Credentials, credentials.as_str()),
            ])
        })
        .join()
        .expect("profile loader thread")
    })
    .expect("the Rust SDK refuses the files");
    set.profiles()
        .map(|name| {
            let p = set.get_profile(name).expect("listed profile");
            let values = ["region", "aws_access_key_id"]
                .iter()
                .filter_map(|k| p.get(k).map(|v| (k.to_string(), v.to_owned())))
                .collect();
            (name.to_owned(), values)
        })
        .collect()
}

/// A `ses-doctor` invocation, with the secrets it must never print.
///
/// Every run is checked for the secrets of the world (see [`SecretWatch`]): the keys, tokens and
/// SMTP passwords the harness made, the ones the test passed or named, and every secret in the
/// home's files before and after the run (so a new key ses-doctor created and saved is watched
/// too). None may appear in stdout or stderr (the JSON report, `-v` output and a panic message
/// included), nor in any file the run wrote other than the credentials file, the backups and
/// `--credentials-out`.
pub struct SesDoctor {
    cmd: Command,
    stdin: Option<String>,
    secrets: Vec<String>,
    deadline: std::time::Duration,
    home: Option<PathBuf>,
}

impl SesDoctor {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    /// A value that must not appear in stdout or stderr (checked on every run).
    pub fn secret(mut self, secret: &str) -> Self {
        self.secrets.push(secret.to_owned());
        self
    }

    /// The run fails (and the process is killed) if it has not ended by then: a functional
    /// guard against hanging, not a speed measurement.
    pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = deadline;
        self
    }

    pub fn run(self) -> Output {
        self.spawn().wait()
    }

    /// The configured command (program, arguments, isolated environment), for a test that runs
    /// it its own way: in a pseudo-terminal, or with a stdin it holds open. The secrets and the
    /// deadline stay behind: such a test checks its output itself.
    pub fn into_command(self) -> Command {
        self.cmd
    }

    /// Starts the process and returns at once (to kill it half-way, or run several at a time).
    pub fn spawn(mut self) -> Running {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("ses-doctor starts");
        if let Some(text) = &self.stdin {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
        }
        // Read stdout and stderr on threads so a full pipe cannot stall the child.
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut stderr, &mut buf).map(|_| buf)
        });
        let watch = SecretWatch::before(&self);
        Running {
            child,
            out_reader,
            err_reader,
            secrets: self.secrets,
            deadline: self.deadline,
            started: std::time::Instant::now(),
            watch,
        }
    }
}

/// The secret check of every run (see [`SesDoctor`]).
struct SecretWatch {
    home: Option<PathBuf>,
    /// Every file of the home before the run, with its bytes.
    before: Vec<(PathBuf, Vec<u8>)>,
    /// Secrets named by the test, in the environment or on stdin.
    given: Vec<String>,
    /// Files the run may write secrets into.
    allowed: Vec<PathBuf>,
}

/// Values that are secrets in a file's text: `*secret*`, `*token*`, `*password*` keys of
/// INI-style lines and of JSON objects (credential_process output, the SSO token cache).
fn secrets_in(text: &str) -> Vec<String> {
    let secret_key = |k: &str| is_secret_name(k.trim());
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            if secret_key(k) {
                let v = v.trim();
                found.push(v.to_owned());
                if let Some((before, _)) = v.split_once(" #") {
                    found.push(before.trim().to_owned());
                }
            }
        }
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        for (k, v) in map {
            if let (true, Some(s)) = (secret_key(&k), v.as_str()) {
                found.push(s.to_owned());
            }
        }
    }
    // Short values are placeholders, not secrets (and would match anywhere).
    found.retain(|s| s.len() >= 12);
    found
}

/// `aws_secret_access_key`, `AWS_SESSION_TOKEN`, `SES_DOCTOR_SMTP_PASSWORD`, `accessToken`; not
/// `web_identity_token_file` (a path).
fn is_secret_name(name: &str) -> bool {
    let k = name.to_ascii_lowercase();
    (k.contains("secret") || k.contains("token") || k.contains("password"))
        && !k.ends_with("file")
        && !k.ends_with("uri")
        && !k.ends_with("url")
}

fn files_under(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(files_under(&path)),
            Ok(t) if t.is_file() => {
                if let Ok(bytes) = std::fs::read(&path) {
                    out.push((path, bytes));
                }
            }
            _ => {}
        }
    }
    out
}

impl SecretWatch {
    fn before(cmd: &SesDoctor) -> SecretWatch {
        let mut given = cmd.secrets.clone();
        let mut allowed = Vec::new();
        for (k, v) in cmd.cmd.get_envs() {
            let (k, Some(v)) = (k.to_string_lossy().to_ascii_uppercase(), v) else {
                continue;
            };
            let v = v.to_string_lossy().into_owned();
            if is_secret_name(&k) {
                given.push(v);
            } else if k == "AWS_SHARED_CREDENTIALS_FILE" {
                allowed.push(PathBuf::from(v));
            }
        }
        let args: Vec<String> = cmd
            .cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        if let Some(text) = &cmd.stdin {
            // `explain` reads error text (echoed back, masked where it holds a secret); the other
            // commands read secrets, a line each.
            if args.first().is_some_and(|a| a == "explain") {
                given.extend(secrets_in(text));
            } else {
                given.extend(text.lines().map(str::trim).map(str::to_owned));
            }
        }
        for pair in args.windows(2) {
            if pair[0] == "--credentials-out" {
                allowed.push(PathBuf::from(&pair[1]));
            }
        }
        given.retain(|s| s.len() >= 12);
        let home = cmd.home.clone();
        SecretWatch {
            before: home.as_deref().map(files_under).unwrap_or_default(),
            home,
            given,
            allowed,
        }
    }

    fn check(&self, output: &Output, killed: bool) {
        let after = self.home.as_deref().map(files_under).unwrap_or_default();
        let mut secrets = self.given.clone();
        secrets.extend(crate::support::world_secrets());
        for (_, bytes) in self.before.iter().chain(&after) {
            secrets.extend(secrets_in(&String::from_utf8_lossy(bytes)));
        }
        secrets.sort();
        secrets.dedup();
        for s in &secrets {
            output.assert_no_secret(s);
        }
        let allowed: Vec<PathBuf> = self
            .allowed
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap_or(p.clone()))
            .collect();
        for (path, bytes) in &after {
            let before = self.before.iter().find(|(p, _)| p == path).map(|(_, b)| b);
            if before == Some(bytes) {
                continue;
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let real = std::fs::canonicalize(path).unwrap_or(path.clone());
            if allowed.contains(&real)
                || (name.contains(".ses-doctor.") && name.ends_with(".bak"))
                || (killed && name.contains(".ses-doctor.tmp"))
            {
                continue;
            }
            let had = before
                .map(|b| secrets_in(&String::from_utf8_lossy(b)))
                .unwrap_or_default();
            let text = String::from_utf8_lossy(bytes);
            for s in secrets.iter().filter(|s| !had.contains(s)) {
                assert!(
                    !text.contains(&s[..s.len().min(16)]),
                    "the run wrote a secret into {}",
                    path.display()
                );
            }
        }
    }
}

type Reader = std::thread::JoinHandle<std::io::Result<Vec<u8>>>;

/// A `ses-doctor` process under way.
pub struct Running {
    child: std::process::Child,
    out_reader: Reader,
    err_reader: Reader,
    secrets: Vec<String>,
    deadline: std::time::Duration,
    started: std::time::Instant,
    watch: SecretWatch,
}

impl Running {
    /// SIGKILL: no chance to clean up, as when a machine loses power.
    pub fn kill(mut self) -> Output {
        let _ = self.child.kill();
        self.finish(true)
    }

    pub fn wait(self) -> Output {
        self.finish(false)
    }

    /// Waits for a process that may have been killed by a signal (its code is then -9).
    pub fn wait_or_killed(self) -> Output {
        self.finish(true)
    }

    fn finish(mut self, killed: bool) -> Output {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for ses-doctor") {
                break status;
            }
            if self.started.elapsed() > self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("ses-doctor did not finish within {:?}", self.deadline);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let output = Output {
            code: if killed {
                status.code().unwrap_or(-9)
            } else {
                status
                    .code()
                    .expect("ses-doctor exited, not killed by a signal")
            },
            stdout: String::from_utf8(self.out_reader.join().unwrap().expect("read stdout"))
                .expect("stdout is UTF-8"),
            stderr: String::from_utf8(self.err_reader.join().unwrap().expect("read stderr"))
                .expect("stderr is UTF-8"),
        };
        for secret in &self.secrets {
            output.assert_no_secret(secret);
        }
        self.watch.check(&output, killed);
        output
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn both(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }

    /// stdout as one JSON report, decoded into the contract types.
    pub fn report(&self) -> Report {
        let report: Report = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON report ({e}):\n{}", self.both()));
        assert_eq!(
            report.summary.exit_code, self.code,
            "summary.exit_code is the exit code"
        );
        report
    }

    /// A secret must not appear whole, nor a recognisable part of it (e.g. all but a char).
    pub fn assert_no_secret(&self, secret: &str) {
        let probe = &secret[..secret.len().min(16)];
        assert!(
            !self.stdout.contains(probe) && !self.stderr.contains(probe),
            "a secret appears in the output:\n{}",
            self.both()
        );
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\n{}", self.both());
        self
    }
}

/// Every path under `dir` (not following links), with its bytes, its link target or its kind:
/// equal snapshots mean nothing was written, created or removed. Only regular files are read
/// (a FIFO would block).
pub fn snapshot(dir: &std::path::Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.push((path.clone(), "directory".into()));
            out.extend(snapshot(&path));
        } else if meta.is_file() {
            out.push((path.clone(), format!("{:?}", std::fs::read(&path).unwrap())));
        } else if meta.file_type().is_symlink() {
            out.push((path.clone(), format!("-> {:?}", std::fs::read_link(&path))));
        } else {
            out.push((path, format!("{:?}", meta.file_type())));
        }
    }
    out
}

/// What `tests/emulator/botocore_probe.py` printed: botocore's reading of the shared files.
#[derive(Debug, Deserialize)]
pub struct Botocore {
    pub profile: String,
    pub config_error: Option<String>,
    pub credentials_file_error: Option<String>,
    pub profiles: Option<serde_json::Map<String, serde_json::Value>>,
    pub region: Option<String>,
    pub credentials: Option<BotocoreCredentials>,
    pub credentials_error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BotocoreCredentials {
    pub method: String,
    pub access_key_id: String,
    pub secret_sha256: String,
    pub secret_length: usize,
    pub token_present: bool,
}

impl Botocore {
    /// botocore read both files without an error.
    pub fn assert_parses(&self) -> &Self {
        assert_eq!(
            (&self.config_error, &self.credentials_file_error),
            (&None, &None),
            "botocore refuses a file: {self:?}"
        );
        self
    }

    /// The value botocore reads for `key` of `profile` in the config file (merged with the
    /// credentials file, as botocore's `full_config`).
    pub fn value(&self, profile: &str, key: &str) -> Option<String> {
        self.profiles
            .as_ref()?
            .get(profile)?
            .get(key)
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }
}

/// SHA-256 of a secret, as the botocore probe reports it.
pub fn sha256_hex(text: &str) -> String {
    python_output(
        "import hashlib,sys; print(hashlib.sha256(sys.stdin.read().encode()).hexdigest())",
        text,
    )
}

/// A credentials-file profile section.
pub fn profile_section(name: &str, key_id: &str, secret: &str) -> String {
    format!("[{name}]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
}

/// Runs a Python script (standard library only) with `stdin`, returns its trimmed stdout.
/// Secrets go through stdin, never argv.
pub fn python_output(script: &str, stdin: &str) -> String {
    let python = std::env::var("SES_DOCTOR_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Asserts that a file holding secrets is readable by its owner only (mode 0600).
pub fn assert_private(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is mode {mode:o}, not 600", path.display());
    }
}
