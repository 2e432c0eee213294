//! The JSON report: one document, the contract documented in the README.

use crate::report::Report;

pub fn render(report: &Report) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(report).expect("the report serialises") + "\n"
}
