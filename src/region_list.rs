//! `ses-doctor regions`: the SES regions, their endpoints and ports, which are opt-in, and with
//! `--check` what this account has in each (the same scan as step 2 of `diagnose`).

use crate::diagnose::region::{Outcome, Scanned};
use crate::regions::{RegionEntry, REGIONS, SMTP_STARTTLS_PORTS, SMTP_TLS_WRAPPER_PORTS};
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize)]
pub struct RegionList {
    pub schema_version: u32,
    pub smtp_ports: Ports,
    pub regions: Vec<Row>,
}

#[derive(Serialize)]
pub struct Ports {
    pub starttls: Vec<u16>,
    pub tls_wrapper: Vec<u16>,
}

#[derive(Serialize)]
pub struct Row {
    pub name: &'static str,
    pub display: &'static str,
    pub opt_in: bool,
    pub api_endpoint: String,
    pub smtp_endpoint: String,
    /// With `--check`: this account's state there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

#[derive(Serialize)]
pub struct Status {
    /// `production`, `sandbox`, `sending-paused`, `not-enabled`, `denied`, `no-answer`.
    pub state: &'static str,
    pub verified_identities: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

pub fn ses_regions() -> impl Iterator<Item = &'static RegionEntry> {
    REGIONS.iter().filter(|r| r.ses)
}

pub fn build(scan: Option<&[Scanned]>) -> RegionList {
    let rows = ses_regions()
        .map(|r| Row {
            name: r.name,
            display: r.display,
            opt_in: r.opt_in,
            api_endpoint: r.api_host().unwrap_or_default(),
            smtp_endpoint: r.smtp_host().unwrap_or_default(),
            status: scan
                .and_then(|s| s.iter().find(|x| x.region.name == r.name))
                .map(status),
        })
        .collect();
    RegionList {
        schema_version: crate::report::SCHEMA_VERSION,
        smtp_ports: Ports {
            starttls: SMTP_STARTTLS_PORTS.to_vec(),
            tls_wrapper: SMTP_TLS_WRAPPER_PORTS.to_vec(),
        },
        regions: rows,
    }
}

fn status(s: &Scanned) -> Status {
    match &s.outcome {
        Outcome::Ok(st) => Status {
            state: if !st.sending_enabled {
                "sending-paused"
            } else if st.production_access {
                "production"
            } else {
                "sandbox"
            },
            verified_identities: st
                .identities
                .iter()
                .filter(|i| i.verified)
                .map(|i| i.name.clone())
                .collect(),
            detail: None,
        },
        Outcome::NotEnabled => Status {
            state: "not-enabled",
            verified_identities: vec![],
            detail: None,
        },
        Outcome::Denied(m) => Status {
            state: "denied",
            verified_identities: vec![],
            detail: Some(m.clone()),
        },
        Outcome::TimedOut { cut_short } => Status {
            state: "no-answer",
            verified_identities: vec![],
            detail: Some(match cut_short {
                Some(cut) => cut.describe(),
                None => "timed out".into(),
            }),
        },
        Outcome::Failed(m) => Status {
            state: "no-answer",
            verified_identities: vec![],
            detail: Some(m.clone()),
        },
    }
}

pub fn render_human(list: &RegionList) -> String {
    let checked = list.regions.iter().any(|r| r.status.is_some());
    let mut out = String::new();
    // Columns as wide as their widest value, so a long endpoint name does not shift the rest.
    let width = |header: &str, values: &mut dyn Iterator<Item = usize>| {
        values.fold(header.chars().count(), usize::max)
    };
    let w_name = width(
        "REGION",
        &mut list.regions.iter().map(|r| r.name.chars().count()),
    );
    let w_display = width(
        "NAME",
        &mut list.regions.iter().map(|r| r.display.chars().count()),
    );
    let w_opt = "OPT-IN".len();
    let w_smtp = width(
        "SMTP ENDPOINT",
        &mut list.regions.iter().map(|r| r.smtp_endpoint.chars().count()),
    );
    let row = |a: &str, b: &str, c: &str, d: &str| {
        format!("{a:<w_name$} {b:<w_display$} {c:<w_opt$} {d:<w_smtp$}")
    };
    let header = row("REGION", "NAME", "OPT-IN", "SMTP ENDPOINT");
    out.push_str(
        if checked {
            format!("{header} ACCOUNT")
        } else {
            header
        }
        .trim_end(),
    );
    out.push('\n');
    for r in &list.regions {
        let mut line = row(
            r.name,
            r.display,
            if r.opt_in { "yes" } else { "no" },
            &r.smtp_endpoint,
        );
        if let Some(s) = &r.status {
            let ids = if s.verified_identities.is_empty() {
                String::new()
            } else {
                format!(": {}", s.verified_identities.join(", "))
            };
            let _ = write!(line, " {}{ids}", s.state);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let ports = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        out,
        "\nSMTP ports: {} (STARTTLS); {} (TLS wrapper). TLS is required. User name: the access key ID; password: `ses-doctor smtp-password --region REGION`.",
        ports(&list.smtp_ports.starttls),
        ports(&list.smtp_ports.tls_wrapper)
    );
    let _ = writeln!(out, "API endpoint: email.REGION.amazonaws.com (HTTPS). Opt-in regions must be enabled on the account first.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_ses_region_once() {
        let list = build(None);
        assert_eq!(list.regions.len(), ses_regions().count());
        let text = render_human(&list);
        assert!(
            text.contains(
                "eu-west-1      Europe (Ireland)          no     email-smtp.eu-west-1.amazonaws.com\n"
            ),
            "{text}"
        );
        assert!(
            text.lines().all(|l| l == l.trim_end()),
            "no trailing spaces"
        );
        assert!(text.contains("af-south-1") && text.contains("yes"));
        assert!(!text.contains("ap-east-1"), "no SES there");
        assert!(
            !text.contains("ACCOUNT"),
            "no status column without --check"
        );
    }
}
