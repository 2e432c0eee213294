//! Bad input gets a clear message naming the problem and exit 2, never a panic.

use crate::cli::Home;

fn diagnose(home: &Home) -> crate::cli::SesDoctor {
    home.command("http://127.0.0.1:9").args(["diagnose"])
}

fn assert_usage_error(out: &crate::cli::Output, needle: &str) {
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
fn malformed_config_file() {
    let home = Home::new();
    home.write_config("[profile mailer\nregion = eu-west-1\n");
    home.sdks_disagree("a malformed file: both SDKs refuse it");
    let out = diagnose(&home).args(["--profile", "mailer"]).run();
    assert_usage_error(
        &out,
        ".aws/config: the AWS SDKs cannot parse it: line 1: Profile definition must end with ']'",
    );
}

#[test]
fn malformed_credentials_file_does_not_echo_its_secrets() {
    let home = Home::new();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    home.sdks_disagree("a malformed file: both SDKs refuse it");
    // A secret pasted on a line of its own, without `aws_secret_access_key =`.
    home.write_credentials(&format!(
        "[mailer]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\n{secret}\n"
    ));
    let out = diagnose(&home)
        .args(["--profile", "mailer"])
        .secret(secret)
        .run();
    assert_usage_error(
        &out,
        ".aws/credentials: the AWS SDKs cannot parse it: line 3: Expected an '=' sign",
    );
}

#[test]
fn invalid_region_flag_and_endpoint() {
    let home = Home::new();
    let out = diagnose(&home).args(["--region", "eu-west-1a"]).run();
    assert_usage_error(&out, "did you mean eu-west-1");
    let out = diagnose(&home)
        .args(["--endpoint-url", "localhost:4566"])
        .run();
    assert_usage_error(&out, "is not an http:// or https:// URL");
    let out = diagnose(&home).args(["--output", "yaml"]).run();
    assert_usage_error(&out, "invalid value 'yaml'");
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
