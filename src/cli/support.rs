//! What every command shares: its failure type (bad input exits 2, the rest 1), the
//! configuration, a migrated connection and organisations looked up by slug.

use crate::config::{Config, MissingSecrets};
use crate::db::{self, AnyConnection};
use crate::error::AppError;

/// Failures the CLI reports: bad input exits 2, the rest 1.
pub enum CliError {
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

pub fn config(missing: MissingSecrets) -> Result<Config, CliError> {
    Config::from_env(missing).map_err(|e| CliError::Input(format!("{:#}", anyhow::Error::from(e))))
}

/// `config` with the platform settings an admin saved on `/admin/settings` in place of
/// the environment's, as `serve` uses them.
pub fn in_force(conn: &mut crate::db::AnyConnection, config: Config) -> Result<Config, CliError> {
    Ok((*crate::services::settings::LiveConfig::load(conn, config)?.current()).clone())
}

/// A migrated connection for one-shot commands.
pub fn connection(config: &Config) -> Result<db::PooledConn, CliError> {
    let pool = db::connect_pool(&config.database_url, 1).map_err(|e| CliError::Other(e.into()))?;
    let mut conn = pool.get().map_err(|e| CliError::Other(e.into()))?;
    db::run_migrations(&mut conn).map_err(|e| CliError::Other(e.into()))?;
    Ok(conn)
}

pub fn lookup_org(
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
