//! Users and the organisation each belongs to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::users;
use crate::domain::{Email, Role};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub organisation_id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    id: &'a str,
    organisation_id: &'a str,
    email: &'a str,
    display_name: &'a str,
    password_hash: &'a str,
    role: Role,
    active: bool,
    created_at: NaiveDateTime,
}

pub fn create(
    conn: &mut AnyConnection,
    organisation_id: &str,
    email: &Email,
    display_name: &str,
    password_hash: &str,
    role: Role,
) -> QueryResult<UserRow> {
    let id = super::new_id();
    diesel::insert_into(users::table)
        .values(&NewUser {
            id: &id,
            organisation_id,
            email: email.as_str(),
            display_name,
            password_hash,
            role,
            active: true,
            created_at: super::now(),
        })
        .execute(conn)?;
    users::table
        .find(&id)
        .select(UserRow::as_select())
        .first(conn)
}

pub fn find_active_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_for_org(conn: &mut AnyConnection, organisation_id: &str) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::organisation_id.eq(organisation_id))
        .order(users::email.asc())
        .select(UserRow::as_select())
        .load(conn)
}

pub fn touch_login(conn: &mut AnyConnection, user_id: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::last_login_at.eq(super::now()))
        .execute(conn)
}

/// A new password hash (argon2id PHC string).
pub fn set_password_hash(conn: &mut AnyConnection, user_id: &str, hash: &str) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks a user inactive; returns false when there is no such active user.
pub fn deactivate(conn: &mut AnyConnection, user_id: &str) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(user_id).filter(users::active.eq(true)))
        .set(users::active.eq(false))
        .execute(conn)?;
    Ok(n == 1)
}

/// Users per role, for the admin dashboard.
pub fn count_by_role(conn: &mut AnyConnection) -> QueryResult<Vec<(Role, i64)>> {
    users::table
        .group_by(users::role)
        .select((users::role, diesel::dsl::count_star()))
        .order(users::role.asc())
        .load(conn)
}

/// Users per organisation id, for the admin's organisation list.
pub fn count_by_org(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    users::table
        .group_by(users::organisation_id)
        .select((users::organisation_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Addresses of an organisation's active people (mail recipients).
pub fn active_emails(conn: &mut AnyConnection, organisation_id: &str) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::organisation_id.eq(organisation_id))
        .filter(users::active.eq(true))
        .order(users::created_at.asc())
        .select(users::email)
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
}

/// The user with this (normalised) email, active or not: emails are unique.
pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Lets a disabled user sign in again; `false` when they were active.
pub fn reactivate(conn: &mut AnyConnection, user_id: &str) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(user_id).filter(users::active.eq(false)))
        .set(users::active.eq(true))
        .execute(conn)?;
    Ok(n == 1)
}

/// `false` when the user had that role already.
pub fn set_role(conn: &mut AnyConnection, user_id: &str, role: Role) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(user_id).filter(users::role.ne(role)))
        .set(users::role.eq(role))
        .execute(conn)?;
    Ok(n == 1)
}

/// One page of the admin's user list: of one organisation or all, `term` matching email
/// or name anywhere (case-insensitive); by email.
pub fn search(
    conn: &mut AnyConnection,
    organisation_id: Option<&str>,
    term: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut q = users::table.into_boxed();
    if let Some(org) = organisation_id {
        q = q.filter(users::organisation_id.eq(org.to_string()));
    }
    if let Some(term) = term.map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = super::contains_pattern(&term.to_lowercase());
        q = q.filter(
            super::lower(users::email.nullable())
                .like(pattern.clone())
                .escape('\\')
                .or(super::lower(users::display_name.nullable())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    q.order((users::email.asc(), users::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)
}

/// The ids of every account (active or not) with this email, for the audit log's filter.
pub fn ids_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .load(conn)
}

/// Emails of users by id (for the audit log's "who").
pub fn emails(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::email))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
