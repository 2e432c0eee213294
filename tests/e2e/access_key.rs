//! Steps 4 and 5 end to end: keys activated, created, saved and proven; slots freed only with
//! consent; users created for root keys; interrupted rotations finished by a second run; the
//! credentials file safe under concurrent writers. No new secret is ever printed.

use crate::cli::{FixStatus, Home, Severity, StepId, StepStatus};
use crate::support::{emulator, Account, Keys};
use crate::worlds::{healthy_sender, FULL_ACCESS};
use std::time::{Duration, Instant};

const REGION_CONFIG: &str = "[profile mailer]\nregion = us-east-1\n";

/// A credentials file a person has: comments, other profiles, odd spacing, no final newline
/// after the last profile. Every byte of it but the mailer's two key lines must survive.
fn credentials_text(account: &Account, mailer_id: &str, mailer_secret: &str) -> String {
    format!(
        "# ~/.aws/credentials -- hand-written\n[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = notARealSecretButKeepItExactly0123456789\n\n[mailer]\n; the WordPress site\naws_access_key_id = {mailer_id}\naws_secret_access_key = {mailer_secret}\n\n[admin]\naws_access_key_id={}\naws_secret_access_key={}",
        account.admin.access_key_id, account.admin.secret_access_key
    )
}

fn home_with_text(text: &str) -> Home {
    let home = Home::new();
    home.write_credentials(text);
    home.write_config(REGION_CONFIG);
    home
}

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

fn new_keys_in(home: &Home, profile: &str) -> Keys {
    let text = std::fs::read_to_string(home.credentials_file()).unwrap();
    Keys {
        access_key_id: profile_value(&text, profile, "aws_access_key_id").unwrap(),
        secret_access_key: profile_value(&text, profile, "aws_secret_access_key").unwrap(),
    }
}

async fn key_states(account: &Account, user: &str) -> Vec<(String, String)> {
    let out = account
        .iam()
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<_> = out
        .access_key_metadata()
        .iter()
        .map(|m| {
            (
                m.access_key_id().unwrap().to_owned(),
                m.status().unwrap().as_str().to_owned(),
            )
        })
        .collect();
    keys.sort();
    keys
}

fn diagnose(home: &Home, account: &Account) -> crate::cli::SesDoctor {
    home.for_account(account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--profile",
            "mailer",
            "--admin-profile",
            "admin",
        ])
        .args(["--regions", "us-east-1,eu-west-1"])
        .secret(&account.admin.secret_access_key)
}

#[tokio::test]
async fn inactive_key_is_reactivated() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    account
        .set_key_active("mailer", &keys.access_key_id, false)
        .await;
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        REGION_CONFIG,
    );

    // Without --yes: proposed, not done.
    let report = diagnose(&home, &account)
        .secret(&keys.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("access-key-inactive");
    assert_eq!(f.fixes.len(), 1);
    assert_eq!(f.fixes[0].status, FixStatus::Proposed);
    assert_eq!(key_states(&account, "mailer").await[0].1, "Inactive");

    let report = diagnose(&home, &account)
        .args(["--yes"])
        .secret(&keys.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("access-key-inactive");
    assert!(f.resolved);
    assert_eq!(f.fixes[0].status, FixStatus::Applied);
    assert!(f
        .evidence("after the fix")
        .starts_with("AWS accepts the key"));
    // With the key working again, the rest of the flow ran.
    assert!(report.codes().contains(&"region-ok"));
    assert!(report.codes().contains(&"permission-granted"));
    assert_eq!(
        key_states(&account, "mailer").await,
        vec![(keys.access_key_id.clone(), "Active".into())]
    );

    let report = diagnose(&home, &account)
        .secret(&keys.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert!(report.codes().contains(&"credentials-valid"));
}

#[tokio::test]
async fn lost_secret_gets_a_new_key_saved_and_proven() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    let original = credentials_text(&account, &wrong.access_key_id, &wrong.secret_access_key);
    let home = home_with_text(&original);

    let out = diagnose(&home, &account)
        .args(["--yes"])
        .secret(&keys.secret_access_key)
        .secret(&wrong.secret_access_key)
        .run();
    let report = out.assert_code(0).report();
    let new = new_keys_in(&home, "mailer");
    assert_ne!(new.access_key_id, keys.access_key_id);
    out.assert_no_secret(&new.secret_access_key);

    // The fix, what it did, and its proof.
    let f = report.finding("signature-mismatch");
    assert!(f.resolved);
    assert_eq!(f.fixes.len(), 1);
    assert_eq!(f.fixes[0].status, FixStatus::Applied);
    assert!(f.evidence("new key").starts_with(&format!(
        "{} created for mailer, saved in profile 'mailer'",
        new.access_key_id
    )));
    assert!(f.evidence("new key").contains("credentials.ses-doctor.2"));
    assert!(f
        .evidence("accepted")
        .starts_with("AWS accepts the new key"));
    assert!(
        f.evidence("proven").starts_with("SES in us-east-1"),
        "{}",
        f.all_evidence()
    );
    assert!(f
        .evidence("SMTP")
        .contains(&format!("user name {}", new.access_key_id)));

    // Only the mailer's two key lines changed; the old file is kept next to the new one.
    let after = std::fs::read_to_string(home.credentials_file()).unwrap();
    let expected = original
        .replace(
            &format!("aws_access_key_id = {}\n", wrong.access_key_id),
            &format!("aws_access_key_id = {}\n", new.access_key_id),
        )
        .replace(
            &format!("aws_secret_access_key = {}\n", wrong.secret_access_key),
            &format!("aws_secret_access_key = {}\n", new.secret_access_key),
        );
    assert_eq!(after, expected);
    assert_eq!(
        std::fs::read_to_string(&home.backups("credentials")[0]).unwrap(),
        original
    );
    crate::cli::assert_private(&home.credentials_file());

    // The old key is still there and active: deactivated only with consent.
    let mut expected_keys = vec![
        (keys.access_key_id.clone(), "Active".to_owned()),
        (new.access_key_id.clone(), "Active".to_owned()),
    ];
    expected_keys.sort();
    assert_eq!(key_states(&account, "mailer").await, expected_keys);
    let spare = report.finding("access-key-unused");
    assert_eq!(spare.fixes[0].status, FixStatus::Proposed);
    assert!(spare.evidence("spare key").starts_with(&keys.access_key_id));

    // Second run: working; the spare key is still pointed out.
    let report = diagnose(&home, &account)
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert!(report.codes().contains(&"credentials-valid"));
    assert_eq!(
        report.finding("access-key-unused").severity,
        Severity::Warning
    );

    // With consent for it, the old key is deactivated, and then all is clean.
    let report = diagnose(&home, &account)
        .args(["--yes", "--deactivate-old-key"])
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert!(report.finding("access-key-unused").resolved);
    assert!(key_states(&account, "mailer")
        .await
        .contains(&(keys.access_key_id.clone(), "Inactive".to_owned())));
    let report = diagnose(&home, &account)
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert!(
        !report.codes().contains(&"access-key-unused"),
        "{:?}",
        report.codes()
    );
    assert_eq!(report.finding("access-key-ok").severity, Severity::Pass);
}

#[tokio::test]
async fn two_keys_already_needs_delete_old_key() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let spare = account.create_key("mailer").await;
    account
        .set_key_active("mailer", &spare.access_key_id, false)
        .await;
    let wrong = keys.with_wrong_secret();
    let original = credentials_text(&account, &wrong.access_key_id, &wrong.secret_access_key);
    let home = home_with_text(&original);

    // --yes alone never deletes: the run stops and says how to go on.
    let report = diagnose(&home, &account)
        .args(["--yes"])
        .secret(&spare.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    let limit = report.finding("access-key-limit");
    assert_eq!(limit.severity, Severity::Error);
    assert!(
        limit.explanation.contains("--delete-old-key"),
        "{}",
        limit.explanation
    );
    assert_eq!(limit.fixes[0].status, FixStatus::Proposed);
    assert!(
        limit.fixes[0].description.contains(&spare.access_key_id),
        "the inactive key is proposed"
    );
    assert!(report
        .finding("signature-mismatch")
        .evidence("blocked")
        .contains("two access keys"));
    assert_eq!(key_states(&account, "mailer").await.len(), 2);
    assert_eq!(
        std::fs::read_to_string(home.credentials_file()).unwrap(),
        original
    );

    // With the flag: the inactive key goes, the new one is made, saved and proven.
    let report = diagnose(&home, &account)
        .args(["--yes", "--delete-old-key"])
        .secret(&spare.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert!(report.finding("access-key-limit").resolved);
    let new = new_keys_in(&home, "mailer");
    let states = key_states(&account, "mailer").await;
    assert_eq!(states.len(), 2);
    assert!(
        states.iter().all(|(id, _)| *id != spare.access_key_id),
        "the spare key was deleted"
    );
    assert!(states.iter().any(|(id, _)| *id == new.access_key_id));
    assert!(
        states.iter().any(|(id, _)| *id == keys.access_key_id),
        "the key in the profile is never deleted"
    );
}

#[tokio::test]
async fn dry_run_creates_nothing() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    let original = credentials_text(&account, &wrong.access_key_id, &wrong.secret_access_key);
    let home = home_with_text(&original);
    let report = diagnose(&home, &account)
        .args(["--yes", "--dry-run"])
        .run()
        .assert_code(1)
        .report();
    assert_eq!(
        report.finding("signature-mismatch").fixes[0].status,
        FixStatus::Planned
    );
    assert_eq!(key_states(&account, "mailer").await.len(), 1);
    assert_eq!(
        std::fs::read_to_string(home.credentials_file()).unwrap(),
        original
    );
    assert!(home.backups("credentials").is_empty());
}

#[tokio::test]
async fn old_key_is_rotated_only_when_asked() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    account.set_key_age(&keys.access_key_id, 120, Some(1));
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        REGION_CONFIG,
    );

    let report = diagnose(&home, &account)
        .args(["--yes"])
        .secret(&keys.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("access-key-old");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.title.contains("120 days"), "{}", f.title);
    assert_eq!(
        f.fixes[0].status,
        FixStatus::Proposed,
        "a warning's fix needs --rotate-key under --yes"
    );
    assert_eq!(key_states(&account, "mailer").await.len(), 1);

    let out = diagnose(&home, &account)
        .args(["--yes", "--rotate-key"])
        .secret(&keys.secret_access_key)
        .run();
    let report = out.assert_code(0).report();
    let new = new_keys_in(&home, "mailer");
    out.assert_no_secret(&new.secret_access_key);
    assert_ne!(new.access_key_id, keys.access_key_id);
    assert!(report.finding("access-key-old").resolved);
    // The old key now is the spare one, left active until deactivation is agreed to.
    assert!(report
        .finding("access-key-unused")
        .evidence("spare key")
        .starts_with(&keys.access_key_id));
    diagnose(&home, &account)
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0);
}

#[tokio::test]
async fn pasted_key_needs_somewhere_to_save_the_new_one() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        REGION_CONFIG,
    );
    let pasted = |home: &Home| {
        home.for_account(&account)
            .args([
                "diagnose",
                "--output",
                "json",
                "--admin-profile",
                "admin",
                "--yes",
                "--region",
                "us-east-1",
                "--regions",
                "us-east-1",
            ])
            .args(["--access-key-id", &wrong.access_key_id])
            .stdin(&format!("{}\n", wrong.secret_access_key))
            .secret(&keys.secret_access_key)
    };
    // No profile to write and no --credentials-out: no key is created.
    let report = pasted(&home).run().assert_code(1).report();
    let fix = &report.finding("signature-mismatch").fixes[0];
    assert_eq!(fix.status, FixStatus::Proposed);
    assert!(
        fix.description.contains("--credentials-out"),
        "{}",
        fix.description
    );
    assert_eq!(key_states(&account, "mailer").await.len(), 1);

    let out_file = home.aws_dir().join("new-mailer-key.ini");
    let out = pasted(&home)
        .args(["--credentials-out", out_file.to_str().unwrap()])
        .run();
    out.assert_code(0);
    let text = std::fs::read_to_string(&out_file).unwrap();
    let new_id = profile_value(&text, "default", "aws_access_key_id").unwrap();
    let new_secret = profile_value(&text, "default", "aws_secret_access_key").unwrap();
    out.assert_no_secret(&new_secret);
    assert!(
        profile_value(&text, "default", "ses_smtp_password_us_east_1")
            .unwrap()
            .starts_with('B')
    );
    assert!(key_states(&account, "mailer")
        .await
        .iter()
        .any(|(id, _)| *id == new_id));
    crate::cli::assert_private(&out_file);
    // An existing file is never overwritten.
    let again = pasted(&home)
        .args(["--credentials-out", out_file.to_str().unwrap()])
        .run();
    again.assert_code(2);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.both()
    );
}

#[tokio::test]
async fn root_keys_are_replaced_by_a_new_iam_user() {
    let account = emulator().new_account();
    account
        .create_identity("us-east-1", "example.com", true)
        .await;
    account.set_ses_account("us-east-1", true, true);
    let original = format!(
        "[mailer]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        account.root.access_key_id, account.root.secret_access_key
    );
    let home = home_with_text(&original);
    let run = |home: &Home| {
        home.for_account(&account)
            .args([
                "diagnose",
                "--output",
                "json",
                "--profile",
                "mailer",
                "--regions",
                "us-east-1",
            ])
            .secret(&account.root.secret_access_key)
    };
    let out = run(&home).args(["--yes"]).run();
    let report = out.assert_code(0).report();
    let root = report.finding("root-credentials");
    assert!(root.resolved);
    // The mailer is off the root keys, but they still open the whole account until the root
    // user deletes them: the run says so instead of ending as if nothing were left.
    let still_active: Vec<_> = report
        .step(StepId::Identity)
        .findings
        .iter()
        .filter(|f| f.code == "root-credentials" && !f.resolved)
        .collect();
    assert_eq!(still_active.len(), 1, "{:?}", report.codes());
    assert_eq!(still_active[0].severity, Severity::Warning);
    assert!(
        still_active[0].title.contains(&account.root.access_key_id),
        "{}",
        still_active[0].title
    );
    assert_eq!(report.summary.warnings, 1);
    let user = report.finding("iam-user-missing");
    assert!(user.resolved);
    assert_eq!(user.fixes[0].status, FixStatus::Applied);
    // Where the new key went, said in the fix: the profile that held the root keys.
    assert!(
        user.fixes[0]
            .description
            .contains("profile 'mailer' in place of the root user's keys"),
        "{}",
        user.fixes[0].description
    );
    assert_eq!(report.step(StepId::IamUser).status, StepStatus::Passed);
    let new = new_keys_in(&home, "mailer");
    out.assert_no_secret(&new.secret_access_key);
    // The user exists, may send, and owns the key now in the profile.
    // Send-only, on the account's identities (the region is not known when the user is made).
    let policy = account
        .iam()
        .get_user_policy()
        .user_name("ses-sender")
        .policy_name("ses-doctor-send")
        .send()
        .await
        .unwrap();
    let document = crate::permissions::percent_decode(policy.policy_document());
    assert!(
        document.contains(&format!("arn:aws:ses:*:{}:identity/*", account.id)),
        "{document}"
    );
    assert!(!document.contains("\"Resource\":\"*\""), "{document}");
    assert_eq!(
        key_states(&account, "ses-sender").await,
        vec![(new.access_key_id.clone(), "Active".into())]
    );
    // The root keys are kept in the backup, not lost.
    assert_eq!(
        std::fs::read_to_string(&home.backups("credentials")[0]).unwrap(),
        original
    );

    let report = run(&home)
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(
        report.finding("credentials-valid").evidence("caller"),
        account.user_arn("ses-sender")
    );

    // Another home with the root keys: the user exists now, and is not taken over unasked.
    let other = home_with_text(&original);
    let report = run(&other).args(["--yes"]).run().assert_code(1).report();
    let f = report.finding("iam-user-missing");
    assert!(!f.resolved);
    assert!(
        f.fixes[0].description.contains("--reuse-user"),
        "{}",
        f.fixes[0].description
    );
    assert_eq!(
        std::fs::read_to_string(other.credentials_file()).unwrap(),
        original
    );
    let report = run(&other)
        .args(["--yes", "--reuse-user"])
        .run()
        .assert_code(0)
        .report();
    assert!(report.finding("iam-user-missing").resolved);
    assert_eq!(key_states(&account, "ses-sender").await.len(), 2);
}

#[tokio::test]
async fn interrupted_rotation_is_finished_by_a_second_run() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    let original = credentials_text(&account, &wrong.access_key_id, &wrong.secret_access_key);
    let home = home_with_text(&original);
    // New keys take 6 s to be accepted: the run saves the key, then waits for AWS.
    account.set_propagation_delay(6);

    let running = diagnose(&home, &account)
        .args(["--yes"])
        .secret(&keys.secret_access_key)
        .spawn();
    let start = Instant::now();
    let new = loop {
        let text = std::fs::read_to_string(home.credentials_file()).unwrap();
        if profile_value(&text, "mailer", "aws_access_key_id").as_deref()
            != Some(wrong.access_key_id.as_str())
        {
            break new_keys_in(&home, "mailer");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the new key was never saved"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Killed right after the key was created and saved, before AWS accepted it.
    let killed = running.kill();
    killed.assert_no_secret(&new.secret_access_key);

    // The file is whole: the new key in the mailer's profile, everything else as it was.
    let after = std::fs::read_to_string(home.credentials_file()).unwrap();
    assert_eq!(
        profile_value(&after, "admin", "aws_access_key_id").unwrap(),
        account.admin.access_key_id
    );
    assert_eq!(
        profile_value(&after, "default", "aws_secret_access_key").unwrap(),
        "notARealSecretButKeepItExactly0123456789"
    );
    assert!(after.starts_with("# ~/.aws/credentials -- hand-written\n"));

    // A second run finds the saved key, waits for AWS to accept it, and retires the old one.
    let report = diagnose(&home, &account)
        .args(["--yes", "--deactivate-old-key"])
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    let valid = report.finding("credentials-valid");
    assert!(valid.evidence("caller").ends_with("user/mailer"));
    // It waited for IAM rather than calling the new key unknown.
    assert!(
        valid.evidence("accepted after").contains("the key is new"),
        "{}",
        valid.all_evidence()
    );
    assert!(report.finding("access-key-unused").resolved);
    let mut expected = vec![
        (keys.access_key_id.clone(), "Inactive".to_owned()),
        (new.access_key_id.clone(), "Active".to_owned()),
    ];
    expected.sort();
    assert_eq!(key_states(&account, "mailer").await, expected);
    account.set_propagation_delay(0);
    diagnose(&home, &account)
        .secret(&new.secret_access_key)
        .run()
        .assert_code(0);
}

#[tokio::test]
async fn concurrent_rotations_do_not_corrupt_the_credentials_file() {
    let account = emulator().new_account();
    let users = ["u1", "u2", "u3", "u4"];
    let mut text = String::from("# shared by four mailers\n");
    let mut olds = Vec::new();
    for user in users {
        let keys = account.create_user_with_key(user).await;
        account.attach_policy(user, FULL_ACCESS).await;
        let wrong = keys.with_wrong_secret();
        text.push_str(&format!(
            "[{user}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
            wrong.access_key_id, wrong.secret_access_key
        ));
        olds.push(keys);
    }
    text.push_str(&format!(
        "[admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        account.admin.access_key_id, account.admin.secret_access_key
    ));
    account
        .create_identity("us-east-1", "example.com", true)
        .await;
    let home = Home::new();
    home.write_credentials(&text);
    home.write_config("");

    let running: Vec<_> = users
        .iter()
        .map(|user| {
            home.for_account(&account)
                .args([
                    "diagnose",
                    "--output",
                    "json",
                    "--profile",
                    user,
                    "--admin-profile",
                    "admin",
                ])
                .args(["--region", "us-east-1", "--regions", "us-east-1", "--yes"])
                .spawn()
        })
        .collect();
    for r in running {
        r.wait().assert_code(0);
    }
    let after = std::fs::read_to_string(home.credentials_file()).unwrap();
    assert!(after.starts_with("# shared by four mailers\n"));
    assert_eq!(
        profile_value(&after, "admin", "aws_secret_access_key").unwrap(),
        account.admin.secret_access_key
    );
    for (user, old) in users.iter().zip(&olds) {
        let id = profile_value(&after, user, "aws_access_key_id").unwrap();
        assert_ne!(id, old.access_key_id, "{user}'s new key was lost");
        // Each saved key is the one IAM made for that user.
        assert!(
            key_states(&account, user)
                .await
                .iter()
                .any(|(k, _)| *k == id),
            "{user}"
        );
    }
    // Every profile works.
    for user in users {
        home.for_account(&account)
            .args([
                "diagnose",
                "--output",
                "json",
                "--profile",
                user,
                "--region",
                "us-east-1",
                "--regions",
                "us-east-1",
            ])
            .run()
            .assert_code(0);
    }
}

#[tokio::test]
async fn a_new_key_lands_in_place_of_upper_case_keys_and_stale_tokens() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    account.set_key_age(&keys.access_key_id, 120, Some(1));
    let home = Home::mailer_and_admin(
        &account,
        &keys.access_key_id,
        &keys.secret_access_key,
        REGION_CONFIG,
    );
    // The profile the new key goes to was written by hand, in upper case, and still holds the
    // temporary credentials of last year, token lines included (the legacy spelling too).
    let mut text = std::fs::read_to_string(home.credentials_file()).unwrap();
    text.push_str("\n[shop]\r\nAWS_ACCESS_KEY_ID = ASIAQWERTYUIOPASDFGH\r\nAWS_SECRET_ACCESS_KEY = notARealSecretButKeepItExactly0123456789\r\nAws_Session_Token = IQoJb3JpZ2luX2VjEOr//////////old\r\naws_security_token = IQoJb3JpZ2luX2VjEOr//////////old\r\n");
    home.write_credentials(&text);
    let out = diagnose(&home, &account)
        .args(["--yes", "--rotate-key", "--write-profile", "shop"])
        .secret(&keys.secret_access_key)
        .secret("IQoJb3JpZ2luX2VjEOr//////////old")
        .run();
    out.assert_code(0);
    let after = std::fs::read_to_string(home.credentials_file()).unwrap();
    let new_id = after
        .lines()
        .skip_while(|l| *l != "[shop]")
        .find_map(|l| l.strip_prefix("AWS_ACCESS_KEY_ID = "))
        .unwrap()
        .trim_end()
        .to_owned();
    assert!(
        new_id.starts_with("AKIA") && new_id != keys.access_key_id,
        "{new_id}"
    );
    let section = &after[after.find("[shop]").unwrap()..];
    assert!(!section.to_lowercase().contains("token"), "{section}");
    assert_eq!(section.matches("\r\n").count(), 3, "{section:?}");
    assert_eq!(
        after[..after.find("[shop]").unwrap()],
        text[..text.find("[shop]").unwrap()]
    );
    // The old key is the mailer profile's: it is in use, not a spare to retire.
    let report = out.report();
    let f = report.finding("access-key-unused");
    assert_eq!(f.severity, Severity::Info);
    assert!(f.evidence("held by").starts_with("profile 'mailer'"));
}
