//! The auction log page (`/pings`): an agency's pings with who was asked and every bid;
//! a buyer's auctions with its own bid, won or lost and the price; finance and admin all.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::money::format_amount;
use crate::domain::{OrgKind, Role};
use crate::error::AppResult;
use crate::services::ping::log::{self, PingView, Viewer};
use crate::store;
use crate::web::auth::CurrentUser;
use crate::web::layout::Layout;
use crate::web::render;

pub struct BidLine {
    pub who: String,
    pub bid: String,
    pub outcome: String,
}

pub struct PingLine {
    pub when: String,
    pub lead: String,
    pub reserve: String,
    pub asked: i32,
    pub bids_count: usize,
    pub price: String,
    pub status: String,
    pub took: String,
    pub won: Option<bool>,
    pub bids: Vec<BidLine>,
}

#[derive(Template)]
#[template(path = "pings/list.html")]
struct ListPage {
    layout: Layout,
    intro: &'static str,
    pings: Vec<PingLine>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub cursor: Option<String>,
}

const PAGE: i64 = 50;

fn line(p: PingView, currency: &str) -> PingLine {
    let amount = |c: i64| format_amount(c, currency);
    let mut lead = vec![p.segment.clone(), p.country.clone()];
    lead.extend(p.region.clone());
    lead.extend(p.postal_prefix.clone().map(|x| format!("postal {x}…")));
    lead.push(format!("age {}", p.age));
    lead.extend(p.income_band.clone());
    lead.push(p.warmth.clone());
    lead.push(p.contact_type.clone());
    if p.verified {
        lead.push("verified".into());
    }
    PingLine {
        when: p.created.format("%Y-%m-%d %H:%M:%S").to_string(),
        lead: lead.join(" · "),
        reserve: amount(p.reserve_cents),
        asked: p.orders_asked,
        bids_count: p.bids_count,
        price: p
            .price_cents
            .map(amount)
            .unwrap_or_else(|| "no offer".into()),
        status: p.status.to_string().replace('_', " "),
        took: format!("{:.1} ms", p.took_ms),
        won: p.won,
        bids: p
            .bids
            .into_iter()
            .map(|b| BidLine {
                who: match (b.buyer, b.order) {
                    (Some(buyer), Some(order)) => format!("{buyer} ({order})"),
                    (Some(buyer), None) => buyer,
                    (None, Some(order)) => order,
                    (None, None) => "a buyer".into(),
                },
                bid: amount(b.bid_cents),
                outcome: b.outcome.to_string().replace('_', " "),
            })
            .collect(),
    }
}

pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let (org, kind, role) = (user.org_id.clone(), user.org_kind, user.role);
    let cursor = query.cursor.clone();
    let pings = state
        .db(move |conn| {
            let viewer = match (kind, role) {
                (OrgKind::Agency, _) => Viewer::Agency(&org),
                (OrgKind::Buyer, _) => Viewer::Buyer(&org),
                (OrgKind::Platform, Role::Finance | Role::Admin) => Viewer::Platform,
                _ => return Err(crate::error::AppError::Forbidden),
            };
            log::list(conn, viewer, cursor.as_deref(), PAGE, store::now())
        })
        .await?;
    let next = (pings.len() as i64 == PAGE)
        .then(|| pings.last().map(|p| format!("/pings?cursor={}", p.id)))
        .flatten();
    let intro = match user.org_kind {
        OrgKind::Agency => {
            "Every ping you sent: the orders asked, each buyer's bid, the price and what became of it."
        }
        OrgKind::Buyer => {
            "The auctions your standing orders bid in: your bid, whether you won, and the price."
        }
        OrgKind::Platform => "Every auction on the platform.",
    };
    let currency = state.config().currency.clone();
    render(&ListPage {
        layout: Layout::for_user(&user, "Auctions", "/pings"),
        intro,
        pings: pings.into_iter().map(|p| line(p, &currency)).collect(),
        next,
    })
}
