//! The admins' side of consumers' rights: the queue of phone requests (confirm after
//! checking who asks, then see and erase; or dismiss).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::rights::RequestStatus;
use crate::error::AppResult;
use crate::services::rights::{self, Settings};
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::pages::my_data::{HoldingView, views};
use crate::web::{client_ip, redirect, render};

pub struct QueuedView {
    pub id: String,
    pub phone: String,
    pub asked: String,
    pub confirmed: bool,
    pub leads: usize,
}

#[derive(Template)]
#[template(path = "admin/my_data_requests.html")]
struct QueuePage {
    layout: Layout,
    requests: Vec<QueuedView>,
}

const QUEUE: &str = "/admin/my-data-requests";

pub async fn queue(user: AdminUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let queued = state.db(|conn| rights::queue(conn, store::now())).await?;
    render(&QueuePage {
        layout: Layout::for_user(&user, "My-data requests by phone", QUEUE),
        requests: queued
            .into_iter()
            .map(|q| QueuedView {
                phone: q.request.phone.clone().unwrap_or_default(),
                asked: q
                    .request
                    .created_at
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string(),
                confirmed: q.request.status == RequestStatus::Confirmed,
                id: q.request.id,
                leads: q.leads,
            })
            .collect(),
    })
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn confirm(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, admin, ip) = (
        path.into_inner(),
        user.id.clone(),
        client_ip(&req, state.config().trust_proxy_headers),
    );
    let to = format!("{QUEUE}/{id}");
    state
        .db(move |conn| rights::confirm(conn, &id, &admin, &ip, store::now()))
        .await?;
    Ok(redirect(&to))
}

pub async fn dismiss(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, admin, ip) = (
        path.into_inner(),
        user.id.clone(),
        client_ip(&req, state.config().trust_proxy_headers),
    );
    state
        .db(move |conn| rights::dismiss(conn, &id, &admin, &ip, store::now()))
        .await?;
    Ok(redirect(QUEUE))
}

#[derive(Template)]
#[template(path = "admin/my_data_request.html")]
struct RequestPage {
    layout: Layout,
    id: String,
    phone: String,
    holdings: Vec<HoldingView>,
    erased: bool,
    erased_count: usize,
}

pub async fn show(
    user: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let i = id.clone();
    let (request, held) = state
        .db(move |conn| rights::confirmed_holdings(conn, &i, store::now()))
        .await?;
    render(&RequestPage {
        layout: Layout::for_user(&user, "My-data request", QUEUE),
        id,
        phone: request.phone.unwrap_or_default(),
        holdings: views(held),
        erased: false,
        erased_count: 0,
    })
}

pub async fn erase(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (i, admin, ip) = (
        id.clone(),
        user.id.clone(),
        client_ip(&req, state.config().trust_proxy_headers),
    );
    let settings = Settings::from(&*state.config());
    let n = state
        .db(move |conn| rights::erase_by_admin(conn, &settings, &i, &admin, &ip, store::now()))
        .await?;
    render(&RequestPage {
        layout: Layout::for_user(&user, "My-data request", QUEUE),
        id,
        phone: String::new(),
        holdings: Vec::new(),
        erased: true,
        erased_count: n,
    })
}
