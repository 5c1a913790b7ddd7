//! The command line of api.md: clap's definitions and the dispatch to one file per
//! command. Exit codes: 0 success, 2 bad input (one line on stderr), 1 any other failure.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::domain::{OrgKind, Role};
use support::CliError;

mod apikey;
mod bench;
mod billing;
mod credit;
mod import;
mod org;
mod serve;
mod support;
mod suppress;
mod user;

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
    /// Import a lead CSV for an agency through the same intake as an upload.
    Import(ImportArgs),
    /// Add the phones and emails of a file (one per line) to the suppression list; their
    /// open leads are withdrawn at once.
    Suppress {
        file: std::path::PathBuf,
        /// `opt_out` or `do_not_call`.
        #[arg(long, default_value = "opt_out")]
        reason: String,
        /// Country of phones in national form.
        #[arg(long)]
        country: Option<String>,
    },
    /// Buyer credit.
    Credit {
        #[command(subcommand)]
        command: CreditCommand,
    },
    /// Invoices and statements.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// Measure throughput on a fresh database.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum CreditCommand {
    /// Set a buyer's credit limit.
    Set {
        #[arg(long)]
        org: String,
        #[arg(long)]
        limit_cents: i64,
    },
}

#[derive(Subcommand)]
enum BillingCommand {
    /// Build draft invoices (per buyer) and statements (per agency) from what is not
    /// billed yet, up to the end of the period (default: last month).
    Run {
        /// The month to bill, e.g. 2026-11.
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Catalogue latency (p50/p99, first and deep pages) and purchase throughput.
    Market {
        #[arg(long, default_value_t = 100_000)]
        leads: usize,
        /// Keep the seeded database afterwards (to look at query plans).
        #[arg(long)]
        keep: bool,
        /// Then import as many CSV rows through intake into a fresh database and have 16
        /// buyers buy by one shared filter (`quantity` 1, then 10) over HTTP.
        #[arg(long)]
        crowd: bool,
        /// The crowd's time limit for each `quantity`, in seconds.
        #[arg(long, default_value_t = 10)]
        crowd_seconds: u64,
    },
    /// POST /leads latency to the committed sale (p50/p99) and posts/s, with 1,000 active
    /// standing orders and N leads stored.
    Orders {
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
        /// Concurrent clients posting single leads.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// How long they post, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// POST /ping latency (p50/p99) and pings/s, with 1,000 active standing orders
    /// bidding and N leads stored.
    Ping {
        #[arg(long, default_value_t = 100_000)]
        leads: usize,
        /// Concurrent clients pinging.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// How long they ping, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// GET /funnel latency (p50/p99 per grouping) for one agency with N leads in batches
    /// uploaded over the last 90 days, after the rollup's first count (timed too).
    Funnel {
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
    },
    /// Intake rows/s and peak memory: N generated rows (10% bad, 5% duplicates) end to end.
    Intake {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Then time the database alone storing the same leads (`INSERT ... SELECT` into
        /// the emptied table): the ceiling intake works under.
        #[arg(long)]
        ceiling: bool,
    },
}

#[derive(clap::Args)]
struct ImportArgs {
    file: std::path::PathBuf,
    #[arg(long)]
    agency: String,
    #[arg(long)]
    segment: Option<String>,
    #[arg(long)]
    channel: Option<String>,
    #[arg(long)]
    price_cents: Option<i64>,
    #[arg(long)]
    max_sales: Option<i32>,
    /// consumer (default) or targeted
    #[arg(long)]
    kind: Option<String>,
    /// The buyer's order, for a targeted batch.
    #[arg(long)]
    order: Option<String>,
    /// per_lead (default) or per_action
    #[arg(long)]
    billing: Option<String>,
    #[arg(long)]
    action_price_cents: Option<i64>,
    #[arg(long)]
    consent_text: Option<String>,
    /// Visitors behind this file, for the funnel's first step.
    #[arg(long)]
    traffic: Option<i64>,
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
    /// Disable a user: no more sign-ins, and their open sessions end at once.
    Disable {
        #[arg(long)]
        email: String,
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

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve => serve::serve(
            support::config(crate::config::MissingSecrets::GenerateForSqlite)?,
            None,
        ),
        Command::Migrate => serve::migrate(),
        Command::Demo => serve::demo(),
        Command::Org {
            command: OrgCommand::Create { kind, name, slug },
        } => org::create(kind, name, slug),
        Command::User {
            command:
                UserCommand::Create {
                    org,
                    email,
                    role,
                    name,
                    password_stdin: _,
                },
        } => user::create(org, email, role, name),
        Command::User {
            command: UserCommand::Disable { email },
        } => user::disable(email),
        Command::Import(args) => import::run(args),
        Command::Suppress {
            file,
            reason,
            country,
        } => suppress::run(file, reason, country),
        Command::Credit {
            command: CreditCommand::Set { org, limit_cents },
        } => credit::set(org, limit_cents),
        Command::Billing {
            command: BillingCommand::Run { period },
        } => billing::run(period),
        Command::Bench {
            command:
                BenchCommand::Market {
                    leads,
                    keep,
                    crowd,
                    crowd_seconds,
                },
        } => bench::market(leads, keep, crowd.then_some(crowd_seconds)),
        Command::Bench {
            command: BenchCommand::Intake { rows, ceiling },
        } => bench::intake(rows, ceiling),
        Command::Bench {
            command: BenchCommand::Funnel { leads },
        } => bench::funnel(leads),
        Command::Bench {
            command:
                BenchCommand::Orders {
                    leads,
                    clients,
                    seconds,
                },
        } => bench::orders(leads, clients, seconds),
        Command::Bench {
            command:
                BenchCommand::Ping {
                    leads,
                    clients,
                    seconds,
                },
        } => bench::ping(leads, clients, seconds),
        Command::Apikey {
            command: ApikeyCommand::Create { org, name },
        } => apikey::create(org, name),
    }
}
