//! Stripe events seen, so a replayed webhook does nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::stripe_events;

/// Records a Stripe event id: false when it was seen before (a replay).
pub fn first_sight(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let seen = stripe_events::table
        .find(id)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if seen {
        return Ok(false);
    }
    super::insert_unless_taken(conn, |c| {
        diesel::insert_into(stripe_events::table)
            .values((
                stripe_events::id.eq(id),
                stripe_events::kind.eq(kind),
                stripe_events::received_at.eq(now),
            ))
            .execute(c)
    })
}
