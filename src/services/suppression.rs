//! The suppression list: adding phones and emails (typed, by the API, or imported from a
//! CSV with a per-row report), hashed exactly like intake's dedup keys, and removing one
//! with a reason. Every change is audited, by count and kind, never the contact.
//!
//! A removal takes the entry off the list, so later intake and purchases no longer
//! refuse that person; leads it withdrew stay withdrawn (a withdrawal is never undone
//! here: the list cannot tell which withdrawals it caused, and selling someone who did
//! opt out is the worse mistake). An erasure's entry is never removed.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{self, AuditAction, Who};
use crate::domain::dedup;
use crate::domain::intake::SuppressionKind;
use crate::domain::suppression::{self as rules, ERASURE_REASON, FileEntry, Keyed, REASONS};
use crate::error::AppError;
use crate::services;
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

fn check_reason(reason: &str) -> Result<(), AppError> {
    if REASONS.contains(&reason) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "reason",
            "must be opt_out or do_not_call",
        ))
    }
}

fn default_country(raw: Option<&str>) -> Option<String> {
    raw.map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
}

pub fn add(
    conn: &mut AnyConnection,
    who: &Who,
    entries: &[&str],
    reason: &str,
    default_country_raw: Option<&str>,
    source: &str,
) -> Result<AddOutcome, AppError> {
    check_reason(reason)?;
    let country = default_country(default_country_raw);
    let mut keys: Vec<Keyed> = Vec::new();
    let mut invalid = Vec::new();
    for raw in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        match rules::key_of(raw, None, country.as_deref()) {
            Ok(key) => keys.push(key),
            Err(_) => invalid.push(raw.chars().take(80).collect()),
        }
    }
    let total = keys.len();
    let (added, withdrawn) = store_entries(conn, who, &keys, reason, source, None)?;
    Ok(AddOutcome {
        added,
        already: total - added,
        withdrawn,
        invalid,
    })
}

/// Puts `keys` on the list and withdraws their open leads in one transaction (once the
/// entries are on the list, none of their leads is on sale), audited with the counts.
fn store_entries(
    conn: &mut AnyConnection,
    who: &Who,
    keys: &[Keyed],
    reason: &str,
    source: &str,
    report: Option<&ImportReport>,
) -> Result<(usize, usize), AppError> {
    write_transaction(conn, |conn| {
        let added = store::intake::add_suppressions(conn, keys, reason, source)?;
        let hashes: Vec<dedup::Key> = keys.iter().map(|(k, _)| k.clone()).collect();
        let withdrawn = store::intake::withdraw_suppressed_leads(conn, &hashes)?;
        let count = |kind| keys.iter().filter(|(_, k)| *k == kind).count();
        let mut detail = format!(
            "{added} added as {reason} from {source} ({} phones, {} emails sent, {} on the list already); {withdrawn} open leads withdrawn",
            count(SuppressionKind::Phone),
            count(SuppressionKind::Email),
            keys.len() - added,
        );
        if let Some(r) = report {
            detail.push_str(&format!(
                "; file rows: {} accepted, {} duplicate, {} invalid",
                r.accepted, r.duplicates, r.invalid
            ));
        }
        if added > 0 || report.is_some() {
            services::audit::record(
                conn,
                who,
                AuditAction::SuppressionAdded,
                None,
                &detail,
                store::now(),
            )?;
        }
        Ok::<_, AppError>((added, withdrawn))
    })
}

/// What became of one entry of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    Accepted,
    /// On the list already, or earlier in the same file (the text says which).
    Duplicate(String),
    /// Not a valid phone or email; the text says why. Nothing is stored for it.
    Invalid(String),
}

/// One line of the per-row report: the file's row, which column, what became of it.
/// It names no contact (an accepted entry is shown by row only).
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub row: usize,
    pub kind: SuppressionKind,
    pub outcome: EntryOutcome,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub rows: Vec<ReportRow>,
    pub accepted: usize,
    pub duplicates: usize,
    pub invalid: usize,
    /// Open leads of the accepted people taken off sale at once.
    pub withdrawn: usize,
}

/// Imports a CSV of phones and emails (see `domain::suppression::read_file`): every cell
/// checked and hashed as intake does, a report line per entry, the new entries stored
/// and their open leads withdrawn in one transaction.
pub fn import(
    conn: &mut AnyConnection,
    who: &Who,
    file: impl std::io::Read,
    reason: &str,
    default_country_raw: Option<&str>,
) -> Result<ImportReport, AppError> {
    check_reason(reason)?;
    let entries = rules::read_file(file).map_err(|e| AppError::invalid("file", e))?;
    if entries.is_empty() {
        return Err(AppError::invalid(
            "file",
            "the file has no phone or email below its header",
        ));
    }
    let country = default_country(default_country_raw);
    let keyed: Vec<(&FileEntry, Result<Keyed, &str>)> = entries
        .iter()
        .map(|e| {
            let country = e.country.as_deref().or(country.as_deref());
            (e, rules::key_of(&e.raw, Some(e.kind), country))
        })
        .collect();
    let all: Vec<dedup::Key> = keyed
        .iter()
        .filter_map(|(_, k)| k.as_ref().ok().map(|(k, _)| k.clone()))
        .collect();
    let listed = store::intake::suppressed_keys(conn, &all)?;
    let mut first_row: HashMap<dedup::Key, usize> = HashMap::new();
    let mut report = ImportReport::default();
    let mut fresh = Vec::new();
    for (entry, key) in keyed {
        let outcome = match key {
            Err(why) => {
                report.invalid += 1;
                EntryOutcome::Invalid(format!("{} {why}", entry.kind))
            }
            Ok((key, _)) if listed.contains(&key) => {
                report.duplicates += 1;
                EntryOutcome::Duplicate("on the list already".into())
            }
            Ok((key, kind)) => match first_row.get(&key) {
                Some(row) => {
                    report.duplicates += 1;
                    EntryOutcome::Duplicate(format!("the same {kind} as row {row}"))
                }
                None => {
                    first_row.insert(key.clone(), entry.row);
                    fresh.push((key, kind));
                    report.accepted += 1;
                    EntryOutcome::Accepted
                }
            },
        };
        report.rows.push(ReportRow {
            row: entry.row,
            kind: entry.kind,
            outcome,
        });
    }
    let (_, withdrawn) = store_entries(conn, who, &fresh, reason, "import", Some(&report))?;
    report.withdrawn = withdrawn;
    Ok(report)
}

/// What a removal took off the list.
#[derive(Debug, Clone)]
pub struct Removed {
    pub kind: SuppressionKind,
    pub reason: String,
    pub added_at: NaiveDateTime,
}

/// Takes one phone or email off the list, with the admin's reason (audited; the reason
/// may not quote a contact, since the log never holds one).
pub fn remove(
    conn: &mut AnyConnection,
    who: &Who,
    entry: &str,
    default_country_raw: Option<&str>,
    why: &str,
) -> Result<Removed, AppError> {
    let why = why.trim();
    let mut problems = Vec::new();
    let country = default_country(default_country_raw);
    let key = rules::key_of(entry, None, country.as_deref())
        .map_err(|e| problems.push(crate::error::FieldProblem::new("entry", e)))
        .ok();
    if why.is_empty() || why.chars().count() > 500 {
        problems.push(crate::error::FieldProblem::new(
            "why",
            "say why it comes off the list (up to 500 characters)",
        ));
    } else if audit::holds_contact(why) {
        problems.push(crate::error::FieldProblem::new(
            "why",
            "must not hold an email or a phone number: the audit log never keeps one",
        ));
    }
    let Some((key, _)) = key.filter(|_| problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    write_transaction(conn, |conn| {
        let Some(row) = store::intake::find_suppression(conn, &key)? else {
            return Err(AppError::invalid("entry", "is not on the suppression list"));
        };
        if row.reason == ERASURE_REASON {
            return Err(AppError::invalid(
                "entry",
                "is on the list by the person's erasure and stays there",
            ));
        }
        store::intake::remove_suppression(conn, &key)?;
        let detail = format!(
            "{} entry ({}, from {}, listed {}) removed: {why}",
            row.kind,
            row.reason,
            row.source,
            row.created_at.format("%Y-%m-%d")
        );
        services::audit::record(
            conn,
            who,
            AuditAction::SuppressionRemoved,
            None,
            &detail,
            store::now(),
        )?;
        Ok(Removed {
            kind: row.kind,
            reason: row.reason,
            added_at: row.created_at,
        })
    })
}
