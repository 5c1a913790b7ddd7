//! `billing run`.

use super::support::{CliError, config, connection};
use crate::config::MissingSecrets;

pub fn run(period: Option<String>) -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let period = match period {
        Some(p) => crate::domain::billing::Period::parse(&p).map_err(CliError::Input)?,
        None => crate::domain::billing::Period::previous(crate::store::now()),
    };
    let mut conn = connection(&config)?;
    let config = super::support::in_force(&mut conn, config)?;
    let summary = crate::services::billing::run(&mut conn, &(&config).into(), period)?;
    println!(
        "billing run for {}: {} draft invoice(s) to review, {} agency statement(s), carried forward: {} buyer credit(s), {} agency debt(s)",
        period.code(),
        summary.drafts,
        summary.statements,
        summary.credits_carried,
        summary.debts_carried
    );
    Ok(())
}
