//! Step 2 end to end: the region scan against the emulator, each test in a world of its own, and
//! the region fix written into the profile with every other byte of the file unchanged.

use crate::cli::{profile_section, FixKind, FixStatus, Home, Severity, StepId, StepStatus};
use crate::support::{emulator, Account, Keys};
use crate::worlds::{healthy_sender, DOMAIN, FULL_ACCESS};
use std::time::Duration;

/// A config file with neighbours, comments and odd spacing that a fix must leave alone.
const CONFIG: &str = "# Work profiles -- do not reorder\n[default]\nregion = us-west-2\noutput = json\n\n[profile mailer]\n# the WordPress site\nregion   =   us-east-1\ncli_pager =\n\n[profile other]\nregion = ap-southeast-2 ; keep\n";

/// `mailer` sends; `admin` inspects. Sending region: us-east-1 (from the profile).
fn home_for(account: &Account, keys: &Keys) -> Home {
    let home = Home::mailer_and_admin(
        account,
        &keys.access_key_id,
        &keys.secret_access_key,
        CONFIG,
    );
    home.sdks_disagree("`region = ap-southeast-2 ; keep`: botocore keeps the comment in the value");
    home
}

fn diagnose(home: &Home, account: &Account, keys: &Keys) -> crate::cli::SesDoctor {
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
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key)
}

/// A sender whose identities are verified only in eu-west-1 while the mailer uses us-east-1.
async fn identities_elsewhere(account: &Account) -> Keys {
    let keys = healthy_sender(account, "mailer", "eu-west-1").await;
    // A pending identity in the configured region does not make it usable.
    account
        .create_identity("us-east-1", "noreply@example.com", false)
        .await;
    keys
}

#[tokio::test]
async fn identities_only_in_another_region_then_fixed_with_yes() {
    let account = emulator().new_account();
    let keys = identities_elsewhere(&account).await;
    let home = home_for(&account, &keys);

    // Without a terminal and without --yes: the finding, the fix proposed, nothing changed.
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("region-mismatch");
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.title.contains("us-east-1") && f.title.contains("eu-west-1"),
        "{}",
        f.title
    );
    assert!(
        f.explanation.contains("\"Europe (Ireland) eu-west-1\""),
        "{}",
        f.explanation
    );
    assert!(f.evidence("best region").starts_with("eu-west-1"));
    assert_eq!(
        f.evidence("SMTP server"),
        "email-smtp.eu-west-1.amazonaws.com"
    );
    assert!(f.explanation.contains("smtp-password --region eu-west-1"));
    let fix = &f.fixes[0];
    assert_eq!(
        (fix.kind, fix.status),
        (FixKind::Automatic, FixStatus::Proposed)
    );
    assert_eq!(
        fix.command.as_deref(),
        Some("aws configure set region eu-west-1 --profile mailer")
    );
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), CONFIG);
    // The permission step checks the region the mail should go through.
    assert_eq!(report.step(StepId::Permissions).status, StepStatus::Passed);

    // --yes: the region is written into the profile, and only that value changes.
    let report = diagnose(&home, &account, &keys)
        .args(["--yes"])
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("region-mismatch");
    assert!(f.resolved);
    assert_eq!(f.fixes[0].status, FixStatus::Applied);
    assert_eq!(report.summary.fixes_applied, 1);
    let after = std::fs::read_to_string(home.config_file()).unwrap();
    assert_eq!(
        after,
        CONFIG.replace("region   =   us-east-1\n", "region   =   eu-west-1\n")
    );
    // The previous file is kept next to it.
    let backups = home.backups("config");
    assert_eq!(backups.len(), 1, "{backups:?}");
    let backup = &backups[0];
    assert_eq!(std::fs::read_to_string(backup).unwrap(), CONFIG);

    // A second run is clean.
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    assert_eq!(report.region.as_ref().unwrap().name, "eu-west-1");
    assert_eq!(report.finding("region-ok").severity, Severity::Pass);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let account = emulator().new_account();
    let keys = identities_elsewhere(&account).await;
    // And no permission: both fixes are planned, neither is made.
    account
        .iam()
        .detach_user_policy()
        .user_name("mailer")
        .policy_arn(FULL_ACCESS)
        .send()
        .await
        .unwrap();
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys)
        .args(["--dry-run", "--yes"])
        .run()
        .assert_code(1)
        .report();
    assert_eq!(
        report.finding("region-mismatch").fixes[0].status,
        FixStatus::Planned
    );
    assert_eq!(
        report.finding("permission-missing").fixes[0].status,
        FixStatus::Planned
    );
    assert_eq!(report.summary.fixes_applied, 0);
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), CONFIG);
    assert!(home.backups("config").is_empty());
    let attached = account
        .iam()
        .list_attached_user_policies()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
}

#[tokio::test]
async fn environment_region_gets_a_manual_fix() {
    let account = emulator().new_account();
    let keys = identities_elsewhere(&account).await;
    let home = home_for(&account, &keys);
    // AWS_REGION overrides the profile: writing the profile would change nothing.
    let report = diagnose(&home, &account, &keys)
        .env("AWS_REGION", "us-east-1")
        .args(["--yes"])
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("region-mismatch");
    assert_eq!(f.fixes[0].kind, FixKind::Manual);
    assert!(
        f.fixes[0].description.contains("AWS_REGION=eu-west-1"),
        "{}",
        f.fixes[0].description
    );
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), CONFIG);
}

#[tokio::test]
async fn pasted_credentials_get_what_to_select_in_the_mailer() {
    let account = emulator().new_account();
    let keys = identities_elsewhere(&account).await;
    let home = home_for(&account, &keys);
    let report = home
        .for_account(&account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--region",
            "us-east-1",
            "--yes",
        ])
        .args(["--access-key-id", &keys.access_key_id])
        .stdin(&format!("{}\n", keys.secret_access_key))
        .secret(&keys.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    let fix = &report.finding("region-mismatch").fixes[0];
    assert_eq!(fix.kind, FixKind::Manual);
    assert_eq!(
        fix.description,
        "In the mailer's settings, select the region \"Europe (Ireland)\" (eu-west-1)"
    );
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), CONFIG);
}

#[tokio::test]
async fn no_identities_anywhere() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.attach_policy("mailer", FULL_ACCESS).await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("identity-unverified");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.title.contains("No SES identity exists"), "{}", f.title);
    assert!(f.fixes[0]
        .command
        .as_deref()
        .unwrap()
        .contains("create-email-identity"));
    assert!(!report.codes().contains(&"region-mismatch"));
}

#[tokio::test]
async fn pending_identity_is_not_usable() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.attach_policy("mailer", FULL_ACCESS).await;
    account.create_identity("us-east-1", DOMAIN, false).await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("identity-unverified");
    assert!(
        f.title.contains("No SES identity is verified"),
        "{}",
        f.title
    );
    assert!(
        f.all_evidence()
            .contains("example.com in us-east-1: pending"),
        "{}",
        f.all_evidence()
    );
}

#[tokio::test]
async fn opt_in_region_not_enabled() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = home_for(&account, &keys);
    // The mailer is set to Cape Town, which this account never enabled.
    let report = diagnose(&home, &account, &keys)
        .args(["--region", "af-south-1"])
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("region-not-enabled");
    assert_eq!(f.evidence("region"), "af-south-1");
    assert!(f.fixes[0]
        .command
        .as_deref()
        .unwrap()
        .contains("enable-region --region-name af-south-1"));
    assert!(report.codes().contains(&"region-mismatch"));
    assert!(report
        .finding("region-mismatch")
        .evidence("scanned")
        .contains("opt-in not enabled"));

    // Enabled, with an identity there: the region is fine.
    account.set_region_enabled("af-south-1", true);
    account.create_identity("af-south-1", DOMAIN, true).await;
    account.set_ses_account("af-south-1", true, true);
    let report = diagnose(&home, &account, &keys)
        .args(["--region", "af-south-1"])
        .run()
        .assert_code(0)
        .report();
    assert!(report.codes().contains(&"region-ok"));
}

#[tokio::test]
async fn sandbox_and_paused_sending() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    account.set_ses_account("us-east-1", false, true);
    let home = home_for(&account, &keys);
    // The sandbox is a warning: the simulator and verified recipients still work.
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("ses-sandbox");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.explanation.contains("200 messages in 24 hours"));
    assert_eq!(f.evidence("quota"), "200 a day, 1/s");

    account.set_ses_account("us-east-1", true, false);
    let report = diagnose(&home, &account, &keys)
        .run()
        .assert_code(1)
        .report();
    assert_eq!(
        report.finding("ses-sending-paused").severity,
        Severity::Error
    );
    assert!(!report.codes().contains(&"ses-sandbox"));
}

#[tokio::test]
async fn unverified_sender_address() {
    let account = emulator().new_account();
    let keys = account.create_user_with_key("mailer").await;
    account.attach_policy("mailer", FULL_ACCESS).await;
    account
        .create_identity("us-east-1", "alice@example.com", true)
        .await;
    account.set_ses_account("us-east-1", true, true);
    let home = home_for(&account, &keys);
    // alice@ is verified; the mailer sends as bob@, which is not (and example.com is not).
    let report = diagnose(&home, &account, &keys)
        .args(["--from", "bob@example.com"])
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("identity-unverified");
    assert!(f.title.contains("bob@example.com"), "{}", f.title);
    assert!(
        f.all_evidence()
            .contains("alice@example.com in us-east-1: success"),
        "{}",
        f.all_evidence()
    );
    // alice@ herself is fine.
    diagnose(&home, &account, &keys)
        .args(["--from", "alice@example.com"])
        .run()
        .assert_code(0);
    // A verified domain covers its subdomains' addresses.
    account.create_identity("us-east-1", DOMAIN, true).await;
    diagnose(&home, &account, &keys)
        .args(["--from", "bob@mail.example.com"])
        .run()
        .assert_code(0);
}

#[tokio::test]
async fn hanging_region_costs_only_its_timeout() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    account.set_region_hang("ap-south-1", 600);
    let home = home_for(&account, &keys);
    // The whole scan, with one region that would hang for ten minutes.
    let out = diagnose(&home, &account, &keys)
        .args(["--timeout", "3"])
        .deadline(Duration::from_secs(90))
        .run();
    let report = out.assert_code(0).report();
    let f = report.finding("endpoint-unreachable");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.evidence("region"), "ap-south-1");
    // Given up on at the timeout, or sooner: 2 s after the other regions had all answered
    // (region::STRAGGLER_GRACE; faults::a_silent_region_does_not_hold_the_diagnosis_for_the_timeout).
    let said = f.evidence("error");
    assert!(
        said == "no answer within 3 s" || said.contains("the other regions answered within"),
        "{said}"
    );
    assert!(report.codes().contains(&"region-ok"));
    account.set_region_hang("ap-south-1", 0);
}

#[tokio::test]
async fn configured_region_hanging_makes_the_diagnosis_incomplete() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    account.set_region_hang("eu-west-1", 600);
    let home = home_for(&account, &keys);
    let out = diagnose(&home, &account, &keys)
        .args([
            "--region",
            "eu-west-1",
            "--regions",
            "eu-west-1,us-east-1",
            "--timeout",
            "2",
        ])
        .deadline(Duration::from_secs(90))
        .run();
    let report = out.assert_code(3).report();
    assert_eq!(report.step(StepId::Region).status, StepStatus::Incomplete);
    account.set_region_hang("eu-west-1", 0);
}

#[test]
fn regions_flag_is_validated() {
    let home = Home::new();
    let out = home
        .command("http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAQWERTYUIOPASDFGH")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .args(["diagnose", "--regions", "eu-west-1,ap-east-1"])
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("not offered in ap-east-1"),
        "{}",
        out.both()
    );
}

#[tokio::test]
async fn region_kept_in_the_credentials_file_is_fixed_there() {
    let account = emulator().new_account();
    let keys = identities_elsewhere(&account).await;
    let home = Home::new();
    let credentials =
        format!(
        "[mailer]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = us-east-1\n\n{}",
        keys.access_key_id,
        keys.secret_access_key,
        profile_section("admin", &account.admin.access_key_id, &account.admin.secret_access_key)
    );
    home.write_credentials(&credentials);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            home.credentials_file(),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    home.write_config("[default]\noutput = json\n");
    // Both SDKs read the credentials file's region over the config file's (botocore merges the
    // credentials file into its profiles): the fix goes where the region is.
    let before = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert_eq!(before.assert_parses().region.as_deref(), Some("us-east-1"));
    diagnose(&home, &account, &keys)
        .args(["--yes"])
        .run()
        .assert_code(0);
    let after = std::fs::read_to_string(home.credentials_file()).unwrap();
    assert_eq!(
        after,
        credentials.replace("region = us-east-1\n", "region = eu-west-1\n")
    );
    assert_eq!(
        std::fs::read_to_string(home.config_file()).unwrap(),
        "[default]\noutput = json\n"
    );
    crate::cli::assert_private(&home.credentials_file());
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert_eq!(boto.assert_parses().region.as_deref(), Some("eu-west-1"));
    diagnose(&home, &account, &keys).run().assert_code(0);
}

#[tokio::test]
async fn region_without_ses() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys)
        .args(["--region", "ap-east-1"])
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("region-unsupported");
    assert!(f.title.contains("ap-east-1"), "{}", f.title);
    // And the region step says where to go instead.
    assert!(report
        .finding("region-mismatch")
        .evidence("best region")
        .starts_with("eu-west-1"));
}

#[tokio::test]
async fn human_report_says_how_to_apply_the_fixes() {
    let account = emulator().new_account();
    let keys = identities_elsewhere(&account).await;
    let home = home_for(&account, &keys);
    let human = |extra: &[&str]| {
        home.for_account(&account)
            .args([
                "diagnose",
                "--profile",
                "mailer",
                "--admin-profile",
                "admin",
                "--regions",
                "us-east-1,eu-west-1",
            ])
            .args(extra)
            .secret(&keys.secret_access_key)
            .run()
    };
    let out = human(&[]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("→ fix: Set region = eu-west-1 in profile 'mailer'"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("        $ aws configure set region eu-west-1 --profile mailer"));
    assert!(
        out.stdout
            .contains("Next: ses-doctor can apply 1 of the fixes above"),
        "{}",
        out.stdout
    );
    let out = human(&["--dry-run"]);
    assert!(
        out.stdout
            .contains("→ would fix (dry run): Set region = eu-west-1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Dry run: 1 change would be made; nothing was changed"),
        "{}",
        out.stdout
    );
    // Progress is silent when stderr is not a terminal.
    assert!(!out.stderr.contains("Step 2"), "{}", out.stderr);
}
