//! End-to-end tests: the real `ses-doctor` binary and the AWS SDK against the
//! local AWS emulator (tests/emulator). One test binary, one emulator process.

mod support;

mod access_key;
mod bad_input;
mod cli;
mod commands;
mod contract;
mod crash;
mod emulator_smoke;
mod endpoints;
mod explain;
mod faults;
mod files;
mod flow;
mod identity;
mod interactive;
mod permissions;
mod profiles;
mod region;
mod secrets;
mod smtp_password;
mod smtp_transport;
mod test_email;
mod worlds;
