//! The demo's own callback receiver (`/demo/callback-inbox`), mounted only by `leadmarket
//! demo`: seeded standing orders call it, so a new user watches deliveries arrive. It
//! checks each call's signature with the order's secret, as a buyer's system would, and
//! keeps the last [`KEEP`] calls in memory.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::standing_order::callback;
use crate::error::AppResult;
use crate::store;
use crate::web::layout::Layout;
use crate::web::render;

pub const PATH: &str = "/demo/callback-inbox";
/// Calls kept; older ones drop off.
pub const KEEP: usize = 100;

#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: String,
    pub event: String,
    pub order_id: String,
    pub lead_id: String,
    pub signature_valid: bool,
}

/// The calls received, newest first.
#[derive(Default, Clone)]
pub struct Inbox(Arc<Mutex<VecDeque<Arrival>>>);

impl Inbox {
    fn push(&self, a: Arrival) {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        q.push_front(a);
        q.truncate(KEEP);
    }

    pub fn list(&self) -> Vec<Arrival> {
        let q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        q.iter().cloned().collect()
    }
}

/// Mounts the inbox (one `Inbox` shared by every worker).
pub fn routes(cfg: &mut web::ServiceConfig, inbox: Inbox) {
    cfg.app_data(web::Data::new(inbox))
        .route(PATH, web::post().to(receive))
        .route(PATH, web::get().to(show));
}

/// 204 for a call signed with its order's secret; 401 (and listed as invalid) otherwise.
pub async fn receive(
    state: web::Data<AppState>,
    inbox: web::Data<Inbox>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let order_id = text(&json["order_id"]);
    let lead_id = match json["lead"]["id"].as_str() {
        Some(id) => id.to_string(),
        None => text(&json["lead_id"]),
    };
    let header = req
        .headers()
        .get(callback::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let id = order_id.clone();
    let secret = state
        .db(move |conn| match store::standing_orders::find(conn, &id) {
            Ok(order) => Ok(Some(order.secret)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    let valid = secret.is_some_and(|s| callback::verify(&s, &header, &body));
    inbox.push(Arrival {
        at: store::now().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        event: text(&json["event"]),
        order_id,
        lead_id,
        signature_valid: valid,
    });
    Ok(if valid {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::Unauthorized().body("signature does not match")
    })
}

#[derive(Template)]
#[template(path = "demo/callback_inbox.html")]
struct InboxPage {
    layout: Layout,
    arrivals: Vec<Arrival>,
}

pub async fn show(inbox: web::Data<Inbox>) -> AppResult<HttpResponse> {
    render(&InboxPage {
        layout: Layout::anonymous("Demo callback inbox"),
        arrivals: inbox.list(),
    })
}
