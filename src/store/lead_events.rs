//! What a lead did after capture, as its agency reports it: each kind once per lead.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::lead_events;
use crate::domain::lead::EngagementKind;

/// Records `kind` for a lead unless it was recorded before; `true` when it is new.
pub fn record_once(
    conn: &mut AnyConnection,
    lead_id: &str,
    kind: EngagementKind,
    occurred_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let already: i64 = lead_events::table
        .filter(lead_events::lead_id.eq(lead_id))
        .filter(lead_events::kind.eq(kind))
        .count()
        .get_result(conn)?;
    if already == 0 {
        diesel::insert_into(lead_events::table)
            .values((
                lead_events::id.eq(super::new_id()),
                lead_events::lead_id.eq(lead_id),
                lead_events::kind.eq(kind),
                lead_events::occurred_at.eq(occurred_at),
                lead_events::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(already == 0)
}

/// The kinds recorded for a lead.
pub fn kinds(conn: &mut AnyConnection, lead_id: &str) -> QueryResult<Vec<EngagementKind>> {
    lead_events::table
        .filter(lead_events::lead_id.eq(lead_id))
        .select(lead_events::kind)
        .load(conn)
}
