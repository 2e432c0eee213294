//! Checks of what the user typed (arguments, and the endpoint variables), made before anything
//! happens: no file is read for credentials, no AWS call is made, no secret is asked for. A value
//! that fails is bad usage: exit 2, with a message that names the flag or variable, shows the
//! value (escaped, shortened, never a password) and says what is wrong with it.
//!
//! The message style is `{flag} {value} is not {what}: {the problem}`, or `{flag} {value}: {the
//! problem}` for paths. Values are shown in single quotes when they are plain printable ASCII,
//! else in double quotes with every other character escaped (`\n`, `\u{410}`), so a line break or
//! a lookalike letter is visible rather than acted on by the terminal.

use crate::exit::Failure;
use crate::regions::{SMTP_STARTTLS_PORTS, SMTP_TLS_WRAPPER_PORTS};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The endpoint variables the SDK reads for the services ses-doctor calls (itself, or through
/// the credential providers: STS for roles, SSO for `sso_session` profiles).
pub const ENDPOINT_VARIABLES: [&str; 8] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SES",
    "AWS_ENDPOINT_URL_SESV2",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_ENDPOINT_URL_SIGNIN",
];

/// A CA file larger than this is not a CA file (a system bundle is a few hundred kilobytes).
const CA_FILE_MAX: u64 = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Showing values in messages
// ---------------------------------------------------------------------------------------------

/// A value as a message shows it: `'plain'`, or `"escaped\n\u{410}"`; a long value is cut
/// after 60 characters with its length.
pub fn shown(value: &str) -> String {
    const KEEP: usize = 60;
    let plain = value.chars().all(|c| (' '..='~').contains(&c) && c != '\'');
    let count = value.chars().count();
    let head: String = value.chars().take(KEEP).collect();
    let tail = if count > KEEP {
        format!("… ({} bytes)", value.len())
    } else {
        String::new()
    };
    if plain {
        return format!("'{head}{tail}'");
    }
    let mut out = String::from("\"");
    for c in head.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            other => out.push_str(&format!("\\u{{{:x}}}", other as u32)),
        }
    }
    out.push('"');
    out.push_str(&tail);
    out
}

/// A character that is not printable ASCII, named for a person: its code point, what it is when
/// it is a usual suspect (a lookalike letter, an invisible space), and what it looks like.
pub fn describe_char(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    let named = |what: &str| format!("{code} ({what})");
    let lookalike = |what: &str, like: char| format!("{code} ({what}, which looks like '{like}')");
    match c {
        '\n' => named("a line break, LF"),
        '\r' => named("a carriage return, CR"),
        '\t' => named("a tab"),
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => named("a control character"),
        '\u{a0}' => named("a non-breaking space"),
        '\u{ad}' => named("an invisible soft hyphen"),
        '\u{200b}' => named("a zero-width space"),
        '\u{200c}' | '\u{200d}' => named("an invisible zero-width joiner"),
        '\u{2060}' => named("an invisible word joiner"),
        '\u{feff}' => named("an invisible byte order mark"),
        '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => named("a wide space"),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => lookalike("a dash", '-'),
        '\u{2018}' | '\u{2019}' => lookalike("a typographic quote", '\''),
        '\u{201c}' | '\u{201d}' => lookalike("a typographic quote", '"'),
        '\u{ff01}'..='\u{ff5e}' => {
            let ascii = char::from_u32(c as u32 - 0xff01 + 0x21).unwrap_or('?');
            lookalike("a full-width character", ascii)
        }
        _ => match cyrillic_or_greek_lookalike(c) {
            Some((script, like)) => lookalike(&format!("the {script} letter {c}"), like),
            None if c.is_whitespace() => named("a space"),
            None => code,
        },
    }
}

/// Cyrillic and Greek letters that look like Latin ones.
fn cyrillic_or_greek_lookalike(c: char) -> Option<(&'static str, char)> {
    const CYRILLIC: &[(char, char)] = &[
        ('А', 'A'),
        ('В', 'B'),
        ('Е', 'E'),
        ('К', 'K'),
        ('М', 'M'),
        ('Н', 'H'),
        ('О', 'O'),
        ('Р', 'P'),
        ('С', 'C'),
        ('Т', 'T'),
        ('Х', 'X'),
        ('Ѕ', 'S'),
        ('І', 'I'),
        ('Ј', 'J'),
        ('а', 'a'),
        ('е', 'e'),
        ('о', 'o'),
        ('р', 'p'),
        ('с', 'c'),
        ('х', 'x'),
        ('у', 'y'),
        ('ѕ', 's'),
        ('і', 'i'),
        ('ј', 'j'),
    ];
    const GREEK: &[(char, char)] = &[
        ('Α', 'A'),
        ('Β', 'B'),
        ('Ε', 'E'),
        ('Ζ', 'Z'),
        ('Η', 'H'),
        ('Ι', 'I'),
        ('Κ', 'K'),
        ('Μ', 'M'),
        ('Ν', 'N'),
        ('Ο', 'O'),
        ('Ρ', 'P'),
        ('Τ', 'T'),
        ('Υ', 'Y'),
        ('Χ', 'X'),
        ('ο', 'o'),
        ('ν', 'v'),
    ];
    let find = |table: &[(char, char)]| table.iter().find(|(k, _)| *k == c).map(|(_, v)| *v);
    find(CYRILLIC)
        .map(|like| ("Cyrillic", like))
        .or_else(|| find(GREEK).map(|like| ("Greek", like)))
}

/// The first character that is not printable ASCII, with its 1-based position.
fn first_unusual(value: &str) -> Option<(usize, char)> {
    value
        .chars()
        .enumerate()
        .find(|(_, c)| !(' '..='~').contains(c))
        .map(|(i, c)| (i + 1, c))
}

// ---------------------------------------------------------------------------------------------
// Email addresses (--from, --to)
// ---------------------------------------------------------------------------------------------

/// `--from` / `--to`: one bare address (`name@example.com`), as SES takes it.
///
/// Refused: control characters (a CR or LF would smuggle header lines), a display name
/// (`Shop <shop@example.com>`: give the bare address), spaces, non-ASCII characters (SES does
/// not support SMTPUTF8: an internationalised domain goes in its `xn--` Punycode form, which is
/// accepted), anything but exactly one `@`, a local part that is empty, longer than 64 octets or
/// not a dot-atom (RFC 5322 `atext` and single dots), a domain that is not a host name of at
/// least two labels (letters, digits, hyphens; 1-63 octets each, no hyphen at either end, a
/// top-level label that is not all digits), and more than 254 octets in all (RFC 5321).
pub fn email_address(value: &str, flag: &str) -> Result<(), Failure> {
    email_problem(value).map_or(Ok(()), |problem| {
        Err(Failure::usage(format!(
            "{flag} {} is not an email address: {problem}",
            shown(value)
        )))
    })
}

fn email_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("it is empty".into());
    }
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Some(format!(
            "character {} is {}; give one address on one line",
            at + 1,
            describe_char(c)
        ));
    }
    if let (Some(open), true) = (value.rfind('<'), value.trim_end().ends_with('>')) {
        let inner = value.trim_end()[open + 1..value.trim_end().len() - 1].trim();
        return Some(format!(
            "a display name is not taken here; give the bare address{}",
            if inner.is_empty() {
                String::new()
            } else {
                format!(", {}", shown(inner))
            }
        ));
    }
    if value.len() > 254 {
        return Some(format!(
            "it is {} bytes long; an address has at most 254 (RFC 5321)",
            value.len()
        ));
    }
    if let Some(c) = value.chars().find(|c| *c == ',' || *c == ';') {
        return Some(format!("it contains '{c}': give one address, not a list"));
    }
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_whitespace()) {
        return Some(format!(
            "character {} is {}; an address has no spaces",
            at + 1,
            if c == ' ' {
                "a space".to_owned()
            } else {
                describe_char(c)
            }
        ));
    }
    if let Some((at, c)) = first_unusual(value) {
        return Some(format!(
            "character {at} is {}; SES takes ASCII addresses only (give an internationalised \
             domain in its xn-- form)",
            describe_char(c)
        ));
    }
    let (local, domain) = match value.matches('@').count() {
        0 => return Some("it has no '@'".into()),
        1 => value.split_once('@')?,
        n => return Some(format!("it has {n} '@' signs; an address has one")),
    };
    if local.is_empty() {
        return Some("there is nothing before the '@'".into());
    }
    if domain.is_empty() {
        return Some("there is nothing after the '@'".into());
    }
    if local.len() > 64 {
        return Some(format!(
            "the part before the '@' is {} characters; at most 64 (RFC 5321)",
            local.len()
        ));
    }
    const ATEXT: &str = "!#$%&'*+-/=?^_`{|}~";
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || ATEXT.contains(*c)))
    {
        return Some(format!("the part before the '@' contains '{c}'"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some(
            "the part before the '@' starts or ends with a dot, or has two dots in a row".into(),
        );
    }
    domain_problem(domain)
}

/// The domain of an address: a DNS host name with at least two labels.
fn domain_problem(domain: &str) -> Option<String> {
    let named = format!("the domain {}", shown(domain));
    if domain.starts_with('[') {
        return Some(format!(
            "{named} is an address literal; SES sends to domain names"
        ));
    }
    if domain.len() > 253 {
        return Some(format!("{named} is longer than 253 characters"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Some(format!(
            "{named} starts or ends with a dot, or has two dots in a row"
        ));
    }
    if labels.len() < 2 {
        return Some(format!(
            "{named} has no dot; give a full domain such as example.com"
        ));
    }
    for label in &labels {
        if let Some(problem) = label_problem(label, false) {
            return Some(format!("{named}: {problem}"));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return Some(format!(
            "{named} is an IP address, or ends in a number; SES sends to domain names"
        ));
    }
    None
}

/// One label of a host name: 1-63 letters, digits and hyphens (and underscores, for endpoint
/// hosts such as Docker service names), not starting or ending with a hyphen.
fn label_problem(label: &str, underscore: bool) -> Option<String> {
    if label.len() > 63 {
        return Some(format!(
            "the label '{label}' is {} characters; at most 63",
            label.len()
        ));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || (underscore && *c == '_')))
    {
        return Some(format!(
            "'{c}' is not a letter, digit or hyphen, and no host name has it"
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some(format!("the label '{label}' starts or ends with a hyphen"));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Endpoints (--endpoint-url, AWS_ENDPOINT_URL*, --smtp-endpoint)
// ---------------------------------------------------------------------------------------------

/// `--endpoint-url` or an `AWS_ENDPOINT_URL*` variable (named by `name`): an http:// or https://
/// URL with a host (a host name, an IPv4 address or a bracketed IPv6 address), an optional port
/// 1-65535, and an optional path; no whitespace, no control or non-ASCII characters, and no
/// `user:password@` (it would be written to logs and debug output; it is never shown).
pub fn endpoint_url(url: &str, name: &str) -> Result<(), Failure> {
    let Some((scheme, rest)) = url
        .split_once("://")
        .filter(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
    else {
        // Whatever the scheme, `user:password@` is never shown.
        let masked = match url.rfind('@') {
            Some(at) => match url[..at].rfind("://") {
                Some(s) => format!("{}://***@{}", &url[..s], &url[at + 1..]),
                None => format!("***@{}", &url[at + 1..]),
            },
            None => url.to_owned(),
        };
        // The hint only for printable ASCII: nothing raw reaches the terminal.
        let hint = if !url.contains("://")
            && !masked.is_empty()
            && masked.chars().all(|c| c.is_ascii_graphic())
        {
            format!(" (did you mean http://{masked}?)")
        } else {
            String::new()
        };
        return Err(Failure::usage(format!(
            "{name} {} is not an http:// or https:// URL{hint}",
            shown(&masked)
        )));
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // The user information is never shown: it may hold a password.
    let (display, userinfo) = match authority.rfind('@') {
        Some(at) => (
            format!("{scheme}://***@{}", &rest[at + 1..]),
            Some(&authority[..at]),
        ),
        None => (url.to_owned(), None),
    };
    let bad = |problem: String| {
        Failure::usage(format!(
            "{name} {} is not a usable endpoint URL: {problem}",
            shown(&display)
        ))
    };
    if let Some((at, c)) = url
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        return Err(bad(format!("character {} is {}", at + 1, describe_char(c))));
    }
    if let Some((at, c)) = first_unusual(url) {
        return Err(bad(format!(
            "character {at} is {}; give the host in its ASCII (xn--) form",
            describe_char(c)
        )));
    }
    if userinfo.is_some() {
        return Err(bad(
            "it holds a user name or password (user:password@), which would be written to logs; \
             AWS requests are signed with the credentials, so leave it out"
                .into(),
        ));
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((ip, after)) = inner.split_once(']') else {
            return Err(bad("the IPv6 address has no closing ']'".into()));
        };
        if ip.parse::<Ipv6Addr>().is_err() {
            return Err(bad(format!("'{ip}' is not an IPv6 address")));
        }
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(bad(format!("'{after}' after the IPv6 address"))),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(authority), None),
        }
    };
    if let Some(host) = host {
        if host.is_empty() {
            return Err(bad("it has no host".into()));
        }
        if let Some(problem) = host_problem(host) {
            return Err(bad(problem));
        }
    }
    if let Some(port) = port {
        port_number(port).map_err(bad)?;
    }
    if let Some(region) = host.and_then(ses_smtp_host_region) {
        return Err(Failure::usage(smtp_host_as_api_endpoint(
            &format!("{name} {}", shown(&display)),
            name,
            &region,
        )));
    }
    // The path, query and fragment: what a URI may hold unencoded (RFC 3986), as the SDK's
    // HTTP stack refuses the rest at the first call.
    const URI_PUNCTUATION: &str = "-._~!$&'()*+,;=:@/?%#";
    let tail = &rest[authority_end..];
    if let Some(c) = tail
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || URI_PUNCTUATION.contains(*c)))
    {
        return Err(bad(format!(
            "'{c}' cannot stand in a URL as it is; percent-encode it (%{:02X})",
            c as u32
        )));
    }
    Ok(())
}

/// Why an API endpoint set to SES's SMTP host cannot work, for `what` (the setting and its value)
/// and the setting's `name`.
pub fn smtp_host_as_api_endpoint(what: &str, name: &str, region: &str) -> String {
    format!(
        "{what} is SES's SMTP host, not an API endpoint [endpoint-is-smtp-host]: \
         email-smtp.{region}.amazonaws.com speaks SMTP only (ports 587, 465, 25, 2587, 2465), so \
         API calls sent there never get an answer. Leave {name} out and the SDK calls the \
         region's API endpoint (https://email.{region}.amazonaws.com); the SMTP host belongs in \
         the mailer's SMTP settings"
    )
}

/// The region of SES's SMTP host (`email-smtp.<region>.amazonaws.com`, or its FIPS form), when
/// `host` is one.
pub fn ses_smtp_host_region(host: &str) -> Option<String> {
    ses_host_region(host, &["email-smtp", "email-smtp-fips"])
}

/// The region of SES's API host (`email.<region>.amazonaws.com`, or its FIPS form), when `host`
/// is one.
pub fn ses_api_host_region(host: &str) -> Option<String> {
    ses_host_region(host, &["email", "email-fips"])
}

fn ses_host_region(host: &str, first_labels: &[&str]) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let (first, region) = rest.split_once('.')?;
    (first_labels.contains(&first) && crate::regions::is_region_shaped(region))
        .then(|| region.to_owned())
}

/// The host of an http(s) URL (no port, no brackets), when it has one.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = match authority.strip_prefix('[') {
        Some(inner) => inner.split_once(']')?.0,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then_some(host)
}

/// A port as typed: digits, 1-65535.
fn port_number(port: &str) -> Result<u16, String> {
    if port.is_empty() {
        return Err("the port after ':' is missing".into());
    }
    if !port.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("the port '{port}' is not a number"));
    }
    match port.trim_start_matches('0').parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(format!("the port {port} is not in 1-65535")),
    }
}

/// A host of an endpoint: an IPv4 address, or a host name of labels (a trailing dot allowed).
fn host_problem(host: &str) -> Option<String> {
    if host.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    if host.contains(':') {
        return Some(format!(
            "'{host}' has more than one ':'; an IPv6 address goes in brackets, [::1]"
        ));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() > 253 {
        return Some("the host name is longer than 253 characters".into());
    }
    if name.split('.').any(str::is_empty) {
        return Some(format!(
            "the host '{host}' starts with a dot or has two dots in a row"
        ));
    }
    if name
        .split('.')
        .all(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return Some(format!("'{host}' is not an IPv4 address"));
    }
    name.split('.')
        .find_map(|label| label_problem(label, true))
        .map(|p| format!("in the host '{host}', {p}"))
}

/// The `AWS_ENDPOINT_URL*` variables of this process (unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, when the SDK ignores them).
pub fn endpoint_variables() -> Result<(), Failure> {
    endpoint_variables_in(|name| std::env::var_os(name))
}

/// [`endpoint_variables`] over any environment (`get` gives a variable's raw value).
pub fn endpoint_variables_in(
    get: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<(), Failure> {
    let ignored = get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .and_then(|v| v.into_string().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if ignored {
        return Ok(());
    }
    for name in ENDPOINT_VARIABLES {
        let Some(raw) = get(name) else { continue };
        // Empty counts as unset, as in the SDKs.
        if raw.is_empty() {
            continue;
        }
        let value = raw.into_string().map_err(|_| {
            Failure::usage(format!(
                "{name} is not valid UTF-8, so it is no URL; set it to an http:// or https:// URL or unset it"
            ))
        })?;
        endpoint_url(&value, name)?;
    }
    Ok(())
}

/// `--smtp-endpoint HOST:PORT` (an IPv6 host in brackets, `[::1]:2525`).
pub fn smtp_endpoint(text: &str) -> Result<(String, u16), Failure> {
    let bad = |problem: String| {
        Failure::usage(format!(
            "--smtp-endpoint {} is not HOST:PORT: {problem}",
            shown(text)
        ))
    };
    if let Some((at, c)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(' '..='~').contains(c) || *c == ' ')
    {
        return Err(bad(format!("character {} is {}", at + 1, describe_char(c))));
    }
    if text.contains("://") {
        return Err(bad(
            "give the host and port only, without a scheme (the TLS mode is --smtp-tls)".into(),
        ));
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(bad("there is no ':PORT'".into()));
    };
    let port = port_number(port).map_err(bad)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => {
            let ip = inner
                .strip_suffix(']')
                .ok_or_else(|| bad("the IPv6 address has no closing ']'".into()))?;
            if ip.parse::<Ipv6Addr>().is_err() {
                return Err(bad(format!("'{ip}' is not an IPv6 address")));
            }
            ip
        }
        None if host.parse::<Ipv6Addr>().is_ok() => host,
        None => {
            if host.is_empty() {
                return Err(bad("there is no host before the ':'".into()));
            }
            if let Some(problem) = host_problem(host) {
                return Err(bad(problem));
            }
            if let Some(region) = ses_api_host_region(host) {
                return Err(Failure::usage(format!(
                    "--smtp-endpoint {} is the SES API's host, not its SMTP host \
                     [endpoint-is-smtp-host]: email.{region}.amazonaws.com answers HTTPS only, so \
                     an SMTP client there gets no greeting. SES's SMTP interface for {region} is \
                     email-smtp.{region}.amazonaws.com (587 STARTTLS, 465 TLS); or leave \
                     --smtp-endpoint out and give --region {region}",
                    shown(text)
                )));
            }
            host
        }
    };
    Ok((host.to_owned(), port))
}

/// `--smtp-port`: one SES's SMTP interface listens on, unless `--smtp-endpoint` names another
/// server (whose port is given there; a different `--smtp-port` beside it is a contradiction).
pub fn smtp_port(port: u16, endpoint: Option<&(String, u16)>) -> Result<(), Failure> {
    match endpoint {
        Some((_, endpoint_port)) if *endpoint_port != port => Err(Failure::usage(format!(
            "--smtp-port {port} and --smtp-endpoint (port {endpoint_port}) name different ports: \
             give the port once, in --smtp-endpoint HOST:PORT"
        ))),
        Some(_) => Ok(()),
        None if SMTP_STARTTLS_PORTS.contains(&port) || SMTP_TLS_WRAPPER_PORTS.contains(&port) => {
            Ok(())
        }
        None => {
            let list = |ports: &[u16]| {
                let names: Vec<String> = ports.iter().map(u16::to_string).collect();
                names.join(", ")
            };
            Err(Failure::usage(format!(
                "--smtp-port {port}: SES's SMTP interface listens on {} (STARTTLS) and {} (TLS \
                 wrapper) only; for another server give --smtp-endpoint HOST:PORT",
                list(&SMTP_STARTTLS_PORTS),
                list(&SMTP_TLS_WRAPPER_PORTS)
            )))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/// `--smtp-ca-file`: a readable regular file with at least one PEM certificate in it.
pub fn ca_file(path: &Path) -> Result<(), Failure> {
    let bad = |what: String| Failure::usage(format!("--smtp-ca-file {}: {what}", shown_path(path)));
    // Metadata first: opening a FIFO would wait for a writer.
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad("no such file".into()),
        _ => bad(format!("cannot be read: {e}")),
    })?;
    if !meta.is_file() {
        return Err(bad(format!(
            "is {}, not a file of PEM certificates",
            crate::shared_files::file_type_name(&meta)
        )));
    }
    if meta.len() > CA_FILE_MAX {
        return Err(bad(format!(
            "is {} bytes; a CA certificate file is a few kilobytes",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    if bytes.is_empty() {
        return Err(bad("is empty; it should hold a PEM certificate".into()));
    }
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    if !bytes.windows(BEGIN.len()).any(|w| w == BEGIN) {
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        let why = if has(b"PRIVATE KEY-----") {
            "it holds a private key, not a certificate; give the CA's certificate".to_owned()
        } else if bytes.starts_with(&[0x30, 0x82]) || bytes.starts_with(&[0x30, 0x81]) {
            "it looks like a DER (binary) certificate; convert it to PEM with \
             `openssl x509 -inform der -in FILE -out FILE.pem`"
                .to_owned()
        } else {
            "it holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line)".to_owned()
        };
        return Err(bad(why));
    }
    lettre::transport::smtp::client::Certificate::from_pem(&bytes).map_err(|_| {
        bad("a certificate in it is damaged (its PEM block cannot be decoded)".into())
    })?;
    Ok(())
}

/// `--credentials-out`: a new file (never an existing one, nor a link, nor a directory) in an
/// existing, ordinary directory (not in /proc, /sys or /dev).
pub fn new_file(path: &Path) -> Result<(), Failure> {
    let bad =
        |what: String| Failure::usage(format!("--credentials-out {}: {what}", shown_path(path)));
    if path.as_os_str().is_empty() {
        return Err(Failure::usage(
            "--credentials-out '': give the path of a new file",
        ));
    }
    let text = path.to_string_lossy();
    if text.ends_with('/') || path.file_name().is_none() {
        return Err(bad("names a directory; give the path of a new file".into()));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(bad(format!(
            "the path contains {}; give a path without it",
            describe_char(c)
        )));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(bad(
                "is a directory; give the path of a new file in it".into()
            ))
        }
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(bad(
                "is a symbolic link; ses-doctor writes a new file only, never through a link"
                    .into(),
            ))
        }
        Ok(_) => return Err(bad("the file exists; ses-doctor never overwrites it".into())),
        // Not found, or a file where a directory should be: the directory check says which.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) => {}
        Err(e) => return Err(bad(format!("cannot be checked: {e}"))),
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(meta) => {
            return Err(bad(format!(
                "{} is {}, not a directory",
                shown_path(dir),
                crate::shared_files::file_type_name(&meta)
            )))
        }
        Err(_) => {
            return Err(bad(format!(
                "the directory {} does not exist",
                shown_path(dir)
            )))
        }
    }
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for virtual_fs in ["/proc", "/sys", "/dev"] {
        // /dev/shm is an ordinary (memory-backed) file system.
        if real.starts_with(virtual_fs) && !real.starts_with("/dev/shm") {
            return Err(bad(format!(
                "{virtual_fs} is not a place for files; give a path in an ordinary directory"
            )));
        }
    }
    if !writable(&real) {
        return Err(bad(format!(
            "the directory {} is not writable",
            shown_path(dir)
        )));
    }
    Ok(())
}

/// Whether this process may create a file in `dir` (root included), asked without creating one.
#[cfg(unix)]
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

fn shown_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = text.chars().all(|c| (' '..='~').contains(&c));
    if plain {
        text.into_owned()
    } else {
        shown(&text)
    }
}

// ---------------------------------------------------------------------------------------------
// Names and keys
// ---------------------------------------------------------------------------------------------

/// A profile name the Rust SDK accepts (letters, digits and `_-/.%@:+`; it ignores sections
/// named otherwise, so such a profile can never be found): anything else could also break the
/// section header it is written into, or inject lines into the file.
pub fn profile_name(name: &str, flag: &str) -> Result<(), Failure> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c);
    if !name.is_empty() && name.chars().all(allowed) {
        return Ok(());
    }
    let why = match name.chars().find(|c| !allowed(*c)) {
        None => "it is empty".to_owned(),
        Some(' ') => "it contains a space".to_owned(),
        Some(c) if (' '..='~').contains(&c) => format!("it contains '{c}'"),
        Some(c) => format!("it contains {}", describe_char(c)),
    };
    Err(Failure::usage(format!(
        "{flag} {} is not a profile name the AWS SDKs accept ({why}): use letters, digits and _-/.%@:+ only",
        shown(name)
    )))
}

/// `--user-name`: an IAM user name.
pub fn user_name(name: &str) -> Result<(), Failure> {
    crate::diagnose::iam_user::validate_name(name).map_err(|_| {
        Failure::usage(format!(
            "--user-name {} is not a valid IAM user name (1-64 letters, digits and +=,.@_-)",
            shown(name)
        ))
    })
}

/// `--access-key-id`: a key ID given on the command line is an argument, so a malformed one is
/// bad usage (exit 2), not a finding. (The same value in the mailer's files or environment is
/// what is being diagnosed: there it is the finding `access-key-id-malformed`, exit 1.)
pub fn access_key_id(id: &str) -> Result<(), Failure> {
    const RULE: &str =
        "an access key ID is 20 characters: AKIA (or ASIA) then 16 letters A-Z and digits 2-7";
    let bad = |why: String| {
        Failure::usage(format!(
            "--access-key-id {} is not an access key ID: {why}; {RULE}",
            shown(id)
        ))
    };
    if id.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if let Some((at, c)) = first_unusual(id) {
        return Err(bad(format!("character {at} is {}", describe_char(c))));
    }
    if let Some((at, _)) = id.chars().enumerate().find(|(_, c)| *c == ' ') {
        return Err(bad(format!("character {} is a space", at + 1)));
    }
    let key = crate::secret::AccessKey {
        id: id.to_owned(),
        secret: crate::secret::Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: None,
    };
    match crate::diagnose::local::key_findings(&key)
        .into_iter()
        .find(|f| f.code == crate::codes::Code::AccessKeyIdMalformed)
    {
        Some(finding) => Err(bad(finding.title)),
        None => Ok(()),
    }
}

/// `--regions`: no empty entry, none twice (each is then looked up by `regions_to_scan`).
pub fn regions(list: &[String]) -> Result<(), Failure> {
    for (i, name) in list.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(Failure::usage(
                "--regions has an empty entry (two commas in a row, or one at either end); \
                 give region names separated by commas, e.g. us-east-1,eu-west-1",
            ));
        }
        if name.chars().any(|c| !(' '..='~').contains(&c)) {
            let (at, c) = first_unusual(name).unwrap_or((0, ' '));
            return Err(Failure::usage(format!(
                "--regions: {} is not an SES region: character {at} is {}",
                shown(name),
                describe_char(c)
            )));
        }
        if list[..i].contains(name) {
            return Err(Failure::usage(format!(
                "--regions names {} twice",
                shown(name)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(v: &str) -> Result<(), String> {
        email_address(v, "--to").map_err(|f| f.message)
    }

    #[test]
    fn addresses() {
        for ok in [
            "success@simulator.amazonses.com",
            "a.b+tag@mail.example.co.uk",
            "o'brien@example.ie",
            "x@xn--bcher-kva.example",
            "UPPER@EXAMPLE.COM",
        ] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_all = format!("a@{}.com", "b.".repeat(130));
        for (bad, why) in [
            ("", "it is empty"),
            (
                "x@example.net\nBcc: v@example.org",
                "character 14 is U+000A (a line break, LF)",
            ),
            ("x@example.net\r\n", "carriage return"),
            (
                "Shop <shop@example.com>",
                "give the bare address, 'shop@example.com'",
            ),
            ("a@b@example.com", "2 '@' signs"),
            ("example.com", "no '@'"),
            ("@example.com", "nothing before"),
            ("a@", "nothing after"),
            ("a b@example.com", "a space"),
            ("a\u{a0}@example.com", "non-breaking space"),
            ("a@exаmple.com", "Cyrillic letter"),
            ("a@bücher.example", "xn-- form"),
            (long_local.as_str(), "at most 64"),
            (long_all.as_str(), "at most 254"),
            ("a@localhost", "has no dot"),
            ("a@example..com", "two dots"),
            ("a@-example.com", "hyphen"),
            ("a@exa_mple.com", "'_' is not"),
            ("a@1.2.3.4", "IP address"),
            ("a@[1.2.3.4]", "address literal"),
            (".a@example.com", "starts or ends with a dot"),
            ("a,b@example.com", "not a list"),
            ("a(b)@example.com", "contains '('"),
        ] {
            let got = email(bad).expect_err(bad);
            assert!(got.contains(why), "{bad:?}: {got}");
            assert!(!got.contains('\n') && !got.contains('\r'), "{got}");
        }
    }

    #[test]
    fn shown_values_are_escaped_and_short() {
        assert_eq!(shown("a@b.c"), "'a@b.c'");
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        assert_eq!(shown("Аb"), "\"\\u{410}b\"");
        let long = shown(&"x".repeat(100_000));
        assert!(long.len() < 100 && long.contains("100000 bytes"), "{long}");
    }

    #[test]
    fn ses_hosts_in_the_wrong_setting() {
        assert_eq!(
            ses_smtp_host_region("email-smtp.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            ses_smtp_host_region("EMAIL-SMTP-FIPS.us-east-1.amazonaws.com.").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(ses_smtp_host_region("email.eu-west-1.amazonaws.com"), None);
        assert_eq!(
            ses_api_host_region("email.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(ses_api_host_region("email.example.com"), None);
        assert_eq!(ses_api_host_region("127.0.0.1"), None);
        let err = endpoint_url(
            "https://email-smtp.eu-west-1.amazonaws.com",
            "AWS_ENDPOINT_URL_SES",
        )
        .unwrap_err()
        .message;
        assert!(err.contains("[endpoint-is-smtp-host]"), "{err}");
        assert!(
            err.contains("https://email.eu-west-1.amazonaws.com"),
            "{err}"
        );
        assert!(endpoint_url("https://email.eu-west-1.amazonaws.com", "--endpoint-url").is_ok());
        let err = smtp_endpoint("email.eu-west-1.amazonaws.com:587")
            .unwrap_err()
            .message;
        assert!(err.contains("email-smtp.eu-west-1.amazonaws.com"), "{err}");
        assert!(smtp_endpoint("email-smtp.eu-west-1.amazonaws.com:587").is_ok());
        assert_eq!(url_host("https://u@[::1]:4566/x"), Some("::1"));
        assert_eq!(
            url_host("http://email-smtp.eu-west-1.amazonaws.com:443"),
            Some("email-smtp.eu-west-1.amazonaws.com")
        );
        assert_eq!(url_host("nonsense"), None);
    }

    #[test]
    fn endpoints() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://email.eu-west-1.amazonaws.com",
            "http://localstack_main:4566/",
            "http://[::1]:4566",
            "HTTPS://example.com/path?x=1",
            "http://example.com.",
        ] {
            assert!(endpoint_url(ok, "--endpoint-url").is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("127.0.0.1:5000", "did you mean http://127.0.0.1:5000"),
            ("http://", "no host"),
            ("ftp://example.com", "not an http:// or https:// URL"),
            ("http://a b", "U+0020"),
            ("http://example.com\n", "line break"),
            ("http://user:hunter2@example.com", "user name or password"),
            ("http://example.com:0", "not in 1-65535"),
            ("http://example.com:65536", "not in 1-65535"),
            ("http://example.com:", "missing"),
            ("http://example.com:80x", "not a number"),
            ("http://[::1", "closing"),
            ("http://[zz]:1", "not an IPv6"),
            ("http://::1:80", "more than one ':'"),
            ("http://exa..mple.com", "two dots"),
            ("http://999.1.1.1", "not an IPv4"),
            ("http://exаmple.com", "Cyrillic"),
            ("http://-x.com", "hyphen"),
            ("http://127.0.0.1:9/<x>", "'<' cannot stand in a URL"),
            ("http://127.0.0.1:9/`", "percent-encode it (%60)"),
        ] {
            let got = endpoint_url(bad, "--endpoint-url").expect_err(bad).message;
            assert!(got.contains(why), "{bad:?}: {got}");
            assert!(!got.contains("hunter2"), "{got}");
        }
    }

    #[test]
    fn endpoint_variables_are_named() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let err = endpoint_variables_in(env(&[("AWS_ENDPOINT_URL_STS", "localhost")]))
            .unwrap_err()
            .message;
        assert!(err.starts_with("AWS_ENDPOINT_URL_STS 'localhost'"), "{err}");
        assert!(endpoint_variables_in(env(&[("AWS_ENDPOINT_URL", "")])).is_ok());
        assert!(endpoint_variables_in(env(&[
            ("AWS_ENDPOINT_URL", "nonsense"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]))
        .is_ok());
    }

    #[test]
    fn smtp_endpoints_and_ports() {
        assert_eq!(
            smtp_endpoint("127.0.0.1:2525").unwrap(),
            ("127.0.0.1".into(), 2525)
        );
        assert_eq!(smtp_endpoint("[::1]:25").unwrap(), ("::1".into(), 25));
        assert_eq!(
            smtp_endpoint("relay.example.com:587").unwrap(),
            ("relay.example.com".into(), 587)
        );
        for bad in [
            "relay",
            ":25",
            "relay:0",
            "relay:x",
            "smtp://relay:25",
            "re lay:25",
            "[::1:25",
        ] {
            assert!(smtp_endpoint(bad).is_err(), "{bad}");
        }
        assert!(smtp_port(587, None).is_ok());
        assert!(smtp_port(2465, None).is_ok());
        let err = smtp_port(2525, None).unwrap_err().message;
        assert!(
            err.contains("587, 25, 2587 (STARTTLS) and 465, 2465 (TLS wrapper)"),
            "{err}"
        );
        assert!(smtp_port(2525, Some(&("h".into(), 2525))).is_ok());
        assert!(smtp_port(587, Some(&("h".into(), 2525))).is_err());
    }

    #[test]
    fn access_key_ids() {
        assert!(access_key_id("AKIAQWERTYUIOPASDFGH").is_ok());
        for (bad, why) in [
            (
                "AKIАQWERTYUIOPASDFGH",
                "Cyrillic letter А, which looks like 'A'",
            ),
            ("AKIAQWERTYUIOPASDFG\u{a0}", "non-breaking space"),
            ("AKIAQWERTY\u{200b}UIOPASDFGH", "zero-width space"),
            ("AIDAQWERTYUIOPASDFGH", "IAM user ID"),
            ("AKIAQWERTY", "10 characters"),
            ("AKIAQWERTYUIOPASDFG0", "letter O"),
            ("", "empty"),
        ] {
            let got = access_key_id(bad).expect_err(bad).message;
            assert!(got.contains(why), "{bad:?}: {got}");
        }
    }

    #[test]
    fn profile_and_region_lists() {
        assert!(profile_name("mailer-prod/eu", "--profile").is_ok());
        for bad in ["", "a b", "a]b", "a\nb", "prоd"] {
            assert!(profile_name(bad, "--profile").is_err(), "{bad:?}");
        }
        assert!(regions(&["us-east-1".into(), "eu-west-1".into()]).is_ok());
        assert!(regions(&["us-east-1".into(), "".into()]).is_err());
        assert!(regions(&["us-east-1".into(), "us-east-1".into()]).is_err());
    }

    #[test]
    fn lookalikes_are_named() {
        assert_eq!(
            describe_char('А'),
            "U+0410 (the Cyrillic letter А, which looks like 'A')"
        );
        assert_eq!(describe_char('\u{200b}'), "U+200B (a zero-width space)");
        assert_eq!(
            describe_char('Ａ'),
            "U+FF21 (a full-width character, which looks like 'A')"
        );
    }

    #[test]
    fn a_password_in_a_wrong_scheme_url_is_never_shown() {
        for url in [
            "ftp://mailer:S3cretPass99@host",
            "mailer:S3cretPass99@localhost:4566",
            "x\u{1b}[31mRED",
        ] {
            let e = endpoint_url(url, "--endpoint-url").unwrap_err();
            assert!(!e.message.contains("S3cretPass99"), "{}", e.message);
            assert!(!e.message.contains('\u{1b}'), "{:?}", e.message);
        }
    }
}
