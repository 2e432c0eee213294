//! Credentials exactly as the AWS SDKs find them: role profiles (one and two hops, chosen by
//! `--profile` or `AWS_PROFILE`), a role STS refuses, credential_process, SSO, container
//! credentials behind a `[default]` that holds only a region, web identity, leftover session
//! tokens, and two sites sharing one IAM user. Each world is written the way people have it, and
//! where botocore could read it differently the probe says what botocore does.

use crate::cli::{Home, Severity, StepId, StepStatus};
use crate::support::{emulator, Account, Keys};
use crate::worlds::{healthy_sender, DOMAIN, FULL_ACCESS};
use serde_json::json;
use std::io::{Read, Write};

const SCAN: &str = "eu-west-1,us-east-1";

/// `base` holds a long-term key that may assume `Sender` (its trust names base's ARN, so base
/// needs no policy of its own); `Sender` may send from example.com, verified in eu-west-1.
async fn role_world(account: &Account) -> (Keys, String) {
    let base = account.create_user_with_key("base").await;
    let role = account
        .create_role("Sender", &account.user_arn("base"), Some(FULL_ACCESS))
        .await;
    account.create_identity("eu-west-1", DOMAIN, true).await;
    account.set_ses_account("eu-west-1", true, true);
    (base, role)
}

fn base_credentials(base: &Keys) -> String {
    format!(
        "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        base.access_key_id, base.secret_access_key
    )
}

/// The report says how the sending credentials were obtained, in these words.
fn assert_obtained(report: &crate::cli::Report, how: &str) {
    let detail = &report.credentials.sending.as_ref().unwrap().detail;
    assert!(detail.contains(how), "{detail}\nshould contain: {how}");
}

fn diagnose(home: &Home, account: &Account) -> crate::cli::SesDoctor {
    home.for_account(account)
        .args(["diagnose", "--output", "json", "--regions", SCAN])
        .secret(&account.admin.secret_access_key)
}

#[tokio::test]
async fn role_profile_is_assumed_and_diagnosed_as_the_role() {
    let account = emulator().new_account();
    let (base, role) = role_world(&account).await;
    let home = Home::new();
    home.write_credentials(&base_credentials(&base));
    let config = format!(
        "[profile base]\nregion = eu-west-1\n\n[profile mailer]\nrole_arn = {role}\nsource_profile = base\nregion = eu-west-1\n"
    );
    home.write_config(&config);

    // Chosen by --profile, and by AWS_PROFILE: the same role, the same verdict.
    for by_env in [false, true] {
        let mut cmd = diagnose(&home, &account).secret(&base.secret_access_key);
        cmd = if by_env {
            cmd.env("AWS_PROFILE", "mailer")
        } else {
            cmd.args(["--profile", "mailer"])
        };
        let out = cmd.run();
        let report = out.assert_code(0).report();
        let sending = report.credentials.sending.as_ref().unwrap();
        assert!(
            sending.detail.contains(&format!(
                "assumed role {role} (profile 'mailer') via static keys in profile 'base'"
            )),
            "{}",
            sending.detail
        );
        assert!(sending
            .access_key_id
            .as_deref()
            .unwrap()
            .starts_with("ASIA"));
        let caller = report.finding("credentials-valid").evidence("caller");
        assert!(caller.contains(":assumed-role/Sender/"), "{caller}");
        // The role's own permissions are what step 3 judges.
        let granted = report.finding("permission-granted");
        assert!(
            granted.title.starts_with("role Sender may send"),
            "{}",
            granted.title
        );
        let keys = report.step(StepId::AccessKey);
        assert_eq!(keys.status, StepStatus::Skipped);
        assert!(keys
            .reason
            .as_deref()
            .unwrap()
            .contains("temporary ones of role Sender"));
        assert_eq!(report.step(StepId::TestEmail).status, StepStatus::Passed);
    }
    // With the endpoint given only by --endpoint-url, the role is assumed there too.
    diagnose(&home, &account)
        .env("AWS_ENDPOINT_URL", "")
        .args(["--profile", "mailer", "--endpoint-url", account.endpoint()])
        .secret(&base.secret_access_key)
        .run()
        .assert_code(0);
    // The raw JSON carries how the credentials were obtained.
    let out = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .run();
    let raw: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(raw["credentials"]["sending"]["method"], "assume-role");
    assert_eq!(raw["credentials"]["sending"]["role_arn"], role.as_str());
    // botocore assumes the same role from the same files.
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    let creds = boto
        .assert_parses()
        .credentials
        .as_ref()
        .expect("botocore credentials");
    assert_eq!(creds.method, "assume-role");
    assert!(creds.access_key_id.starts_with("ASIA"));
    // Reading is all it did.
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), config);
}

#[tokio::test]
async fn two_hop_role_chain() {
    let account = emulator().new_account();
    let (base, sender) = role_world(&account).await;
    // base may assume Hop (trust names base); Hop may assume Relay (trust names Hop's ARN).
    let hop = account
        .create_role("Hop", &account.user_arn("base"), None)
        .await;
    let relay = account.create_role("Relay", &hop, Some(FULL_ACCESS)).await;
    let home = Home::new();
    home.write_credentials(&base_credentials(&base));
    home.write_config(&format!(
        "[profile hop]\nrole_arn = {hop}\nsource_profile = base\n\n[profile mailer]\nrole_arn = {relay}\nsource_profile = hop\nregion = eu-west-1\n"
    ));
    let report = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .secret(&base.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert_obtained(&report, &format!("assumed role {relay} (profile 'mailer') via assumed role {hop} (profile 'hop') via static keys in profile 'base'"));
    assert!(report
        .finding("credentials-valid")
        .evidence("caller")
        .contains(":assumed-role/Relay/"));
    assert!(report
        .finding("permission-granted")
        .title
        .starts_with("role Relay"));
    let _ = sender;
}

#[tokio::test]
async fn a_role_sts_refuses_is_named_as_such() {
    let account = emulator().new_account();
    let (base, _) = role_world(&account).await;
    // The role trusts someone else: STS says AccessDenied for base.
    account.create_user("someone").await;
    let other = account
        .create_role("Other", &account.user_arn("someone"), Some(FULL_ACCESS))
        .await;
    let home = Home::new();
    home.write_credentials(&base_credentials(&base));
    home.write_config(&format!(
        "[profile mailer]\nrole_arn = {other}\nsource_profile = base\nregion = eu-west-1\n"
    ));
    let report = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .secret(&base.secret_access_key)
        .run()
        .assert_code(1)
        .report();
    assert!(
        !report.codes().contains(&"credentials-not-found"),
        "{:?}",
        report.codes()
    );
    let f = report.finding("role-assumption-denied");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.evidence("role"), other);
    let said = f.evidence("AWS said");
    assert!(
        said.starts_with("AccessDenied")
            && said.contains(&account.user_arn("base"))
            && said.contains("sts:AssumeRole"),
        "{said}"
    );
    assert!(f.fixes[0]
        .command
        .as_deref()
        .unwrap()
        .contains("get-role --role-name Other"));
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Failed);
    // botocore is refused the same way.
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert!(boto
        .credentials_error
        .as_deref()
        .unwrap_or_default()
        .contains("AccessDenied"));
}

#[tokio::test]
async fn a_role_without_permission_is_granted_it() {
    let account = emulator().new_account();
    let (base, _) = role_world(&account).await;
    let bare = account
        .create_role("Bare", &account.user_arn("base"), None)
        .await;
    let home = Home::new();
    home.write_credentials(&format!(
        "{}\n[admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        base_credentials(&base),
        account.admin.access_key_id,
        account.admin.secret_access_key
    ));
    home.write_config(&format!(
        "[profile mailer]\nrole_arn = {bare}\nsource_profile = base\nregion = eu-west-1\n"
    ));
    let run = |yes: bool| {
        let cmd = diagnose(&home, &account)
            .args(["--profile", "mailer", "--admin-profile", "admin"])
            .secret(&base.secret_access_key);
        if yes {
            cmd.args(["--yes"]).run()
        } else {
            cmd.run()
        }
    };
    let report = run(false).assert_code(1).report();
    let f = report.finding("permission-missing");
    assert!(f.title.starts_with("role Bare"), "{}", f.title);
    assert!(f.fixes[0]
        .command
        .as_deref()
        .unwrap()
        .contains("put-role-policy --role-name Bare --policy-name ses-doctor-send"));
    run(true).assert_code(0);
    let inline = account
        .iam()
        .list_role_policies()
        .role_name("Bare")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["ses-doctor-send"]);
    let report = run(false).assert_code(0).report();
    assert!(report
        .finding("permission-granted")
        .title
        .starts_with("role Bare"));
}

#[tokio::test]
async fn credential_process_is_run_and_named() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    // The secret lives in a file the helper prints, never on a command line.
    let json_path = home.path().join("creds.json");
    std::fs::write(
        &json_path,
        json!({"Version": 1, "AccessKeyId": keys.access_key_id, "SecretAccessKey": keys.secret_access_key}).to_string(),
    )
    .unwrap();
    let script = home.path().join("creds.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncat '{}'\n", json_path.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    home.write_config(&format!(
        "[profile mailer]\ncredential_process = {}\nregion = eu-west-1\n",
        script.display()
    ));
    let report = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .secret(&keys.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    let sending = report.credentials.sending.as_ref().unwrap();
    assert!(
        sending
            .detail
            .contains("credential_process in profile 'mailer'"),
        "{}",
        sending.detail
    );
    assert_eq!(
        sending.access_key_id.as_deref(),
        Some(keys.access_key_id.as_str())
    );
}

#[tokio::test]
async fn named_credential_sources_and_a_web_identity_profile() {
    let account = emulator().new_account();
    let (base, role) = role_world(&account).await;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "*"},
            "Action": "sts:AssumeRoleWithWebIdentity"
        }]
    });
    let pod = account
        .create_role_with_trust("PodSender", &trust, Some(FULL_ACCESS))
        .await;
    let home = Home::new();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl").unwrap();
    home.write_config(&format!(
        "[profile from-env]
role_arn = {role}
credential_source = Environment
region = eu-west-1

[profile pod]
role_arn = {pod}
web_identity_token_file = {}
region = eu-west-1
",
        token_file.display()
    ));
    // credential_source = Environment: the environment's key assumes the role.
    let report = diagnose(&home, &account)
        .args(["--profile", "from-env"])
        .env("AWS_ACCESS_KEY_ID", &base.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &base.secret_access_key)
        .secret(&base.secret_access_key)
        .run()
        .assert_code(0)
        .report();
    assert_obtained(
        &report,
        &format!("assumed role {role} (profile 'from-env') via credential_source = Environment"),
    );
    assert!(report
        .finding("permission-granted")
        .title
        .starts_with("role Sender"));
    // web_identity_token_file in the profile.
    let report = diagnose(&home, &account)
        .args(["--profile", "pod"])
        .run()
        .assert_code(0)
        .report();
    assert_obtained(
        &report,
        &format!("web identity token for role {pod} (web_identity_token_file in profile 'pod')"),
    );
}

#[test]
fn sso_profile_without_a_login_says_so() {
    let home = Home::new();
    home.write_config(
        "[profile mailer]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Sender\nregion = eu-west-1\n\n[sso-session corp]\nsso_region = eu-west-1\nsso_start_url = https://corp.awsapps.com/start\n",
    );
    let out = home
        .command("http://127.0.0.1:9")
        .args(["diagnose", "--output", "json", "--profile", "mailer"])
        .run();
    let report = out.assert_code(1).report();
    let f = report.finding("credentials-not-found");
    let looked = f.evidence("looked in");
    assert!(looked.contains("SSO session 'corp'"), "{looked}");
    let reason = f.evidence("reason");
    assert!(reason.to_lowercase().contains("token"), "{reason}");
    assert_eq!(
        f.fixes[0].command.as_deref(),
        Some("aws sso login --sso-session corp")
    );
}

/// A container credentials endpoint (ECS, EKS Pod Identity) on loopback: answers `requests`
/// times with `body` when the Authorization header is `token`, then stops.
fn serve_container_credentials(body: String, token: &'static str, requests: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_lowercase();
            let (status, payload) = if request.contains(&format!("authorization: {token}")) {
                ("200 OK", body.clone())
            } else {
                ("401 Unauthorized", "{}".to_owned())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
        }
    });
    format!("http://{addr}/v2/credentials")
}

#[tokio::test]
async fn container_credentials_behind_a_region_only_default_profile() {
    let account = emulator().new_account();
    let (base, role) = role_world(&account).await;
    let (temp, token) = account.assume_role(&base, &role).await;
    let body = json!({
        "AccessKeyId": temp.access_key_id,
        "SecretAccessKey": temp.secret_access_key,
        "Token": token,
        "Expiration": "2099-01-01T00:00:00Z",
    })
    .to_string();
    let uri = serve_container_credentials(body, "pod-token", 4);
    let home = Home::new();
    // The usual shape on ECS and EKS: a config with only a region, no keys anywhere.
    home.write_config("[default]\nregion = eu-west-1\n");
    let report = diagnose(&home, &account)
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-token")
        .secret(&temp.secret_access_key)
        .secret(&token)
        .run()
        .assert_code(0)
        .report();
    let sending = report.credentials.sending.as_ref().unwrap();
    assert!(
        sending.detail.contains("container credentials"),
        "{}",
        sending.detail
    );
    assert_eq!(
        sending.access_key_id.as_deref(),
        Some(temp.access_key_id.as_str())
    );
    assert!(report
        .finding("permission-granted")
        .title
        .starts_with("role Sender"));
}

#[tokio::test]
async fn web_identity_from_the_environment() {
    let account = emulator().new_account();
    account.create_identity("eu-west-1", DOMAIN, true).await;
    account.set_ses_account("eu-west-1", true, true);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{}:oidc-provider/oidc.example.com", account.id)},
            "Action": "sts:AssumeRoleWithWebIdentity"
        }]
    });
    let role = account
        .create_role_with_trust("PodSender", &trust, Some(FULL_ACCESS))
        .await;
    let home = Home::new();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl").unwrap();
    home.write_config("[default]\nregion = eu-west-1\n");
    let report = diagnose(&home, &account)
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .env("AWS_ROLE_ARN", &role)
        .run()
        .assert_code(0)
        .report();
    let sending = report.credentials.sending.as_ref().unwrap();
    assert!(
        sending
            .detail
            .contains(&format!("web identity token for role {role}")),
        "{}",
        sending.detail
    );
    assert!(report
        .finding("permission-granted")
        .title
        .starts_with("role PodSender"));
}

#[tokio::test]
async fn leftover_session_token_in_the_profile_is_named_and_removed() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    // A long-term key pasted over temporary credentials: the token line stayed (upper-case, as
    // some tools write it), and the legacy botocore spelling too.
    let credentials = format!(
        "# shop\n[mailer]\naws_access_key_id = {}\naws_secret_access_key = {}\nAWS_SESSION_TOKEN = FwoGZXIvYXdzEJr//////////leftover\naws_security_token = FwoGZXIvYXdzEJr//////////leftover\n\n[admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        keys.access_key_id,
        keys.secret_access_key,
        account.admin.access_key_id,
        account.admin.secret_access_key
    );
    home.write_credentials(&credentials);
    home.write_config("[profile mailer]\nregion = eu-west-1\n");
    // botocore sends the token too, and AWS refuses the pair.
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert!(boto.credentials.as_ref().unwrap().token_present);
    let run = |yes: bool| {
        let cmd = diagnose(&home, &account)
            .args(["--profile", "mailer", "--admin-profile", "admin"])
            .secret(&keys.secret_access_key)
            .secret("FwoGZXIvYXdzEJr//////////leftover");
        if yes {
            cmd.args(["--yes"]).run()
        } else {
            cmd.run()
        }
    };
    let report = run(false).assert_code(1).report();
    let f = report.finding("session-token-stray");
    assert_eq!(f.severity, Severity::Error);
    let places: Vec<&str> = f
        .evidence
        .iter()
        .filter(|e| e.label == "token")
        .map(|e| e.value.as_str())
        .collect();
    assert_eq!(places.len(), 2, "{places:?}");
    assert!(
        places[0].starts_with("aws_session_token in [mailer]") && places[0].ends_with("every SDK")
    );
    assert!(places[1].starts_with("aws_security_token") && places[1].contains("botocore"));
    // Not blamed on the key: without the token AWS accepts it.
    assert!(
        !report.codes().contains(&"access-key-unknown"),
        "{:?}",
        report.codes()
    );
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);
    assert_eq!(
        std::fs::read_to_string(home.credentials_file()).unwrap(),
        credentials
    );

    let report = run(true).assert_code(0).report();
    assert!(report.finding("session-token-stray").resolved);
    let after = std::fs::read_to_string(home.credentials_file()).unwrap();
    assert_eq!(
        after,
        credentials
            .replace(
                "AWS_SESSION_TOKEN = FwoGZXIvYXdzEJr//////////leftover\n",
                ""
            )
            .replace(
                "aws_security_token = FwoGZXIvYXdzEJr//////////leftover\n",
                ""
            )
    );
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    assert!(
        !boto
            .assert_parses()
            .credentials
            .as_ref()
            .unwrap()
            .token_present
    );
    let report = run(false).assert_code(0).report();
    assert!(!report.codes().contains(&"session-token-stray"));
}

#[tokio::test]
async fn leftover_session_token_in_the_environment_gets_a_manual_fix() {
    let account = emulator().new_account();
    let keys = healthy_sender(&account, "mailer", "eu-west-1").await;
    let home = Home::new();
    let report = diagnose(&home, &account)
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEOr//////////stale")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .secret(&keys.secret_access_key)
        .secret("IQoJb3JpZ2luX2VjEOr//////////stale")
        .args(["--yes"])
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("session-token-stray");
    assert!(!f.resolved);
    assert_eq!(
        f.fixes[0].command.as_deref(),
        Some("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN")
    );
    assert!(f
        .evidence("token")
        .starts_with("AWS_SESSION_TOKEN in the environment"));
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Passed);
}

#[tokio::test]
async fn a_key_another_site_uses_is_never_retired() {
    let account = emulator().new_account();
    // One IAM user, two sites: site1 and site2 each hold one of its two keys.
    let k1 = healthy_sender(&account, "shop", "eu-west-1").await;
    let k2 = account.create_key("shop").await;
    let home = Home::new();
    let credentials = format!(
        "[site1]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[site2]\nAWS_ACCESS_KEY_ID = {}\naws_secret_access_key = {}\n\n[admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        k1.access_key_id,
        k1.secret_access_key,
        k2.access_key_id,
        k2.secret_access_key,
        account.admin.access_key_id,
        account.admin.secret_access_key
    );
    home.write_credentials(&credentials);
    home.write_config("[profile site1]\nregion = eu-west-1\n[profile site2]\nregion = eu-west-1\n");
    let run = |extra: &[&str]| {
        diagnose(&home, &account)
            .args(["--profile", "site1", "--admin-profile", "admin", "--yes"])
            .args(extra)
            .secret(&k1.secret_access_key)
            .secret(&k2.secret_access_key)
            .run()
    };
    let report = run(&["--deactivate-old-key"]).assert_code(0).report();
    let f = report.finding("access-key-unused");
    assert_eq!(f.severity, Severity::Info);
    assert!(f.fixes.is_empty(), "{:?}", f.fixes);
    assert!(
        f.evidence("held by").starts_with("profile 'site2'"),
        "{}",
        f.evidence("held by")
    );

    // A rotation needs a free slot: the other site's key is not offered for deletion either.
    let out = run(&["--rotate-key", "--delete-old-key"]);
    let report = out.report();
    let limit = report.finding("access-key-limit");
    assert!(limit.evidence.iter().any(|e| e.label == "in use"
        && e.value.contains(&k2.access_key_id)
        && e.value.contains("site2")));
    assert!(limit.fixes.is_empty(), "{:?}", limit.fixes);

    let listed = account
        .iam()
        .list_access_keys()
        .user_name("shop")
        .send()
        .await
        .unwrap();
    let mut states: Vec<(String, String)> = listed
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap().to_owned(),
                k.status().unwrap().as_str().to_owned(),
            )
        })
        .collect();
    states.sort();
    let mut expected = vec![
        (k1.access_key_id.clone(), "Active".to_owned()),
        (k2.access_key_id.clone(), "Active".to_owned()),
    ];
    expected.sort();
    assert_eq!(states, expected);
    assert_eq!(
        std::fs::read_to_string(home.credentials_file()).unwrap(),
        credentials
    );
}

/// What `aws sso login` leaves behind for `[sso-session corp]`: the access token cached in
/// `~/.aws/sso/cache/<SHA-1 of the session name>.json`. No refresh token or client registration:
/// the SDK then only reads the token (and never calls SSO OIDC to refresh it), valid till 2099.
fn write_sso_token_cache(home: &Home, start_url: &str, token: &str) {
    // SHA-1 of "corp", as the AWS CLI and the SDKs name the cache file of a session.
    let cache = home
        .aws_dir()
        .join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let cached = json!({
        "startUrl": start_url,
        "region": "eu-west-1",
        "accessToken": token,
        "expiresAt": "2099-01-01T00:00:00Z",
    });
    std::fs::write(cache, cached.to_string()).unwrap();
}

#[tokio::test]
async fn sso_session_profile_gets_the_role_through_the_sso_portal() {
    const TOKEN: &str = "aoaAAAAAGmSsoE2eAccessTokenForTheCorpSession0123456789";
    const UNKNOWN: &str = "aoaAAAAAGmSsoE2eTokenTheSsoPortalNeverIssued9876543210";
    let start_url = "https://corp.awsapps.com/start";
    let account = emulator().new_account();
    let _ = role_world(&account).await;
    // Identity Center gave the user TOKEN, and an assignment to the role Sender of this account.
    let (status, body) = emulator().control(
        "POST",
        &format!("/_ses_doctor/accounts/{}/sso", account.id),
        &json!({"token": TOKEN, "role_name": "Sender"}),
    );
    assert_eq!(status, 200, "register the SSO token: {body}");
    let home = Home::new();
    let config = format!(
        "[profile mailer]\nsso_session = corp\nsso_account_id = {}\nsso_role_name = Sender\nregion = eu-west-1\n\n[sso-session corp]\nsso_region = eu-west-1\nsso_start_url = {start_url}\n",
        account.id
    );
    home.write_config(&config);
    write_sso_token_cache(&home, start_url, TOKEN);

    let out = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .secret(TOKEN)
        .run();
    let report = out.assert_code(0).report();
    assert_obtained(&report, "SSO session 'corp' (profile 'mailer')");
    let sending = report.credentials.sending.as_ref().unwrap();
    assert!(sending
        .access_key_id
        .as_deref()
        .unwrap()
        .starts_with("ASIA"));
    let raw: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(raw["credentials"]["sending"]["method"], "sso");
    let caller = report.finding("credentials-valid").evidence("caller");
    assert!(
        caller.starts_with(&format!("arn:aws:sts::{}:assumed-role/Sender/", account.id)),
        "{caller}"
    );
    let granted = report.finding("permission-granted");
    assert!(
        granted.title.starts_with("role Sender may send"),
        "{}",
        granted.title
    );
    let keys = report.step(StepId::AccessKey);
    assert_eq!(keys.status, StepStatus::Skipped);
    assert!(keys
        .reason
        .as_deref()
        .unwrap()
        .contains("temporary ones of role Sender"));
    assert_eq!(report.step(StepId::TestEmail).status, StepStatus::Passed);
    // botocore's own SSO provider gets the role from the same files and token cache.
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    let creds = boto
        .assert_parses()
        .credentials
        .as_ref()
        .expect("botocore credentials");
    assert_eq!(creds.method, "sso");
    assert!(creds.access_key_id.starts_with("ASIA"));

    // `--endpoint-url` reaches the SDK's own SSO provider too, and an empty AWS_ENDPOINT_URL
    // (set but blank, as a CI template leaves it) is unset, not a URL the SDK panics on.
    let out = diagnose(&home, &account)
        .env("AWS_ENDPOINT_URL", "")
        .args(["--profile", "mailer", "--endpoint-url", account.endpoint()])
        .secret(TOKEN)
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains("panicked"), "{}", out.both());

    // A token the SSO portal does not know (signed out, or from another Identity Center).
    write_sso_token_cache(&home, start_url, UNKNOWN);
    let out = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .secret(TOKEN)
        .secret(UNKNOWN)
        .run();
    let report = out.assert_code(1).report();
    // Named as the missing login it is, with the command that logs in again.
    let f = report.finding("credentials-not-found");
    assert!(
        f.title.contains("SSO login behind profile 'mailer'"),
        "{}",
        f.title
    );
    assert_eq!(
        f.fixes[0].command.as_deref(),
        Some("aws sso login --sso-session corp")
    );
    assert!(
        f.evidence("looked in").contains("SSO session 'corp'"),
        "{}",
        f.evidence("looked in")
    );
    let reason = f.evidence("reason");
    assert!(
        reason.contains("UnauthorizedException: Session token not found or invalid"),
        "{reason}"
    );
    assert_eq!(report.step(StepId::Identity).status, StepStatus::Skipped);
    assert_obtained(&report, "SSO session 'corp'");
    // botocore is refused too, and says to sign in again.
    let boto = home.botocore(account.endpoint(), &[], Some("mailer"));
    let refused = boto.credentials_error.as_deref().unwrap_or_default();
    assert!(refused.contains("UnauthorizedSSOTokenError"), "{refused}");
    // A valid login without the role assigned: the portal says "No access", shown as such.
    write_sso_token_cache(&home, start_url, TOKEN);
    home.write_config(&config.replace("sso_role_name = Sender", "sso_role_name = Admin"));
    let report = diagnose(&home, &account)
        .args(["--profile", "mailer"])
        .secret(TOKEN)
        .run()
        .assert_code(1)
        .report();
    let f = report.finding("credentials-not-found");
    assert!(
        f.title.contains("refused profile 'mailer' the role"),
        "{}",
        f.title
    );
    let reason = f.evidence("reason");
    assert!(reason.contains("ForbiddenException: No access"), "{reason}");
    assert!(!reason.contains("Error {"), "{reason}");
    home.write_config(&config);
    // Reading is all it did.
    assert_eq!(std::fs::read_to_string(home.config_file()).unwrap(), config);
}
