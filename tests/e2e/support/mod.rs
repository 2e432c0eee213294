//! End-to-end test support: the AWS emulator (moto with authentication enforced,
//! see `tests/emulator/emulator.py`) and helpers to set up accounts in it.
//!
//! `emulator()` starts one emulator per test process, lazily. It runs as a child
//! process whose stdin this process holds: when the test process exits (or dies),
//! the pipe closes and the emulator exits by itself, so nothing is left behind.
//! Each test takes its own `Account` (`emulator().new_account()`): accounts are
//! isolated, so tests can run in parallel.
//!
//! SES's SMTP interface: `emulator().smtp(region)` gives that region's
//! listeners ([`SmtpEndpoint`]: a STARTTLS port and a TLS-wrapper port, and the
//! test CA to trust, e.g. through [`SmtpEndpoint::tls_parameters`]);
//! [`smtp_password`] and [`smtp_password_v2`] compute SMTP passwords with
//! Python's standard library; `Account::smtp_messages` and
//! `Account::smtp_auth_attempts` show what the interface accepted and saw.
//!
//! Python: `SES_DOCTOR_PYTHON` if set, else `python3`, if it has the versions
//! pinned in `tests/emulator/requirements.txt`; otherwise a virtualenv is created
//! once at `<CARGO_TARGET_TMPDIR>/emulator-venv` and the requirements installed
//! into it (needs PyPI). `SES_DOCTOR_EMULATOR_ARGS` adds arguments to the
//! emulator's command line (debugging: `--no-patches`).

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_sts::config::{AsyncSleep, Sleep};
use serde_json::{json, Value};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const TARGET_TMPDIR: &str = env!("CARGO_TARGET_TMPDIR");
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Every secret the harness made or computed (secret keys, session tokens, SMTP passwords): the
/// secret check of every ses-doctor run (tests/e2e/cli.rs) looks for all of them.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn register_secret(secret: &str) {
    SECRETS.lock().unwrap().push(secret.to_owned());
}

pub fn world_secrets() -> Vec<String> {
    SECRETS.lock().unwrap().clone()
}

/// Region the harness uses for IAM and STS (IAM is global; AWS signs it for us-east-1).
pub const HOME_REGION: &str = "us-east-1";

pub fn emulator_script() -> PathBuf {
    Path::new(MANIFEST_DIR).join("tests/emulator/emulator.py")
}

pub fn requirements_file() -> PathBuf {
    Path::new(MANIFEST_DIR).join("tests/emulator/requirements.txt")
}

/// The emulator of this test process, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(Emulator::start)
}

pub struct Emulator {
    /// `http://127.0.0.1:PORT`: the endpoint URL for every AWS service.
    pub endpoint: String,
    /// The emulator's stderr (warnings, Python tracebacks).
    pub log_path: PathBuf,
    /// The Python interpreter running it (has the pinned requirements).
    pub python: PathBuf,
    child: Mutex<Child>,
    // Held, never written: closing it (at process exit) makes the emulator exit.
    _stdin: Mutex<ChildStdin>,
    _stdout: Mutex<ChildStdout>,
}

impl Emulator {
    fn start() -> Emulator {
        let python = python_with_pinned_requirements();
        fs::create_dir_all(TARGET_TMPDIR).expect("create CARGO_TARGET_TMPDIR");
        let log_path =
            Path::new(TARGET_TMPDIR).join(format!("emulator-{}.log", std::process::id()));
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let mut child = Command::new(&python)
            .arg(emulator_script())
            .args(["--host", "127.0.0.1", "--port", "0"])
            // Debugging aid, e.g. "--no-patches" to see stock moto's behaviour.
            .args(
                std::env::var("SES_DOCTOR_EMULATOR_ARGS")
                    .unwrap_or_default()
                    .split_whitespace(),
            )
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");

        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let result = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(result);
            reader.into_inner()
        });
        let line = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => fail_start(&mut child, &log_path, &format!("reading stdout: {e}")),
            Err(_) => fail_start(&mut child, &log_path, "no READY line within 60 s"),
        };
        let endpoint = match line.trim().strip_prefix("READY ") {
            Some(endpoint) => endpoint.to_string(),
            None => fail_start(
                &mut child,
                &log_path,
                &format!("unexpected output {line:?}"),
            ),
        };
        let stdout = reader.join().expect("stdout reader thread");
        Emulator {
            endpoint,
            log_path,
            python,
            child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
            _stdout: Mutex::new(stdout),
        }
    }

    /// A fresh isolated account with an `admin` user (AdministratorAccess) and a
    /// root key.
    pub fn new_account(&self) -> Account {
        let (status, body) = self.control("POST", "/_ses_doctor/accounts", &json!({}));
        assert_eq!(status, 200, "create account: {body}");
        let keys = |v: &Value| {
            let secret = v["secret_access_key"].as_str().expect("secret_access_key");
            register_secret(secret);
            Keys {
                access_key_id: v["access_key_id"]
                    .as_str()
                    .expect("access_key_id")
                    .to_string(),
                secret_access_key: secret.to_string(),
            }
        };
        Account {
            id: body["account_id"].as_str().expect("account_id").to_string(),
            admin: keys(&body["admin"]),
            root: keys(&body["root"]),
            endpoint: self.endpoint.clone(),
        }
    }

    /// Whether the emulator process is still running.
    pub fn is_running(&self) -> bool {
        matches!(self.child.lock().unwrap().try_wait(), Ok(None))
    }

    /// The emulator's process id (to check it goes away with the test process).
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    /// The emulator's stderr so far (for assertion messages).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The stand-in for SES's SMTP interface in `region`
    /// (`email-smtp.<region>.amazonaws.com`), started on first use: a STARTTLS
    /// port (as SES's 587/25/2587) and a TLS-wrapper port (as 465/2465), with a
    /// certificate for `localhost`, `127.0.0.1` and the SES host name, signed by
    /// the emulator's test CA in `ca_file`. AUTH takes an access key ID and the
    /// SMTP password derived for this region; SES's checks (permission,
    /// verified identities, sandbox, paused sending) come at the end of DATA.
    pub fn smtp(&self, region: &str) -> SmtpEndpoint {
        let (status, body) = self.control("POST", "/_ses_doctor/smtp", &json!({"region": region}));
        assert_eq!(status, 200, "smtp {region}: {body}");
        let port = |name: &str| {
            body[name]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or_else(|| panic!("smtp {region}: no {name} in {body}"))
        };
        SmtpEndpoint {
            host: body["host"].as_str().expect("host").to_string(),
            starttls_port: port("starttls_port"),
            tls_port: port("tls_port"),
            ca_file: PathBuf::from(body["ca_file"].as_str().expect("ca_file")),
        }
    }

    /// Calls a control endpoint; returns the HTTP status and the JSON body.
    pub fn control(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        http_json(&self.endpoint, method, path, body).unwrap_or_else(|e| {
            panic!(
                "control {method} {path}: {e}\nemulator log:\n{}",
                self.log()
            )
        })
    }
}

fn fail_start(child: &mut Child, log_path: &Path, why: &str) -> ! {
    let _ = child.kill();
    let _ = child.wait();
    let log = fs::read_to_string(log_path).unwrap_or_default();
    panic!(
        "the AWS emulator did not start: {why}\nlog: {}\n{log}",
        log_path.display()
    );
}

/// A tiny HTTP/1.1 client for the control endpoints (the emulator closes each
/// connection after the response).
fn http_json(
    endpoint: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let payload = body.to_string();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("malformed status line in {head:?}"))?;
    let value = serde_json::from_str(body).map_err(|e| format!("{e}: {body:?}"))?;
    Ok((status, value))
}

// ---------------------------------------------------------------------------
// SMTP interface
// ---------------------------------------------------------------------------

/// One region's SMTP listeners (see [`Emulator::smtp`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    pub host: String,
    /// Plain SMTP that offers STARTTLS; AUTH before it gets
    /// `530 Must issue a STARTTLS command first`.
    pub starttls_port: u16,
    /// TLS from the first byte.
    pub tls_port: u16,
    /// PEM of the test CA that signed the listeners' certificate.
    pub ca_file: PathBuf,
}

impl SmtpEndpoint {
    /// lettre TLS parameters that trust the emulator's test CA, for the name
    /// `localhost` (connect to `host` and a port, verify as `localhost`).
    pub fn tls_parameters(&self) -> lettre::transport::smtp::client::TlsParameters {
        use lettre::transport::smtp::client::{Certificate, TlsParameters};
        let pem = fs::read(&self.ca_file)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.ca_file.display()));
        TlsParameters::builder("localhost".into())
            .add_root_certificate(Certificate::from_pem(&pem).expect("test CA PEM"))
            .build_rustls()
            .expect("rustls TLS parameters")
    }
}

/// The SES SMTP password (v4) for `secret` in `region`, computed by Python's
/// standard library so test vectors do not depend on the code under test. The
/// secret goes to Python on stdin, never on its command line.
pub fn smtp_password(secret: &str, region: &str) -> String {
    python_stdlib(
        r#"
import base64, hashlib, hmac, sys
secret, region = sys.stdin.read().split("\n")[:2]
sig = hmac.new(("AWS4" + secret).encode(), b"11111111", hashlib.sha256).digest()
for msg in (region, "ses", "aws4_request", "SendRawEmail"):
    sig = hmac.new(sig, msg.encode(), hashlib.sha256).digest()
print(base64.b64encode(b"\x04" + sig).decode())
"#,
        &format!("{secret}\n{region}\n"),
    )
}

/// The legacy (Signature Version 2) SMTP password for `secret`:
/// base64(0x02 ‖ HMAC-SHA256(secret, "SendRawEmail")), computed as above.
pub fn smtp_password_v2(secret: &str) -> String {
    python_stdlib(
        r#"
import base64, hashlib, hmac, sys
secret = sys.stdin.read().split("\n")[0]
sig = hmac.new(secret.encode(), b"SendRawEmail", hashlib.sha256).digest()
print(base64.b64encode(b"\x02" + sig).decode())
"#,
        &format!("{secret}\n"),
    )
}

/// Runs `script` with the emulator's Python, `input` on stdin; its stdout, trimmed.
fn python_stdlib(script: &str, input: &str) -> String {
    let mut child = Command::new(&emulator().python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the emulator's Python");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write to Python");
    let output = child.wait_with_output().expect("wait for Python");
    assert!(
        output.status.success(),
        "Python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 from Python")
        .trim()
        .to_string()
}

// ---------------------------------------------------------------------------
// Python with the pinned emulator requirements
// ---------------------------------------------------------------------------

/// `(distribution, version)` for each `name==version` line of requirements.txt.
fn pinned_requirements() -> Vec<(String, String)> {
    let text =
        fs::read_to_string(requirements_file()).expect("read tests/emulator/requirements.txt");
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter_map(|line| line.split_once("=="))
        .map(|(name, version)| {
            let name = name.split('[').next().unwrap_or(name).trim();
            (name.to_string(), version.trim().to_string())
        })
        .collect()
}

fn has_pinned_requirements(python: &Path, pins: &[(String, String)]) -> bool {
    let mut script = String::from("from importlib.metadata import version\n");
    for (name, pinned) in pins {
        script.push_str(&format!(
            "assert version({name:?}) == {pinned:?}, {name:?}\n"
        ));
    }
    Command::new(python)
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn python_with_pinned_requirements() -> PathBuf {
    let pins = pinned_requirements();
    let candidate =
        PathBuf::from(std::env::var("SES_DOCTOR_PYTHON").unwrap_or_else(|_| "python3".into()));
    if has_pinned_requirements(&candidate, &pins) {
        return candidate;
    }
    let venv = Path::new(TARGET_TMPDIR).join("emulator-venv");
    let venv_python = venv.join("bin").join("python");
    if has_pinned_requirements(&venv_python, &pins) {
        return venv_python;
    }
    create_venv(&candidate, &venv, &pins);
    assert!(
        has_pinned_requirements(&venv_python, &pins),
        "{} lacks the versions pinned in {}",
        venv_python.display(),
        requirements_file().display()
    );
    venv_python
}

/// Builds the virtualenv in a private staging directory, then renames it into
/// place, so concurrent test processes never see a half-built one.
fn create_venv(base_python: &Path, venv: &Path, pins: &[(String, String)]) {
    fs::create_dir_all(TARGET_TMPDIR).expect("create CARGO_TARGET_TMPDIR");
    let staging =
        Path::new(TARGET_TMPDIR).join(format!("emulator-venv.staging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    eprintln!(
        "ses-doctor e2e: creating {} and installing {} (once)",
        venv.display(),
        requirements_file().display()
    );
    run(Command::new(base_python)
        .arg("-m")
        .arg("venv")
        .arg(&staging));
    run(Command::new(staging.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
        ])
        .arg(requirements_file()));
    let venv_python = venv.join("bin").join("python");
    if has_pinned_requirements(&venv_python, pins) {
        // Another test process finished one meanwhile (and may be using it).
        let _ = fs::remove_dir_all(&staging);
        return;
    }
    // Absent, or stale (its Python lacks the pins): put ours in its place. If
    // another process renames theirs in first, ours is discarded.
    let _ = fs::remove_dir_all(venv);
    if fs::rename(&staging, venv).is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------
// Accounts and keys
// ---------------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

impl Keys {
    /// The same key id with another (wrong) secret of the same length.
    pub fn with_wrong_secret(&self) -> Keys {
        let mut secret: Vec<char> = self.secret_access_key.chars().collect();
        if let Some(last) = secret.last_mut() {
            *last = if *last == 'A' { 'B' } else { 'A' };
        }
        Keys {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: secret.into_iter().collect(),
        }
    }

    /// A well-formed key that no account knows.
    pub fn unknown() -> Keys {
        Keys {
            access_key_id: "AKIAZZZZZZZZZZZZZZZZ".into(),
            secret_access_key: "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".into(),
        }
    }
}

#[derive(Debug)]
struct TokioSleep;

impl AsyncSleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::new(tokio::time::sleep(duration))
    }
}

/// Plain HTTP would do for the emulator; this is the client the product uses.
pub fn http_client() -> aws_sdk_sts::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

pub struct Account {
    pub id: String,
    pub admin: Keys,
    pub root: Keys,
    endpoint: String,
}

impl Account {
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration for the emulator: static credentials, one attempt (no
    /// retries), 30 s operation timeout.
    pub fn sdk_config(&self, keys: &Keys, region: &str) -> SdkConfig {
        let credentials = Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            None,
            None,
            "ses-doctor-e2e",
        );
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint.clone())
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(http_client())
            .sleep_impl(aws_sdk_sts::config::SharedAsyncSleep::new(TokioSleep))
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .build()
    }

    pub fn sts(&self, keys: &Keys) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config(keys, HOME_REGION))
    }

    /// IAM as the account's admin.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        self.iam_as(&self.admin)
    }

    pub fn iam_as(&self, keys: &Keys) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config(keys, HOME_REGION))
    }

    /// SES v2 in `region` as the account's admin.
    pub fn sesv2(&self, region: &str) -> aws_sdk_sesv2::Client {
        self.sesv2_as(&self.admin, region)
    }

    pub fn sesv2_as(&self, keys: &Keys, region: &str) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.sdk_config(keys, region))
    }

    pub fn user_arn(&self, user: &str) -> String {
        format!("arn:aws:iam::{}:user/{user}", self.id)
    }

    pub fn identity_arn(&self, region: &str, identity: &str) -> String {
        format!("arn:aws:ses:{region}:{}:identity/{identity}", self.id)
    }

    pub async fn create_user(&self, user: &str) {
        self.iam()
            .create_user()
            .user_name(user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateUser {user}: {}", show(&e)));
    }

    pub async fn create_key(&self, user: &str) -> Keys {
        let out = self
            .iam()
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAccessKey {user}: {}", show(&e)));
        let key = out.access_key().expect("AccessKey");
        register_secret(key.secret_access_key());
        Keys {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: key.secret_access_key().to_string(),
        }
    }

    pub async fn create_user_with_key(&self, user: &str) -> Keys {
        self.create_user(user).await;
        self.create_key(user).await
    }

    pub async fn set_key_active(&self, user: &str, key_id: &str, active: bool) {
        let status = if active {
            aws_sdk_iam::types::StatusType::Active
        } else {
            aws_sdk_iam::types::StatusType::Inactive
        };
        self.iam()
            .update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(status)
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateAccessKey {user}: {}", show(&e)));
    }

    pub async fn delete_key(&self, user: &str, key_id: &str) {
        self.iam()
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DeleteAccessKey {user}: {}", show(&e)));
    }

    pub async fn attach_policy(&self, user: &str, policy_arn: &str) {
        self.iam()
            .attach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AttachUserPolicy {user} {policy_arn}: {}", show(&e)));
    }

    pub async fn put_inline_policy(&self, user: &str, name: &str, document: &str) {
        self.iam()
            .put_user_policy()
            .user_name(user)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutUserPolicy {user} {name}: {}", show(&e)));
    }

    /// Creates a role that `trusted` (an IAM user or role ARN, or the account's
    /// `arn:aws:iam::ID:root`) may assume, with `policy_arn` attached if given.
    /// Returns the role's ARN.
    pub async fn create_role(&self, name: &str, trusted: &str, policy_arn: Option<&str>) -> String {
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]
        });
        self.create_role_with_trust(name, &trust, policy_arn).await
    }

    /// A role with the given trust policy document, `policy_arn` attached if given.
    pub async fn create_role_with_trust(
        &self,
        name: &str,
        trust: &Value,
        policy_arn: Option<&str>,
    ) -> String {
        let out = self
            .iam()
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {name}: {}", show(&e)));
        if let Some(arn) = policy_arn {
            self.iam()
                .attach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .unwrap_or_else(|e| panic!("AttachRolePolicy {name}: {}", show(&e)));
        }
        out.role().expect("Role").arn().to_string()
    }

    /// Temporary credentials of `role_arn`, assumed with `keys` (as a container or SSO would
    /// hand them out): `(keys, session token)`.
    pub async fn assume_role(&self, keys: &Keys, role_arn: &str) -> (Keys, String) {
        let out = self
            .sts(keys)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("e2e")
            .send()
            .await
            .unwrap_or_else(|e| panic!("AssumeRole {role_arn}: {}", show(&e)));
        let c = out.credentials().expect("Credentials");
        register_secret(c.secret_access_key());
        register_secret(c.session_token());
        (
            Keys {
                access_key_id: c.access_key_id().to_string(),
                secret_access_key: c.secret_access_key().to_string(),
            },
            c.session_token().to_string(),
        )
    }

    /// Creates a group (if needed), attaches `policy_arn` to it if given, and puts
    /// `user` in it.
    pub async fn add_to_group(&self, user: &str, group: &str, policy_arn: Option<&str>) {
        let iam = self.iam();
        if let Err(e) = iam.create_group().group_name(group).send().await {
            assert_eq!(
                aws_sdk_iam::error::ProvideErrorMetadata::code(&e),
                Some("EntityAlreadyExists"),
                "CreateGroup {group}: {}",
                show(&e)
            );
        }
        if let Some(arn) = policy_arn {
            iam.attach_group_policy()
                .group_name(group)
                .policy_arn(arn)
                .send()
                .await
                .unwrap_or_else(|e| panic!("AttachGroupPolicy {group}: {}", show(&e)));
        }
        iam.add_user_to_group()
            .group_name(group)
            .user_name(user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AddUserToGroup {group} {user}: {}", show(&e)));
    }

    /// Creates an SES identity (domain or address) in `region`; AWS leaves it
    /// pending until verified, which `verified` does at once.
    pub async fn create_identity(&self, region: &str, identity: &str, verified: bool) {
        self.sesv2(region)
            .create_email_identity()
            .email_identity(identity)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateEmailIdentity {identity} in {region}: {}", show(&e)));
        if verified {
            self.verify_identity(region, identity);
        }
    }

    /// Marks an existing identity verified (the user clicked the link / added DNS).
    pub fn verify_identity(&self, region: &str, identity: &str) {
        let path = format!("/_ses_doctor/accounts/{}/verify", self.id);
        let (status, body) = emulator().control(
            "POST",
            &path,
            &json!({"region": region, "identity": identity}),
        );
        assert_eq!(status, 200, "verify {identity} in {region}: {body}");
    }

    /// Sandbox (`production_access` false) and paused sending, per region.
    pub fn set_ses_account(&self, region: &str, production_access: bool, sending_enabled: bool) {
        self.set_ses_account_fields(
            region,
            json!({"production_access": production_access, "sending_enabled": sending_enabled}),
        );
    }

    /// Any of `production_access`, `sending_enabled`, `max_24_hour_send`,
    /// `max_send_rate`, `enforcement_status`.
    pub fn set_ses_account_fields(&self, region: &str, mut fields: Value) {
        fields["region"] = json!(region);
        let path = format!("/_ses_doctor/accounts/{}/ses-account", self.id);
        let (status, body) = emulator().control("POST", &path, &fields);
        assert_eq!(status, 200, "ses-account {region}: {body}");
    }

    /// Skews "AWS's" clock for requests signed with this account's keys: they are
    /// judged against (now + seconds), and responses carry that time in `Date`.
    pub fn set_clock_offset(&self, seconds: i64) {
        let path = format!("/_ses_doctor/accounts/{}/clock", self.id);
        let (status, body) = emulator().control("POST", &path, &json!({"offset_seconds": seconds}));
        assert_eq!(status, 200, "clock: {body}");
    }

    /// Enables or disables an opt-in region (af-south-1, me-south-1, ...) for this
    /// account. A new account has none enabled, as on AWS: every request signed
    /// for a disabled one fails with `InvalidClientTokenId` (query services) or
    /// `UnrecognizedClientException` (SES v2), whatever the key.
    pub fn set_region_enabled(&self, region: &str, enabled: bool) {
        let path = format!("/_ses_doctor/accounts/{}/regions", self.id);
        let (status, body) = emulator().control(
            "POST",
            &path,
            &json!({"region": region, "enabled": enabled}),
        );
        assert_eq!(status, 200, "regions {region} enabled={enabled}: {body}");
    }

    /// Makes `region` hang for this account: requests signed with its keys for
    /// that region wait `seconds` before being answered (other requests are not
    /// held up). 0 removes the hang and releases requests already waiting.
    pub fn set_region_hang(&self, region: &str, seconds: u64) {
        let path = format!("/_ses_doctor/accounts/{}/hang", self.id);
        let (status, body) = emulator().control(
            "POST",
            &path,
            &json!({"region": region, "seconds": seconds}),
        );
        assert_eq!(status, 200, "hang {region} {seconds} s: {body}");
    }

    /// Backdates one of this account's IAM user keys, as real keys are old:
    /// `ListAccessKeys` then shows it created `age_days` ago, and
    /// `GetAccessKeyLastUsed` last used `last_used_days_ago` (by `ses` in
    /// us-east-1, the emulator's default) or never (`None`). A later accepted
    /// request records a new last use, as on AWS. Also ends the key's IAM
    /// propagation delay, if any.
    pub fn set_key_age(&self, key_id: &str, age_days: u32, last_used_days_ago: Option<u32>) {
        let path = format!("/_ses_doctor/accounts/{}/keys/{key_id}", self.id);
        let (status, body) = emulator().control(
            "POST",
            &path,
            &json!({"age_days": age_days, "last_used_days_ago": last_used_days_ago}),
        );
        assert_eq!(
            status, 200,
            "key age {key_id} {age_days} days, last used {last_used_days_ago:?}: {body}"
        );
    }

    /// IAM's eventual consistency: keys created from now on (through
    /// `CreateAccessKey`, by the harness or by the tool) are refused for
    /// `seconds` after their creation, with `InvalidClientTokenId` (query
    /// services) or `UnrecognizedClientException` (SES v2), as unknown keys are.
    /// Keys created before are unaffected; 0 turns the delay off.
    pub fn set_propagation_delay(&self, seconds: u64) {
        let path = format!("/_ses_doctor/accounts/{}/propagation", self.id);
        let (status, body) = emulator().control("POST", &path, &json!({"seconds": seconds}));
        assert_eq!(status, 200, "propagation {seconds} s: {body}");
    }

    /// Messages the SMTP interface accepted for this account, oldest first:
    /// `{"region", "mail_from", "rcpt_to": [...], "message_id", "access_key_id",
    /// "data"}` (`data`: the message as sent, as text).
    pub fn smtp_messages(&self) -> Vec<Value> {
        self.get_list("smtp-messages")
    }

    /// SMTP AUTH attempts with this account's keys, oldest first (never the
    /// password): `{"region", "access_key_id", "mechanism", "outcome",
    /// "derived_for", "time"}`, `outcome` one of `ok`, `wrong-password`,
    /// `secret-as-password`, `other-region` (`derived_for` names the region the
    /// password was derived for), `legacy-v2`, `inactive-key`,
    /// `propagating-key`, `region-not-enabled`.
    pub fn smtp_auth_attempts(&self) -> Vec<Value> {
        self.get_list("smtp-auth")
    }

    fn get_list(&self, what: &str) -> Vec<Value> {
        let path = format!("/_ses_doctor/accounts/{}/{what}", self.id);
        let (status, body) = emulator().control("GET", &path, &json!({}));
        assert_eq!(status, 200, "{what}: {body}");
        body.as_array()
            .unwrap_or_else(|| panic!("{what}: not a list: {body}"))
            .clone()
    }

    /// Environment for running the `ses-doctor` binary against this account with
    /// `keys`, isolated from the developer's own AWS configuration.
    pub fn cli_env(&self, keys: &Keys, region: &str) -> Vec<(String, String)> {
        let nowhere = Path::new(TARGET_TMPDIR).join("no-such-aws-file");
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), keys.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                keys.secret_access_key.clone(),
            ),
            ("AWS_REGION".into(), region.into()),
            ("AWS_CONFIG_FILE".into(), nowhere.display().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                nowhere.display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }
}

/// An SDK error with its whole source chain (never contains secrets: the SDK
/// does not put credentials in errors).
pub fn show<E: std::error::Error>(error: &E) -> String {
    aws_sdk_sts::error::DisplayErrorContext(error).to_string()
}

/// The error code and message the SDK decoded (`ProvideErrorMetadata`), or
/// `None` for success.
pub fn error_code<T, E>(result: &Result<T, E>) -> Option<(Option<String>, Option<String>)>
where
    E: aws_sdk_sts::error::ProvideErrorMetadata,
{
    result.as_ref().err().map(|e| {
        (
            e.code().map(str::to_string),
            e.message().map(str::to_string),
        )
    })
}

// ---------------------------------------------------------------------------
// Fault proxy
// ---------------------------------------------------------------------------

pub fn fault_proxy_script() -> PathBuf {
    Path::new(MANIFEST_DIR).join("tests/emulator/fault_proxy.py")
}

impl Emulator {
    /// A fault-injecting proxy of its own in front of this emulator (see [`FaultProxy`]).
    pub fn fault_proxy(&self) -> FaultProxy {
        FaultProxy::start(self)
    }
}

/// `tests/emulator/fault_proxy.py` in front of the emulator: an HTTP/1.1 reverse proxy that
/// forwards every request unchanged unless a rule says otherwise (throttle, 5xx, truncate or
/// replace the answer, hang, reset after forwarding, trickle). Point the binary at
/// [`FaultProxy::endpoint`] (`home.command(&proxy.endpoint)`); the emulator behind it serves
/// as usual, and the harness keeps talking to the emulator directly.
///
/// One per test (tests run in parallel, and rules apply to every request through it). Like
/// the emulator it runs as a child whose stdin this process holds, so it goes away with the
/// test process; it is also killed when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`: the endpoint URL for every AWS service, through the proxy.
    pub endpoint: String,
    /// The proxy's stderr (Python tracebacks); removed when the proxy is dropped, unless the
    /// test is failing.
    pub log_path: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    _stdout: ChildStdout,
}

/// One request the proxy saw (`GET /_fault/log`), oldest first.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FaultLogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// From the SigV4 credential scope: `sts`, `iam`, `ses` (v1 and v2).
    pub service: Option<String>,
    pub region: Option<String>,
    /// `GetCallerIdentity`; for SES v2 the operation its method and path stand for
    /// (`SendEmail`, `GetAccount`, `ListEmailIdentities`, ...).
    pub action: Option<String>,
    /// The account encoded in the access key ID.
    pub account: Option<String>,
    pub access_key_id: Option<String>,
    /// Index of the rule applied, if any.
    pub rule: Option<usize>,
    /// The fault applied: `status`, `truncate`, `body`, `hang`, `reset_after_forward`,
    /// `trickle_ms`; `None` when forwarded untouched.
    pub fault: Option<String>,
    /// The HTTP status the client was sent (`None`: no answer).
    pub status: Option<u16>,
    /// The emulator's status, when the request was forwarded.
    pub upstream_status: Option<u16>,
    /// `answered`, `reset`, `client-gone`, `released`, `limit`, `pending` (still held), or
    /// `upstream-error: ...`.
    pub outcome: String,
}

impl FaultProxy {
    pub fn start(emulator: &Emulator) -> FaultProxy {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log_path =
            Path::new(TARGET_TMPDIR).join(format!("fault-proxy-{}-{n}.log", std::process::id()));
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let mut child = Command::new(&emulator.python)
            .arg(fault_proxy_script())
            .arg(&emulator.endpoint)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", emulator.python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let result = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(result);
            reader.into_inner()
        });
        let line = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => fail_start(&mut child, &log_path, &format!("fault proxy: {e}")),
            Err(_) => fail_start(&mut child, &log_path, "fault proxy: no READY line in 60 s"),
        };
        let Some(endpoint) = line.trim().strip_prefix("READY ").map(str::to_owned) else {
            fail_start(
                &mut child,
                &log_path,
                &format!("fault proxy: unexpected output {line:?}"),
            )
        };
        let stdout = reader.join().expect("stdout reader thread");
        FaultProxy {
            endpoint,
            log_path,
            child,
            stdin: Some(stdin),
            _stdout: stdout,
        }
    }

    /// Replaces the rules (a JSON list; see `tests/emulator/fault_proxy.py`), e.g.
    /// `json!([{"service": "sts", "status": 429, "code": "Throttling", "times": 2}])`.
    /// Requests held by a hang are released.
    pub fn set_rules(&self, rules: Value) {
        let (status, body) = self.control("POST", "/_fault/rules", &rules);
        assert_eq!(status, 200, "fault rules {rules}: {body}");
    }

    /// No rules: everything is forwarded untouched; requests held by a hang are released.
    pub fn clear(&self) {
        let (status, body) = self.control("DELETE", "/_fault/rules", &json!({}));
        assert_eq!(status, 200, "clear fault rules: {body}");
    }

    /// Every request the proxy saw so far, oldest first.
    pub fn log(&self) -> Vec<FaultLogEntry> {
        let (status, body) = self.control("GET", "/_fault/log", &json!({}));
        assert_eq!(status, 200, "fault log: {body}");
        serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("fault log ({e}): {body}"))
    }

    /// The proxy's stderr so far (for assertion messages).
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn control(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        http_json(&self.endpoint, method, path, body).unwrap_or_else(|e| {
            panic!(
                "fault proxy {method} {path}: {e}\nproxy log:\n{}",
                self.stderr()
            )
        })
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}
