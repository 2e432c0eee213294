//! Arguments → configuration → execution → exit code.

use crate::aws_setup::{self, AwsSetup};
use crate::cli::{
    Cli, Command, DiagnoseArgs, OutputFormat, PolicyArg, SmtpPasswordArgs, SmtpTlsArg, ViaArg,
};
use crate::consent::{Consent, FixChoice, Mode, TerminalPrompter};
use crate::credentials::{Environment, PastedKey, Resolver};
use crate::diagnose::permissions::PolicyChoice;
use crate::diagnose::region::regions_to_scan;
use crate::diagnose::test_email::{SmtpOptions, TestEmailOptions, Via};
use crate::diagnose::{self, local, Diagnosis, KeyOptions};
use crate::exit::{ExitCode, Failure};
use crate::printer::Printer;
use crate::secret::AccessKey;
use crate::shared_files::SharedFiles;
use crate::smtp_client::TlsMode;
use crate::{regions, secret_input, smtp_password, validate};
use clap::{CommandFactory, Parser};
use std::time::Duration;

pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return std::process::ExitCode::from(e.exit_code() as u8);
        }
    };
    let printer = Printer::new(&cli.global);
    endpoint_environment(cli.global.endpoint_url.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&format!("cannot start the async runtime: {e}"));
            return std::process::ExitCode::from(ExitCode::Incomplete.code() as u8);
        }
    };
    crate::terminal::save();
    watch_for_interrupt(&runtime, printer.activity.clone());
    let result = runtime.block_on(execute(cli, &printer));
    let code = match result {
        Ok(code) => code,
        Err(err) => match err.downcast_ref::<Failure>() {
            Some(f) if f.exit == ExitCode::Interrupted => {
                interrupted(&printer.activity);
                f.exit
            }
            Some(f) => {
                printer.error(&f.message);
                f.exit
            }
            None => {
                printer.error(&format!("{err:#}"));
                ExitCode::Incomplete
            }
        },
    };
    std::process::ExitCode::from(code.code() as u8)
}

/// The SDK's own credential providers (role assumption, SSO, web identity) build their clients
/// from the process environment, not from ses-doctor's configuration. So `--endpoint-url`, which
/// promises every request, is put there (over any per-service variable), and an empty
/// `AWS_ENDPOINT_URL*` is removed: ses-doctor, like the AWS CLI, reads it as unset, while the SDK
/// would take it for a URL and panic. Done before the runtime starts any thread.
fn endpoint_environment(flag: Option<&str>) {
    for (key, value) in std::env::vars_os() {
        let name = key.to_string_lossy();
        let endpoint_var = name.starts_with("AWS_ENDPOINT_URL");
        if (endpoint_var && (value.is_empty() || flag.is_some()))
            || (flag.is_some() && name == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        {
            std::env::remove_var(&key);
        }
    }
    if let Some(url) = flag {
        std::env::set_var("AWS_ENDPOINT_URL", url);
    }
}

/// Ctrl-C, wherever the run is: in a prompt (which blocks its thread: the handler runs on the
/// runtime's other thread), or waiting for AWS. Files are only ever replaced by an atomic rename,
/// so exiting here leaves each one as it was or as it was meant to become.
fn watch_for_interrupt(
    runtime: &tokio::runtime::Runtime,
    activity: std::sync::Arc<crate::printer::Activity>,
) {
    // Registered now, before any prompt can be shown.
    #[cfg(unix)]
    let signal = runtime.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
    });
    #[cfg(unix)]
    if let Ok(mut signal) = signal {
        runtime.spawn(async move {
            if signal.recv().await.is_some() {
                interrupted(&activity);
                std::process::exit(ExitCode::Interrupted.code());
            }
        });
    }
    #[cfg(not(unix))]
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupted(&activity);
            std::process::exit(ExitCode::Interrupted.code());
        }
    });
}

fn interrupted(activity: &crate::printer::Activity) {
    activity.clear();
    crate::terminal::restore();
    eprintln!("\ninterrupted");
}

async fn execute(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Diagnose(ref args) => diagnose(&cli, args, printer).await,
        Command::SmtpPassword(ref args) => smtp_password_cmd(&cli, args, printer).await,
        Command::Explain { ref text } => explain_cmd(text, printer),
        Command::Regions { check } => regions_cmd(&cli, check, printer).await,
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ses-doctor", &mut out);
            printer.stdout(&String::from_utf8_lossy(&out));
            Ok(ExitCode::Clean)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| anyhow::anyhow!("cannot render the manual page: {e}"))?;
            printer.stdout(&String::from_utf8_lossy(&out));
            Ok(ExitCode::Clean)
        }
    }
}

async fn diagnose(cli: &Cli, args: &DiagnoseArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let access_key_id = args.access_key_id.as_deref();
    let g = &cli.global;
    // Every argument is checked before anything happens (no credentials resolved, no secret
    // read, no AWS call, nothing written).
    check_profile_flags(g)?;
    check_diagnose_args(args)?;
    let c = Configured::load(g).await?;
    let Configured {
        env,
        files,
        profiles,
        setup,
        ..
    } = &c;

    let pasted = match access_key_id {
        Some(id) => {
            let input = secret_input::read(
                "SES_DOCTOR_SECRET_ACCESS_KEY",
                &format!("Secret access key for {id} (hidden)"),
            )?;
            let token = input.token.or_else(|| {
                std::env::var("SES_DOCTOR_SESSION_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .map(crate::secret::Secret::new)
            });
            Some(PastedKey {
                key: AccessKey {
                    id: id.to_owned(),
                    secret: input.secret,
                    session_token: token,
                },
                secret_from: input.from,
            })
        }
        None => None,
    };
    let resolver = c.resolver();
    let sending = resolver.sending(pasted, g.profile.as_deref()).await?;
    let admin = resolver.admin(g.admin_profile.as_deref()).await?;
    printer.debug(&format!("sending credentials: {}", sending.detail));

    let scan_regions = regions_to_scan(args.regions.as_deref(), c.region.valid())?;
    let email = test_email_options(args, access_key_id.is_some())?;
    let mode = Mode::detect(g.yes, g.dry_run, printer.format == OutputFormat::Json);
    let prompter = || Box::new(TerminalPrompter::new(printer.activity.clone()));
    let first = Consent::new(
        if mode == Mode::Ask { Mode::Plan } else { mode },
        prompter(),
    );
    let diagnosis = Diagnosis {
        env,
        files,
        profiles,
        profile_flag: g.profile.as_deref(),
        setup,
        region: c.region.clone(),
        sending,
        admin,
        consent: &first,
        scan_regions,
        from: args.from.clone(),
        policy: match args.policy {
            PolicyArg::FullAccess => PolicyChoice::FullAccess,
            PolicyArg::SendOnly => PolicyChoice::SendOnly,
        },
        keys: KeyOptions {
            write_profile: args.write_profile.clone(),
            credentials_out: args.credentials_out.clone(),
            delete_old_key: args.delete_old_key,
            deactivate_old_key: args.deactivate_old_key,
            rotate_key: args.rotate_key,
            user_name: args.user_name.clone(),
            new_user: args.new_user,
            reuse_user: args.reuse_user,
        },
        email,
        reveal: printer,
    };
    let diagnosed = diagnose::run(diagnosis.clone(), printer).await?;
    let plan = first.plan();
    if mode != Mode::Ask || plan.is_empty() {
        printer.report(&diagnosed);
        return Ok(diagnosed.exit_code());
    }

    // A person at a terminal: the diagnosis first, then the fixes they approve, then the flow
    // again to apply them and prove the result.
    printer.diagnosis(&diagnosed, &plan);
    let consent = match crate::consent::choose_fixes(prompter().as_ref(), &plan)? {
        FixChoice::Together => Consent::approved(prompter(), &plan),
        FixChoice::OneByOne => Consent::new(Mode::Ask, prompter()),
        FixChoice::Nothing => {
            printer.nothing_changed(&diagnosed);
            return Ok(diagnosed.exit_code());
        }
    };
    let fixed = diagnose::run(
        Diagnosis {
            consent: &consent,
            ..diagnosis
        },
        printer,
    )
    .await?;
    printer.after_fixes(&fixed);
    Ok(fixed.exit_code())
}

/// Arguments turned into configuration: the environment, the shared files as read once, the
/// region, and the SDK set-up built from them.
struct Configured {
    env: Environment,
    files: SharedFiles,
    profiles: aws_config::profile::ProfileSet,
    region: aws_setup::RegionSetting,
    setup: AwsSetup,
}

impl Configured {
    async fn load(g: &crate::cli::GlobalOpts) -> Result<Configured, Failure> {
        check_endpoints(g)?;
        let env = Environment::capture();
        let files = SharedFiles::read(&env)?;
        let profiles = files.profiles(g.profile.as_deref()).await?;
        let region =
            aws_setup::resolve_region(g.region.as_deref(), g.profile.as_deref(), &env, &profiles)?;
        let setup = AwsSetup::new(
            g.endpoint_url.clone(),
            g.profile.clone(),
            files.env_config_files(),
            Duration::from_secs(g.timeout),
        )?;
        Ok(Configured {
            env,
            files,
            profiles,
            region,
            setup,
        })
    }

    /// The credentials resolver over exactly this configuration.
    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            env: &self.env,
            files: &self.files,
            profiles: &self.profiles,
            provider_config: self.setup.provider_config(&self.region),
            timeout: self.setup.timeout,
        }
    }
}

/// `ses-doctor regions [--check]`.
async fn regions_cmd(cli: &Cli, check: bool, printer: &Printer) -> anyhow::Result<ExitCode> {
    let scan = if check {
        let g = &cli.global;
        check_profile_flags(g)?;
        let c = Configured::load(g).await?;
        let resolver = c.resolver();
        // The admin credentials when given: a send-only user may not list identities.
        let lookup = match resolver.admin(g.admin_profile.as_deref()).await? {
            Some(admin) => admin,
            None => resolver.sending(None, g.profile.as_deref()).await?,
        };
        let key = lookup.key.map_err(|reason| {
            Failure::usage(format!(
                "--check needs credentials: {} ({reason})",
                lookup.detail
            ))
        })?;
        let config = c.setup.sdk_config(&key).await;
        let regions: Vec<_> = crate::region_list::ses_regions()
            .filter(|r| !r.name.starts_with("us-gov-"))
            .collect();
        printer.debug(&format!("scanning {} regions", regions.len()));
        Some(crate::diagnose::region::scan(&config, &regions, c.setup.timeout).await)
    } else {
        None
    };
    let list = crate::region_list::build(scan.as_deref());
    match printer.format {
        OutputFormat::Human => printer.stdout(&crate::region_list::render_human(&list)),
        OutputFormat::Json => printer.stdout(&(serde_json::to_string_pretty(&list)? + "\n")),
    }
    Ok(ExitCode::Clean)
}

/// The test email's options, with the SMTP password read as a secret (never from argv). The
/// arguments were checked by [`check_diagnose_args`].
fn test_email_options(args: &DiagnoseArgs, stdin_taken: bool) -> Result<TestEmailOptions, Failure> {
    let endpoint = args
        .smtp_endpoint
        .as_deref()
        .map(validate::smtp_endpoint)
        .transpose()?;
    let via_smtp = args.via == ViaArg::Smtp;
    let password = match (&args.smtp_username, via_smtp) {
        (Some(_), false) => {
            return Err(Failure::usage("--smtp-username is for --via smtp"));
        }
        (Some(user), true) => {
            if std::env::var("SES_DOCTOR_SMTP_PASSWORD").is_ok_and(|v| !v.is_empty())
                || !stdin_taken
            {
                Some(
                    secret_input::read(
                        "SES_DOCTOR_SMTP_PASSWORD",
                        &format!("SMTP password for {user} (hidden)"),
                    )?
                    .secret,
                )
            } else {
                return Err(Failure::usage(
                    "stdin carries the secret of --access-key-id: give the SMTP password in SES_DOCTOR_SMTP_PASSWORD",
                ));
            }
        }
        (None, _) => None,
    };
    Ok(TestEmailOptions {
        via: if via_smtp { Via::Smtp } else { Via::Api },
        to: args.to.clone(),
        no_send: args.no_send,
        smtp: SmtpOptions {
            endpoint,
            port: args.smtp_port,
            tls: args.smtp_tls.map(|t| match t {
                SmtpTlsArg::Starttls => TlsMode::StartTls,
                SmtpTlsArg::Wrapper => TlsMode::Wrapper,
            }),
            ca_file: args.smtp_ca_file.clone(),
            username: args.smtp_username.clone(),
            password,
        },
    })
}

/// `diagnose`'s arguments, each checked on its own and against the others (see
/// `validate.rs` for what each refuses). Nothing is read or asked for here but the CA file.
fn check_diagnose_args(args: &DiagnoseArgs) -> Result<(), Failure> {
    if let Some(id) = &args.access_key_id {
        validate::access_key_id(id)?;
    }
    if let Some(list) = &args.regions {
        validate::regions(list)?;
        regions_to_scan(Some(list), None)?;
    }
    if let Some(from) = &args.from {
        validate::email_address(from, "--from")?;
    }
    validate::email_address(&args.to, "--to")?;
    if let Some(name) = &args.write_profile {
        validate::profile_name(name, "--write-profile")?;
    }
    if let Some(out) = &args.credentials_out {
        validate::new_file(out)?;
    }
    if let Some(name) = &args.user_name {
        validate::user_name(name)?;
    }
    check_smtp_args(args)
}

/// The `--smtp-*` options: for `--via smtp` only, and each a value SES (or the server named by
/// `--smtp-endpoint`) can take.
fn check_smtp_args(args: &DiagnoseArgs) -> Result<(), Failure> {
    if args.via != ViaArg::Smtp {
        let given = [
            ("--smtp-username", args.smtp_username.is_some()),
            ("--smtp-port", args.smtp_port.is_some()),
            ("--smtp-endpoint", args.smtp_endpoint.is_some()),
            ("--smtp-tls", args.smtp_tls.is_some()),
            ("--smtp-ca-file", args.smtp_ca_file.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
            return Err(Failure::usage(format!(
                "{flag} is for --via smtp (without it the test email goes through the SES API)"
            )));
        }
        return Ok(());
    }
    // The SMTP password would be read from stdin, which already carries the pasted secret.
    let smtp_password_set = std::env::var("SES_DOCTOR_SMTP_PASSWORD").is_ok_and(|v| !v.is_empty());
    if args.smtp_username.is_some() && args.access_key_id.is_some() && !smtp_password_set {
        return Err(Failure::usage(
            "stdin carries the secret of --access-key-id: give the SMTP password in SES_DOCTOR_SMTP_PASSWORD",
        ));
    }
    let endpoint = args
        .smtp_endpoint
        .as_deref()
        .map(validate::smtp_endpoint)
        .transpose()?;
    if let Some(port) = args.smtp_port {
        validate::smtp_port(port, endpoint.as_ref())?;
    }
    if let Some(ca) = &args.smtp_ca_file {
        validate::ca_file(ca)?;
    }
    Ok(())
}

/// `--profile` and `--admin-profile`: names the SDK can find a profile by.
fn check_profile_flags(g: &crate::cli::GlobalOpts) -> Result<(), Failure> {
    if let Some(name) = &g.profile {
        validate::profile_name(name, "--profile")?;
    }
    if let Some(name) = &g.admin_profile {
        validate::profile_name(name, "--admin-profile")?;
    }
    Ok(())
}

/// `--endpoint-url`, and the `AWS_ENDPOINT_URL*` variables the SDK would read: checked before
/// the SDK sees them, so a bad one is named instead of surfacing as an SDK error.
fn check_endpoints(g: &crate::cli::GlobalOpts) -> Result<(), Failure> {
    match &g.endpoint_url {
        // The flag wins over the variables (they are then not used).
        Some(url) => validate::endpoint_url(url, "--endpoint-url"),
        None => validate::endpoint_variables(),
    }
}

async fn smtp_password_cmd(
    cli: &Cli,
    args: &SmtpPasswordArgs,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    check_profile_flags(&cli.global)?;
    let env = Environment::capture();
    let profiles = SharedFiles::read(&env)?
        .profiles(cli.global.profile.as_deref())
        .await?;
    let region = aws_setup::resolve_region(
        cli.global.region.as_deref(),
        cli.global.profile.as_deref(),
        &env,
        &profiles,
    )?
    .raw
    .ok_or_else(|| Failure::usage("--region is required: SMTP passwords are derived per region"))?;
    match regions::lookup(&region) {
        Some(entry) if !entry.ses => {
            return Err(Failure::usage(format!(
                "Amazon SES is not offered in {region}; `ses-doctor regions` lists SES regions"
            ))
            .into())
        }
        Some(_) => {}
        None if regions::is_region_shaped(&region) => {
            printer.note(&format!(
                "note: {region} is not in ses-doctor's list of SES regions; deriving anyway"
            ));
        }
        None => {
            let hint = regions::suggest(&region)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(Failure::usage(format!(
                "the region '{region}' is not an AWS region name{hint}"
            ))
            .into());
        }
    }
    let input = if args.from_env {
        let v = std::env::var("SES_DOCTOR_SECRET_ACCESS_KEY")
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Failure::usage("--from-env: SES_DOCTOR_SECRET_ACCESS_KEY is not set"))?;
        crate::secret::Secret::new(v)
    } else {
        secret_input::read("SES_DOCTOR_SECRET_ACCESS_KEY", "Secret access key (hidden)")?.secret
    };
    // A wrong secret gives a wrong password silently: refuse anything that is not a secret key.
    let key = AccessKey {
        id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: input,
        session_token: None,
    };
    if let Some(problem) = local::key_findings(&key).into_iter().next() {
        return Err(Failure::usage(format!("{} ({})", problem.title, problem.code)).into());
    }
    if let Some(source) = temporary_source(&key.secret, &env, &profiles) {
        return Err(Failure::usage(format!(
            "this secret belongs to temporary credentials ({source}): SES's SMTP interface does \
             not accept a password derived from them, so none is printed; derive it from an IAM \
             user's long-term (AKIA) key ({})",
            crate::codes::Code::SmtpCredentialsTemporary
        ))
        .into());
    }
    let password = smtp_password::derive(&key.secret, &region);
    match printer.format {
        OutputFormat::Human => {
            let host = regions::lookup(&region)
                .and_then(|r| r.smtp_host())
                .unwrap_or_else(|| format!("email-smtp.{region}.amazonaws.com"));
            printer.note(&format!(
                "SES SMTP password for {region} (user name: the access key ID; server {host}, port 587 STARTTLS):"
            ));
            printer.secret_line(&password);
        }
        OutputFormat::Json => {
            let doc = serde_json::json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "region": region,
                "smtp_endpoint": format!("email-smtp.{region}.amazonaws.com"),
                "smtp_password": password.expose(),
            });
            printer.stdout(&format!("{doc}\n"));
        }
    }
    Ok(ExitCode::Clean)
}

/// Where `secret` is the secret of temporary credentials (an ASIA key, or one with a session
/// token) that the environment or a profile holds, that place, said in words. The pasted secret
/// alone cannot tell; the credentials it was copied from can.
fn temporary_source(
    secret: &crate::secret::Secret,
    env: &Environment,
    profiles: &aws_config::profile::ProfileSet,
) -> Option<String> {
    let temporary = |id: Option<&str>, token: Option<&str>| {
        id.is_some_and(|id| id.starts_with("ASIA")) || token.is_some_and(|t| !t.is_empty())
    };
    if env.get("AWS_SECRET_ACCESS_KEY") == Some(secret.expose())
        && temporary(env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SESSION_TOKEN"))
    {
        return Some("AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN or an ASIA key ID".into());
    }
    profiles.profiles().find_map(|name| {
        let p = profiles.get_profile(name)?;
        (p.get("aws_secret_access_key") == Some(secret.expose())
            && temporary(p.get("aws_access_key_id"), p.get("aws_session_token")))
        .then(|| format!("profile '{name}', with a session token or an ASIA key ID"))
    })
}

/// `ses-doctor explain <code or error text>`: offline. Exit 0 when the text is recognised, 1 when
/// not (the answer then suggests `ses-doctor diagnose`), 2 for empty input.
fn explain_cmd(text: &[String], printer: &Printer) -> anyhow::Result<ExitCode> {
    let input = crate::explain::read_input(text)?;
    let explanation = crate::explain::explain(&input);
    match printer.format {
        OutputFormat::Json => printer.stdout(&crate::explain::render_json(&explanation)),
        OutputFormat::Human => {
            printer.stdout(&crate::explain::render_human(&explanation, printer.color()))
        }
    }
    Ok(crate::explain::exit_code(&explanation))
}
