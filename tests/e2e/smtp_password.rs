//! `ses-doctor smtp-password`: the derived password matches AWS's algorithm as computed by Python,
//! for several regions, and bad input is refused with exit 2.

use crate::cli::Home;
use crate::identity::python_smtp_password;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn smtp_password(home: &Home) -> crate::cli::SesDoctor {
    home.command("http://127.0.0.1:9").args(["smtp-password"])
}

#[test]
fn matches_the_published_algorithm_in_several_regions() {
    let home = Home::new();
    for region in [
        "us-east-1",
        "eu-west-1",
        "ap-southeast-2",
        "sa-east-1",
        "il-central-1",
    ] {
        let expected = python_smtp_password(SECRET, region);
        assert_eq!(expected.len(), 44);
        let out = smtp_password(&home)
            .args(["--region", region])
            .stdin(&format!("{SECRET}\n"))
            .run();
        out.assert_code(0);
        assert_eq!(out.stdout.trim(), expected, "{region}");
        assert!(out
            .stderr
            .contains(&format!("email-smtp.{region}.amazonaws.com")));
        assert!(!out.stderr.contains(SECRET) && !out.stdout.contains(SECRET));
    }
    // The well-known value for AWS's documentation example key, derived in us-east-1.
    let out = smtp_password(&home)
        .args(["--region", "us-east-1"])
        .stdin(SECRET)
        .run();
    assert_eq!(out.stdout.trim(), python_smtp_password(SECRET, "us-east-1"));
}

#[test]
fn json_output_and_region_from_the_environment() {
    let home = Home::new();
    let out = smtp_password(&home)
        .env("AWS_REGION", "eu-central-1")
        .env("SES_DOCTOR_SECRET_ACCESS_KEY", SECRET)
        .args(["--from-env", "--output", "json"])
        .run();
    out.assert_code(0);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["region"], "eu-central-1");
    assert_eq!(
        doc["smtp_password"],
        python_smtp_password(SECRET, "eu-central-1")
    );
}

#[test]
fn refuses_what_is_not_a_secret_key() {
    let home = Home::new();
    let cases: &[(&str, &str)] = &[
        (&SECRET[..39], "secret-key-truncated"),
        ("not a secret", "secret-key-malformed"),
        ("", "no secret on stdin"),
    ];
    for (input, expected) in cases {
        let out = smtp_password(&home)
            .args(["--region", "eu-west-1"])
            .stdin(&format!("{input}\n"))
            .run();
        out.assert_code(2);
        assert!(out.stderr.contains(expected), "{}", out.both());
        assert!(out.stdout.is_empty());
    }
    let smtp = python_smtp_password(SECRET, "eu-west-1");
    let out = smtp_password(&home)
        .args(["--region", "eu-west-1"])
        .stdin(&smtp)
        .secret(&smtp)
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("secret-is-smtp-password"),
        "{}",
        out.both()
    );
}

#[test]
fn refuses_bad_regions_and_a_missing_region() {
    let home = Home::new();
    let out = smtp_password(&home)
        .args(["--region", "EU (Ireland)"])
        .stdin(SECRET)
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("did you mean eu-west-1"),
        "{}",
        out.both()
    );
    let out = smtp_password(&home)
        .args(["--region", "ap-east-1"])
        .stdin(SECRET)
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("not offered in ap-east-1"),
        "{}",
        out.both()
    );
    let out = smtp_password(&home).stdin(SECRET).run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("--region is required"),
        "{}",
        out.both()
    );
}

#[test]
fn the_secret_is_never_taken_from_the_command_line() {
    let home = Home::new();
    let out = smtp_password(&home)
        .args(["--region", "eu-west-1", SECRET])
        .run();
    out.assert_code(2);
    assert!(out.stdout.is_empty());
}
