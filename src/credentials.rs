//! Which credentials are under test, and where they came from.
//!
//! The sending credentials follow the AWS CLI's precedence: pasted key > `--profile` >
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` > `AWS_PROFILE` (or `default`) > the rest of the
//! default chain (web identity, container, instance). The source is recorded for the report,
//! because "which credentials is it actually using?" is half of the diagnosis.

use crate::exit::{error_chain, Failure};
use crate::report::CredentialsInfo;
use crate::secret::{AccessKey, Secret};
use aws_config::profile::ProfileSet;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The process environment as read once at start-up (only what ses-doctor looks at), so checks
/// are pure functions of it and unit tests can build one. It holds raw secrets
/// (`AWS_SECRET_ACCESS_KEY`), so its `Debug` shows variable names only.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl Environment {
    pub fn capture() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("SES_DOCTOR_") || k == "HOME")
            .collect();
        Environment { vars }
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Environment {
            vars: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A variable's raw value; empty counts as unset, as the SDKs do.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// The shared config file, as the SDK locates it.
    pub fn config_file(&self) -> PathBuf {
        self.get("AWS_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".aws").join("config")))
            .unwrap_or_else(|| PathBuf::from("~/.aws/config"))
    }

    /// The shared credentials file, as the SDK locates it.
    pub fn credentials_file(&self) -> PathBuf {
        self.get("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".aws").join("credentials")))
            .unwrap_or_else(|| PathBuf::from("~/.aws/credentials"))
    }

    /// Both access key variables set: the SDKs then ignore every profile.
    pub fn has_static_keys(&self) -> bool {
        self.get("AWS_ACCESS_KEY_ID").is_some() && self.get("AWS_SECRET_ACCESS_KEY").is_some()
    }
}

/// A key given on the command line (ID) with its secret from stdin, a prompt or the environment.
pub struct PastedKey {
    pub key: AccessKey,
    /// Where the secret was read from, for the report ("stdin", "hidden prompt", ...).
    pub secret_from: &'static str,
}

/// Where a set of credentials came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Pasted {
        secret_from: &'static str,
    },
    Environment,
    Profile {
        name: String,
        selected_by: &'static str,
    },
    DefaultChain,
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Pasted { .. } => "pasted",
            Source::Environment => "environment",
            Source::Profile { .. } => "profile",
            Source::DefaultChain => "default-chain",
        }
    }

    pub fn profile(&self) -> Option<&str> {
        match self {
            Source::Profile { name, .. } => Some(name),
            _ => None,
        }
    }

    fn describe(&self, env: &Environment) -> String {
        match self {
            Source::Pasted { secret_from } => {
                format!("pasted: --access-key-id, secret from {secret_from}")
            }
            Source::Environment => {
                "environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY".into()
            }
            Source::Profile { name, selected_by } => format!(
                "profile '{name}' ({selected_by}) in {} / {}",
                env.credentials_file().display(),
                env.config_file().display()
            ),
            Source::DefaultChain => {
                "default credential chain (web identity, container or instance role)".into()
            }
        }
    }
}

/// The outcome of looking for one set of credentials.
pub struct Lookup {
    pub source: Source,
    pub detail: String,
    /// The credentials, or why none could be had from `source`.
    pub key: Result<AccessKey, String>,
}

impl Lookup {
    pub fn info(&self) -> CredentialsInfo {
        CredentialsInfo {
            source: self.source.kind(),
            detail: self.detail.clone(),
            profile: self.source.profile().map(str::to_owned),
            access_key_id: self.key.as_ref().ok().map(|k| k.id.clone()),
        }
    }
}

/// The profile the user means when none is named: `AWS_PROFILE`, else `default`.
pub fn implied_profile(env: &Environment) -> (String, &'static str) {
    match env.get("AWS_PROFILE") {
        Some(p) => (p.to_owned(), "AWS_PROFILE"),
        None => ("default".to_owned(), "default profile"),
    }
}

pub struct Resolver<'a> {
    pub env: &'a Environment,
    pub profiles: &'a ProfileSet,
    pub provider_config: ProviderConfig,
    pub timeout: Duration,
}

impl Resolver<'_> {
    /// The sending credentials, in the AWS CLI's order of precedence.
    pub async fn sending(
        &self,
        pasted: Option<PastedKey>,
        profile_flag: Option<&str>,
    ) -> Result<Lookup, Failure> {
        if let Some(p) = pasted {
            let source = Source::Pasted {
                secret_from: p.secret_from,
            };
            return Ok(Lookup {
                detail: source.describe(self.env),
                source,
                key: Ok(p.key),
            });
        }
        if let Some(name) = profile_flag {
            return self.profile(name, "--profile").await;
        }
        if self.env.has_static_keys() {
            let source = Source::Environment;
            let key = AccessKey {
                id: self
                    .env
                    .get("AWS_ACCESS_KEY_ID")
                    .unwrap_or_default()
                    .to_owned(),
                secret: Secret::new(self.env.get("AWS_SECRET_ACCESS_KEY").unwrap_or_default()),
                session_token: self
                    .env
                    .get("AWS_SESSION_TOKEN")
                    .map(|t| Secret::new(t.trim())),
            };
            return Ok(Lookup {
                detail: source.describe(self.env),
                source,
                key: Ok(key),
            });
        }
        let (name, selected_by) = implied_profile(self.env);
        if self.profiles.get_profile(&name).is_some() || selected_by == "AWS_PROFILE" {
            return self.profile(&name, selected_by).await;
        }
        Ok(self.default_chain().await)
    }

    /// The admin credentials: `--admin-profile`, or none (the sending credentials double as admin).
    pub async fn admin(&self, admin_profile: Option<&str>) -> Result<Option<Lookup>, Failure> {
        match admin_profile {
            Some(name) => self.profile(name, "--admin-profile").await.map(Some),
            None => Ok(None),
        }
    }

    async fn profile(&self, name: &str, selected_by: &'static str) -> Result<Lookup, Failure> {
        if self.profiles.get_profile(name).is_none() {
            return Err(Failure::usage(format!(
                "the profile '{name}' ({selected_by}) is not in {} or {}; profiles there: {}",
                self.env.config_file().display(),
                self.env.credentials_file().display(),
                list_or_none(self.profiles.profiles())
            )));
        }
        let source = Source::Profile {
            name: name.to_owned(),
            selected_by,
        };
        // The SDK's own provider: static keys, role assumption, SSO and credential_process all
        // resolve exactly as they would for an SDK-based mailer.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&self.provider_config)
            .profile_name(name)
            .build();
        let key = self.provide(&provider).await;
        Ok(Lookup {
            detail: source.describe(self.env),
            source,
            key,
        })
    }

    async fn default_chain(&self) -> Lookup {
        let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
            .configure(self.provider_config.clone())
            .build()
            .await;
        let source = Source::DefaultChain;
        // The chain's error is the last provider's (usually the instance metadata service),
        // which says nothing useful about why no credentials were found.
        let key = self.provide(&chain).await.map_err(|_| {
            "no profile, no AWS_ACCESS_KEY_ID, no web identity token, no container or instance role".to_owned()
        });
        Lookup {
            detail: source.describe(self.env),
            source,
            key,
        }
    }

    async fn provide(&self, provider: &impl ProvideCredentials) -> Result<AccessKey, String> {
        let result = tokio::time::timeout(self.timeout, provider.provide_credentials()).await;
        match result {
            Err(_) => Err(format!(
                "the credential provider did not answer within {} s",
                self.timeout.as_secs()
            )),
            Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
                Err("no source supplied credentials".into())
            }
            Ok(Err(e)) => Err(error_chain(&e)),
            Ok(Ok(c)) => Ok(AccessKey {
                id: c.access_key_id().to_owned(),
                secret: Secret::new(c.secret_access_key()),
                session_token: c.session_token().map(Secret::new),
            }),
        }
    }
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<_> = names.collect();
    names.sort();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_debug_shows_names_not_values() {
        let env = Environment::from_pairs(&[("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("AWS_SECRET_ACCESS_KEY"));
        assert!(!shown.contains("wJalr"));
    }
}
