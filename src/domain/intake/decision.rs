//! Which of a chunk's candidate rows are kept, once their dedup keys have been looked up:
//! suppressed contacts and duplicates (of the store or of an earlier row) are left out,
//! in file order, and a phone shared under different names flags its first owner.

use std::collections::{HashMap, HashSet};

use super::pseudo::{self, Signal};
use crate::domain::dedup::Key;

/// Why a row was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub field: String,
    pub message: String,
}

impl Reason {
    pub fn new(code: &str, field: &str, message: &str) -> Self {
        Self {
            code: code.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// A pseudo-lead signal as a reason about the whole row.
    pub fn signal(s: &Signal) -> Self {
        Self::new(s.code, "row", s.message)
    }
}

/// What the decision needs of one candidate row.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    pub phone_key: Option<&'a [u8]>,
    pub email_key: Option<&'a [u8]>,
    /// Lower-cased full name, for "the same phone under different names".
    pub name: &'a str,
    /// The row's soft pseudo-lead signals, flagged on it when it is kept.
    pub soft: &'a [Signal],
}

impl<'a> Keys<'a> {
    /// The dedup keys present: phone, then email.
    fn all(&self) -> impl Iterator<Item = &'a [u8]> {
        self.phone_key.into_iter().chain(self.email_key)
    }
}

/// A candidate left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftOut {
    Suppressed(Vec<Reason>),
    Duplicate(Vec<Reason>),
}

/// The decision over one chunk, by row index.
#[derive(Debug, Default)]
pub struct Decision {
    /// The candidates left out (rows that were no candidate are in neither list).
    pub left_out: Vec<(usize, LeftOut)>,
    /// The candidates kept, in file order.
    pub kept: Vec<usize>,
    /// Soft signals per row: a kept row's own, and `SHARED_PHONE` on the first owner of
    /// a phone a later row brought under another name.
    pub soft_flags: HashMap<usize, Vec<Signal>>,
}

/// Decides each candidate (`None`: the row was rejected before) in file order against
/// the keys found in the store (`existing`, within `dedup_days`) and on the suppression
/// list.
pub fn decide(
    candidates: &[Option<Keys<'_>>],
    existing: &HashSet<Key>,
    suppressed: &HashSet<Key>,
    dedup_days: i64,
) -> Decision {
    let mut d = Decision::default();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut phone_owner: HashMap<&[u8], (&str, usize)> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        let Some(c) = c else { continue };
        if c.all().any(|k| suppressed.contains(k)) {
            d.left_out.push((
                i,
                LeftOut::Suppressed(vec![Reason::new(
                    "suppressed",
                    "contact",
                    "is on the suppression list (opted out or do-not-call)",
                )]),
            ));
            continue;
        }
        if c.all().any(|k| existing.contains(k) || seen.contains(k)) {
            let mut reasons = vec![Reason::new(
                "duplicate",
                "contact",
                &format!("was seen in this batch or in the last {dedup_days} days"),
            )];
            if let Some(pk) = c.phone_key
                && let Some((owner, idx)) = phone_owner.get(pk)
                && *owner != c.name
            {
                reasons.push(Reason::signal(&pseudo::SHARED_PHONE));
                d.soft_flags
                    .entry(*idx)
                    .or_default()
                    .push(pseudo::SHARED_PHONE);
            }
            d.left_out.push((i, LeftOut::Duplicate(reasons)));
            continue;
        }
        seen.extend(c.all());
        if let Some(pk) = c.phone_key {
            phone_owner.insert(pk, (c.name, i));
        }
        d.soft_flags
            .entry(i)
            .or_default()
            .extend(c.soft.iter().cloned());
        d.kept.push(i);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<'a>(phone: Option<&'a str>, email: Option<&'a str>, name: &'a str) -> Keys<'a> {
        Keys {
            phone_key: phone.map(str::as_bytes),
            email_key: email.map(str::as_bytes),
            name,
            soft: &[],
        }
    }

    fn set(keys: &[&str]) -> HashSet<Key> {
        keys.iter().map(|k| k.as_bytes().to_vec()).collect()
    }

    fn codes(d: &Decision) -> Vec<(usize, Vec<&str>)> {
        d.left_out
            .iter()
            .map(|(i, l)| {
                let r = match l {
                    LeftOut::Suppressed(r) | LeftOut::Duplicate(r) => r,
                };
                (*i, r.iter().map(|r| r.code.as_str()).collect())
            })
            .collect()
    }

    #[test]
    fn keeps_new_contacts_in_file_order_and_skips_rejected_rows() {
        let c = [
            Some(keys(Some("p1"), None, "ann")),
            None,
            Some(keys(None, Some("e2"), "bob")),
        ];
        let d = decide(&c, &set(&[]), &set(&[]), 30);
        assert_eq!(d.kept, vec![0, 2]);
        assert!(d.left_out.is_empty());
    }

    #[test]
    fn suppression_wins_over_duplicate() {
        let c = [Some(keys(Some("p1"), Some("e1"), "ann"))];
        let d = decide(&c, &set(&["p1"]), &set(&["e1"]), 30);
        assert!(d.kept.is_empty());
        assert_eq!(codes(&d), vec![(0, vec!["suppressed"])]);
        assert!(matches!(d.left_out[0].1, LeftOut::Suppressed(_)));
    }

    #[test]
    fn a_key_in_the_store_or_an_earlier_row_is_a_duplicate() {
        let c = [
            Some(keys(None, Some("e1"), "ann")),
            Some(keys(Some("p2"), Some("e1"), "ann")),
            Some(keys(Some("p3"), None, "cy")),
        ];
        let d = decide(&c, &set(&["p3"]), &set(&[]), 14);
        assert_eq!(d.kept, vec![0]);
        assert_eq!(
            codes(&d),
            vec![(1, vec!["duplicate"]), (2, vec!["duplicate"])]
        );
        let LeftOut::Duplicate(r) = &d.left_out[0].1 else {
            panic!("a duplicate")
        };
        assert_eq!(
            r[0].message,
            "was seen in this batch or in the last 14 days"
        );
    }

    #[test]
    fn a_phone_under_another_name_flags_its_first_owner() {
        let c = [
            Some(keys(Some("p1"), None, "ann")),
            Some(keys(Some("p1"), None, "ann")),
            Some(keys(Some("p1"), None, "bob")),
        ];
        let d = decide(&c, &set(&[]), &set(&[]), 30);
        assert_eq!(d.kept, vec![0]);
        // The same name again is a plain duplicate; another name is flagged on both.
        assert_eq!(
            codes(&d),
            vec![
                (1, vec!["duplicate"]),
                (2, vec!["duplicate", pseudo::SHARED_PHONE.code])
            ]
        );
        assert_eq!(d.soft_flags[&0], vec![pseudo::SHARED_PHONE]);
    }

    #[test]
    fn a_kept_row_carries_its_soft_signals() {
        let soft = [pseudo::SHARED_PHONE];
        let c = [Some(Keys {
            soft: &soft,
            ..keys(None, Some("e1"), "ann")
        })];
        let d = decide(&c, &set(&[]), &set(&[]), 30);
        assert_eq!(d.soft_flags[&0], vec![pseudo::SHARED_PHONE]);
    }
}
