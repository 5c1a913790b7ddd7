//! Mail to an organisation's people, through the outbox; and sending what is due.

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::AnyConnection;
use crate::error::AppError;
use crate::mail::{Email, Mailer};
use crate::store;

/// Queues `mail` for every active user of `organisation_id`, inside the caller's
/// transaction: it goes out only if that transaction commits.
pub fn to_organisation(
    conn: &mut AnyConnection,
    organisation_id: &str,
    mail: &impl Email,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let rendered = mail.render().map_err(AppError::internal)?;
    let recipients = store::users::active_emails(conn, organisation_id)?;
    Ok(store::outbox::enqueue(
        conn,
        &recipients,
        rendered.for_outbox(),
        now,
    )?)
}

/// Attempts before a mail is given up (then it shows as failed).
pub const MAX_ATTEMPTS: i32 = 8;

/// Waits 1, 2, 4, ... minutes between attempts.
pub fn retry_delay(attempts_so_far: i32) -> TimeDelta {
    TimeDelta::minutes(1 << attempts_so_far.clamp(0, 10))
}

/// Sends up to `limit` due mails; returns (sent, failed attempts). Each mail is claimed
/// first, so two workers never send the same one.
pub fn send_due(
    pool: &crate::db::Pool,
    mailer: &Mailer,
    limit: i64,
) -> Result<(usize, usize), AppError> {
    let claimed = {
        let mut conn = pool.get()?;
        store::outbox::claim_due(&mut conn, store::now(), TimeDelta::minutes(5), limit)?
    };
    let (mut sent, mut failed) = (0, 0);
    for m in claimed {
        // No connection is held while talking to the mail server.
        let result = mailer.send(&m.recipient, &m.subject, &m.text_body, &m.html_body);
        let mut conn = pool.get()?;
        match result {
            Ok(()) => {
                store::outbox::mark_sent(&mut conn, &m.id, store::now())?;
                sent += 1;
            }
            Err(e) => {
                let retry =
                    (m.attempts + 1 < MAX_ATTEMPTS).then(|| store::now() + retry_delay(m.attempts));
                tracing::warn!(template = %m.template, attempts = m.attempts + 1, error = %e, "mail not sent");
                store::outbox::mark_failed(&mut conn, &m.id, &e, retry)?;
                failed += 1;
            }
        }
    }
    Ok((sent, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop() {
        assert_eq!(retry_delay(0), TimeDelta::minutes(1));
        assert_eq!(retry_delay(3), TimeDelta::minutes(8));
        assert_eq!(retry_delay(50), TimeDelta::minutes(1024));
    }
}
