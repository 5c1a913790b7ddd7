//! Consumers' rights: a person asks with an email (a one-time link is mailed to it) or a
//! phone (an admin confirms it on the queue), sees which agencies hold the contact and
//! which buyers bought it, and has it erased everywhere; retention erases old leads the
//! same way. Asking does the same work and gives the same answer whether or not the
//! contact is known. Every request, confirmation and erasure goes to the audit log,
//! without the contact.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;

use crate::config::{Config, LoginThrottle};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::dedup::Key;
use crate::domain::intake::SuppressionKind;
use crate::domain::rights::{
    self, AuditAction, AuditActor, Contact, RequestChannel, RequestStatus,
};
use crate::domain::session;
use crate::domain::throttle::{Scope, counter_key};
use crate::error::AppError;
use crate::mail::{Email as _, LeadErased, MyDataLink};
use crate::services;
use crate::store;
use crate::store::audit::Entry;
use crate::store::erasure::{HeldLead, Sale};
use crate::store::rights::RequestRow;

/// What the rights work needs of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub seller_name: String,
    pub public_url: String,
    pub retention_days: i64,
    pub throttle: LoginThrottle,
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        Self {
            seller_name: c.billing.seller_name.clone(),
            public_url: c.public_url.trim_end_matches('/').to_string(),
            retention_days: c.retention_days,
            throttle: c.login_throttle.clone(),
        }
    }
}

/// Why leads are erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The person asked: their contact also goes on the suppression list.
    Request,
    /// Past the retention period. The person did not object to being contacted, so
    /// nothing is suppressed: a new capture with fresh consent may be sold again.
    Retention,
}

/// Takes a slot of the contact's and the address's counters (never given back), then
/// records the request: a link mailed to a known email, a row on the admins' queue for
/// any phone. The same work either way, but for the mail itself.
pub fn request(
    conn: &mut AnyConnection,
    settings: &Settings,
    contact: &Contact,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let key = contact.key();
    let limits = &settings.throttle;
    let counters = [
        (
            counter_key(Scope::RightsContact, &hex::encode(&key)),
            limits.max_failures,
        ),
        (
            counter_key(Scope::RightsAddress, address),
            limits.address_max_failures,
        ),
    ];
    if let Some(retry_after_seconds) =
        services::throttle::take_all(conn, limits.window_seconds, &counters)?
    {
        return Err(AppError::TooManyRequests {
            retry_after_seconds,
        });
    }
    write_transaction(conn, |conn| {
        let held = store::erasure::lead_ids_with_keys(conn, std::slice::from_ref(&key))?;
        let channel = contact.channel();
        let token = session::generate();
        let row = RequestRow {
            id: store::new_id(),
            channel,
            status: RequestStatus::Pending,
            token_hash: (channel == RequestChannel::Email).then(|| token.hash.clone()),
            contact_key: key.clone(),
            phone: match contact {
                Contact::Phone(p) => Some(p.clone()),
                Contact::Email(_) => None,
            },
            created_at: now,
            expires_at: rights::expires_at(channel, now),
            confirmed_at: None,
            confirmed_by: None,
            closed_at: None,
        };
        store::rights::create(conn, &row)?;
        if let Contact::Email(email) = contact
            && !held.is_empty()
        {
            let mail = MyDataLink {
                seller_name: settings.seller_name.clone(),
                url: format!(
                    "{}/my-data/link?token={}",
                    settings.public_url, token.secret
                ),
                valid_hours: rights::LINK_VALID_HOURS,
            }
            .render()
            .map_err(AppError::internal)?;
            store::outbox::enqueue(conn, std::slice::from_ref(email), mail.for_outbox(), now)?;
        }
        store::audit::record(
            conn,
            Entry {
                action: AuditAction::RightsRequested,
                actor: AuditActor::Consumer,
                user_id: None,
                address: Some(address),
                request_id: Some(&row.id),
                leads: held.len(),
                org_id: None,
                detail: None,
            },
            now,
        )?;
        Ok(())
    })
}

/// One lead that holds the contact, and every buyer that bought it.
#[derive(Debug, Clone)]
pub struct Holding {
    pub lead: HeldLead,
    /// (buyer name, when bought).
    pub buyers: Vec<(String, NaiveDateTime)>,
}

fn holdings(conn: &mut AnyConnection, key: &Key) -> Result<Vec<Holding>, AppError> {
    let ids = store::erasure::lead_ids_with_keys(conn, std::slice::from_ref(key))?;
    let sales = store::erasure::sales_of(conn, &ids)?;
    Ok(store::erasure::held_leads(conn, &ids)?
        .into_iter()
        .map(|lead| Holding {
            buyers: sales
                .iter()
                .filter(|s| s.lead_id == lead.lead_id)
                .map(|s| (s.buyer_name.clone(), s.bought_at))
                .collect(),
            lead,
        })
        .collect())
}

fn link_refused() -> AppError {
    AppError::invalid(
        "token",
        "this link has expired or was used already; ask for a new one",
    )
}

/// What a live link shows, or `None` when it expired or was used.
pub fn by_link(
    conn: &mut AnyConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<Vec<Holding>>, AppError> {
    match store::rights::live_by_token(conn, &session::hash(token), now)? {
        Some(request) => Ok(Some(holdings(conn, &request.contact_key)?)),
        None => Ok(None),
    }
}

/// Erases through a mailed link, once; returns how many leads were erased.
pub fn erase_by_link(
    conn: &mut AnyConnection,
    settings: &Settings,
    token: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let hash = session::hash(token);
    write_transaction(conn, |conn| {
        let request = store::rights::live_by_token(conn, &hash, now)?.ok_or_else(link_refused)?;
        if !store::rights::close(
            conn,
            &request.id,
            &[RequestStatus::Pending],
            RequestStatus::Erased,
            now,
        )? {
            return Err(link_refused());
        }
        erase_for_request(
            conn,
            settings,
            &request,
            AuditActor::Consumer,
            None,
            address,
            now,
        )
    })
}

/// A phone request on the admins' queue, with how many leads hold the number.
#[derive(Debug, Clone)]
pub struct Queued {
    pub request: RequestRow,
    pub leads: usize,
}

pub fn queue(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<Vec<Queued>, AppError> {
    let mut out = Vec::new();
    for request in store::rights::phone_queue(conn, now)? {
        let leads =
            store::erasure::lead_ids_with_keys(conn, std::slice::from_ref(&request.contact_key))?
                .len();
        out.push(Queued { request, leads });
    }
    Ok(out)
}

fn open_request(
    conn: &mut AnyConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<RequestRow, AppError> {
    store::rights::open_phone_request(conn, id, now)?.ok_or(AppError::NotFound)
}

fn not_confirmed() -> AppError {
    AppError::Conflict {
        code: "not_confirmed",
        message: "confirm the request (check who asks) before seeing or erasing the data".into(),
    }
}

/// An admin checked who asks: the data may now be seen and erased from the queue.
pub fn confirm(
    conn: &mut AnyConnection,
    id: &str,
    admin_id: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        let request = open_request(conn, id, now)?;
        if !store::rights::confirm(conn, id, admin_id, now)? {
            return Err(AppError::Conflict {
                code: "already_confirmed",
                message: "this request was confirmed already".into(),
            });
        }
        let leads =
            store::erasure::lead_ids_with_keys(conn, std::slice::from_ref(&request.contact_key))?
                .len();
        audit_admin(
            conn,
            AuditAction::RightsConfirmed,
            id,
            admin_id,
            address,
            leads,
            now,
        )
    })
}

/// An admin turned the request down (the caller could not be checked): its number is
/// blanked and it leaves the queue.
pub fn dismiss(
    conn: &mut AnyConnection,
    id: &str,
    admin_id: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        open_request(conn, id, now)?;
        if !store::rights::close(
            conn,
            id,
            &[RequestStatus::Pending, RequestStatus::Confirmed],
            RequestStatus::Dismissed,
            now,
        )? {
            return Err(AppError::NotFound);
        }
        audit_admin(
            conn,
            AuditAction::RightsDismissed,
            id,
            admin_id,
            address,
            0,
            now,
        )
    })
}

/// What a confirmed phone request shows the admin.
pub fn confirmed_holdings(
    conn: &mut AnyConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<(RequestRow, Vec<Holding>), AppError> {
    let request = open_request(conn, id, now)?;
    if request.status != RequestStatus::Confirmed {
        return Err(not_confirmed());
    }
    let held = holdings(conn, &request.contact_key)?;
    Ok((request, held))
}

/// Erases a confirmed phone request's contact; returns how many leads were erased.
pub fn erase_by_admin(
    conn: &mut AnyConnection,
    settings: &Settings,
    id: &str,
    admin_id: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    write_transaction(conn, |conn| {
        let request = open_request(conn, id, now)?;
        if request.status != RequestStatus::Confirmed
            || !store::rights::close(
                conn,
                id,
                &[RequestStatus::Confirmed],
                RequestStatus::Erased,
                now,
            )?
        {
            return Err(not_confirmed());
        }
        erase_for_request(
            conn,
            settings,
            &request,
            AuditActor::Admin,
            Some(admin_id),
            address,
            now,
        )
    })
}

fn audit_admin(
    conn: &mut AnyConnection,
    action: AuditAction,
    request_id: &str,
    admin_id: &str,
    address: &str,
    leads: usize,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    store::audit::record(
        conn,
        Entry {
            action,
            actor: AuditActor::Admin,
            user_id: Some(admin_id),
            address: Some(address),
            request_id: Some(request_id),
            leads,
            org_id: None,
            detail: None,
        },
        now,
    )?;
    Ok(())
}

fn erase_for_request(
    conn: &mut AnyConnection,
    settings: &Settings,
    request: &RequestRow,
    actor: AuditActor,
    user_id: Option<&str>,
    address: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let ids = store::erasure::lead_ids_with_keys(conn, std::slice::from_ref(&request.contact_key))?;
    let kind = match request.channel {
        RequestChannel::Email => SuppressionKind::Email,
        RequestChannel::Phone => SuppressionKind::Phone,
    };
    let n = erase_leads(
        conn,
        settings,
        &ids,
        Cause::Request,
        Some((request.contact_key.clone(), kind)),
        now,
    )?;
    store::audit::record(
        conn,
        Entry {
            action: AuditAction::RightsErased,
            actor,
            user_id,
            address: Some(address),
            request_id: Some(&request.id),
            leads: n,
            org_id: None,
            detail: None,
        },
        now,
    )?;
    Ok(n)
}

/// Rows read per page while scanning rejects and the outbox.
const SCAN_PAGE: i64 = 2000;

/// Erases `lead_ids` inside the caller's transaction: the leads' contact and free text,
/// every rejected row (a request only: found through the keys) and mail that holds the
/// contact, stored files of their finished batches; suppresses the contacts (a request
/// only, with `asked`: the contact the person typed, whether or not a lead holds it);
/// tells every buyer (mail, and a `lead.erased` callback where a standing order with a
/// callback bought it). Purchases, the ledger and invoices keep their rows: they name
/// leads by id only. Returns how many leads were erased.
pub fn erase_leads(
    conn: &mut AnyConnection,
    settings: &Settings,
    lead_ids: &[String],
    cause: Cause,
    asked: Option<(Key, SuppressionKind)>,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let contacts = store::erasure::contacts_of(conn, lead_ids)?;
    let mut keys: Vec<(Key, SuppressionKind)> = asked.into_iter().collect();
    let mut words: HashSet<String> = HashSet::new();
    let mut streets: Vec<String> = Vec::new();
    for c in &contacts {
        if let Some(k) = &c.email_key {
            keys.push((k.clone(), SuppressionKind::Email));
        }
        if let Some(k) = &c.phone_key {
            keys.push((k.clone(), SuppressionKind::Phone));
        }
        words.extend(
            c.email
                .iter()
                .chain(c.phone.iter())
                .map(|v| v.to_lowercase()),
        );
        if cause == Cause::Request {
            // Streets are looked for as phrases: for a few leads, not a retention chunk.
            streets.extend(
                c.street
                    .iter()
                    .map(|s| s.to_lowercase())
                    .filter(|s| s.len() >= 6),
            );
        }
    }
    let key_set: HashSet<Key> = keys.iter().map(|(k, _)| k.clone()).collect();
    if cause == Cause::Request {
        store::intake::add_suppressions(conn, &keys, "erasure", "consumer request")?;
    }
    let sales = store::erasure::sales_of(conn, lead_ids)?;
    let n = store::erasure::scrub_leads(conn, lead_ids)?;
    store::erasure::scrub_texts_about(conn, lead_ids)?;
    let mut batch_ids: Vec<String> = contacts.iter().map(|c| c.batch_id.clone()).collect();
    batch_ids.sort();
    batch_ids.dedup();
    store::erasure::delete_finished_files(conn, &batch_ids)?;
    if cause == Cause::Request {
        scrub_matching_rejects(conn, &key_set)?;
    }
    scrub_matching_mail(conn, &key_set, &words, &streets)?;
    let all_keys: Vec<Key> = key_set.into_iter().collect();
    store::rights::close_all_for_keys(conn, &all_keys, now)?;
    tell_buyers(conn, settings, &sales, cause, now)?;
    Ok(n)
}

fn scrub_matching_rejects(conn: &mut AnyConnection, keys: &HashSet<Key>) -> Result<(), AppError> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut hits = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store::erasure::rejects_after(conn, after.as_deref(), SCAN_PAGE)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (id, raw) in page {
            let cells: Vec<String> = serde_json::from_str(&raw).unwrap_or_default();
            if rights::cells_hold_any(&cells, keys) {
                hits.push(id);
            }
        }
    }
    store::erasure::scrub_rejects(conn, &hits)?;
    Ok(())
}

fn scrub_matching_mail(
    conn: &mut AnyConnection,
    keys: &HashSet<Key>,
    words: &HashSet<String>,
    streets: &[String],
) -> Result<(), AppError> {
    if keys.is_empty() && words.is_empty() && streets.is_empty() {
        return Ok(());
    }
    let mut hits = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store::erasure::outbox_after(conn, after.as_deref(), SCAN_PAGE)?;
        let Some((last, ..)) = page.last() else { break };
        after = Some(last.clone());
        for (id, recipient, subject, text) in page {
            let all = format!("{recipient}\n{subject}\n{text}");
            // The recipient through its key too: the link went to the address as typed.
            if keys.contains(&crate::domain::dedup::email_key(&recipient))
                || rights::mentions_any(&all, words, streets)
            {
                hits.push(id);
            }
        }
    }
    store::erasure::scrub_outbox(conn, &hits)?;
    Ok(())
}

/// One mail per buyer naming its purchases, and a `lead.erased` callback per purchase a
/// standing order with a callback made.
fn tell_buyers(
    conn: &mut AnyConnection,
    settings: &Settings,
    sales: &[Sale],
    cause: Cause,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let mut per_buyer: BTreeMap<&str, Vec<&Sale>> = BTreeMap::new();
    for s in sales {
        per_buyer.entry(s.buyer_id.as_str()).or_default().push(s);
    }
    for (buyer_id, sales) in per_buyer {
        let mail = LeadErased {
            seller_name: settings.seller_name.clone(),
            buyer_name: sales[0].buyer_name.clone(),
            count: sales.len(),
            purchases: sales
                .iter()
                .map(|s| (s.purchase_id.clone(), s.lead_id.clone()))
                .collect(),
            retention: cause == Cause::Retention,
            url: format!("{}/purchases", settings.public_url),
        };
        services::mail::to_organisation(conn, buyer_id, &mail, now)?;
        let mut events = Vec::new();
        for s in &sales {
            let Some(order_id) = &s.standing_order_id else {
                continue;
            };
            if store::deliveries::destination(conn, order_id)?
                .callback_url
                .is_some()
            {
                events.push(store::deliveries::DeliveryRow::erased(
                    order_id,
                    &s.purchase_id,
                    &s.lead_id,
                    buyer_id,
                    now,
                ));
            }
        }
        store::deliveries::enqueue(conn, &events)?;
    }
    Ok(())
}

/// The daily retention run: leads captured more than `retention_days` before `now` are
/// erased, `RETENTION_CHUNK` per transaction so intake and purchases wait a moment at
/// most; rejected rows of batches that old are emptied, lapsed phone requests lose their
/// number. Returns how many leads were erased.
pub fn erase_past_retention(
    conn: &mut AnyConnection,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let cutoff = rights::retention_cutoff(now, settings.retention_days);
    let mut total = 0;
    loop {
        let n = write_transaction(conn, |conn| {
            let ids = store::erasure::past_retention(conn, cutoff, rights::RETENTION_CHUNK)?;
            if ids.is_empty() {
                return Ok::<_, AppError>(0);
            }
            let n = erase_leads(conn, settings, &ids, Cause::Retention, None, now)?;
            store::audit::record(
                conn,
                Entry {
                    action: AuditAction::RetentionErased,
                    actor: AuditActor::System,
                    user_id: None,
                    address: None,
                    request_id: None,
                    leads: n,
                    org_id: None,
                    detail: None,
                },
                now,
            )?;
            Ok(n)
        })?;
        if n == 0 {
            break;
        }
        total += n;
    }
    while write_transaction(conn, |conn| {
        store::erasure::scrub_rejects_before(conn, cutoff, SCAN_PAGE)
    })? > 0
    {}
    store::rights::blank_lapsed(conn, now)?;
    Ok(total)
}
