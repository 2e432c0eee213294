//! Secrets (secret access keys, session tokens, SMTP passwords) live in [`Secret`], which has no
//! `Display` and a `Debug` that prints nothing of the value, so a secret cannot reach a log, a
//! report or an error message by accident. Reading it is one explicit, greppable call:
//! [`Secret::expose`].

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The only way to the value. Call it where the value is consumed (signing, HMAC, writing the
    /// credentials file), never to build text for a person.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Number of characters: safe to show, and often the whole diagnosis (a truncated secret).
    pub fn char_len(&self) -> usize {
        self.expose().chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} chars, redacted>)", self.char_len())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// An access key as a program would use it. The key ID is not a secret (it is the SMTP user
/// name and shows in CloudTrail), so it is a plain `String`.
#[derive(Clone, Debug)]
pub struct AccessKey {
    pub id: String,
    pub secret: Secret,
    pub session_token: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let key = AccessKey {
            id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: Some(Secret::new("token-value")),
        };
        let shown = format!("{key:?} {key:#?}");
        assert!(shown.contains("AKIAIOSFODNN7EXAMPLE"));
        assert!(!shown.contains("wJalrXUtnFEMI"));
        assert!(!shown.contains("token-value"));
        assert!(shown.contains("40 chars"));
    }
}
