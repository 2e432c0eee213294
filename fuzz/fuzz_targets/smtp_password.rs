//! SMTP passwords: `smtp_password::recognise` on any text, and `derive` / `derive_legacy` on any
//! secret and region.
//!
//! Input: the text to recognise; split at the first line feed, the secret and the region.
#![no_main]

use base64_check::decoded_len;
use libfuzzer_sys::fuzz_target;
use ses_doctor::secret::Secret;
use ses_doctor::smtp_password::{self, PasswordVersion};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if smtp_password::recognise(&text).is_some() {
        // A version byte and a 32-byte MAC, in standard base64.
        assert_eq!(decoded_len(text.trim()), Some(33), "{text:?}");
    }
    let (secret, region) = text.split_once('\n').unwrap_or((&text, "us-east-1"));
    let secret = Secret::new(secret);
    let v4 = smtp_password::derive(&secret, region);
    assert_eq!(v4.char_len(), 44);
    assert!(v4.expose().starts_with('B'));
    assert_eq!(
        smtp_password::recognise(v4.expose()),
        Some(PasswordVersion::V4)
    );
    assert_eq!(smtp_password::derive(&secret, region), v4);
    let legacy = smtp_password::derive_legacy(&secret);
    assert_eq!(
        smtp_password::recognise(legacy.expose()),
        Some(PasswordVersion::Legacy)
    );
});

mod base64_check {
    /// The length standard, padded base64 decodes to, or `None` when it is not that.
    pub fn decoded_len(s: &str) -> Option<usize> {
        let b = s.as_bytes();
        if b.len() % 4 != 0 {
            return None;
        }
        let pad = b.iter().rev().take_while(|c| **c == b'=').count();
        let body = &b[..b.len() - pad];
        let ok = pad <= 2
            && body
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/');
        ok.then(|| b.len() / 4 * 3 - pad)
    }
}
