//! Administration pages.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::error::AppResult;
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::layout::Layout;
use crate::web::render;

pub struct OrgView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub status: String,
    pub users: i64,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin/organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    organisations: Vec<OrgView>,
}

pub async fn organisations(user: AdminUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let organisations = state
        .db(|conn| {
            let counts: std::collections::HashMap<String, i64> =
                store::users::count_by_org(conn)?.into_iter().collect();
            Ok(store::organisations::list(conn)?
                .into_iter()
                .map(|o| OrgView {
                    users: counts.get(&o.id).copied().unwrap_or(0),
                    id: o.id,
                    name: o.name,
                    slug: o.slug,
                    kind: o.kind.to_string(),
                    status: o.status.to_string(),
                    created: o.created_at.format("%Y-%m-%d").to_string(),
                })
                .collect())
        })
        .await?;
    render(&OrganisationsPage {
        layout: Layout::for_user(&user, "Organisations", "/admin/organisations"),
        organisations,
    })
}
