//! ses-doctor: finds the real cause of Amazon SES credential errors, explains it, fixes it with
//! consent, and proves the fix with a test email.

pub mod aws_files;
pub mod aws_setup;
pub mod cli;
pub mod code_docs;
pub mod codes;
pub mod concurrent;
pub mod consent;
pub mod credentials;
pub mod diagnose;
pub mod exit;
pub mod explain;
pub mod failpoint;
#[cfg(test)]
pub mod fake_aws;
pub mod key_journal;
pub mod printer;
pub mod region_list;
pub mod regions;
pub mod render;
pub mod report;
pub mod run;
pub mod secret;
pub mod secret_input;
pub mod shared_files;
pub mod smtp_client;
pub mod smtp_password;
pub mod terminal;
pub mod validate;
