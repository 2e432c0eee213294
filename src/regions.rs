//! The AWS regions ses-doctor knows, which offer SES, and which are opt-in.
//!
//! Maintained by hand. Source: the `email` service endpoints of botocore's `endpoints.json`
//! (botocore 1.43.11) and AWS's SES endpoints page. Opt-in = launched after 2019-03-20, disabled
//! until enabled on the account. Every SES region has an SMTP endpoint
//! `email-smtp.<region>.amazonaws.com` (STARTTLS on 25, 587 and 2587; TLS wrapper on 465 and
//! 2465); for the newest regions (ap-southeast-5, ca-west-1) this follows AWS's naming rule and
//! was not seen on AWS's page. Re-check when AWS announces a region.

#[derive(Debug)]
pub struct RegionEntry {
    pub name: &'static str,
    pub display: &'static str,
    pub ses: bool,
    pub opt_in: bool,
}

const fn r(name: &'static str, display: &'static str, ses: bool, opt_in: bool) -> RegionEntry {
    RegionEntry {
        name,
        display,
        ses,
        opt_in,
    }
}

pub const REGIONS: &[RegionEntry] = &[
    r("us-east-1", "US East (N. Virginia)", true, false),
    r("us-east-2", "US East (Ohio)", true, false),
    r("us-west-1", "US West (N. California)", true, false),
    r("us-west-2", "US West (Oregon)", true, false),
    r("af-south-1", "Africa (Cape Town)", true, true),
    r("ap-east-1", "Asia Pacific (Hong Kong)", false, true),
    r("ap-east-2", "Asia Pacific (Taipei)", false, true),
    r("ap-northeast-1", "Asia Pacific (Tokyo)", true, false),
    r("ap-northeast-2", "Asia Pacific (Seoul)", true, false),
    r("ap-northeast-3", "Asia Pacific (Osaka)", true, false),
    r("ap-south-1", "Asia Pacific (Mumbai)", true, false),
    r("ap-south-2", "Asia Pacific (Hyderabad)", true, true),
    r("ap-southeast-1", "Asia Pacific (Singapore)", true, false),
    r("ap-southeast-2", "Asia Pacific (Sydney)", true, false),
    r("ap-southeast-3", "Asia Pacific (Jakarta)", true, true),
    r("ap-southeast-4", "Asia Pacific (Melbourne)", false, true),
    r("ap-southeast-5", "Asia Pacific (Malaysia)", true, true),
    r("ap-southeast-6", "Asia Pacific (New Zealand)", false, true),
    r("ap-southeast-7", "Asia Pacific (Thailand)", false, true),
    r("ca-central-1", "Canada (Central)", true, false),
    r("ca-west-1", "Canada West (Calgary)", true, true),
    r("eu-central-1", "Europe (Frankfurt)", true, false),
    r("eu-central-2", "Europe (Zurich)", true, true),
    r("eu-north-1", "Europe (Stockholm)", true, false),
    r("eu-south-1", "Europe (Milan)", true, true),
    r("eu-south-2", "Europe (Spain)", false, true),
    r("eu-west-1", "Europe (Ireland)", true, false),
    r("eu-west-2", "Europe (London)", true, false),
    r("eu-west-3", "Europe (Paris)", true, false),
    r("il-central-1", "Israel (Tel Aviv)", true, true),
    r("me-central-1", "Middle East (UAE)", true, true),
    r("me-south-1", "Middle East (Bahrain)", true, true),
    r("mx-central-1", "Mexico (Central)", false, true),
    r("sa-east-1", "South America (Sao Paulo)", true, false),
    r("us-gov-east-1", "AWS GovCloud (US-East)", true, false),
    r("us-gov-west-1", "AWS GovCloud (US-West)", true, false),
    r("cn-north-1", "China (Beijing)", false, false),
    r("cn-northwest-1", "China (Ningxia)", false, false),
];

impl RegionEntry {
    /// The SES SMTP endpoint's host name, where SES is offered.
    pub fn smtp_host(&self) -> Option<String> {
        self.ses
            .then(|| format!("email-smtp.{}.amazonaws.com", self.name))
    }

    /// The SES API endpoint's host name, where SES is offered.
    pub fn api_host(&self) -> Option<String> {
        self.ses
            .then(|| format!("email.{}.amazonaws.com", self.name))
    }
}

/// Ports of the SES SMTP interface: STARTTLS, then TLS wrapper.
pub const SMTP_STARTTLS_PORTS: [u16; 3] = [587, 25, 2587];
pub const SMTP_TLS_WRAPPER_PORTS: [u16; 2] = [465, 2465];

pub fn lookup(name: &str) -> Option<&'static RegionEntry> {
    REGIONS.iter().find(|r| r.name == name)
}

/// Whether `name` has the shape of a region code (`xx-name-N`, optionally `xx-gov-name-N`), so
/// that a region newer than this table is not rejected as a typo.
pub fn is_region_shaped(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// For a value that is not a region code, the region the user most likely meant: a display name
/// ("EU (Ireland)", "Europe (Ireland)"), an availability zone ("eu-west-1a"), wrong case or
/// surrounding whitespace/quotes.
pub fn suggest(value: &str) -> Option<&'static str> {
    let cleaned = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let lower = cleaned.to_ascii_lowercase();
    if let Some(r) = lookup(&lower) {
        return Some(r.name);
    }
    // Availability zone: the region plus one letter.
    if let Some(stripped) = lower.strip_suffix(|c: char| c.is_ascii_lowercase()) {
        if let Some(r) = lookup(stripped) {
            return Some(r.name);
        }
    }
    // Display names; mail plugins often say "EU" where AWS now says "Europe".
    let normal = |s: &str| {
        s.to_ascii_lowercase()
            .replace("europe", "eu")
            .replace(' ', "")
    };
    let wanted = normal(cleaned);
    REGIONS
        .iter()
        .find(|r| normal(r.display) == wanted)
        .map(|r| r.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_shaped() {
        let mut names: Vec<_> = REGIONS.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGIONS.len());
        assert!(REGIONS.iter().all(|r| is_region_shaped(r.name)));
    }

    #[test]
    fn shape_rejects_display_names_and_zones() {
        assert!(is_region_shaped("eu-west-1"));
        assert!(is_region_shaped("us-gov-west-1"));
        assert!(!is_region_shaped("EU (Ireland)"));
        assert!(!is_region_shaped("eu-west-1a"));
        assert!(!is_region_shaped("eu-west"));
        assert!(!is_region_shaped(" eu-west-1"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("EU (Ireland)"), Some("eu-west-1"));
        assert_eq!(suggest("Europe (Frankfurt)"), Some("eu-central-1"));
        assert_eq!(suggest("eu-west-1a"), Some("eu-west-1"));
        assert_eq!(suggest("US-EAST-1"), Some("us-east-1"));
        assert_eq!(suggest("\"us-west-2\" "), Some("us-west-2"));
        assert_eq!(suggest("mars-north-1"), None);
    }
}
