//! Segments and channels as intake knows them: the slugs new leads may use, and the
//! retired ones, which stay on old leads but are refused for new ones with that reason.
//! Also the rules for a slug and a name an admin gives a new one.

use std::collections::HashSet;

/// The slugs of one kind (segments or channels).
#[derive(Debug, Clone, Default)]
pub struct Slugs {
    live: HashSet<String>,
    retired: HashSet<String>,
}

impl Slugs {
    pub fn new(live: HashSet<String>, retired: HashSet<String>) -> Self {
        Self { live, retired }
    }

    /// Whether a new lead may use `slug`.
    pub fn contains(&self, slug: &str) -> bool {
        self.live.contains(slug)
    }

    pub fn is_retired(&self, slug: &str) -> bool {
        self.retired.contains(slug)
    }

    /// Why a new lead may not use `slug` (`what` is "segment" or "channel").
    pub fn refusal(&self, slug: &str, what: &str) -> String {
        if self.is_retired(slug) {
            format!("`{slug}` is a retired {what}: new leads may no longer use it")
        } else {
            format!("`{slug}` is not a known {what}")
        }
    }
}

impl From<HashSet<String>> for Slugs {
    fn from(live: HashSet<String>) -> Self {
        Self::new(live, HashSet::new())
    }
}

/// A new segment's or channel's slug: 2-48 characters of a-z, 0-9 and `_`, with `.`
/// between parts (`insurance.car`). A sub-segment's slug starts with its parent's and a
/// dot, as the catalogue finds sub-segments by that prefix.
pub fn parse_slug(raw: &str, parent: Option<&str>) -> Result<String, String> {
    let s = raw.trim().to_ascii_lowercase();
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !(2..=48).contains(&s.len()) || !s.split('.').all(part_ok) {
        return Err(format!(
            "`{s}` must be 2-48 characters of a-z, 0-9 and _, with . between parts"
        ));
    }
    match parent {
        Some(p) if s.rsplit_once('.').map(|(head, _)| head) != Some(p) => Err(format!(
            "`{s}` must be `{p}.` and one more part, under its parent"
        )),
        None if s.contains('.') => Err(format!("`{s}` has a dot, so it needs the parent it names")),
        _ => Ok(s),
    }
}

/// A display name: 1-80 characters after trimming.
pub fn parse_name(raw: &str) -> Result<String, String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > 80 {
        Err("must be 1-80 characters".into())
    } else {
        Ok(n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retired_slug_is_refused_with_its_own_reason() {
        let slugs = Slugs::new(
            HashSet::from(["travel".to_string()]),
            HashSet::from(["fax".to_string()]),
        );
        assert!(slugs.contains("travel"));
        assert!(!slugs.contains("fax"));
        assert!(slugs.refusal("fax", "channel").contains("retired channel"));
        assert_eq!(
            slugs.refusal("pets", "segment"),
            "`pets` is not a known segment"
        );
    }

    #[test]
    fn slugs_follow_the_tree_and_names_are_short() {
        assert_eq!(parse_slug(" Pets ", None).unwrap(), "pets");
        assert_eq!(
            parse_slug("insurance.pet", Some("insurance")).unwrap(),
            "insurance.pet"
        );
        assert!(parse_slug("pets.cats", Some("insurance")).is_err());
        assert!(parse_slug("insurance.pet.x", Some("insurance")).is_err());
        assert!(parse_slug("a.b", None).is_err());
        assert!(parse_slug("x", None).is_err());
        assert!(parse_slug("bad slug", None).is_err());
        assert!(parse_slug("double..dot", None).is_err());
        assert_eq!(parse_name("  Pet insurance ").unwrap(), "Pet insurance");
        assert!(parse_name(" ").is_err());
    }
}
