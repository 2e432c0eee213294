//! The exit-code contract (documented in the README, relied on by CI jobs):
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | nothing wrong remains (possibly after fixes) |
//! | 1    | problems remain |
//! | 2    | bad usage or bad input |
//! | 3    | the diagnosis could not complete (network, endpoint down) |
//! | 130  | interrupted |

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    Clean,
    Problems,
    Usage,
    Incomplete,
    Interrupted,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Clean => 0,
            ExitCode::Problems => 1,
            ExitCode::Usage => 2,
            ExitCode::Incomplete => 3,
            ExitCode::Interrupted => 130,
        }
    }
}

/// An error that ends the run with a specific exit code. Anything else that reaches `main` as an
/// `anyhow::Error` is an internal failure of the diagnosis (exit 3).
#[derive(Debug)]
pub struct Failure {
    pub exit: ExitCode,
    pub message: String,
}

impl Failure {
    /// Bad usage or bad input: names the problem, exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            exit: ExitCode::Usage,
            message: message.into(),
        }
    }

    pub fn interrupted() -> Self {
        Failure {
            exit: ExitCode::Interrupted,
            message: "interrupted".into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An error and its sources as one line of `Display` messages ("a: b: c"), without the `Debug`
/// dumps the SDK's `DisplayErrorContext` appends. Repeated messages are shown once.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = tidy(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The SDK shows an error its model does not name (an "unhandled error") with its metadata's
/// `Debug`: `unhandled error (ForbiddenException): Error { code: "ForbiddenException", message:
/// "No access", aws_request_id: ... }`. People get `ForbiddenException: No access`.
fn tidy(text: &str) -> String {
    let field = |name: &str| {
        let start = text.find(&format!("{name}: \""))? + name.len() + 3;
        let end = start + text[start..].find('"')?;
        Some(&text[start..end])
    };
    match (text.contains("Error { "), field("code"), field("message")) {
        (true, Some(code), Some(message)) => format!("{code}: {message}"),
        (true, Some(code), None) => code.to_owned(),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn chain_joins_messages_once() {
        let e = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "io error",
                Some(Box::new(Layer("io error", None))),
            ))),
        );
        assert_eq!(error_chain(&e), "dispatch failure: io error");
    }

    #[test]
    fn unmodelled_errors_are_shown_without_debug_noise() {
        assert_eq!(
            tidy(
                r#"unhandled error (ForbiddenException): Error { code: "ForbiddenException", message: "No access", aws_request_id: "1" }"#
            ),
            "ForbiddenException: No access"
        );
        assert_eq!(tidy("service error"), "service error");
    }
}
