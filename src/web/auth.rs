//! Who is calling. `CurrentUser` comes from the session cookie and knows its organisation
//! and role; the role extractors (`AgencyUser`, `BuyerUser`, `FinanceUser`, `AdminUser`)
//! refuse everyone else with 403 before the handler runs.

use std::cell::RefCell;
use std::future::Future;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Poll, Waker};

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::domain::{OrgKind, Role};
use crate::error::AppError;
use crate::services::accounts;

/// The session id in the cookie; the sessions table says whether it is still live, so
/// logout and disabling a user end it in every `serve` process.
const SESSION_KEY: &str = "sid";

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: String,
    pub org_name: String,
    pub org_slug: String,
    pub org_kind: OrgKind,
    pub csrf_token: String,
}

/// Opens when this request's `CurrentUser` (and so its role guard) has been decided.
/// actix-web runs a handler's extractors together and answers with the first error that
/// comes back, so a form's CSRF verdict waits at this gate: whoever may not post somewhere
/// learns only that, whatever his token, on every run.
#[derive(Clone, Default)]
struct UserDecided(Rc<RefCell<Gate>>);

#[derive(Default)]
struct Gate {
    open: bool,
    waiting: Option<Waker>,
}

impl UserDecided {
    fn open(&self) {
        let mut gate = self.0.borrow_mut();
        gate.open = true;
        if let Some(w) = gate.waiting.take() {
            w.wake();
        }
    }
}

/// Opens the gate however the lookup ends: with a user, an error, or dropped.
struct OpenOnDrop(UserDecided);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Resolves once the user extracted before this point of the request has been decided
/// (at once when there is none).
pub(super) fn user_decided(req: &HttpRequest) -> impl Future<Output = ()> + 'static {
    let gate = req.extensions().get::<UserDecided>().cloned();
    std::future::poll_fn(move |cx| {
        let Some(UserDecided(gate)) = &gate else {
            return Poll::Ready(());
        };
        let mut gate = gate.borrow_mut();
        if gate.open {
            Poll::Ready(())
        } else {
            gate.waiting = Some(cx.waker().clone());
            Poll::Pending
        }
    })
}

/// Puts a session started by `accounts::start_session` into a fresh cookie (with a new
/// CSRF token).
pub fn sign_in(session: &Session, session_id: &str) -> Result<(), AppError> {
    session.renew();
    session
        .insert(SESSION_KEY, session_id)
        .map_err(AppError::internal)?;
    super::csrf::rotate(session)?;
    Ok(())
}

/// Ends the session in the database, then clears the cookie: a copy of the cookie taken
/// before logout opens nothing afterwards.
pub async fn sign_out(state: &AppState, session: &Session) -> Result<(), AppError> {
    if let Some(id) = session.get::<String>(SESSION_KEY).ok().flatten() {
        state
            .db(move |conn| accounts::end_session(conn, &id))
            .await?;
    }
    session.purge();
    Ok(())
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState is not registered")))
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = state(req);
        // After login, bring people back to the page they asked for.
        let next = (req.method() == actix_web::http::Method::GET)
            .then(|| req.uri().path_and_query().map(|p| p.to_string()))
            .flatten();
        let decided = UserDecided::default();
        req.extensions_mut().insert(decided.clone());
        Box::pin(async move {
            // Dropped when this future finishes, just before a role guard's verdict.
            let _decided = OpenOnDrop(decided);
            let state = state?;
            let login = || AppError::LoginRequired { next: next.clone() };
            let Some(session_id) = session.get::<String>(SESSION_KEY).ok().flatten() else {
                return Err(login());
            };
            // Expiry, logout and disabled users are all decided by this one lookup.
            let found = state
                .db(move |conn| accounts::session_user(conn, &session_id))
                .await?;
            let Some((user, org)) = found else {
                session.purge();
                return Err(login());
            };
            Ok(CurrentUser {
                id: user.id,
                email: user.email,
                display_name: user.display_name,
                role: user.role,
                org_id: org.id,
                org_name: org.name,
                org_slug: org.slug,
                org_kind: org.kind,
                csrf_token: super::csrf::token(&session)?,
            })
        })
    }
}

/// Declares an extractor that admits only the given roles.
macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident: $($role:path),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub CurrentUser);

        impl Deref for $name {
            type Target = CurrentUser;
            fn deref(&self) -> &CurrentUser {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let user = CurrentUser::from_request(req, payload);
                Box::pin(async move {
                    let user = user.await?;
                    if matches!(user.role, $($role)|+) {
                        Ok($name(user))
                    } else {
                        Err(AppError::Forbidden)
                    }
                })
            }
        }
    };
}

role_guard!(
    /// A user of an agency.
    AgencyUser: Role::Agency
);
role_guard!(
    /// A user of a buyer.
    BuyerUser: Role::Buyer
);
role_guard!(
    /// Platform finance staff (admins may do finance work too).
    FinanceUser: Role::Finance, Role::Admin
);
role_guard!(
    /// A platform administrator.
    AdminUser: Role::Admin
);
role_guard!(
    /// A user of an agency or a buyer (a customer of the platform).
    CustomerUser: Role::Agency, Role::Buyer
);
