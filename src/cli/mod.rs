//! The command line of api.md. Exit codes: 0 success, 2 bad input (one line on stderr),
//! 1 any other failure.

use std::io::BufRead as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::Application;
use crate::config::{Config, MissingSecrets};
use crate::db::{self, AnyConnection};
use crate::domain::password::NewPassword;
use crate::domain::{OrgKind, Role};
use crate::error::AppError;
use crate::services::accounts;

#[derive(Parser)]
#[command(
    name = "leadmarket",
    version,
    about = "An open-source lead-generation marketplace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve HTTP on BIND.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Migrate, seed demo data if the database is empty, print the logins, and serve.
    Demo,
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation and print its slug.
    Create {
        #[arg(long, value_parser = parse_kind)]
        kind: OrgKind,
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of stdin.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from stdin (the default; kept for scripts that say so).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create an API key and print it once.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: Option<String>,
    },
}

fn parse_kind(s: &str) -> Result<OrgKind, String> {
    s.parse::<OrgKind>().and_then(|k| match k {
        OrgKind::Platform => Err("organisations created here are `agency` or `buyer`".into()),
        k => Ok(k),
    })
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Failures the CLI reports: bad input exits 2, the rest 1.
enum CliError {
    Input(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Other(e)
    }
}

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(problems) => CliError::Input(
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.problem))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            AppError::Conflict { message, .. } | AppError::BadRequest(message) => {
                CliError::Input(message)
            }
            AppError::Internal(e) => CliError::Other(e),
            other => CliError::Other(anyhow::anyhow!(other.to_string())),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::init_tracing();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn config(missing: MissingSecrets) -> Result<Config, CliError> {
    Config::from_env(missing).map_err(|e| CliError::Input(format!("{:#}", anyhow::Error::from(e))))
}

/// A migrated connection for one-shot commands.
fn connection(config: &Config) -> Result<db::PooledConn, CliError> {
    let pool = db::connect_pool(&config.database_url, 1).map_err(|e| CliError::Other(e.into()))?;
    let mut conn = pool.get().map_err(|e| CliError::Other(e.into()))?;
    db::run_migrations(&mut conn).map_err(|e| CliError::Other(e.into()))?;
    Ok(conn)
}

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve => serve(config(MissingSecrets::GenerateForSqlite)?, None),
        Command::Migrate => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let pool =
                db::connect_pool(&config.database_url, 1).map_err(|e| CliError::Other(e.into()))?;
            let mut conn = pool.get().map_err(|e| CliError::Other(e.into()))?;
            let applied = db::run_migrations(&mut conn).map_err(|e| CliError::Other(e.into()))?;
            println!(
                "{applied} migration(s) applied; the database {} is current",
                config.database_url.redacted()
            );
            Ok(())
        }
        Command::Demo => {
            let config = config(MissingSecrets::Generate)?;
            let logins = {
                let mut conn = connection(&config)?;
                crate::demo::seed_if_empty(&mut conn, &mut std::io::stdout())?
            };
            serve(config, Some(logins))
        }
        Command::Org {
            command: OrgCommand::Create { kind, name, slug },
        } => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let org = accounts::create_organisation(
                &mut *connection(&config)?,
                kind,
                &name,
                slug.as_deref(),
            )?;
            println!("{}", org.slug);
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    org,
                    email,
                    role,
                    name,
                    password_stdin: _,
                },
        } => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                CliError::Input(format!("cannot read the password from stdin: {e}"))
            })?;
            let password =
                NewPassword::parse(line.trim_end_matches(['\r', '\n'])).map_err(CliError::Input)?;
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let user = accounts::create_user(
                &mut *connection(&config)?,
                &org,
                &email,
                name.as_deref(),
                role,
                &password,
            )?;
            println!("created {} ({}) in {org}", user.email, user.role);
            Ok(())
        }
        Command::Apikey {
            command: ApikeyCommand::Create { org, name },
        } => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let mut conn = connection(&config)?;
            let org = lookup_org(&mut conn, &org)?;
            let key = accounts::create_api_key(
                &mut conn,
                &org.id,
                name.as_deref().unwrap_or("API key"),
                None,
            )?;
            println!("{}", key.secret);
            eprintln!(
                "This key is shown once; it is stored hashed. Exchange it at POST /api/v1/auth/token."
            );
            Ok(())
        }
    }
}

fn lookup_org(
    conn: &mut AnyConnection,
    slug: &str,
) -> Result<crate::store::organisations::OrganisationRow, CliError> {
    crate::store::organisations::find_by_slug(conn, slug).map_err(|e| match e {
        diesel::result::Error::NotFound => {
            CliError::Input(format!("no organisation with slug `{slug}`"))
        }
        other => CliError::Other(other.into()),
    })
}

fn serve(config: Config, demo_logins: Option<String>) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(e.into()))?;
    runtime.block_on(async move {
        let public_url = config.public_url.clone();
        tracing::info!(database = %config.database_url.redacted(), bind = %config.bind, "starting");
        let app = Application::build(config)?;
        if let Some(logins) = demo_logins {
            println!(
                "\nleadmarket demo is running at {public_url}\n\n{logins}\nPress Ctrl+C to stop."
            );
        } else {
            println!("leadmarket is serving at {public_url}");
        }
        app.run_until_stopped().await.map_err(anyhow::Error::from)?;
        Ok(())
    })
}
