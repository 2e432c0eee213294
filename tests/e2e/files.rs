//! The shared config and credentials files as people really have them (hand-edited, CRLF,
//! upper-case keys, symlinked, named with a literal `~`, broken), and the places where botocore
//! (boto3, the AWS CLI v1) reads the same files differently from the Rust SDK. Every world is
//! checked twice: by ses-doctor (the Rust SDK), and by botocore itself through
//! `tests/emulator/botocore_probe.py`, so neither an edit nor a claim about botocore can drift
//! from what botocore really does. After an edit, every byte but the changed value is the same.

use crate::cli::{
    profile_section, sha256_hex, snapshot, Finding, FixKind, FixStatus, Home, Output, Report,
    SesDoctor, Severity, StepId, StepStatus,
};
use crate::support::{emulator, Account, Keys};
use crate::worlds::healthy_sender;
use std::path::Path;
use std::time::Duration;

/// The two regions these worlds use: the scan is not what these tests are about.
const REGIONS: &str = "eu-west-1,us-east-1";
const RUST: &str = "Rust SDK (ses-doctor)";
const BOTOCORE: &str = "botocore (boto3, AWS CLI v1)";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `diagnose --output json` over [`REGIONS`], through the admin profile; no secret of the
/// account, nor any of `secrets`, may be printed.
fn diagnose(home: &Home, account: &Account, secrets: &[&str]) -> SesDoctor {
    let mut cmd = home
        .for_account(account)
        .args(["diagnose", "--output", "json", "--regions", REGIONS])
        .args(["--admin-profile", "admin"])
        .secret(&account.admin.secret_access_key);
    for secret in secrets {
        cmd = cmd.secret(secret);
    }
    cmd
}

/// [`diagnose`] of profile `mailer`.
fn diagnose_mailer(home: &Home, account: &Account, keys: &Keys) -> SesDoctor {
    diagnose(home, account, &[&keys.secret_access_key]).args(["--profile", "mailer"])
}

fn admin_section(account: &Account) -> String {
    profile_section(
        "admin",
        &account.admin.access_key_id,
        &account.admin.secret_access_key,
    )
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// No error finding is left open.
fn assert_no_open_error(report: &Report) {
    let open: Vec<&str> = report
        .steps
        .iter()
        .flat_map(|s| s.findings.iter())
        .filter(|f| f.severity == Severity::Error && !f.resolved)
        .map(|f| f.title.as_str())
        .collect();
    assert!(open.is_empty(), "open errors: {open:?}");
}

/// The `sdk-divergence` findings of a report.
fn divergences(report: &Report) -> Vec<&Finding> {
    report
        .steps
        .iter()
        .flat_map(|s| s.findings.iter())
        .filter(|f| f.code == "sdk-divergence")
        .collect()
}

/// The one `sdk-divergence` finding whose title contains `about`, in step 0, with a manual fix.
fn divergence<'a>(report: &'a Report, about: &str) -> &'a Finding {
    let all = divergences(report);
    let titles: Vec<&str> = all.iter().map(|f| f.title.as_str()).collect();
    let found: Vec<&&Finding> = all.iter().filter(|f| f.title.contains(about)).collect();
    assert_eq!(
        found.len(),
        1,
        "one sdk-divergence about {about:?}; there are: {titles:?}"
    );
    let f = *found[0];
    assert!(
        report
            .step(StepId::Local)
            .findings
            .iter()
            .any(|x| std::ptr::eq(x, f)),
        "a divergence is a finding of step 0"
    );
    assert!(
        !f.fixes.is_empty() && f.fixes.iter().all(|x| x.kind == FixKind::Manual),
        "a divergence comes with a manual fix: {:?}",
        f.fixes
    );
    f
}

/// A sender whose domain is verified only in eu-west-1, and a home whose credentials file holds
/// its key as `mailer` next to `admin`, with `config` as the config file.
async fn sender_in_eu_west_1(account: &Account, config: &str) -> (Keys, Home) {
    let keys = healthy_sender(account, "mailer", "eu-west-1").await;
    let home = Home::mailer_and_admin(
        account,
        &keys.access_key_id,
        &keys.secret_access_key,
        config,
    );
    (keys, home)
}

/// Runs a prepared invocation in `dir` as its working directory, checking that no secret is
/// printed. (`SesDoctor` has no working directory of its own.)
fn run_in(cmd: SesDoctor, dir: &Path, secrets: &[&str]) -> Output {
    let out = cmd
        .into_command()
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ses-doctor runs");
    let output = Output {
        code: out.status.code().expect("ses-doctor exited"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    for secret in secrets {
        output.assert_no_secret(secret);
    }
    output
}

// ---------------------------------------------------------------------------
// 1. Hand-edited files: upper-case keys, comments, CRLF
// ---------------------------------------------------------------------------

/// A credentials file written by hand on Windows (upper-case keys, `=` without spaces, comments,
/// CRLF) and a config file saying `Region = us-east-1` for the mailer, whose domain is verified
/// only in eu-west-1. The region fix changes that line in place: a lower-case `region` line added
/// next to it would make botocore refuse the whole file (DuplicateOptionError).
#[tokio::test]
async fn upper_case_keys_and_crlf_keep_their_spelling_through_the_region_fix() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    let credentials = crlf(&format!(
        "# SES keys for the shop -- ask Jo before changing\n[mailer]\nAWS_ACCESS_KEY_ID = {}\n\
         AWS_Secret_Access_Key={}\n\n; the account's administrator\n{}",
        keys.access_key_id,
        keys.secret_access_key,
        admin_section(&account)
    ));
    let config = crlf(
        "# one profile per site\n[default]\nOutput = json\n\n[profile mailer]\n\
         # the shop's mailer\nRegion = us-east-1\nOutput = text\n",
    );
    home.write_credentials(&credentials);
    home.write_config(&config);
    // botocore reads the hand-written files as they are (keys are case-insensitive for both).
    let before = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert_eq!(before.assert_parses().region.as_deref(), Some("us-east-1"));

    let report = diagnose_mailer(&home, &account, &keys)
        .args(["--yes"])
        .run()
        .assert_code(0)
        .report();
    assert!(divergences(&report).is_empty(), "{:?}", report.codes());
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);
    let f = report.finding("region-mismatch");
    assert!(f.evidence("configured").starts_with("us-east-1"));
    assert!(f.evidence("best region").starts_with("eu-west-1"));
    assert_eq!(f.fixes[0].status, FixStatus::Applied);
    assert!(f.resolved);

    // `Region = us-east-1\r\n` became `Region = eu-west-1\r\n`; nothing else changed.
    let expected = config.replace("Region = us-east-1\r\n", "Region = eu-west-1\r\n");
    assert_ne!(expected, config);
    assert_eq!(read(&home.config_file()), expected);
    assert_eq!(read(&home.credentials_file()), credentials);

    // botocore parses the edited file and reads the new region and the same key.
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    boto.assert_parses();
    assert_eq!(boto.region.as_deref(), Some("eu-west-1"));
    assert_eq!(boto.value("mailer", "region").as_deref(), Some("eu-west-1"));
    let creds = boto.credentials.as_ref().expect("botocore has credentials");
    assert_eq!(creds.access_key_id, keys.access_key_id);
    assert_eq!(creds.secret_sha256, sha256_hex(&keys.secret_access_key));

    let report = diagnose_mailer(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
    assert_eq!(report.finding("region-ok").severity, Severity::Pass);
    assert_no_open_error(&report);
}

// ---------------------------------------------------------------------------
// 2. [default] and [profile default] in one config file
// ---------------------------------------------------------------------------

/// The default profile is configured twice in the config file, in either order; the mailer uses
/// the default profile (no --profile, keys in the credentials file's `[default]`). The Rust SDK
/// reads only `[profile default]`, botocore the later section: the report says which each reads,
/// the probe confirms botocore's, and the region fix writes the region where each reads it.
#[tokio::test]
async fn default_and_profile_default_both_in_the_config_file() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    struct World {
        config: &'static str,
        /// The section botocore reads, and the region it finds there.
        botocore_reads: (&'static str, &'static str),
        expected: &'static str,
    }
    let worlds = [
        // An old [default] above a newer [profile default]: both SDKs read the latter, which is
        // the only one edited.
        World {
            config: "# old setup\n[default]\nregion = us-west-2\noutput = json\n\n\
                     [profile default]\nregion = us-east-1\n",
            botocore_reads: ("[profile default]", "us-east-1"),
            expected: "# old setup\n[default]\nregion = us-west-2\noutput = json\n\n\
                       [profile default]\nregion = eu-west-1\n",
        },
        // [profile default] first: botocore reads [default], the Rust SDK [profile default];
        // both are edited.
        World {
            config: "[profile default]\nregion = us-east-1\n\n# added by `aws configure`\n\
                     [default]\nregion = us-west-2\noutput = json\n",
            botocore_reads: ("[default]", "us-west-2"),
            expected: "[profile default]\nregion = eu-west-1\n\n# added by `aws configure`\n\
                       [default]\nregion = eu-west-1\noutput = json\n",
        },
    ];
    for world in worlds {
        let home = Home::new();
        let credentials = format!(
            "{}\n{}",
            profile_section("default", &keys.access_key_id, &keys.secret_access_key),
            admin_section(&account)
        );
        home.write_credentials(&credentials);
        home.write_config(world.config);
        let boto = home.botocore(account.endpoint(), &[], None);
        assert_eq!(boto.assert_parses().profile, "default");
        assert_eq!(boto.region.as_deref(), Some(world.botocore_reads.1));

        let report = diagnose(&home, &account, &[&keys.secret_access_key])
            .args(["--yes"])
            .run()
            .assert_code(0)
            .report();
        let f = divergence(&report, "[default] and [profile default]");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.evidence(RUST), "[profile default]");
        assert_eq!(f.evidence(BOTOCORE), world.botocore_reads.0);
        assert_eq!(f.evidence("file"), home.config_file().display().to_string());
        let fixed = report.finding("region-mismatch");
        assert!(fixed.evidence("configured").starts_with("us-east-1"));
        assert_eq!(fixed.fixes[0].status, FixStatus::Applied);
        assert_eq!(read(&home.config_file()), world.expected);
        assert_eq!(read(&home.credentials_file()), credentials);

        let boto = home.botocore(account.endpoint(), &[], None);
        assert_eq!(boto.assert_parses().region.as_deref(), Some("eu-west-1"));

        // The second run reads eu-west-1 too; the two sections are still there to merge.
        let report = diagnose(&home, &account, &[&keys.secret_access_key])
            .run()
            .assert_code(0)
            .report();
        assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
        assert!(!report.codes().contains(&"region-mismatch"));
        assert_eq!(report.finding("region-ok").severity, Severity::Pass);
        divergence(&report, "[default] and [profile default]");
        assert_no_open_error(&report);
    }
}

// ---------------------------------------------------------------------------
// 3. A section, or a key, twice in one file
// ---------------------------------------------------------------------------

/// Worlds botocore refuses while the Rust SDK reads them: `[profile mailer]` twice in the config
/// file (a setup script appended a second one, once with a note after the header, which
/// configparser keeps in the section name), and `region` twice in the mailer's section (once as
/// `Region`: keys are case-insensitive for both). The report says so as an error, the probe
/// confirms botocore's refusal, and the region fix edits the value the Rust SDK uses; the second
/// run sees eu-west-1, and the only error left is the file botocore refuses.
#[tokio::test]
async fn a_section_or_a_key_twice_in_the_config_file() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    struct World {
        config: String,
        /// The region fix's result.
        expected: String,
        /// The finding's title says this.
        title: &'static str,
        lines: &'static str,
        /// configparser's error.
        refusal: &'static str,
    }
    let mut worlds = Vec::new();
    for second_header in ["[profile mailer]", "[profile mailer] # from setup.sh"] {
        let config = |region: &str, appended: &str| {
            format!(
                "[profile mailer]\nregion = {region}\n\n[profile other]\nregion = ap-southeast-2\n\n\
                 # appended by setup.sh\n{second_header}\noutput = json\n{appended}"
            )
        };
        worlds.push(World {
            config: config("us-east-1", ""),
            // The value in the first section changes, and the last section (where botocore would
            // read once the sections are merged) gets it too.
            expected: config("eu-west-1", "region = eu-west-1\n"),
            title: "[profile mailer] appears 2 times in the config file",
            lines: "1, 8",
            refusal: "DuplicateSectionError",
        });
    }
    let config = |first: &str, last: &str| {
        format!(
            "[default]\noutput = json\n\n[profile mailer]\nRegion = {first}\noutput = text\n\
             # moved to Virginia\nregion = {last}\n"
        )
    };
    worlds.push(World {
        config: config("eu-west-2", "us-east-1"),
        // Every line of the key: whichever one botocore keeps once the user deletes the other.
        expected: config("eu-west-1", "eu-west-1"),
        title: "region appears 2 times in [profile mailer] of the config file",
        lines: "5, 8",
        refusal: "DuplicateOptionError",
    });

    for world in worlds {
        let home = Home::mailer_and_admin(
            &account,
            &keys.access_key_id,
            &keys.secret_access_key,
            &world.config,
        );
        home.sdks_disagree("botocore refuses a config file with a section or a key twice");
        let credentials = read(&home.credentials_file());
        let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
        let refused = boto.config_error.as_deref().unwrap_or_default();
        assert!(refused.contains(world.refusal), "{boto:?}");

        let report = diagnose_mailer(&home, &account, &keys)
            .args(["--yes"])
            .run()
            .assert_code(1)
            .report();
        let f = divergence(&report, world.title);
        assert_eq!(f.severity, Severity::Error);
        assert!(!f.resolved);
        assert_eq!(f.evidence("lines"), world.lines);
        assert_eq!(f.evidence("file"), home.config_file().display().to_string());
        assert!(f.evidence(BOTOCORE).contains(world.refusal));
        let fixed = report.finding("region-mismatch");
        assert!(fixed.evidence("configured").starts_with("us-east-1"));
        assert_eq!(fixed.fixes[0].status, FixStatus::Applied);
        assert_eq!(read(&home.config_file()), world.expected);
        assert_eq!(read(&home.credentials_file()), credentials);
        // botocore still refuses the file, as before: fixing that is the user's (manual) fix.
        let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
        let refused = boto.config_error.as_deref().unwrap_or_default();
        assert!(refused.contains(world.refusal), "{boto:?}");

        let report = diagnose_mailer(&home, &account, &keys)
            .run()
            .assert_code(1)
            .report();
        assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
        assert_eq!(report.finding("region-ok").severity, Severity::Pass);
        let open: Vec<&str> = report
            .steps
            .iter()
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.severity == Severity::Error && !f.resolved)
            .map(|f| f.title.as_str())
            .collect();
        assert_eq!(open.len(), 1, "{open:?}");
        assert!(open[0].contains(world.title), "{open:?}");
    }
}

// ---------------------------------------------------------------------------
// 4. A symlinked config file
// ---------------------------------------------------------------------------

/// A dotfiles manager keeps the real config file in `~/dotfiles/aws/config` and links
/// `~/.aws/config` to it (a relative link). The region fix writes through the link: the link
/// stays a link, the real file has the new region.
#[cfg(unix)]
#[tokio::test]
async fn symlinked_config_stays_a_symlink() {
    let account = emulator().new_account();
    let (keys, home) = sender_in_eu_west_1(&account, "").await;
    let config = "[default]\noutput = json\n\n[profile mailer]\nregion = us-east-1\n";
    let real = home.path().join("dotfiles").join("aws").join("config");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::write(&real, config).unwrap();
    std::fs::remove_file(home.config_file()).unwrap();
    let link = Path::new("../dotfiles/aws/config");
    std::os::unix::fs::symlink(link, home.config_file()).unwrap();
    let credentials = read(&home.credentials_file());

    let report = diagnose_mailer(&home, &account, &keys)
        .args(["--yes"])
        .run()
        .assert_code(0)
        .report();
    assert_eq!(
        report.finding("region-mismatch").fixes[0].status,
        FixStatus::Applied
    );
    let meta = std::fs::symlink_metadata(home.config_file()).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "~/.aws/config is still a link"
    );
    assert_eq!(std::fs::read_link(home.config_file()).unwrap(), link);
    assert_eq!(
        read(&real),
        config.replace("region = us-east-1", "region = eu-west-1")
    );
    assert_eq!(read(&home.credentials_file()), credentials);
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert_eq!(boto.assert_parses().region.as_deref(), Some("eu-west-1"));

    let report = diagnose_mailer(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
    assert_no_open_error(&report);
}

// ---------------------------------------------------------------------------
// 5. A literal `~` in AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE
// ---------------------------------------------------------------------------

/// A Dockerfile's `ENV AWS_CONFIG_FILE=~/.aws/config` passes the `~` unexpanded. The SDKs read
/// $HOME/.aws/config, and so must the fix write it: not a `~` directory in the working directory.
#[tokio::test]
async fn tilde_in_the_file_variables_is_the_home_directory() {
    let account = emulator().new_account();
    let config = "[profile mailer]\nregion = us-east-1\n";
    let (keys, home) = sender_in_eu_west_1(&account, config).await;
    let credentials = read(&home.credentials_file());
    let workdir = tempfile::Builder::new()
        .prefix("ses-doctor-cwd-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let tilde = [
        ("AWS_CONFIG_FILE", "~/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    ];
    let cmd = |extra: &[&str]| {
        let mut cmd = diagnose_mailer(&home, &account, &keys).args(extra);
        for (k, v) in tilde {
            cmd = cmd.env(k, v);
        }
        cmd
    };
    let secrets = [
        keys.secret_access_key.as_str(),
        account.admin.secret_access_key.as_str(),
    ];

    let out = run_in(cmd(&["--yes"]), workdir.path(), &secrets);
    let report = out.assert_code(0).report();
    let fix = &report.finding("region-mismatch").fixes[0];
    assert_eq!(fix.status, FixStatus::Applied);
    let real = home.config_file().display().to_string();
    assert!(
        fix.description.contains(&real) && !fix.description.contains('~'),
        "{}",
        fix.description
    );
    assert_eq!(
        read(&home.config_file()),
        "[profile mailer]\nregion = eu-west-1\n"
    );
    assert_eq!(read(&home.credentials_file()), credentials);
    let left: Vec<_> = std::fs::read_dir(workdir.path()).unwrap().collect();
    assert!(left.is_empty(), "the working directory gained {left:?}");
    // botocore, given the same `~` paths, reads the same files and the new region.
    let boto = home.botocore(account.endpoint(), &tilde, Some("mailer"));
    assert_eq!(boto.assert_parses().region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        boto.credentials.as_ref().map(|c| c.access_key_id.as_str()),
        Some(keys.access_key_id.as_str())
    );

    let report = run_in(cmd(&[]), workdir.path(), &secrets)
        .assert_code(0)
        .report();
    assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
    assert_no_open_error(&report);
    assert_eq!(std::fs::read_dir(workdir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------
// 6. Files the SDKs cannot read
// ---------------------------------------------------------------------------

/// Runs `diagnose --yes` in a home where `bad` is wrong: exit 2 at once, nothing on stdout, a
/// message naming the file and `problem`, and not one byte of the home changed.
fn assert_refused(home: &Home, account: &Account, bad: &Path, problem: &str) {
    let before = snapshot(home.path());
    let out = diagnose(home, account, &[])
        .args(["--profile", "mailer", "--yes"])
        .deadline(Duration::from_secs(20))
        .run();
    out.assert_code(2);
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert!(
        out.stderr.contains(&bad.display().to_string()) && out.stderr.contains(problem),
        "the message names {} and {problem:?}:\n{}",
        bad.display(),
        out.stderr
    );
    assert_eq!(snapshot(home.path()), before, "nothing changed");
}

/// A config file that is a FIFO (reading it would wait forever), a directory, a file with a
/// Latin-1 byte from an old editor, one saved with a byte order mark, one whose section header is
/// indented; a bad byte and an indented header in the credentials file too. Each is refused with exit 2 and a message saying what is wrong where.
#[tokio::test]
async fn files_the_sdks_cannot_read_are_refused() {
    let account = emulator().new_account();
    let keys = Keys::unknown();
    let config = "[default]\noutput = json\n\n[profile mailer]\nregion = us-east-1\n";
    let home = || {
        Home::mailer_and_admin(
            &account,
            &keys.access_key_id,
            &keys.secret_access_key,
            config,
        )
    };

    #[cfg(unix)]
    {
        let h = home();
        std::fs::remove_file(h.config_file()).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(h.config_file())
            .status()
            .expect("mkfifo");
        assert!(made.success());
        assert_refused(&h, &account, &h.config_file(), "is a named pipe (FIFO)");
    }

    let h = home();
    std::fs::remove_file(h.config_file()).unwrap();
    std::fs::create_dir(h.config_file()).unwrap();
    assert_refused(&h, &account, &h.config_file(), "is a directory");

    // "café" saved as Latin-1: byte 0xE9 on line 2. botocore refuses such a file too.
    let h = home();
    std::fs::write(
        h.config_file(),
        b"[profile mailer]\n# caf\xE9 on the corner\nregion = us-east-1\n",
    )
    .unwrap();
    assert_refused(&h, &account, &h.config_file(), "byte 0xE9 on line 2");
    let boto = h.botocore(account.endpoint(), &[], Some("mailer"));
    assert!(
        boto.config_error
            .as_deref()
            .unwrap_or_default()
            .contains("UnicodeDecodeError"),
        "{boto:?}"
    );

    // Saved by Notepad as "UTF-8 with BOM": both SDKs see no section header on line 1.
    let h = home();
    std::fs::write(
        h.config_file(),
        "\u{FEFF}[profile mailer]\r\nregion = us-east-1\r\n",
    )
    .unwrap();
    assert_refused(&h, &account, &h.config_file(), "byte order mark");
    let boto = h.botocore(account.endpoint(), &[], Some("mailer"));
    assert!(
        boto.config_error
            .as_deref()
            .unwrap_or_default()
            .contains("MissingSectionHeaderError"),
        "{boto:?}"
    );
    h.sdks_disagree("both SDKs refuse a file with a BOM");

    let h = home();
    let mut bytes = std::fs::read(h.credentials_file()).unwrap();
    bytes.splice(0..0, b"# \xFF\xFE\n".iter().copied());
    std::fs::write(h.credentials_file(), bytes).unwrap();
    assert_refused(&h, &account, &h.credentials_file(), "byte 0xFF on line 1");

    // An indented header: both SDKs read it as part of the value above it, so the profile's
    // region silently lands in [default] (as botocore shows).
    let h = home();
    h.write_config("[default]\noutput = json\n  [profile mailer]\nregion = us-east-1\n");
    assert_refused(
        &h,
        &account,
        &h.config_file(),
        "line 3: the section header is indented",
    );
    let boto = h.botocore(account.endpoint(), &[], Some("mailer"));
    assert_eq!(boto.assert_parses().value("mailer", "region"), None);
    assert_eq!(
        boto.value("default", "region").as_deref(),
        Some("us-east-1")
    );

    let h = home();
    // The indented header's keys repeat the admin's: botocore refuses the file.
    h.sdks_disagree("botocore refuses the repeated keys of [admin]");
    h.write_credentials(&format!(
        "{}\t[mailer]\naws_access_key_id = {}\n",
        admin_section(&account),
        keys.access_key_id
    ));
    assert_refused(
        &h,
        &account,
        &h.credentials_file(),
        "line 4: the section header is indented",
    );
}

// ---------------------------------------------------------------------------
// 7. --write-profile names
// ---------------------------------------------------------------------------

/// A new key would be saved under `--write-profile NAME`; a name that would break the file (a
/// bracket, a line break, `=`) or that the SDKs would not find (spaces around it, empty) is
/// refused before anything happens: exit 2, and the credentials file is as it was.
#[tokio::test]
async fn write_profile_names_are_checked_before_anything_happens() {
    let account = emulator().new_account();
    let (keys, home) =
        sender_in_eu_west_1(&account, "[profile mailer]\nregion = eu-west-1\n").await;
    for name in ["a]b", "a[b", "a\nb", "a\rb", "a=b", " lead", "trail ", ""] {
        let before = snapshot(home.path());
        let out = diagnose_mailer(&home, &account, &keys)
            .args(["--yes", "--rotate-key", "--write-profile", name])
            .deadline(Duration::from_secs(20))
            .run();
        out.assert_code(2);
        assert_eq!(out.stdout, "", "nothing on stdout for {name:?}");
        assert!(
            out.stderr.contains("--write-profile"),
            "{name:?}: {}",
            out.stderr
        );
        assert_eq!(snapshot(home.path()), before, "{name:?}: nothing changed");
    }
    // Nothing happened in the account either: the mailer still has its one key.
    let listed = account
        .iam()
        .list_access_keys()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1);
}

// ---------------------------------------------------------------------------
// 8. The other divergences: each claim about botocore checked against botocore
// ---------------------------------------------------------------------------

/// AWS_REGION=eu-west-1 is set, AWS_DEFAULT_REGION is not, and the profile says us-east-1: the
/// Rust SDK sends to eu-west-1, botocore (which ignores AWS_REGION) to us-east-1.
#[tokio::test]
async fn aws_region_without_aws_default_region() {
    let account = emulator().new_account();
    let config = "[profile mailer]\nregion = us-east-1\n";
    let (keys, home) = sender_in_eu_west_1(&account, config).await;
    let credentials = read(&home.credentials_file());
    let report = diagnose_mailer(&home, &account, &keys)
        .env("AWS_REGION", "eu-west-1")
        .args(["--yes"])
        .run()
        .assert_code(0)
        .report();
    let f = divergence(&report, "AWS_REGION");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.evidence(RUST), "eu-west-1");
    assert_eq!(f.evidence(BOTOCORE), "us-east-1");
    assert!(f.fixes[0]
        .description
        .contains("AWS_DEFAULT_REGION=eu-west-1"));
    assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
    // A manual fix: even under --yes no file changes.
    assert_eq!(read(&home.config_file()), config);
    assert_eq!(read(&home.credentials_file()), credentials);
    let boto = home.botocore(
        account.endpoint(),
        &[("AWS_REGION", "eu-west-1")],
        Some("mailer"),
    );
    assert_eq!(boto.assert_parses().region.as_deref(), Some("us-east-1"));

    // The fix it gives, applied: botocore reads eu-west-1 and the divergence is gone.
    let both = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ];
    let boto = home.botocore(account.endpoint(), &both, Some("mailer"));
    assert_eq!(boto.region.as_deref(), Some("eu-west-1"));
    let mut cmd = diagnose_mailer(&home, &account, &keys);
    for (k, v) in both {
        cmd = cmd.env(k, v);
    }
    let report = cmd.run().assert_code(0).report();
    assert!(divergences(&report).is_empty(), "{:?}", report.codes());
}

/// AWS_PROFILE=mailer and a leftover AWS_DEFAULT_PROFILE=legacy: the Rust SDK uses `mailer`,
/// botocore `legacy` (with another key).
#[tokio::test]
async fn aws_default_profile_differs_from_aws_profile() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let legacy = account.create_user_with_key("legacy-mailer").await;
    let home = Home::new();
    home.write_credentials(&format!(
        "{}\n{}\n{}",
        profile_section("mailer", &keys.access_key_id, &keys.secret_access_key),
        profile_section("legacy", &legacy.access_key_id, &legacy.secret_access_key),
        admin_section(&account)
    ));
    home.write_config(
        "[profile mailer]\nregion = eu-west-1\n\n[profile legacy]\nregion = eu-west-1\n",
    );
    let vars = [("AWS_PROFILE", "mailer"), ("AWS_DEFAULT_PROFILE", "legacy")];
    let mut cmd = diagnose(
        &home,
        &account,
        &[&keys.secret_access_key, &legacy.secret_access_key],
    );
    for (k, v) in vars {
        cmd = cmd.env(k, v);
    }
    let report = cmd.run().assert_code(0).report();
    let f = divergence(&report, "AWS_DEFAULT_PROFILE=legacy");
    assert_eq!(f.evidence(RUST), "profile 'mailer'");
    assert_eq!(f.evidence(BOTOCORE), "profile 'legacy'");
    assert_eq!(
        f.fixes[0].command.as_deref(),
        Some("unset AWS_DEFAULT_PROFILE")
    );
    let sending = report.credentials.sending.as_ref().unwrap();
    assert_eq!(sending.profile.as_deref(), Some("mailer"));
    assert_eq!(
        sending.access_key_id.as_deref(),
        Some(keys.access_key_id.as_str())
    );

    let boto = home.botocore(account.endpoint(), &vars, None);
    assert_eq!(boto.assert_parses().profile, "legacy");
    assert_eq!(
        boto.credentials.as_ref().map(|c| c.access_key_id.as_str()),
        Some(legacy.access_key_id.as_str())
    );
}

/// `aws_secret_access_key = <secret> # rotated in March`: the Rust SDK cuts the comment off (the
/// key works: identity passes), botocore keeps it in the secret.
#[tokio::test]
async fn inline_comment_after_the_secret() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    home.write_credentials(&format!(
        "[mailer]\naws_access_key_id = {}\naws_secret_access_key = {} # rotated in March\n\n{}",
        keys.access_key_id,
        keys.secret_access_key,
        admin_section(&account)
    ));
    home.write_config("[profile mailer]\nregion = eu-west-1\n");
    let report = diagnose_mailer(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);
    let f = divergence(&report, "aws_secret_access_key in profile 'mailer'");
    let length = keys.secret_access_key.chars().count();
    let with_comment = length + " # rotated in March".len();
    assert_eq!(f.evidence(RUST), format!("{length} characters"));
    assert_eq!(
        f.evidence(BOTOCORE),
        format!("{with_comment} characters, the comment included")
    );
    assert_eq!(
        f.evidence("file"),
        format!("{} line 3", home.credentials_file().display())
    );

    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    let creds = boto.assert_parses().credentials.as_ref().unwrap();
    assert_eq!(creds.secret_length, with_comment);
    assert!(creds.secret_length > 40);
    assert_ne!(creds.secret_sha256, sha256_hex(&keys.secret_access_key));
}

/// The access key ID in the credentials file, its secret in the config file: the Rust SDK merges
/// the two files (identity passes), botocore raises PartialCredentialsError.
#[tokio::test]
async fn key_id_and_secret_in_different_files() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    home.write_credentials(&format!(
        "[mailer]\naws_access_key_id = {}\n\n{}",
        keys.access_key_id,
        admin_section(&account)
    ));
    home.write_config(&format!(
        "[profile mailer]\nregion = eu-west-1\naws_secret_access_key = {}\n",
        keys.secret_access_key
    ));
    let report = diagnose_mailer(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);
    let f = divergence(
        &report,
        "access key ID in one file and its secret in the other",
    );
    assert_eq!(f.evidence(BOTOCORE), "PartialCredentialsError");
    assert!(f.fixes[0]
        .description
        .contains(&home.credentials_file().display().to_string()));

    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    boto.assert_parses();
    assert!(boto.credentials.is_none());
    assert!(
        boto.credentials_error
            .as_deref()
            .unwrap_or_default()
            .contains("PartialCredentialsError"),
        "{boto:?}"
    );
}

/// `region` only in the credentials file. botocore merges the credentials file into its
/// profiles, so it reads that region as the Rust SDK does: there is no divergence to report.
#[tokio::test]
async fn region_only_in_the_credentials_file_is_read_by_both() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    home.write_credentials(&format!(
        "[mailer]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = eu-west-1\n\n{}",
        keys.access_key_id,
        keys.secret_access_key,
        admin_section(&account)
    ));
    home.write_config("[profile mailer]\noutput = json\n");
    let report = diagnose_mailer(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
    assert!(divergences(&report).is_empty(), "{:?}", report.codes());
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert_eq!(boto.assert_parses().region.as_deref(), Some("eu-west-1"));
}

/// `credential_process` in the config file and static keys in the credentials file: the Rust SDK
/// runs the process (which prints a second key of the mailer), botocore takes the static key.
#[cfg(unix)]
#[tokio::test]
async fn credential_process_and_static_keys() {
    use std::os::unix::fs::PermissionsExt;
    let account = emulator().new_account();
    let static_key = healthy_sender(&account, "mailer", "eu-west-1").await;
    let process_key = account.create_key("mailer").await;
    let home = Home::new();
    // The secret lives in the script file (mode 0700), never on a command line.
    let script = home.path().join("bin").join("mailer-credentials");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncat <<'EOF'\n{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}\nEOF\n",
            process_key.access_key_id, process_key.secret_access_key
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    home.write_credentials(&format!(
        "{}\n{}",
        profile_section(
            "mailer",
            &static_key.access_key_id,
            &static_key.secret_access_key
        ),
        admin_section(&account)
    ));
    home.write_config(&format!(
        "[profile mailer]\nregion = eu-west-1\ncredential_process = {}\n",
        script.display()
    ));
    let report = diagnose(
        &home,
        &account,
        &[
            &static_key.secret_access_key,
            &process_key.secret_access_key,
        ],
    )
    .args(["--profile", "mailer"])
    .run()
    .assert_code(0)
    .report();
    let f = divergence(&report, "credential_process");
    assert_eq!(f.evidence(RUST), "credential_process");
    assert_eq!(
        f.evidence(BOTOCORE),
        "the static keys of the credentials file"
    );
    // The Rust SDK really did use the process's key.
    assert_eq!(
        report
            .credentials
            .sending
            .as_ref()
            .unwrap()
            .access_key_id
            .as_deref(),
        Some(process_key.access_key_id.as_str())
    );
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);

    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    let creds = boto.assert_parses().credentials.as_ref().unwrap();
    assert_eq!(creds.method, "shared-credentials-file");
    assert_eq!(creds.access_key_id, static_key.access_key_id);
}

/// `AWS_SHARED_CREDENTIALS_FILE=~nobody/...`: botocore expands another user's `~`
/// (`os.path.expanduser`, in `botocore.configloader`), the Rust SDK only its own.
#[tokio::test]
async fn another_users_home_in_a_file_variable() {
    let account = emulator().new_account();
    let (keys, home) =
        sender_in_eu_west_1(&account, "[profile mailer]\nregion = eu-west-1\n").await;
    let report = diagnose_mailer(&home, &account, &keys)
        .env("AWS_CONFIG_FILE", "~nobody/.aws/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.credentials_file().to_str().unwrap(),
        )
        .run()
        .report();
    let f = divergence(&report, "AWS_CONFIG_FILE=~nobody/.aws/config");
    assert_eq!(f.evidence(RUST), "the relative path ~nobody/.aws/config");
    assert_eq!(f.evidence(BOTOCORE), "~nobody's home directory");
    // What botocore's configloader does with the value, asked of Python itself.
    let expanded = crate::cli::python_output(
        "import os,sys; print(os.path.expanduser(sys.stdin.read().strip()))",
        "~nobody/.aws/config",
    );
    assert!(!expanded.starts_with('~'), "{expanded}");
}
