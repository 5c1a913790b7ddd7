//! The suppression list's entries: a typed phone or email becomes the same key intake
//! computes for a lead (intake's own parsing, then `dedup`'s hashing), so an entry
//! blocks exactly the leads intake would match; and the CSV file of entries an admin
//! imports, read into entries with their row numbers for the per-row report.

use std::collections::HashMap;
use std::io::Read;

use super::dedup::{self, Key};
use super::intake::SuppressionKind;
use super::intake::row::{parse_country, parse_email, parse_phone};

/// Reasons an entry can be on the list for, as `suppressions.reason`. `erasure` is
/// written by a consumer's erasure only.
pub const REASONS: &[&str] = &["opt_out", "do_not_call"];

/// What an erasure's entries say; such an entry is never removed (the person asked to
/// be forgotten, and only the entry keeps their contact from coming back).
pub const ERASURE_REASON: &str = "erasure";

/// A list entry: the contact's key and which kind of contact it is.
pub type Keyed = (Key, SuppressionKind);

/// The key of one typed entry. `kind` says which the entry must be (a file's column);
/// without it an `@` makes it an email. Phones in national form take `country`.
pub fn key_of(
    raw: &str,
    kind: Option<SuppressionKind>,
    country: Option<&str>,
) -> Result<Keyed, &'static str> {
    let raw = raw.trim();
    let kind = kind.unwrap_or(if raw.contains('@') {
        SuppressionKind::Email
    } else {
        SuppressionKind::Phone
    });
    match kind {
        SuppressionKind::Email => parse_email(raw)
            .map(|e| (dedup::email_key(&e), kind))
            .ok_or("is not a valid email address"),
        SuppressionKind::Phone => parse_phone(raw, country)
            .map(|p| (dedup::phone_key(&p), kind))
            .ok_or(if country.is_some() {
                "is not a valid phone number for its country"
            } else {
                "is not a valid phone number (give the country, or write it as +44...)"
            }),
    }
}

/// One phone or email cell of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// 1-based, the header being row 1 (as a spreadsheet numbers it).
    pub row: usize,
    pub kind: SuppressionKind,
    pub raw: String,
    /// The row's own `country` cell, when the file has that column and it is a code.
    pub country: Option<String>,
}

/// Most entries one file may hold (the API's limit per request too).
pub const MAX_FILE_ENTRIES: usize = 100_000;

/// Reads a CSV of entries: UTF-8 (BOM allowed), comma or semicolon, a header row naming
/// a `phone` and/or an `email` column (case-insensitive) and optionally `country` for
/// national phone numbers; other columns are ignored. Every non-empty phone or email
/// cell is an entry. `Err` says why the file as a whole cannot be used.
pub fn read_file(mut source: impl Read) -> Result<Vec<FileEntry>, String> {
    let mut bytes = Vec::new();
    source
        .read_to_end(&mut bytes)
        .map_err(|e| format!("the file could not be read: {e}"))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "the file is not UTF-8 text")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(format!("the header row could not be read: {e}")),
        None => return Err("the file is empty".into()),
    };
    let mut columns: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        for known in ["phone", "email", "country"] {
            if name == known {
                columns.entry(known).or_insert(i);
            }
        }
    }
    if !columns.contains_key("phone") && !columns.contains_key("email") {
        return Err("the first row must name the columns: `phone` and/or `email` (and `country` for national phone numbers)".into());
    }
    let mut entries = Vec::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| format!("row {row} could not be read: {e}"))?;
        let cell = |name: &str| {
            columns
                .get(name)
                .and_then(|&c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let country = cell("country").and_then(parse_country);
        for (name, kind) in [
            ("phone", SuppressionKind::Phone),
            ("email", SuppressionKind::Email),
        ] {
            if let Some(raw) = cell(name) {
                entries.push(FileEntry {
                    row,
                    kind,
                    raw: raw.to_string(),
                    country: country.clone(),
                });
            }
        }
        if entries.len() > MAX_FILE_ENTRIES {
            return Err(format!(
                "the file holds more than {MAX_FILE_ENTRIES} entries; split it"
            ));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::intake::row::parse_phone as intake_phone;

    #[test]
    fn an_entry_gets_the_key_intake_gives_the_same_contact() {
        let (key, kind) = key_of("  Ann.Lee+promo@GMail.com ", None, None).unwrap();
        assert_eq!(kind, SuppressionKind::Email);
        assert_eq!(key, dedup::email_key("annlee@gmail.com"));
        let (key, kind) = key_of("07911 123456", None, Some("GB")).unwrap();
        assert_eq!(kind, SuppressionKind::Phone);
        let e164 = intake_phone("+447911123456", None).unwrap();
        assert_eq!(key, dedup::phone_key(&e164));
    }

    #[test]
    fn a_file_column_decides_the_kind_and_bad_values_say_why() {
        assert!(key_of("ann@example.com", Some(SuppressionKind::Phone), None).is_err());
        assert_eq!(
            key_of("ann@localhost", None, None).unwrap_err(),
            "is not a valid email address"
        );
        assert!(
            key_of("12", None, Some("GB"))
                .unwrap_err()
                .contains("its country")
        );
        assert!(
            key_of("07911 123456", None, None)
                .unwrap_err()
                .contains("+44")
        );
    }

    #[test]
    fn a_file_gives_its_phone_and_email_cells_with_row_numbers() {
        let file = "\u{feff}Email;Phone;Country;note\nann@example.com;07911 123456;gb;x\n;;;\n;+33612345678;;\n";
        let entries = read_file(file.as_bytes()).unwrap();
        let summary: Vec<(usize, SuppressionKind, &str, Option<&str>)> = entries
            .iter()
            .map(|e| (e.row, e.kind, e.raw.as_str(), e.country.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                (2, SuppressionKind::Phone, "07911 123456", Some("GB")),
                (2, SuppressionKind::Email, "ann@example.com", Some("GB")),
                (4, SuppressionKind::Phone, "+33612345678", None),
            ]
        );
    }

    #[test]
    fn a_file_without_a_phone_or_email_header_is_refused_whole() {
        assert!(
            read_file("ann@example.com\nbob@example.com\n".as_bytes())
                .unwrap_err()
                .contains("`phone` and/or `email`")
        );
        assert_eq!(read_file("".as_bytes()).unwrap_err(), "the file is empty");
        assert!(read_file(&[0xff, 0xfe, 0x00][..]).is_err());
    }
}
