//! When the planner's statistics of a table are stale: the rule behind refreshing them
//! after a batch or a repricing run, so the catalogue's plans fit the data right away.

/// True once a table has grown, shrunk or had rows changed in place by more than a tenth
/// of the rows it held at its last refresh. A table never refreshed counts as empty, so
/// its first rows refresh it.
pub fn stats_are_stale(rows_at_refresh: i64, rows_now: i64, changed_in_place: i64) -> bool {
    let moved = (rows_now - rows_at_refresh).abs() + changed_in_place.max(0);
    moved > 0 && moved * 10 > rows_at_refresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenth_is_the_line() {
        assert!(stats_are_stale(0, 30, 0), "first rows");
        assert!(!stats_are_stale(0, 0, 0), "still empty");
        assert!(!stats_are_stale(1000, 1100, 0), "exactly a tenth");
        assert!(stats_are_stale(1000, 1101, 0));
        assert!(stats_are_stale(1000, 800, 0), "shrunk");
        assert!(!stats_are_stale(1000, 1000, 60), "repriced a few");
        assert!(stats_are_stale(1000, 1050, 60), "grown and repriced");
    }
}
