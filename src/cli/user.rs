//! `user create` and `user disable`.

use std::io::BufRead as _;

use super::support::{CliError, config, connection};
use crate::config::MissingSecrets;
use crate::domain::Role;
use crate::domain::password::NewPassword;
use crate::services::accounts;

pub fn create(
    org: String,
    email: String,
    role: Role,
    name: Option<String>,
) -> Result<(), CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Input(format!("cannot read the password from stdin: {e}")))?;
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

pub fn disable(email: String) -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let user = accounts::disable_user(&mut *connection(&config)?, &email)?;
    println!("disabled {}", user.email);
    Ok(())
}
