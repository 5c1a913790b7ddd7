//! `credit set`.

use super::support::{CliError, config, connection};
use crate::config::MissingSecrets;

pub fn set(org: String, limit_cents: i64) -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    crate::services::market::set_credit_limit(&mut *connection(&config)?, &org, limit_cents)?;
    println!(
        "credit limit of {org} set to {limit_cents} minor units of {}",
        config.currency
    );
    Ok(())
}
