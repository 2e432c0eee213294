//! Pasted keys: `diagnose::local::key_findings` on any key ID, secret and session token (step 0,
//! and the check `smtp-password` makes of a secret before deriving from it).
//!
//! Input: the key ID, a line feed, the secret, optionally a line feed and a session token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ses_doctor::diagnose::local::key_findings;
use ses_doctor::secret::{AccessKey, Secret};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let id = parts.next().unwrap_or_default();
    let secret = parts.next().unwrap_or_default();
    let token = parts.next();
    let key = AccessKey {
        id: id.to_owned(),
        secret: Secret::new(secret),
        session_token: token.map(Secret::new),
    };
    let findings = key_findings(&key);

    // No finding exactly when the key has the documented shape: AKIA or ASIA then 16 of A-Z2-7;
    // 40 of A-Za-z0-9+/; a token beside an ASIA key.
    let id_ok = (id.starts_with("AKIA") || id.starts_with("ASIA"))
        && id.len() == 20
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    let secret_ok = secret.len() == 40
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    let token_ok = !id.starts_with("ASIA") || token.is_some();
    assert_eq!(
        findings.is_empty(),
        id_ok && secret_ok && token_ok,
        "{id:?} / {} chars: {:?}",
        secret.chars().count(),
        findings.iter().map(|f| f.code).collect::<Vec<_>>()
    );

    // Neither the secret nor the token shows in any finding (only its length may).
    let shown = format!(
        "{findings:?}{}",
        serde_json::to_string(&findings).expect("findings serialise")
    );
    // The key ID is shown (it is no secret), quoted and escaped: a value it contains may show.
    let id_shown = format!("{id:?}{}", serde_json::to_string(id).unwrap_or_default());
    for value in [Some(secret), token].into_iter().flatten() {
        if secret_like(value) && !id_shown.contains(value) {
            assert!(!shown.contains(value), "a secret shows in the findings");
        }
    }
});

/// Long enough, without spaces, and mixing letters and digits, so that no fixed text of a finding
/// can contain it by chance.
fn secret_like(value: &str) -> bool {
    value.len() >= 16
        && !value.contains(char::is_whitespace)
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}
