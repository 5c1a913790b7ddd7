//! Typed configuration, read once from the environment and passed through `AppState`.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | `leadmarket.db` | `postgres://user:pass@host/db` for PostgreSQL, or a SQLite file path (`sqlite://path` also accepted) |
//! | `BIND` | `127.0.0.1:8080` | address and port `serve` listens on |
//! | `PUBLIC_URL` | `http://<BIND>` | the URL people reach the site at; `https://` makes the session cookie `Secure` |
//! | `SECRET_KEY` | generated on SQLite | at least 32 characters; signs and encrypts session cookies. Every `serve` process of one site must share it. Required on PostgreSQL |
//! | `JWT_SECRET` | generated on SQLite | at least 32 characters; HS256 key of API access tokens. Required on PostgreSQL |
//! | `JWT_ISSUER` | `leadmarket` | `iss` claim written and checked |
//! | `JWT_AUDIENCE` | `leadmarket-api` | `aud` claim written and checked |
//! | `TOKEN_TTL_SECONDS` | `900` | access token lifetime, 60 to 900 |
//! | `SESSION_TTL_HOURS` | `12` | how long a login lasts |
//! | `DB_POOL_SIZE` | `10` | connections per process |
//! | `WORKERS` | number of cores | HTTP worker threads |
//! | `LOGIN_MAX_FAILURES` | `5` | failed logins allowed per account within the window |
//! | `LOGIN_ADDRESS_MAX_FAILURES` | `50` | failed logins allowed per IP address within the window, over all accounts (an office behind one NAT shares it); also the limit of password-reset requests per address |
//! | `LOGIN_WINDOW_SECONDS` | `60` | the throttle window |
//! | `API_AUTH_MAX_FAILURES` | `10` | wrong API keys (`POST /api/v1/auth/token`), and separately wrong postback tokens, allowed per client address within the window; then 429 |
//! | `API_AUTH_WINDOW_SECONDS` | `600` | that window |
//! | `CALLBACK_ALLOW_PRIVATE` | `false` | let standing orders call back over http and to loopback or private addresses (development, tests and the demo's own receiver); never in production |
//! | `CALLBACK_TIMEOUT_MS` | `5000` | how long a standing order's callback may take (connect and answer) before it counts as failed and is retried |
//! | `TRUST_PROXY_HEADERS` | `false` | take the client address from `X-Forwarded-For` (only behind your own load balancer) |
//! | `CURRENCY` | `EUR` | ISO 4217 code of the one currency all money is kept in |
//! | `PLATFORM_COMMISSION_BP` | `2000` | the platform's share of each sale in basis points (2000 = 20%) |
//! | `DEDUP_DAYS` | `30` | a lead whose phone or email was captured this recently is a duplicate |
//! | `MAX_CAPTURE_AGE_DAYS` | `90` | older captures are rejected |
//! | `BOT_FORM_SECONDS` / `FAST_FORM_SECONDS` | `2` / `5` | forms filled faster are rejected as bots / flagged as fast |
//! | `IP_BURST_MAX` / `IP_BURST_MINUTES` | `5` / `10` | more leads than this from one IP address within the minutes are flagged |
//! | `INTAKE_CHUNK_ROWS` | `5000` | rows parsed and checked together during intake |
//! | `INTAKE_COMMIT_ROWS` | `20000` | rows committed per transaction during intake (whole chunks) |
//! | `INTAKE_SQLITE_CACHE_KIB` | `65536` | SQLite page cache of the connection writing a batch |
//! | `UPLOAD_MAX_MB` | `1024` | largest CSV upload |
//! | `JOB_POLL_MS` | `1000` | how often background workers look for work |
//! | `FUNNEL_REFRESH_MS` | `10000` | how often the funnel's rollup takes in new sales and actions |
//! | `MAIL_TRANSPORT` | `file` | `file` (each mail an `.eml` file in `MAIL_DIR`), `smtp` (to `SMTP_URL`) or `memory` (tests) |
//! | `MAIL_DIR` | `mail` beside a SQLite database, else `./mail` | where the file transport writes |
//! | `SMTP_URL` | none | e.g. `smtps://user:pass@smtp.example.com:465` or `smtp://host:587?tls=required` |
//! | `MAIL_FROM` | `leadmarket <billing@localhost>` | sender of every mail |
//! | `INVOICE_DUE_DAYS` | `14` | an issued invoice is due this many days later |
//! | `TAX_RATE_BP` | `0` | tax added to invoices, in basis points (1900 = 19%) |
//! | `SELLER_NAME` / `SELLER_ADDRESS` | `leadmarket` / empty | the seller (the platform operator) printed on invoices (use `\n` for new lines) |
//! | `SELLER_VAT_ID` | empty | the seller's VAT or company registration number, printed on invoices |
//! | `PAYMENT_IBAN` / `PAYMENT_BIC` | none / empty | the bank account invoices are paid to; without an IBAN, invoices say that bank details are not configured |
//! | `PAYMENT_ACCOUNT_HOLDER` | `SELLER_NAME` | the name on that account |
//! | `PAYMENT_INSTRUCTIONS` | empty | an extra note printed under the bank details (e.g. "Please pay within the terms") |
//! | `STRIPE_SECRET_KEY` / `STRIPE_WEBHOOK_SECRET` | none | card payments through Stripe Checkout; without them, bank transfer only |
//! | `RETURN_WINDOW_DAYS` | `7` | a bought lead may be disputed this many days after purchase |
//! | `RETURN_CAP_BP` | `2000` | a buyer's disputes in the rolling 30 days, at most this share of its purchases then (2000 = 20%) |
//! | `DISPUTE_ANSWER_DAYS` | `3` | working days the agency has to answer before finance decides |
//! | `QUALITY_SUSPEND_BP` | `1500` | approved disputes per sale over 30 days above this suspend the agency's listings |
//! | `QUALITY_MIN_SALES` | `20` | sales in 30 days before an agency's dispute rate counts |
//! | `RETENTION_DAYS` | `1095` | leads captured longer ago than this are erased by the daily retention job, as if the person had asked (their buyers are told); at least 1 |
//! | `RUST_LOG` | `info` | log filter (tracing) |
//!
//! Without `SECRET_KEY` and `JWT_SECRET`, a SQLite site (and `demo` on any backend)
//! generates both once and keeps them in a private file beside the database
//! (`<database>.secrets`); on PostgreSQL `serve` refuses to start, because several
//! processes must share the same secrets.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand::RngCore as _;

use crate::db::DatabaseUrl;
use crate::domain::intake::IntakeSettings;
use crate::domain::settings::PlatformSettings;

// Both live in the domain, which signs tokens with them; config only builds them.
pub use crate::domain::secret::Secret;
pub use crate::domain::token::JwtConfig;

/// A secret from the environment or the secrets file: at least 32 characters.
fn parse_secret(name: &str, value: &str) -> Result<Secret, ConfigError> {
    if value.len() < 32 {
        return Err(ConfigError::Invalid {
            name: name.into(),
            reason: "must be at least 32 characters (try `openssl rand -hex 32`)".into(),
        });
    }
    Ok(Secret::new(value.as_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "{0} is not set. On PostgreSQL every `serve` process must share the same secrets: set SECRET_KEY and JWT_SECRET (each at least 32 characters, e.g. `openssl rand -hex 32`)"
    )]
    MissingSecret(&'static str),
    #[error("cannot read or write the secrets file {path}")]
    SecretsFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// At most `max_failures` failed guesses per key within `window_seconds` (logins; API
/// keys and postback tokens).
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    pub max_failures: i64,
    pub window_seconds: i64,
    /// Where a guess is counted per account and per address (logins): the address's
    /// own, larger limit, so one account's failures never hold up another account.
    pub address_max_failures: i64,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: String,
    pub public_url: String,
    pub secret_key: Secret,
    pub jwt: JwtConfig,
    pub session_ttl_hours: i64,
    pub db_pool_size: u32,
    pub workers: usize,
    pub login_throttle: LoginThrottle,
    /// Wrong API keys and postback tokens per client address.
    pub api_auth_throttle: LoginThrottle,
    pub trust_proxy_headers: bool,
    /// Standing orders may call back over http and to non-public addresses.
    pub callback_allow_private: bool,
    /// A callback not answered within this counts as failed.
    pub callback_timeout_ms: u64,
    pub currency: String,
    /// The platform's share of every sale, in basis points (2000 = 20%).
    pub commission_bp: i64,
    pub intake: IntakeSettings,
    pub upload_max_bytes: u64,
    pub job_poll_ms: u64,
    /// How often the funnel's rollup is brought up to date (any one process does it).
    pub funnel_refresh_ms: u64,
    pub mail: MailConfig,
    pub billing: BillingConfig,
    pub disputes: DisputeConfig,
    /// Leads captured longer ago than this many days are erased by the retention job.
    pub retention_days: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct DisputeConfig {
    pub window_days: i64,
    pub cap_bp: i64,
    pub answer_working_days: u32,
    pub suspend_bp: i64,
    pub min_sales: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    File(PathBuf),
    Smtp(String),
    Memory,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: MailTransport,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct BillingConfig {
    pub due_days: i64,
    pub tax_bp: i64,
    pub seller_name: String,
    pub seller_address: String,
    pub seller_vat_id: String,
    /// Where bank transfers go; `None` until the operator configures it.
    pub bank: Option<BankAccount>,
    /// An extra note under the bank details.
    pub payment_instructions: String,
    pub stripe: Option<StripeKeys>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    pub holder: String,
    pub iban: String,
    pub bic: String,
}

impl BillingConfig {
    /// How to pay invoice `number`, in one sentence for mails: the bank details with the
    /// number as reference, or plainly that none are configured.
    pub fn payment_text(&self, number: &str) -> String {
        let mut text = match &self.bank {
            Some(b) => {
                let bic = if b.bic.is_empty() {
                    String::new()
                } else {
                    format!(", BIC {}", b.bic)
                };
                format!(
                    "Please pay by bank transfer to {}, IBAN {}{bic}, quoting {number} as the reference.",
                    b.holder, b.iban
                )
            }
            None => format!(
                "Bank details for paying this invoice are not configured yet: please ask {} how to pay.",
                self.seller_name
            ),
        };
        if !self.payment_instructions.is_empty() {
            text.push(' ');
            text.push_str(&self.payment_instructions);
        }
        text
    }
}

#[derive(Debug, Clone)]
pub struct StripeKeys {
    pub secret_key: Secret,
    pub webhook_secret: Secret,
}

/// What to do when `SECRET_KEY` / `JWT_SECRET` are not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingSecrets {
    /// Generate and keep them beside a SQLite database; refuse on PostgreSQL (`serve`).
    GenerateForSqlite,
    /// Generate and keep them in a file on any backend (`demo`).
    Generate,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env(missing: MissingSecrets) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok(), missing)
    }

    /// Reads configuration from any variable source (tests pass a map).
    pub fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        missing: MissingSecrets,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let database_url =
            DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "leadmarket.db".into()))
                .map_err(|reason| ConfigError::Invalid {
                    name: "DATABASE_URL".into(),
                    reason,
                })?;
        let bind = get("BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = get("PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "PUBLIC_URL".into(),
                reason: "must start with http:// or https://".into(),
            });
        }
        let (secret_key, jwt_secret) = match (get("SECRET_KEY"), get("JWT_SECRET")) {
            (Some(s), Some(j)) => (
                parse_secret("SECRET_KEY", &s)?,
                parse_secret("JWT_SECRET", &j)?,
            ),
            (s, j) => {
                let file = match (&database_url, missing) {
                    (DatabaseUrl::Sqlite(path), _) => secrets_path_beside(path),
                    (DatabaseUrl::Postgres(_), MissingSecrets::Generate) => {
                        PathBuf::from("leadmarket-demo.secrets")
                    }
                    (DatabaseUrl::Postgres(_), MissingSecrets::GenerateForSqlite) => {
                        return Err(ConfigError::MissingSecret(if s.is_none() {
                            "SECRET_KEY"
                        } else {
                            "JWT_SECRET"
                        }));
                    }
                };
                let stored = load_or_create_secrets(&file)?;
                let s = match s {
                    Some(s) => parse_secret("SECRET_KEY", &s)?,
                    None => stored.0,
                };
                let j = match j {
                    Some(j) => parse_secret("JWT_SECRET", &j)?,
                    None => stored.1,
                };
                (s, j)
            }
        };
        let ttl_seconds = parse_num(&get, "TOKEN_TTL_SECONDS", 900)?;
        if !(60..=900).contains(&ttl_seconds) {
            return Err(ConfigError::Invalid {
                name: "TOKEN_TTL_SECONDS".into(),
                reason: "must be between 60 and 900".into(),
            });
        }
        let currency = get("CURRENCY")
            .unwrap_or_else(|| "EUR".into())
            .to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::Invalid {
                name: "CURRENCY".into(),
                reason: "must be a three-letter ISO 4217 code such as EUR".into(),
            });
        }
        let transport = match get("MAIL_TRANSPORT").as_deref().unwrap_or("file") {
            "file" => MailTransport::File(match get("MAIL_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => match &database_url {
                    DatabaseUrl::Sqlite(path) => path
                        .parent()
                        .map(|p| p.join("mail"))
                        .unwrap_or_else(|| PathBuf::from("mail")),
                    DatabaseUrl::Postgres(_) => PathBuf::from("mail"),
                },
            }),
            "smtp" => MailTransport::Smtp(get("SMTP_URL").ok_or_else(|| ConfigError::Invalid {
                name: "SMTP_URL".into(),
                reason: "is required when MAIL_TRANSPORT is smtp".into(),
            })?),
            "memory" => MailTransport::Memory,
            other => {
                return Err(ConfigError::Invalid {
                    name: "MAIL_TRANSPORT".into(),
                    reason: format!("`{other}` is not file, smtp or memory"),
                });
            }
        };
        let stripe = match (get("STRIPE_SECRET_KEY"), get("STRIPE_WEBHOOK_SECRET")) {
            (None, None) => None,
            (Some(k), Some(w)) => Some(StripeKeys {
                secret_key: Secret::new(k.into_bytes()),
                webhook_secret: Secret::new(w.into_bytes()),
            }),
            (k, _) => {
                return Err(ConfigError::Invalid {
                    name: if k.is_none() {
                        "STRIPE_SECRET_KEY"
                    } else {
                        "STRIPE_WEBHOOK_SECRET"
                    }
                    .into(),
                    reason: "card payments need both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"
                        .into(),
                });
            }
        };
        let mail = MailConfig {
            transport,
            from: get("MAIL_FROM").unwrap_or_else(|| "leadmarket <billing@localhost>".into()),
        };
        let seller_name = get("SELLER_NAME").unwrap_or_else(|| "leadmarket".into());
        let bank = get("PAYMENT_IBAN").map(|iban| BankAccount {
            holder: get("PAYMENT_ACCOUNT_HOLDER").unwrap_or_else(|| seller_name.clone()),
            iban,
            bic: get("PAYMENT_BIC").unwrap_or_default(),
        });
        let billing = BillingConfig {
            due_days: parse_num(&get, "INVOICE_DUE_DAYS", 14)?.clamp(0, 365),
            tax_bp: parse_num(&get, "TAX_RATE_BP", 0)?.clamp(0, 10_000),
            seller_name,
            seller_address: get("SELLER_ADDRESS")
                .unwrap_or_default()
                .replace("\\n", "\n"),
            seller_vat_id: get("SELLER_VAT_ID").unwrap_or_default(),
            bank,
            payment_instructions: get("PAYMENT_INSTRUCTIONS").unwrap_or_default(),
            stripe,
        };
        let disputes = DisputeConfig {
            window_days: parse_num(&get, "RETURN_WINDOW_DAYS", 7)?.clamp(0, 365),
            cap_bp: parse_num(&get, "RETURN_CAP_BP", 2000)?.clamp(0, 10_000),
            answer_working_days: parse_num(&get, "DISPUTE_ANSWER_DAYS", 3)?.clamp(0, 60) as u32,
            suspend_bp: parse_num(&get, "QUALITY_SUSPEND_BP", 1500)?.clamp(0, 10_000),
            min_sales: parse_num(&get, "QUALITY_MIN_SALES", 20)?.clamp(1, 1_000_000),
        };
        Ok(Self {
            mail,
            billing,
            disputes,
            database_url,
            bind,
            public_url,
            secret_key,
            jwt: JwtConfig {
                secret: jwt_secret,
                issuer: get("JWT_ISSUER").unwrap_or_else(|| "leadmarket".into()),
                audience: get("JWT_AUDIENCE").unwrap_or_else(|| "leadmarket-api".into()),
                ttl_seconds,
            },
            session_ttl_hours: parse_num(&get, "SESSION_TTL_HOURS", 12)?.max(1),
            db_pool_size: parse_num(&get, "DB_POOL_SIZE", 10)?.clamp(1, 1000) as u32,
            workers: parse_num(
                &get,
                "WORKERS",
                std::thread::available_parallelism()
                    .map(|n| n.get() as i64)
                    .unwrap_or(2),
            )?
            .clamp(1, 256) as usize,
            login_throttle: LoginThrottle {
                max_failures: parse_num(&get, "LOGIN_MAX_FAILURES", 5)?.max(1),
                window_seconds: parse_num(&get, "LOGIN_WINDOW_SECONDS", 60)?.max(1),
                address_max_failures: parse_num(&get, "LOGIN_ADDRESS_MAX_FAILURES", 50)?.max(1),
            },
            api_auth_throttle: LoginThrottle {
                max_failures: parse_num(&get, "API_AUTH_MAX_FAILURES", 10)?.max(1),
                window_seconds: parse_num(&get, "API_AUTH_WINDOW_SECONDS", 600)?.max(1),
                // Counted per address only.
                address_max_failures: parse_num(&get, "API_AUTH_MAX_FAILURES", 10)?.max(1),
            },
            trust_proxy_headers: parse_bool(&get, "TRUST_PROXY_HEADERS")?,
            callback_allow_private: parse_bool(&get, "CALLBACK_ALLOW_PRIVATE")?,
            callback_timeout_ms: parse_num(&get, "CALLBACK_TIMEOUT_MS", 5000)?.clamp(50, 60_000)
                as u64,
            currency,
            commission_bp: parse_num(&get, "PLATFORM_COMMISSION_BP", 2000)?.clamp(0, 10_000),
            retention_days: parse_num(&get, "RETENTION_DAYS", 1095)?.max(1),
            intake: IntakeSettings {
                dedup_days: parse_num(&get, "DEDUP_DAYS", 30)?.max(0),
                max_capture_age_days: parse_num(&get, "MAX_CAPTURE_AGE_DAYS", 90)?.max(1),
                thresholds: crate::domain::intake::pseudo::Thresholds {
                    bot_seconds: parse_num(&get, "BOT_FORM_SECONDS", 2)?.clamp(0, 3600) as i32,
                    fast_seconds: parse_num(&get, "FAST_FORM_SECONDS", 5)?.clamp(0, 3600) as i32,
                },
                ip_burst_max: parse_num(&get, "IP_BURST_MAX", 5)?.max(1) as usize,
                ip_burst_minutes: parse_num(&get, "IP_BURST_MINUTES", 10)?.max(1),
                chunk_rows: parse_num(&get, "INTAKE_CHUNK_ROWS", 5000)?.clamp(1, 50_000) as usize,
                commit_rows: parse_num(&get, "INTAKE_COMMIT_ROWS", 20_000)?.clamp(1, 1_000_000)
                    as usize,
                sqlite_cache_kib: parse_num(&get, "INTAKE_SQLITE_CACHE_KIB", 65_536)?
                    .clamp(2048, 4 << 20),
                commission_bp: parse_num(&get, "PLATFORM_COMMISSION_BP", 2000)?.clamp(0, 10_000),
            },
            upload_max_bytes: parse_num(&get, "UPLOAD_MAX_MB", 1024)?.clamp(1, 1 << 20) as u64
                * 1024
                * 1024,
            job_poll_ms: parse_num(&get, "JOB_POLL_MS", 1000)?.clamp(10, 60_000) as u64,
            funnel_refresh_ms: parse_num(&get, "FUNNEL_REFRESH_MS", 10_000)?.clamp(10, 3_600_000)
                as u64,
        })
    }

    /// The settings `/admin/settings` edits, as this configuration has them.
    pub fn platform_settings(&self) -> PlatformSettings {
        PlatformSettings {
            return_window_days: self.disputes.window_days,
            return_cap_bp: self.disputes.cap_bp,
            dispute_answer_days: i64::from(self.disputes.answer_working_days),
            commission_bp: self.commission_bp,
            dedup_days: self.intake.dedup_days,
            quality_suspend_bp: self.disputes.suspend_bp,
            quality_min_sales: self.disputes.min_sales,
            invoice_due_days: self.billing.due_days,
            tax_rate_bp: self.billing.tax_bp,
        }
    }

    /// This configuration with the stored settings in place of the environment's.
    pub fn with_settings(&self, s: &PlatformSettings) -> Config {
        let mut c = self.clone();
        c.disputes.window_days = s.return_window_days;
        c.disputes.cap_bp = s.return_cap_bp;
        c.disputes.answer_working_days = u32::try_from(s.dispute_answer_days).unwrap_or(3);
        c.commission_bp = s.commission_bp;
        c.intake.commission_bp = s.commission_bp;
        c.intake.dedup_days = s.dedup_days;
        c.disputes.suspend_bp = s.quality_suspend_bp;
        c.disputes.min_sales = s.quality_min_sales;
        c.billing.due_days = s.invoice_due_days;
        c.billing.tax_bp = s.tax_rate_bp;
        c
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: i64,
) -> Result<i64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
            name: name.into(),
            reason: format!("`{v}` is not a whole number"),
        }),
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool, ConfigError> {
    match get(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!("`{other}` is not true or false"),
        }),
    }
}

/// `data/leadmarket.db` keeps its secrets in `data/leadmarket.db.secrets`.
pub fn secrets_path_beside(db: &Path) -> PathBuf {
    let mut name = db
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "leadmarket.db".into());
    name.push(".secrets");
    db.with_file_name(name)
}

fn load_or_create_secrets(path: &Path) -> Result<(Secret, Secret), ConfigError> {
    let io_err = |source| ConfigError::SecretsFile {
        path: path.display().to_string(),
        source,
    };
    if let Ok(text) = std::fs::read_to_string(path) {
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .map(str::trim)
        };
        if let (Some(s), Some(j)) = (value("SECRET_KEY"), value("JWT_SECRET")) {
            return Ok((
                parse_secret("SECRET_KEY", s)?,
                parse_secret("JWT_SECRET", j)?,
            ));
        }
        return Err(io_err(std::io::Error::other(
            "the file lacks SECRET_KEY= or JWT_SECRET= lines",
        )));
    }
    let random_hex = || {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    let (s, j) = (random_hex(), random_hex());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_err)?;
    writeln!(
        file,
        "# Generated by leadmarket. Keep private: these sign sessions and API tokens.\nSECRET_KEY={s}\nJWT_SECRET={j}"
    )
    .map_err(io_err)?;
    Ok((Secret::new(s.into_bytes()), Secret::new(j.into_bytes())))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const S: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn postgres_serve_refuses_to_start_without_secrets() {
        let err = Config::from_lookup(
            lookup(&[("DATABASE_URL", "postgres://x@h/db")]),
            MissingSecrets::GenerateForSqlite,
        )
        .unwrap_err();
        assert!(err.to_string().contains("SECRET_KEY is not set"), "{err}");
    }

    #[test]
    fn sqlite_generates_secrets_once_beside_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("site.db");
        let vars = [("DATABASE_URL", db.to_str().unwrap())];
        let first = Config::from_lookup(lookup(&vars), MissingSecrets::GenerateForSqlite).unwrap();
        let second = Config::from_lookup(lookup(&vars), MissingSecrets::GenerateForSqlite).unwrap();
        assert_eq!(first.secret_key, second.secret_key);
        assert_eq!(first.jwt.secret, second.jwt.secret);
        assert_ne!(first.secret_key, first.jwt.secret);
        assert!(dir.path().join("site.db.secrets").exists());
    }

    #[test]
    fn stored_settings_replace_the_environments_values_and_nothing_else() {
        let c = Config::from_lookup(
            lookup(&[
                ("DATABASE_URL", "postgres://h/db"),
                ("SECRET_KEY", S),
                ("JWT_SECRET", S),
                ("RETURN_WINDOW_DAYS", "9"),
                ("TAX_RATE_BP", "700"),
            ]),
            MissingSecrets::GenerateForSqlite,
        )
        .unwrap();
        let env = c.platform_settings();
        assert_eq!((env.return_window_days, env.tax_rate_bp), (9, 700));
        let stored = PlatformSettings {
            return_window_days: 11,
            return_cap_bp: 1000,
            dispute_answer_days: 5,
            commission_bp: 1500,
            dedup_days: 60,
            quality_suspend_bp: 900,
            quality_min_sales: 40,
            invoice_due_days: 21,
            tax_rate_bp: 1900,
        };
        let live = c.with_settings(&stored);
        assert_eq!(live.platform_settings(), stored);
        assert_eq!(live.intake.commission_bp, 1500);
        assert_eq!(live.retention_days, c.retention_days);
        assert_eq!(live.bind, c.bind);
    }

    #[test]
    fn short_secrets_and_bad_numbers_are_refused_with_the_variable_name() {
        let err = Config::from_lookup(
            lookup(&[
                ("DATABASE_URL", "postgres://h/db"),
                ("SECRET_KEY", "short"),
                ("JWT_SECRET", S),
            ]),
            MissingSecrets::GenerateForSqlite,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("SECRET_KEY is invalid"),
            "{err}"
        );
        let err = Config::from_lookup(
            lookup(&[
                ("DATABASE_URL", "postgres://h/db"),
                ("SECRET_KEY", S),
                ("JWT_SECRET", S),
                ("TOKEN_TTL_SECONDS", "3600"),
            ]),
            MissingSecrets::GenerateForSqlite,
        )
        .unwrap_err();
        assert!(err.to_string().contains("TOKEN_TTL_SECONDS"), "{err}");
    }

    #[test]
    fn invoices_name_the_bank_account_or_say_plainly_that_none_is_set() {
        let base = [
            ("DATABASE_URL", "postgres://h/db"),
            ("SECRET_KEY", S),
            ("JWT_SECRET", S),
            ("SELLER_NAME", "Ops GmbH"),
        ];
        let c = Config::from_lookup(lookup(&base), MissingSecrets::GenerateForSqlite).unwrap();
        assert_eq!(c.billing.bank, None);
        assert!(
            c.billing
                .payment_text("LM-2026-000001")
                .contains("not configured yet: please ask Ops GmbH"),
        );
        let mut vars = base.to_vec();
        vars.extend([("PAYMENT_IBAN", "DE02 1001"), ("PAYMENT_BIC", "PBNKDEFF")]);
        let c = Config::from_lookup(lookup(&vars), MissingSecrets::GenerateForSqlite).unwrap();
        assert_eq!(
            c.billing.payment_text("LM-2026-000001"),
            "Please pay by bank transfer to Ops GmbH, IBAN DE02 1001, BIC PBNKDEFF, quoting LM-2026-000001 as the reference."
        );
    }

    #[test]
    fn defaults_are_safe() {
        let c = Config::from_lookup(
            lookup(&[
                ("DATABASE_URL", "postgres://h/db"),
                ("SECRET_KEY", S),
                ("JWT_SECRET", S),
            ]),
            MissingSecrets::GenerateForSqlite,
        )
        .unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(!c.secure_cookies());
        assert_eq!(c.jwt.ttl_seconds, 900);
        assert_eq!(c.login_throttle.max_failures, 5);
        assert_eq!(c.login_throttle.address_max_failures, 50);
        assert!(!c.trust_proxy_headers);
        assert!(
            !format!("{c:?}").contains(S),
            "secrets must not appear in Debug output"
        );
    }
}
