//! Named points where a test may have the process killed, to prove that a run killed anywhere
//! leaves nothing lost. `SES_DOCTOR_TEST_KILL_AT=<name>` makes the process SIGKILL itself the
//! first time it reaches that point: no clean-up code runs, as when a machine loses power. Unset
//! (always, outside the tests), a point does nothing.
//!
//! The other test-only variables, read where they act (`smtp_client::dial`):
//! `SES_DOCTOR_TEST_SMTP_HOST=<address>` dials every SMTP host at that address (TLS still
//! verifies the host's name), and `SES_DOCTOR_TEST_SMTP_PORTS=587=40001,465=40002` maps SES's
//! well-known SMTP ports to the emulator's, so port probes and `email-smtp.<region>` hosts can be
//! tested against the local stand-in.

/// The points, in the order a key creation reaches them.
pub const POINTS: &[&str] = &[
    "before-create-key",
    "after-create-key",
    "before-rename",
    "after-save-profile",
    "after-save",
    "after-journal-cleared",
];

pub fn hit(name: &str) {
    if std::env::var("SES_DOCTOR_TEST_KILL_AT").is_ok_and(|v| v == name) {
        #[cfg(unix)]
        // SAFETY: raising a signal on our own process has no memory-safety preconditions.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
        std::process::abort();
    }
}
