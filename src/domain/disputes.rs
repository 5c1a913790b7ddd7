//! Dispute rules without I/O: who may open one (window, cap), what the platform decides
//! by itself (published on `/help/disputes`), deadlines in working days, and an agency's
//! quality score.

use super::lead::LeadStatus;
use chrono::{Datelike, NaiveDateTime, TimeDelta, Weekday};

pub const REASONS: [&str; 9] = [
    "wrong_number",
    "invalid_email",
    "duplicate",
    "bot",
    "fake_identity",
    "out_of_criteria",
    "competitor",
    "prank",
    "no_consent",
];

/// Reasons that say the lead was never a real, willing person: an approved dispute with
/// one of these withdraws the lead from sale to everyone.
pub const FAKE_REASONS: [&str; 4] = ["bot", "fake_identity", "prank", "no_consent"];

/// What the platform knows about a disputed lead when the dispute is opened.
#[derive(Debug, Clone)]
pub struct LeadFacts {
    pub phone: Option<String>,
    pub country: String,
    pub email: Option<String>,
    pub status: LeadStatus,
    /// The agency flagged the lead itself (`agency_flagged` among its flags).
    pub agency_flagged: bool,
    /// This buyer bought the same person (same phone or email key) before this lead.
    pub bought_same_person_before: bool,
}

/// One rule the platform applies itself, as published.
pub struct AutoRule {
    pub code: &'static str,
    pub reasons: &'static str,
    pub rule: &'static str,
}

pub const AUTO_RULES: [AutoRule; 5] = [
    AutoRule {
        code: "phone_not_valid",
        reasons: "wrong_number",
        rule: "The lead's phone number no longer parses as a valid number of its country (or there is none).",
    },
    AutoRule {
        code: "email_not_valid",
        reasons: "invalid_email",
        rule: "The lead's email fails the syntax check, or its domain is a known disposable-mail service (or there is none).",
    },
    AutoRule {
        code: "bought_before",
        reasons: "duplicate",
        rule: "You bought the same person (same phone or email) earlier.",
    },
    AutoRule {
        code: "erased",
        reasons: "any",
        rule: "The consumer had the lead erased.",
    },
    AutoRule {
        code: "agency_flagged",
        reasons: "any",
        rule: "The agency itself flagged the lead as bad.",
    },
];

/// The evidence for approving a dispute at once, or `None` when someone must look.
pub fn auto_decision(reason: &str, f: &LeadFacts) -> Option<String> {
    if f.status == LeadStatus::Erased {
        return Some("erased: the consumer had the lead erased".into());
    }
    if f.agency_flagged {
        return Some("agency_flagged: the agency flagged the lead".into());
    }
    match reason {
        "wrong_number" => {
            let valid = f
                .phone
                .as_deref()
                .and_then(|p| super::intake::row::parse_phone(p, Some(&f.country)))
                .is_some();
            (!valid).then(|| "phone_not_valid: the phone number does not parse as valid".into())
        }
        "invalid_email" => match f.email.as_deref() {
            None => Some("email_not_valid: the lead has no email".into()),
            Some(e) if e.parse::<super::email::Email>().is_err() => {
                Some("email_not_valid: the email fails the syntax check".into())
            }
            Some(e) if super::intake::pseudo::is_disposable_email(e) => {
                Some("email_not_valid: the email's domain is a disposable-mail service".into())
            }
            _ => None,
        },
        "duplicate" => f
            .bought_same_person_before
            .then(|| "bought_before: you bought the same person earlier".into()),
        _ => None,
    }
}

/// Inside the return window: up to and including exactly `days` after the purchase.
pub fn within_window(bought_at: NaiveDateTime, now: NaiveDateTime, days: i64) -> bool {
    now <= bought_at + TimeDelta::days(days)
}

/// Whether one more dispute keeps the buyer within its cap: disputes opened in the
/// rolling period (this one included) at most `cap_bp` of its purchases in that period.
/// Exactly the cap is allowed.
pub fn within_cap(disputes_in_period: i64, purchases_in_period: i64, cap_bp: i64) -> bool {
    (disputes_in_period + 1) * 10_000 <= purchases_in_period * cap_bp
}

/// `start` plus `days` working days (Saturdays and Sundays do not count).
pub fn add_working_days(start: NaiveDateTime, days: u32) -> NaiveDateTime {
    let mut t = start;
    let mut left = days;
    while left > 0 {
        t += TimeDelta::days(1);
        if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    t
}

/// Approved disputes per sale over the period, as a fraction; `None` below the minimum
/// number of sales, so one dispute does not sink a new agency.
pub fn quality_score(approved: i64, sales: i64, min_sales: i64) -> Option<f64> {
    (sales >= min_sales.max(1)).then(|| approved as f64 / sales as f64)
}

/// Whether the agency's listings must be suspended.
pub fn must_suspend(approved: i64, sales: i64, min_sales: i64, threshold_bp: i64) -> bool {
    sales >= min_sales.max(1) && approved * 10_000 > sales * threshold_bp
}

// The stored statuses below; `text_enum!` needs these names in scope.
use super::org::text_enum;
use std::fmt;
use std::str::FromStr;

/// Where a dispute stands (`disputes.status`): open, the agency contested it, the
/// deadline passed without a word (escalated to finance), or decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeStatus {
    Open,
    Contested,
    Escalated,
    Approved,
    Rejected,
}
text_enum!(DisputeStatus {
    Open => "open",
    Contested => "contested",
    Escalated => "escalated",
    Approved => "approved",
    Rejected => "rejected",
});

/// Who acted on a dispute (`dispute_events.actor`, `disputes.decided_by`): a user's
/// role, or the platform's own automatic rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeActor {
    Buyer,
    Agency,
    Finance,
    Admin,
    Platform,
}
text_enum!(DisputeActor {
    Buyer => "buyer",
    Agency => "agency",
    Finance => "finance",
    Admin => "admin",
    Platform => "platform",
});

/// What happened to a dispute (`dispute_events.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeEvent {
    Opened,
    /// The agency flagged the lead as bad and withdrew it from sale.
    Flagged,
    Contested,
    Escalated,
    Approved,
    Rejected,
}
text_enum!(DisputeEvent {
    Opened => "opened",
    Flagged => "flagged",
    Contested => "contested",
    Escalated => "escalated",
    Approved => "approved",
    Rejected => "rejected",
});

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn facts() -> LeadFacts {
        LeadFacts {
            phone: Some("+447911123456".into()),
            country: "GB".into(),
            email: Some("ann.lee@example.com".into()),
            status: LeadStatus::Available,
            agency_flagged: false,
            bought_same_person_before: false,
        }
    }

    #[test]
    fn wrong_number_is_decided_by_whether_the_phone_parses() {
        assert_eq!(auto_decision("wrong_number", &facts()), None);
        let bad = LeadFacts {
            phone: Some("+4412".into()),
            ..facts()
        };
        assert!(
            auto_decision("wrong_number", &bad)
                .unwrap()
                .starts_with("phone_not_valid")
        );
        let none = LeadFacts {
            phone: None,
            ..facts()
        };
        assert!(auto_decision("wrong_number", &none).is_some());
    }

    #[test]
    fn invalid_email_is_decided_by_syntax_and_disposable_domains() {
        assert_eq!(auto_decision("invalid_email", &facts()), None);
        for e in ["not an email", "someone@mailinator.com"] {
            let f = LeadFacts {
                email: Some(e.into()),
                ..facts()
            };
            assert!(auto_decision("invalid_email", &f).is_some(), "{e}");
        }
    }

    #[test]
    fn duplicates_erased_and_flagged_leads_are_decided_at_once() {
        assert_eq!(auto_decision("duplicate", &facts()), None);
        let dup = LeadFacts {
            bought_same_person_before: true,
            ..facts()
        };
        assert!(
            auto_decision("duplicate", &dup)
                .unwrap()
                .starts_with("bought_before")
        );
        let erased = LeadFacts {
            status: LeadStatus::Erased,
            ..facts()
        };
        assert!(
            auto_decision("prank", &erased)
                .unwrap()
                .starts_with("erased")
        );
        let flagged = LeadFacts {
            agency_flagged: true,
            ..facts()
        };
        assert!(
            auto_decision("bot", &flagged)
                .unwrap()
                .starts_with("agency_flagged")
        );
        assert_eq!(
            auto_decision("bot", &facts()),
            None,
            "a bot needs someone to look"
        );
    }

    #[test]
    fn the_window_includes_its_last_moment() {
        let bought = at(1, 12);
        assert!(within_window(bought, at(8, 12), 7));
        assert!(!within_window(bought, at(8, 12) + TimeDelta::seconds(1), 7));
    }

    #[test]
    fn the_cap_allows_exactly_twenty_percent() {
        // 10 purchases: the 2nd dispute is exactly 20%, the 3rd is over.
        assert!(within_cap(1, 10, 2000));
        assert!(!within_cap(2, 10, 2000));
        assert!(!within_cap(0, 0, 2000), "no purchases, no returns");
    }

    #[test]
    fn deadlines_skip_weekends() {
        // 2026-11-27 is a Friday: three working days later is Wednesday.
        let friday = at(27, 9);
        assert_eq!(add_working_days(friday, 3), friday + TimeDelta::days(5));
        let monday = at(23, 9);
        assert_eq!(add_working_days(monday, 3), monday + TimeDelta::days(3));
    }

    #[test]
    fn quality_needs_volume_and_suspension_needs_more_than_the_threshold() {
        assert_eq!(quality_score(1, 5, 20), None);
        assert_eq!(quality_score(3, 20, 20), Some(0.15));
        assert!(!must_suspend(3, 20, 20, 1500), "exactly 15% is not above");
        assert!(must_suspend(4, 20, 20, 1500));
        assert!(!must_suspend(5, 10, 20, 1500), "too few sales to judge");
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn dispute_statuses_actors_and_events_are_their_stored_text() {
        assert_text_enum(DisputeStatus::ALL, DisputeStatus::as_str);
        assert_text_enum(DisputeActor::ALL, DisputeActor::as_str);
        assert_text_enum(DisputeEvent::ALL, DisputeEvent::as_str);
    }
}
