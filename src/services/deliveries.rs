//! Delivering what standing orders bought: a mail to the order's address, or a signed
//! `lead.delivered` callback to its URL, retried with backoff for a day and then dead
//! until the buyer asks for "retry now".
//!
//! A worker claims due deliveries (`claim`), which settles the mails at once (the mail
//! goes to the outbox in the transaction that marks the delivery delivered) and returns
//! the callbacks to make; it makes them with no connection held (`Callbacks::send`) and
//! records each answer (`record`). A worker that dies between claim and record loses
//! nothing: the claim's lease runs out and another worker tries again, so a receiver may
//! see a delivery twice and drops repeats by its `X-Leadmarket-Delivery` id.
//!
//! Callbacks go to public addresses only, unless `CALLBACK_ALLOW_PRIVATE`: the URL is
//! checked again before each try (scheme, literal addresses, local names) and the
//! client's resolver drops every non-public address a name resolves to, at connect time,
//! so a name that moved to a private address since the order was saved is refused.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::config::Config;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::money::format_amount;
use crate::domain::standing_order::callback;
use crate::domain::standing_order::{DeliveryChannel, DeliveryEvent, DeliveryStatus};
use crate::domain::time::rfc3339;
use crate::error::AppError;
use crate::mail::Email;
use crate::mail::LeadDelivered;
use crate::store;
use crate::store::deliveries::DeliveryRow;
use crate::store::purchases::BoughtLead;

/// What delivering needs of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub seller_name: String,
    pub public_url: String,
    pub currency: String,
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        Self {
            seller_name: c.billing.seller_name.clone(),
            public_url: c.public_url.clone(),
            currency: c.currency.clone(),
        }
    }
}

/// A callback to make: the claimed delivery, where it goes and the signed-to-be body.
#[derive(Debug, Clone)]
pub struct CallbackJob {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
    pub body: Vec<u8>,
}

/// How one try went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered { status: i32 },
    Failed { status: Option<i32>, error: String },
}

/// Claims up to `limit` due deliveries until `now + lease`. Mails are settled here;
/// the callbacks are returned to be made after the connection is given back.
pub fn claim(
    conn: &mut AnyConnection,
    settings: &Settings,
    now: NaiveDateTime,
    lease: chrono::TimeDelta,
    limit: i64,
) -> Result<Vec<CallbackJob>, AppError> {
    let claimed = store::deliveries::claim_due(conn, now, lease, limit)?;
    let mut jobs = Vec::new();
    for delivery in claimed {
        let to = store::deliveries::destination(conn, &delivery.order_id)?;
        if delivery.event == DeliveryEvent::Erased {
            // Only the ids: the lead's contact is gone, and the buyer must drop its copy.
            match (delivery.channel, to.callback_url) {
                (DeliveryChannel::Callback, Some(url)) => jobs.push(CallbackJob {
                    body: erased_body(&delivery),
                    delivery,
                    url,
                    secret: to.secret,
                }),
                _ => fail(conn, &delivery, None, "the order has no callback URL", now)?,
            }
            continue;
        }
        let Some(lead) =
            store::purchases::bought_lead(conn, &delivery.buyer_id, &delivery.purchase_id)?
        else {
            // Cannot happen while purchases are kept; recorded rather than retried forever.
            fail(conn, &delivery, None, "the purchase is gone", now)?;
            continue;
        };
        if lead.erased() {
            // The person was erased before this went out: nothing of theirs is sent, and
            // the buyer has the `lead.erased` notice instead. Dead at once, not retried.
            store::deliveries::mark_failed(
                conn,
                &delivery.id,
                None,
                "not sent: the person's data was erased before delivery",
                None,
            )?;
            continue;
        }
        match delivery.channel {
            DeliveryChannel::Email => match to.deliver_email.as_deref() {
                Some(address) => deliver_mail(
                    conn,
                    settings,
                    &delivery,
                    &to.order_name,
                    address,
                    &lead,
                    now,
                )?,
                None => fail(
                    conn,
                    &delivery,
                    None,
                    "the order has no delivery email",
                    now,
                )?,
            },
            DeliveryChannel::Callback => match to.callback_url {
                Some(url) => jobs.push(CallbackJob {
                    body: event_body(&delivery, &lead),
                    delivery,
                    url,
                    secret: to.secret,
                }),
                None => fail(conn, &delivery, None, "the order has no callback URL", now)?,
            },
        }
    }
    Ok(jobs)
}

/// Records how a callback went: delivered, or failed and retried per the backoff (dead
/// once a day has passed since the delivery was made). A manual "retry now" of a dead
/// delivery is one more try: failing, it is dead again.
pub fn record(
    conn: &mut AnyConnection,
    delivery: &DeliveryRow,
    attempt: &Attempt,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    match attempt {
        Attempt::Delivered { status } => {
            if !store::deliveries::mark_delivered(conn, &delivery.id, Some(*status), now)? {
                tracing::info!(delivery = %delivery.id, "delivery was already settled by another worker");
            }
        }
        Attempt::Failed { status, error } => fail(conn, delivery, *status, error, now)?,
    }
    Ok(())
}

fn fail(
    conn: &mut AnyConnection,
    delivery: &DeliveryRow,
    status: Option<i32>,
    error: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let attempts = delivery.attempts + 1;
    let since = delivery.retrying_since.unwrap_or(delivery.created_at);
    let retry_at =
        callback::retry_after(attempts, now - since, rand::random()).map(|wait| now + wait);
    tracing::warn!(
        delivery = %delivery.id,
        order = %delivery.order_id,
        attempts,
        status = ?status,
        dead = retry_at.is_none(),
        "delivery failed"
    );
    store::deliveries::mark_failed(conn, &delivery.id, status, error, retry_at)?;
    Ok(())
}

/// The mail with the lead, queued in the transaction that marks the delivery delivered.
fn deliver_mail(
    conn: &mut AnyConnection,
    settings: &Settings,
    delivery: &DeliveryRow,
    order_name: &str,
    address: &str,
    lead: &BoughtLead,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let rendered = lead_mail(settings, order_name, lead)
        .render()
        .map_err(AppError::internal)?;
    write_transaction(conn, |conn| {
        // Queued only when this worker still holds the delivery: never twice.
        if store::deliveries::mark_delivered(conn, &delivery.id, None, now)? {
            store::outbox::enqueue(conn, &[address.to_string()], rendered.for_outbox(), now)?;
        }
        Ok(())
    })
}

pub fn lead_mail(settings: &Settings, order_name: &str, lead: &BoughtLead) -> LeadDelivered {
    let name = [lead.first_name.as_deref(), lead.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut put = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            fields.push((label.to_string(), v));
        }
    };
    put("Name", Some(name.clone()));
    put("Email", lead.email.clone());
    put("Phone", lead.phone.clone());
    put("Age", Some(lead.age.to_string()));
    put("Country", Some(lead.country.clone()));
    put("Region", lead.region.clone());
    put("City", lead.city.clone());
    put("Postal code", lead.postal_code.clone());
    put("Street", lead.street.clone());
    put("Segment", Some(lead.segment.clone()));
    put("Warmth", Some(lead.warmth.clone()));
    put("Contact type", Some(lead.contact_type.clone()));
    put(
        "Captured",
        Some(lead.captured_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    );
    LeadDelivered {
        seller_name: settings.seller_name.clone(),
        order_name: order_name.to_string(),
        lead_name: if name.is_empty() {
            "a lead".into()
        } else {
            name
        },
        price: format_amount(lead.price_cents, &settings.currency),
        fields,
        url: format!("{}/purchases", settings.public_url.trim_end_matches('/')),
    }
}

#[derive(Serialize)]
struct LeadDeliveredEvent<'a> {
    event: &'static str,
    order_id: &'a str,
    purchase_id: &'a str,
    lead: LeadFields<'a>,
}

/// Every field the buyer bought, as `GET /purchases` shows them.
#[derive(Serialize)]
struct LeadFields<'a> {
    id: &'a str,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    age: i32,
    country: &'a str,
    region: Option<&'a str>,
    city: Option<&'a str>,
    postal_code: Option<&'a str>,
    street: Option<&'a str>,
    segment: &'a str,
    warmth: &'a str,
    contact_type: &'a str,
    captured_at: String,
    bought_at: String,
    price_cents: i64,
}

/// The `lead.delivered` body (api.md).
pub fn event_body(delivery: &DeliveryRow, lead: &BoughtLead) -> Vec<u8> {
    let event = LeadDeliveredEvent {
        event: "lead.delivered",
        order_id: &delivery.order_id,
        purchase_id: &delivery.purchase_id,
        lead: LeadFields {
            id: &lead.lead_id,
            first_name: lead.first_name.as_deref(),
            last_name: lead.last_name.as_deref(),
            email: lead.email.as_deref(),
            phone: lead.phone.as_deref(),
            age: lead.age,
            country: &lead.country,
            region: lead.region.as_deref(),
            city: lead.city.as_deref(),
            postal_code: lead.postal_code.as_deref(),
            street: lead.street.as_deref(),
            segment: &lead.segment,
            warmth: &lead.warmth,
            contact_type: &lead.contact_type,
            captured_at: rfc3339(lead.captured_at),
            bought_at: rfc3339(lead.bought_at),
            price_cents: lead.price_cents,
        },
    };
    serde_json::to_vec(&event).expect("plain fields serialise")
}

#[derive(Serialize)]
struct LeadErasedEvent<'a> {
    event: &'static str,
    purchase_id: &'a str,
    lead_id: &'a str,
}

/// The `lead.erased` body (api.md): the buyer must delete its copy of the lead.
pub fn erased_body(delivery: &DeliveryRow) -> Vec<u8> {
    serde_json::to_vec(&LeadErasedEvent {
        event: DeliveryEvent::Erased.as_str(),
        purchase_id: &delivery.purchase_id,
        lead_id: &delivery.lead_id,
    })
    .expect("plain fields serialise")
}

/// The HTTP client of callbacks: a timeout, no redirects, no proxy, and (unless private
/// addresses are allowed) a resolver that connects to public addresses only.
#[derive(Clone)]
pub struct Callbacks {
    client: reqwest::Client,
    allow_private: bool,
}

impl Callbacks {
    pub fn new(config: &Config) -> Result<Self, AppError> {
        Self::with(
            Duration::from_millis(config.callback_timeout_ms),
            config.callback_allow_private,
        )
    }

    pub fn with(timeout: Duration, allow_private: bool) -> Result<Self, AppError> {
        Ok(Self {
            client: client(timeout, allow_private).map_err(AppError::internal)?,
            allow_private,
        })
    }

    /// Posts `job`'s body signed at `unix` seconds. Never panics and never errs: every
    /// problem is a failed attempt with a short reason.
    pub async fn send(&self, job: &CallbackJob, unix: i64) -> Attempt {
        let url = match callback::check_url(&job.url, self.allow_private) {
            Ok(url) => url,
            Err(problem) => {
                return Attempt::Failed {
                    status: None,
                    error: format!("refused: {problem}"),
                };
            }
        };
        let signature = callback::signature(&job.secret, unix, &job.body);
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(callback::SIGNATURE_HEADER, signature)
            .header(callback::DELIVERY_ID_HEADER, &job.delivery.id)
            .body(job.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: error_text(&e),
                };
            }
        };
        let status = i32::from(response.status().as_u16());
        if response.status().is_success() {
            return Attempt::Delivered { status };
        }
        Attempt::Failed {
            status: Some(status),
            error: excerpt(&mut response).await,
        }
    }
}

/// The start of an answer's body: only an excerpt is kept, so no more is read.
async fn excerpt(response: &mut reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < store::deliveries::EXCERPT_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text
        .chars()
        .take(store::deliveries::EXCERPT_CHARS)
        .collect();
    if text.trim().is_empty() {
        "no body".into()
    } else {
        text
    }
}

/// An error with its causes ("error sending request: ...: resolves to no public
/// address"), as reqwest's own message names only the outermost.
fn error_text(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn client(timeout: Duration, allow_private: bool) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would connect for us, past the resolver's check.
        .no_proxy()
        .user_agent(concat!("leadmarket/", env!("CARGO_PKG_VERSION")));
    if allow_private {
        builder.build()
    } else {
        builder
            .dns_resolver(std::sync::Arc::new(PublicOnly))
            .build()
    }
}

/// Resolves names to their public addresses only, failing when none is left.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let public = resolve_public(&host).await?;
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The public addresses `host` resolves to, as the callback client connects: an error
/// when there are none.
pub async fn resolve_public(host: &str) -> Result<Vec<SocketAddr>, String> {
    let lookup = host.to_string();
    let found = tokio::task::spawn_blocking(move || {
        (lookup.as_str(), 0)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<_>>)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("{host} does not resolve: {e}"))?;
    let public = public_addrs(found);
    if public.is_empty() {
        return Err(format!("{host} resolves to no public address"));
    }
    Ok(public)
}

/// The addresses a callback may connect to.
pub fn public_addrs(addrs: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    addrs
        .into_iter()
        .filter(|a| callback::is_public(a.ip()))
        .collect()
}

/// An order's deliveries, newest first, after `cursor` (404 when the order is not the
/// buyer's).
pub fn list(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, AppError> {
    if !store::deliveries::order_is_buyers(conn, buyer_id, order_id)? {
        return Err(AppError::NotFound);
    }
    Ok(store::deliveries::recent_for_order(
        conn, order_id, cursor, limit,
    )?)
}

/// "Retry now": a dead delivery of the buyer's order waits again, due at once. 404 when
/// it is not the buyer's; 409 `not_dead` when it is not dead.
pub fn retry(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<DeliveryRow, AppError> {
    write_transaction(conn, |conn| {
        if !store::deliveries::order_is_buyers(conn, buyer_id, order_id)? {
            return Err(AppError::NotFound);
        }
        let row = store::deliveries::find_for_buyer(conn, buyer_id, order_id, id)?
            .ok_or(AppError::NotFound)?;
        if row.status != DeliveryStatus::Dead || !store::deliveries::retry_now(conn, id, now)? {
            return Err(AppError::Conflict {
                code: "not_dead",
                message: format!(
                    "only a dead delivery can be retried now; this one is {}",
                    row.status
                ),
            });
        }
        store::deliveries::find_for_buyer(conn, buyer_id, order_id, id)?.ok_or(AppError::NotFound)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_connected_to() {
        let addrs: Vec<SocketAddr> = [
            "127.0.0.1:443",
            "[::1]:443",
            "10.0.0.5:443",
            "169.254.169.254:80",
            "93.184.216.34:443",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        assert_eq!(
            public_addrs(addrs),
            vec!["93.184.216.34:443".parse::<SocketAddr>().unwrap()]
        );
    }
}
