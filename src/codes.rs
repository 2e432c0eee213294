//! The catalogue of finding codes. A code is a stable kebab-case identifier and part of the JSON
//! contract: never rename one, only add. The words of each code (its meaning, cause and fixes)
//! live in its own file, `docs/codes/<code>.md`, embedded here at build time and read by
//! [`crate::code_docs`]: `explain`, the report and the README's table all come from it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! codes {
    ($($variant:ident = $code:literal;)*) => {
        /// A finding code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The code's doc file, as written (`docs/codes/<code>.md`).
            pub fn doc_source(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"), "/docs/codes/", $code, ".md"
                    )),)*
                }
            }
        }
    };
}

codes! {
    // Any step. A check that could not be made.
    EndpointUnreachable = "endpoint-unreachable";
    AwsCallFailed = "aws-call-failed";
    AwsUnavailable = "aws-unavailable";
    InsufficientAccess = "insufficient-access";
    // Step 0: local checks.
    CredentialsNotFound = "credentials-not-found";
    CredentialsWellFormed = "credentials-well-formed";
    AccessKeyIdMalformed = "access-key-id-malformed";
    SecretKeyTruncated = "secret-key-truncated";
    SecretKeyMalformed = "secret-key-malformed";
    SecretIsSmtpPassword = "secret-is-smtp-password";
    SessionTokenMissing = "session-token-missing";
    EnvShadowsProfile = "env-shadows-profile";
    RegionInvalid = "region-invalid";
    SessionTokenStray = "session-token-stray";
    EndpointIsSmtpHost = "endpoint-is-smtp-host";
    SdkDivergence = "sdk-divergence";
    // Step 1: identity.
    CredentialsValid = "credentials-valid";
    ClockSkew = "clock-skew";
    AccessKeyUnknown = "access-key-unknown";
    AccessKeyOtherAccount = "access-key-other-account";
    AccessKeyInactive = "access-key-inactive";
    SignatureMismatch = "signature-mismatch";
    CredentialsExpired = "credentials-expired";
    SigningRegionMismatch = "signing-region-mismatch";
    RoleAssumptionDenied = "role-assumption-denied";
    RootCredentials = "root-credentials";
    AdminCredentialsFailed = "admin-credentials-failed";
    // Step 2: region.
    RegionOk = "region-ok";
    RegionNotConfigured = "region-not-configured";
    RegionMismatch = "region-mismatch";
    RegionNotEnabled = "region-not-enabled";
    RegionUnsupported = "region-unsupported";
    SesSandbox = "ses-sandbox";
    SesSendingPaused = "ses-sending-paused";
    IdentityUnverified = "identity-unverified";
    // Step 3: permissions.
    PermissionGranted = "permission-granted";
    PermissionMissing = "permission-missing";
    PermissionExplicitlyDenied = "permission-explicitly-denied";
    // Step 4: access key.
    AccessKeyOk = "access-key-ok";
    AccessKeyUnused = "access-key-unused";
    AccessKeyOld = "access-key-old";
    RunInterrupted = "run-interrupted";
    AccessKeyLimit = "access-key-limit";
    // Step 5: IAM user.
    IamUserRequested = "iam-user-requested";
    IamUserMissing = "iam-user-missing";
    // SMTP credentials.
    SmtpPasswordIsSecretKey = "smtp-password-is-secret-key";
    SmtpPasswordWrongRegion = "smtp-password-wrong-region";
    SmtpPasswordLegacy = "smtp-password-legacy";
    SmtpAuthFailed = "smtp-auth-failed";
    // Step 6: test email.
    TestEmailSent = "test-email-sent";
    TestEmailUnconfirmed = "test-email-unconfirmed";
    TestEmailRejected = "test-email-rejected";
    // SMTP transport.
    SmtpPortBlocked = "smtp-port-blocked";
    SmtpTlsMismatch = "smtp-tls-mismatch";
    SmtpCredentialsTemporary = "smtp-credentials-temporary";
    SmtpUsernameNotKeyId = "smtp-username-not-key-id";
}

impl Code {
    /// One line: what the finding means (from its doc file).
    pub fn meaning(self) -> &'static str {
        crate::code_docs::of(self).meaning
    }

    pub fn from_code(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Code::from_code(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown code {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{s} is not kebab-case"
            );
            assert!(!code.meaning().is_empty() && code.meaning().ends_with('.'));
            assert_eq!(Code::from_code(s), Some(*code));
        }
    }

    #[test]
    fn every_code_named_in_the_spec_exists() {
        // The list of SPEC.md, "Finding codes": the JSON contract promises all of them.
        let spec = "credentials-not-found access-key-id-malformed secret-key-truncated \
            secret-key-malformed secret-is-smtp-password session-token-missing env-shadows-profile \
            clock-skew access-key-unknown access-key-other-account access-key-inactive \
            signature-mismatch credentials-expired root-credentials region-mismatch \
            region-not-enabled region-unsupported ses-sandbox ses-sending-paused \
            identity-unverified permission-missing permission-explicitly-denied access-key-old \
            access-key-limit iam-user-missing smtp-password-is-secret-key \
            smtp-password-wrong-region smtp-password-legacy smtp-auth-failed test-email-sent \
            test-email-rejected";
        for s in spec.split_whitespace() {
            assert!(
                Code::from_code(s).is_some(),
                "{s} missing from the catalogue"
            );
        }
    }

    #[test]
    fn every_code_is_documented_in_the_readme() {
        let readme = include_str!("../README.md");
        for code in Code::ALL {
            assert!(
                readme.contains(&format!("`{}`", code.as_str())),
                "README does not document {code}"
            );
        }
    }
}
