//! The mail outbox: rows written in the business transaction, claimed by one worker at
//! a time (a lease, so several `serve` processes share the work), sent once.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::outbox;
use crate::domain::outbox::OutboxStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: OutboxStatus,
    pub attempts: i32,
}

/// A rendered mail as the outbox stores it: plain fields, so the store needs nothing of
/// `mail` (which converts its `Rendered` into this).
#[derive(Debug, Clone, Copy)]
pub struct NewMail<'a> {
    pub template: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// Puts one mail per recipient in the outbox (call inside the business transaction).
pub fn enqueue(
    conn: &mut AnyConnection,
    recipients: &[String],
    mail: NewMail<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut n = 0;
    for to in recipients {
        n += diesel::insert_into(outbox::table)
            .values((
                outbox::id.eq(super::new_id()),
                outbox::template.eq(mail.template),
                outbox::recipient.eq(to),
                outbox::subject.eq(mail.subject),
                outbox::text_body.eq(mail.text),
                outbox::html_body.eq(mail.html),
                outbox::status.eq(OutboxStatus::Pending),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// Claims up to `limit` due mails for `lease`: a row is claimed by exactly one caller.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease: TimeDelta,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let due = || {
        outbox::status
            .eq(OutboxStatus::Pending)
            .and(outbox::next_attempt_at.le(now))
            .and(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.lt(now)),
            )
    };
    let ids: Vec<String> = outbox::table
        .filter(due())
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in ids {
        let won = diesel::update(outbox::table.find(&id).filter(due()))
            .set(outbox::locked_until.eq(now + lease))
            .execute(conn)?
            == 1;
        if won {
            claimed.push(
                outbox::table
                    .find(&id)
                    .select(OutboxRow::as_select())
                    .first(conn)?,
            );
        }
    }
    Ok(claimed)
}

pub fn mark_sent(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// Records a failed attempt: tried again at `retry_at`, or given up (`None`).
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let error: String = error.chars().take(500).collect();
    let attempt = (
        outbox::status.eq(if retry_at.is_some() {
            OutboxStatus::Pending
        } else {
            OutboxStatus::Failed
        }),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::last_error.eq(error),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    );
    // One statement either way: no reader sees the attempt counted without its retry time.
    let row = outbox::table.find(id);
    match retry_at {
        Some(at) => diesel::update(row)
            .set((attempt, outbox::next_attempt_at.eq(at)))
            .execute(conn)?,
        None => diesel::update(row).set(attempt).execute(conn)?,
    };
    Ok(())
}
