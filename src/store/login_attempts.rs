//! Login attempts, a day of history for looking into reports (the throttle itself counts
//! in `store::throttle`); old rows are pruned as new ones arrive.

use chrono::TimeDelta;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::login_attempts;

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
