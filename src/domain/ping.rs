//! Ping-post: an open second-price auction among the standing orders that want a lead
//! the agency pinged without its contact. The rules here are pure: who wins, what the
//! winner pays, how ties rotate, what a ping holds, whether a post still fits its ping.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{Map, Value};

use super::dedup::{KEY_BYTES, Key};
use super::intake::row::{parse_bool, parse_country, parse_timestamp};
use super::org::text_enum;
use super::problem::FieldProblem;
use super::reference::Slugs;
use super::scoring::{ContactType, Warmth};

/// How long an offer holds: the agency posts the lead within this or loses it.
pub const HOLD_SECONDS: i64 = 60;

/// `pings.status`. `Open` past its `expires_at` is shown as `Expired` ([`PingStatus::at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PingStatus {
    /// An offer holds: the winner's cap and budget count it until it is posted or expires.
    Open,
    /// No order bid at or above the reserve.
    NoOffer,
    /// The lead was posted against it and sold to the winner.
    Posted,
    Expired,
}
text_enum!(PingStatus {
    Open => "open",
    NoOffer => "no_offer",
    Posted => "posted",
    Expired => "expired",
});

impl PingStatus {
    /// The status as of `now`: an open offer past its time has expired, stored or not.
    pub fn at(self, expires_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Self {
        match (self, expires_at) {
            (PingStatus::Open, Some(t)) if t <= now => PingStatus::Expired,
            (s, _) => s,
        }
    }
}

/// `ping_bids.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BidOutcome {
    Won,
    Lost,
    /// Bid below the agency's reserve: never in the running.
    UnderReserve,
}
text_enum!(BidOutcome { Won => "won", Lost => "lost", UnderReserve => "under_reserve" });

/// One order's bid. `served_at` is when the order last bought or won (None: never), the
/// turn a tie is broken by; `id` breaks what is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bid<'a> {
    pub order_id: &'a str,
    pub bid_cents: i64,
    pub served_at: Option<NaiveDateTime>,
}

/// What an auction decided: the winner's index in the bids, the price, and each bid's
/// outcome (same order as the bids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auction {
    pub winner: Option<usize>,
    pub price_cents: Option<i64>,
    pub outcomes: Vec<BidOutcome>,
}

/// A sealed-bid second-price auction with a reserve. Bids under the reserve lose. The
/// highest bid wins; among equal highest bids the order served longest ago (never
/// first), then the lowest id. The winner pays the second-highest bid at or above the
/// reserve (a tie at the top pays the tied amount), or the reserve when it is alone:
/// bidding one's true ceiling is always safe.
pub fn run_auction(bids: &[Bid<'_>], reserve_cents: i64) -> Auction {
    let mut ranked: Vec<usize> = (0..bids.len())
        .filter(|&i| bids[i].bid_cents >= reserve_cents)
        .collect();
    ranked.sort_by(|&a, &b| {
        let (a, b) = (&bids[a], &bids[b]);
        b.bid_cents
            .cmp(&a.bid_cents)
            .then(a.served_at.is_some().cmp(&b.served_at.is_some()))
            .then(a.served_at.cmp(&b.served_at))
            .then(a.order_id.cmp(b.order_id))
    });
    let winner = ranked.first().copied();
    let price_cents = winner.map(|_| {
        ranked
            .get(1)
            .map_or(reserve_cents, |&second| bids[second].bid_cents)
    });
    let outcomes = (0..bids.len())
        .map(|i| {
            if Some(i) == winner {
                BidOutcome::Won
            } else if bids[i].bid_cents < reserve_cents {
                BidOutcome::UnderReserve
            } else {
                BidOutcome::Lost
            }
        })
        .collect();
    Auction {
        winner,
        price_cents,
        outcomes,
    }
}

/// What an order bids: its ceiling, but never more than it can still pay (the budget
/// left once the offers it holds are counted, and its buyer's credit; None: no limit).
/// A bid under the reserve is kept for the log and loses; nothing to pay is no bid.
pub fn bid_for(max_price_cents: i64, can_pay_cents: Option<i64>) -> Option<i64> {
    let bid = can_pay_cents.map_or(max_price_cents, |left| max_price_cents.min(left));
    (bid > 0).then_some(bid)
}

/// When an offer made at `now` stops holding.
pub fn expires_at(now: NaiveDateTime) -> NaiveDateTime {
    now + TimeDelta::seconds(HOLD_SECONDS)
}

/// Characters of a ping id (a UUIDv7: 48 bits of Unix milliseconds first) that name its
/// bid window: 40 bits of the time, so a window is 256 ms of pings.
const WINDOW_CHARS: usize = 11;

/// The bid window of `ping_id` as `[from, until)` bounds on ping ids: the ids of every
/// ping made in the same 256 ms sort between them. A buyer's auction log finds the
/// windows it bid in (one row per buyer and window, written once) instead of keeping a
/// per-bid index that every ping would write to at one place per bidder. `None` for an
/// id that is not a UUID's text.
pub fn bid_window(ping_id: &str) -> Option<(String, String)> {
    window_bounds(ping_id.get(..WINDOW_CHARS)?)
}

/// The bounds of the window that starts `from` (the first characters of its ids, as
/// [`bid_window`] gives them).
pub fn window_bounds(from: &str) -> Option<(String, String)> {
    if from.len() != WINDOW_CHARS {
        return None;
    }
    let digits: String = from.chars().filter(|c| *c != '-').collect();
    if from.as_bytes()[8] != b'-'
        || digits.len() != 10
        || !digits.bytes().all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    let n = u64::from_str_radix(&digits, 16).ok()?;
    let next = format!("{:010x}", n.checked_add(1)?);
    if next.len() != 10 {
        // The last window of the UUID's time range: every id after `from` is in it.
        return Some((from.to_ascii_lowercase(), "g".to_string()));
    }
    Some((
        format!("{}-{}", &digits[..8], &digits[8..]).to_ascii_lowercase(),
        format!("{}-{}", &next[..8], &next[8..]),
    ))
}

/// The fields of a ping that orders filter on, as compared with the posted lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinged<'a> {
    pub segment: &'a str,
    pub country: &'a str,
    pub region: Option<&'a str>,
    pub postal_key: Option<&'a str>,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub warmth: &'a str,
    pub contact_type: &'a str,
    pub verified: bool,
    pub captured_at: NaiveDateTime,
}

/// The fields a posted lead changed from its ping (by their API names): any of them
/// could change which orders match, so a post that differs is refused.
pub fn changed_fields(pinged: &Pinged<'_>, posted: &Pinged<'_>) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |same: bool, field: &'static str| {
        if !same {
            out.push(field);
        }
    };
    let text =
        |a: Option<&str>, b: Option<&str>| a.map(str::to_lowercase) == b.map(str::to_lowercase);
    check(pinged.segment == posted.segment, "segment");
    check(pinged.country == posted.country, "country");
    check(text(pinged.region, posted.region), "region");
    check(pinged.postal_key == posted.postal_key, "postal_code");
    check(pinged.age == posted.age, "age");
    check(pinged.income_cents == posted.income_cents, "annual_income");
    check(pinged.warmth == posted.warmth, "warmth");
    check(pinged.contact_type == posted.contact_type, "contact_type");
    check(pinged.verified == posted.verified, "verified");
    // Times round-trip through text: a second is the contract's precision.
    check(
        (pinged.captured_at - posted.captured_at)
            .num_seconds()
            .abs()
            < 1,
        "captured_at",
    );
    out
}

/// Fields that are contact data: a ping never carries them (the post does).
const CONTACT_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "ip",
    "birth_date",
];

/// A ping as parsed at the edge: what orders filter on, the reserve, and the person's
/// dedup keys (so orders that bought them before stay out), never the contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingLead {
    pub segment: String,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    /// `catalogue::postal_key` of the postal code.
    pub postal_key: Option<String>,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub warmth: Warmth,
    pub contact_type: ContactType,
    pub verified: bool,
    pub channel: Option<String>,
    pub captured_at: NaiveDateTime,
    pub reserve_cents: i64,
    pub phone_key: Option<Key>,
    pub email_key: Option<Key>,
}

impl PingLead {
    pub fn pinged(&self) -> Pinged<'_> {
        Pinged {
            segment: &self.segment,
            country: &self.country,
            region: self.region.as_deref(),
            postal_key: self.postal_key.as_deref(),
            age: self.age,
            income_cents: self.income_cents,
            warmth: self.warmth.as_str(),
            contact_type: self.contact_type.as_str(),
            verified: self.verified,
            captured_at: self.captured_at,
        }
    }
}

/// Parses a ping's body: every problem listed. `segments` and `channels` are the known
/// slugs; `captured_at` defaults to `now`. The hashes are hex SHA-256 digests built as
/// the dedup keys are (`dedup::phone_key` of the E.164 number, `dedup::email_key`).
pub fn parse_ping(
    body: &Map<String, Value>,
    segments: &Slugs,
    channels: &Slugs,
    now: NaiveDateTime,
) -> Result<PingLead, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let text = |k: &str| -> Option<String> {
        match body.get(k)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    for field in CONTACT_FIELDS {
        if body.get(*field).is_some_and(|v| !v.is_null()) {
            problems.push(FieldProblem::new(
                *field,
                "is contact data: a ping carries none (send it with the post)",
            ));
        }
    }
    let required = |field: &str, problems: &mut Vec<FieldProblem>| {
        let v = text(field);
        if v.is_none() {
            problems.push(FieldProblem::new(field, "is required"));
        }
        v
    };
    let segment = required("segment", &mut problems).and_then(|s| {
        let known = segments.contains(&s);
        if !known {
            problems.push(FieldProblem::new(
                "segment",
                segments.refusal(&s, "segment"),
            ));
        }
        known.then_some(s)
    });
    let country = required("country", &mut problems).and_then(|c| {
        let parsed = parse_country(&c);
        if parsed.is_none() {
            problems.push(FieldProblem::new(
                "country",
                "must be an ISO 3166-1 code such as DE",
            ));
        }
        parsed
    });
    let age = required("age", &mut problems).and_then(|a| match a.parse::<i32>() {
        Ok(a) if (18..=120).contains(&a) => Some(a),
        _ => {
            problems.push(FieldProblem::new(
                "age",
                "must be a whole number from 18 to 120",
            ));
            None
        }
    });
    let warmth = required("warmth", &mut problems).and_then(|w| {
        let parsed = w.parse::<Warmth>().ok();
        if parsed.is_none() {
            problems.push(FieldProblem::new("warmth", "must be cold, warm or hot"));
        }
        parsed
    });
    let contact_type = required("contact_type", &mut problems).and_then(|c| {
        let parsed = c.parse::<ContactType>().ok();
        if parsed.is_none() {
            problems.push(FieldProblem::new(
                "contact_type",
                "must be quick, registration, promotional or interested",
            ));
        }
        parsed
    });
    let reserve_cents = match body.get("price_cents").and_then(Value::as_i64) {
        Some(p) if p >= 0 => Some(p),
        _ => {
            problems.push(FieldProblem::new(
                "price_cents",
                "must be the reserve in minor units, 0 or more",
            ));
            None
        }
    };
    let income_cents =
        text("annual_income").and_then(|raw| match crate::domain::money::parse_major(&raw) {
            Ok(c) => Some(c),
            Err(why) => {
                problems.push(FieldProblem::new("annual_income", why));
                None
            }
        });
    let verified = match text("verified") {
        None => false,
        Some(v) => parse_bool(&v).unwrap_or_else(|| {
            problems.push(FieldProblem::new("verified", "must be true or false"));
            false
        }),
    };
    let channel = text("channel").and_then(|c| {
        let known = channels.contains(&c);
        if !known {
            problems.push(FieldProblem::new(
                "channel",
                channels.refusal(&c, "channel"),
            ));
        }
        known.then_some(c)
    });
    let captured_at = match text("captured_at") {
        None => now,
        Some(raw) => match parse_timestamp(&raw) {
            Some(t) if t <= now + TimeDelta::minutes(5) => t,
            Some(_) => {
                problems.push(FieldProblem::new("captured_at", "is in the future"));
                now
            }
            None => {
                problems.push(FieldProblem::new("captured_at", "must be an RFC 3339 time"));
                now
            }
        },
    };
    let mut key = |field: &str| -> Option<Key> {
        let raw = text(field)?;
        match hex::decode(raw.to_ascii_lowercase()) {
            Ok(k) if k.len() == KEY_BYTES => Some(k),
            _ => {
                problems.push(FieldProblem::new(
                    field,
                    "must be the 64 hex digits of a SHA-256, built as the dedup keys are",
                ));
                None
            }
        }
    };
    let phone_key = key("phone_hash");
    let email_key = key("email_hash");
    let region = text("region");
    let city = text("city");
    let postal_code = text("postal_code");
    match (segment, country, age, warmth, contact_type, reserve_cents) {
        (
            Some(segment),
            Some(country),
            Some(age),
            Some(warmth),
            Some(contact_type),
            Some(reserve_cents),
        ) if problems.is_empty() => {
            let postal_key = crate::domain::catalogue::postal_key(&country, postal_code.as_deref());
            Ok(PingLead {
                segment,
                country,
                region,
                city,
                postal_key,
                age,
                income_cents,
                warmth,
                contact_type,
                verified,
                channel,
                captured_at,
                reserve_cents,
                phone_key,
                email_key,
            })
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;
    use std::collections::HashSet;

    #[test]
    fn a_bid_window_holds_every_ping_id_of_its_256_milliseconds() {
        let a = "01938f3e-7a10-7000-8000-000000000000";
        let b = "01938f3e-7aff-7fff-bfff-ffffffffffff";
        let (from, until) = bid_window(a).unwrap();
        assert_eq!(
            (from.as_str(), until.as_str()),
            ("01938f3e-7a", "01938f3e-7b")
        );
        assert_eq!(bid_window(b).unwrap(), (from.clone(), until.clone()));
        assert!(from.as_str() <= a && a < until.as_str() && b < until.as_str());
        // The carry moves into the first group.
        let (from, until) = bid_window("01938f3e-ff00-7000-8000-000000000000").unwrap();
        assert_eq!(
            (from.as_str(), until.as_str()),
            ("01938f3e-ff", "01938f3f-00")
        );
        let (_, until) = bid_window("ffffffff-ff00-7000-8000-000000000000").unwrap();
        assert!("ffffffff-ffff-7000-8000-000000000000" < until.as_str());
        // Ids of real pings, one after another, fall into their window.
        let id = uuid::Uuid::now_v7().to_string();
        let (from, until) = bid_window(&id).unwrap();
        assert!(from.as_str() <= id.as_str() && id.as_str() < until.as_str());
    }

    #[test]
    fn a_bid_window_needs_a_uuids_text() {
        assert_eq!(bid_window("short"), None);
        assert_eq!(bid_window("01938f3e7a10-7000-8000-000000000000"), None);
        assert_eq!(bid_window("0193zz3e-7a10-7000-8000-000000000000"), None);
        assert_eq!(window_bounds("01938f3e-7a1"), None);
        assert_eq!(
            window_bounds("01938f3e-7a"),
            Some(("01938f3e-7a".into(), "01938f3e-7b".into()))
        );
    }

    fn bid(id: &str, cents: i64) -> Bid<'_> {
        Bid {
            order_id: id,
            bid_cents: cents,
            served_at: None,
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn ping_statuses_and_bid_outcomes_are_their_stored_text() {
        assert_text_enum(PingStatus::ALL, PingStatus::as_str);
        assert_text_enum(BidOutcome::ALL, BidOutcome::as_str);
    }

    #[test]
    fn a_lone_bidder_pays_the_reserve() {
        let a = run_auction(&[bid("a", 900)], 500);
        assert_eq!(a.winner, Some(0));
        assert_eq!(a.price_cents, Some(500));
        assert_eq!(a.outcomes, vec![BidOutcome::Won]);
    }

    #[test]
    fn two_bidders_the_winner_pays_the_second_bid() {
        let a = run_auction(&[bid("a", 700), bid("b", 900)], 500);
        assert_eq!(a.winner, Some(1));
        assert_eq!(a.price_cents, Some(700));
        assert_eq!(a.outcomes, vec![BidOutcome::Lost, BidOutcome::Won]);
    }

    #[test]
    fn three_bidders_one_under_the_reserve() {
        let a = run_auction(&[bid("a", 400), bid("b", 900), bid("c", 650)], 500);
        assert_eq!(a.winner, Some(1));
        assert_eq!(a.price_cents, Some(650));
        assert_eq!(
            a.outcomes,
            vec![BidOutcome::UnderReserve, BidOutcome::Won, BidOutcome::Lost]
        );
        // Under the reserve, the runner-up does not count: the winner pays the reserve.
        let b = run_auction(&[bid("a", 400), bid("b", 900)], 500);
        assert_eq!(b.price_cents, Some(500));
    }

    #[test]
    fn no_bid_at_the_reserve_is_no_offer() {
        let a = run_auction(&[bid("a", 499)], 500);
        assert_eq!(a.winner, None);
        assert_eq!(a.price_cents, None);
        assert!(run_auction(&[], 0).winner.is_none());
        // At the reserve exactly is a bid.
        assert_eq!(run_auction(&[bid("a", 500)], 500).price_cents, Some(500));
    }

    #[test]
    fn a_tie_goes_to_the_order_served_longest_ago_and_pays_the_tied_bid() {
        let mut bids = vec![bid("a", 800), bid("b", 800)];
        bids[0].served_at = Some(at("2026-12-02 10:00:00"));
        let a = run_auction(&bids, 100);
        assert_eq!(a.winner, Some(1), "never served goes first");
        assert_eq!(a.price_cents, Some(800));
        bids[1].served_at = Some(at("2026-12-02 10:00:01"));
        assert_eq!(run_auction(&bids, 100).winner, Some(0));
        bids[0].served_at = bids[1].served_at;
        assert_eq!(run_auction(&bids, 100).winner, Some(0), "then by id");
    }

    #[test]
    fn a_budget_lowers_the_bid_and_nothing_left_is_no_bid() {
        assert_eq!(bid_for(900, None), Some(900));
        assert_eq!(bid_for(900, Some(600)), Some(600));
        assert_eq!(bid_for(900, Some(0)), None);
        assert_eq!(bid_for(0, None), None);
        // A budget that cannot reach the reserve bids under it, and loses.
        let a = run_auction(&[bid("a", bid_for(900, Some(499)).unwrap())], 500);
        assert_eq!(a.outcomes, vec![BidOutcome::UnderReserve]);
    }

    #[test]
    fn an_open_offer_expires_at_its_time() {
        let now = at("2026-12-02 10:00:00");
        let exp = expires_at(now);
        assert_eq!(exp, at("2026-12-02 10:01:00"));
        assert_eq!(PingStatus::Open.at(Some(exp), now), PingStatus::Open);
        assert_eq!(PingStatus::Open.at(Some(exp), exp), PingStatus::Expired);
        assert_eq!(PingStatus::Posted.at(Some(exp), exp), PingStatus::Posted);
    }

    fn known() -> (Slugs, Slugs) {
        (
            HashSet::from(["travel".to_string()]).into(),
            HashSet::from(["web_form".to_string()]).into(),
        )
    }

    #[test]
    fn a_ping_parses_its_fields_and_refuses_contact_data() {
        let (segments, channels) = known();
        let now = at("2026-12-02 10:00:00");
        let body: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "segment": "travel", "country": "de", "postal_code": "80331", "age": 34,
            "annual_income": "52000", "warmth": "hot", "contact_type": "quick",
            "verified": true, "channel": "web_form", "price_cents": 500,
            "phone_hash": hex::encode(crate::domain::dedup::phone_key("+4915112345678")),
        }))
        .unwrap();
        let p = parse_ping(&body, &segments, &channels, now).unwrap();
        assert_eq!(p.country, "DE");
        assert_eq!(p.income_cents, Some(5_200_000));
        assert_eq!(p.captured_at, now);
        assert_eq!(p.reserve_cents, 500);
        assert!(p.phone_key.is_some() && p.email_key.is_none());
        let mut with_contact = body.clone();
        with_contact.insert("email".into(), "ann@example.com".into());
        with_contact.insert("age".into(), 12.into());
        let problems = parse_ping(&with_contact, &segments, &channels, now).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["email", "age"]);
        let empty = parse_ping(&Map::new(), &segments, &channels, now).unwrap_err();
        assert_eq!(empty.len(), 6, "{empty:?}");
    }

    #[test]
    fn a_post_that_changes_a_filtered_field_is_named() {
        let t = at("2026-12-02 09:00:00");
        let pinged = Pinged {
            segment: "travel",
            country: "DE",
            region: Some("Bayern"),
            postal_key: Some("DE80331"),
            age: 34,
            income_cents: None,
            warmth: "hot",
            contact_type: "quick",
            verified: false,
            captured_at: t,
        };
        assert!(changed_fields(&pinged, &pinged.clone()).is_empty());
        let posted = Pinged {
            age: 35,
            warmth: "cold",
            region: Some("bayern"),
            ..pinged.clone()
        };
        assert_eq!(changed_fields(&pinged, &posted), vec!["age", "warmth"]);
    }
}
