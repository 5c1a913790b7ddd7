//! Adding phones and emails to the suppression list (hashed like dedup keys).

use crate::db::{AnyConnection, write_transaction};
use crate::domain::dedup;
use crate::domain::intake::SuppressionKind;
use crate::domain::intake::row::parse_phone;
use crate::error::AppError;
use crate::store;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AddOutcome {
    pub added: usize,
    pub already: usize,
    /// Open leads of these people taken off sale at once.
    pub withdrawn: usize,
    /// Entries that are neither a valid email nor a valid phone; nothing stored for them.
    pub invalid: Vec<String>,
}

pub fn add(
    conn: &mut AnyConnection,
    entries: &[&str],
    reason: &str,
    default_country: Option<&str>,
    source: &str,
) -> Result<AddOutcome, AppError> {
    if !matches!(reason, "opt_out" | "do_not_call") {
        return Err(AppError::invalid(
            "reason",
            "must be opt_out or do_not_call",
        ));
    }
    let country = default_country
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let mut keys: Vec<(dedup::Key, SuppressionKind)> = Vec::new();
    let mut invalid = Vec::new();
    for raw in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        if raw.contains('@') {
            let lower = raw.to_lowercase();
            if email_address::EmailAddress::parse_with_options(&lower, Default::default()).is_ok() {
                keys.push((dedup::email_key(&lower), SuppressionKind::Email));
                continue;
            }
        } else if let Some(e164) = parse_phone(raw, country.as_deref()) {
            keys.push((dedup::phone_key(&e164), SuppressionKind::Phone));
            continue;
        }
        invalid.push(raw.chars().take(80).collect());
    }
    let total = keys.len();
    // One transaction: once the entries are on the list, none of their leads is on sale.
    let (added, withdrawn) = write_transaction(conn, |conn| {
        let added = store::intake::add_suppressions(conn, &keys, reason, source)?;
        let hashes: Vec<dedup::Key> = keys.iter().map(|(k, _)| k.clone()).collect();
        let withdrawn = store::intake::withdraw_suppressed_leads(conn, &hashes)?;
        Ok::<_, diesel::result::Error>((added, withdrawn))
    })?;
    Ok(AddOutcome {
        added,
        already: total - added,
        withdrawn,
        invalid,
    })
}
