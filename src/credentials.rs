//! Which credentials are under test, and where they came from.
//!
//! The sending credentials follow the AWS CLI's precedence: pasted key > `--profile` >
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` > `AWS_PROFILE` (or `default`) > the rest of the
//! default chain (web identity, container, instance). The source is recorded for the report,
//! because "which credentials is it actually using?" is half of the diagnosis.

use crate::exit::{error_chain, Failure};
use crate::report::CredentialsInfo;
use crate::secret::{AccessKey, Secret};
use crate::shared_files::SharedFiles;
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

/// The variables hold raw secrets (`AWS_SECRET_ACCESS_KEY`): wiped when dropped.
impl Drop for Environment {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for value in self.vars.values_mut() {
            value.zeroize();
        }
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

    /// The shared config file, as the SDKs locate it.
    pub fn config_file(&self) -> PathBuf {
        self.shared_file("AWS_CONFIG_FILE", "config")
    }

    /// The shared credentials file, as the SDKs locate it.
    pub fn credentials_file(&self) -> PathBuf {
        self.shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
    }

    /// The variable's path, else `~/.aws/NAME`. A leading `~` component is the home directory,
    /// as in the SDKs: Dockerfile `ENV` lines and CI `env:` blocks pass it unexpanded.
    fn shared_file(&self, var: &str, name: &str) -> PathBuf {
        let path = self
            .get(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("~").join(".aws").join(name));
        let mut parts = path.components();
        match (parts.next(), self.home()) {
            (Some(std::path::Component::Normal(first)), Some(home)) if first == "~" => {
                home.join(parts.as_path())
            }
            _ => path,
        }
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
}

/// The provider at the bottom of a chain: what supplies the first credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    Pasted {
        secret_from: &'static str,
    },
    EnvironmentKeys,
    StaticKeys {
        profile: String,
    },
    CredentialProcess {
        profile: String,
    },
    Sso {
        profile: String,
        session: Option<String>,
    },
    WebIdentity {
        role_arn: String,
        profile: Option<String>,
    },
    CredentialSource {
        name: String,
    },
    LoginSession {
        profile: String,
    },
    Container,
    InstanceProfile,
    /// The profile holds no credential settings.
    Nothing {
        profile: String,
    },
}

impl Base {
    fn method(&self) -> &'static str {
        match self {
            Base::Pasted { .. } => "pasted",
            Base::EnvironmentKeys => "environment",
            Base::StaticKeys { .. } => "static-keys",
            Base::CredentialProcess { .. } => "credential-process",
            Base::Sso { .. } => "sso",
            Base::WebIdentity { .. } => "web-identity",
            Base::CredentialSource { .. } => "credential-source",
            Base::LoginSession { .. } => "login-session",
            Base::Container => "container",
            Base::InstanceProfile => "instance-profile",
            Base::Nothing { .. } => "none",
        }
    }

    fn describe(&self) -> String {
        match self {
            Base::Pasted { secret_from } => {
                format!("pasted: --access-key-id, secret from {secret_from}")
            }
            Base::EnvironmentKeys => {
                "environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY".into()
            }
            Base::StaticKeys { profile } => format!("static keys in profile '{profile}'"),
            Base::CredentialProcess { profile } => {
                format!("credential_process in profile '{profile}'")
            }
            Base::Sso { profile, session } => match session {
                Some(s) => format!("SSO session '{s}' (profile '{profile}')"),
                None => format!("SSO (legacy sso_start_url in profile '{profile}')"),
            },
            Base::WebIdentity { role_arn, profile } => match profile {
                Some(p) => format!(
                    "web identity token for role {role_arn} (web_identity_token_file in profile '{p}')"
                ),
                None => format!(
                    "web identity token for role {role_arn} (AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN)"
                ),
            },
            Base::CredentialSource { name } => format!("credential_source = {name}"),
            Base::LoginSession { profile } => format!("login session in profile '{profile}'"),
            Base::Container => "container credentials (AWS_CONTAINER_CREDENTIALS_*)".into(),
            Base::InstanceProfile => "instance profile (EC2 instance metadata)".into(),
            Base::Nothing { profile } => {
                format!("profile '{profile}' holds no credential settings")
            }
        }
    }
}

/// How a profile's credentials are obtained, read the way the Rust SDK walks it: roles assumed
/// (outermost first: the one whose credentials the mailer gets), down to a base provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// `(role ARN, profile naming it)`, outermost first.
    pub roles: Vec<(String, String)>,
    pub base: Base,
}

impl Chain {
    pub fn of(base: Base) -> Chain {
        Chain {
            roles: Vec::new(),
            base,
        }
    }

    /// The profile's chain, or why the SDK cannot follow it.
    pub fn of_profile(profiles: &ProfileSet, name: &str) -> Result<Chain, String> {
        let mut roles = Vec::new();
        let mut visited: Vec<String> = Vec::new();
        let mut current = name.to_owned();
        loop {
            let profile = profiles.get_profile(&current).ok_or_else(|| {
                format!(
                    "source profile '{current}' (named by profile '{}') does not exist",
                    visited.last().map(String::as_str).unwrap_or(name)
                )
            })?;
            if visited.contains(&current) {
                return Err(format!(
                    "profiles {} and {current} name each other as source_profile (a loop)",
                    visited.join(", ")
                ));
            }
            visited.push(current.clone());
            // Below the first profile, static keys win over anything else in the profile.
            if visited.len() > 1 && profile.get("aws_access_key_id").is_some() {
                return Ok(Chain {
                    roles,
                    base: Base::StaticKeys { profile: current },
                });
            }
            let role_arn = profile.get("role_arn");
            if let (Some(arn), None) = (role_arn, profile.get("web_identity_token_file")) {
                roles.push((arn.to_owned(), current.clone()));
                match (profile.get("source_profile"), profile.get("credential_source")) {
                    (Some(_), Some(_)) => {
                        return Err(format!(
                            "profile '{current}' has both source_profile and credential_source"
                        ))
                    }
                    (None, None) => {
                        return Err(format!(
                            "profile '{current}' has role_arn but neither source_profile nor credential_source"
                        ))
                    }
                    (Some(next), None) if next != current => {
                        current = next.to_owned();
                        continue;
                    }
                    _ => {}
                }
            }
            return Ok(Chain {
                roles,
                base: base_of(profiles, profile.name(), profile),
            });
        }
    }

    pub fn method(&self) -> &'static str {
        if self.roles.is_empty() {
            self.base.method()
        } else {
            "assume-role"
        }
    }

    /// The role whose credentials the mailer ends up with.
    pub fn role_arn(&self) -> Option<&str> {
        self.roles
            .first()
            .map(|(arn, _)| arn.as_str())
            .or(match &self.base {
                Base::WebIdentity { role_arn, .. } => Some(role_arn.as_str()),
                _ => None,
            })
    }

    /// "assumed role R via source profile 'base' (static keys in profile 'base')".
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, (arn, profile)) in self.roles.iter().enumerate() {
            if i > 0 {
                out.push_str(" via ");
            }
            out.push_str(&format!("assumed role {arn} (profile '{profile}')"));
        }
        if !out.is_empty() {
            out.push_str(" via ");
        }
        out.push_str(&self.base.describe());
        out
    }
}

fn base_of(profiles: &ProfileSet, name: &str, p: &aws_config::profile::Profile) -> Base {
    let profile = name.to_owned();
    if let Some(source) = p.get("credential_source") {
        return Base::CredentialSource {
            name: source.to_owned(),
        };
    }
    if let (Some(arn), Some(_)) = (p.get("role_arn"), p.get("web_identity_token_file")) {
        return Base::WebIdentity {
            role_arn: arn.to_owned(),
            profile: Some(profile),
        };
    }
    let sso = [
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
    ];
    if sso.iter().any(|k| p.get(k).is_some()) {
        let _ = profiles;
        return Base::Sso {
            profile,
            session: p.get("sso_session").map(str::to_owned),
        };
    }
    if p.get("login_session").is_some() {
        return Base::LoginSession { profile };
    }
    if p.get("credential_process").is_some() {
        return Base::CredentialProcess { profile };
    }
    if p.get("aws_access_key_id").is_some() || p.get("aws_secret_access_key").is_some() {
        return Base::StaticKeys { profile };
    }
    Base::Nothing { profile }
}

/// AWS refused to let the source credentials assume the role.
#[derive(Clone, Debug)]
pub struct RoleDenied {
    pub role_arn: String,
    /// The error code and message STS gave.
    pub aws_said: String,
}

/// The outcome of looking for one set of credentials.
#[derive(Clone)]
pub struct Lookup {
    pub source: Source,
    /// How they were (or would have been) obtained.
    pub chain: Option<Chain>,
    pub detail: String,
    /// The credentials, or why none could be had from `source`.
    pub key: Result<AccessKey, String>,
    /// Set when the key is missing because STS refused AssumeRole.
    pub role_denied: Option<RoleDenied>,
}

impl Lookup {
    fn new(source: Source, chain: Option<Chain>, env: &Environment) -> Lookup {
        let files = format!(
            "{} / {}",
            env.credentials_file().display(),
            env.config_file().display()
        );
        let how = chain.as_ref().map(Chain::describe);
        let detail = match (&source, how) {
            (Source::Profile { name, selected_by }, Some(how)) => {
                format!("profile '{name}' ({selected_by}): {how}; in {files}")
            }
            (Source::Profile { name, selected_by }, None) => {
                format!("profile '{name}' ({selected_by}) in {files}")
            }
            (Source::DefaultChain, Some(how)) => format!("default credential chain: {how}"),
            (Source::DefaultChain, None) => {
                "default credential chain (web identity, container or instance role)".into()
            }
            (_, Some(how)) => how,
            (_, None) => String::new(),
        };
        Lookup {
            source,
            chain,
            detail,
            key: Err("not looked up".into()),
            role_denied: None,
        }
    }

    pub fn info(&self) -> CredentialsInfo {
        CredentialsInfo {
            source: self.source.kind(),
            method: self.chain.as_ref().map(Chain::method),
            role_arn: self
                .chain
                .as_ref()
                .and_then(Chain::role_arn)
                .map(str::to_owned),
            detail: self.detail.clone(),
            profile: self.source.profile().map(str::to_owned),
            access_key_id: self.key.as_ref().ok().map(|k| k.id.clone()),
            previous_access_key_id: None,
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
    pub files: &'a SharedFiles,
    pub profiles: &'a ProfileSet,
    /// With the region and HTTP client the SDK's own providers need (role assumption calls STS).
    pub provider_config: ProviderConfig,
    pub timeout: Duration,
}

impl Resolver<'_> {
    /// The sending credentials, in the order of the SDKs' default chain: pasted > `--profile` >
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` > `AWS_PROFILE` (or `default`) > web identity
    /// > container > instance profile.
    pub async fn sending(
        &self,
        pasted: Option<PastedKey>,
        profile_flag: Option<&str>,
    ) -> Result<Lookup, Failure> {
        if let Some(p) = pasted {
            let base = Base::Pasted {
                secret_from: p.secret_from,
            };
            let mut lookup = Lookup::new(
                Source::Pasted {
                    secret_from: p.secret_from,
                },
                Some(Chain::of(base)),
                self.env,
            );
            lookup.key = Ok(p.key);
            return Ok(lookup);
        }
        if let Some(name) = profile_flag {
            return self.profile(name, "--profile").await;
        }
        if self.env.has_static_keys() {
            let mut lookup = Lookup::new(
                Source::Environment,
                Some(Chain::of(Base::EnvironmentKeys)),
                self.env,
            );
            lookup.key = Ok(AccessKey {
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
            });
            return Ok(lookup);
        }
        let (name, selected_by) = implied_profile(self.env);
        let mut passed_over = None;
        if self.profiles.get_profile(&name).is_some() || selected_by == "AWS_PROFILE" {
            let lookup = self.profile(&name, selected_by).await?;
            // A profile that was not named on the command line and holds no credentials (the
            // usual `[default]` with only a region on EC2, ECS and EKS) does not stop the chain.
            let empty = matches!(
                lookup.chain,
                Some(Chain {
                    base: Base::Nothing { .. },
                    ..
                })
            ) && lookup.key.is_err();
            if !empty {
                return Ok(lookup);
            }
            passed_over = Some(name);
        }
        Ok(self.default_chain(passed_over.as_deref()).await)
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
        let chain = Chain::of_profile(self.profiles, name);
        let mut lookup = Lookup::new(source, chain.as_ref().ok().cloned(), self.env);
        if let Err(why) = chain {
            lookup.key = Err(why);
            return Ok(lookup);
        }
        // The SDK's own provider, on the very contents read at start-up: static keys, role
        // assumption, SSO and credential_process resolve exactly as for an SDK-based mailer.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&self.provider_config)
            .profile_files(self.files.env_config_files())
            .profile_name(name)
            .build();
        let (key, denied) = self.provide(&provider).await;
        lookup.key = key;
        lookup.role_denied = denied.map(|aws_said| RoleDenied {
            role_arn: lookup
                .chain
                .as_ref()
                .and_then(Chain::role_arn)
                .unwrap_or_default()
                .to_owned(),
            aws_said,
        });
        Ok(lookup)
    }

    /// What the SDKs try after the environment and the profile: web identity, container
    /// credentials, the instance profile; the first one configured here is the one used.
    async fn default_chain(&self, passed_over: Option<&str>) -> Lookup {
        let pc = &self.provider_config;
        let (base, result) = if let (Some(_), Some(role)) = (
            self.env.get("AWS_WEB_IDENTITY_TOKEN_FILE"),
            self.env.get("AWS_ROLE_ARN"),
        ) {
            let provider =
                aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                    .configure(pc)
                    .build();
            let base = Base::WebIdentity {
                role_arn: role.to_owned(),
                profile: None,
            };
            (Some(base), self.provide(&provider).await)
        } else if self
            .env
            .get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .is_some()
            || self.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
        {
            let provider = aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(pc)
                .build();
            (Some(Base::Container), self.provide(&provider).await)
        } else if self
            .env
            .get("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            (None, (Err(String::new()), None))
        } else {
            let provider = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(pc)
                .build();
            (Some(Base::InstanceProfile), self.provide(&provider).await)
        };
        let found = base.is_some();
        let mut lookup = Lookup::new(Source::DefaultChain, base.map(Chain::of), self.env);
        let profile = match passed_over {
            Some(p) => format!("profile '{p}' holds no credential settings"),
            None => "no profile".to_owned(),
        };
        lookup.key = match result.0 {
            Err(_) if !found => Err(format!(
                "{profile}, no AWS_ACCESS_KEY_ID, no web identity token, no container credentials, and instance metadata is disabled"
            )),
            Err(e) if lookup.chain.as_ref().is_some_and(|c| c.base == Base::InstanceProfile) => {
                Err(format!("{profile}, no AWS_ACCESS_KEY_ID, no web identity token, no container credentials, and no instance role ({e})"))
            }
            other => other,
        };
        lookup.role_denied = result.1.map(|aws_said| RoleDenied {
            role_arn: self.env.get("AWS_ROLE_ARN").unwrap_or_default().to_owned(),
            aws_said,
        });
        lookup
    }

    /// The provider's credentials, or why not; and STS's words when it refused a role.
    async fn provide(
        &self,
        provider: &impl ProvideCredentials,
    ) -> (Result<AccessKey, String>, Option<String>) {
        let result = tokio::time::timeout(self.timeout, provider.provide_credentials()).await;
        match result {
            Err(_) => (
                Err(format!(
                    "the credential provider did not answer within {} s",
                    self.timeout.as_secs()
                )),
                None,
            ),
            Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
                (Err("no source supplied credentials".into()), None)
            }
            Ok(Err(e)) => (Err(error_chain(&e)), role_refusal(&e)),
            Ok(Ok(c)) => (
                Ok(AccessKey {
                    id: c.access_key_id().to_owned(),
                    secret: Secret::new(c.secret_access_key()),
                    session_token: c.session_token().map(Secret::new),
                }),
                None,
            ),
        }
    }
}

/// STS's "not authorized to perform sts:AssumeRole" (or the web-identity variant), found in the
/// provider error's source chain.
fn role_refusal(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    let mut current = Some(error);
    while let Some(e) = current {
        let meta = if let Some(SdkError::ServiceError(s)) =
            e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>()
        {
            Some((s.err().code(), s.err().message()))
        } else if let Some(SdkError::ServiceError(s)) =
            e.downcast_ref::<SdkError<AssumeRoleWithWebIdentityError, HttpResponse>>()
        {
            Some((s.err().code(), s.err().message()))
        } else {
            None
        };
        if let Some((code, message)) = meta {
            return match code {
                Some("AccessDenied") => Some(format!(
                    "AccessDenied: {}",
                    message.unwrap_or("not authorized to assume the role")
                )),
                _ => None,
            };
        }
        current = e.source();
    }
    None
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
