//! The catalogue of finding codes. A code is a stable kebab-case identifier and part of the JSON
//! contract: never rename one, only add. Every code has a one-line meaning here, which `explain`
//! and the README build on.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! codes {
    ($($variant:ident = $code:literal : $meaning:literal;)*) => {
        /// A finding code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// One line: what the finding means.
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning,)* }
            }
        }
    };
}

codes! {
    // Any step. A check that could not be made.
    EndpointUnreachable = "endpoint-unreachable": "An AWS endpoint could not be reached or did not answer in time, so the check could not finish.";
    AwsCallFailed = "aws-call-failed": "An AWS call failed with an error ses-doctor does not classify; the raw error is shown.";
    AwsUnavailable = "aws-unavailable": "AWS answered with throttling or a server error (429, 5xx) even after a retry, so the check could not finish; nothing is concluded about the credentials.";
    InsufficientAccess = "insufficient-access": "The credentials may not make a check (IAM or SES refused it); run with --admin-profile to complete it.";
    // Step 0: local checks.
    CredentialsNotFound = "credentials-not-found": "No AWS credentials were found where the mailer would look for them.";
    CredentialsWellFormed = "credentials-well-formed": "The access key ID and secret have the shape of real AWS credentials.";
    AccessKeyIdMalformed = "access-key-id-malformed": "The access key ID is not a 20-character AKIA/ASIA key ID (it may be a user or role ID, or have stray characters).";
    SecretKeyTruncated = "secret-key-truncated": "The secret access key is shorter than 40 characters: it was cut off when copied.";
    SecretKeyMalformed = "secret-key-malformed": "The secret access key has characters or a length no AWS secret has (whitespace, quotes, too long).";
    SecretIsSmtpPassword = "secret-is-smtp-password": "An SES SMTP password was given where the AWS secret access key belongs.";
    SessionTokenMissing = "session-token-missing": "A temporary (ASIA) access key was given without its session token.";
    EnvShadowsProfile = "env-shadows-profile": "AWS_ACCESS_KEY_ID in the environment overrides the credentials of the profile you meant to use.";
    RegionInvalid = "region-invalid": "The configured region is not an AWS region name (for example a display name or an availability zone).";
    SessionTokenStray = "session-token-stray": "A long-term (AKIA) access key is sent with a session token left over from temporary credentials, so AWS rejects the pair.";
    EndpointIsSmtpHost = "endpoint-is-smtp-host": "An API endpoint is set to SES's SMTP host (email-smtp.<region>.amazonaws.com), or the SMTP host to the API's (email.<region>.amazonaws.com): neither answers the other's protocol.";
    SdkDivergence = "sdk-divergence": "The AWS SDKs read these files or variables differently: a mailer on another SDK uses other credentials or another region than the one tested.";
    // Step 1: identity.
    CredentialsValid = "credentials-valid": "AWS accepted the credentials and said whose they are.";
    ClockSkew = "clock-skew": "This computer's clock differs from AWS's by more than AWS tolerates (5 minutes), so signatures are rejected.";
    AccessKeyUnknown = "access-key-unknown": "AWS does not know this access key ID: it was deleted, mistyped, or belongs to another partition.";
    AccessKeyOtherAccount = "access-key-other-account": "The access key belongs to a different AWS account from the one being administered.";
    AccessKeyInactive = "access-key-inactive": "The access key exists but is deactivated, so AWS rejects it.";
    SignatureMismatch = "signature-mismatch": "The key ID is known but the secret does not match it (wrong, truncated or altered secret).";
    CredentialsExpired = "credentials-expired": "The temporary credentials or session token have expired.";
    SigningRegionMismatch = "signing-region-mismatch": "The request was signed for another region than the endpoint's (\"Credential should be scoped to a valid region\"): the secret is not at fault.";
    RoleAssumptionDenied = "role-assumption-denied": "STS refused to let the source credentials assume the profile's role (no sts:AssumeRole permission, or the role's trust policy does not name them).";
    RootCredentials = "root-credentials": "The credentials are the account's root user keys, which must never be used for sending mail.";
    AdminCredentialsFailed = "admin-credentials-failed": "The admin credentials were rejected, so causes that need IAM could not be pinned down.";
    // Step 2: region.
    RegionOk = "region-ok": "The configured region has verified identities to send from.";
    RegionNotConfigured = "region-not-configured": "No region is configured for the mailer's credentials; the identities are in the region named.";
    RegionMismatch = "region-mismatch": "The configured region has no usable SES identity; the identities are in another region.";
    RegionNotEnabled = "region-not-enabled": "The region is an opt-in region that is not enabled for this account.";
    RegionUnsupported = "region-unsupported": "Amazon SES is not offered in the configured region.";
    SesSandbox = "ses-sandbox": "The account is in the SES sandbox in this region: only verified recipients, 200 messages a day, 1 a second.";
    SesSendingPaused = "ses-sending-paused": "Sending is paused for this account in this region.";
    IdentityUnverified = "identity-unverified": "The sender address or its domain is not verified in this region.";
    // Step 3: permissions.
    PermissionGranted = "permission-granted": "The user may send (ses:SendEmail and ses:SendRawEmail are allowed).";
    PermissionMissing = "permission-missing": "No policy allows the user to send (ses:SendEmail / ses:SendRawEmail).";
    PermissionExplicitlyDenied = "permission-explicitly-denied": "An explicit Deny (policy, permissions boundary or SCP) blocks sending; granting more cannot fix it.";
    // Step 4: access key.
    AccessKeyOk = "access-key-ok": "The key in use is active and recent, and no spare key is active.";
    AccessKeyUnused = "access-key-unused": "The user has another active access key that this mailer does not use (often the old key after a rotation).";
    AccessKeyOld = "access-key-old": "The access key is older than 90 days and should be rotated.";
    RunInterrupted = "run-interrupted": "An earlier run was stopped half-way (a key created but not saved, or a temporary file left); this run completes or undoes it.";
    AccessKeyLimit = "access-key-limit": "The user already has two access keys (inactive ones count), so a new one cannot be created.";
    // Step 5: IAM user.
    IamUserRequested = "iam-user-requested": "A dedicated IAM user for sending was asked for (--new-user).";
    IamUserMissing = "iam-user-missing": "There is no IAM user for these credentials (the user was deleted, or root keys are in use).";
    // SMTP credentials.
    SmtpPasswordIsSecretKey = "smtp-password-is-secret-key": "The AWS secret access key was given as the SMTP password; SES needs the password derived from it.";
    SmtpPasswordWrongRegion = "smtp-password-wrong-region": "The SMTP password was derived for a different region from the SMTP endpoint in use.";
    SmtpPasswordLegacy = "smtp-password-legacy": "The SMTP password is a legacy Signature Version 2 password, rejected by SES since 2021.";
    SmtpAuthFailed = "smtp-auth-failed": "The SMTP server rejected the credentials (535) for a reason not visible offline.";
    // Step 6: test email.
    TestEmailSent = "test-email-sent": "SES accepted the test email.";
    TestEmailUnconfirmed = "test-email-unconfirmed": "The test email was handed to SES, but its answer was lost (the connection broke): whether it was sent is unknown.";
    TestEmailRejected = "test-email-rejected": "SES rejected the test email.";
}

impl Code {
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
