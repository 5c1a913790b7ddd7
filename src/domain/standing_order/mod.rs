//! Standing orders: a buyer's saved criteria that buy matching leads as they arrive, and
//! the deliveries of what they bought. The rules here are pure: the caller passes the
//! time, and the buyer's zone as a parsed `Tz`.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use chrono_tz::Tz;

use super::org::text_enum;

pub mod callback;

/// `deliveries.channel`: how a standing order's lead reaches the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryChannel {
    Email,
    Callback,
}
text_enum!(DeliveryChannel { Email => "email", Callback => "callback" });

/// `deliveries.event`: what a delivery tells the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryEvent {
    /// The lead, with every bought field.
    Delivered,
    /// The consumer had the lead erased: the buyer must delete its copy.
    Erased,
}
text_enum!(DeliveryEvent { Delivered => "lead.delivered", Erased => "lead.erased" });

/// `deliveries.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not tried yet.
    Pending,
    Delivered,
    /// Tried and refused or timed out; tried again at `next_attempt_at`.
    Failed,
    /// Retried for a day without success: waits for "retry now".
    Dead,
}
text_enum!(DeliveryStatus {
    Pending => "pending",
    Delivered => "delivered",
    Failed => "failed",
    Dead => "dead",
});

/// The buyer's zone by its IANA name (`Europe/Berlin`); the message lists no values
/// (there are hundreds) but says what is expected.
pub fn parse_time_zone(raw: &str) -> Result<Tz, String> {
    raw.trim().parse::<Tz>().map_err(|_| {
        format!(
            "{:?} is not a time zone name such as Europe/Berlin or UTC",
            raw.trim()
        )
    })
}

/// The buyer's local date at `now` (UTC): the day a daily cap counts.
pub fn local_day(now: NaiveDateTime, tz: Tz) -> NaiveDate {
    now.and_utc().with_timezone(&tz).date_naive()
}

/// Minutes after the buyer's local midnight at `now` (UTC).
pub fn local_minute(now: NaiveDateTime, tz: Tz) -> u32 {
    let local = now.and_utc().with_timezone(&tz);
    local.hour() * 60 + local.minute()
}

/// The hours of the buyer's day an order buys in: `[from, to)` in minutes after local
/// midnight; `from > to` runs past midnight (22:00-06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHours {
    pub from_minute: u32,
    pub to_minute: u32,
}

impl ActiveHours {
    /// From the stored pair: both set, or none (all day).
    pub fn from_stored(from: Option<i32>, to: Option<i32>) -> Option<Self> {
        match (from, to) {
            (Some(f), Some(t)) => Some(Self {
                from_minute: f.clamp(0, 1439) as u32,
                to_minute: t.clamp(0, 1440) as u32,
            }),
            _ => None,
        }
    }

    /// Parses `HH:MM-HH:MM` (`24:00` allowed as the end).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("{:?} is not hours such as 08:00-18:00", raw.trim());
        let (from, to) = raw.trim().split_once('-').ok_or_else(bad)?;
        let minute = |s: &str, end: bool| -> Option<u32> {
            let (h, m) = s.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            let total = h * 60 + m;
            (m < 60 && (total < 1440 || (end && total == 1440))).then_some(total)
        };
        let (from_minute, to_minute) = (
            minute(from, false).ok_or_else(bad)?,
            minute(to, true).ok_or_else(bad)?,
        );
        if from_minute == to_minute {
            return Err(
                "the hours start and end at the same time; leave them empty for all day".into(),
            );
        }
        Ok(Self {
            from_minute,
            to_minute,
        })
    }

    pub fn contains(&self, minute: u32) -> bool {
        if self.from_minute < self.to_minute {
            (self.from_minute..self.to_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.to_minute
        }
    }
}

impl fmt::Display for ActiveHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.from_minute), hm(self.to_minute))
    }
}

/// An order's counters as stored, and what it may still take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance<'a> {
    pub daily_cap: Option<i32>,
    pub budget_cents: Option<i64>,
    pub spent_cents: i64,
    /// The local date `today_count` belongs to.
    pub cap_day: Option<&'a str>,
    pub today_count: i32,
}

impl Allowance<'_> {
    /// Leads taken on `today` (the buyer's local date): a count of another day is 0.
    pub fn count_on(&self, today: NaiveDate) -> i32 {
        match self.cap_day {
            Some(day) if day == today.format("%Y-%m-%d").to_string() => self.today_count,
            _ => 0,
        }
    }

    /// Whether a lead at `price_cents` fits the cap of `today` and the budget.
    pub fn admits(&self, today: NaiveDate, price_cents: i64) -> bool {
        let cap_ok = self.daily_cap.is_none_or(|cap| self.count_on(today) < cap);
        let budget_ok = self
            .budget_cents
            .is_none_or(|b| self.spent_cents.saturating_add(price_cents) <= b);
        cap_ok && budget_ok
    }

    pub fn budget_left_cents(&self) -> Option<i64> {
        self.budget_cents.map(|b| (b - self.spent_cents).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn delivery_channels_and_statuses_are_their_stored_text() {
        assert_text_enum(DeliveryChannel::ALL, DeliveryChannel::as_str);
        assert_text_enum(DeliveryStatus::ALL, DeliveryStatus::as_str);
        assert_text_enum(DeliveryEvent::ALL, DeliveryEvent::as_str);
    }

    #[test]
    fn the_buyers_day_turns_at_its_own_midnight() {
        let berlin = parse_time_zone("Europe/Berlin").unwrap();
        // 23:30 UTC in December is 00:30 the next day in Berlin.
        assert_eq!(
            local_day(at("2026-12-01 23:30"), berlin).to_string(),
            "2026-12-02"
        );
        assert_eq!(
            local_day(at("2026-12-01 22:59"), berlin).to_string(),
            "2026-12-01"
        );
        assert_eq!(local_minute(at("2026-12-01 23:30"), berlin), 30);
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn active_hours_parse_and_wrap_past_midnight() {
        let day = ActiveHours::parse("08:00-18:00").unwrap();
        assert!(day.contains(8 * 60) && !day.contains(18 * 60) && !day.contains(7 * 60 + 59));
        let night = ActiveHours::parse("22:00-06:00").unwrap();
        assert!(night.contains(23 * 60) && night.contains(0) && !night.contains(12 * 60));
        assert_eq!(night.to_string(), "22:00-06:00");
        assert!(ActiveHours::parse("25:00-26:00").is_err());
        assert!(ActiveHours::parse("09:00-09:00").is_err());
        assert_eq!(ActiveHours::parse("00:00-24:00").unwrap().to_minute, 1440);
    }

    #[test]
    fn a_cap_counts_only_today_and_a_budget_holds_to_the_cent() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let a = Allowance {
            daily_cap: Some(2),
            budget_cents: Some(1000),
            spent_cents: 400,
            cap_day: Some("2026-12-02"),
            today_count: 1,
        };
        assert!(a.admits(today, 600));
        assert!(!a.admits(today, 601));
        let full = Allowance {
            today_count: 2,
            ..a
        };
        assert!(!full.admits(today, 1));
        let yesterday = Allowance {
            cap_day: Some("2026-12-01"),
            ..full
        };
        assert!(yesterday.admits(today, 1));
        assert_eq!(a.budget_left_cents(), Some(600));
    }
}
