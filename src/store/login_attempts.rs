//! Login attempts, read by the throttle; old rows are pruned as new ones arrive.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::login_attempts;

/// Failures for the account and for the IP address since `since`.
pub fn recent_failures(
    conn: &mut AnyConnection,
    account_hash: &str,
    ip: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, i64)> {
    let base = || {
        login_attempts::table
            .filter(login_attempts::succeeded.eq(false))
            .filter(login_attempts::attempted_at.gt(since))
    };
    let by_account = base()
        .filter(login_attempts::account_hash.eq(account_hash))
        .count()
        .get_result(conn)?;
    let by_ip = base()
        .filter(login_attempts::ip.eq(ip))
        .count()
        .get_result(conn)?;
    Ok((by_account, by_ip))
}

pub fn record(
    conn: &mut AnyConnection,
    account_hash: &str,
    ip: &str,
    succeeded: bool,
) -> QueryResult<()> {
    let now = super::now();
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::id.eq(super::new_id()),
            login_attempts::account_hash.eq(account_hash),
            login_attempts::ip.eq(ip),
            login_attempts::succeeded.eq(succeeded),
            login_attempts::attempted_at.eq(now),
        ))
        .execute(conn)?;
    // The throttle looks back minutes, so a day of history is plenty.
    diesel::delete(
        login_attempts::table.filter(login_attempts::attempted_at.lt(now - TimeDelta::days(1))),
    )
    .execute(conn)?;
    Ok(())
}
