//! `ses-doctor explain`: offline, from a finding code, an AWS error code or a pasted error message
//! to what it means, its likely causes in order (each tied to a finding code where one fits), the
//! steps to fix each one (with the setting to change in the mailer), and the `ses-doctor diagnose`
//! run that tells which cause it is.
//!
//! One model ([`Explanation`]), two renderers ([`render_human`], [`render_json`]).
//!
//! The knowledge is a table of [`Entry`]s. Each has patterns, matched case-insensitively at word
//! boundaries against the text with its whitespace collapsed. **The first entry that matches
//! wins, and the table runs from specific to generic**: "Signature expired" (clock skew) comes
//! before SignatureDoesNotMatch's other causes, "535 Signature Version 2 is deprecated" before a
//! plain 535. Values found in the text (regions, identities, the denied action, the caller's ARN,
//! an access key ID, the mailer that wrote it) fill the answer and may move a cause up (an opt-in
//! region named next to InvalidClientTokenId puts "region not enabled" first).
//!
//! Every finding code has a hand-written cause ([`code_doc`]): a test checks that none falls back
//! to the generic text.

use crate::codes::Code;
use crate::exit::{ExitCode, Failure};
use crate::regions;
use console::Style;
use serde::Serialize;
use std::fmt::Write;
use std::io::IsTerminal;

/// Version of the `explain` JSON document; changes only when a field is removed or changes
/// meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Text beyond this is not looked at (a whole log pasted by mistake).
const MAX_INPUT: usize = 256 * 1024;
/// The input is echoed in the JSON document up to this many characters.
const ECHO_LIMIT: usize = 4000;
const WIDTH: usize = 88;

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// What `ses-doctor explain` answers, for a person or (as JSON) a program.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub schema_version: u32,
    /// The text explained, with anything that looks like a secret masked, cut at 4000 characters.
    pub input: String,
    /// Whether ses-doctor knows the text (exit 0) or not (exit 1).
    pub recognised: bool,
    /// What the text was taken for, in words; null when not recognised.
    pub recognised_as: Option<String>,
    /// Stable identifier of what matched: an entry of the table, or `code:<finding code>`.
    pub entry: Option<String>,
    pub meaning: String,
    /// Values read from the text.
    pub found: Found,
    /// The likely causes, most likely first.
    pub causes: Vec<Cause>,
    /// The `ses-doctor diagnose` run that finds which cause applies.
    pub next: Next,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cause {
    /// 1 for the most likely.
    pub rank: usize,
    /// The finding `ses-doctor diagnose` reports for this cause, when there is one.
    pub code: Option<Code>,
    pub title: String,
    pub why: String,
    pub steps: Vec<String>,
    /// What to change in the mailer's own settings, when something is.
    pub mailer_setting: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Next {
    pub command: String,
    pub why: String,
}

/// Values read from the text.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Found {
    /// AWS region codes named in the text, in order of appearance.
    pub regions: Vec<String>,
    /// Email addresses or domains SES named as identities.
    pub identities: Vec<String>,
    /// The IAM action denied, e.g. `ses:SendRawEmail`.
    pub action: Option<String>,
    /// The caller's ARN (user or role session).
    pub principal: Option<String>,
    /// The resource's ARN (an SES identity or configuration set).
    pub resource: Option<String>,
    /// An access key ID (AKIA/ASIA) named in the text.
    pub access_key_id: Option<String>,
    /// Whether the text comes from SES's SMTP interface.
    pub smtp: bool,
    /// The mailer or tool that wrote the text, when it shows.
    pub mailer: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/// The text to explain from the command line: the words joined with spaces, or stdin for `-`.
/// Empty input is bad usage (exit 2).
pub fn read_input(words: &[String]) -> Result<String, Failure> {
    let text = if words.len() == 1 && words[0] == "-" {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("Paste the error text, then press Ctrl-D on a line of its own.");
        }
        let mut buf = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(stdin.lock(), MAX_INPUT as u64),
            &mut buf,
        )
        .map_err(|e| Failure::usage(format!("cannot read the text from stdin: {e}")))?;
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        words.join(" ")
    };
    if text.trim().is_empty() {
        return Err(Failure::usage(
            "nothing to explain: give a finding code (`ses-doctor explain secret-key-truncated`), \
             an AWS error code (`ses-doctor explain SignatureDoesNotMatch`) or the error text \
             itself (`-` reads it from stdin)",
        ));
    }
    Ok(text)
}

/// 0 when the text was recognised, 1 when not (like grep finding nothing).
pub fn exit_code(e: &Explanation) -> ExitCode {
    if e.recognised {
        ExitCode::Clean
    } else {
        ExitCode::Problems
    }
}

// ---------------------------------------------------------------------------------------------
// The knowledge: causes
// ---------------------------------------------------------------------------------------------

/// A cause as written in the table. Text may hold placeholders filled from the input:
/// `{region}`, `{region_flag}`, `{identity}`, `{action}`, `{principal}`, `{user}`, `{resource}`,
/// `{key_id}`, and the mailer's setting names `{mailer}`, `{m_region}`, `{m_host}`, `{m_user}`,
/// `{m_password}`, `{m_key}`, `{m_secret}`.
#[derive(Clone, Copy, Debug)]
pub struct Doc {
    pub title: &'static str,
    pub why: &'static str,
    pub steps: &'static [&'static str],
    pub mailer: Option<&'static str>,
}

#[derive(Clone, Copy, Debug)]
enum CauseRef {
    /// A cause `ses-doctor diagnose` reports as this finding.
    C(Code),
    /// A cause with no finding code of its own.
    O(&'static Doc),
}

const DIAGNOSE_STEP: &str =
    "Run `ses-doctor diagnose` (with --admin-profile NAME for the checks that need IAM) to see whether this applies.";

/// The cause behind each finding code: what it is, why it happens, how to fix it, from the code's
/// doc file (`docs/codes/<code>.md`, see [`crate::code_docs`]).
pub fn code_doc(code: Code) -> Option<Doc> {
    let d = crate::code_docs::of(code);
    Some(Doc {
        title: d.title,
        why: d.why,
        steps: d.steps.as_slice(),
        mailer: d.mailer,
    })
}

/// The causes of a finding code, most likely first, when the code itself is asked about.
fn code_causes(code: Code) -> Vec<CauseRef> {
    use CauseRef::{C, O};
    match code {
        Code::SignatureMismatch => vec![
            C(Code::SignatureMismatch),
            C(Code::SecretKeyMalformed),
            C(Code::SecretKeyTruncated),
            C(Code::SecretIsSmtpPassword),
            C(Code::EnvShadowsProfile),
        ],
        Code::AccessKeyUnknown => vec![
            C(Code::AccessKeyUnknown),
            C(Code::AccessKeyIdMalformed),
            O(&KEY_PROPAGATION),
        ],
        Code::SmtpAuthFailed => vec![
            C(Code::SmtpAuthFailed),
            C(Code::SmtpPasswordIsSecretKey),
            C(Code::SmtpPasswordWrongRegion),
            O(&DSN_ENCODING),
        ],
        Code::TestEmailRejected => vec![
            C(Code::TestEmailRejected),
            C(Code::IdentityUnverified),
            C(Code::SesSandbox),
            C(Code::SesSendingPaused),
            C(Code::PermissionMissing),
        ],
        Code::EndpointUnreachable => vec![C(Code::EndpointUnreachable), O(&TLS_PORT)],
        Code::IamUserMissing => vec![C(Code::IamUserMissing), C(Code::RootCredentials)],
        other => vec![C(other)],
    }
}

static KEY_PROPAGATION: Doc = Doc {
    title: "The key was created seconds ago and IAM has not propagated it yet",
    why: "IAM is eventually consistent: for about 5 to 15 seconds after it is created, a new key can be rejected.",
    steps: &["Wait 15 seconds and try again. `ses-doctor diagnose` polls until a new key is accepted."],
    mailer: None,
};

static DSN_ENCODING: Doc = Doc {
    title: "The password was altered in a URL or an .env file",
    why: "SMTP passwords and secrets contain / and + (and sometimes =). In a DSN such as smtp://user:password@host they must be percent-encoded, and an unquoted .env value can be cut at a special character.",
    steps: &[
        "Percent-encode the password in a DSN (/ as %2F, + as %2B, = as %3D), or use separate user and password settings.",
        "Put the value in double quotes in .env files.",
    ],
    mailer: Some("{m_password}: percent-encoded inside a DSN, quoted in an .env file."),
};

static NO_AUTH: Doc = Doc {
    title: "The mailer does not log in",
    why: "SES's SMTP interface needs AUTH, on an encrypted connection, before MAIL FROM. \"530 Authentication required\" means the mailer sent none: authentication is off, the user name is empty, or it skipped AUTH because it did not start TLS.",
    steps: &[
        "Turn SMTP authentication on and fill in the user name (the access key ID) and the SMTP password. In Postfix: smtp_sasl_auth_enable = yes, smtp_tls_security_level = encrypt, and a smtp_sasl_password_maps entry for the relay host.",
        "Use TLS: port 587 with STARTTLS, or 465 with TLS from the start.",
    ],
    mailer: Some("Authentication: on. {m_user}: the access key ID. {m_password}: the derived SMTP password. Encryption: STARTTLS on 587, or TLS on 465."),
};

static TLS_PORT: Doc = Doc {
    title: "The port and the TLS mode do not match, or the port is blocked",
    why: "SES's SMTP endpoint speaks STARTTLS on ports 25, 587 and 2587, and TLS from the first byte on 465 and 2465. A mailer set to TLS on 587 (or to STARTTLS on 465) waits for a greeting that never comes. EC2 throttles port 25, and firewalls often block 465 and 587.",
    steps: &[
        "Use port 587 with STARTTLS (\"TLS\" in most plugins), or port 465 with SSL/TLS.",
        "Check that outbound traffic to the port is allowed (firewall, security group, hosting provider).",
    ],
    mailer: Some("{m_host}: email-smtp.{region_flag}.amazonaws.com, port 587 with STARTTLS or port 465 with SSL/TLS."),
};

static RATE_LIMIT: Doc = Doc {
    title: "The mailer sends faster than the account's limit, or the daily quota is used up",
    why: "Each region has a maximum send rate (1 a second in the sandbox, 14 a second at the start of production access) and a 24-hour quota. Messages beyond them are refused with \"Throttling\" or \"454 Throttling failure\".",
    steps: &[
        "Slow the mailer below the rate (`aws sesv2 get-account --region {region_flag}` shows it) and retry refused messages with a backoff.",
        "Ask AWS for a higher quota: SES console → Account dashboard → Request a sending quota increase.",
    ],
    mailer: Some("Rate limit (messages a second): below the account's maximum send rate."),
};

static OLD_SIGNING: Doc = Doc {
    title: "The mail library signs requests the old way (Signature Version 3)",
    why: "SES no longer accepts API requests signed with Signature Version 3, only Signature Version 4. Old libraries (boto 2, old plugin versions, hand-made clients) must be updated; the credentials themselves may be fine.",
    steps: &[
        "Update the library or plugin to a version that signs with Signature Version 4 (every current AWS SDK does).",
        "If you sign requests yourself, implement Signature Version 4.",
    ],
    mailer: Some("Update the mailer, or its SES library, to a current version."),
};

// ---------------------------------------------------------------------------------------------
// The knowledge: what error texts mean
// ---------------------------------------------------------------------------------------------

/// One kind of error text. `label`, `meaning` and the causes' text may hold placeholders.
#[derive(Debug)]
struct Entry {
    /// Stable identifier (part of the JSON document).
    id: &'static str,
    label: &'static str,
    /// Lowercase; any one matching is enough.
    patterns: &'static [&'static str],
    meaning: &'static str,
    causes: &'static [CauseRef],
    /// The error only comes from the SMTP interface.
    smtp: bool,
}

/// The table, from specific to generic: the first entry with a matching pattern wins.
static ENTRIES: &[Entry] = {
    use CauseRef::{C, O};
    &[
        Entry {
            id: "smtp-signature-v2",
            label: "SMTP 535: legacy Signature Version 2 SMTP password",
            patterns: &[
                "signature version 2 is deprecated",
                "signature version 2 credentials",
            ],
            meaning: "SES's SMTP interface refused the login because the SMTP password is a legacy Signature Version 2 password. SES rejects those since March 2021: only passwords derived with the Signature Version 4 algorithm, for one region, work.",
            causes: &[C(Code::SmtpPasswordLegacy)],
            smtp: true,
        },
        Entry {
            id: "api-signature-v3",
            label: "SES API: Signature Version 3 request refused",
            patterns: &[
                "signature version 3 requests are deprecated",
                "signature version 3 is deprecated",
                "migrate to signature version 4",
            ],
            meaning: "SES refused an API request signed with Signature Version 3, which it no longer accepts. The library that sends the request is too old; the credentials may well be right.",
            causes: &[O(&OLD_SIGNING)],
            smtp: false,
        },
        Entry {
            id: "clock-skew",
            label: "AWS error: the signature expired (clock skew)",
            patterns: &[
                "signature expired",
                "signature not yet current",
                "requesttimetooskewed",
                "request time too skewed",
                "the difference between the request time and the current time is too large",
                "requestexpired",
            ],
            meaning: "AWS refused the request because its signature is dated more than 5 minutes away from AWS's own clock. The key and the secret may be perfectly right: the clock of the machine that sends is wrong.",
            causes: &[C(Code::ClockSkew)],
            smtp: false,
        },
        Entry {
            id: "expired-token",
            label: "AWS error ExpiredToken: the temporary credentials expired",
            patterns: &[
                "expiredtoken",
                "expiredtokenexception",
                "security token included in the request is expired",
                "the provided token has expired",
            ],
            meaning: "The request was signed with temporary credentials (a key with a session token) that have expired. Temporary credentials last minutes to hours and must be renewed by the SDK, not copied.",
            causes: &[
                C(Code::CredentialsExpired),
                C(Code::EnvShadowsProfile),
                C(Code::ClockSkew),
            ],
            smtp: false,
        },
        Entry {
            id: "opt-in-required",
            label: "AWS error OptInRequired: the region is not enabled",
            patterns: &["optinrequired", "needs a subscription for the service"],
            meaning: "The account has not enabled {region} (an opt-in region), or the service needs a subscription there.",
            causes: &[C(Code::RegionNotEnabled), C(Code::RegionUnsupported)],
            smtp: false,
        },
        Entry {
            id: "access-key-limit",
            label: "IAM error LimitExceeded: AccessKeysPerUser",
            patterns: &[
                "accesskeysperuser",
                "limitexceeded",
                "limitexceededexception",
                "maximum of two access keys",
            ],
            meaning: "IAM refused to create an access key because the user already has two, the most IAM allows. Inactive keys count too.",
            causes: &[C(Code::AccessKeyLimit)],
            smtp: false,
        },
        Entry {
            id: "sending-paused",
            label: "SES MessageRejected: sending paused",
            patterns: &[
                "sending paused for this account",
                "sending is paused",
                "accountsendingpausedexception",
                "email sending for the account is paused",
                "sending suspended for this account",
                "configurationsetsendingpausedexception",
            ],
            meaning: "SES accepted the credentials but refused to send: sending is paused for the account (or its configuration set) in {region}. AWS pauses sending on a high bounce or complaint rate or during a review, and writes to the account's email address about it.",
            causes: &[C(Code::SesSendingPaused)],
            smtp: false,
        },
        Entry {
            id: "identity-not-verified",
            label: "SES MessageRejected: Email address is not verified",
            patterns: &[
                "email address is not verified",
                "failed the check in region",
                "mailfromdomainnotverified",
                "mailfromdomainnotverifiedexception",
            ],
            meaning: "SES accepted the credentials but refused the message: {identity} is not a verified identity in {region}. Verified identities, and the sandbox that requires verified recipients as well, are separate in each region.",
            causes: &[
                C(Code::SesSandbox),
                C(Code::IdentityUnverified),
                C(Code::RegionMismatch),
            ],
            smtp: false,
        },
        Entry {
            id: "explicit-deny",
            label: "AccessDenied: an explicit Deny",
            patterns: &[
                "with an explicit deny",
                "explicit deny in",
                "no permissions boundary allows",
                "no service control policy allows",
                "because no session policy allows",
            ],
            meaning: "{principal} may not call {action}: an explicit Deny (an identity policy, a permissions boundary or an Organizations SCP) blocks it. The key and the secret are valid, and no Allow can override a Deny.",
            causes: &[C(Code::PermissionExplicitlyDenied), C(Code::InsufficientAccess)],
            smtp: false,
        },
        Entry {
            id: "not-authorized",
            label: "AccessDenied: not authorized to perform the action",
            patterns: &[
                "is not authorized to perform",
                "not authorized to perform",
                "accessdenied",
                "accessdeniedexception",
                "access denied",
                "because no identity-based policy allows",
            ],
            meaning: "AWS accepted the credentials of {principal} but no policy allows {action} on {resource}. An AccessDenied shows that the key and the secret are right: the fix is a permission, not a new key.",
            causes: &[
                C(Code::PermissionMissing),
                C(Code::PermissionExplicitlyDenied),
                C(Code::InsufficientAccess),
            ],
            smtp: false,
        },
        Entry {
            id: "endpoint-is-smtp-host",
            label: "An SES API call sent to the SMTP host (or SMTP to the API host)",
            patterns: &["invalid endpoint: email-smtp", "https://email-smtp"],
            meaning: "An SES API call went to email-smtp.<region>.amazonaws.com, SES's SMTP host, which does not answer HTTPS: the API's endpoint is email.<region>.amazonaws.com, and the SDK finds it itself when no endpoint is set.",
            causes: &[C(Code::EndpointIsSmtpHost), C(Code::EndpointUnreachable)],
            smtp: false,
        },
        Entry {
            id: "signing-region-mismatch",
            label: "AWS error: the credential is scoped to another region than the endpoint's",
            patterns: &[
                "credential should be scoped to a valid region",
                "credential must be scoped to a valid region",
            ],
            meaning: "The request was signed for a region (the one in quotes, when AWS names it) that is not the region of the endpoint it was sent to. AWS refuses it before it looks at the key: the key and the secret are not at fault.",
            causes: &[
                C(Code::SigningRegionMismatch),
                C(Code::RegionUnsupported),
                C(Code::RegionInvalid),
            ],
            smtp: false,
        },
        Entry {
            id: "credential-scope",
            label: "AWS error: the credential is scoped to the wrong region",
            patterns: &[
                "credential should be scoped to correct service",
                "the authorization header is malformed; the region",
            ],
            meaning: "The request was signed for a region the endpoint does not accept: SES is not offered in that region, or the endpoint and the region setting name different regions.",
            causes: &[
                C(Code::RegionUnsupported),
                C(Code::RegionMismatch),
                C(Code::RegionInvalid),
            ],
            smtp: false,
        },
        Entry {
            id: "throttling",
            label: "SES Throttling: sending rate or daily quota exceeded",
            patterns: &[
                "maximum sending rate exceeded",
                "daily message quota exceeded",
                "throttling failure",
                "throttling",
                "toomanyrequestsexception",
            ],
            meaning: "SES refused the message because the account sent faster than its maximum send rate, or used up its 24-hour quota, in {region}.",
            causes: &[O(&RATE_LIMIT), C(Code::SesSandbox)],
            smtp: false,
        },
        Entry {
            id: "credentials-not-found",
            label: "SDK error: no credentials found",
            patterns: &[
                "missing credentials in config",
                "could not load credentials from any providers",
                "unable to locate credentials",
                "nocredentialserror",
                "unable to load aws credentials from any provider",
                "error retrieving credentials from the instance profile metadata service",
                "missing aws credentials",
                "credentialsprovidererror",
                "no credentials provider",
                "failed to load credentials",
                "missingauthenticationtoken",
                "request must contain either a valid (registered) aws access key id",
            ],
            meaning: "The SDK found no credentials anywhere it looks (environment variables, the shared credentials file of the user it runs as, SSO, the instance or container role), so nothing reached SES.",
            causes: &[C(Code::CredentialsNotFound), C(Code::EnvShadowsProfile)],
            smtp: false,
        },
        Entry {
            id: "region-missing",
            label: "SDK error: no region configured",
            patterns: &[
                "missing region in config",
                "you must specify a region",
                "noregionerror",
                "region is missing",
                "a region must be set",
            ],
            meaning: "The SDK has no region to send to: none is set in the mailer, in its environment or in the profile.",
            causes: &[C(Code::RegionNotConfigured)],
            smtp: false,
        },
        Entry {
            id: "endpoint-not-found",
            label: "Connection error: no SES endpoint for the region",
            patterns: &[
                "could not connect to the endpoint url",
                "region must be a valid rfc host label",
                "invalid aws region",
                "invalid region",
                "getaddrinfo enotfound",
                "name or service not known",
            ],
            meaning: "The SDK could not reach an SES endpoint for the region it was given: the region name is wrong, SES is not offered there, or DNS or the network fails.",
            causes: &[
                C(Code::RegionInvalid),
                C(Code::RegionUnsupported),
                C(Code::EndpointUnreachable),
            ],
            smtp: false,
        },
        Entry {
            id: "signature-mismatch",
            label: "AWS error SignatureDoesNotMatch",
            patterns: &[
                "signaturedoesnotmatch",
                "request signature we calculated does not match",
                "invalidsignatureexception",
                "invalid signature or credentials",
            ],
            meaning: "AWS knows the access key ID, but the request's signature does not match the one AWS computed with that key's secret: the secret is wrong, altered in transit, or not this key's.",
            causes: &[
                C(Code::SignatureMismatch),
                C(Code::SecretKeyMalformed),
                C(Code::SecretIsSmtpPassword),
                C(Code::SecretKeyTruncated),
                C(Code::EnvShadowsProfile),
                C(Code::ClockSkew),
            ],
            smtp: false,
        },
        Entry {
            id: "invalid-token",
            label: "AWS error InvalidClientTokenId / UnrecognizedClientException",
            patterns: &[
                "invalidclienttokenid",
                "unrecognizedclientexception",
                "unrecognizedclient",
                "security token included in the request is invalid",
                "the aws access key id you provided does not exist",
                "invalidaccesskeyid",
                "aws was not able to validate the provided access credentials",
                "authfailure",
            ],
            meaning: "AWS does not accept the access key ID (or the session token) in the request: the key does not exist or is inactive, or {region} is an opt-in region not enabled for the account.",
            causes: &[
                C(Code::AccessKeyUnknown),
                C(Code::AccessKeyIdMalformed),
                C(Code::AccessKeyInactive),
                C(Code::RegionNotEnabled),
                C(Code::SessionTokenMissing),
                C(Code::EnvShadowsProfile),
                O(&KEY_PROPAGATION),
            ],
            smtp: false,
        },
        Entry {
            id: "smtp-530-starttls",
            label: "SMTP 530: STARTTLS required first",
            patterns: &[
                "530 must issue a starttls command first",
                "must issue a starttls command first",
            ],
            meaning: "The mailer tried to log in or send in plain text. SES's SMTP interface needs the connection encrypted first: STARTTLS on ports 25, 587 and 2587, or TLS from the first byte on 465 and 2465. Encryption is off in the mailer, or the mailer skipped STARTTLS.",
            causes: &[C(Code::SmtpTlsMismatch), O(&NO_AUTH)],
            smtp: true,
        },
        Entry {
            id: "smtp-tls-wrong-version",
            label: "TLS error: wrong version number (TLS spoken to a STARTTLS port)",
            patterns: &[
                "wrong version number",
                "corrupt message of type invalidcontenttype",
            ],
            meaning: "The mailer started TLS at once, but the server answered in plain text: the port expects STARTTLS (SES's 25, 587 and 2587), not TLS from the first byte (465 and 2465).",
            causes: &[C(Code::SmtpTlsMismatch)],
            smtp: true,
        },
        Entry {
            id: "smtp-530",
            label: "SMTP 530: authentication required",
            patterns: &[
                "530 authentication required",
                "530 5.7.0",
            ],
            meaning: "SES's SMTP interface requires the mailer to log in (AUTH, over TLS) before it sends, and the mailer did not.",
            causes: &[O(&NO_AUTH), O(&TLS_PORT)],
            smtp: true,
        },
        Entry {
            id: "smtp-535",
            label: "SMTP 535: Authentication Credentials Invalid",
            patterns: &[
                "535 authentication credentials invalid",
                "authentication credentials invalid",
                "smtpauthenticationerror",
                "sasl authentication failed",
                "failed to authenticate on smtp server",
                "smtp error: could not authenticate",
                "535",
            ],
            meaning: "SES's SMTP interface refused the user name and password. Over SMTP the user name is the access key ID and the password is an SMTP password derived from the secret access key for one region, not the secret itself.",
            causes: &[
                C(Code::SmtpPasswordIsSecretKey),
                C(Code::SmtpPasswordWrongRegion),
                C(Code::AccessKeyInactive),
                C(Code::AccessKeyUnknown),
                O(&DSN_ENCODING),
                C(Code::SmtpAuthFailed),
            ],
            smtp: true,
        },
        Entry {
            id: "message-rejected",
            label: "SES MessageRejected",
            patterns: &["messagerejected", "message rejected", "messagerejectedexception"],
            meaning: "SES accepted the credentials but refused this message. SES's reason follows the words \"Message rejected\": an unverified address, the sandbox, paused sending.",
            causes: &[
                C(Code::IdentityUnverified),
                C(Code::SesSandbox),
                C(Code::SesSendingPaused),
            ],
            smtp: false,
        },
        Entry {
            id: "smtp-connect-failed",
            label: "SMTP: could not connect to the server",
            patterns: &[
                "could not connect to smtp host",
                "smtp connect() failed",
                "failed to connect to server",
                "connection could not be established with host",
            ],
            meaning: "The mailer could not open a connection to the SMTP server: no answer on the port, or a refusal. The port is blocked between the mailer and SES, or the port and the encryption setting do not match.",
            causes: &[
                C(Code::SmtpPortBlocked),
                C(Code::SmtpTlsMismatch),
                C(Code::EndpointUnreachable),
            ],
            smtp: true,
        },
        Entry {
            id: "connection-timeout",
            label: "Connection error: timeout, or no SMTP greeting",
            patterns: &[
                "greeting never received",
                "connection timed out",
                "etimedout",
                "timed out waiting for",
                "connect timeout",
                "operation timed out",
                "econnrefused",
            ],
            meaning: "The connection to the server timed out, was refused, or the SMTP greeting never came: the port is blocked, or the port and the TLS mode do not match.",
            causes: &[O(&TLS_PORT), C(Code::EndpointUnreachable)],
            smtp: false,
        },
    ]
};

// ---------------------------------------------------------------------------------------------
// Mailers: what their settings are called
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Mailer {
    name: &'static str,
    detect: &'static [&'static str],
    region: &'static str,
    host: &'static str,
    user: &'static str,
    password: &'static str,
    key: &'static str,
    secret: &'static str,
}

static GENERIC: Mailer = Mailer {
    name: "the mailer",
    detect: &[],
    region: "Region",
    host: "SMTP host",
    user: "SMTP user name",
    password: "SMTP password",
    key: "Access key ID",
    secret: "Secret access key",
};

const WP_REGION: &str = "Region (the plugin lists regions by name)";

static MAILERS: &[Mailer] = &[
    Mailer {
        name: "Laravel",
        detect: &["laravel", "illuminate\\", "mail_mailer"],
        region: "AWS_DEFAULT_REGION in .env",
        host: "MAIL_HOST in .env",
        user: "MAIL_USERNAME in .env",
        password: "MAIL_PASSWORD in .env",
        key: "AWS_ACCESS_KEY_ID in .env",
        secret: "AWS_SECRET_ACCESS_KEY in .env",
    },
    Mailer {
        name: "Symfony Mailer",
        detect: &[
            "symfony\\component\\mailer",
            "ses+smtp://",
            "ses+https://",
            "ses+api://",
            "mailer_dsn",
        ],
        region: "the region in MAILER_DSN (?region=…)",
        host: "the host in MAILER_DSN",
        user: "the user in MAILER_DSN",
        password: "the password in MAILER_DSN (percent-encoded)",
        key: "the user in MAILER_DSN (the access key ID)",
        secret: "the password in MAILER_DSN (the secret, percent-encoded)",
    },
    Mailer {
        name: "FluentSMTP",
        detect: &["fluentsmtp", "fluent smtp", "fluent-smtp"],
        region: WP_REGION,
        host: "SMTP Host",
        user: "SMTP Username",
        password: "SMTP Password",
        key: "Access Key",
        secret: "Secret Key",
    },
    Mailer {
        name: "WP Mail SMTP",
        detect: &["wp mail smtp", "wpmailsmtp"],
        region: WP_REGION,
        host: "SMTP Host",
        user: "SMTP Username",
        password: "SMTP Password",
        key: "Access Key ID",
        secret: "Secret Access Key",
    },
    Mailer {
        name: "WP Offload SES",
        detect: &["wp offload ses", "wposes", "wp-ses"],
        region: WP_REGION,
        host: "SMTP host",
        user: "SMTP user name",
        password: "SMTP password",
        key: "Access Key ID",
        secret: "Secret Access Key",
    },
    Mailer {
        name: "the mail plugin (php-aws-ses, as in FluentSMTP)",
        detect: &["simpleemailservice::"],
        region: WP_REGION,
        host: "SMTP Host",
        user: "SMTP Username",
        password: "SMTP Password",
        key: "Access Key",
        secret: "Secret Key",
    },
    Mailer {
        name: "Django (django-ses)",
        detect: &[
            "django",
            "sesaddressnotverifiederror",
            "aws_ses_region",
            "botoservererror",
        ],
        region: "AWS_SES_REGION_NAME (and AWS_SES_REGION_ENDPOINT, if set) in settings.py",
        host: "EMAIL_HOST",
        user: "EMAIL_HOST_USER",
        password: "EMAIL_HOST_PASSWORD",
        key: "AWS_ACCESS_KEY_ID in settings.py",
        secret: "AWS_SECRET_ACCESS_KEY in settings.py",
    },
    Mailer {
        name: "Rails (Action Mailer)",
        detect: &["net::smtp", "actionmailer", "action_mailer"],
        region: "the region in smtp_settings address (email-smtp.<region>.amazonaws.com)",
        host: "smtp_settings address",
        user: "smtp_settings user_name",
        password: "smtp_settings password",
        key: "the SES client's access_key_id",
        secret: "the SES client's secret_access_key",
    },
    Mailer {
        name: "PHPMailer",
        detect: &["phpmailer", "smtp error: could not authenticate"],
        region: "the region in $mail->Host (email-smtp.<region>.amazonaws.com)",
        host: "$mail->Host",
        user: "$mail->Username",
        password: "$mail->Password",
        key: "the access key ID",
        secret: "the secret access key",
    },
    Mailer {
        name: "Nodemailer",
        detect: &["nodemailer", "\"code\":\"eauth\"", "eauth"],
        region: "the SES client's region",
        host: "host",
        user: "auth.user",
        password: "auth.pass",
        key: "accessKeyId",
        secret: "secretAccessKey",
    },
    Mailer {
        name: "Postfix",
        detect: &[
            "postfix/",
            "sasl authentication failed",
            "smtp_sasl",
            "relayhost",
        ],
        region: "the relayhost parameter ([email-smtp.<region>.amazonaws.com]:587)",
        host: "the relayhost parameter",
        user: "the user name in the smtp_sasl_password_maps file (run postmap after editing)",
        password: "the password in the smtp_sasl_password_maps file (run postmap after editing)",
        key: "the user name in smtp_sasl_password_maps",
        secret: "the password in smtp_sasl_password_maps",
    },
    Mailer {
        name: "Python smtplib",
        detect: &["smtplib"],
        region: "the region in the SMTP host name (email-smtp.<region>.amazonaws.com)",
        host: "the host given to smtplib.SMTP()",
        user: "the user name given to login()",
        password: "the password given to login()",
        key: "the access key ID",
        secret: "the secret access key",
    },
    Mailer {
        name: "the AWS CLI or SDK",
        detect: &["an error occurred (", "botocore", "boto3"],
        region: "region (--region, AWS_REGION, or region in ~/.aws/config)",
        host: "the endpoint",
        user: "the SMTP user name",
        password: "the SMTP password",
        key: "aws_access_key_id (or AWS_ACCESS_KEY_ID)",
        secret: "aws_secret_access_key (or AWS_SECRET_ACCESS_KEY)",
    },
];

fn detect_mailer(lower: &str) -> Option<&'static Mailer> {
    MAILERS
        .iter()
        .find(|m| m.detect.iter().any(|p| lower.contains(p)))
}

// ---------------------------------------------------------------------------------------------
// Explaining
// ---------------------------------------------------------------------------------------------

/// Explains `input`: a finding code, an AWS error code, or a pasted error message.
pub fn explain(input: &str) -> Explanation {
    let text = cut(input, MAX_INPUT);
    let lower = text.to_ascii_lowercase();
    let norm = normalise(&lower);
    let mailer = detect_mailer(&lower);
    let mut found = extract(text, &lower);
    found.mailer = mailer.map(|m| m.name.to_owned());
    let ctx = Ctx {
        found: &found,
        mailer: mailer.unwrap_or(&GENERIC),
    };

    if let Some(code) = as_code(text).or_else(|| bracketed_code(&lower)) {
        let causes = code_causes(code);
        return ctx.build(
            text,
            format!("finding code `{code}`"),
            format!("code:{code}"),
            code.meaning().to_owned(),
            &causes,
            found.smtp || is_smtp_code(code),
        );
    }
    if let Some(entry) = match_entry(&norm) {
        let mut causes = entry.causes.to_vec();
        promote(&mut causes, &found, text, &lower);
        return ctx.build(
            text,
            ctx.fill(entry.label),
            entry.id.to_owned(),
            ctx.fill(entry.meaning),
            &causes,
            found.smtp || entry.smtp,
        );
    }
    Explanation {
        schema_version: SCHEMA_VERSION,
        input: echo(text),
        recognised: false,
        recognised_as: None,
        entry: None,
        meaning: "ses-doctor does not recognise this text. It knows the finding codes of `ses-doctor diagnose`, AWS error codes (SignatureDoesNotMatch, InvalidClientTokenId, AccessDenied, MessageRejected, ExpiredToken…) and the messages SES, the AWS SDKs, the AWS CLI and SMTP servers send with them.".to_owned(),
        next: ctx.next(found.smtp, &[]),
        found: found.clone(),
        causes: Vec::new(),
    }
}

fn is_smtp_code(code: Code) -> bool {
    matches!(
        code,
        Code::SmtpAuthFailed
            | Code::SmtpPasswordIsSecretKey
            | Code::SmtpPasswordLegacy
            | Code::SmtpPasswordWrongRegion
            | Code::SmtpPortBlocked
            | Code::SmtpTlsMismatch
            | Code::SmtpCredentialsTemporary
            | Code::SmtpUsernameNotKeyId
    )
}

/// The first entry of the table with a pattern in `norm` (lowercase, whitespace collapsed).
fn match_entry(norm: &str) -> Option<&'static Entry> {
    ENTRIES
        .iter()
        .find(|e| e.patterns.iter().any(|p| contains_word(norm, p)))
        .or_else(|| {
            // An error name retyped with spaces or underscores ("Signature Does Not Match",
            // "signature_does_not_match") is the name itself.
            let runs = joined_word_runs(norm);
            ENTRIES.iter().find(|e| {
                e.patterns
                    .iter()
                    .any(|p| is_error_name(p) && runs.iter().any(|r| r == p))
            })
        })
}

/// A pattern that is an error's name: one lowercase word of letters (`signaturedoesnotmatch`).
fn is_error_name(pattern: &str) -> bool {
    pattern.len() >= 10 && pattern.chars().all(|c| c.is_ascii_lowercase())
}

/// Every run of 2 to 6 consecutive words of `norm`, joined without separators.
fn joined_word_runs(norm: &str) -> Vec<String> {
    let words: Vec<&str> = norm
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut runs = Vec::new();
    for start in 0..words.len() {
        for len in 2..=6.min(words.len() - start) {
            runs.push(words[start..start + len].concat());
        }
    }
    runs
}

/// Moves a cause to the front when the text points at it.
fn promote(causes: &mut Vec<CauseRef>, found: &Found, text: &str, lower: &str) {
    let mut to_front = |code: Code| {
        if let Some(i) = causes
            .iter()
            .position(|c| matches!(c, CauseRef::C(x) if *x == code))
        {
            let c = causes.remove(i);
            causes.insert(0, c);
        }
    };
    // Applied in increasing order of strength: the last one applied ends up first.
    if lower.contains("ses-smtp-user") || lower.contains("smtp credentials") {
        to_front(Code::SecretIsSmtpPassword);
    }
    if found.action.as_deref().is_some_and(|a| {
        let a = a.to_ascii_lowercase();
        ["iam:", "sts:", "ses:get", "ses:list"]
            .iter()
            .any(|p| a.starts_with(p))
    }) {
        to_front(Code::InsufficientAccess);
    }
    if found
        .access_key_id
        .as_deref()
        .is_some_and(|k| k.starts_with("ASIA"))
    {
        to_front(Code::SessionTokenMissing);
    }
    if found
        .regions
        .iter()
        .any(|r| regions::lookup(r).is_some_and(|e| e.opt_in))
    {
        to_front(Code::RegionNotEnabled);
    }
    // Over SMTP, the user name shows two causes the entry may not list: a temporary key's ID,
    // or no key ID at all (an IAM user name, an address).
    let smtp = found.smtp
        || causes
            .iter()
            .any(|c| matches!(c, CauseRef::C(Code::SmtpAuthFailed)));
    let user = smtp_username(text);
    let to_first = |causes: &mut Vec<CauseRef>, code: Code| {
        causes.retain(|c| !matches!(c, CauseRef::C(x) if *x == code));
        causes.insert(0, CauseRef::C(code));
    };
    // A redacted user name ("XXXXXXXX", "****", "<user>") says nothing.
    let placeholder = |u: &str| {
        let distinct: std::collections::HashSet<char> = u.to_ascii_lowercase().chars().collect();
        distinct.len() < 3 || u.starts_with(['<', '$', '%', '{'])
    };
    if user
        .as_deref()
        .is_some_and(|u| !u.starts_with("AKIA") && !u.starts_with("ASIA") && !placeholder(u))
    {
        to_first(causes, Code::SmtpUsernameNotKeyId);
    }
    if smtp
        && (user.as_deref().is_some_and(|u| u.starts_with("ASIA"))
            || found
                .access_key_id
                .as_deref()
                .is_some_and(|k| k.starts_with("ASIA")))
    {
        to_first(causes, Code::SmtpCredentialsTemporary);
    }
    // The shape of a pasted credential is the strongest sign: its cause comes first even where
    // the entry did not list it.
    if let Some(shape) = credential_shape(text) {
        causes.retain(|c| !matches!(c, CauseRef::C(x) if *x == shape));
        causes.insert(0, CauseRef::C(shape));
    }
}

/// The SMTP user name a mailer's error names: Swift Mailer and Symfony say `with username "X"`.
fn smtp_username(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("with username \"")? + "with username \"".len();
    let rest = &text[at..];
    let end = rest.find('"')?;
    Some(rest[..end].trim().to_owned())
}

/// What the shape of a credential pasted with the error shows: a secret access key (40
/// characters) given as the SMTP password, a legacy SMTP password (44 characters starting with
/// A), an SMTP password (44 characters starting with B) given as the secret, a secret cut short.
/// Placeholders (`xxxx…`, values without digits or without mixed case) are ignored.
fn credential_shape(text: &str) -> Option<Code> {
    let looks_real = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
            && v.chars().any(|c| c.is_ascii_digit())
            && v.chars().any(|c| c.is_ascii_uppercase())
            && v.chars().any(|c| c.is_ascii_lowercase())
    };
    sensitive_values(text)
        .into_iter()
        .find_map(|(name, range)| {
            let v = &text[range];
            if !looks_real(v) {
                return None;
            }
            let len = v.len();
            if name.contains("secret") {
                match len {
                    44 if v.starts_with('B') => Some(Code::SecretIsSmtpPassword),
                    20..=39 => Some(Code::SecretKeyTruncated),
                    _ => None,
                }
            } else if name.contains("pass") || name.contains("pwd") {
                match len {
                    40 => Some(Code::SmtpPasswordIsSecretKey),
                    44 if v.starts_with('A') => Some(Code::SmtpPasswordLegacy),
                    _ => None,
                }
            } else {
                None
            }
        })
}

/// Names that mark the value after them as a secret.
const SENSITIVE: &[&str] = &["pass", "pwd", "secret", "token"];

/// The values of settings named like a password, a secret or a token (`NAME=value`,
/// `NAME: value`, `"name": "value"`, `'NAME' => 'value'`, `define('NAME', 'value')`), and the
/// password of a URL (`scheme://user:password@host`): each with its lowercase name.
fn sensitive_values(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let b = text.as_bytes();
    let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
    let is_quote = |c: u8| c == b'"' || c == b'\'' || c == b'`';
    let ends_value = |c: u8| c.is_ascii_whitespace() || is_quote(c) || b",;&)}]>\\".contains(&c);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        if !is_name(b[pos]) {
            pos += 1;
            continue;
        }
        let start = pos;
        while pos < b.len() && is_name(b[pos]) {
            pos += 1;
        }
        let name = text[start..pos].to_ascii_lowercase();
        // Not `…_key_id`, nor error codes such as InvalidClientTokenId or ExpiredTokenException.
        let error_code = ["invalid", "expired", "missing", "unrecognized"]
            .iter()
            .any(|p| name.starts_with(p))
            || name.ends_with("id")
            || name.ends_with("exception");
        if error_code || !SENSITIVE.iter().any(|k| name.contains(k)) {
            continue;
        }
        let mut j = pos;
        let quoted = j < b.len() && is_quote(b[j]);
        if quoted {
            j += 1;
        }
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if text[j..].starts_with("=>") {
            j += 2;
        } else if j < b.len() && (b[j] == b'=' || b[j] == b':' || (quoted && b[j] == b',')) {
            j += 1;
        } else {
            continue;
        }
        while j < b.len() && (b[j] == b' ' || is_quote(b[j])) {
            j += 1;
        }
        let v = j;
        while j < b.len() && !ends_value(b[j]) {
            j += 1;
        }
        if j - v >= 6 {
            out.push((name, v..j));
            pos = j;
        }
    }
    // scheme://user:password@host
    for (i, _) in text.match_indices("://") {
        let rest = &text[i + 3..];
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let from = i + 3 + colon + 1;
                let to = i + 3 + at;
                if to > from {
                    out.push(("password".to_owned(), from..to));
                }
            }
        }
    }
    out
}

struct Ctx<'a> {
    found: &'a Found,
    mailer: &'static Mailer,
}

impl Ctx<'_> {
    fn build(
        &self,
        text: &str,
        recognised_as: String,
        entry: String,
        meaning: String,
        causes: &[CauseRef],
        smtp: bool,
    ) -> Explanation {
        let causes: Vec<Cause> = causes
            .iter()
            .enumerate()
            .map(|(i, c)| self.cause(i + 1, c))
            .collect();
        let mut found = self.found.clone();
        found.smtp = smtp;
        Explanation {
            schema_version: SCHEMA_VERSION,
            input: echo(text),
            recognised: true,
            recognised_as: Some(recognised_as),
            entry: Some(entry),
            meaning,
            next: self.next(smtp, &causes),
            found,
            causes,
        }
    }

    fn cause(&self, rank: usize, cause: &CauseRef) -> Cause {
        let (code, doc) = match *cause {
            CauseRef::C(code) => (Some(code), code_doc(code)),
            CauseRef::O(doc) => (None, Some(*doc)),
        };
        match doc {
            Some(doc) => Cause {
                rank,
                code,
                title: self.fill(doc.title),
                why: self.fill(doc.why),
                steps: doc.steps.iter().map(|s| self.fill(s)).collect(),
                mailer_setting: doc.mailer.map(|m| sentence_case(&self.fill(m))),
            },
            // A code without its own text yet: its catalogue meaning, and diagnose.
            None => {
                let meaning = code.map(|c| c.meaning()).unwrap_or_default();
                Cause {
                    rank,
                    code,
                    title: meaning.to_owned(),
                    why: meaning.to_owned(),
                    steps: vec![DIAGNOSE_STEP.to_owned()],
                    mailer_setting: None,
                }
            }
        }
    }

    /// The `ses-doctor diagnose` run that tells the causes apart.
    fn next(&self, smtp: bool, causes: &[Cause]) -> Next {
        let mut command = String::from("ses-doctor diagnose");
        let mut why = String::from(
            "It checks each cause against AWS, read-only unless you agree to a fix, and names the one that applies.",
        );
        if let Some(region) = self.ses_region() {
            let _ = write!(command, " --region {region}");
            why.push_str(&format!(
                " --region {region}: the region the error names, as the mailer uses it."
            ));
        }
        if smtp {
            command.push_str(" --via smtp");
            match self.found.access_key_id.as_deref() {
                Some(key) if key.starts_with("AKIA") => {
                    let _ = write!(command, " --smtp-username {key}");
                    why.push_str(" --via smtp sends the test email over SMTP as the mailer does; the mailer's SMTP password is read from SES_DOCTOR_SMTP_PASSWORD or a hidden prompt.");
                }
                _ => why.push_str(" --via smtp sends the test email over SMTP as the mailer does; add --smtp-username AKIA… to test the mailer's own SMTP password (read from SES_DOCTOR_SMTP_PASSWORD or a hidden prompt)."),
            }
        }
        let needs_admin = causes.iter().any(|c| {
            matches!(
                c.code,
                Some(
                    Code::AccessKeyUnknown
                        | Code::AccessKeyInactive
                        | Code::AccessKeyOtherAccount
                        | Code::PermissionMissing
                        | Code::PermissionExplicitlyDenied
                        | Code::AccessKeyLimit
                        | Code::IamUserMissing
                        | Code::InsufficientAccess
                )
            )
        });
        if needs_admin {
            why.push_str(" Add --admin-profile NAME (an administrator's profile) so that it can check the key's status and the user's permissions.");
        }
        Next { command, why }
    }

    /// The first region of the text that offers SES.
    fn ses_region(&self) -> Option<&str> {
        self.found
            .regions
            .iter()
            .find(|r| regions::lookup(r).is_some_and(|e| e.ses))
            .map(String::as_str)
    }

    /// Fills the placeholders of a template: the mailer's setting names first (they may hold
    /// placeholders of their own), then the values found in the text.
    fn fill(&self, template: &str) -> String {
        if !template.contains('{') {
            return template.to_owned();
        }
        let m = self.mailer;
        let mut s = template.to_owned();
        for (k, v) in [
            ("{mailer}", m.name),
            ("{m_region}", m.region),
            ("{m_host}", m.host),
            ("{m_user}", m.user),
            ("{m_password}", m.password),
            ("{m_key}", m.key),
            ("{m_secret}", m.secret),
        ] {
            s = s.replace(k, v);
        }
        let f = self.found;
        let region = f.regions.first().map(String::as_str);
        let identity = if f.identities.is_empty() {
            "the address in the error".to_owned()
        } else {
            f.identities.join(", ")
        };
        let user = f
            .principal
            .as_deref()
            .and_then(|p| p.split_once(":user/"))
            .map(|(_, path)| path.rsplit('/').next().unwrap_or(path).to_owned());
        let values: [(&str, String); 8] = [
            (
                "{region_flag}",
                self.ses_region()
                    .or(region)
                    .unwrap_or("<region>")
                    .to_owned(),
            ),
            (
                "{region}",
                region.unwrap_or("the mailer's region").to_owned(),
            ),
            ("{identity}", identity),
            (
                "{action}",
                f.action
                    .clone()
                    .unwrap_or_else(|| "ses:SendEmail / ses:SendRawEmail".to_owned()),
            ),
            (
                "{principal}",
                f.principal
                    .clone()
                    .unwrap_or_else(|| "the caller".to_owned()),
            ),
            ("{user}", user.unwrap_or_else(|| "<user>".to_owned())),
            (
                "{resource}",
                f.resource
                    .clone()
                    .unwrap_or_else(|| "the resource".to_owned()),
            ),
            (
                "{key_id}",
                f.access_key_id
                    .clone()
                    .unwrap_or_else(|| "<AKIA…>".to_owned()),
            ),
        ];
        for (k, v) in values {
            s = s.replace(k, &v);
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the text
// ---------------------------------------------------------------------------------------------

/// The input as a finding code: `secret-key-truncated`, `[SECRET-KEY-TRUNCATED]`, `` `code` ``.
fn as_code(text: &str) -> Option<Code> {
    let t = text
        .trim()
        .trim_matches(|c| matches!(c, '[' | ']' | '`' | '"' | '\''))
        .trim()
        .to_ascii_lowercase();
    Code::from_code(&t)
}

/// A finding code in brackets inside a longer text, as `ses-doctor diagnose` prints them.
fn bracketed_code(lower: &str) -> Option<Code> {
    Code::ALL
        .iter()
        .copied()
        .find(|c| lower.contains(&format!("[{}]", c.as_str())))
}

/// Lowercase text with JSON escapes undone and whitespace collapsed, for pattern matching.
fn normalise(lower: &str) -> String {
    let unescaped = lower.replace("\\n", " ").replace("\\\"", "\"");
    unescaped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `pat` occurs in `hay` with no letter or digit glued to either end of it.
fn contains_word(hay: &str, pat: &str) -> bool {
    let starts_alnum = pat.chars().next().is_some_and(char::is_alphanumeric);
    let ends_alnum = pat.chars().next_back().is_some_and(char::is_alphanumeric);
    hay.match_indices(pat).any(|(i, m)| {
        let before_ok = !starts_alnum
            || !hay[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        let after_ok = !ends_alnum
            || !hay[i + m.len()..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        before_ok && after_ok
    })
}

fn extract(text: &str, lower: &str) -> Found {
    let mut found = Found {
        regions: find_regions(lower),
        identities: find_identities(text, lower),
        action: find_action(text, lower),
        access_key_id: find_key_id(text),
        ..Found::default()
    };
    for arn in find_arns(text) {
        let service = arn.split(':').nth(2).unwrap_or_default();
        match service {
            "iam" | "sts" if found.principal.is_none() => found.principal = Some(arn),
            "ses" if found.resource.is_none() => {
                if let Some((_, id)) = arn.split_once(":identity/") {
                    push_unique(&mut found.identities, id.to_owned());
                }
                if let Some(r) = arn.split(':').nth(3).filter(|r| !r.is_empty()) {
                    push_unique(&mut found.regions, r.to_ascii_lowercase());
                }
                found.resource = Some(arn);
            }
            _ => {}
        }
    }
    found.regions.retain(|r| regions::lookup(r).is_some());
    found.smtp = SMTP_MARKS.iter().any(|m| contains_word(lower, m));
    found
}

/// Words that show a text comes from an SMTP conversation.
const SMTP_MARKS: &[&str] = &[
    "smtp",
    "535",
    "530",
    "554",
    "454",
    "eauth",
    "sasl",
    "postfix",
    "email-smtp",
    "auth plain",
    "auth login",
];

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Region codes named in the text, in order.
fn find_regions(lower: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if regions::lookup(token).is_some() {
            push_unique(&mut out, token.to_owned());
        }
    }
    out
}

/// Addresses listed after SES's "failed the check in region R:".
fn find_identities(text: &str, lower: &str) -> Vec<String> {
    let mut out = Vec::new();
    let marker = "failed the check in region";
    let Some(at) = lower.find(marker) else {
        return out;
    };
    let rest = &text[at + marker.len()..];
    let Some(colon) = rest.find(':') else {
        return out;
    };
    let list = &rest[colon + 1..];
    let list_lower = list.to_ascii_lowercase();
    let end = ["request id", "\n", "\\n", "</", "\"", "`", "requestid"]
        .iter()
        .filter_map(|stop| list_lower.find(stop))
        .min()
        .unwrap_or(list.len());
    for email in find_emails(&list[..end]) {
        push_unique(&mut out, email);
    }
    out
}

fn find_emails(text: &str) -> Vec<String> {
    let is_local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let mut out = Vec::new();
    for (i, _) in text.match_indices('@') {
        let local: String = text[..i]
            .chars()
            .rev()
            .take_while(|c| is_local(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let domain: String = text[i + 1..]
            .chars()
            .take_while(|c| is_domain(*c))
            .collect();
        let domain = domain.trim_end_matches('.');
        if !local.is_empty() && domain.contains('.') {
            push_unique(&mut out, format!("{local}@{domain}"));
        }
    }
    out
}

/// The IAM action named in the text, e.g. `ses:SendRawEmail`.
fn find_action(text: &str, lower: &str) -> Option<String> {
    for service in ["ses:", "iam:", "sts:"] {
        for (i, _) in lower.match_indices(service) {
            if lower[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == ':')
            {
                continue;
            }
            let name: String = text[i + service.len()..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                return Some(format!("{service}{name}"));
            }
        }
    }
    None
}

/// ARNs in the text, cut at quotes, backticks, spaces and brackets.
fn find_arns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("arn:aws") {
        let arn: String = text[i..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !"'`\",()<>[]{}".contains(*c))
            .collect();
        let arn = arn.trim_end_matches(['.', ';']).to_owned();
        if arn.split(':').count() >= 6 {
            push_unique(&mut out, arn);
        }
    }
    out
}

/// An AKIA/ASIA access key ID in the text.
fn find_key_id(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|t| {
            t.len() == 20
                && (t.starts_with("AKIA") || t.starts_with("ASIA"))
                && t.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        .map(str::to_owned)
}

/// The text cut at `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The input as echoed in the JSON document: secrets masked, cut at [`ECHO_LIMIT`] characters.
fn echo(text: &str) -> String {
    let masked = mask_secrets(text.trim());
    if masked.chars().count() <= ECHO_LIMIT {
        masked
    } else {
        let mut s: String = masked.chars().take(ECHO_LIMIT).collect();
        s.push('…');
        s
    }
}

/// Masks what may be a secret: the value after a key named like a password, secret or token,
/// a DSN's password, and any long base64 run with upper case, lower case and digits (the shape of
/// secret access keys, SMTP passwords and session tokens). The first 4 characters stay.
pub fn mask_secrets(text: &str) -> String {
    let mut ranges: Vec<std::ops::Range<usize>> =
        sensitive_values(text).into_iter().map(|(_, r)| r).collect();
    // Long base64 runs with upper case, lower case and digits.
    let b = text.as_bytes();
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let mut i = 0;
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_b64(b[i]) {
            i += 1;
        }
        while i < b.len() && b[i] == b'=' {
            i += 1;
        }
        let run = &text[start..i];
        if run.len() >= 32
            && run.bytes().any(|c| c.is_ascii_uppercase())
            && run.bytes().any(|c| c.is_ascii_lowercase())
            && run.bytes().any(|c| c.is_ascii_digit())
        {
            ranges.push(start..i);
        }
    }
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for r in ranges {
        if r.start < done {
            continue;
        }
        out.push_str(&text[done..r.start]);
        let _ = write!(
            out,
            "[masked, {} characters]",
            text[r.clone()].chars().count()
        );
        done = r.end;
    }
    out.push_str(&text[done..]);
    out
}

/// Upper case at the start of the text and of each sentence: setting names filled into a
/// template may start a sentence in lower case.
fn sentence_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    let mut prev = ' ';
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.push(c);
            if !c.is_whitespace() {
                start = false;
            }
        }
        if c == ' ' && prev == '.' {
            start = true;
        }
        prev = c;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// One JSON document, with a final newline.
pub fn render_json(e: &Explanation) -> String {
    let mut s = serde_json::to_string_pretty(e).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}

/// Text for a person.
pub fn render_human(e: &Explanation, color: bool) -> String {
    let style = |s: Style| s.force_styling(color);
    let bold = style(Style::new().bold());
    let dim = style(Style::new().dim());
    let head = style(Style::new().bold().cyan());
    let cmd = style(Style::new().green());
    let mut out = String::new();

    match &e.recognised_as {
        Some(what) => {
            let _ = writeln!(out, "{}", bold.apply_to(what));
        }
        None => {
            let _ = writeln!(out, "{}", bold.apply_to("Not recognised"));
        }
    }
    out.push('\n');
    let _ = writeln!(out, "{}", head.apply_to("What it means"));
    push_wrapped(&mut out, &e.meaning, "  ", "  ");

    let found = found_line(&e.found);
    if !found.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", head.apply_to("Read from the text"));
        push_wrapped(&mut out, &found, "  ", "  ");
    }

    if !e.causes.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", head.apply_to("Likely causes, most likely first"));
        for cause in &e.causes {
            let code = cause
                .code
                .map(|c| format!(" {}", dim.apply_to(format!("[{c}]"))))
                .unwrap_or_default();
            let first = format!("{}. ", cause.rank);
            let title_lines = wrap(&cause.title, WIDTH - 2 - first.len());
            for (i, line) in title_lines.iter().enumerate() {
                let prefix = if i == 0 {
                    first.clone()
                } else {
                    " ".repeat(first.len())
                };
                let tail = if i + 1 == title_lines.len() {
                    code.as_str()
                } else {
                    ""
                };
                let _ = writeln!(out, "  {prefix}{}{tail}", bold.apply_to(line));
            }
            push_wrapped(&mut out, &cause.why, "     ", "     ");
            if !cause.steps.is_empty() {
                let _ = writeln!(out, "     Fix:");
                for step in &cause.steps {
                    push_wrapped(&mut out, step, "       - ", "         ");
                }
            }
            if let Some(setting) = &cause.mailer_setting {
                let label = match &e.found.mailer {
                    Some(m) => format!("In {m}: "),
                    None => "In the mailer: ".to_owned(),
                };
                push_wrapped(&mut out, &format!("{label}{setting}"), "     ", "       ");
            }
        }
    }

    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        head.apply_to(if e.recognised {
            "Find which cause it is"
        } else {
            "Find the cause from your own configuration instead"
        })
    );
    let _ = writeln!(out, "  {}", cmd.apply_to(format!("$ {}", e.next.command)));
    push_wrapped(&mut out, &e.next.why, "  ", "  ");
    out
}

fn found_line(f: &Found) -> String {
    let mut parts = Vec::new();
    if !f.regions.is_empty() {
        let names: Vec<String> = f
            .regions
            .iter()
            .map(|r| match regions::lookup(r) {
                Some(e) => format!("{} ({})", r, e.display),
                None => r.clone(),
            })
            .collect();
        parts.push(format!("region {}", names.join(", ")));
    }
    if !f.identities.is_empty() {
        parts.push(format!("identity {}", f.identities.join(", ")));
    }
    if let Some(a) = &f.action {
        parts.push(format!("action {a}"));
    }
    if let Some(p) = &f.principal {
        parts.push(format!("caller {p}"));
    }
    if let Some(r) = &f.resource {
        parts.push(format!("resource {r}"));
    }
    if let Some(k) = &f.access_key_id {
        parts.push(format!("access key ID {k}"));
    }
    if let Some(m) = &f.mailer {
        parts.push(format!("written by {m}"));
    }
    if f.smtp {
        parts.push("over SMTP".to_owned());
    }
    parts.join("; ")
}

fn push_wrapped(out: &mut String, text: &str, first: &str, rest: &str) {
    let width = WIDTH.saturating_sub(first.len().max(rest.len())).max(20);
    for (i, line) in wrap(text, width).iter().enumerate() {
        let _ = writeln!(out, "{}{line}", if i == 0 { first } else { rest });
    }
}

/// The report's word wrap; an empty text is one empty line here.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let lines = crate::render::human::wrap(text, width);
    if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn top(e: &Explanation) -> Option<Code> {
        e.causes.first().and_then(|c| c.code)
    }

    fn codes(e: &Explanation) -> Vec<Option<Code>> {
        e.causes.iter().map(|c| c.code).collect()
    }

    // -----------------------------------------------------------------------------------------
    // The table
    // -----------------------------------------------------------------------------------------

    #[test]
    fn every_finding_code_is_explained_in_its_own_words() {
        for &code in Code::ALL {
            assert!(code_doc(code).is_some(), "{code} has no text in code_doc");
            let e = explain(code.as_str());
            assert!(e.recognised, "{code}");
            assert_eq!(e.entry.as_deref(), Some(format!("code:{code}").as_str()));
            assert!(!e.meaning.trim().is_empty(), "{code}: empty meaning");
            assert!(!e.causes.is_empty(), "{code}: no cause");
            assert_eq!(top(&e), Some(code), "{code}: its own cause comes first");
            for cause in &e.causes {
                assert!(
                    !cause.title.trim().is_empty(),
                    "{code}: a cause without title"
                );
                assert!(!cause.why.trim().is_empty(), "{code}: a cause without why");
                assert!(!cause.steps.is_empty(), "{code}: a cause without steps");
                assert!(
                    cause.steps.iter().all(|s| !s.trim().is_empty()),
                    "{code}: an empty step"
                );
            }
            assert_eq!(exit_code(&e), ExitCode::Clean);
        }
    }

    #[test]
    fn an_error_name_is_found_however_it_is_spaced_or_cased() {
        // As people retype them in forum posts and tickets.
        for input in [
            "Signature Does Not Match",
            "signature_does_not_match",
            "error: Signature-Does-Not-Match when sending",
        ] {
            let e = explain(input);
            assert!(e.recognised, "{input}");
            assert_eq!(top(&e), Some(Code::SignatureMismatch), "{input}");
        }
        let e = explain("Invalid_Client_Token_Id");
        assert!(e.recognised);
        assert_eq!(top(&e), Some(Code::AccessKeyUnknown));
    }

    #[test]
    fn a_finding_code_is_found_in_any_case_and_in_brackets() {
        for input in [
            "SECRET-KEY-TRUNCATED",
            "[secret-key-truncated]",
            " `secret-key-truncated` ",
            "  ✗ The secret access key is 38 characters long [secret-key-truncated]",
        ] {
            let e = explain(input);
            assert_eq!(
                e.entry.as_deref(),
                Some("code:secret-key-truncated"),
                "{input}"
            );
        }
    }

    #[test]
    fn no_pattern_or_id_is_duplicated_and_patterns_are_normalised() {
        let mut ids = HashSet::new();
        let mut patterns = HashSet::new();
        for entry in ENTRIES {
            assert!(ids.insert(entry.id), "entry id {} twice", entry.id);
            assert!(!entry.causes.is_empty(), "{}: no cause", entry.id);
            assert!(!entry.patterns.is_empty(), "{}: no pattern", entry.id);
            for p in entry.patterns {
                assert!(patterns.insert(*p), "pattern {p:?} twice");
                assert_eq!(*p, normalise(p), "pattern {p:?} is not normalised");
                assert_eq!(*p, p.to_ascii_lowercase(), "pattern {p:?} is not lowercase");
            }
            let mut seen = HashSet::new();
            for cause in entry.causes {
                let key = match cause {
                    CauseRef::C(c) => c.as_str(),
                    CauseRef::O(d) => d.title,
                };
                assert!(seen.insert(key), "{}: cause {key} twice", entry.id);
            }
        }
        let mut names = HashSet::new();
        for m in MAILERS {
            assert!(names.insert(m.name), "mailer {} twice", m.name);
            for p in m.detect {
                assert_eq!(*p, p.to_ascii_lowercase(), "mailer pattern {p:?}");
            }
        }
    }

    /// Each pattern alone lands on its own entry: no earlier (more specific) entry swallows it,
    /// so the order of the table never hides an entry.
    #[test]
    fn every_pattern_reaches_its_entry() {
        for entry in ENTRIES {
            for p in entry.patterns {
                let e = explain(p);
                assert_eq!(e.entry.as_deref(), Some(entry.id), "pattern {p:?}");
            }
        }
    }

    #[test]
    fn aws_error_codes_alone_are_recognised() {
        for (code, entry) in [
            ("SignatureDoesNotMatch", "signature-mismatch"),
            ("InvalidClientTokenId", "invalid-token"),
            ("UnrecognizedClientException", "invalid-token"),
            ("AccessDenied", "not-authorized"),
            ("AccessDeniedException", "not-authorized"),
            ("MessageRejected", "message-rejected"),
            ("ExpiredToken", "expired-token"),
            ("ExpiredTokenException", "expired-token"),
            ("LimitExceeded", "access-key-limit"),
            ("OptInRequired", "opt-in-required"),
            ("Throttling", "throttling"),
            ("RequestExpired", "clock-skew"),
            ("InvalidAccessKeyId", "invalid-token"),
            ("AccountSendingPausedException", "sending-paused"),
            ("MailFromDomainNotVerified", "identity-not-verified"),
        ] {
            let e = explain(code);
            assert_eq!(e.entry.as_deref(), Some(entry), "{code}");
            assert!(e.recognised);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Specific beats generic
    // -----------------------------------------------------------------------------------------

    #[test]
    fn signature_expired_beats_the_other_causes_of_signature_does_not_match() {
        let e = explain("SignatureDoesNotMatch: Signature expired: 20181107T003842Z is now earlier than 20181107T005054Z (20181107T005554Z - 5 min.)");
        assert_eq!(e.entry.as_deref(), Some("clock-skew"));
        assert_eq!(top(&e), Some(Code::ClockSkew));
        let plain = explain("SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.");
        assert_eq!(plain.entry.as_deref(), Some("signature-mismatch"));
        assert!(codes(&plain).contains(&Some(Code::ClockSkew)));
        assert_ne!(top(&plain), Some(Code::ClockSkew));
    }

    #[test]
    fn signature_version_2_beats_a_plain_535() {
        let e =
            explain("535 Signature Version 2 is deprecated for use with SES from March 26, 2021.");
        assert_eq!(top(&e), Some(Code::SmtpPasswordLegacy));
        assert_eq!(e.causes.len(), 1);
        let plain = explain("535 Authentication Credentials Invalid");
        assert_eq!(top(&plain), Some(Code::SmtpPasswordIsSecretKey));
        assert!(codes(&plain).contains(&Some(Code::SmtpPasswordWrongRegion)));
    }

    #[test]
    fn the_region_and_identity_of_a_failed_check_are_named() {
        let e = explain("MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@y.example, Ann <ann@y.example> Request Id: 1");
        assert_eq!(e.found.regions, ["us-east-1"]);
        assert_eq!(e.found.identities, ["x@y.example", "ann@y.example"]);
        assert!(e.meaning.contains("us-east-1"), "{}", e.meaning);
        assert!(
            e.meaning.contains("x@y.example, ann@y.example"),
            "{}",
            e.meaning
        );
        let mismatch = e
            .causes
            .iter()
            .find(|c| c.code == Some(Code::RegionMismatch))
            .unwrap();
        assert!(mismatch.why.contains("us-east-1"));
        assert!(e.next.command.contains("--region us-east-1"));
    }

    #[test]
    fn an_explicit_deny_beats_a_plain_access_denied() {
        let e = explain("AccessDenied: User: arn:aws:iam::123456789012:user/mailer is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:eu-west-1:123456789012:identity/example.com with an explicit deny in an identity-based policy");
        assert_eq!(top(&e), Some(Code::PermissionExplicitlyDenied));
        let plain = explain("AccessDenied: User: arn:aws:iam::123456789012:user/mailer is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:eu-west-1:123456789012:identity/example.com because no identity-based policy allows the ses:SendEmail action");
        assert_eq!(top(&plain), Some(Code::PermissionMissing));
        assert_eq!(plain.found.action.as_deref(), Some("ses:SendEmail"));
        assert_eq!(plain.found.identities, ["example.com"]);
        let steps = plain.causes[0].steps.join("\n");
        assert!(steps.contains("--user-name mailer"), "{steps}");
    }

    #[test]
    fn sending_paused_beats_a_plain_message_rejected() {
        let e = explain("554 Message rejected: Sending paused for this account.");
        assert_eq!(top(&e), Some(Code::SesSendingPaused));
        let plain = explain("554 Message rejected: Illegal header");
        assert_eq!(plain.entry.as_deref(), Some("message-rejected"));
    }

    #[test]
    fn an_opt_in_region_puts_region_not_enabled_first() {
        let e = explain("InvalidClientTokenId: The security token included in the request is invalid. (sts.me-south-1.amazonaws.com)");
        assert_eq!(top(&e), Some(Code::RegionNotEnabled));
        let plain =
            explain("InvalidClientTokenId: The security token included in the request is invalid.");
        assert_eq!(top(&plain), Some(Code::AccessKeyUnknown));
    }

    #[test]
    fn a_temporary_key_puts_the_session_token_first() {
        let e = explain("InvalidClientTokenId: The security token included in the request is invalid. Access key ASIAIOSFODNN7EXAMPLE");
        assert_eq!(top(&e), Some(Code::SessionTokenMissing));
        assert_eq!(
            e.found.access_key_id.as_deref(),
            Some("ASIAIOSFODNN7EXAMPLE")
        );
    }

    #[test]
    fn a_denied_iam_action_is_a_check_that_needs_admin_credentials() {
        let e = explain("An error occurred (AccessDenied) when calling the ListAccessKeys operation: User: arn:aws:iam::123456789012:user/mailer is not authorized to perform: iam:ListAccessKeys on resource: user mailer");
        assert_eq!(top(&e), Some(Code::InsufficientAccess));
        assert!(e.next.why.contains("--admin-profile"));
    }

    #[test]
    fn the_shape_of_a_pasted_credential_moves_its_cause_up() {
        // A 44-character password starting with A is a legacy (v2) SMTP password.
        let legacy = format!(
            "SMTP_PASSWORD={} 535 Authentication Credentials Invalid",
            "AkL9x2mQ7vRt5Yp3Wn8Zc1Hs6Df4Gj0Ku2Lb7Ne9Pq3x"
        );
        let e = explain(&legacy);
        assert_eq!(top(&e), Some(Code::SmtpPasswordLegacy));
        // A 44-character value starting with B given as the secret is an SMTP password.
        let smtp_as_secret = "AWS_SECRET_ACCESS_KEY=BkL9x2mQ7vRt5Yp3Wn8Zc1Hs6Df4Gj0Ku2Lb7Ne9Pq3x SignatureDoesNotMatch";
        assert_eq!(
            top(&explain(smtp_as_secret)),
            Some(Code::SecretIsSmtpPassword)
        );
        // A secret of 38 characters was cut.
        let cut =
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE SignatureDoesNotMatch";
        assert_eq!(top(&explain(cut)), Some(Code::SecretKeyTruncated));
        // Placeholders say nothing.
        let placeholder = "AWS_SECRET_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxx SignatureDoesNotMatch";
        assert_eq!(top(&explain(placeholder)), Some(Code::SignatureMismatch));
    }

    // -----------------------------------------------------------------------------------------
    // Values, mailers, next step
    // -----------------------------------------------------------------------------------------

    #[test]
    fn smtp_errors_lead_to_a_diagnosis_over_smtp() {
        let e = explain("535 Authentication Credentials Invalid (user AKIAIOSFODNN7EXAMPLE, host email-smtp.eu-west-1.amazonaws.com)");
        assert!(e.found.smtp);
        assert_eq!(
            e.next.command,
            "ses-doctor diagnose --region eu-west-1 --via smtp --smtp-username AKIAIOSFODNN7EXAMPLE"
        );
        let first = &e.causes[0];
        assert!(first.steps[0].contains("ses-doctor smtp-password --region eu-west-1"));
        let setting = first.mailer_setting.as_deref().unwrap();
        assert!(
            setting.starts_with("SMTP password: the one from `ses-doctor smtp-password --region eu-west-1`, not the secret access key"),
            "{setting}"
        );
    }

    #[test]
    fn the_mailers_own_setting_names_are_used() {
        let postfix = explain("postfix/smtp[1438]: status=deferred (SASL authentication failed; server email-smtp.us-west-2.amazonaws.com said: 535 Authentication Credentials Invalid)");
        assert_eq!(postfix.found.mailer.as_deref(), Some("Postfix"));
        let setting = postfix.causes[0].mailer_setting.as_deref().unwrap();
        assert!(setting.contains("smtp_sasl_password_maps"), "{setting}");
        assert!(setting.contains("--region us-west-2"), "{setting}");

        let plugin = explain("SimpleEmailService::sendRawEmail(): Sender - MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: a@b.example");
        let mismatch = plugin
            .causes
            .iter()
            .find(|c| c.code == Some(Code::RegionMismatch))
            .unwrap();
        let setting = mismatch.mailer_setting.as_deref().unwrap();
        assert!(setting.starts_with("Region"), "{setting}");
        assert!(setting.contains("EU (Ireland) eu-west-1"), "{setting}");
        assert!(setting.contains("not us-east-1"), "{setting}");

        let django = explain("SESAddressNotVerifiedError: 400 Email address is not verified.");
        let setting = django.causes[1].mailer_setting.as_deref().unwrap();
        assert!(setting.contains("AWS_SES_REGION_NAME"), "{setting}");
    }

    #[test]
    fn sentences_start_with_a_capital_after_a_setting_name() {
        assert_eq!(
            sentence_case("the password: x. the user name: y. `cmd` z"),
            "The password: x. The user name: y. `cmd` z"
        );
    }

    #[test]
    fn secrets_in_the_input_are_masked_in_the_echo() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for text in [
            format!("AWS_SECRET_ACCESS_KEY={secret} SignatureDoesNotMatch"),
            format!("secretAccessKey: '{secret}'"),
            format!("define( 'AWS_SECRET_ACCESS_KEY', '{secret}' );"),
            format!("smtp://AKIAIOSFODNN7EXAMPLE:{secret}@email-smtp.eu-west-1.amazonaws.com:587"),
            format!("the key {secret} was rejected"),
            "MAIL_PASSWORD=hunter2hunter2 535".to_owned(),
        ] {
            let e = explain(&text);
            let json = render_json(&e);
            assert!(!json.contains(&secret[..16]), "{json}");
            assert!(!json.contains("hunter2"), "{json}");
            assert!(json.contains("[masked, "), "{json}");
        }
        // Error codes named like tokens, key IDs, ARNs, request IDs and hashes stay.
        for text in [
            "InvalidClientTokenId: The security token included in the request is invalid.",
            "ExpiredTokenException: Security token expired",
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        ] {
            assert_eq!(mask_secrets(text), text);
        }
        assert_eq!(
            mask_secrets("X-Amz-Security-Token: IQoJb3JpZ2luX2VjEJr"),
            "X-Amz-Security-Token: [masked, 19 characters]"
        );
        let kept = "AKIAIOSFODNN7EXAMPLE arn:aws:iam::123456789012:user/x 6e28d073-7152-478b-ba79-fe413811958a 5f055579048ecf0b566b9617581dac28e8527f4821c5f16185a611d980bd99fc";
        assert_eq!(mask_secrets(kept), kept);
        assert_eq!(
            mask_secrets("pass=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCd== end"),
            "pass=[masked, 44 characters] end"
        );
    }

    #[test]
    fn words_match_whole_only() {
        assert!(contains_word("said: 535 authentication", "535"));
        assert!(!contains_word("request id 45351a", "535"));
        assert!(!contains_word("accessdeniedexception", "accessdenied"));
        assert!(contains_word("(accessdenied)", "accessdenied"));
        assert!(contains_word(
            "x \"code\":\"eauth\" y",
            "\"code\":\"eauth\""
        ));
    }

    #[test]
    fn unknown_text_is_not_recognised_and_points_to_diagnose() {
        let e = explain("the printer is on fire");
        assert!(!e.recognised);
        assert!(e.recognised_as.is_none() && e.entry.is_none() && e.causes.is_empty());
        assert_eq!(exit_code(&e), ExitCode::Problems);
        assert_eq!(e.next.command, "ses-doctor diagnose");
        let text = render_human(&e, false);
        assert!(text.contains("$ ses-doctor diagnose"), "{text}");
    }

    #[test]
    fn empty_input_is_bad_usage() {
        for words in [
            vec![],
            vec![String::new()],
            vec![" ".to_owned(), "\n".to_owned()],
        ] {
            let err = read_input(&words).unwrap_err();
            assert_eq!(err.exit, ExitCode::Usage);
        }
        assert_eq!(
            read_input(&["Signature".to_owned(), "expired".to_owned()]).unwrap(),
            "Signature expired"
        );
    }

    #[test]
    fn human_text_has_every_part_and_no_colour_when_off() {
        let e = explain("SignatureDoesNotMatch");
        let text = render_human(&e, false);
        for part in [
            "AWS error SignatureDoesNotMatch",
            "What it means",
            "Likely causes, most likely first",
            "  1. The secret does not belong to this access key ID [signature-mismatch]",
            "     Fix:",
            "       - ",
            "In the mailer: ",
            "Find which cause it is",
            "  $ ses-doctor diagnose",
        ] {
            assert!(text.contains(part), "missing {part:?} in\n{text}");
        }
        assert!(!text.contains('\u{1b}'));
        assert!(
            text.lines().all(|l| l.chars().count() <= WIDTH + 20),
            "{text}"
        );
        assert!(render_human(&e, true).contains('\u{1b}'));
    }

    #[test]
    fn json_has_the_documented_fields() {
        let e = explain("ExpiredToken");
        let v: serde_json::Value = serde_json::from_str(&render_json(&e)).unwrap();
        for key in [
            "schema_version",
            "input",
            "recognised",
            "recognised_as",
            "entry",
            "meaning",
            "found",
            "causes",
            "next",
        ] {
            assert!(v.get(key).is_some(), "no {key}");
        }
        let cause = &v["causes"][0];
        assert_eq!(cause["rank"], 1);
        assert_eq!(cause["code"], "credentials-expired");
        for key in ["title", "why", "steps", "mailer_setting"] {
            assert!(cause.get(key).is_some(), "no causes[0].{key}");
        }
        assert!(v["next"]["command"]
            .as_str()
            .unwrap()
            .starts_with("ses-doctor diagnose"));
    }

    // -----------------------------------------------------------------------------------------
    // Real error texts from public reports: each with its source, copied as reported (log noise
    // around it trimmed), and the cause explain must put first. `also`: the cause the thread
    // found, when the text alone cannot tell it from the first (diagnose does).
    // -----------------------------------------------------------------------------------------

    struct Real {
        source: &'static str,
        text: &'static str,
        top: Option<Code>,
        also: &'static [Code],
    }

    const fn real(
        source: &'static str,
        text: &'static str,
        top: Option<Code>,
        also: &'static [Code],
    ) -> Real {
        Real {
            source,
            text,
            top,
            also,
        }
    }

    const REAL: &[Real] = &[
        // knadh/listmonk#2160: a normal IAM user's keys used for SMTP; the fix was SES SMTP
        // credentials.
        real(
            "knadh/listmonk#2160",
            "535 Authentication Credentials Invalid",
            Some(Code::SmtpPasswordIsSecretKey),
            &[],
        ),
        // sandstorm-io/sandstorm#2734 (nodemailer).
        real(
            "sandstorm-io/sandstorm#2734",
            r#"Error while trying to send test email: {"code":"EAUTH","response":"535 Authentication Credentials Invalid","responseCode":535,"command":"AUTH PLAIN"} [other-email-sending-error]"#,
            Some(Code::SmtpPasswordIsSecretKey),
            &[],
        ),
        // bokysan/docker-postfix#200; the reporter's own fix (docker-postfix#201): SES SMTP
        // credentials are region specific.
        real(
            "bokysan/docker-postfix#200",
            "2024-05-30T16:15:05.297034+00:00 INFO    postfix/smtp[1438]: B4C90DC189: to=<SNIP>, relay=email-smtp.us-west-2.amazonaws.com[52.13.3.84]:587, delay=24, delays=21/0.1/3.1/0, dsn=4.0.0, status=deferred (SASL authentication failed; server email-smtp.us-west-2.amazonaws.com[52.13.3.84] said: 535 Authentication Credentials Invalid)",
            Some(Code::SmtpPasswordIsSecretKey),
            &[Code::SmtpPasswordWrongRegion],
        ),
        // yiisoft/yii2-symfonymailer#32 (Symfony Mailer, ses+smtp DSN).
        real(
            "yiisoft/yii2-symfonymailer#32",
            r#"Failed to authenticate on SMTP server with username "XXXXXXXXXXX" using the following authenticators: "LOGIN", "PLAIN". Authenticator "LOGIN" returned "Expected response code "235" but got code "535", with message "535 Authentication Credentials Invalid".". Authenticator "PLAIN" returned "Expected response code "235" but got code "535", with message "535 Authentication Credentials Invalid".""#,
            Some(Code::SmtpPasswordIsSecretKey),
            &[Code::SmtpAuthFailed],
        ),
        // fleetdm/fleet#9609.
        real(
            "fleetdm/fleet#9609",
            r#"level=error ts=2023-02-01T13:18:55.790742898Z component=http user=my@email.com method=POST uri=/api/latest/fleet/invites took=1.355590059s err="client auth error: 535 Authentication Credentials Invalid""#,
            Some(Code::SmtpPasswordIsSecretKey),
            &[],
        ),
        // EFForg/action-center-platform#873 (Rails).
        real(
            "EFForg/action-center-platform#873",
            "<name>Net::SMTPAuthenticationError</name>\n<message>535 Signature Version 2 is deprecated for use with SES from March 26, 2021.\nFrom that date on, we are progressively rejecting such requests.\nTo resolve the issue, you must migrate to Signature Version 4.\nIf you created your SMTP credentials in the SES Console, please create new credentials and replace the former ones.\nIf you are deriving Signature Version 2 credentials from a IAM user, please start using the Signature Version 4 algorithm:\nhttps://docs.aws.amazon.com/ses/latest/DeveloperGuide/smtp-credentials.html </message>",
            Some(Code::SmtpPasswordLegacy),
            &[],
        ),
        // yugabyte/yugabyte-db#8180.
        real(
            "yugabyte/yugabyte-db#8180",
            "Error sending Health check email: 535 Signature Version 2 is deprecated for use with SES from March 26, 2021. From that date on, we are progressively rejecting such requests. To resolve the issue, you must migrate to Signature Version 4. If you created your SMTP credentials in the SES Console, please create new credentials and replace the former ones. If you are deriving Signature Version 2 credentials from a IAM user, please start using the Signature Version 4 algorithm: https://docs.aws.amazon.com/ses/latest/DeveloperGuide/smtp-credentials.html",
            Some(Code::SmtpPasswordLegacy),
            &[],
        ),
        // aws/aws-sdk-php#1669.
        real(
            "aws/aws-sdk-php#1669",
            "AWS HTTP error: Client error: `POST https://email.us-west-2.amazonaws.com` resulted in a `403 Forbidden` response:\n<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>SignatureDo (truncated...)\n SignatureDoesNotMatch (client): Signature expired: 20181107T003842Z is now earlier than 20181107T005054Z (20181107T005554Z - 5 min.)",
            Some(Code::ClockSkew),
            &[],
        ),
        // alexa-samples/skill-sample-nodejs-adventure-game#41: "Clock was off".
        real(
            "alexa-samples/skill-sample-nodejs-adventure-game#41",
            "Error: Signature expired: 20170721T074556Z is now earlier than 20170722T022954Z (20170722T023454Z - 5 min.)",
            Some(Code::ClockSkew),
            &[],
        ),
        // aws/aws-sdk-js#1443; the answer cited in aws/aws-sdk#467: SMTP credentials used for
        // the API.
        real(
            "aws/aws-sdk-js#1443",
            "SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\nhost:email.us-east-1.amazonaws.com\nx-amz-content-sha256:5f055579048ecf0b566b9617581dac28e8527f4821c5f16185a611d980bd99fc\nx-amz-date:20170403T161539Z\n\nhost;x-amz-content-sha256;x-amz-date\n5f055579048ecf0b566b9617581dac28e8527f4821c5f16185a611d980bd99fc'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20170403T161539Z\n20170403/us-east-1/ses/aws4_request\n450d3bc2b76356add2d9fe9fda56e3034b68372c9da47b5329f45e38c7a58d99'",
            Some(Code::SignatureMismatch),
            &[Code::SecretIsSmtpPassword],
        ),
        // aschroder/Magento-SMTP-Pro-Email-Extension#228: a white space in the key.
        real(
            "aschroder/Magento-SMTP-Pro-Email-Extension#228",
            "Sender SignatureDoesNotMatch The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details",
            Some(Code::SignatureMismatch),
            &[Code::SecretKeyMalformed],
        ),
        // daniel-zahariev/php-aws-ses#90: a special character that needed escaping.
        real(
            "daniel-zahariev/php-aws-ses#90",
            "Warning:  SimpleEmailService::sendEmail(): Sender - SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            Some(Code::SignatureMismatch),
            &[Code::SecretKeyMalformed],
        ),
        // pabloveintimilla/mautic-amazon-ses#17 (Symfony Mailer, ses+api DSN).
        real(
            "pabloveintimilla/mautic-amazon-ses#17",
            "Code:    InvalidSignatureException\nMessage: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
            Some(Code::SignatureMismatch),
            &[Code::SecretKeyMalformed],
        ),
        // danilop/LambdAuth#64: "My SES was in sandbox mode."
        real(
            "danilop/LambdAuth#64",
            r#"{ "errorMessage": "Error in sendVerificationEmail: MessageRejected: Email address is not verified. The following identities failed the check in region US-WEST-2: tanzeelrana@cmail.carleotn.ca, tanzeelrana@cmail.carleton.ca" }"#,
            Some(Code::SesSandbox),
            &[],
        ),
        // WPManageNinja/fluent-smtp#61: "I'm still in the AWS SES Sandbox mode".
        real(
            "WPManageNinja/fluent-smtp#61",
            "{\n  \"code\": 400,\n  \"message\": \"SimpleEmailService::sendRawEmail(): Sender - MessageRejected: Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: mail@ivosille.nl\\nRequest Id: 6e28d073-7152-478b-ba79-fe413811958a\\n\",",
            Some(Code::SesSandbox),
            &[],
        ),
        // WPManageNinja/fluent-smtp#243: the answer was that the From address must be verified.
        real(
            "WPManageNinja/fluent-smtp#243",
            "SimpleEmailService::sendRawEmail(): Sender - MessageRejected: Email address is not verified. The following identities failed the check in region AP-SOUTHEAST-2: adrienne@thespeakerspractice.com.au Request Id: 2b2545db-1a4c-4539-a37f-fcb86759ad51",
            Some(Code::SesSandbox),
            &[Code::IdentityUnverified],
        ),
        // django-ses/django-ses#120: the endpoint setting named another region.
        real(
            "django-ses/django-ses#120",
            "SESAddressNotVerifiedError: 400 Email address is not verified.\n<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>MessageRejected</Code>\n    <Message>Email address is not verified. The following identities failed the check in region US-EAST-1: alice@paulhauner.com, paul@paulhauner.com</Message>\n  </Error>\n  <RequestId>a0ee8dcf-39e2-11e7-a5c1-f3494eddd8b3</RequestId>\n</ErrorResponse>",
            Some(Code::SesSandbox),
            &[Code::RegionMismatch],
        ),
        // sul-dlss/dlme#813 (Rails over SMTP).
        real(
            "sul-dlss/dlme#813",
            "Net::SMTPFatalError: 554 Message rejected: Email address is not verified. The following identities failed the check in region US-WEST-2: email",
            Some(Code::SesSandbox),
            &[Code::IdentityUnverified],
        ),
        // ministryofjustice/analytical-platform#6944 (Python smtplib).
        real(
            "ministryofjustice/analytical-platform#6944",
            r#"smtplib.SMTPDataError: (554, b"Access denied: User `arn:aws:iam::381491960855:user/mwaa-ses' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:eu-west-2:381491960855:identity/jacob.woffenden@justice.gov.uk'")"#,
            Some(Code::PermissionMissing),
            &[],
        ),
        // aws/aws-actionmailer-ses-ruby#10.
        real(
            "aws/aws-actionmailer-ses-ruby#10",
            "error: `User 'arn:aws:iam::xxxxxx:user/xxxxx' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:us-east-1:xxxxxx:identity/xxxx`",
            Some(Code::PermissionMissing),
            &[],
        ),
        // cloud-custodian/cloud-custodian#4582 (c7n-mailer, an assumed role).
        real(
            "cloud-custodian/cloud-custodian#4582",
            "error: An error occurred (AccessDenied) when calling the SendRawEmail operation: User `arn:aws:sts::xxxxxxxxxxx:assumed-role/custodian-sqs/cloud-custodian-mailer' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:us-east-1:xxxxxxxxxxxx:identity/ops@company.com'",
            Some(Code::PermissionMissing),
            &[],
        ),
        // drewblas/aws-ses#14 (the code and the message run together).
        real(
            "drewblas/aws-ses#14",
            "AWS::SES::ResponseError: AWS::SES Response Error: InvalidClientTokenIdThe security token included in the request is invalid",
            Some(Code::AccessKeyUnknown),
            &[],
        ),
        // django-ses/django-ses#123: "I just had to remove the '' from the AWS_SES_ACCESS_KEY
        // env var".
        real(
            "django-ses/django-ses#123",
            "BotoServerError: BotoServerError: 403 Forbidden\n    ...\n    <Error>\n        <Type>Sender</Type>\n        <Code>InvalidClientTokenId</Code>\n        <Message>The security token included in the request is invalid</Message>\n    </Error>",
            Some(Code::AccessKeyUnknown),
            &[Code::AccessKeyIdMalformed],
        ),
        // django-ses/django-ses#283 (SESv2).
        real(
            "django-ses/django-ses#283",
            "An error occurred (UnrecognizedClientException) when calling the GetAccount operation: The security token included in the request is invalid.",
            Some(Code::AccessKeyUnknown),
            &[],
        ),
        // Mailtrain-org/mailtrain#1031 (over SMTP).
        real(
            "Mailtrain-org/mailtrain#1031",
            "SMTP response: The security token included in the request is invalid.",
            Some(Code::AccessKeyUnknown),
            &[],
        ),
        // brefphp/laravel-bridge#112: on Lambda the session token was not passed (fixed by
        // laravel-bridge#113).
        real(
            "brefphp/laravel-bridge#112",
            "Request to AWS SES API failed. Reason: The Security Token included in the request is invalid",
            Some(Code::AccessKeyUnknown),
            &[Code::SessionTokenMissing],
        ),
        // remotion-dev/github-unwrapped-2022#34: eu-south-1 is an opt-in region.
        real(
            "remotion-dev/github-unwrapped-2022#34",
            "done region eu-west-3\nstart region eu-south-1\nInvalidClientTokenId: The security token included in the request is invalid.\n    at throwDefaultError (/Users/lorenzo/Desktop/softwarearchiv/jsvideo/node_modules/@aws-sdk/smithy-client/dist-cjs/default-error-handler.js:8:22)",
            Some(Code::RegionNotEnabled),
            &[],
        ),
        // simonw/s3-credentials#64.
        real(
            "simonw/s3-credentials#64",
            "botocore.errorfactory.LimitExceededException: An error occurred (LimitExceeded) when calling the CreateAccessKey operation: Cannot exceed quota for AccessKeysPerUser: 2",
            Some(Code::AccessKeyLimit),
            &[],
        ),
        // GoodDollar/GoodServer#419.
        real(
            "GoodDollar/GoodServer#419",
            "MessageRejected: Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account.",
            Some(Code::SesSendingPaused),
            &[],
        ),
        // hcengineering/platform#8899.
        real(
            "hcengineering/platform#8899",
            "Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account",
            Some(Code::SesSendingPaused),
            &[],
        ),
        // aws/aws-sdk-js#3665.
        real(
            "aws/aws-sdk-js#3665",
            "CredentialsError: Missing credentials in config, if using AWS_CONFIG_FILE, set AWS_SDK_LOAD_CONFIG=1",
            Some(Code::CredentialsNotFound),
            &[],
        ),
        // skkuding/codedang#800 (SES from ECS).
        real(
            "skkuding/codedang#800",
            r#"{
    "message": "Could not load credentials from any providers",
    "error": "Internal Server Error",
    "statusCode": 500
}"#,
            Some(Code::CredentialsNotFound),
            &[],
        ),
        // pterodactyl/panel#4124 (Laravel's SES mail driver).
        real(
            "pterodactyl/panel#4124",
            "Aws\\Exception\\CredentialsException: Error retrieving credentials from the instance profile metadata service. (Client error: `GET http://169.254.169.254/latest/meta-data/iam/security-credentials/` resulted in a `404 Not Found` response:",
            Some(Code::CredentialsNotFound),
            &[],
        ),
        // miquella/vaulted#107.
        real(
            "miquella/vaulted#107",
            "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired",
            Some(Code::CredentialsExpired),
            &[],
        ),
        // aws/aws-sdk-java#1097 (its title): an endpoint in us-west-2 with a signing region of
        // us-west-1; the maintainers' answer was that the signing region must match the
        // endpoint's (and SES was not offered in us-west-1 then either).
        real(
            "aws/aws-sdk-java#1097",
            "Credential should be scoped to a valid region, not 'us-west-1' (SES)",
            Some(Code::SigningRegionMismatch),
            &[Code::RegionUnsupported],
        ),
        // The layer named in AccessDenied, as the IAM User Guide's "Troubleshooting access
        // denied error messages" shows it: granting cannot fix either.
        real(
            "IAM User Guide: access denied error messages (boundary)",
            "User: arn:aws:iam::123456789012:user/mailer is not authorized to perform: ses:SendRawEmail on resource: arn:aws:ses:eu-west-1:123456789012:identity/example.com because no permissions boundary allows the ses:SendRawEmail action",
            Some(Code::PermissionExplicitlyDenied),
            &[],
        ),
        real(
            "IAM User Guide: access denied error messages (SCP)",
            "User: arn:aws:iam::123456789012:user/mailer is not authorized to perform: ses:SendEmail with an explicit deny in a service control policy",
            Some(Code::PermissionExplicitlyDenied),
            &[],
        ),
        // boto/boto3#2432: the SMTP host given to boto3 as the SES API's endpoint_url.
        real(
            "boto/boto3#2432",
            "Invalid endpoint: email-smtp.eu-west-1.amazonaws.com",
            Some(Code::EndpointIsSmtpHost),
            &[],
        ),
        // cloud-custodian/cloud-custodian#4874: --endpoint-url https://sts.us-east-1.amazonaws.com
        // with --region us-east-2.
        real(
            "cloud-custodian/cloud-custodian#4874",
            "An error occurred (SignatureDoesNotMatch) when calling the AssumeRole operation: Credential should be scoped to a valid region, not 'us-east-2'. ",
            Some(Code::SigningRegionMismatch),
            &[],
        ),
        // hashicorp/terraform-provider-aws#34865: sts_region and an STS endpoint of another
        // region than the provider's.
        real(
            "hashicorp/terraform-provider-aws#34865",
            "operation error STS: GetCallerIdentity, https response error StatusCode: 403, RequestID: f16ffea6-1579-440e-aed9-f5f18c361a85, api error SignatureDoesNotMatch: Credential should be scoped to a valid region.",
            Some(Code::SigningRegionMismatch),
            &[],
        ),
        // Billionmail/BillionMail#156 (Postfix bounce; the mailer sent no AUTH).
        real(
            "Billionmail/BillionMail#156",
            "host\n    email-smtp.ap-southeast-1.amazonaws.com[18.138.111.200] said: 530\n    Authentication required (in reply to MAIL FROM command)",
            None,
            &[],
        ),
        // jhuckaby/Cronicle#265.
        real(
            "jhuckaby/Cronicle#265",
            "Failed to send e-mail for job: jk7bwcvio02: example.@mail.com: Error: Mail command failed: 530 Authentication required",
            None,
            &[],
        ),
        // hackclub/hackathons-backend#543.
        real(
            "hackclub/hackathons-backend#543",
            "Net::SMTPServerBusy: 454 Throttling failure: Maximum sending rate exceeded.",
            None,
            &[Code::SesSandbox],
        ),
        // kimai/kimai#2866 (Symfony's SES HTTP transport of the time).
        real(
            "kimai/kimai#2866",
            "Unable to send an email: Signature Version 3 requests are deprecated from March 1, 2021. From that date on, we are progressively rejecting such requests. To resolve the issue you must migrate to Signature Version 4.",
            None,
            &[],
        ),
        // totaljs/framework#712 (SES in eu-west-1, secure: true on port 587).
        real(
            "totaljs/framework#712",
            "======= 2019-06-18 13:27:14: mail-smtp ---> Error: 139861256759104:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:332:\n (email-smtp.eu-west-1.amazonaws.com) Error: 139861256759104:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:332:",
            Some(Code::SmtpTlsMismatch),
            &[],
        ),
        // Pylons/pyramid_exclog#24 (Python's SMTPHandler to email-smtp.us-east-1 on 587, no TLS).
        real(
            "Pylons/pyramid_exclog#24",
            "SMTPAuthenticationError: (530, 'Must issue a STARTTLS command first').",
            Some(Code::SmtpTlsMismatch),
            &[],
        ),
        // jetmore/swaks#15 (swaks without --tls against email-smtp.us-west-2 on 25).
        real(
            "jetmore/swaks#15",
            " -> AUTH LOGIN\n<** 530 Must issue a STARTTLS command first\n -> AUTH PLAIN \n*** No authentication type succeeded",
            Some(Code::SmtpTlsMismatch),
            &[],
        ),
        // mautic/mautic#3704 (an IAM user name as the SMTP user name; Swift Mailer; the line with
        // the password left out).
        real(
            "mautic/mautic#3704",
            "Failed to authenticate on SMTP server with username \"dhumbert\" using 1 possible authenticators ++ Starting Mautic\\EmailBundle\\Swiftmailer\\Transport\\AmazonTransport << 220 email-smtp.amazonaws.com ESMTP SimpleEmailService-1868680137 rgpk5uMlEb7VBtpdVluX >> EHLO mautic.ogust.com << 250-email-smtp.amazonaws.com 250-8BITMIME 250-SIZE 10485760 250-STARTTLS 250-AUTH PLAIN LOGIN 250 Ok >> STARTTLS << 220 Ready to start TLS >> AUTH LOGIN << 334 VXNlcm5hbWU6 >> ZGh1bWJlcnQ= << 334 UGFzc3dvcmQ6 << 535 Authentication Credentials Invalid !! Expected response code 235 but got code \"535\", with message \"535 Authentication Credentials Invalid \" (code: 535) >> RSET << 250 Ok",
            Some(Code::SmtpUsernameNotKeyId),
            &[Code::SmtpPasswordIsSecretKey],
        ),
        // Mailu/Mailu#3370 (WP Mail SMTP; the port refused the connection).
        real(
            "Mailu/Mailu#3370",
            "SMTP Error: Could not connect to SMTP host. Failed to connect to serverSMTP server error: Failed to connect to server SMTP code: 111 Additional SMTP info: Connection refused",
            Some(Code::SmtpPortBlocked),
            &[Code::SmtpTlsMismatch],
        ),
    ];

    #[test]
    fn real_error_texts_from_public_reports() {
        assert!(REAL.len() >= 15);
        for case in REAL {
            let e = explain(case.text);
            assert!(e.recognised, "{}: not recognised", case.source);
            assert_eq!(
                top(&e),
                case.top,
                "{}: first cause {:?} ({:?}); causes {:?}",
                case.source,
                e.causes.first().map(|c| &c.title),
                e.entry,
                codes(&e)
            );
            for also in case.also {
                assert!(
                    codes(&e).contains(&Some(*also)),
                    "{}: {also} not among the causes {:?}",
                    case.source,
                    codes(&e)
                );
            }
            // Every answer ends with a diagnose run.
            assert!(e.next.command.starts_with("ses-doctor diagnose"));
        }
    }

    #[test]
    fn real_texts_yield_their_values() {
        let find = |source: &str| explain(REAL.iter().find(|r| r.source == source).unwrap().text);
        let e = find("ministryofjustice/analytical-platform#6944");
        assert_eq!(e.found.action.as_deref(), Some("ses:SendRawEmail"));
        assert_eq!(
            e.found.principal.as_deref(),
            Some("arn:aws:iam::381491960855:user/mwaa-ses")
        );
        assert_eq!(e.found.identities, ["jacob.woffenden@justice.gov.uk"]);
        assert_eq!(e.found.regions, ["eu-west-2"]);
        assert!(e.found.smtp);
        assert_eq!(e.found.mailer.as_deref(), Some("Python smtplib"));
        assert!(e.meaning.contains("ses:SendRawEmail"), "{}", e.meaning);
        assert!(e.next.command.contains("--via smtp"));
        assert!(e.causes[0].steps[0].contains("--user-name mwaa-ses"));

        let e = find("WPManageNinja/fluent-smtp#61");
        assert_eq!(e.found.regions, ["eu-central-1"]);
        assert_eq!(e.found.identities, ["mail@ivosille.nl"]);

        let e = find("danilop/LambdAuth#64");
        assert_eq!(e.found.identities.len(), 2);

        let e = find("bokysan/docker-postfix#200");
        assert_eq!(e.found.regions, ["us-west-2"]);
        assert_eq!(e.found.mailer.as_deref(), Some("Postfix"));

        let e = find("cloud-custodian/cloud-custodian#4582");
        assert!(e
            .found
            .principal
            .as_deref()
            .unwrap()
            .contains(":assumed-role/"));
        assert_eq!(e.found.identities, ["ops@company.com"]);

        let e = find("aws/aws-sdk-php#1669");
        assert_eq!(e.found.regions, ["us-west-2"]);
    }

    /// A temporary key's ID as the SMTP user name. The wording is Swift Mailer's (as in
    /// mautic/mautic#3704); the fact is AWS's ("Obtaining Amazon SES SMTP credentials": do not
    /// derive SMTP credentials from temporary AWS credentials; aidansteele/ses-sidecar exists
    /// because SES's SMTP interface does not take them).
    #[test]
    fn a_temporary_key_as_the_smtp_user_name() {
        let e = explain(
            "Failed to authenticate on SMTP server with username \"ASIAQWERTYUIOPASDFGH\" using 1 possible authenticators: 535 Authentication Credentials Invalid",
        );
        assert_eq!(e.entry.as_deref(), Some("smtp-535"));
        assert_eq!(top(&e), Some(Code::SmtpCredentialsTemporary));
        for code in [
            Code::SmtpPortBlocked,
            Code::SmtpTlsMismatch,
            Code::SmtpCredentialsTemporary,
            Code::SmtpUsernameNotKeyId,
        ] {
            let e = explain(code.as_str());
            assert_eq!(top(&e), Some(code));
            assert!(e.next.command.contains("--via smtp"), "{}", e.next.command);
        }
    }
}
