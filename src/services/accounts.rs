//! Organisations, users, API keys and authentication.

use chrono::TimeDelta;

use crate::config::{JwtConfig, LoginThrottle};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, AuditActor, Who};
use crate::domain::password::{self, NewPassword};
use crate::domain::throttle::{self, Scope};
use crate::domain::{Email, OrgKind, Role, apikey, org, session, slug, token};
use crate::error::AppError;
use crate::services;
use crate::store::{self, organisations::OrganisationRow, users::UserRow};

pub fn create_organisation(
    conn: &mut AnyConnection,
    kind: OrgKind,
    name: &str,
    explicit_slug: Option<&str>,
) -> Result<OrganisationRow, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::invalid("name", "must be 1-120 characters"));
    }
    let slug = match explicit_slug {
        Some(s) => slug::parse_slug(s).map_err(|e| AppError::invalid("slug", e))?,
        None => {
            let derived = slug::slugify(name);
            slug::parse_slug(&derived).map_err(|_| {
                AppError::invalid("slug", "cannot be derived from this name; give one")
            })?
        }
    };
    write_transaction(conn, |conn| {
        if store::organisations::find_by_slug(conn, &slug).is_ok() {
            return Err(AppError::Conflict {
                code: "slug_taken",
                message: format!("an organisation with slug `{slug}` exists already"),
            });
        }
        Ok(store::organisations::create(conn, kind, name, &slug)?)
    })
}

pub fn create_user(
    conn: &mut AnyConnection,
    org_slug: &str,
    email: &str,
    display_name: Option<&str>,
    role: Role,
    password: &NewPassword,
) -> Result<UserRow, AppError> {
    let email: Email = email
        .parse()
        .map_err(|e: String| AppError::invalid("email", e))?;
    let hash = password::hash(password);
    write_transaction(conn, |conn| {
        let org = store::organisations::find_by_slug(conn, org_slug).map_err(|_| {
            AppError::invalid("org", format!("no organisation with slug `{org_slug}`"))
        })?;
        org::check_role_fits(role, org.kind).map_err(|e| AppError::invalid("role", e))?;
        if store::users::find_active_by_email(conn, email.as_str())?.is_some() {
            return Err(AppError::Conflict {
                code: "email_taken",
                message: format!("a user with email {email} exists already"),
            });
        }
        let name = display_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or("user")
                    .to_string()
            });
        Ok(store::users::create(
            conn, &org.id, &email, &name, &hash, role,
        )?)
    })
}

/// A new API key; the secret is returned once and only its hash is kept.
pub struct IssuedApiKey {
    pub id: String,
    pub secret: String,
}

pub fn create_api_key(
    conn: &mut AnyConnection,
    organisation_id: &str,
    name: &str,
    created_by: Option<&str>,
) -> Result<IssuedApiKey, AppError> {
    let name = name.trim();
    let name = if name.is_empty() { "API key" } else { name };
    if name.chars().count() > 80 {
        return Err(AppError::invalid("name", "must be at most 80 characters"));
    }
    let key = apikey::generate();
    let id = write_transaction(conn, |conn| {
        store::api_keys::create(
            conn,
            organisation_id,
            name,
            &key.display_prefix,
            &key.hash,
            created_by,
        )
    })?;
    Ok(IssuedApiKey {
        id,
        secret: key.secret,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Throttled {
        retry_after_seconds: i64,
    },
    BadCredentials,
    /// The password was right, but an admin suspended the user's organisation.
    Suspended {
        reason: String,
    },
}

/// Checks a login against the throttle and the stored hash, and records the attempt.
/// The throttle's slots (per account and per address) are taken before the password is
/// checked, so concurrent guesses cannot all slip in under the limit.
pub fn authenticate(
    conn: &mut AnyConnection,
    limits: &LoginThrottle,
    email_as_typed: &str,
    password_attempt: &str,
    ip: &str,
) -> Result<Result<UserRow, LoginError>, AppError> {
    let account = throttle::account_key(email_as_typed);
    let keys = [
        throttle::counter_key(Scope::LoginAccount, &account),
        throttle::counter_key(Scope::LoginAddress, ip),
    ];
    // The address's limit is larger: an office behind one NAT signs in from one address.
    let limited = [
        (keys[0].clone(), limits.max_failures),
        (keys[1].clone(), limits.address_max_failures),
    ];
    if let Some(retry_after_seconds) =
        services::throttle::take_all(conn, limits.window_seconds, &limited)?
    {
        return Ok(Err(LoginError::Throttled {
            retry_after_seconds,
        }));
    }
    let user = match email_as_typed.parse::<Email>() {
        Ok(email) => store::users::find_active_by_email(conn, email.as_str())?,
        Err(_) => None,
    };
    // Verify against a dummy hash when there is no such user, so timing reveals nothing.
    let ok = password::verify(
        password_attempt,
        user.as_ref()
            .map(|u| u.password_hash.as_str())
            .unwrap_or_else(|| password::dummy_hash()),
    ) && user.is_some();
    store::login_attempts::record(conn, &account, ip, ok)?;
    let outcome = match user {
        Some(ref user) if ok => {
            services::throttle::release_all(conn, &keys)?;
            // Told only to someone who knows the password, so it reveals nothing.
            match store::organisations::find(conn, &user.organisation_id)?.suspension_reason {
                Some(reason) => Err(LoginError::Suspended { reason }),
                None => {
                    store::users::touch_login(conn, &user.id)?;
                    Ok(user.clone())
                }
            }
        }
        _ => Err(LoginError::BadCredentials),
    };
    audit_login(conn, user.as_ref(), &outcome, ip)?;
    Ok(outcome)
}

/// Every checked login goes to the audit log, with the account it was for when one
/// exists; never the email or password typed (a mistyped password can be another
/// account's). Throttled attempts were refused unchecked and are not recorded, so a
/// flood of guesses does not flood the log.
fn audit_login(
    conn: &mut AnyConnection,
    account: Option<&UserRow>,
    outcome: &Result<UserRow, LoginError>,
    ip: &str,
) -> diesel::QueryResult<()> {
    let (who, action, detail) = match (outcome, account) {
        (Ok(user), _) => (
            Who::user(user.role, &user.id, ip),
            AuditAction::Login,
            "signed in",
        ),
        (Err(refused), account) => (
            Who {
                actor: AuditActor::Visitor,
                user_id: account.map(|u| u.id.clone()),
                address: Some(ip.to_string()),
            },
            AuditAction::LoginFailed,
            match (refused, account) {
                (LoginError::Suspended { .. }, _) => "right password, organisation suspended",
                (_, Some(_)) => "wrong password",
                (_, None) => "no active account with that email",
            },
        ),
    };
    let org = account.map(|u| u.organisation_id.as_str());
    services::audit::record(conn, &who, action, org, detail, store::now())
}

/// Starts a session for a signed-in user; returns the id for the cookie (only its hash
/// is stored).
pub fn start_session(
    conn: &mut AnyConnection,
    user_id: &str,
    ttl_hours: i64,
) -> Result<String, AppError> {
    let id = session::generate();
    let now = store::now();
    store::sessions::create(
        conn,
        &id.hash,
        user_id,
        now,
        now + TimeDelta::hours(ttl_hours),
    )?;
    Ok(id.secret)
}

/// The user of a live session, with their organisation.
pub fn session_user(
    conn: &mut AnyConnection,
    session_id: &str,
) -> Result<Option<(UserRow, OrganisationRow)>, AppError> {
    Ok(store::sessions::find_user(
        conn,
        &session::hash(session_id),
        store::now(),
    )?)
}

/// Logout: this session ends in every `serve` process, whatever its cookie says.
pub fn end_session(conn: &mut AnyConnection, session_id: &str) -> Result<(), AppError> {
    store::sessions::revoke(conn, &session::hash(session_id), store::now())?;
    Ok(())
}

/// Ends every session of a user (all browsers). What changes who may act for an
/// account (disabling it, and a password change once there is one) calls this.
pub fn end_all_sessions(conn: &mut AnyConnection, user_id: &str) -> Result<usize, AppError> {
    Ok(store::sessions::revoke_all_for_user(
        conn,
        user_id,
        store::now(),
    )?)
}

/// Disables a user from the command line: they cannot sign in again, and their open
/// sessions end now. Audited as the system's act (the CLI has no signed-in user).
pub fn disable_user(conn: &mut AnyConnection, email: &str) -> Result<UserRow, AppError> {
    let email: Email = email
        .parse()
        .map_err(|e: String| AppError::invalid("email", e))?;
    write_transaction(conn, |conn| {
        let user = store::users::find_active_by_email(conn, email.as_str())?.ok_or_else(|| {
            AppError::invalid("email", format!("no active user with email {email}"))
        })?;
        store::users::deactivate(conn, &user.id)?;
        let ended = end_all_sessions(conn, &user.id)?;
        services::audit::record(
            conn,
            &Who::system(),
            AuditAction::UserDisabled,
            Some(&user.organisation_id),
            &format!(
                "user {}: active -> disabled from the command line, {ended} session(s) ended",
                user.id
            ),
            store::now(),
        )?;
        Ok(user)
    })
}

pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// Exchanges an API key for a short-lived access token. Wrong keys are counted per
/// client address (`limits`), so keys cannot be guessed at speed.
pub fn exchange_api_key(
    conn: &mut AnyConnection,
    jwt: &JwtConfig,
    limits: &LoginThrottle,
    api_key: &str,
    address: &str,
) -> Result<AccessToken, AppError> {
    services::throttle::guard_secret(conn, limits, Scope::TokenAddress, address, |conn| {
        check_api_key(conn, jwt, api_key)
    })
}

fn check_api_key(
    conn: &mut AnyConnection,
    jwt: &JwtConfig,
    api_key: &str,
) -> Result<AccessToken, AppError> {
    let refused = || AppError::Unauthorized("the API key is not valid or has been revoked".into());
    if !apikey::looks_like_key(api_key) {
        return Err(refused());
    }
    let (key_id, org_id) =
        store::api_keys::find_active_by_hash(conn, &apikey::hash(api_key))?.ok_or_else(refused)?;
    store::api_keys::touch(conn, &key_id)?;
    Ok(AccessToken {
        token: token::issue(jwt, &org_id, &key_id, chrono::Utc::now().timestamp()),
        expires_in: jwt.ttl_seconds,
    })
}
