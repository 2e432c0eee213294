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
