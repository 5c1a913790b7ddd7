//! `org create`.

use super::support::{CliError, config, connection};
use crate::config::MissingSecrets;
use crate::domain::OrgKind;
use crate::services::accounts;

pub fn create(kind: OrgKind, name: String, slug: Option<String>) -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let org =
        accounts::create_organisation(&mut *connection(&config)?, kind, &name, slug.as_deref())?;
    println!("{}", org.slug);
    Ok(())
}
