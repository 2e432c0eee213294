//! Nothing lost on any path of a key creation: a second save that fails late (a full disk) puts
//! everything back; a run SIGKILLed at any point between the decision to create a key and its
//! last save leaves files that parse, every other profile byte-identical, and a journal the next
//! `--yes` run completes, ending with exit 0, a working profile and no orphan key in IAM.

use crate::cli::{FixStatus, Home, Output, SesDoctor};
use crate::support::{emulator, Account, Keys};
use crate::worlds::healthy_sender;
use std::path::Path;
use std::time::Duration;

/// The points `SES_DOCTOR_TEST_KILL_AT` can name (src/failpoint.rs).
const KILL_POINTS: &[&str] = &[
    "before-create-key",
    "after-create-key",
    "before-rename",
    "after-save-profile",
    "after-save",
    "after-journal-cleared",
];

#[derive(Clone, Copy, Debug)]
enum World {
    /// The mailer's key works but is 120 days old: `--rotate-key` replaces it.
    Rotation,
    /// The mailer's profile holds its key with a wrong secret: the repair makes a new key.
    LostSecret,
}

struct Setup {
    account: Account,
    home: Home,
    keys: Keys,
    /// The credentials file as the person wrote it.
    original: String,
}

/// The other profiles a person has next to the mailer's, which must come through every kill
/// byte for byte (upper-case keys, a comment, CRLF in one of them).
const NEIGHBOURS: &str = "# keep\r\n[site2]\r\nAWS_ACCESS_KEY_ID = AKIAQWERTYUIOPASDFGH\r\naws_secret_access_key = notARealSecretButKeepItExactly0123456789\r\n";

async fn world(kind: World) -> Setup {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let in_profile = match kind {
        World::Rotation => {
            account.set_key_age(&keys.access_key_id, 120, Some(1));
            keys.clone()
        }
        World::LostSecret => keys.with_wrong_secret(),
    };
    let home = Home::new();
    let original = format!(
        "{NEIGHBOURS}\n[mailer]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        in_profile.access_key_id, in_profile.secret_access_key
    );
    home.write_credentials(&original);
    // The admin's keys live in the config file, as some people keep them.
    home.write_config(&format!(
        "[profile mailer]\nregion = us-east-1\n\n[profile admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        account.admin.access_key_id, account.admin.secret_access_key
    ));
    Setup {
        account,
        home,
        keys,
        original,
    }
}

/// `diagnose --yes` as admin; with `--rotate-key` in a rotation world's first run.
fn diagnose(s: &Setup, kind: Option<World>) -> SesDoctor {
    let cmd = s
        .home
        .for_account(&s.account)
        .args(["diagnose", "--output", "json", "--yes"])
        .args(["--profile", "mailer", "--admin-profile", "admin"])
        .args(["--regions", "us-east-1"])
        .secret(&s.account.admin.secret_access_key)
        .secret(&s.keys.secret_access_key)
        .deadline(Duration::from_secs(120));
    match kind {
        Some(World::Rotation) => cmd.args(["--rotate-key"]),
        _ => cmd,
    }
}

async fn key_ids(account: &Account) -> Vec<String> {
    let out = account
        .iam()
        .list_access_keys()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = out
        .access_key_metadata()
        .iter()
        .map(|k| k.access_key_id().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The key ID the mailer's profile holds now.
fn profile_key(home: &Home) -> String {
    let text = std::fs::read_to_string(home.credentials_file()).unwrap();
    let section = &text[text.find("[mailer]").expect("the mailer's section")..];
    section
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .expect("a key in the mailer's profile")
        .to_owned()
}

/// What a kill may never break: the neighbours are byte-identical, no temporary file or journal
/// outlives the completing run, and every key of the user is the one the profile holds or the
/// one the world began with (whose secret the person has, or had): no orphan.
async fn assert_whole(s: &Setup, when: &str) {
    let text = std::fs::read_to_string(s.home.credentials_file()).unwrap();
    assert!(
        text.starts_with(NEIGHBOURS),
        "{when}: the neighbouring profiles changed:\n{text}"
    );
    let ids = key_ids(&s.account).await;
    let held = profile_key(&s.home);
    for id in &ids {
        assert!(
            *id == held || *id == s.keys.access_key_id,
            "{when}: key {id} is held by no one (keys {ids:?}, profile {held})"
        );
    }
    let leftovers: Vec<String> = std::fs::read_dir(s.home.aws_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp") || n.ends_with(".journal") || n.ends_with(".new"))
        .collect();
    assert!(leftovers.is_empty(), "{when}: left behind: {leftovers:?}");
}

/// Runs the next `--yes` run after a kill: it must end clean.
async fn next_run_completes(s: &Setup, when: &str) -> Output {
    let out = diagnose(s, None).spawn().wait();
    assert_eq!(out.code, 0, "{when}: the next --yes run\n{}", out.both());
    for secret in secrets_in_files(&s.home) {
        out.assert_no_secret(&secret);
    }
    assert_whole(s, when).await;
    out
}

/// Every secret now in the home's credentials file (new keys included).
fn secrets_in_files(home: &Home) -> Vec<String> {
    std::fs::read_to_string(home.credentials_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .map(|s| s.trim().to_owned())
        .collect()
}

async fn killed_at_each_point(kind: World) {
    for point in KILL_POINTS {
        let s = world(kind).await;
        let when = format!("{kind:?}, killed at {point}");
        let out = diagnose(&s, Some(kind))
            .env("SES_DOCTOR_TEST_KILL_AT", point)
            .spawn()
            .wait_or_killed();
        assert_eq!(
            out.code,
            -9,
            "{when}: the run was not killed\n{}",
            out.both()
        );
        for secret in secrets_in_files(&s.home) {
            out.assert_no_secret(&secret);
        }
        let report = next_run_completes(&s, &when).await.report();
        let interrupted = report
            .steps
            .iter()
            .flat_map(|st| st.findings.iter())
            .find(|f| f.code == "run-interrupted");
        // A kill after the journal was written and before it was cleared is completed.
        let journaled = !matches!(*point, "after-journal-cleared");
        assert_eq!(
            interrupted.is_some(),
            journaled,
            "{when}: codes {:?}",
            report.codes()
        );
        if let Some(f) = interrupted {
            assert!(f.resolved, "{when}: {}", f.all_evidence());
            assert_eq!(f.fixes[0].status, FixStatus::Applied);
            // What completing it meant, by where the kill fell.
            let plan = &f.fixes[0].description;
            let expected = match *point {
                "before-create-key" => None,
                "after-create-key" => Some("delete "),
                "before-rename" => Some("from the temporary file it was left in"),
                _ => Some("(it was saved)"),
            };
            if let Some(words) = expected {
                assert!(plan.contains(words), "{when}: {plan}");
            }
        }
        if matches!(kind, World::Rotation) {
            let saved = !matches!(*point, "before-create-key" | "after-create-key");
            assert_eq!(
                profile_key(&s.home) != s.keys.access_key_id,
                saved,
                "{when}: the profile holds the new key exactly when it had been saved"
            );
        }
        // And the run after that is clean too.
        let again = diagnose(&s, None).run();
        assert_eq!(again.code, 0, "{when}: third run\n{}", again.both());
    }
}

#[tokio::test]
async fn a_rotation_killed_anywhere_is_completed_by_the_next_run() {
    killed_at_each_point(World::Rotation).await;
}

#[tokio::test]
async fn a_lost_secret_repair_killed_anywhere_is_completed_by_the_next_run() {
    killed_at_each_point(World::LostSecret).await;
}

#[tokio::test]
async fn rotations_killed_at_random_times() {
    // A bounded loop: a kill at a different moment of a rotation each time, on one world whose
    // keys keep rotating; after each, the next run completes and nothing is lost.
    let s = world(World::Rotation).await;
    for (i, delay_ms) in [40u64, 90, 150, 220, 300, 420, 600, 850].iter().enumerate() {
        let when = format!("kill {i} after {delay_ms} ms");
        let running = diagnose(&s, Some(World::Rotation)).spawn();
        std::thread::sleep(Duration::from_millis(*delay_ms));
        let out = running.kill();
        for secret in secrets_in_files(&s.home) {
            out.assert_no_secret(&secret);
        }
        next_run_completes(&s, &when).await;
        // Age the key in the profile again so that the next rotation is due.
        s.account.set_key_age(&profile_key(&s.home), 120, Some(1));
    }
}

/// `unshare -m`: the command in a mount namespace of its own where `dir` is a full tmpfs (a full
/// disk for that directory only).
fn on_a_full_disk(cmd: SesDoctor, dir: &Path) -> Output {
    let inner = cmd.into_command();
    let mut outer = std::process::Command::new("unshare");
    outer.args(["-m", "sh", "-c"]).arg(format!(
        "mount -t tmpfs -o size=4k tmpfs '{0}' && dd if=/dev/zero of='{0}/fill' bs=1k count=8 2>/dev/null; exec \"$0\" \"$@\"",
        dir.display()
    ));
    outer.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => outer.env(k, v),
            None => outer.env_remove(k),
        };
    }
    let out = outer
        .stdin(std::process::Stdio::null())
        .output()
        .expect("unshare runs (root, util-linux)");
    Output {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

async fn second_save_fails(kind: World) {
    let s = world(kind).await;
    let full = s.home.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let before_ids = key_ids(&s.account).await;
    let out = on_a_full_disk(
        diagnose(&s, Some(kind))
            .args(["--credentials-out", full.join("new-key").to_str().unwrap()]),
        &full,
    );
    out.assert_no_secret(&s.keys.secret_access_key);
    out.assert_no_secret(&s.account.admin.secret_access_key);
    // Not clean: the fix did not complete.
    assert_eq!(out.code, 1, "{kind:?}\n{}", out.both());
    let report = out.report();
    let f = report
        .steps
        .iter()
        .flat_map(|st| st.findings.iter())
        .find(|f| {
            f.fixes
                .iter()
                .any(|x| x.status == FixStatus::Failed && x.description.contains("new access key"))
        })
        .unwrap_or_else(|| panic!("{kind:?}: a failed key fix: {:?}", report.codes()));
    let state = f.evidence("state");
    assert!(
        state.contains("it was deleted again and every file is as it was"),
        "{kind:?}: {state}"
    );
    // Every target is as it was, and IAM holds no key more.
    assert_eq!(
        std::fs::read_to_string(s.home.credentials_file()).unwrap(),
        s.original
    );
    assert!(!full.join("new-key").exists());
    assert_eq!(key_ids(&s.account).await, before_ids);
    assert!(
        !s.home
            .aws_dir()
            .join("credentials.ses-doctor.mailer.journal")
            .exists(),
        "the journal goes once the key is deleted"
    );
}

#[tokio::test]
async fn a_rotation_whose_second_save_fails_puts_everything_back() {
    second_save_fails(World::Rotation).await;
}

#[tokio::test]
async fn a_repair_whose_second_save_fails_puts_everything_back() {
    second_save_fails(World::LostSecret).await;
}
