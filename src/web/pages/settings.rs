//! The organisation's settings: its users and its API keys.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::services::accounts;
use crate::store;
use crate::web::auth::{BuyerUser, CurrentUser};
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::{redirect, render};

pub struct UserView {
    pub name: String,
    pub email: String,
    pub role: String,
    pub last_login: String,
}

pub struct KeyView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "settings/organisation.html")]
struct SettingsPage {
    layout: Layout,
    org_name: String,
    org_slug: String,
    org_kind: String,
    users: Vec<UserView>,
    keys: Vec<KeyView>,
    new_key: Option<String>,
    notice: Option<&'static str>,
    is_buyer: bool,
    billing_address: String,
    postback_since: Option<String>,
    new_postback_url: Option<String>,
    /// The buyer's zone for daily caps and active hours, as stored or as typed.
    time_zone: String,
    time_zone_error: Option<String>,
    zones: &'static [&'static str],
}

/// Offered in the field's list; any IANA name is accepted.
const COMMON_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

#[derive(Deserialize)]
pub struct Notice {
    revoked: Option<String>,
    address: Option<String>,
    zone: Option<String>,
}

fn fmt_time(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "never".into())
}

async fn page(
    user: &CurrentUser,
    state: &AppState,
    new_key: Option<String>,
    notice: Option<&'static str>,
    new_postback_url: Option<String>,
) -> AppResult<SettingsPage> {
    let org_id = user.org_id.clone();
    let (users, keys, billing_address, postback, time_zone) = state
        .db(move |conn| {
            Ok((
                store::users::list_for_org(conn, &org_id)?,
                store::api_keys::list_for_org(conn, &org_id)?,
                store::organisations::billing_address(conn, &org_id)?,
                store::postback_tokens::created(conn, &org_id)?,
                store::organisations::time_zone(conn, &org_id)?,
            ))
        })
        .await?;
    Ok(SettingsPage {
        layout: Layout::for_user(user, "My organisation", "/settings/organisation"),
        org_name: user.org_name.clone(),
        org_slug: user.org_slug.clone(),
        org_kind: user.org_kind.to_string(),
        users: users
            .into_iter()
            .map(|u| UserView {
                name: u.display_name,
                email: u.email,
                role: u.role.to_string(),
                last_login: fmt_time(u.last_login_at),
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyView {
                revoked: k.revoked_at.is_some(),
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                created: fmt_time(Some(k.created_at)),
                last_used: fmt_time(k.last_used_at),
            })
            .collect(),
        new_key,
        notice,
        is_buyer: user.org_kind == crate::domain::OrgKind::Buyer,
        billing_address,
        postback_since: postback.map(|t| fmt_time(Some(t))),
        new_postback_url,
        time_zone,
        time_zone_error: None,
        zones: COMMON_ZONES,
    })
}

pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<Notice>,
) -> AppResult<HttpResponse> {
    let notice = if query.revoked.is_some() {
        Some("The API key was revoked. Tokens made with it stop working at once.")
    } else if query.address.is_some() {
        Some("The billing address is saved; new invoices print it.")
    } else if query.zone.is_some() {
        Some("The time zone is saved: daily caps count and active hours run in it.")
    } else {
        None
    };
    render(&page(&user, &state, None, notice, None).await?)
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    name: String,
}

/// Creates a key and shows its secret on this one response only.
pub async fn create_key(
    user: CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<NewKeyForm>,
) -> AppResult<HttpResponse> {
    let (org_id, user_id) = (user.org_id.clone(), user.id.clone());
    let issued = state
        .db(move |conn| accounts::create_api_key(conn, &org_id, &form.name, Some(&user_id)))
        .await?;
    let mut resp = render(&page(&user, &state, Some(issued.secret), None, None).await?)?;
    // The secret must not linger in any cache.
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
pub struct RevokeForm {}

pub async fn revoke_key(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<RevokeForm>,
) -> AppResult<HttpResponse> {
    let key_id = path.into_inner();
    let org_id = user.org_id.clone();
    let found = state
        .db(move |conn| Ok(store::api_keys::revoke(conn, &org_id, &key_id)?))
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/settings/organisation?revoked=1"))
}

#[derive(Deserialize)]
pub struct AddressForm {
    billing_address: String,
}

/// The address printed on this organisation's invoices.
pub async fn set_address(
    user: CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<AddressForm>,
) -> AppResult<HttpResponse> {
    let address = form.billing_address.trim().replace("\r\n", "\n");
    if address.chars().count() > 500 {
        return Err(AppError::invalid(
            "billing_address",
            "must be at most 500 characters",
        ));
    }
    let org_id = user.org_id.clone();
    state
        .db(move |conn| {
            Ok(store::organisations::set_billing_address(
                conn, &org_id, &address,
            )?)
        })
        .await?;
    Ok(redirect("/settings/organisation?address=1"))
}

#[derive(Deserialize)]
pub struct PostbackForm {}

/// A new postback token for a buyer, shown once inside its URL; the old one stops.
pub async fn rotate_postback(
    user: BuyerUser,
    state: web::Data<AppState>,
    _form: CsrfForm<PostbackForm>,
) -> AppResult<HttpResponse> {
    let org_id = user.org_id.clone();
    let token = state
        .db(move |conn| crate::services::billing::rotate_postback_token(conn, &org_id))
        .await?;
    let url = format!(
        "{}/api/v1/postback?token={token}&lead_id={{lead_id}}&kind={{call|consultation|purchase}}&key={{your unique id}}",
        state.config().public_url
    );
    let mut resp = render(&page(&user, &state, None, None, Some(url)).await?)?;
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
pub struct TimeZoneForm {
    time_zone: String,
}

/// A buyer's zone: its standing orders' days (caps) and hours turn in it.
pub async fn set_time_zone(
    user: BuyerUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TimeZoneForm>,
) -> AppResult<HttpResponse> {
    let zone = match crate::domain::standing_order::parse_time_zone(&form.time_zone) {
        Ok(tz) => tz.name().to_string(),
        Err(problem) => {
            let mut page = page(&user, &state, None, None, None).await?;
            page.time_zone = form.time_zone;
            page.time_zone_error =
                Some(crate::error::FieldProblem::new("time_zone", problem).sentence());
            return crate::web::render_status(
                &page,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let org_id = user.org_id.clone();
    state
        .db(move |conn| Ok(store::organisations::set_time_zone(conn, &org_id, &zone)?))
        .await?;
    Ok(redirect("/settings/organisation?zone=1"))
}
