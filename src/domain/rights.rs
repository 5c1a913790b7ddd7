//! Consumers' rights: a person names an email or a phone, sees which agencies hold it and
//! which buyers bought it, and has it erased; old leads are erased by retention. The
//! rules here are pure: what a typed contact is (matched through the same dedup keys as
//! intake), how long a link works, where retention cuts, and whether a rejected row's
//! cells hold one of the erased contacts.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDateTime, TimeDelta};

use super::dedup::{self, Key};
use super::intake::row::parse_phone;
use super::org::text_enum;

/// How long a mailed link works.
pub const LINK_VALID_HOURS: i64 = 24;

/// How long a phone request waits on the admins' queue before it lapses.
pub const QUEUE_DAYS: i64 = 30;

/// What erased free text reads as afterwards.
pub const ERASED_TEXT: &str = "[erased]";

/// Leads erased per transaction by retention: small enough that intake and purchases
/// waiting on the same rows are held up for a moment only.
pub const RETENTION_CHUNK: usize = 500;

/// `rights_requests.channel`: how the person is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestChannel {
    /// A one-time link mailed to the address.
    Email,
    /// An admin confirms it on the queue (no SMS is sent).
    Phone,
}
text_enum!(RequestChannel { Email => "email", Phone => "phone" });

/// `rights_requests.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Asked; an email link not used yet, or a phone waiting for an admin.
    Pending,
    /// An admin checked the phone request: it may be seen and erased.
    Confirmed,
    /// The contact was erased through it: the request opens nothing any more.
    Erased,
    /// An admin turned the phone request down.
    Dismissed,
}
text_enum!(RequestStatus {
    Pending => "pending",
    Confirmed => "confirmed",
    Erased => "erased",
    Dismissed => "dismissed",
});

pub use super::audit::{AuditAction, AuditActor};

/// A contact as the person typed it, parsed: the dedup key leads are matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// Lower-cased and trimmed (the link is mailed to it).
    Email(String),
    /// E.164.
    Phone(String),
}

impl Contact {
    /// An email (anything with `@`) or a phone, national numbers read in `country`.
    pub fn parse(raw: &str, country: Option<&str>) -> Result<Contact, &'static str> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("type your email address or your phone number");
        }
        if raw.contains('@') {
            return raw
                .parse::<super::Email>()
                .map(|e| Contact::Email(e.as_str().to_string()))
                .map_err(|_| "this is not an email address we can read");
        }
        let country = country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        parse_phone(raw, country.as_deref())
            .map(Contact::Phone)
            .ok_or("this is not a phone number we can read: type it with its country code (+44...) or choose its country")
    }

    pub fn channel(&self) -> RequestChannel {
        match self {
            Contact::Email(_) => RequestChannel::Email,
            Contact::Phone(_) => RequestChannel::Phone,
        }
    }

    /// The same key intake stores in `leads.email_key` / `leads.phone_key`.
    pub fn key(&self) -> Key {
        match self {
            Contact::Email(e) => dedup::email_key(e),
            Contact::Phone(p) => dedup::phone_key(p),
        }
    }
}

/// When a link or queued request made at `now` stops working.
pub fn expires_at(channel: RequestChannel, now: NaiveDateTime) -> NaiveDateTime {
    match channel {
        RequestChannel::Email => now + TimeDelta::hours(LINK_VALID_HOURS),
        RequestChannel::Phone => now + TimeDelta::days(QUEUE_DAYS),
    }
}

/// Leads captured before this are past retention.
pub fn retention_cutoff(now: NaiveDateTime, retention_days: i64) -> NaiveDateTime {
    now - TimeDelta::days(retention_days.max(1))
}

/// Whether a rejected row's cells (as uploaded) hold one of `keys`: every cell is read
/// as an email or a phone (national numbers in any country the row names) and keyed as
/// intake keys it, so a row typed "Ann.Lee@GMail.com" or "07911 123456" is found too.
pub fn cells_hold_any(cells: &[String], keys: &HashSet<Key>) -> bool {
    if keys.is_empty() {
        return false;
    }
    let countries: Vec<&str> = cells
        .iter()
        .map(|c| c.trim())
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        .collect();
    cells.iter().map(|c| c.trim()).any(|cell| {
        if cell.is_empty() {
            return false;
        }
        if cell.contains('@') {
            return keys.contains(&dedup::email_key(cell));
        }
        if cell.chars().filter(char::is_ascii_digit).count() < 6 {
            return false;
        }
        std::iter::once(None)
            .chain(countries.iter().map(|c| Some(*c)))
            .filter_map(|country| parse_phone(cell, country))
            .any(|e164| keys.contains(&dedup::phone_key(&e164)))
    })
}

/// Whether `text` names one of `words` (lower-case emails and E.164 phones) as a whole
/// word, or holds one of `phrases` (streets, lower-case). Words are found by splitting,
/// so a long outbox is read once however many contacts are looked for.
pub fn mentions_any(text: &str, words: &HashSet<String>, phrases: &[String]) -> bool {
    let lower = text.to_lowercase();
    let separator = |c: char| c.is_whitespace() || "<>\"'(),;:[]{}=&?/|`".contains(c);
    lower
        .split(separator)
        .map(|w| w.trim_end_matches('.'))
        .any(|w| !w.is_empty() && words.contains(w))
        || phrases
            .iter()
            .any(|p| !p.trim().is_empty() && lower.contains(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn channels_and_statuses_are_their_stored_text() {
        assert_text_enum(RequestChannel::ALL, RequestChannel::as_str);
        assert_text_enum(RequestStatus::ALL, RequestStatus::as_str);
    }

    #[test]
    fn a_typed_email_has_the_key_intake_gave_the_lead() {
        let c = Contact::parse("  Ann.Lee+promo@GMail.com ", None).unwrap();
        assert_eq!(c, Contact::Email("ann.lee+promo@gmail.com".into()));
        assert_eq!(c.key(), dedup::email_key("annlee@gmail.com"));
        assert_eq!(c.channel(), RequestChannel::Email);
    }

    #[test]
    fn a_national_phone_needs_its_country_and_keys_as_e164() {
        assert!(Contact::parse("07911 123456", None).is_err());
        let c = Contact::parse("07911 123456", Some("gb")).unwrap();
        assert_eq!(c, Contact::Phone("+447911123456".into()));
        assert_eq!(c.key(), dedup::phone_key("+447911123456"));
        assert_eq!(
            Contact::parse("+44 7911 123456", None).unwrap().channel(),
            RequestChannel::Phone
        );
    }

    #[test]
    fn nothing_or_nonsense_is_refused() {
        assert!(Contact::parse("   ", None).is_err());
        assert!(Contact::parse("ann@", None).is_err());
        assert!(Contact::parse("hello", Some("DE")).is_err());
    }

    #[test]
    fn a_link_works_a_day_and_a_queued_phone_a_month() {
        let now = at("2026-12-02 10:00");
        assert_eq!(
            expires_at(RequestChannel::Email, now),
            at("2026-12-03 10:00")
        );
        assert_eq!(
            expires_at(RequestChannel::Phone, now),
            at("2027-01-01 10:00")
        );
    }

    #[test]
    fn retention_cuts_that_many_days_back_and_never_at_now() {
        let now = at("2026-12-02 10:00");
        assert_eq!(retention_cutoff(now, 1095), at("2023-12-03 10:00"));
        assert_eq!(retention_cutoff(now, 0), at("2026-12-01 10:00"));
    }

    #[test]
    fn mails_are_matched_on_whole_contacts_and_streets() {
        let words: HashSet<String> =
            ["ann@example.com".to_string(), "+447911123456".to_string()].into();
        let streets = vec!["12 high street".to_string()];
        assert!(mentions_any("Email: Ann@Example.com\n", &words, &[]));
        assert!(mentions_any("<td>+447911123456</td>", &words, &[]));
        assert!(mentions_any(
            "Street: 12 High Street.",
            &HashSet::new(),
            &streets
        ));
        assert!(!mentions_any("Email: joann@example.com", &words, &[]));
        assert!(!mentions_any("call +4479111234567", &words, &[]));
        assert!(!mentions_any("anything", &HashSet::new(), &[String::new()]));
    }

    #[test]
    fn rejected_cells_are_matched_through_the_dedup_keys() {
        let keys: HashSet<Key> = [
            dedup::email_key("ann@example.com"),
            dedup::phone_key("+447911123456"),
        ]
        .into();
        let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(cells_hold_any(
            &row(&["Ann", "ANN@Example.com", "34"]),
            &keys
        ));
        assert!(cells_hold_any(
            &row(&["Ann", "", "07911 123456", "GB"]),
            &keys
        ));
        assert!(cells_hold_any(&row(&["+44 7911 123456"]), &keys));
        assert!(!cells_hold_any(
            &row(&["Bob", "bob@example.com", "07911 123457", "GB"]),
            &keys
        ));
        assert!(!cells_hold_any(&row(&["ann@example.com"]), &HashSet::new()));
    }
}
