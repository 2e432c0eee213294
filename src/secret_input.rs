//! Reading secrets from the person or the pipeline: an environment variable, stdin, or a hidden
//! prompt on a terminal. Never from argv, which other users of the machine can read.

use crate::exit::Failure;
use crate::secret::Secret;
use std::io::{IsTerminal, Read};

pub struct SecretInput {
    pub secret: Secret,
    /// A second line on stdin, for a session token.
    pub token: Option<Secret>,
    pub from: &'static str,
}

/// `env_var` first; else stdin when it is not a terminal (first line: the secret, optional second
/// line: a session token); else a hidden prompt.
pub fn read(env_var: &str, prompt: &str) -> Result<SecretInput, Failure> {
    if let Some(v) = std::env::var(env_var).ok().filter(|v| !v.is_empty()) {
        return Ok(SecretInput {
            secret: Secret::new(v),
            token: None,
            from: "the environment",
        });
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut buf = String::new();
        stdin
            .lock()
            .take(64 * 1024)
            .read_to_string(&mut buf)
            .map_err(|e| Failure::usage(format!("cannot read the secret from stdin: {e}")))?;
        let buf = Secret::new(buf);
        let mut lines = buf.expose().lines();
        let first = lines.next().unwrap_or_default();
        if first.is_empty() {
            return Err(Failure::usage(format!(
                "no secret on stdin: pipe it in, or set {env_var}"
            )));
        }
        // Only the line break is removed: other whitespace is kept for the checks to report.
        let token = lines
            .next()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim()));
        return Ok(SecretInput {
            secret: Secret::new(first.strip_suffix('\r').unwrap_or(first)),
            token,
            from: "stdin",
        });
    }
    crate::terminal::flush_input();
    let value = dialoguer::Password::new()
        .with_prompt(prompt)
        .allow_empty_password(false)
        .interact()
        .map_err(|e| match e {
            dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                Failure::interrupted()
            }
            other => Failure::usage(format!("cannot read the secret: {other}")),
        })?;
    Ok(SecretInput {
        secret: Secret::new(value),
        token: None,
        from: "a hidden prompt",
    })
}
