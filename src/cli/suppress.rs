//! `suppress`.

use super::support::{CliError, config, connection};
use crate::config::MissingSecrets;

pub fn run(
    file: std::path::PathBuf,
    reason: String,
    country: Option<String>,
) -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let entries: Vec<&str> = text.lines().collect();
    let outcome = crate::services::suppression::add(
        &mut *connection(&config)?,
        &crate::domain::audit::Who::system(),
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
