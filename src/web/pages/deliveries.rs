//! "Retry now" on a standing order's page: a dead delivery waits again, due at once,
//! and the buyer lands back on the order's page with a notice.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::services::deliveries;
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::redirect;

/// The form carries its CSRF token only.
#[derive(Deserialize)]
pub struct RetryForm {}

pub async fn retry(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, String)>,
    _form: CsrfForm<RetryForm>,
) -> AppResult<HttpResponse> {
    let (order, id) = path.into_inner();
    let (buyer, o) = (user.org_id.clone(), order.clone());
    let retried = state
        .db(move |conn| deliveries::retry(conn, &buyer, &o, &id, store::now()))
        .await;
    let message = match retried {
        Ok(_) => {
            state.wake_deliveries();
            Flash::notice("The delivery is being tried again now.")
        }
        Err(AppError::Conflict { message, .. }) => Flash::alert(format!("Not retried: {message}.")),
        Err(e) => return Err(e),
    };
    flash::set(&session, message)?;
    Ok(redirect(&format!("/standing-orders/{order}")))
}
