//! The commands around `diagnose`: completions and the man page generated from the CLI
//! definition, `regions` (with `--check` against the emulator), and the GitHub Actions output.

use crate::cli::Home;
use crate::support::emulator;
use crate::worlds::healthy_sender;
use serde::Deserialize;

fn offline(home: &Home) -> crate::cli::SesDoctor {
    home.command("http://127.0.0.1:9")
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    let home = Home::new();
    let cases = [
        ("bash", "complete -F _ses__doctor"),
        ("zsh", "#compdef ses-doctor"),
        ("fish", "complete -c ses-doctor"),
    ];
    for (shell, marker) in cases {
        let out = offline(&home).args(["completions", shell]).run();
        out.assert_code(0);
        assert!(
            out.stdout.contains(marker),
            "{shell}: {}",
            &out.stdout[..out.stdout.len().min(300)]
        );
        // The scripts know the subcommands and the flags of diagnose.
        for word in [
            "diagnose",
            "smtp-password",
            "regions",
            "admin-profile",
            "delete-old-key",
        ] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    offline(&home)
        .args(["completions", "tcsh"])
        .run()
        .assert_code(2);
}

#[test]
fn manual_page() {
    let out = offline(&Home::new()).args(["man"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains(".TH ses-doctor 1"),
        "{}",
        &out.stdout[..200]
    );
    assert!(
        out.stdout.contains("\\-\\-admin\\-profile"),
        "the options are documented"
    );
}

#[derive(Deserialize)]
struct RegionList {
    schema_version: u32,
    smtp_ports: Ports,
    regions: Vec<Row>,
}

#[derive(Deserialize)]
struct Ports {
    starttls: Vec<u16>,
    tls_wrapper: Vec<u16>,
}

#[derive(Deserialize)]
struct Row {
    name: String,
    display: String,
    opt_in: bool,
    api_endpoint: String,
    smtp_endpoint: String,
    status: Option<Status>,
}

#[derive(Deserialize)]
struct Status {
    state: String,
    verified_identities: Vec<String>,
}

#[test]
fn regions_table_and_json() {
    let home = Home::new();
    let out = offline(&home).args(["regions"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains(
        "eu-west-1      Europe (Ireland)          no     email-smtp.eu-west-1.amazonaws.com"
    ));
    assert!(out.stdout.contains("465, 2465 (TLS wrapper)"));
    let out = offline(&home).args(["regions", "--output", "json"]).run();
    out.assert_code(0);
    let list: RegionList = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list.schema_version, 1);
    assert_eq!(list.smtp_ports.starttls, vec![587, 25, 2587]);
    assert_eq!(list.smtp_ports.tls_wrapper, vec![465, 2465]);
    let cape_town = list
        .regions
        .iter()
        .find(|r| r.name == "af-south-1")
        .unwrap();
    assert!(cape_town.opt_in);
    assert_eq!(cape_town.display, "Africa (Cape Town)");
    assert_eq!(cape_town.api_endpoint, "email.af-south-1.amazonaws.com");
    assert_eq!(
        cape_town.smtp_endpoint,
        "email-smtp.af-south-1.amazonaws.com"
    );
    assert!(list.regions.iter().all(|r| r.status.is_none()));
}

#[tokio::test]
async fn regions_check_shows_the_account_in_each_region() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::mailer_and_admin(&account, &keys.access_key_id, &keys.secret_access_key, "");
    let out = home
        .for_account(&account)
        .args([
            "regions",
            "--check",
            "--profile",
            "mailer",
            "--output",
            "json",
        ])
        .secret(&keys.secret_access_key)
        .run();
    out.assert_code(0);
    let list: RegionList = serde_json::from_str(&out.stdout).unwrap();
    let state = |name: &str| {
        list.regions
            .iter()
            .find(|r| r.name == name)
            .unwrap()
            .status
            .as_ref()
            .unwrap()
    };
    assert_eq!(state("eu-west-1").state, "production");
    assert_eq!(state("eu-west-1").verified_identities, vec!["example.com"]);
    assert_eq!(state("us-east-1").state, "sandbox");
    assert_eq!(state("af-south-1").state, "not-enabled");
    let human = home
        .for_account(&account)
        .args(["regions", "--check", "--profile", "mailer"])
        .secret(&keys.secret_access_key)
        .run();
    assert!(
        human.stdout.contains("production: example.com"),
        "{}",
        human.stdout
    );
    // Every row's account state starts under ACCOUNT, the long endpoint names included
    // (email-smtp.ap-southeast-5.amazonaws.com).
    let mut lines = human.stdout.lines();
    let column = lines
        .next()
        .unwrap()
        .find("ACCOUNT")
        .expect("ACCOUNT column");
    // GovCloud is not scanned: those rows have no account column.
    let checked: Vec<&str> = lines
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("us-gov-"))
        .collect();
    assert!(checked.len() > 20, "{}", human.stdout);
    for line in checked {
        assert!(
            line.len() > column
                && line.as_bytes()[column - 1] == b' '
                && line.as_bytes()[column] != b' ',
            "misaligned: {line:?}\n{}",
            human.stdout
        );
    }
}

#[tokio::test]
async fn github_actions_annotations_summary_and_masks() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    // No permission either, so something stays open after the key is replaced.
    account
        .iam()
        .detach_user_policy()
        .user_name("mailer")
        .policy_arn(crate::worlds::FULL_ACCESS)
        .send()
        .await
        .unwrap();
    let home = Home::mailer_and_admin(
        &account,
        &wrong.access_key_id,
        &wrong.secret_access_key,
        "[profile mailer]\nregion = us-east-1\n",
    );
    let summary = home.aws_dir().join("step-summary.md");
    let out = home
        .for_account(&account)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args([
            "diagnose",
            "--output",
            "json",
            "--profile",
            "mailer",
            "--admin-profile",
            "admin",
            "--regions",
            "us-east-1",
        ])
        .args(["--yes", "--policy", "send-only", "--no-send"])
        .secret(&account.admin.secret_access_key)
        .run();
    // stdout stays one JSON document: workflow commands go to stderr.
    let report = out.report();
    assert!(report.finding("signature-mismatch").resolved);
    // Nothing revealed the new secret, so no mask command carries it into the captured log: it
    // is only in the credentials file (the harness's secret check looks everywhere else).
    let text = std::fs::read_to_string(home.credentials_file()).unwrap();
    let new_secret = text
        .lines()
        .skip_while(|l| l.trim() != "[mailer]")
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .unwrap()
        .to_owned();
    assert!(!out.stderr.contains("::add-mask::"), "{}", out.stderr);
    assert!(!out.stderr.contains(&new_secret) && !out.stdout.contains(&new_secret));
    // Open problems become annotations; the summary is appended as Markdown.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## ses-doctor: "), "{md}");
    assert!(md.contains("| 1 · Identity |"), "{md}");
    assert!(md.contains("`signature-mismatch` (fixed)"), "{md}");
    for f in report
        .steps
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| !f.resolved)
    {
        let kind = match f.severity {
            crate::cli::Severity::Error => "::error",
            crate::cli::Severity::Warning => "::warning",
            _ => continue,
        };
        let prefix = format!("{kind} title=ses-doctor%3A {}::", f.code);
        assert!(
            out.stderr.lines().any(|l| l.starts_with(&prefix)),
            "no annotation for {}:\n{}",
            f.code,
            out.stderr
        );
    }
}
