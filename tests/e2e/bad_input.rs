//! Bad input gets a clear message naming the problem and exit 2, never a panic, and nothing on
//! disk changes.
//!
//! Most of it is one table: each row is a run of the real binary with its arguments,
//! environment, stdin and files, the exit code it must end with, and a fragment of the message
//! it must print. After every row: no panic text, the exact fragment (on stderr for exit 2, with
//! stdout empty), and every path of the test's home with its bytes as it was before the run.
//! No row needs the emulator's AWS endpoint: the binary is pointed at `http://127.0.0.1:9`,
//! where nothing listens, and exit 2 comes before any call. (Rows whose files are valid still
//! have them read by botocore when their home is dropped, see `Home`.)

use crate::cli::{snapshot, Home, Output};

const KEY: &str = "AKIAQWERTYUIOPASDFGH";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn diagnose(home: &Home) -> crate::cli::SesDoctor {
    home.command("http://127.0.0.1:9").args(["diagnose"])
}

fn assert_usage_error(out: &Output, needle: &str) {
    out.assert_code(2);
    assert!(
        out.stderr.contains(needle),
        "expected {needle:?}:\n{}",
        out.both()
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.both());
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for a usage error:\n{}",
        out.both()
    );
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// What a row puts in its home before the run.
enum Content {
    Bytes(Vec<u8>),
    Fifo,
    Dir,
    Symlink(&'static str),
}

/// One bad input. `{home}` in an argument or a variable is the row's home directory.
struct Row {
    what: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    stdin: Option<String>,
    files: Vec<(&'static str, Content)>,
    /// The files are broken on purpose (both SDKs refuse them, or read them differently).
    broken: Option<&'static str>,
    /// Must not appear in the output.
    secrets: Vec<&'static str>,
    code: i32,
    expect: String,
}

/// A row: `what` it is, the exit `code`, and the fragment of the message to `expect`.
fn row(what: &'static str, code: i32, expect: impl Into<String>) -> Row {
    Row {
        what,
        args: Vec::new(),
        env: Vec::new(),
        stdin: None,
        files: Vec::new(),
        broken: None,
        secrets: Vec::new(),
        code,
        expect: expect.into(),
    }
}

impl Row {
    fn args<S: AsRef<str>>(mut self, args: &[S]) -> Self {
        self.args.extend(args.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// `diagnose` and these arguments.
    fn diagnose<S: AsRef<str>>(self, args: &[S]) -> Self {
        self.args(&["diagnose"]).args(args)
    }

    fn env(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.env.push((key, value.into()));
        self
    }

    fn stdin(mut self, text: impl Into<String>) -> Self {
        self.stdin = Some(text.into());
        self
    }

    fn file(mut self, path: &'static str, bytes: impl AsRef<[u8]>) -> Self {
        self.files
            .push((path, Content::Bytes(bytes.as_ref().to_vec())));
        self
    }

    fn credentials(self, text: impl AsRef<[u8]>) -> Self {
        self.file(".aws/credentials", text)
    }

    fn config(self, text: impl AsRef<[u8]>) -> Self {
        self.file(".aws/config", text)
    }

    fn special(mut self, path: &'static str, content: Content) -> Self {
        self.files.push((path, content));
        self
    }

    fn broken(mut self, why: &'static str) -> Self {
        self.broken = Some(why);
        self
    }

    fn secret(mut self, secret: &'static str) -> Self {
        self.secrets.push(secret);
        self
    }
}

/// A credentials file with one valid profile of this name.
fn valid_profile(name: &str) -> String {
    format!("[{name}]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
}

fn make(home: &Home, path: &str, content: &Content) {
    let full = home.path().join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    match content {
        Content::Bytes(bytes) => std::fs::write(&full, bytes).unwrap(),
        Content::Dir => std::fs::create_dir_all(&full).unwrap(),
        Content::Fifo => {
            let made = std::process::Command::new("mkfifo")
                .arg(&full)
                .status()
                .expect("mkfifo");
            assert!(made.success(), "mkfifo {}", full.display());
        }
        Content::Symlink(target) => {
            #[cfg(unix)]
            std::os::unix::fs::symlink(target, &full).unwrap();
        }
    }
}

/// Runs one row; `Err` says what went wrong.
fn run_row(row: &Row) -> Result<(), String> {
    let home = Home::new();
    if let Some(why) = row.broken {
        home.sdks_disagree(why);
    }
    for (path, content) in &row.files {
        make(&home, path, content);
    }
    let at_home = |s: &str| s.replace("{home}", home.path().to_str().unwrap());
    let before = snapshot(home.path());
    let mut cmd = home
        .command("http://127.0.0.1:9")
        .args(row.args.iter().map(|a| at_home(a)))
        .deadline(std::time::Duration::from_secs(30));
    for (key, value) in &row.env {
        cmd = cmd.env(key, &at_home(value));
    }
    if let Some(text) = &row.stdin {
        cmd = cmd.stdin(text);
    }
    for secret in &row.secrets {
        cmd = cmd.secret(secret);
    }
    let out = cmd.run();
    let expect = at_home(&row.expect);
    let mut problems = Vec::new();
    if out.code != row.code {
        problems.push(format!("exit code {}, not {}", out.code, row.code));
    }
    let both = format!("{}{}", out.stdout, out.stderr);
    for panic_text in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        if both.contains(panic_text) {
            problems.push(format!("{panic_text:?} in the output"));
        }
    }
    if row.code == 2 {
        if !out.stdout.is_empty() {
            problems.push("stdout is not empty".into());
        }
        if !out.stderr.contains(&expect) {
            problems.push(format!("stderr lacks {expect:?}"));
        }
    } else if !both.contains(&expect) {
        problems.push(format!("the output lacks {expect:?}"));
    }
    let after = snapshot(home.path());
    if after != before {
        let changed: Vec<_> = before
            .iter()
            .filter(|b| !after.contains(b))
            .chain(after.iter().filter(|a| !before.contains(a)))
            .map(|(p, _)| p.display().to_string())
            .collect();
        problems.push(format!("the home changed: {changed:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let mut shown = out.both();
        if shown.len() > 3000 {
            let mut cut = 3000;
            while !shown.is_char_boundary(cut) {
                cut -= 1;
            }
            shown.truncate(cut);
            shown.push('…');
        }
        Err(format!("{}\n{shown}", problems.join("; ")))
    }
}

/// Runs every row (each in a home of its own), then fails with every row that went wrong.
fn run_table(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for row in &rows {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_row(row)))
            .unwrap_or_else(|panic| {
                Err(format!(
                    "the test panicked: {}",
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                ))
            });
        if let Err(why) = result {
            failures.push(format!("[{}] {:?}: {why}", row.what, row.args));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Rows, by kind
// ---------------------------------------------------------------------------------------------

/// `--from` and `--to`: one bare ASCII address, before anything happens.
fn address_rows() -> Vec<Row> {
    let not_an_address = "is not an email address: ";
    vec![
        // The header injection of issue #10: sent as one recipient, reported as sent.
        row("LF and a Bcc line in --to", 2, format!("--to \"x@example.net\\nBcc: v@example.org\" {not_an_address}character 14 is U+000A (a line break, LF)"))
            .diagnose(&["--to", "x@example.net\nBcc: v@example.org"]),
        row("CRLF in --from", 2, "--from \"shop@example.com\\r\\n\" is not an email address: character 17 is U+000D (a carriage return, CR)")
            .diagnose(&["--from", "shop@example.com\r\n"]),
        row("a tab in --to", 2, "U+0009 (a tab)")
            .diagnose(&["--to", "a\t@example.com"]),
        row("a display name in --from", 2, "a display name is not taken here; give the bare address, 'shop@example.com'")
            .diagnose(&["--from", "Shop <shop@example.com>"]),
        row("two @ in --to", 2, "it has 2 '@' signs")
            .diagnose(&["--to", "a@b@example.com"]),
        row("no @ in --to", 2, "--to 'example.com' is not an email address: it has no '@'")
            .diagnose(&["--to", "example.com"]),
        row("empty local part in --from", 2, "there is nothing before the '@'")
            .diagnose(&["--from", "@example.com"]),
        row("empty domain in --from", 2, "there is nothing after the '@'")
            .diagnose(&["--from", "noreply@"]),
        row("empty --to", 2, "--to '' is not an email address: it is empty")
            .diagnose(&["--to", ""]),
        row("a space in --to", 2, "character 2 is a space")
            .diagnose(&["--to", "a b@example.com"]),
        row("a non-breaking space in --from", 2, "U+00A0 (a non-breaking space)")
            .diagnose(&["--from", "noreply\u{a0}@example.com"]),
        row("a zero-width space in --to", 2, "U+200B (a zero-width space)")
            .diagnose(&["--to", "ops\u{200b}@example.com"]),
        row("a Cyrillic а in the domain of --from", 2, "U+0430 (the Cyrillic letter а, which looks like 'a')")
            .diagnose(&["--from", "noreply@exаmple.com"]),
        row("an IDN domain in --to", 2, "SES takes ASCII addresses only (give an internationalised domain in its xn-- form)")
            .diagnose(&["--to", "info@bücher.example"]),
        row("a local part of 65 octets", 2, "the part before the '@' is 65 characters; at most 64 (RFC 5321)")
            .diagnose(&["--to", &format!("{}@example.com", "a".repeat(65))]),
        row("an address of 255 octets", 2, "it is 255 bytes long; an address has at most 254 (RFC 5321)")
            .diagnose(&["--to", &format!("a@{}.com", "b".repeat(249))]),
        // 1 MB cannot be passed: Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN)
        // with E2BIG before the program starts. This is the largest that gets through.
        row("a 128 KiB --to", 2, "it is 131071 bytes long; an address has at most 254")
            .diagnose(&["--to", &format!("{}@example.com", "x".repeat(131071 - 12))]),
        row("a 128 KiB --to with a line break at the end", 2, "U+000A (a line break, LF)")
            .diagnose(&["--to", &format!("a@example.com{}\n", " ".repeat(131071 - 15))]),
        row("a domain without a dot", 2, "the domain 'localhost' has no dot")
            .diagnose(&["--to", "root@localhost"]),
        row("two dots in the domain", 2, "the domain 'example..com' starts or ends with a dot, or has two dots in a row")
            .diagnose(&["--to", "a@example..com"]),
        row("a hyphen at the start of a label", 2, "the label '-example' starts or ends with a hyphen")
            .diagnose(&["--from", "a@-example.com"]),
        row("an underscore in the domain", 2, "'_' is not a letter, digit or hyphen")
            .diagnose(&["--from", "a@mail_server.example.com"]),
        row("an IP address as the domain", 2, "the domain '10.0.0.1' is an IP address")
            .diagnose(&["--to", "a@10.0.0.1"]),
        row("a list of recipients", 2, "it contains ',': give one address, not a list")
            .diagnose(&["--to", "a@example.com,b@example.com"]),
        row("a dot at the start of the local part", 2, "the part before the '@' starts or ends with a dot")
            .diagnose(&["--from", ".noreply@example.com"]),
    ]
}

/// `--endpoint-url` and the `AWS_ENDPOINT_URL*` variables.
fn endpoint_rows() -> Vec<Row> {
    vec![
        row("no scheme", 2, "--endpoint-url 'localhost:4566' is not an http:// or https:// URL (did you mean http://localhost:4566?)")
            .diagnose(&["--endpoint-url", "localhost:4566"]),
        row("another scheme", 2, "--endpoint-url 'ftp://example.com' is not an http:// or https:// URL")
            .diagnose(&["--endpoint-url", "ftp://example.com"]),
        row("no host", 2, "--endpoint-url 'http://' is not a usable endpoint URL: it has no host")
            .diagnose(&["--endpoint-url", "http://"]),
        // The password is never echoed: it would end up in CI logs.
        row("user:password@", 2, "--endpoint-url 'http://***@127.0.0.1:9' is not a usable endpoint URL: it holds a user name or password")
            .diagnose(&["--endpoint-url", "http://admin:hunter2hunter2@127.0.0.1:9"])
            .secret("hunter2hunter2"),
        row("port 0", 2, "the port 0 is not in 1-65535")
            .diagnose(&["--endpoint-url", "http://127.0.0.1:0"]),
        row("port 65536", 2, "the port 65536 is not in 1-65535")
            .diagnose(&["--endpoint-url", "http://127.0.0.1:65536"]),
        row("a port that is not a number", 2, "the port '45x' is not a number")
            .diagnose(&["--endpoint-url", "http://127.0.0.1:45x"]),
        row("a trailing space", 2, "character 19 is U+0020 (a space)")
            .diagnose(&["--endpoint-url", "http://127.0.0.1:9 "]),
        row("a line break", 2, "U+000A (a line break, LF)")
            .diagnose(&["--endpoint-url", "http://127.0.0.1:9\nHost: evil"]),
        // Accepted by the old check, then refused by the SDK's HTTP stack at the first call
        // (exit 3, with the request dumped).
        row("a backtick in the path", 2, "--endpoint-url 'http://127.0.0.1:9/`' is not a usable endpoint URL: '`' cannot stand in a URL as it is; percent-encode it (%60)")
            .diagnose(&["--endpoint-url", "http://127.0.0.1:9/`"]),
        row("an unclosed IPv6 address", 2, "the IPv6 address has no closing ']'")
            .diagnose(&["--endpoint-url", "http://[::1:4566"]),
        row("AWS_ENDPOINT_URL without a scheme", 2, "AWS_ENDPOINT_URL 'localhost:4566' is not an http:// or https:// URL")
            .env("AWS_ENDPOINT_URL", "localhost:4566")
            .diagnose::<&str>(&[]),
        row("AWS_ENDPOINT_URL_STS with a bad port", 2, "AWS_ENDPOINT_URL_STS 'http://127.0.0.1:99999' is not a usable endpoint URL: the port 99999 is not in 1-65535")
            .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:99999")
            .diagnose::<&str>(&[]),
        row("AWS_ENDPOINT_URL_IAM with a space", 2, "AWS_ENDPOINT_URL_IAM")
            .env("AWS_ENDPOINT_URL_IAM", "http://iam local")
            .diagnose::<&str>(&[]),
        row("AWS_ENDPOINT_URL_SES with a password", 2, "AWS_ENDPOINT_URL_SES 'http://***@127.0.0.1:9'")
            .env("AWS_ENDPOINT_URL_SES", "http://u:hunter2hunter2@127.0.0.1:9")
            .secret("hunter2hunter2")
            .diagnose::<&str>(&[]),
        row("AWS_ENDPOINT_URL_SESV2 with a Cyrillic letter", 2, "AWS_ENDPOINT_URL_SESV2 \"http://\\u{441}es.local\" is not a usable endpoint URL: character 8 is U+0441 (the Cyrillic letter с, which looks like 'c')")
            .env("AWS_ENDPOINT_URL_SESV2", "http://сes.local")
            .diagnose::<&str>(&[]),
        row("a bad AWS_ENDPOINT_URL under regions --check", 2, "AWS_ENDPOINT_URL 'https//example.com' is not an http:// or https:// URL")
            .env("AWS_ENDPOINT_URL", "https//example.com")
            .args(&["regions", "--check"]),
    ]
}

/// `--smtp-*`: SES's ports, a CA file that holds a certificate, options for `--via smtp` only.
fn smtp_rows() -> Vec<Row> {
    let smtp = |args: &[&str]| {
        let mut all = vec!["--via", "smtp"];
        all.extend_from_slice(args);
        all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let ca = "{home}/ca.pem";
    vec![
        row("a port SES does not listen on", 2, "--smtp-port 2525: SES's SMTP interface listens on 587, 25, 2587 (STARTTLS) and 465, 2465 (TLS wrapper) only; for another server give --smtp-endpoint HOST:PORT")
            .diagnose(&smtp(&["--smtp-port", "2525"])),
        row("port 0", 2, "invalid value '0' for '--smtp-port <PORT>'")
            .diagnose(&smtp(&["--smtp-port", "0"])),
        row("port 70000", 2, "invalid value '70000' for '--smtp-port <PORT>'")
            .diagnose(&smtp(&["--smtp-port", "70000"])),
        row("--smtp-port without --via smtp", 2, "--smtp-port is for --via smtp")
            .diagnose(&["--smtp-port", "465"]),
        row("--smtp-ca-file without --via smtp", 2, "--smtp-ca-file is for --via smtp")
            .diagnose(&["--smtp-ca-file", ca])
            .file("ca.pem", "-----BEGIN CERTIFICATE-----\n"),
        row("--smtp-username without --via smtp", 2, "--smtp-username is for --via smtp")
            .diagnose(&["--smtp-username", KEY]),
        row("--smtp-endpoint without a port", 2, "--smtp-endpoint 'relay.example.com' is not HOST:PORT: there is no ':PORT'")
            .diagnose(&smtp(&["--smtp-endpoint", "relay.example.com"])),
        row("--smtp-endpoint with a scheme", 2, "give the host and port only, without a scheme")
            .diagnose(&smtp(&["--smtp-endpoint", "smtp://relay.example.com:25"])),
        row("--smtp-endpoint with port 0", 2, "the port 0 is not in 1-65535")
            .diagnose(&smtp(&["--smtp-endpoint", "127.0.0.1:0"])),
        row("--smtp-port beside --smtp-endpoint's", 2, "--smtp-port 587 and --smtp-endpoint (port 2525) name different ports")
            .diagnose(&smtp(&["--smtp-endpoint", "127.0.0.1:2525", "--smtp-port", "587"])),
        row("a missing CA file", 2, "--smtp-ca-file {home}/ca.pem: no such file")
            .diagnose(&smtp(&["--smtp-ca-file", ca])),
        row("a directory as CA file", 2, "ca.pem: is a directory, not a file of PEM certificates")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .special("ca.pem", Content::Dir),
        row("a FIFO as CA file", 2, "ca.pem: is a named pipe (FIFO), not a file of PEM certificates")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .special("ca.pem", Content::Fifo),
        row("an empty CA file", 2, "ca.pem: is empty")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .file("ca.pem", ""),
        row("a private key as CA file", 2, "ca.pem: it holds a private key, not a certificate")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .file("ca.pem", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"),
        row("a text file as CA file", 2, "ca.pem: it holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line)")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .file("ca.pem", "this is not a certificate\n"),
        row("a DER certificate as CA file", 2, "ca.pem: it looks like a DER (binary) certificate")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .file("ca.pem", [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00, 0xff]),
        row("a damaged PEM certificate", 2, "ca.pem: a certificate in it is damaged")
            .diagnose(&smtp(&["--smtp-ca-file", ca]))
            .file("ca.pem", "-----BEGIN CERTIFICATE-----\n!!!! not base64 !!!!\n-----END CERTIFICATE-----\n"),
        row("an SMTP password and a pasted secret both on stdin", 2, "stdin carries the secret of --access-key-id")
            .diagnose(&smtp(&["--access-key-id", KEY, "--smtp-username", KEY]))
            .stdin(format!("{SECRET}\n"))
            .secret(SECRET),
    ]
}

/// `--credentials-out`, `--user-name`, `--timeout`, `--regions`, `--region`, and sizes.
fn path_and_value_rows() -> Vec<Row> {
    vec![
        row("--credentials-out is an existing file", 2, "keys.txt: the file exists; ses-doctor never overwrites it")
            .diagnose(&["--credentials-out", "{home}/keys.txt"])
            .file("keys.txt", "keep me\n"),
        row("--credentials-out is a directory", 2, "out: is a directory; give the path of a new file in it")
            .diagnose(&["--credentials-out", "{home}/out"])
            .special("out", Content::Dir),
        row("--credentials-out ends in a slash", 2, "new/: names a directory; give the path of a new file")
            .diagnose(&["--credentials-out", "{home}/new/"]),
        row("--credentials-out is a dangling link", 2, "link: is a symbolic link; ses-doctor writes a new file only")
            .diagnose(&["--credentials-out", "{home}/link"])
            .special("link", Content::Symlink("nowhere/keys.txt")),
        row("--credentials-out in a missing directory", 2, "missing/keys.txt: the directory {home}/missing does not exist")
            .diagnose(&["--credentials-out", "{home}/missing/keys.txt"]),
        row("--credentials-out under a file", 2, "is a file, not a directory")
            .diagnose(&["--credentials-out", "{home}/plain/keys.txt"])
            .file("plain", "x"),
        row("--credentials-out in /proc", 2, "--credentials-out /proc/self/ses-keys.txt: /proc is not a place for files")
            .diagnose(&["--credentials-out", "/proc/self/ses-keys.txt"]),
        row("--credentials-out empty", 2, "a value is required for '--credentials-out <FILE>'")
            .diagnose(&["--credentials-out", ""]),
        row("--user-name with a space", 2, "--user-name 'bad name!' is not a valid IAM user name (1-64 letters, digits and +=,.@_-)")
            .diagnose(&["--user-name", "bad name!"]),
        row("--user-name of 65 characters", 2, "is not a valid IAM user name")
            .diagnose(&["--user-name", &"u".repeat(65)]),
        row("--user-name with a line break", 2, "--user-name \"ses\\nsender\" is not a valid IAM user name")
            .diagnose(&["--user-name", "ses\nsender"]),
        row("--timeout 0", 2, "invalid value '0' for '--timeout <SECONDS>': 0 is not in 1..=300")
            .diagnose(&["--timeout", "0"]),
        row("--timeout 301", 2, "301 is not in 1..=300")
            .diagnose(&["--timeout", "301"]),
        row("--timeout of 20 digits", 2, "invalid value '99999999999999999999' for '--timeout <SECONDS>'")
            .diagnose(&["--timeout", "99999999999999999999"]),
        row("--timeout 1.5", 2, "invalid value '1.5' for '--timeout <SECONDS>'")
            .diagnose(&["--timeout", "1.5"]),
        row("--region with an availability zone", 2, "--region 'eu-west-1a' is not an AWS region name (did you mean eu-west-1?)")
            .diagnose(&["--region", "eu-west-1a"]),
        row("--region with a display name", 2, "(did you mean eu-west-1?)")
            .diagnose(&["--region", "EU (Ireland)"]),
        row("--regions with an empty entry", 2, "--regions has an empty entry")
            .diagnose(&["--regions", "us-east-1,,eu-west-1"]),
        row("--regions with one twice", 2, "--regions names 'us-east-1' twice")
            .diagnose(&["--regions", "us-east-1,eu-west-1,us-east-1"]),
        row("--regions with an unknown name", 2, "--regions: 'eu-west-9' is not an SES region")
            .diagnose(&["--regions", "eu-west-9"]),
        row("--regions with a region without SES", 2, "--regions: Amazon SES is not offered in ap-east-1")
            .diagnose(&["--regions", "ap-east-1"]),
        row("--regions with a Cyrillic letter", 2, "--regions: \"\\u{435}u-west-1\" is not an SES region: character 1 is U+0435 (the Cyrillic letter е, which looks like 'e')")
            .diagnose(&["--regions", "еu-west-1"]),
        row("smtp-password without a region", 2, "--region is required")
            .args(&["smtp-password"])
            .stdin(format!("{SECRET}\n"))
            .secret(SECRET),
        row("--output yaml", 2, "invalid value 'yaml' for '--output <OUTPUT>'")
            .diagnose(&["--output", "yaml"]),
        row("explain with empty text", 2, "nothing to explain")
            .args(&["explain", ""]),
    ]
}

/// Profiles, and the shared files the SDKs would misread or refuse.
fn profile_and_file_rows() -> Vec<Row> {
    let both_refuse = "a malformed file: both SDKs refuse it";
    vec![
        row("--profile unknown", 2, "the profile 'mialer' (--profile) is not in")
            .diagnose(&["--profile", "mialer"])
            .credentials(valid_profile("mailer")),
        row("AWS_PROFILE unknown", 2, "the profile 'staging' (AWS_PROFILE) is not in")
            .env("AWS_PROFILE", "staging")
            .diagnose::<&str>(&[])
            .credentials(valid_profile("default")),
        row("--admin-profile unknown", 2, "the profile 'amdin' (--admin-profile) is not in")
            .diagnose(&["--admin-profile", "amdin"])
            .credentials(valid_profile("default")),
        row("--profile with a space", 2, "--profile 'my mailer' is not a profile name the AWS SDKs accept (it contains a space)")
            .diagnose(&["--profile", "my mailer"]),
        row("--profile empty", 2, "--profile '' is not a profile name the AWS SDKs accept (it is empty)")
            .diagnose(&["--profile", ""]),
        row("--admin-profile with a bracket", 2, "--admin-profile 'admin]' is not a profile name the AWS SDKs accept (it contains ']')")
            .diagnose(&["--admin-profile", "admin]"]),
        row("--profile with a Cyrillic о", 2, "--profile \"pr\\u{43e}d\" is not a profile name the AWS SDKs accept (it contains U+043E (the Cyrillic letter о, which looks like 'o'))")
            .diagnose(&["--profile", "prоd"])
            .credentials(valid_profile("prod")),
        row("--write-profile with a line break", 2, "--write-profile \"a\\nb\" is not a profile name")
            .diagnose(&["--write-profile", "a\nb"]),
        row("smtp-password --profile with '='", 2, "--profile 'a=b' is not a profile name")
            .args(&["smtp-password", "--profile", "a=b", "--region", "eu-west-1"])
            .stdin(format!("{SECRET}\n"))
            .secret(SECRET),
        row("regions --check --profile with a space", 2, "--profile 'a b' is not a profile name")
            .args(&["regions", "--check", "--profile", "a b"]),
        row("config: a header without ']'", 2, ".aws/config: the AWS SDKs cannot parse it: line 1: Profile definition must end with ']'")
            .diagnose(&["--profile", "mailer"])
            .config("[profile mailer\nregion = eu-west-1\n")
            .broken(both_refuse),
        row("credentials: a header without ']'", 2, ".aws/credentials: the AWS SDKs cannot parse it: line 1: Profile definition must end with ']'")
            .diagnose::<&str>(&[])
            .credentials("[default\naws_access_key_id = AKIAQWERTYUIOPASDFGH\n")
            .broken(both_refuse),
        row("config: a key before any section", 2, ".aws/config: the AWS SDKs cannot parse it: line 1: Expected a profile definition")
            .diagnose::<&str>(&[])
            .config("region = eu-west-1\n[default]\n")
            .broken(both_refuse),
        row("credentials: a key before any section", 2, ".aws/credentials: the AWS SDKs cannot parse it: line 1: Expected a profile definition")
            .diagnose::<&str>(&[])
            .credentials(format!("aws_access_key_id = {KEY}\n{}", valid_profile("default")))
            .broken(both_refuse),
        // A secret pasted on a line of its own: named by line, never echoed.
        row("credentials: a line without '='", 2, ".aws/credentials: the AWS SDKs cannot parse it: line 3: Expected an '=' sign defining a property")
            .diagnose(&["--profile", "mailer"])
            .credentials(format!("[mailer]\naws_access_key_id = {KEY}\n{SECRET}\n"))
            .secret(SECRET)
            .broken(both_refuse),
        row("config: a property without a name", 2, ".aws/config: the AWS SDKs cannot parse it: line 2: Property did not have a name")
            .diagnose::<&str>(&[])
            .config("[default]\n= eu-west-1\n")
            .broken(both_refuse),
        row("config: a byte order mark", 2, ".aws/config: starts with a byte order mark")
            .diagnose::<&str>(&[])
            .config("\u{feff}[default]\nregion = eu-west-1\n")
            .broken("a BOM: the Rust SDK refuses the file, botocore finds no section"),
        row("credentials: a byte order mark", 2, ".aws/credentials: starts with a byte order mark")
            .diagnose::<&str>(&[])
            .credentials(format!("\u{feff}{}", valid_profile("default")))
            .broken("a BOM: the Rust SDK refuses the file, botocore finds no section"),
        row("config: Latin-1, not UTF-8", 2, ".aws/config: byte 0xE9 on line 1 is not UTF-8")
            .diagnose::<&str>(&[])
            .config(b"# caf\xe9\n[default]\nregion = eu-west-1\n")
            .broken("not UTF-8: botocore refuses it"),
        row("credentials: Latin-1, not UTF-8", 2, ".aws/credentials: byte 0xFF on line 2 is not UTF-8")
            .diagnose::<&str>(&[])
            .credentials(b"[default]\n\xff\n")
            .broken("not UTF-8: botocore refuses it"),
        row("config: a FIFO", 2, ".aws/config: is a named pipe (FIFO), not a regular file")
            .diagnose::<&str>(&[])
            .special(".aws/config", Content::Fifo),
        row("credentials: a FIFO", 2, ".aws/credentials: is a named pipe (FIFO), not a regular file")
            .diagnose::<&str>(&[])
            .special(".aws/credentials", Content::Fifo),
        row("config: a directory", 2, ".aws/config: is a directory, not a regular file")
            .diagnose::<&str>(&[])
            .special(".aws/config", Content::Dir),
        row("credentials: a directory", 2, ".aws/credentials: is a directory, not a regular file")
            .diagnose::<&str>(&[])
            .special(".aws/credentials", Content::Dir),
        // `~` in AWS_CONFIG_FILE is the home, as in the SDKs: the home itself is a directory.
        row("AWS_CONFIG_FILE=~", 2, ": is a directory, not a regular file")
            .env("AWS_CONFIG_FILE", "~")
            .diagnose::<&str>(&[]),
        row("config: an indented section header", 2, ".aws/config: line 3: the section header is indented")
            .diagnose::<&str>(&[])
            .config("[default]\nregion = eu-west-1\n  [profile mailer]\nregion = us-east-1\n")
            .broken("an indented header: both SDKs read it as part of the value above"),
        row("credentials: 1 MB without a newline", 2, ".aws/credentials: the AWS SDKs cannot parse it: line 1: Expected a profile definition")
            .diagnose::<&str>(&[])
            .credentials("x".repeat(1 << 20))
            .broken(both_refuse),
    ]
}

/// Keys: lookalike Unicode and malformed IDs. A key ID on the command line is an argument, so a
/// malformed one is bad usage (exit 2). A key or secret the mailer is configured with (its files,
/// its environment) is what is being diagnosed, and so is a secret pasted on stdin with
/// `--access-key-id` (its whitespace or lookalikes may be exactly the mailer's problem): those
/// are findings, exit 1 (or 3 when, as here, AWS cannot be reached to check the key).
fn key_rows() -> Vec<Row> {
    let not_a_key = "is not an access key ID: ";
    vec![
        row("--access-key-id with a Cyrillic А", 2, format!("--access-key-id \"AKI\\u{{410}}QWERTYUIOPASDFGH\" {not_a_key}character 4 is U+0410 (the Cyrillic letter А, which looks like 'A')"))
            .diagnose(&["--access-key-id", "AKIАQWERTYUIOPASDFGH"])
            .stdin(format!("{SECRET}\n"))
            .secret(SECRET),
        row("--access-key-id with a non-breaking space", 2, "character 21 is U+00A0 (a non-breaking space)")
            .diagnose(&["--access-key-id", "AKIAQWERTYUIOPASDFGH\u{a0}"]),
        row("--access-key-id with a zero-width space", 2, "character 5 is U+200B (a zero-width space)")
            .diagnose(&["--access-key-id", "AKIA\u{200b}QWERTYUIOPASDFGH"]),
        row("--access-key-id with a full-width letter", 2, "U+FF21 (a full-width character, which looks like 'A')")
            .diagnose(&["--access-key-id", "AKIＡQWERTYUIOPASDFGH"]),
        row("--access-key-id is a user ID", 2, "AIDAQWERTYUIOPASDFGH is an IAM user ID, not an access key ID")
            .diagnose(&["--access-key-id", "AIDAQWERTYUIOPASDFGH"]),
        row("--access-key-id cut short", 2, "The access key ID is 12 characters long, not 20")
            .diagnose(&["--access-key-id", "AKIAQWERTYUI"]),
        row("--access-key-id with a digit 0", 2, "contains '0', which no key ID has (did you mean the letter O?)")
            .diagnose(&["--access-key-id", "AKIAQWERTYUI0PASDFGH"]),
        row("--access-key-id empty", 2, "--access-key-id '' is not an access key ID: it is empty")
            .diagnose(&["--access-key-id", ""]),
        row("--access-key-id with nothing on stdin", 2, "no secret on stdin")
            .diagnose(&["--access-key-id", KEY])
            .stdin(""),
        // ses-doctor reads at most 64 KiB of stdin, and the harness writes all of a row's stdin
        // before reading: more than 64 KiB would end in a broken pipe on the harness's side.
        row("--access-key-id with 64 KiB of blank lines on stdin", 2, "no secret on stdin")
            .diagnose(&["--access-key-id", KEY])
            .stdin("\n".repeat(64 * 1024)),
        // The pasted secret is diagnosed, not refused: the finding names it; the identity check
        // is still tried (AWS would answer SignatureDoesNotMatch), and here cannot complete.
        row("a zero-width space in the pasted secret", 3, "The secret access key contains a character no AWS secret has [secret-key-malformed]")
            .diagnose(&["--access-key-id", KEY, "--timeout", "1", "--regions", "us-east-1"])
            .stdin("wJalrXUtnFEMI/K7MDENG/bPxRf\u{200b}iCYEXAMPLEKEY\n")
            .secret("wJalrXUtnFEMI/K7MDENG/bPxRf"),
        row("a non-breaking space in the pasted secret", 3, "The secret access key has stray whitespace or quotes in it [secret-key-malformed]")
            .diagnose(&["--access-key-id", KEY, "--timeout", "1", "--regions", "us-east-1"])
            .stdin(format!("{SECRET}\u{a0}\n"))
            .secret(SECRET),
        // The same lookalikes in the mailer's own files are findings: the key ID cannot be sent,
        // so nothing is called and the run ends with exit 1.
        row("a Cyrillic А in the key ID in the credentials file", 1, "[access-key-id-malformed]")
            .diagnose(&["--timeout", "1"])
            .credentials(format!("[default]\naws_access_key_id = AKIАQWERTYUIOPASDFGH\naws_secret_access_key = {SECRET}\n"))
            .secret(SECRET),
        row("a zero-width space in AWS_ACCESS_KEY_ID", 1, "[access-key-id-malformed]")
            .env("AWS_ACCESS_KEY_ID", "AKIAQWERTY\u{200b}UIOPASDFGH")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .diagnose(&["--timeout", "1"])
            .secret(SECRET),
        // smtp-password derives from the secret alone: a malformed one would give a wrong password
        // without a word, so there it is bad input.
        row("smtp-password with a zero-width space in the secret", 2, "(secret-key-malformed)")
            .args(&["smtp-password", "--region", "eu-west-1"])
            .stdin("wJalrXUtnFEMI/K7MDENG/bPxRf\u{200b}iCYEXAMPLEKEY\n")
            .secret("wJalrXUtnFEMI/K7MDENG/bPxRf"),
    ]
}

#[test]
fn table_addresses() {
    run_table(address_rows());
}

#[test]
fn table_endpoints() {
    run_table(endpoint_rows());
}

#[test]
fn table_smtp_options() {
    run_table(smtp_rows());
}

#[test]
fn table_paths_and_values() {
    run_table(path_and_value_rows());
}

#[test]
fn table_profiles_and_files() {
    run_table(profile_and_file_rows());
}

#[test]
fn table_keys() {
    run_table(key_rows());
}

// ---------------------------------------------------------------------------------------------
// Cases with more to check than one row
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_profile_is_named_with_the_ones_that_exist() {
    let home = Home::new();
    home.write_credentials("[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = x\n[prod]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = y\n");
    let out = diagnose(&home).args(["--profile", "mialer"]).run();
    assert_usage_error(&out, "the profile 'mialer' (--profile) is not in");
    assert!(out.stderr.contains("default, prod"), "{}", out.both());
    let out = diagnose(&home).env("AWS_PROFILE", "staging").run();
    assert_usage_error(&out, "'staging' (AWS_PROFILE)");
}

#[test]
fn invalid_region_in_the_profile_is_a_finding() {
    // The mailer's own configuration is what is being diagnosed: a display name where the
    // region code belongs is reported, with the code it should be.
    let home = Home::new();
    home.write_credentials("[mailer]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    home.write_config("[profile mailer]\nregion = EU (Ireland)\n");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = home
        .command(&format!("http://127.0.0.1:{port}"))
        .args([
            "diagnose",
            "--profile",
            "mailer",
            "--output",
            "json",
            "--timeout",
            "2",
        ])
        .run();
    let report = out.report();
    let f = report.finding("region-invalid");
    assert_eq!(f.evidence("probably meant"), "eu-west-1");
}

/// The checks come before anything: with a bad `--to`, the credential process the profile names
/// is not even run (it would leave a mark), and no secret is read from stdin.
#[test]
fn argument_checks_come_before_credentials_are_resolved() {
    let home = Home::new();
    let mark = home.path().join("credential-process-ran");
    home.write_config(&format!(
        "[profile mailer]\nregion = eu-west-1\ncredential_process = sh -c 'touch {}'\n",
        mark.display()
    ));
    let out = diagnose(&home)
        .args(["--profile", "mailer", "--to", "example.com"])
        .run();
    assert_usage_error(&out, "--to 'example.com' is not an email address");
    assert!(!mark.exists(), "the credential process ran");
}
