//! Credentials and files exactly as the AWS SDKs see them: role profiles (one and two hops),
//! container credentials, a `[default]` that holds only a region, `~` in the file variables,
//! leftover session tokens; each world written the way people really have it.

use crate::cli::{Home, StepId, StepStatus};
use crate::support::{emulator, Account, Keys};
use crate::worlds::{DOMAIN, FULL_ACCESS};

/// `base` holds a long-term key that may assume `Sender`; `Sender` may send from example.com,
/// verified in eu-west-1 with production access.
async fn role_world(account: &Account) -> (Keys, String) {
    let base = account.create_user_with_key("base").await;
    let role = account
        .create_role("Sender", &account.user_arn("base"), Some(FULL_ACCESS))
        .await;
    account.create_identity("eu-west-1", DOMAIN, true).await;
    account.set_ses_account("eu-west-1", true, true);
    (base, role)
}

fn role_home(base: &Keys, role: &str) -> Home {
    let home = Home::new();
    home.write_credentials(&format!(
        "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        base.access_key_id, base.secret_access_key
    ));
    home.write_config(&format!(
        "[profile base]\nregion = eu-west-1\n\n[profile mailer]\nrole_arn = {role}\nsource_profile = base\nregion = eu-west-1\n"
    ));
    home
}

#[tokio::test]
async fn role_profile_is_assumed_and_diagnosed_as_the_role() {
    let account = emulator().new_account();
    let (base, role) = role_world(&account).await;
    let home = role_home(&base, &role);
    let out = home
        .for_account(&account)
        .args(["diagnose", "--output", "json", "--profile", "mailer"])
        .secret(&base.secret_access_key)
        .run();
    eprintln!("{}", out.both());
    let report = out.report();
    let sending = report.credentials.sending.as_ref().unwrap();
    assert!(
        sending.detail.contains(&format!("assumed role {role}")),
        "{}",
        sending.detail
    );
    assert!(
        sending.detail.contains("static keys in profile 'base'"),
        "{}",
        sending.detail
    );
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);
    out.assert_code(0);
}
