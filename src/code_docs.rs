//! The words behind each finding code, one Markdown file per code (`docs/codes/<code>.md`, as
//! rustc's error index has one per error). The files are embedded at build time; this module
//! reads them once. `explain`, the finding's meaning and the README's table of codes come from
//! here, so the words are written once, in docs, and the logic stays in code.
//!
//! A file is, in this order (each paragraph and list item on one line):
//!
//! ```text
//! ---
//! code: region-mismatch
//! step: region
//! severity: error
//! since: 0.1
//! ---
//!
//! # Title: the cause, as explain names it
//!
//! One line: what the finding means.
//!
//! ## Why
//!
//! Why it happens.
//!
//! ## Fix
//!
//! 1. A step.
//! 2. Another step.
//!
//! ## In the mailer's settings
//!
//! Optional: the mailer's setting that carries it.
//! ```
//!
//! The text may hold `explain`'s placeholders (`{region}`, `{m_host}`, …), filled from the input.

use crate::codes::Code;
use std::sync::OnceLock;

/// One code's doc, parsed.
#[derive(Clone, Debug)]
pub struct CodeDoc {
    pub code: Code,
    /// The step that reports it (`any`, `local checks`, `identity`, …).
    pub step: &'static str,
    pub severity: &'static str,
    /// The version that first emits it.
    pub since: &'static str,
    pub title: &'static str,
    pub meaning: &'static str,
    pub why: &'static str,
    pub steps: Vec<&'static str>,
    pub mailer: Option<&'static str>,
}

/// The doc of `code`. Every code has one: a missing file fails the build, a malformed one the
/// unit tests below.
pub fn of(code: Code) -> &'static CodeDoc {
    static DOCS: OnceLock<Vec<CodeDoc>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        Code::ALL
            .iter()
            .map(|c| parse(*c, c.doc_source()).unwrap_or_else(|e| broken(*c, e)))
            .collect()
    });
    &docs[Code::ALL.iter().position(|c| *c == code).unwrap_or(0)]
}

/// A doc that does not parse still gives a usable entry; the tests make sure none ships.
fn broken(code: Code, why: String) -> CodeDoc {
    CodeDoc {
        code,
        step: "any",
        severity: "error",
        since: "0.1",
        title: code.as_str(),
        meaning: "(this code's doc file could not be read)",
        why: Box::leak(why.into_boxed_str()),
        steps: Vec::new(),
        mailer: None,
    }
}

/// Parses one doc file.
pub fn parse(code: Code, text: &'static str) -> Result<CodeDoc, String> {
    let text = text.strip_prefix("---\n").ok_or("no front matter")?;
    let (front, body) = text
        .split_once("\n---\n")
        .ok_or("front matter not closed")?;
    let field = |name: &str| -> Result<&'static str, String> {
        front
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .map(str::trim)
            .ok_or(format!("no '{name}' in the front matter"))
    };
    if field("code")? != code.as_str() {
        return Err(format!("the file says code: {}", field("code")?));
    }
    // Blocks: paragraphs, headings and list items, one line each.
    let lines: Vec<&'static str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let title = lines
        .first()
        .and_then(|l| l.strip_prefix("# "))
        .ok_or("no '# title' first")?;
    let meaning = lines.get(1).copied().ok_or("no meaning line")?;
    let section = |heading: &str| -> Vec<&'static str> {
        lines
            .iter()
            .skip_while(|l| **l != heading)
            .skip(1)
            .take_while(|l| !l.starts_with("## "))
            .copied()
            .collect()
    };
    let why = section("## Why");
    let why = match why.as_slice() {
        [one] => *one,
        _ => return Err("'## Why' is not one paragraph".into()),
    };
    let steps = section("## Fix")
        .into_iter()
        .map(|l| {
            l.split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                .map(|(_, s)| s)
                .ok_or(format!("'{l}' in '## Fix' is not a numbered step"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if steps.is_empty() {
        return Err("'## Fix' has no steps".into());
    }
    let mailer = section("## In the mailer's settings").first().copied();
    Ok(CodeDoc {
        code,
        step: field("step")?,
        severity: field("severity")?,
        since: field("since")?,
        title,
        meaning,
        why,
        steps,
        mailer,
    })
}

/// The README's table of codes, as the docs give it.
pub fn readme_table() -> String {
    let mut out = String::from("| code | step | since | meaning |\n|---|---|---|---|\n");
    for code in Code::ALL {
        let d = of(*code);
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            code.as_str(),
            d.step,
            d.since,
            d.meaning.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_complete_doc() {
        for code in Code::ALL {
            let d = parse(*code, code.doc_source())
                .unwrap_or_else(|e| panic!("docs/codes/{code}.md: {e}"));
            assert!(d.meaning.ends_with('.'), "{code}: {}", d.meaning);
            assert!(!d.title.ends_with('.'), "{code}: {}", d.title);
            assert!(
                [
                    "any",
                    "local checks",
                    "identity",
                    "region",
                    "permissions",
                    "access key",
                    "IAM user",
                    "SMTP credentials",
                    "test email"
                ]
                .contains(&d.step),
                "{code}: step {}",
                d.step
            );
            for s in d.severity.split(" or ") {
                assert!(
                    ["pass", "info", "warning", "error"].contains(&s),
                    "{code}: severity {}",
                    d.severity
                );
            }
        }
    }

    #[test]
    fn there_is_no_doc_without_a_code() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/codes");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name == "README.md" {
                continue;
            }
            let code = name.strip_suffix(".md").unwrap_or(&name);
            assert!(
                Code::from_code(code).is_some(),
                "docs/codes/{name} is for no code in the catalogue"
            );
        }
    }

    #[test]
    fn the_readme_table_is_the_docs() {
        let readme = include_str!("../README.md");
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's table of codes differs from docs/codes; it should read:\n{table}"
        );
    }

    #[test]
    fn a_malformed_doc_is_named() {
        let code = Code::RegionMismatch;
        assert!(parse(code, "# no front matter").is_err());
        let wrong = "---\ncode: clock-skew\nstep: identity\nseverity: error\nsince: 0.1\n---\n\n# T\n\nM.\n\n## Why\n\nW\n\n## Fix\n\n1. S\n";
        assert!(parse(code, wrong).unwrap_err().contains("clock-skew"));
        let ok = wrong.replace("clock-skew", "region-mismatch");
        let d = parse(code, Box::leak(ok.into_boxed_str())).unwrap();
        assert_eq!((d.title, d.meaning, d.why), ("T", "M.", "W"));
        assert_eq!(d.steps, vec!["S"]);
        assert_eq!(d.mailer, None);
    }
}
