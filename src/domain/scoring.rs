//! Lead scoring: how ready a lead is to buy, 0-100. The points are published on the help
//! page, so they are plain constants here.
//!
//! | signal | points |
//! |---|---|
//! | contact completeness | name 5, phone 10, email 10, postal address 5 |
//! | warmth | cold 0, warm 15, hot 30 |
//! | contact type | quick 0, registration 5, promotional 0, interested 10 |
//! | verified contact | 15 |
//! | freshness | 15 on the day of capture, minus 1 a day, never below 0 |
//! | engagement the agency reports | opened 3, clicked 5, answered 10 |
//! | each soft pseudo-lead flag (fast form, shared phone, IP burst) | -10 |
//!
//! The sum is clamped to 0-100.

use std::fmt;
use std::str::FromStr;

use super::org::text_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warmth {
    Cold,
    Warm,
    Hot,
}
text_enum!(Warmth { Cold => "cold", Warm => "warm", Hot => "hot" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactType {
    Quick,
    Registration,
    Promotional,
    Interested,
}
text_enum!(ContactType {
    Quick => "quick",
    Registration => "registration",
    Promotional => "promotional",
    Interested => "interested",
});

#[derive(Debug, Clone, Copy)]
pub struct ScoreInput {
    pub has_name: bool,
    pub has_phone: bool,
    pub has_email: bool,
    pub has_address: bool,
    pub warmth: Warmth,
    pub contact_type: ContactType,
    pub verified: bool,
    pub age_days: i64,
    pub soft_flags: usize,
    pub engagement: Engagement,
}

/// What the lead did after capture, as the agency reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Engagement {
    pub opened: bool,
    pub clicked: bool,
    pub answered: bool,
}

pub fn score(i: &ScoreInput) -> i32 {
    let completeness = 5 * i32::from(i.has_name)
        + 10 * i32::from(i.has_phone)
        + 10 * i32::from(i.has_email)
        + 5 * i32::from(i.has_address);
    let warmth = match i.warmth {
        Warmth::Cold => 0,
        Warmth::Warm => 15,
        Warmth::Hot => 30,
    };
    let contact = match i.contact_type {
        ContactType::Quick | ContactType::Promotional => 0,
        ContactType::Registration => 5,
        ContactType::Interested => 10,
    };
    let verified = if i.verified { 15 } else { 0 };
    let freshness = (15 - i.age_days.max(0)).max(0) as i32;
    let engagement = 3 * i32::from(i.engagement.opened)
        + 5 * i32::from(i.engagement.clicked)
        + 10 * i32::from(i.engagement.answered);
    let penalty = 10 * i32::try_from(i.soft_flags).unwrap_or(10);
    (completeness + warmth + contact + verified + freshness + engagement - penalty).clamp(0, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best() -> ScoreInput {
        ScoreInput {
            has_name: true,
            has_phone: true,
            has_email: true,
            has_address: true,
            warmth: Warmth::Hot,
            contact_type: ContactType::Interested,
            verified: true,
            age_days: 0,
            soft_flags: 0,
            engagement: Engagement::default(),
        }
    }

    #[test]
    fn the_best_lead_scores_100() {
        assert_eq!(score(&best()), 100);
    }

    #[test]
    fn a_bare_cold_old_lead_scores_little() {
        let i = ScoreInput {
            has_name: false,
            has_phone: true,
            has_email: false,
            has_address: false,
            warmth: Warmth::Cold,
            contact_type: ContactType::Quick,
            verified: false,
            age_days: 40,
            soft_flags: 0,
            engagement: Engagement::default(),
        };
        assert_eq!(score(&i), 10);
        assert_eq!(
            score(&ScoreInput { soft_flags: 2, ..i }),
            0,
            "flags cannot push below 0"
        );
        let engaged = Engagement {
            opened: true,
            clicked: true,
            answered: true,
        };
        assert_eq!(
            score(&ScoreInput {
                engagement: engaged,
                ..i
            }),
            28
        );
    }

    #[test]
    fn each_soft_flag_costs_ten_points() {
        let flagged = ScoreInput {
            age_days: 5,
            soft_flags: 1,
            ..best()
        };
        assert_eq!(
            score(&ScoreInput {
                age_days: 5,
                ..best()
            }) - score(&flagged),
            10
        );
    }

    #[test]
    fn freshness_decays_by_the_day_to_zero() {
        let day = |d| {
            score(&ScoreInput {
                age_days: d,
                ..best()
            })
        };
        assert_eq!(day(0) - day(1), 1);
        assert_eq!(day(15), day(100));
        assert_eq!(day(-3), 100, "a future capture date gives no bonus");
    }

    #[test]
    fn warmth_and_contact_type_parse_from_text() {
        assert_eq!("hot".parse::<Warmth>().unwrap(), Warmth::Hot);
        assert!("boiling".parse::<Warmth>().is_err());
        assert_eq!(ContactType::Interested.to_string(), "interested");
    }
}
