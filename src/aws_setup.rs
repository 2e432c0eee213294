//! The one place that turns options into AWS SDK configuration: HTTP client (one TLS stack),
//! timeouts, retries, endpoint, region. Everything downstream takes a `&SdkConfig` (the seam for
//! tests) and makes per-service, per-region clients with the helpers here.

use crate::credentials::{implied_profile, Environment};
use crate::exit::Failure;
use crate::regions;
use crate::report::RegionInfo;
use crate::secret::AccessKey;
use aws_config::profile::ProfileSet;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::time::Duration;

/// STS's default region: always enabled, so a key that works here and fails in the target region
/// points at an opt-in region rather than a bad key.
pub const DEFAULT_REGION: &str = "us-east-1";

pub struct AwsSetup {
    http: SharedHttpClient,
    endpoint_url: Option<String>,
    profile: Option<String>,
    /// The shared files as read at start-up (the loader reads `endpoint_url` and the like there).
    files: EnvConfigFiles,
    pub timeout: Duration,
}

impl AwsSetup {
    pub fn new(
        endpoint_url: Option<String>,
        profile: Option<String>,
        files: EnvConfigFiles,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        if let Some(url) = &endpoint_url {
            crate::validate::endpoint_url(url, "--endpoint-url")?;
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        Ok(AwsSetup {
            http,
            endpoint_url,
            profile,
            files,
            timeout,
        })
    }

    /// For the SDK's own credential providers (SSO, role assumption) while resolving credentials.
    /// Role assumption calls STS, which needs a region to sign for: the configured one when it is
    /// a region name, else STS's default.
    pub fn provider_config(&self, region: &RegionSetting) -> ProviderConfig {
        let region = region.valid().unwrap_or(DEFAULT_REGION).to_owned();
        ProviderConfig::without_region()
            .with_region(Some(Region::new(region)))
            .with_http_client(self.http.clone())
            .with_timeout_config(self.timeout_config())
    }

    fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .operation_attempt_timeout(self.timeout)
            // The whole call, retries included, within --timeout: what the help promises.
            .operation_timeout(self.timeout)
            .build()
    }

    /// Configuration for one set of credentials. Endpoint: `--endpoint-url`, else what the SDK
    /// reads itself (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, the profile's
    /// `endpoint_url`), as the AWS CLI does.
    pub async fn sdk_config(&self, key: &AccessKey) -> SdkConfig {
        let credentials = Credentials::new(
            key.id.clone(),
            key.secret.expose().to_owned(),
            key.session_token.as_ref().map(|t| t.expose().to_owned()),
            None,
            "ses-doctor",
        );
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(self.http.clone())
            .credentials_provider(credentials)
            .region(Region::new(DEFAULT_REGION))
            .timeout_config(self.timeout_config())
            // The SDK's standard retries (3 attempts, backoff, throttling and 5xx retried): a
            // throttled moment should not fail the diagnosis. A dead endpoint still costs at
            // most --timeout, which bounds the whole call, retries included.
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .profile_files(self.files.clone());
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader.load().await
    }
}

/// Makes the service clients a check needs. `SdkConfig` implements it for real calls; unit tests
/// implement it with `aws-smithy-mocks` clients for what the emulator cannot produce.
pub trait Clients: Sync {
    fn sts(&self, region: &str) -> aws_sdk_sts::Client;
    fn iam(&self) -> aws_sdk_iam::Client;
    fn sesv2(&self, region: &str) -> aws_sdk_sesv2::Client;
    /// The bound of one call, retries included (for saying "no answer within N s").
    fn timeout(&self) -> Option<std::time::Duration> {
        None
    }
    /// The endpoint every call goes to, when one is set (`--endpoint-url`, `AWS_ENDPOINT_URL`).
    fn endpoint(&self) -> Option<String> {
        None
    }
}

impl Clients for SdkConfig {
    fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        sts(self, region)
    }
    fn iam(&self) -> aws_sdk_iam::Client {
        iam(self)
    }
    fn sesv2(&self, region: &str) -> aws_sdk_sesv2::Client {
        sesv2(self, region)
    }
    fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout_config().and_then(|t| t.operation_timeout())
    }
    fn endpoint(&self) -> Option<String> {
        self.endpoint_url().map(str::to_owned)
    }
}

pub fn sts(config: &SdkConfig, region: &str) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::config::Builder::from(config)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// IAM is global; requests are signed for the partition's home region.
pub fn iam(config: &SdkConfig) -> aws_sdk_iam::Client {
    let region = match config.region().map(|r| r.as_ref()) {
        Some(r) if r.starts_with("us-gov-") => "us-gov-west-1",
        Some(r) if r.starts_with("cn-") => "cn-north-1",
        _ => DEFAULT_REGION,
    };
    let conf = aws_sdk_iam::config::Builder::from(config)
        .region(Region::new(region))
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

pub fn sesv2(config: &SdkConfig, region: &str) -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::config::Builder::from(config)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

/// The configured region, where it came from, and whether it is a usable region name.
#[derive(Clone, Debug)]
pub struct RegionSetting {
    /// The value exactly as configured (may be invalid, e.g. "EU (Ireland)").
    pub raw: Option<String>,
    pub source: &'static str,
}

impl RegionSetting {
    /// The region to call, when the configured value is a region name.
    pub fn valid(&self) -> Option<&str> {
        self.raw.as_deref().filter(|r| regions::is_region_shaped(r))
    }

    pub fn info(&self) -> Option<RegionInfo> {
        self.raw.as_ref().map(|name| RegionInfo {
            name: name.clone(),
            source: self.source.to_owned(),
            previous: None,
        })
    }
}

/// `--region` > `AWS_REGION` > `AWS_DEFAULT_REGION` > the profile's `region`, as the AWS CLI.
/// An invalid `--region` is bad usage (exit 2); an invalid value from the environment or a file is
/// the user's broken configuration and becomes a finding.
pub fn resolve_region(
    flag: Option<&str>,
    profile_flag: Option<&str>,
    env: &Environment,
    profiles: &ProfileSet,
) -> Result<RegionSetting, Failure> {
    if let Some(r) = flag {
        if !regions::is_region_shaped(r) {
            let hint = regions::suggest(r)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(Failure::usage(format!(
                "--region '{r}' is not an AWS region name{hint}; `ses-doctor regions` lists them"
            )));
        }
        return Ok(RegionSetting {
            raw: Some(r.to_owned()),
            source: "--region",
        });
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = env.get(var) {
            return Ok(RegionSetting {
                raw: Some(r.to_owned()),
                source: var,
            });
        }
    }
    let profile = profile_flag
        .map(str::to_owned)
        .unwrap_or_else(|| implied_profile(env).0);
    let raw = profiles
        .get_profile(&profile)
        .and_then(|p| p.get("region"))
        .map(str::to_owned);
    Ok(RegionSetting {
        source: if raw.is_some() { "profile" } else { "none" },
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_precedence_and_invalid_flag() {
        let profiles = ProfileSet::default();
        let env = Environment::from_pairs(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ]);
        let r = resolve_region(None, None, &env, &profiles).unwrap();
        assert_eq!(
            (r.raw.as_deref(), r.source),
            (Some("eu-west-1"), "AWS_REGION")
        );
        let r = resolve_region(Some("eu-north-1"), None, &env, &profiles).unwrap();
        assert_eq!(r.source, "--region");
        let err = resolve_region(Some("EU (Ireland)"), None, &env, &profiles).unwrap_err();
        assert!(
            err.message.contains("did you mean eu-west-1"),
            "{}",
            err.message
        );
        let env = Environment::from_pairs(&[("AWS_REGION", "eu-west-1a")]);
        let r = resolve_region(None, None, &env, &profiles).unwrap();
        assert_eq!(r.valid(), None);
    }
}
