//! What src/validate.rs checks before anything happens: `--from` / `--to` (`email_address`),
//! `--profile` and `--write-profile` (`profile_name`), `--smtp-endpoint`, `--endpoint-url` and
//! `AWS_ENDPOINT_URL*` (`endpoint_url`), `--access-key-id`, and `shown`, which every message uses
//! to show the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ses_doctor::aws_files::{self, FileKind};
use ses_doctor::exit::Failure;
use ses_doctor::validate;
use ses_doctor_fuzz::sdk;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    // Every message shows the value escaped: no control character reaches the terminal.
    let shown = validate::shown(text);
    assert!(!has_control(&shown), "{shown:?}");
    let refused = |r: &Result<(), Failure>| match r {
        Ok(()) => false,
        Err(f) => {
            assert!(!has_control(&f.message), "{:?}", f.message);
            true
        }
    };

    // An address SES takes: one '@', a dot-atom of at most 64 octets before it, a host name of
    // two labels or more after it, printable ASCII without spaces, at most 254 octets.
    let address = validate::email_address(text, "--from");
    if !refused(&address) {
        let (local, domain) = text.split_once('@').expect("an '@'");
        assert!(!domain.contains('@'));
        assert!(text.len() <= 254 && !local.is_empty() && local.len() <= 64);
        assert!(text.bytes().all(|b| b.is_ascii_graphic()), "{text:?}");
        assert!(!text.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\']));
        assert!(domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty()));
    } else {
        assert!(address.unwrap_err().message.starts_with("--from "));
    }

    // A profile name that passes can be written as a section header and read back, by
    // ses-doctor and by the SDK, and adds exactly one section.
    if !refused(&validate::profile_name(text, "--profile")) {
        for kind in [FileKind::Config, FileKind::Credentials] {
            let out = aws_files::set_property("", kind, text, "region", "eu-west-1");
            assert_eq!(aws_files::sections(&out, kind).len(), 1, "{out:?}");
            assert_eq!(
                aws_files::get_property(&out, kind, text, "region").as_deref(),
                Some("eu-west-1")
            );
            let set = sdk(&out, kind).expect("the SDK reads it");
            assert_eq!(
                set.get_profile(text).and_then(|p| p.get("region")),
                Some("eu-west-1"),
                "{out:?}"
            );
        }
    }

    // HOST:PORT, with a port and a host; what passes passes again as it was understood.
    match validate::smtp_endpoint(text) {
        Ok((host, port)) => {
            assert!(port > 0 && !host.is_empty());
            let again = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            assert_eq!(validate::smtp_endpoint(&again).ok(), Some((host, port)));
        }
        Err(f) => assert!(!has_control(&f.message)),
    }

    // An endpoint URL: a password in it is never shown.
    let url = validate::endpoint_url(text, "--endpoint-url");
    // Known findings (reported with issue #10): a value that is not an http:// or https:// URL
    // is shown whole, a `user:password@` included, and one without "://" and without
    // whitespace once more, unescaped, in the hint "(did you mean http://...?)".
    let http = text.split_once("://").is_some_and(|(scheme, _)| {
        scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
    });
    let hinted = !text.contains("://") && !text.contains(char::is_whitespace) && !text.is_empty();
    if http {
        if let (Err(f), Some(password)) = (&url, userinfo(text)) {
            assert!(!f.message.contains(password), "{:?}", f.message);
        }
    }
    if !hinted {
        refused(&url);
    }

    let _ = refused(&validate::access_key_id(text));
});

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The `user:password` of `scheme://user:password@host/` (or of `user:password@host`, without
/// the scheme), when it is distinctive enough that no fixed text of a message can contain it (8
/// characters or more, letters and digits).
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    let info = &authority[..at];
    (info.len() >= 8
        && info.bytes().any(|b| b.is_ascii_digit())
        && info.bytes().any(|b| b.is_ascii_alphabetic())
        && !rest[at + 1..].contains(info)
        && !url[..url.len() - rest.len()].contains(info))
    .then_some(info)
}
