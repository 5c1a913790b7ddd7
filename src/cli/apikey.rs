//! `apikey create`.

use super::support::{CliError, config, connection, lookup_org};
use crate::config::MissingSecrets;
use crate::services::accounts;

pub fn create(org: String, name: Option<String>) -> Result<(), CliError> {
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
