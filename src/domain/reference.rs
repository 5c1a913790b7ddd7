//! Segments and channels as intake knows them: the slugs new leads may use, and the
//! retired ones, which stay on old leads but are refused for new ones with that reason.
//! Also the rules for a slug and a name an admin gives a new one.

use std::collections::{HashMap, HashSet};

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

/// The segment tree as the segments table keeps it (`parent`), so a segment an admin
/// moved is matched under its new parent while its slug, which leads, orders and price
/// rules name, stays the same. A slug the tree does not know follows its dots
/// (`insurance.car` under `insurance`), the rule new slugs are made by.
#[derive(Debug, Clone, Default)]
pub struct SegmentTree {
    parents: HashMap<String, Option<String>>,
}

impl SegmentTree {
    /// From `(slug, parent)` rows.
    pub fn new(rows: impl IntoIterator<Item = (String, Option<String>)>) -> Self {
        Self {
            parents: rows.into_iter().collect(),
        }
    }

    pub fn contains(&self, slug: &str) -> bool {
        self.parents.contains_key(slug)
    }

    pub fn parent<'a>(&'a self, slug: &'a str) -> Option<&'a str> {
        match self.parents.get(slug) {
            Some(parent) => parent.as_deref(),
            None => slug.rsplit_once('.').map(|(head, _)| head),
        }
    }

    /// `slug`, then its parents up to the top, nearest first: the segments a filter or
    /// an order may name to include a lead of `slug`.
    pub fn lineage<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        // A cycle cannot be saved (`check_move`); the bound only keeps a damaged table
        // from looping forever.
        let bound = self.parents.len() + slug.len() + 1;
        std::iter::successors(Some(slug), move |s| self.parent(s)).take(bound)
    }

    /// [`Self::lineage`], owned.
    pub fn lineage_owned(&self, slug: &str) -> Vec<String> {
        self.lineage(slug).map(str::to_string).collect()
    }

    /// True when `slug` is `segment` or lies anywhere under it.
    pub fn within(&self, slug: &str, segment: &str) -> bool {
        self.lineage(slug).any(|s| s == segment)
    }

    /// The top segment `slug` lies under (itself when it is one).
    pub fn root<'a>(&'a self, slug: &'a str) -> &'a str {
        self.lineage(slug).last().unwrap_or(slug)
    }

    /// Every known slug within `segment` (itself included), sorted.
    pub fn within_of(&self, segment: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .parents
            .keys()
            .filter(|s| self.within(s, segment))
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Why `slug` may not move under `parent` (`None`: to the top), if it may not.
    pub fn check_move(&self, slug: &str, parent: Option<&str>) -> Result<(), String> {
        if !self.contains(slug) {
            return Err(format!("`{slug}` is not a known segment"));
        }
        let Some(p) = parent else {
            return Ok(());
        };
        if !self.contains(p) {
            Err(format!("`{p}` is not a known segment"))
        } else if self.within(p, slug) {
            Err(format!(
                "`{p}` is `{slug}` or lies under it: a segment cannot move under itself"
            ))
        } else {
            Ok(())
        }
    }

    /// `slugs` in tree order (each parent, then what lies under it, by slug), with
    /// each one's depth.
    pub fn ordered(&self, slugs: &[String]) -> Vec<(String, usize)> {
        let known: HashSet<&str> = slugs.iter().map(String::as_str).collect();
        let mut children: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
        for s in slugs {
            // A parent outside `slugs` would hide its children: they show at the top.
            let parent = self.parent(s).filter(|p| known.contains(p));
            children.entry(parent).or_default().push(s);
        }
        for list in children.values_mut() {
            list.sort_unstable();
        }
        let mut out = Vec::with_capacity(slugs.len());
        let mut stack: Vec<(&str, usize)> = children
            .get(&None)
            .map(|top| top.iter().rev().map(|s| (*s, 0)).collect())
            .unwrap_or_default();
        let mut seen: HashSet<&str> = HashSet::new();
        while let Some((s, depth)) = stack.pop() {
            if !seen.insert(s) {
                continue;
            }
            out.push((s.to_string(), depth));
            if let Some(kids) = children.get(&Some(s)) {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
        out
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

    fn tree() -> SegmentTree {
        SegmentTree::new(
            [
                ("insurance", None),
                ("insurance.car", Some("insurance")),
                ("insurance.pet", Some("pets")),
                ("pets", None),
                ("travel", None),
            ]
            .map(|(s, p)| (s.to_string(), p.map(str::to_string))),
        )
    }

    #[test]
    fn a_segment_is_within_itself_and_its_parents_as_the_tree_keeps_them() {
        let t = tree();
        assert!(t.within("insurance.car", "insurance"));
        assert!(t.within("insurance", "insurance"));
        assert!(!t.within("insurance", "insurance.car"));
        // Moved: its slug stays, its place follows `parent`.
        assert!(t.within("insurance.pet", "pets"));
        assert!(!t.within("insurance.pet", "insurance"));
        assert_eq!(t.lineage_owned("insurance.pet"), ["insurance.pet", "pets"]);
        assert_eq!(t.root("insurance.pet"), "pets");
        assert_eq!(t.within_of("pets"), ["insurance.pet", "pets"]);
        // Unknown slugs follow their dots; `insurances` is not under `insurance`.
        assert_eq!(t.lineage_owned("home.flood"), ["home.flood", "home"]);
        assert!(!t.within("insurances", "insurance"));
    }

    #[test]
    fn a_segment_moves_anywhere_but_under_itself() {
        let t = tree();
        assert!(t.check_move("insurance.car", Some("travel")).is_ok());
        assert!(t.check_move("insurance.car", None).is_ok());
        assert!(t.check_move("insurance", Some("insurance.car")).is_err());
        assert!(t.check_move("insurance", Some("insurance")).is_err());
        assert!(t.check_move("insurance", Some("nowhere")).is_err());
        assert!(t.check_move("nowhere", None).is_err());
    }

    #[test]
    fn the_tree_lists_each_parent_before_what_lies_under_it() {
        let t = tree();
        let all: Vec<String> = [
            "insurance",
            "insurance.car",
            "insurance.pet",
            "pets",
            "travel",
        ]
        .map(str::to_string)
        .to_vec();
        let want = [
            ("insurance", 0),
            ("insurance.car", 1),
            ("pets", 0),
            ("insurance.pet", 1),
            ("travel", 0),
        ]
        .map(|(s, d)| (s.to_string(), d));
        assert_eq!(t.ordered(&all), want);
    }

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
