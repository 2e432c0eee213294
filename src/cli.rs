//! The command line, as clap derives it. Values are parsed here; what they mean is decided in
//! `run.rs` and `aws_setup.rs`.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ses-doctor",
    version,
    about = "Finds the real cause of Amazon SES credential errors, fixes it with your consent, and proves the fix with a test email",
    long_about = None,
    after_help = "Exit codes: 0 nothing wrong remains, 1 problems remain, 2 bad usage or input, 3 the diagnosis could not complete, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Profile with the sending credentials (the ones the mailer uses); default: AWS_PROFILE, then "default". A profile name is letters, digits and _-/.%@:+
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Profile with credentials allowed to inspect IAM and apply fixes; default: the sending credentials. A profile name is letters, digits and _-/.%@:+
    #[arg(long, global = true, value_name = "NAME")]
    pub admin_profile: Option<String>,
    /// Region the mailer sends through; default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint (an emulator or a proxy): an http:// or https:// URL with a host and an optional port, without user:password@. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work, and are checked the same way
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Report format
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Apply every proposed fix with its defaults, without prompting
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Show every change that would be made, and make none
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// When to use colour (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More detail on stderr (each step as it starts, the credentials source)
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Seconds each AWS call may take before it is reported as unreachable (1-300)
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk the fix flow: local checks, identity, region, permissions, access key, IAM user, test email
    Diagnose(Box<DiagnoseArgs>),
    /// Derive the SES SMTP password from a secret access key (read from a hidden prompt or stdin)
    SmtpPassword(SmtpPasswordArgs),
    /// Explain a finding code or a pasted error message (offline)
    Explain {
        /// A finding code, an AWS error code, or the error text itself
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// List the SES regions with their endpoints and ports, which are opt-in, and (--check) the account's status in each
    Regions {
        /// Add the account's status per region (production access, sending, identities), using the credentials
        #[arg(long)]
        check: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `ses-doctor man > ses-doctor.1`
    Man,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Test this access key ID instead of the profile's credentials; the secret is read from
    /// SES_DOCTOR_SECRET_ACCESS_KEY, stdin, or a hidden prompt (never from the command line). An
    /// ID that is not AKIA or ASIA and 16 letters A-Z and digits 2-7 is refused, with the
    /// character at fault named
    #[arg(long, value_name = "AKIA...")]
    pub access_key_id: Option<String>,
    /// Scan only these SES regions (comma-separated); default: every SES region
    #[arg(long, value_name = "REGION,...", value_delimiter = ',')]
    pub regions: Option<Vec<String>>,
    /// The address the mailer sends from, checked against the verified identities. A bare address
    /// (name@example.com): a display name ("Shop <shop@example.com>") is refused, not parsed; ASCII
    /// only, as SES takes it (an internationalised domain in its xn-- form)
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// What to grant when the user may not send
    #[arg(long, value_enum, default_value_t = PolicyArg::SendOnly)]
    pub policy: PolicyArg,
    /// Save a new access key into this profile of the credentials file; default: the profile in use
    #[arg(long, value_name = "NAME")]
    pub write_profile: Option<String>,
    /// Also (or instead) save a new access key into this new file (mode 0600), with its SMTP password; never an existing file, a link or a directory
    #[arg(long, value_name = "FILE")]
    pub credentials_out: Option<std::path::PathBuf>,
    /// Rotate the access key in use: create a new one, save it, prove it works
    #[arg(long)]
    pub rotate_key: bool,
    /// Under --yes, allow deleting a key to make room for a new one (never the key in use)
    #[arg(long)]
    pub delete_old_key: bool,
    /// Under --yes, deactivate the user's other active key once the new one works
    #[arg(long)]
    pub deactivate_old_key: bool,
    /// The IAM user to create (or get a new key for); default for a new user: ses-sender
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// Create a dedicated IAM user for sending, with permission and a new key
    #[arg(long)]
    pub new_user: bool,
    /// Use an existing IAM user of --user-name instead of refusing it
    #[arg(long)]
    pub reuse_user: bool,
    /// How the test email is sent: the SES API, or SMTP as a mailer does
    #[arg(long, value_enum, default_value_t = ViaArg::Api)]
    pub via: ViaArg,
    /// Recipient of the test email (the default works in the sandbox and delivers nothing). One
    /// bare address, as for --from
    #[arg(
        long,
        value_name = "ADDRESS",
        default_value = "success@simulator.amazonses.com"
    )]
    pub to: String,
    /// Do not send the test email
    #[arg(long)]
    pub no_send: bool,
    /// With --via smtp: the port at SES's endpoint, 587, 25 or 2587 (STARTTLS), 465 or 2465 (TLS wrapper); another server's port goes in --smtp-endpoint
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub smtp_port: Option<u16>,
    /// With --via smtp: another SMTP server (a test server, a private relay) instead of SES's endpoint, any port; an IPv6 host in brackets, [::1]:2525
    #[arg(long, value_name = "HOST:PORT")]
    pub smtp_endpoint: Option<String>,
    /// With --via smtp: the TLS mode at the SMTP server; default: from the port (465 and 2465 are TLS wrapper)
    #[arg(long, value_enum)]
    pub smtp_tls: Option<SmtpTlsArg>,
    /// With --via smtp: a file with the PEM certificate (-----BEGIN CERTIFICATE-----) of a CA to trust for the SMTP server, besides the system's
    #[arg(long, value_name = "FILE")]
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// The mailer's SMTP user name; its password is read from SES_DOCTOR_SMTP_PASSWORD, stdin or a hidden prompt
    #[arg(long, value_name = "AKIA...")]
    pub smtp_username: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ViaArg {
    Api,
    Smtp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SmtpTlsArg {
    Starttls,
    Wrapper,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// An inline policy allowing only ses:SendEmail and ses:SendRawEmail on the verified identities (AWS's least-privilege guidance for a sender)
    SendOnly,
    /// Attach AWS's managed AmazonSESFullAccess policy (what older guides advise; also lets a mailer's connection test read SES)
    FullAccess,
}

#[derive(Debug, Args)]
pub struct SmtpPasswordArgs {
    /// Read the secret access key from SES_DOCTOR_SECRET_ACCESS_KEY instead of stdin or a prompt
    #[arg(long)]
    pub from_env: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
