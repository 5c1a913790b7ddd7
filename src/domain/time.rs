//! The one way a timestamp is printed for machines (API bodies, CSV exports).

use chrono::{NaiveDateTime, SecondsFormat};

/// RFC 3339 in UTC to the second, `2026-11-24T09:30:00Z`: stored timestamps are UTC
/// without a zone, and the API has always printed them this way.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_utc_seconds() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_milli_opt(9, 30, 5, 750)
            .unwrap();
        assert_eq!(rfc3339(t), "2026-11-24T09:30:05Z");
        // The same text the CSV exports wrote with their own format string.
        assert_eq!(rfc3339(t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
}
