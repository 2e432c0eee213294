//! Step 3 end to end: SimulatePrincipalPolicy through the emulator, the grant fixes, and the SES
//! probe when IAM is closed to the credentials.

use crate::cli::{FixKind, FixStatus, Home, Severity, StepId};
use crate::support::{emulator, Account, Keys};
use crate::worlds::{DOMAIN, FULL_ACCESS};

const REGION: &str = "eu-west-1";

/// A mailer user with example.com verified in eu-west-1 (production access) and, unless
/// `grant`, no permission at all.
async fn world(account: &Account, grant: bool) -> Keys {
    let keys = account.create_user_with_key("mailer").await;
    if grant {
        account.attach_policy("mailer", FULL_ACCESS).await;
    }
    account.create_identity(REGION, DOMAIN, true).await;
    account.set_ses_account(REGION, true, true);
    keys
}

fn home_for(account: &Account, keys: &Keys) -> Home {
    let config = format!("[profile mailer]\nregion = {REGION}\n");
    Home::mailer_and_admin(
        account,
        &keys.access_key_id,
        &keys.secret_access_key,
        &config,
    )
}

fn diagnose(home: &Home, account: &Account, keys: &Keys, admin: bool) -> crate::cli::SesDoctor {
    let mut cmd = home
        .for_account(account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--profile",
            "mailer",
            "--regions",
            "eu-west-1,us-east-1",
        ])
        .secret(&keys.secret_access_key)
        .secret(&account.admin.secret_access_key);
    if admin {
        cmd = cmd.args(["--admin-profile", "admin"]);
    }
    cmd
}

async fn attached(account: &Account) -> Vec<String> {
    let out = account
        .iam()
        .list_attached_user_policies()
        .user_name("mailer")
        .send()
        .await
        .unwrap();
    out.attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn no_permission_then_full_access_attached_with_yes() {
    let account = emulator().new_account();
    let keys = world(&account, false).await;
    let home = home_for(&account, &keys);

    let report = diagnose(&home, &account, &keys, true)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("permission-missing");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(
        f.evidence("ses:SendEmail"),
        "not allowed (no policy grants it)"
    );
    assert_eq!(f.evidence("policies"), "none");
    assert_eq!(f.evidence("AmazonSESFullAccess"), "not attached");
    assert_eq!(
        (f.fixes[0].kind, f.fixes[0].status),
        (FixKind::Automatic, FixStatus::Proposed)
    );
    assert!(attached(&account).await.is_empty());

    let report = diagnose(&home, &account, &keys, true)
        .args(["--yes", "--policy", "full-access"])
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("permission-missing");
    assert!(f.resolved);
    assert_eq!(f.fixes[0].status, FixStatus::Applied);
    assert!(f
        .evidence("after the fix")
        .starts_with("IAM allows both actions"));
    assert_eq!(attached(&account).await, vec![FULL_ACCESS.to_owned()]);

    let report = diagnose(&home, &account, &keys, true)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("permission-granted");
    assert_eq!(f.evidence("AmazonSESFullAccess"), "attached to the user");
}

#[tokio::test]
async fn send_only_policy_on_the_verified_identities_by_default() {
    let account = emulator().new_account();
    let keys = world(&account, false).await;
    let home = home_for(&account, &keys);
    // The default grant: send-only, scoped to the identities, never *FullAccess.
    let report = diagnose(&home, &account, &keys, true)
        .args(["--yes"])
        .run()
        .assert_code(0)
        .report();
    let fix = &report.finding("permission-missing").fixes[0];
    assert_eq!(
        fix.description.split(". ").next().unwrap(),
        format!("Let mailer send from {DOMAIN} only (inline policy ses-doctor-send)")
    );
    // A mailer whose own connection test reads SES is warned that this is not enough for it.
    assert!(
        fix.description.contains(
            "FluentSMTP's connection test also calls ses:ListIdentities and ses:GetSendQuota"
        ),
        "{}",
        fix.description
    );
    assert!(
        attached(&account).await.is_empty(),
        "nothing managed is attached"
    );
    let doc = account
        .iam()
        .get_user_policy()
        .user_name("mailer")
        .policy_name("ses-doctor-send")
        .send()
        .await
        .unwrap();
    let text = percent_decode(doc.policy_document());
    let policy: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Action"],
        serde_json::json!(["ses:SendEmail", "ses:SendRawEmail"])
    );
    assert_eq!(
        statement["Resource"],
        serde_json::json!([
            format!("arn:aws:ses:{REGION}:{}:identity/{DOMAIN}", account.id),
            format!("arn:aws:ses:{REGION}:{}:configuration-set/*", account.id)
        ])
    );
    // A second run is clean, and names the inline policy.
    let report = diagnose(&home, &account, &keys, true)
        .run()
        .assert_code(0)
        .report();
    assert!(report
        .finding("permission-granted")
        .evidence("policies")
        .contains("ses-doctor-send (inline)"));
}

/// IAM returns policy documents URL-encoded.
pub fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (
            b,
            tail.get(..2)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                rest = &tail[2..];
            }
            _ => {
                out.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn explicit_deny_is_named_and_not_granted_over() {
    let account = emulator().new_account();
    let keys = world(&account, true).await;
    account
        .put_inline_policy(
            "mailer",
            "NoSending",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"*"}]}"#,
        )
        .await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, true)
        .args(["--yes"])
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("permission-explicitly-denied");
    assert!(f.title.contains("NoSending"), "{}", f.title);
    // Both actions are denied by the one statement: the policy is named once.
    assert_eq!(f.title.matches("NoSending").count(), 1, "{}", f.title);
    assert!(f
        .evidence("ses:SendRawEmail")
        .starts_with("explicitly denied by NoSending"));
    assert_eq!(f.evidence("AmazonSESFullAccess"), "attached to the user");
    // Granting cannot beat a Deny: the only fix is the user's, and nothing was changed.
    assert!(f.fixes.iter().all(|x| x.kind == FixKind::Manual));
    assert_eq!(report.summary.fixes_applied, 0);
    assert!(!report.codes().contains(&"permission-missing"));
    // The test email confirms it, in SES's words.
    let email = &report.step(StepId::TestEmail).findings[0];
    assert_eq!(email.code, "permission-explicitly-denied");
    assert!(
        email.evidence("SES said").contains("explicit deny"),
        "{}",
        email.all_evidence()
    );
}

#[tokio::test]
async fn permission_through_a_group() {
    let account = emulator().new_account();
    let keys = world(&account, false).await;
    account
        .add_to_group("mailer", "senders", Some(FULL_ACCESS))
        .await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, true)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("permission-granted");
    assert_eq!(f.evidence("AmazonSESFullAccess"), "through group senders");
}

#[tokio::test]
async fn smtp_only_user_may_send_raw_but_not_through_the_api() {
    let account = emulator().new_account();
    let keys = world(&account, false).await;
    // What the SES console's "Create SMTP credentials" gives a user.
    account
        .put_inline_policy(
            "mailer",
            "AmazonSesSendingAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}"#,
        )
        .await;
    let home = home_for(&account, &keys);
    // The permission check alone: a warning, since SMTP works.
    let report = diagnose(&home, &account, &keys, true)
        .args(["--no-send"])
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("permission-missing");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.explanation.contains("all SMTP needs"));
    assert!(f
        .evidence("ses:SendRawEmail")
        .starts_with("allowed by AmazonSesSendingAccess"));
    // A test email through the API proves the warning right.
    let report = diagnose(&home, &account, &keys, true)
        .run()
        .assert_code(1)
        .report();
    let email = &report.step(StepId::TestEmail).findings[0];
    assert_eq!(email.code, "permission-missing");
    assert!(
        email.evidence("SES said").contains("ses:SendEmail"),
        "{}",
        email.all_evidence()
    );
}

#[tokio::test]
async fn without_iam_access_ses_is_asked_instead() {
    let account = emulator().new_account();
    // AmazonSESFullAccess and nothing else: no IAM, and no admin profile given.
    let keys = world(&account, true).await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, false)
        .run()
        .assert_code(0)
        .report();
    let f = report.finding("permission-granted");
    assert!(
        f.all_evidence().contains("ses:SendEmail: authorised"),
        "{}",
        f.all_evidence()
    );
    assert_eq!(
        f.evidence("policies"),
        "could not be listed (IAM closed to these credentials)"
    );
    let note = report.finding("insufficient-access");
    assert_eq!(note.severity, Severity::Info);
    assert!(
        note.evidence("IAM said")
            .contains("iam:SimulatePrincipalPolicy"),
        "{}",
        note.all_evidence()
    );
    // The probe sent nothing: it was refused for its unverified sender.
    assert!(
        f.all_evidence().contains("MessageRejected"),
        "{}",
        f.all_evidence()
    );
}

#[tokio::test]
async fn without_any_access_the_key_is_still_proven_and_the_gap_named() {
    let account = emulator().new_account();
    let keys = world(&account, false).await;
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, false)
        .run()
        .assert_code(1)
        .report();
    // The region could not be compared without ses:ListEmailIdentities...
    let region = report.step(StepId::Region);
    assert_eq!(region.findings[0].code, "insufficient-access");
    assert!(
        region.findings[0].evidence("AWS said").contains("ses:"),
        "{:?}",
        region.findings[0]
    );
    // ...and SES's AccessDenied names the missing permission.
    let f = report.finding("permission-missing");
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.all_evidence()
            .contains("not authorized to perform: ses:SendEmail"),
        "{}",
        f.all_evidence()
    );
    // The grant it names is the send-only one, and never for `*`.
    let command = f.fixes[0].command.as_deref().unwrap();
    assert!(
        command.contains("put-user-policy --user-name mailer --policy-name ses-doctor-send"),
        "{command}"
    );
    assert!(!command.contains("\"Resource\":[\"*\"]"), "{command}");
    assert!(f.fixes[0].description.contains("FluentSMTP"));
}

/// A managed policy of the account, for a boundary.
async fn managed_policy(account: &Account, name: &str, document: &str) -> String {
    account
        .iam()
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap()
        .policy()
        .and_then(|p| p.arn())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_permissions_boundary_that_leaves_sending_out_is_named_not_granted() {
    // An organisation caps its users with a read-only SES boundary; the mailer user has
    // AmazonSESFullAccess, which the boundary does not let through. Granting more cannot help:
    // without the layer it read as a missing permission, and --yes attached a policy that
    // changed nothing.
    let account = emulator().new_account();
    let keys = world(&account, true).await;
    let cap = managed_policy(
        &account,
        "SesReadOnlyCap",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ses:Get*","ses:List*","iam:*","sts:*"],"Resource":"*"}]}"#,
    )
    .await;
    account
        .iam()
        .put_user_permissions_boundary()
        .user_name("mailer")
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, true)
        .args(["--yes"])
        .run()
        .assert_code(1)
        .report();
    // Step 3 no longer calls it a missing permission. (Step 6 still files SES's AccessDenied
    // under permission-missing: test_email.rs's classification, left to its owner.)
    let step3 = report.step(StepId::Permissions);
    let codes: Vec<&str> = step3.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["permission-explicitly-denied"]);
    let f = report.finding("permission-explicitly-denied");
    assert_eq!(f.evidence("layer"), "permissions boundary");
    assert!(
        f.title.contains("outside mailer's permissions boundary"),
        "{}",
        f.title
    );
    assert!(f.fixes.iter().all(|x| x.kind == FixKind::Manual));
    // Nothing was granted.
    assert_eq!(attached(&account).await, vec![FULL_ACCESS.to_owned()]);
    // SES says the same in its own words.
    let email = report.step(StepId::TestEmail);
    assert!(
        email.findings.iter().any(|x| x
            .all_evidence()
            .contains("because no permissions boundary allows the ses:SendEmail action")),
        "{:?}",
        email.findings
    );
}

#[tokio::test]
async fn a_deny_in_a_groups_policy_names_the_group() {
    let account = emulator().new_account();
    let keys = world(&account, true).await;
    account.add_to_group("mailer", "contractors", None).await;
    account
        .iam()
        .put_group_policy()
        .group_name("contractors")
        .policy_name("NoMail")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ses:Send*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, true)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("permission-explicitly-denied");
    assert_eq!(f.evidence("layer"), "group policy");
    assert!(
        f.title.contains("NoMail of group contractors"),
        "{}",
        f.title
    );
    assert_eq!(
        f.fixes[0].command.as_deref(),
        Some("aws iam remove-user-from-group --group-name contractors --user-name mailer")
    );
}

#[tokio::test]
async fn without_iam_access_ses_names_the_boundary() {
    // The same boundary, and no IAM for the mailer and no admin profile: SES's AccessDenied
    // says which layer refused ("because no permissions boundary allows …").
    let account = emulator().new_account();
    let keys = world(&account, true).await;
    let cap = managed_policy(
        &account,
        "SesReadOnlyCap",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ses:Get*","ses:List*","sts:*"],"Resource":"*"}]}"#,
    )
    .await;
    account
        .iam()
        .put_user_permissions_boundary()
        .user_name("mailer")
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    let home = home_for(&account, &keys);
    let report = diagnose(&home, &account, &keys, false)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("permission-explicitly-denied");
    assert_eq!(f.evidence("layer"), "permissions boundary");
    assert!(
        f.all_evidence().contains("no permissions boundary allows"),
        "{}",
        f.all_evidence()
    );
    // No grant is offered: it could not help.
    assert!(f.fixes.iter().all(|x| x.command.is_none()), "{:?}", f.fixes);
}
