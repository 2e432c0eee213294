//! SES SMTP passwords: derived from the secret access key, per region (AWS, "Obtaining Amazon
//! SES SMTP credentials"). The SMTP user name is the access key ID.

use crate::secret::Secret;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const DATE: &str = "11111111";
const SERVICE: &str = "ses";
const TERMINAL: &str = "aws4_request";
const MESSAGE: &str = "SendRawEmail";
const VERSION_V4: u8 = 0x04;
const VERSION_V2: u8 = 0x02;

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The current (signature version 4) SMTP password for `region`: 44 characters, starting "B".
pub fn derive(secret: &Secret, region: &str) -> Secret {
    let mut sig = hmac(format!("AWS4{}", secret.expose()).as_bytes(), DATE);
    for msg in [region, SERVICE, TERMINAL, MESSAGE] {
        sig = hmac(&sig, msg);
    }
    encode(VERSION_V4, &sig)
}

/// The legacy (signature version 2) password, rejected by SES since 2021. Only used to recognise
/// one.
pub fn derive_legacy(secret: &Secret) -> Secret {
    encode(VERSION_V2, &hmac(secret.expose().as_bytes(), MESSAGE))
}

fn encode(version: u8, mac: &[u8]) -> Secret {
    let mut bytes = Vec::with_capacity(1 + mac.len());
    bytes.push(version);
    bytes.extend_from_slice(mac);
    Secret::new(STANDARD.encode(bytes))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordVersion {
    V4,
    /// Signature version 2: no longer accepted by SES.
    Legacy,
}

/// Whether `value` has the exact structure of an SES SMTP password: base64 of a version byte and
/// a 32-byte MAC.
pub fn recognise(value: &str) -> Option<PasswordVersion> {
    let bytes = STANDARD.decode(value.trim()).ok()?;
    if bytes.len() != 33 {
        return None;
    }
    match bytes[0] {
        VERSION_V4 => Some(PasswordVersion::V4),
        VERSION_V2 => Some(PasswordVersion::Legacy),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_of_derived_passwords() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let v4 = derive(&secret, "us-east-1");
        assert_eq!(v4.char_len(), 44);
        assert!(v4.expose().starts_with('B'));
        assert_eq!(recognise(v4.expose()), Some(PasswordVersion::V4));
        assert_ne!(
            v4,
            derive(&secret, "eu-west-1"),
            "passwords are region-bound"
        );
        let v2 = derive_legacy(&secret);
        assert!(v2.expose().starts_with('A'));
        assert_eq!(recognise(v2.expose()), Some(PasswordVersion::Legacy));
        assert_eq!(recognise(secret.expose()), None);
    }
}
