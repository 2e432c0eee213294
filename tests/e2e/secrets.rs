//! No secret is printed, even with every verbose switch on. The harness checks every run of every
//! test for every secret of the world (tests/e2e/cli.rs, `SesDoctor`); these runs turn up the
//! volume: `-vvv` with `RUST_LOG=trace`, human and JSON output, over the paths that handle the
//! most secrets (a new key saved into the profile and `--credentials-out`, a pasted key with its
//! session token, an SMTP password, a role's temporary credentials).

use crate::cli::Home;
use crate::support::{emulator, smtp_password};
use crate::worlds::healthy_sender;

const LOUD: [&str; 1] = ["-vvv"];

#[tokio::test]
async fn verbose_runs_print_no_secret() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "us-east-1").await;
    let wrong = keys.with_wrong_secret();
    let home = Home::mailer_and_admin(
        &account,
        &wrong.access_key_id,
        &wrong.secret_access_key,
        "[profile mailer]\nregion = us-east-1\n",
    );
    let out_file = home.path().join("new-key.ini");
    for output in ["json", "human"] {
        let out = home
            .for_account(&account)
            .args(LOUD)
            .env("RUST_LOG", "trace")
            .args(["diagnose", "--output", output, "--yes"])
            .args(["--profile", "mailer", "--admin-profile", "admin"])
            .args(["--regions", "us-east-1"])
            .args(if output == "json" {
                vec!["--credentials-out", out_file.to_str().unwrap()]
            } else {
                vec![]
            })
            .secret(&keys.secret_access_key)
            .secret(&wrong.secret_access_key)
            .run();
        assert!(
            out.stderr.contains("[ses-doctor]"),
            "the verbose output is there:\n{}",
            out.both()
        );
    }
    // The files the runs wrote hold the secrets the harness watched for.
    assert!(out_file.exists());

    // A pasted key and its session token (a role's temporary credentials), and an SMTP password.
    let role = account
        .create_role("Loud", &account.user_arn("mailer"), None)
        .await;
    let (temp, token) = account.assume_role(&keys, &role).await;
    let stdin = format!("{}\n{token}\n", temp.secret_access_key);
    home.for_account(&account)
        .args(LOUD)
        .env("RUST_LOG", "trace")
        .args([
            "diagnose",
            "--output",
            "json",
            "--access-key-id",
            &temp.access_key_id,
        ])
        .args(["--regions", "us-east-1", "--no-send"])
        .stdin(&stdin)
        .run();
    let smtp = emulator().smtp("us-east-1");
    let password = smtp_password(&keys.secret_access_key, "us-east-1");
    let current = std::fs::read_to_string(home.credentials_file()).unwrap();
    assert!(!current.contains(&wrong.secret_access_key));
    home.for_account(&account)
        .args(LOUD)
        .env("RUST_LOG", "trace")
        .args(["diagnose", "--output", "human", "--profile", "mailer"])
        .args(["--regions", "us-east-1", "--via", "smtp"])
        .args([
            "--smtp-endpoint",
            &format!("{}:{}", smtp.host, smtp.starttls_port),
        ])
        .args(["--smtp-ca-file", smtp.ca_file.to_str().unwrap()])
        .args(["--smtp-username", &keys.access_key_id])
        .env("SES_DOCTOR_SMTP_PASSWORD", &password)
        .secret(&password)
        .run();
}
