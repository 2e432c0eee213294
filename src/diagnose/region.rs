//! Step 2: where can this account send from? Every SES region is scanned concurrently, each with
//! its own timeout (sesv2 `GetAccount` and `ListEmailIdentities`), and compared with the region
//! the mailer is configured for. A region that fails or times out is reported for itself; the
//! rest of the scan stands.

use crate::aws_files::{self, FileKind};
use crate::aws_setup::{Clients, RegionSetting};
use crate::codes::Code;
use crate::consent::{Consent, Decision};
use crate::credentials::{Environment, Source};
use crate::exit::Failure;
use crate::regions::{self, RegionEntry};
use crate::report::{Finding, Fix, FixKind, FixStatus, Severity, Step, StepId};
use crate::shared_files::SharedFiles;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{IdentityType, VerificationStatus};
use aws_smithy_runtime_api::client::result::SdkError;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct IdentityInfo {
    pub name: String,
    pub is_domain: bool,
    pub verified: bool,
    /// SES's verification status (SUCCESS, PENDING, FAILED, ...).
    pub status: String,
}

#[derive(Clone, Debug)]
pub struct RegionStatus {
    pub production_access: bool,
    pub sending_enabled: bool,
    pub max_24_hour_send: f64,
    pub max_send_rate: f64,
    pub enforcement: Option<String>,
    pub identities: Vec<IdentityInfo>,
}

impl RegionStatus {
    fn verified(&self) -> impl Iterator<Item = &IdentityInfo> {
        self.identities.iter().filter(|i| i.verified)
    }
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Ok(RegionStatus),
    /// An opt-in region the account has not enabled.
    NotEnabled,
    /// The credentials may not call SES here; the message names the missing action.
    Denied(String),
    /// No answer within `--timeout`, or, when `cut_short` says so, none for
    /// [`STRAGGLER_GRACE`] after the other regions had answered.
    TimedOut {
        cut_short: Option<CutShort>,
    },
    Failed(String),
}

/// A region given up on before `--timeout`: every other region had answered (or failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CutShort {
    /// How long it was waited for.
    pub waited: Duration,
    /// How long the other regions took to answer.
    pub others_within: Duration,
}

impl CutShort {
    /// "no answer within 3.0 s; the other regions answered within 1.0 s".
    pub fn describe(&self) -> String {
        format!(
            "no answer within {:.1} s; the other regions answered within {:.1} s",
            self.waited.as_secs_f64(),
            self.others_within.as_secs_f64()
        )
    }
}

/// How long a region that has not answered is still waited for once the others have: regions
/// answer within about a second of each other (a TLS handshake and two calls each, all at
/// once), so one still silent this long after the last answer is almost always one that will
/// not answer at all (an endpoint blocked by a firewall, a held connection). Without it such a
/// region holds the whole diagnosis for the full `--timeout`. The configured region is exempt:
/// the diagnosis rests on its answer, so it gets the whole timeout.
pub const STRAGGLER_GRACE: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct Scanned {
    pub region: &'static RegionEntry,
    pub outcome: Outcome,
}

/// The regions to scan: `--regions`, else every SES region of the configured region's partition.
pub fn regions_to_scan(
    requested: Option<&[String]>,
    configured: Option<&str>,
) -> Result<Vec<&'static RegionEntry>, Failure> {
    if let Some(list) = requested {
        return list
            .iter()
            .map(|name| match regions::lookup(name) {
                Some(r) if r.ses => Ok(r),
                Some(r) => Err(Failure::usage(format!(
                    "--regions: Amazon SES is not offered in {} ({})",
                    r.name, r.display
                ))),
                None => Err(Failure::usage(format!(
                    "--regions: '{name}' is not an SES region; `ses-doctor regions` lists them"
                ))),
            })
            .collect();
    }
    let partition = |name: &str| match name {
        n if n.starts_with("us-gov-") => "aws-us-gov",
        n if n.starts_with("cn-") => "aws-cn",
        _ => "aws",
    };
    let wanted = partition(configured.unwrap_or("us-east-1"));
    Ok(regions::REGIONS
        .iter()
        .filter(|r| r.ses && partition(r.name) == wanted)
        .collect())
}

/// Scans `regions` concurrently; each region costs at most `timeout`, and a region still silent
/// [`STRAGGLER_GRACE`] after the others answered is given up on (see [`scan_needing`]).
pub async fn scan(
    clients: &dyn Clients,
    regions: &[&'static RegionEntry],
    timeout: Duration,
) -> Vec<Scanned> {
    scan_needing(clients, regions, timeout, None).await
}

/// [`scan`], where `needed` (the configured region) is waited for up to `timeout` whatever the
/// others do. The grace starts again at every answer: it runs out only when no region has
/// answered for [`STRAGGLER_GRACE`], so several silent regions are given up on together, and
/// a single region is never cut short.
pub async fn scan_needing(
    clients: &dyn Clients,
    regions: &[&'static RegionEntry],
    timeout: Duration,
    needed: Option<&str>,
) -> Vec<Scanned> {
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = std::collections::HashMap::new();
    for (index, region) in regions.iter().enumerate() {
        let client = clients.sesv2(region.name);
        let region: &'static RegionEntry = region;
        let task = tasks.spawn(async move {
            let outcome = match tokio::time::timeout(timeout, scan_region(&client, region)).await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::TimedOut { cut_short: None },
            };
            (index, outcome)
        });
        index_of.insert(task.id(), index);
    }
    // None: not finished. A task that panicked is left out of the result, as before.
    let mut outcomes: Vec<Option<Outcome>> = vec![None; regions.len()];
    let mut lost = vec![false; regions.len()];
    let mut last_answer: Option<tokio::time::Instant> = None;
    loop {
        let needed_pending = regions
            .iter()
            .zip(&outcomes)
            .any(|(r, o)| o.is_none() && Some(r.name) == needed);
        let joined = match last_answer.filter(|_| !needed_pending) {
            Some(last) => {
                match tokio::time::timeout_at(last + STRAGGLER_GRACE, tasks.join_next_with_id())
                    .await
                {
                    Ok(joined) => joined,
                    // The rest are stragglers.
                    Err(_) => break,
                }
            }
            None => tasks.join_next_with_id().await,
        };
        match joined {
            None => break,
            Some(Ok((_, (index, outcome)))) => {
                outcomes[index] = Some(outcome);
                last_answer = Some(tokio::time::Instant::now());
            }
            Some(Err(e)) => {
                if let Some(index) = index_of.get(&e.id()) {
                    lost[*index] = true;
                }
            }
        }
    }
    // Dropping the set cancels the stragglers' requests.
    drop(tasks);
    let cut_short = CutShort {
        waited: start.elapsed(),
        others_within: last_answer.map(|l| l - start).unwrap_or_default(),
    };
    regions
        .iter()
        .zip(outcomes)
        .zip(lost)
        .filter(|(_, lost)| !lost)
        .map(|((region, outcome), _)| Scanned {
            region,
            outcome: outcome.unwrap_or(Outcome::TimedOut {
                cut_short: Some(cut_short),
            }),
        })
        .collect()
}

async fn scan_region(client: &aws_sdk_sesv2::Client, region: &RegionEntry) -> Outcome {
    let account = client.get_account().send();
    let identities = list_identities(client, region);
    let (account, identities) = tokio::join!(account, identities);
    let account = match account {
        Ok(a) => a,
        Err(e) => return failure_outcome(&e, region),
    };
    let identities = match identities {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let quota = account.send_quota();
    Outcome::Ok(RegionStatus {
        production_access: account.production_access_enabled(),
        sending_enabled: account.sending_enabled(),
        max_24_hour_send: quota.map(|q| q.max24_hour_send()).unwrap_or_default(),
        max_send_rate: quota.map(|q| q.max_send_rate()).unwrap_or_default(),
        enforcement: account.enforcement_status().map(str::to_owned),
        identities,
    })
}

async fn list_identities(
    client: &aws_sdk_sesv2::Client,
    region: &RegionEntry,
) -> Result<Vec<IdentityInfo>, Outcome> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    // Bounded: 20 pages of 1000 is more identities than any account has.
    for _ in 0..20 {
        let page = client
            .list_email_identities()
            .page_size(1000)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| failure_outcome(&e, region))?;
        for i in page.email_identities() {
            let status = i.verification_status();
            out.push(IdentityInfo {
                name: i.identity_name().unwrap_or_default().to_owned(),
                is_domain: matches!(
                    i.identity_type(),
                    Some(IdentityType::Domain | IdentityType::ManagedDomain)
                ),
                verified: status == Some(&VerificationStatus::Success),
                status: status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_else(|| "UNKNOWN".into()),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

fn failure_outcome<E, R>(err: &SdkError<E, R>, region: &RegionEntry) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match err {
        SdkError::TimeoutError(_) => Outcome::TimedOut { cut_short: None },
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or_default();
            let message = s.err().message().unwrap_or_default().to_owned();
            match code {
                "UnrecognizedClientException" | "InvalidClientTokenId" if region.opt_in => {
                    Outcome::NotEnabled
                }
                "AccessDeniedException" | "AccessDenied" => Outcome::Denied(message),
                _ => Outcome::Failed(format!("{code}: {message}")),
            }
        }
        other => Outcome::Failed(crate::exit::error_chain(other)),
    }
}

/// Whether a verified identity lets `from` send: the address itself, or its domain or a parent
/// domain ("a verified domain covers its subdomains and every address at them", SES guide).
pub fn covers(identity: &IdentityInfo, from: &str) -> bool {
    let from = from.trim().to_ascii_lowercase();
    let name = identity.name.to_ascii_lowercase();
    if !identity.is_domain {
        return name == from;
    }
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or(&from);
    domain == name || domain.ends_with(&format!(".{name}"))
}

/// What step 2 concluded, for the steps after it.
#[derive(Clone, Debug)]
pub struct RegionChoice {
    /// The region mail should go through: the configured one when it works, else the best.
    pub region: &'static str,
    /// Verified identities there.
    pub identities: Vec<String>,
}

/// How a region fix is applied.
#[derive(Clone, Debug)]
enum Plan {
    /// Write `region` into a profile, in every file an SDK reads it from.
    Profile {
        files: Vec<(std::path::PathBuf, FileKind)>,
        profile: String,
    },
    /// Only the user can change it (pasted credentials, environment variables).
    Manual,
}

pub struct RegionInput<'a> {
    pub clients: &'a dyn Clients,
    /// "admin credentials" or "sending credentials".
    pub scanned_with: &'static str,
    pub regions: Vec<&'static RegionEntry>,
    pub configured: &'a RegionSetting,
    pub from: Option<&'a str>,
    pub timeout: Duration,
    pub source: &'a Source,
    pub env: &'a Environment,
    pub consent: &'a Consent,
}

pub struct RegionOutcome {
    pub step: Step,
    pub choice: Option<RegionChoice>,
    pub scan: Vec<Scanned>,
}

pub async fn check(input: RegionInput<'_>) -> Result<RegionOutcome, Failure> {
    let mut step = Step::new(StepId::Region);
    let configured = input.configured.valid();
    let scan = scan_needing(input.clients, &input.regions, input.timeout, configured).await;
    let summary = scan_summary(&scan);

    // Regions that did not answer are reported each for itself.
    for s in &scan {
        if matches!(s.outcome, Outcome::TimedOut { .. } | Outcome::Failed(_))
            && Some(s.region.name) != configured
        {
            step.push(unreachable_region(s, input.timeout, Severity::Warning));
        }
    }

    let answered: Vec<&Scanned> = scan
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Ok(_)))
        .collect();
    if answered.is_empty() {
        if let Some(s) = scan
            .iter()
            .find(|s| matches!(s.outcome, Outcome::Denied(_)))
        {
            let Outcome::Denied(message) = &s.outcome else {
                unreachable!()
            };
            step.push(
                Finding::new(
                    Code::InsufficientAccess,
                    Severity::Warning,
                    format!("The {} may not list SES identities, so the regions could not be compared", input.scanned_with),
                )
                .explain(
                    "A key that only sends mail (as SMTP users created in the SES console) may not \
                     call ListEmailIdentities or GetAccount. AWS's AccessDenied proves the key itself \
                     is valid. Give ses-doctor admin credentials (--admin-profile) to check the region.",
                )
                .evidence("AWS said", message.as_str()),
            );
            return Ok(RegionOutcome {
                step,
                choice: None,
                scan,
            });
        }
    }

    // The configured region, as the scan saw it.
    if let Some(name) = configured {
        if let Some(s) = scan.iter().find(|s| s.region.name == name) {
            match &s.outcome {
                Outcome::NotEnabled => step.push(region_not_enabled(s.region)),
                Outcome::TimedOut { .. } | Outcome::Failed(_) => {
                    let f = unreachable_region(s, input.timeout, Severity::Error);
                    step.push(f);
                    step.mark_incomplete(format!("the configured region {name} did not answer"));
                    return Ok(RegionOutcome {
                        step,
                        choice: None,
                        scan,
                    });
                }
                _ => {}
            }
        }
    }

    let usable = |s: &&Scanned| -> bool {
        match &s.outcome {
            Outcome::Ok(st) => st
                .verified()
                .any(|i| input.from.is_none_or(|f| covers(i, f))),
            _ => false,
        }
    };
    let mut candidates: Vec<&Scanned> = scan.iter().filter(usable).collect();
    // Best first: production access, then sending enabled, then the most verified identities.
    candidates.sort_by_key(|s| {
        let Outcome::Ok(st) = &s.outcome else {
            unreachable!()
        };
        (
            !st.production_access,
            !st.sending_enabled,
            std::cmp::Reverse(st.verified().count()),
        )
    });

    let configured_ok =
        configured.and_then(|name| candidates.iter().find(|s| s.region.name == name).copied());
    let chosen: &Scanned = match (configured_ok, candidates.first()) {
        (Some(ok), _) => {
            step.push(
                Finding::new(
                    Code::RegionOk,
                    Severity::Pass,
                    format!(
                        "{} has verified identities: {}",
                        ok.region.name,
                        verified_names(ok).join(", ")
                    ),
                )
                .evidence("scanned", &summary),
            );
            ok
        }
        (None, Some(_)) => {
            let items: Vec<String> = candidates.iter().map(|s| describe(s)).collect();
            let index =
                input
                    .consent
                    .choose("Which region should the mailer send through?", &items, 0)?;
            let best = candidates[index];
            let mut finding = mismatch_finding(
                configured,
                input.configured.source,
                best,
                &candidates,
                &summary,
                input.from,
            );
            apply_region_fix(&mut finding, &input, best.region.name).await?;
            step.push(finding);
            best
        }
        (None, None) => {
            step.push(no_usable_identity(&scan, input.from, configured, &summary));
            return Ok(RegionOutcome {
                step,
                choice: None,
                scan,
            });
        }
    };

    let Outcome::Ok(status) = &chosen.outcome else {
        unreachable!()
    };
    if !status.sending_enabled {
        step.push(sending_paused(chosen.region, status));
    }
    if !status.production_access {
        step.push(sandbox(chosen.region, status));
    }
    let choice = RegionChoice {
        region: chosen.region.name,
        identities: verified_names(chosen),
    };
    Ok(RegionOutcome {
        step,
        choice: Some(choice),
        scan,
    })
}

fn verified_names(s: &Scanned) -> Vec<String> {
    match &s.outcome {
        Outcome::Ok(st) => st.verified().map(|i| i.name.clone()).collect(),
        _ => Vec::new(),
    }
}

/// "eu-west-1 Europe (Ireland): example.com; production access; 50000 a day".
fn describe(s: &Scanned) -> String {
    let Outcome::Ok(st) = &s.outcome else {
        return format!("{} {}", s.region.name, s.region.display);
    };
    format!(
        "{} {}: {}; {}{}; {} a day, {}/s",
        s.region.name,
        s.region.display,
        verified_names(s).join(", "),
        if st.production_access {
            "production access"
        } else {
            "sandbox"
        },
        if st.sending_enabled {
            ""
        } else {
            ", sending paused"
        },
        st.max_24_hour_send,
        st.max_send_rate
    )
}

fn scan_summary(scan: &[Scanned]) -> String {
    let count = |f: fn(&Outcome) -> bool| scan.iter().filter(|s| f(&s.outcome)).count();
    let with_identities = scan
        .iter()
        .filter(|s| matches!(&s.outcome, Outcome::Ok(st) if !st.identities.is_empty()))
        .count();
    let mut parts = vec![
        format!("{} regions", scan.len()),
        format!("{with_identities} with identities"),
    ];
    let not_enabled = count(|o| matches!(o, Outcome::NotEnabled));
    if not_enabled > 0 {
        parts.push(format!("{not_enabled} opt-in not enabled"));
    }
    let denied = count(|o| matches!(o, Outcome::Denied(_)));
    if denied > 0 {
        parts.push(format!("{denied} denied"));
    }
    let failed = count(|o| matches!(o, Outcome::TimedOut { .. } | Outcome::Failed(_)));
    if failed > 0 {
        parts.push(format!("{failed} did not answer"));
    }
    parts.join(", ")
}

fn mismatch_finding(
    configured: Option<&str>,
    configured_source: &str,
    best: &Scanned,
    candidates: &[&Scanned],
    summary: &str,
    from: Option<&str>,
) -> Finding {
    let what = from
        .map(|f| format!("{f} can send"))
        .unwrap_or_else(|| "there are verified identities".into());
    let (code, severity, title) = match configured {
        Some(r) => (
            Code::RegionMismatch,
            Severity::Error,
            format!(
                "The mailer is set to {r}, but {what} only in {}",
                region_list(candidates)
            ),
        ),
        None => (
            Code::RegionNotConfigured,
            Severity::Warning,
            format!(
                "No region is configured; {what} in {}",
                region_list(candidates)
            ),
        ),
    };
    let mut f = Finding::new(code, severity, title)
        .explain(format!(
            "Verified identities, the sandbox and sending limits are per region: a mailer set to \
             another region than the one where the address or domain was verified gets \"Email \
             address is not verified\" or an authentication error. In the mailer's settings, \
             select \"{} {}\". A mailer that uses SMTP also needs the SMTP password derived for \
             that region (`ses-doctor smtp-password --region {}`): SMTP passwords are per region.",
            best.region.display, best.region.name, best.region.name
        ))
        .evidence("best region", describe(best))
        .evidence("SMTP server", best.region.smtp_host().unwrap_or_default())
        .evidence("scanned", summary);
    if let Some(r) = configured {
        f = f.evidence("configured", format!("{r} (from {configured_source})"));
    }
    for other in candidates.iter().skip(1) {
        f = f.evidence("also usable", describe(other));
    }
    f
}

fn region_list(candidates: &[&Scanned]) -> String {
    candidates
        .iter()
        .map(|s| s.region.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the region fix goes: the profile's file when the region came from a profile (or from
/// nowhere) and the credentials from a profile; otherwise only the user can change it. Both the
/// Rust SDK and botocore read `region` from the credentials file too, over the config file's:
/// edit it where it already is.
fn plan(input: &RegionInput<'_>) -> Plan {
    let profile = match (input.source, input.configured.source) {
        (Source::Profile { name, .. }, "profile" | "none") => name.clone(),
        _ => return Plan::Manual,
    };
    let credentials = input.env.credentials_file();
    let in_credentials = std::fs::read_to_string(&credentials).ok().is_some_and(|t| {
        aws_files::get_property(&t, FileKind::Credentials, &profile, "region").is_some()
    });
    let files = if in_credentials {
        vec![(credentials, FileKind::Credentials)]
    } else {
        vec![(input.env.config_file(), FileKind::Config)]
    };
    Plan::Profile { files, profile }
}

/// Writes the region into each file, then reads the files back as the SDK reads them: the fix
/// counts only if the profile now resolves to the new region.
async fn write_region(
    env: &Environment,
    files: &[(std::path::PathBuf, FileKind)],
    profile: &str,
    region: &str,
) -> Result<(), String> {
    for (file, kind) in files {
        aws_files::update(file, None, |text| {
            aws_files::set_property(text, *kind, profile, "region", region)
        })
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let files = SharedFiles::read(env).map_err(|e| e.message)?;
    let profiles = files.profiles(Some(profile)).await.map_err(|e| e.message)?;
    let now = profiles.get_profile(profile).and_then(|p| p.get("region"));
    if now != Some(region) {
        return Err(format!(
            "read back, profile '{profile}' has region {} instead of {region}",
            now.unwrap_or("(none)")
        ));
    }
    Ok(())
}

async fn apply_region_fix(
    finding: &mut Finding,
    input: &RegionInput<'_>,
    region: &'static str,
) -> Result<(), Failure> {
    let display = regions::lookup(region).map(|r| r.display).unwrap_or(region);
    match plan(input) {
        Plan::Manual => {
            let how = match input.configured.source {
                "AWS_REGION" | "AWS_DEFAULT_REGION" => format!(
                    "Set {}={region} where the mailer's environment is defined",
                    input.configured.source
                ),
                _ => {
                    format!("In the mailer's settings, select the region \"{display}\" ({region})")
                }
            };
            finding.fixes.push(Fix::manual(how));
        }
        Plan::Profile { files, profile } => {
            let names: Vec<String> = files.iter().map(|(f, _)| f.display().to_string()).collect();
            let mut fix = Fix {
                kind: FixKind::Automatic,
                description: format!(
                    "Set region = {region} in profile '{profile}' ({})",
                    names.join(", ")
                ),
                command: Some(format!(
                    "aws configure set region {region} --profile {profile}"
                )),
                status: FixStatus::Proposed,
            };
            match input.consent.decide(&format!(
                "Set the region of profile '{profile}' to {region} ({display})?"
            ))? {
                Decision::Leave(status) => fix.status = status,
                Decision::Apply => match write_region(input.env, &files, &profile, region).await {
                    Ok(()) => {
                        fix.status = FixStatus::Applied;
                        // The scan already showed the identities there.
                        finding.resolved = true;
                        finding.note(
                            "after the fix",
                            format!("profile '{profile}' sends through {region}, where the identities are verified"),
                        );
                    }
                    Err(e) => {
                        fix.status = FixStatus::Failed;
                        finding.note("fix failed", e);
                    }
                },
            }
            finding.fixes.push(fix);
        }
    }
    Ok(())
}

fn region_not_enabled(region: &RegionEntry) -> Finding {
    Finding::new(
        Code::RegionNotEnabled,
        Severity::Error,
        format!(
            "{} ({}) is an opt-in region that is not enabled for this account",
            region.name, region.display
        ),
    )
    .explain(
        "Regions launched after March 2019 are disabled until the account enables them; until \
         then AWS answers every request there with \"The security token included in the request \
         is invalid\", whatever the key. Enable the region, or use one where SES is set up.",
    )
    .evidence("region", region.name)
    .fix(
        Fix::manual(format!(
            "Enable {} (Account > AWS Regions in the console)",
            region.name
        ))
        .command(format!(
            "aws account enable-region --region-name {}",
            region.name
        )),
    )
}

fn unreachable_region(s: &Scanned, timeout: Duration, severity: Severity) -> Finding {
    let detail = match &s.outcome {
        Outcome::TimedOut {
            cut_short: Some(cut),
        } => cut.describe(),
        Outcome::TimedOut { cut_short: None } => {
            format!("no answer within {} s", timeout.as_secs())
        }
        Outcome::Failed(msg) => msg.clone(),
        _ => String::new(),
    };
    let what = match &s.outcome {
        Outcome::TimedOut { .. } => "did not answer",
        _ => "answered with an error",
    };
    Finding::new(
        Code::EndpointUnreachable,
        severity,
        format!(
            "SES in {} {what}; its identities are unknown",
            s.region.name
        ),
    )
    .explain("The rest of the scan stands. Run again later, or narrow the scan with --regions.")
    .evidence("region", s.region.name)
    .evidence("error", detail)
}

fn no_usable_identity(
    scan: &[Scanned],
    from: Option<&str>,
    configured: Option<&str>,
    summary: &str,
) -> Finding {
    let all: Vec<(&str, &IdentityInfo)> = scan
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Ok(st) => Some(st.identities.iter().map(move |i| (s.region.name, i))),
            _ => None,
        })
        .flatten()
        .collect();
    let region = configured.unwrap_or("us-east-1");
    let (title, example) = match (from, all.is_empty()) {
        (Some(f), _) => (
            format!("{f} is not verified in any scanned region"),
            f.to_owned(),
        ),
        (None, true) => (
            "No SES identity exists in any scanned region".to_owned(),
            "example.com".to_owned(),
        ),
        (None, false) => (
            "No SES identity is verified yet".to_owned(),
            all[0].1.name.clone(),
        ),
    };
    let mut f = Finding::new(Code::IdentityUnverified, Severity::Error, title)
        .explain(
            "SES sends only from verified identities: an email address (click the link AWS \
             mails to it) or a domain (publish the DKIM records AWS gives). Verification is per \
             region: verify the identity in the region the mailer uses.",
        )
        .evidence("scanned", summary);
    for (region, identity) in &all {
        f = f.evidence(
            "identity",
            format!(
                "{} in {region}: {}",
                identity.name,
                identity.status.to_lowercase()
            ),
        );
    }
    f.fix(
        Fix::manual(format!("Create and verify the identity in {region}")).command(format!(
            "aws sesv2 create-email-identity --email-identity {example} --region {region}"
        )),
    )
}

fn sandbox(region: &RegionEntry, status: &RegionStatus) -> Finding {
    Finding::new(
        Code::SesSandbox,
        Severity::Warning,
        format!("The account is in the SES sandbox in {}", region.name),
    )
    .explain(
        "In the sandbox SES delivers only to verified addresses (and the mailbox simulator), at \
         most 200 messages in 24 hours and 1 per second. Mail to anyone else is rejected with \
         \"Email address is not verified\". Request production access for this region.",
    )
    .evidence("quota", format!("{} a day, {}/s", status.max_24_hour_send, status.max_send_rate))
    .fix(
        Fix::manual(format!("Request production access for {} (SES console > Account dashboard)", region.name))
            .command(format!(
                "aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL --website-url https://example.com --use-case-description '...' --region {}",
                region.name
            )),
    )
}

fn sending_paused(region: &RegionEntry, status: &RegionStatus) -> Finding {
    let enforcement = status
        .enforcement
        .clone()
        .unwrap_or_else(|| "unknown".into());
    Finding::new(
        Code::SesSendingPaused,
        Severity::Error,
        format!("Sending is paused for this account in {}", region.name),
    )
    .explain(
        "SES rejects every message while sending is paused: either someone paused it, or AWS \
         did after bounces or complaints (enforcement status PROBATION or SHUTDOWN). If it was \
         paused by hand, resume it; otherwise open the SES console's Reputation metrics and \
         contact AWS Support.",
    )
    .evidence("enforcement status", enforcement)
    .fix(
        Fix::manual("Resume sending if it was paused on purpose").command(format!(
            "aws sesv2 put-account-sending-attributes --sending-enabled --region {}",
            region.name
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str, is_domain: bool) -> IdentityInfo {
        IdentityInfo {
            name: name.into(),
            is_domain,
            verified: true,
            status: "SUCCESS".into(),
        }
    }

    #[test]
    fn coverage_of_addresses_domains_and_subdomains() {
        let domain = identity("example.com", true);
        assert!(covers(&domain, "noreply@example.com"));
        assert!(covers(&domain, "a@mail.example.com"));
        assert!(!covers(&domain, "a@badexample.com"));
        let address = identity("Me@Example.com", false);
        assert!(covers(&address, "me@example.com"));
        assert!(!covers(&address, "you@example.com"));
    }

    #[test]
    fn scan_list_follows_the_partition_and_validates_names() {
        let all = regions_to_scan(None, Some("eu-west-1")).unwrap();
        assert!(all.iter().all(|r| r.ses && !r.name.starts_with("us-gov")));
        assert!(all.iter().any(|r| r.name == "af-south-1"));
        let gov = regions_to_scan(None, Some("us-gov-west-1")).unwrap();
        assert_eq!(gov.len(), 2);
        let picked = regions_to_scan(Some(&["eu-west-1".into()]), None).unwrap();
        assert_eq!(picked[0].name, "eu-west-1");
        assert!(regions_to_scan(Some(&["ap-east-1".into()]), None).is_err());
        assert!(regions_to_scan(Some(&["eu-west-9".into()]), None).is_err());
    }

    mod stragglers {
        //! The scan against a fake SES that answers after 1 s, in every region but the ones
        //! told to hang (paused time: the waits cost nothing).
        use super::*;
        use crate::fake_aws::{Answer, Call, FakeAws};

        const TIMEOUT: Duration = Duration::from_secs(60);

        fn ses(hanging: &'static [&'static str], slow: &'static [&'static str]) -> FakeAws {
            FakeAws::new(Duration::from_secs(1), move |call: &Call| {
                let region = call
                    .host
                    .strip_prefix("email.")
                    .and_then(|h| h.split('.').next())
                    .unwrap_or_default()
                    .to_owned();
                let answer = match call.path.as_str() {
                    "/v2/email/account" => Answer::Ok(
                        r#"{"ProductionAccessEnabled":true,"SendingEnabled":true,"SendQuota":{"Max24HourSend":50000,"MaxSendRate":14,"SentLast24Hours":0},"EnforcementStatus":"HEALTHY"}"#.into(),
                    ),
                    "/v2/email/list-identities" => Answer::Ok(format!(
                        r#"{{"EmailIdentities":[{{"IdentityType":"DOMAIN","IdentityName":"{region}.example.com","SendingEnabled":true,"VerificationStatus":"SUCCESS"}}]}}"#
                    )),
                    other => panic!("unexpected SES call {other}"),
                };
                if hanging.contains(&region.as_str()) {
                    Answer::Hang
                } else if slow.contains(&region.as_str()) {
                    // Within the grace of the others' answers.
                    Answer::After(Duration::from_millis(2500), Box::new(answer))
                } else {
                    answer
                }
            })
        }

        fn regions(names: &[&str]) -> Vec<&'static RegionEntry> {
            names.iter().map(|n| regions::lookup(n).unwrap()).collect()
        }

        fn outcomes(scan: &[Scanned]) -> Vec<(&'static str, String)> {
            scan.iter()
                .map(|s| {
                    let o = match &s.outcome {
                        Outcome::Ok(st) => format!("ok {}", st.identities[0].name),
                        Outcome::TimedOut { cut_short: Some(c) } => {
                            format!("cut short: {}", c.describe())
                        }
                        Outcome::TimedOut { cut_short: None } => "timed out".into(),
                        other => format!("{other:?}"),
                    };
                    (s.region.name, o)
                })
                .collect()
        }

        #[tokio::test(start_paused = true)]
        async fn a_silent_region_is_given_up_on_a_grace_after_the_others() {
            let fake = ses(&["ap-south-1"], &["eu-west-1"]);
            let start = tokio::time::Instant::now();
            let scan = scan(
                &fake,
                &regions(&["us-east-1", "ap-south-1", "eu-west-1"]),
                TIMEOUT,
            )
            .await;
            assert_eq!(
                outcomes(&scan),
                [
                    ("us-east-1", "ok us-east-1.example.com".into()),
                    ("ap-south-1", "cut short: no answer within 4.5 s; the other regions answered within 2.5 s".into()),
                    // Slower than the first, within the grace: waited for.
                    ("eu-west-1", "ok eu-west-1.example.com".into()),
                ]
            );
            assert_eq!(
                start.elapsed(),
                Duration::from_millis(2500) + STRAGGLER_GRACE
            );
            let f = unreachable_region(&scan[1], TIMEOUT, Severity::Warning);
            assert_eq!(
                f.title,
                "SES in ap-south-1 did not answer; its identities are unknown"
            );
        }

        #[tokio::test(start_paused = true)]
        async fn silent_regions_are_given_up_on_together() {
            let fake = ses(&["ap-south-1", "sa-east-1"], &[]);
            let scan = scan(
                &fake,
                &regions(&["ap-south-1", "us-east-1", "sa-east-1"]),
                TIMEOUT,
            )
            .await;
            let cut: Vec<&str> = scan
                .iter()
                .filter(|s| matches!(s.outcome, Outcome::TimedOut { cut_short: Some(_) }))
                .map(|s| s.region.name)
                .collect();
            assert_eq!(cut, ["ap-south-1", "sa-east-1"]);
        }

        #[tokio::test(start_paused = true)]
        async fn the_configured_region_and_a_lone_region_get_the_whole_timeout() {
            let fake = ses(&["ap-south-1"], &[]);
            let start = tokio::time::Instant::now();
            let scan = scan_needing(
                &fake,
                &regions(&["us-east-1", "ap-south-1"]),
                TIMEOUT,
                Some("ap-south-1"),
            )
            .await;
            assert_eq!(outcomes(&scan)[1], ("ap-south-1", "timed out".into()));
            assert_eq!(start.elapsed(), TIMEOUT);

            let start = tokio::time::Instant::now();
            let lone = super::scan(&fake, &regions(&["ap-south-1"]), TIMEOUT).await;
            assert_eq!(outcomes(&lone), [("ap-south-1", "timed out".into())]);
            assert_eq!(start.elapsed(), TIMEOUT);
            let f = unreachable_region(&lone[0], TIMEOUT, Severity::Warning);
            assert!(
                f.evidence
                    .iter()
                    .any(|e| e.value == "no answer within 60 s"),
                "{:?}",
                f.evidence
            );
        }
    }
}
