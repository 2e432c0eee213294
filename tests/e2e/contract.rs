//! The JSON report as a contract: one document on stdout, decoded into the tests' own types, with
//! the invariants the README promises.

use crate::cli::{FixKind, FixStatus, Home, Report, Severity, StepStatus};
use crate::support::emulator;
use crate::worlds::healthy_sender;

fn check_invariants(report: &Report) {
    assert_eq!(report.schema_version, 1);
    assert_eq!(report.tool_version, env!("CARGO_PKG_VERSION"));
    // Every step of the flow, in order, numbered 0-6.
    let numbers: Vec<u8> = report.steps.iter().map(|s| s.number).collect();
    assert_eq!(numbers, vec![0, 1, 2, 3, 4, 5, 6]);
    for step in &report.steps {
        assert!(!step.title.is_empty());
        if matches!(step.status, StepStatus::Skipped | StepStatus::Incomplete) {
            assert!(step.reason.is_some(), "{:?} has no reason", step.id);
        }
        for f in &step.findings {
            assert!(!f.title.is_empty() && !f.code.is_empty());
            assert!(
                f.severity == Severity::Pass || !f.explanation.is_empty(),
                "{} has no explanation",
                f.code
            );
            for fix in &f.fixes {
                assert!(!fix.description.is_empty());
                // Only ses-doctor's own fixes can have been applied, planned or declined.
                if fix.kind == FixKind::Manual {
                    assert_eq!(fix.status, FixStatus::Proposed, "{}", f.code);
                }
            }
            // A finding is resolved only by a fix that was applied.
            if f.resolved {
                assert!(
                    f.fixes.iter().any(|x| x.status == FixStatus::Applied),
                    "{}",
                    f.code
                );
            }
        }
        // A failed step has an error among its findings; a passed one has none.
        let worst = step.findings.iter().map(|f| f.severity).max();
        match step.status {
            StepStatus::Failed => assert_eq!(worst, Some(Severity::Error)),
            StepStatus::Passed => assert!(worst < Some(Severity::Warning)),
            _ => {}
        }
    }
    let findings = || report.steps.iter().flat_map(|s| &s.findings);
    let open = |sev| {
        findings()
            .filter(|f| f.severity == sev && !f.resolved)
            .count()
    };
    assert_eq!(report.summary.errors, open(Severity::Error));
    assert_eq!(report.summary.warnings, open(Severity::Warning));
    let applied = findings()
        .flat_map(|f| &f.fixes)
        .filter(|x| x.status == FixStatus::Applied)
        .count();
    assert_eq!(report.summary.fixes_applied, applied);
}

#[tokio::test]
async fn reports_decode_into_the_documented_types() {
    let account = emulator().new_account();
    let good = healthy_sender(&account, "mailer", "us-east-1").await;
    let stale = account.create_key("mailer").await;
    account
        .set_key_active("mailer", &stale.access_key_id, false)
        .await;
    let home = Home::mailer_and_admin(&account, &good.access_key_id, &good.secret_access_key, "");

    // Clean, with an info finding; then failing with a warning and an error.
    let clean = home
        .for_account(&account)
        .args([
            "diagnose",
            "--output",
            "json",
            "--profile",
            "mailer",
            "--region",
            "us-east-1",
        ])
        .secret(&good.secret_access_key)
        .run();
    let report = clean.assert_code(0).report();
    check_invariants(&report);
    assert_eq!(report.summary.outcome, crate::cli::Outcome::Clean);

    let failing = home
        .for_account(&account)
        .env("AWS_PROFILE", "mailer")
        .env("AWS_ACCESS_KEY_ID", &stale.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &stale.secret_access_key)
        .args([
            "diagnose",
            "--output",
            "json",
            "--admin-profile",
            "admin",
            "--region",
            "us-east-1",
        ])
        .secret(&good.secret_access_key)
        .secret(&stale.secret_access_key)
        .run();
    let report = failing.assert_code(1).report();
    check_invariants(&report);
    assert_eq!(report.summary.errors, 1);
    assert_eq!(report.summary.warnings, 1);
    assert_eq!(
        report.codes(),
        vec![
            "credentials-well-formed",
            "env-shadows-profile",
            "access-key-inactive"
        ]
    );
    // stdout is exactly one document: nothing before or after it.
    assert!(
        failing.stdout.trim_start().starts_with('{') && failing.stdout.trim_end().ends_with('}')
    );
}
