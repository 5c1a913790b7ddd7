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
                crate::demo::seed_if_empty(&mut conn, &config, &mut std::io::stdout())?
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
        Command::User {
            command: UserCommand::Disable { email },
        } => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let user = accounts::disable_user(&mut *connection(&config)?, &email)?;
            println!("disabled {}", user.email);
            Ok(())
        }
        Command::Import(args) => import(args),
        Command::Suppress {
            file,
            reason,
            country,
        } => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
            let entries: Vec<&str> = text.lines().collect();
            let outcome = crate::services::suppression::add(
                &mut *connection(&config)?,
                &entries,
                &reason,
                country.as_deref(),
                "import",
            )?;
            println!(
                "{} added, {} already listed, {} open leads withdrawn, {} not recognised",
                outcome.added,
                outcome.already,
                outcome.withdrawn,
                outcome.invalid.len()
            );
            Ok(())
        }
        Command::Credit {
            command: CreditCommand::Set { org, limit_cents },
        } => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            crate::services::market::set_credit_limit(
                &mut *connection(&config)?,
                &org,
                limit_cents,
            )?;
            println!(
                "credit limit of {org} set to {limit_cents} minor units of {}",
                config.currency
            );
            Ok(())
        }
        Command::Billing {
            command: BillingCommand::Run { period },
        } => {
            let config = config(MissingSecrets::GenerateForSqlite)?;
            let period = match period {
                Some(p) => crate::domain::billing::Period::parse(&p).map_err(CliError::Input)?,
                None => crate::domain::billing::Period::previous(crate::store::now()),
            };
            let summary = crate::services::billing::run(
                &mut *connection(&config)?,
                &(&config).into(),
                period,
            )?;
            println!(
                "billing run for {}: {} draft invoice(s) to review, {} agency statement(s)",
                period.code(),
                summary.drafts,
                summary.statements
            );
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Market { leads, keep },
        } => {
            let config = config(MissingSecrets::Generate)?;
            let r = crate::bench::market(&config, &config.database_url, leads, keep)
                .map_err(CliError::Other)?;
            println!(
                "market on {} with {} leads (seeded in {:.1} s): catalogue first page p50 {:.1} ms p99 {:.1} ms; deep page (21st) p50 {:.1} ms p99 {:.1} ms; purchases {:.0}/s with 16 buyers ({} bought, {} refused)",
                if config.database_url.is_postgres() {
                    "PostgreSQL"
                } else {
                    "SQLite"
                },
                r.leads,
                r.seed_seconds,
                r.first_page_ms.0,
                r.first_page_ms.1,
                r.deep_page_ms.0,
                r.deep_page_ms.1,
                r.purchases_per_second,
                r.purchase_outcomes.0,
                r.purchase_outcomes.1
            );
            if let Some(kept) = r.kept {
                println!("the database is kept: {kept}");
            }
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Intake { rows, ceiling },
        } => {
            let config = config(MissingSecrets::Generate)?;
            let report = crate::bench::intake(&config, &config.database_url, rows, ceiling)
                .map_err(CliError::Other)?;
            println!(
                "intake on {}: {} rows in {:.2} s = {:.0} rows/s ({} accepted, {} rejected, {} duplicates); peak RSS {}",
                if config.database_url.is_postgres() {
                    "PostgreSQL"
                } else {
                    "SQLite"
                },
                report.rows,
                report.seconds,
                report.rows as f64 / report.seconds,
                report.accepted,
                report.rejected,
                report.duplicates,
                report
                    .peak_rss_mb
                    .map(|m| format!("{m:.0} MB"))
                    .unwrap_or_else(|| "unknown".into())
            );
            match report.ceiling {
                Some(c) if c.leads > 0 => {
                    let leads_per_s = c.leads as f64 / c.seconds;
                    // Input rows/s the database alone would allow at this run's acceptance.
                    let rows_per_s = leads_per_s * report.rows as f64 / c.leads as f64;
                    println!(
                        "the database alone stored the {} leads in {:.2} s = {:.0} leads/s, {:.0} input rows/s at this acceptance; intake ran at {:.0}% of that",
                        c.leads,
                        c.seconds,
                        leads_per_s,
                        rows_per_s,
                        100.0 * (report.rows as f64 / report.seconds) / rows_per_s
                    );
                }
                Some(_) => {
                    println!("no lead was accepted: nothing for the database alone to store")
                }
                None => {}
            }
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

/// Counts bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

fn import(args: ImportArgs) -> Result<(), CliError> {
    use crate::services::intake::{self, BatchInput, RunError};
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let open = || {
        std::fs::File::open(&args.file)
            .map_err(|e| CliError::Input(format!("cannot open {}: {e}", args.file.display())))
    };
    let size = open()?.metadata().map(|m| m.len()).unwrap_or(0);
    let mut conn = connection(&config)?;
    let agency = lookup_org(&mut conn, &args.agency)?;
    if agency.kind != "agency" {
        return Err(CliError::Input(format!(
            "`{}` is a {} organisation, not an agency",
            agency.slug, agency.kind
        )));
    }
    let input = BatchInput {
        kind: args.kind,
        order_id: args.order,
        segment: args.segment,
        channel: args.channel,
        price_cents: args.price_cents,
        max_sales: args.max_sales,
        billing: args.billing,
        action_price_cents: args.action_price_cents,
        consent_text: args.consent_text,
    };
    let filename = args
        .file
        .file_name()
        .map(|f| f.to_string_lossy().to_string());
    let batch = intake::prepare_batch(
        &mut conn,
        &agency.id,
        &input,
        "import",
        filename.as_deref(),
        None,
    )?;
    intake::check_file_header(&batch, open()?)?;
    let worker = format!("import-{}", std::process::id());
    crate::store::batches::insert(&mut conn, &batch).map_err(|e| CliError::Other(e.into()))?;
    crate::store::batches::hold(&mut conn, &batch.id, &worker, crate::jobs::LEASE)
        .map_err(|e| CliError::Other(e.into()))?;

    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let source = Counted {
        inner: std::io::BufReader::with_capacity(1 << 20, open()?),
        read: read.clone(),
    };
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} · {msg} · ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut rows = 0i64;
    let result = intake::run_file(&mut conn, &config.intake, &batch, source, |conn, counts| {
        rows += i64::from(counts.rows);
        let rate = rows as f64 / started.elapsed().as_secs_f64().max(0.001);
        bar.set_position(read.load(std::sync::atomic::Ordering::Relaxed));
        bar.set_message(format!("{rows} rows · {rate:.0} rows/s"));
        Ok(crate::store::batches::renew_lease(
            conn,
            &batch.id,
            &worker,
            crate::jobs::LEASE,
        )?)
    });
    bar.finish_and_clear();
    match result {
        Ok(_) => {}
        Err(RunError::Unusable(reason)) => {
            let _ = crate::store::batches::fail(&mut conn, &batch.id, &reason);
            return Err(CliError::Input(reason));
        }
        Err(RunError::LeaseLost) => {
            return Err(CliError::Other(anyhow::anyhow!(
                "another process took over this batch"
            )));
        }
        Err(RunError::App(e)) => {
            let _ = crate::store::batches::fail(
                &mut conn,
                &batch.id,
                "the import failed; rows counted so far are kept",
            );
            return Err(e.into());
        }
    }
    let done =
        crate::store::batches::find(&mut conn, &batch.id).map_err(|e| CliError::Other(e.into()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "batch {}: {} rows in {secs:.1} s ({:.0} rows/s): {} accepted, {} rejected, {} duplicates, {} suppressed",
        done.id,
        done.rows_total,
        f64::from(done.rows_total) / secs.max(0.001),
        done.accepted,
        done.rejected,
        done.duplicates,
        done.suppressed
    );
    if done.accepted < done.rows_total {
        let mut path = args.file.clone().into_os_string();
        path.push(".rejects.csv");
        let path = std::path::PathBuf::from(path);
        let file = std::fs::File::create(&path).map_err(|e| CliError::Other(e.into()))?;
        let n = intake::write_rejects(&mut conn, &done, std::io::BufWriter::new(file))?;
        println!(
            "{n} rows not accepted, with their reasons, are in {}",
            path.display()
        );
    }
    Ok(())
}
