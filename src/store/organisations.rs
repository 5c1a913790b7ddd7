//! Organisations: agencies, buyers and the platform itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::organisations;
use crate::domain::{OrgKind, OrgStatus};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: String,
    pub kind: OrgKind,
    pub name: String,
    pub slug: String,
    pub status: OrgStatus,
    pub created_at: NaiveDateTime,
    /// Set while an admin has suspended the whole organisation: its users cannot sign
    /// in or call the API.
    pub suspension_reason: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub id: &'a str,
    pub kind: OrgKind,
    pub name: &'a str,
    pub slug: &'a str,
    pub status: OrgStatus,
    pub created_at: NaiveDateTime,
}

pub fn create(
    conn: &mut AnyConnection,
    kind: OrgKind,
    name: &str,
    slug: &str,
) -> QueryResult<OrganisationRow> {
    let id = super::new_id();
    let row = NewOrganisation {
        id: &id,
        kind,
        name,
        slug,
        status: OrgStatus::Active,
        created_at: super::now(),
    };
    diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)?;
    find(conn, &id)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<OrganisationRow> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .get_result(conn)
}

/// The organisations of `ids` (for lists that show several).
pub fn find_many(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<OrganisationRow>> {
    organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(OrganisationRow::as_select())
        .load(conn)
}

pub fn find_by_slug(conn: &mut AnyConnection, slug: &str) -> QueryResult<OrganisationRow> {
    organisations::table
        .filter(organisations::slug.eq(slug))
        .select(OrganisationRow::as_select())
        .get_result(conn)
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<OrganisationRow>> {
    organisations::table
        .order((organisations::kind.asc(), organisations::name.asc()))
        .select(OrganisationRow::as_select())
        .load(conn)
}

/// Serialises "count, then insert" rules of one organisation (a buyer's return cap):
/// this no-op UPDATE holds the row's write lock until commit on PostgreSQL, so a second
/// transaction waits here and then counts what the first wrote. SQLite's write
/// transactions (`BEGIN IMMEDIATE`) are serialised already.
pub fn lock(conn: &mut AnyConnection, org_id: &str) -> QueryResult<()> {
    diesel::update(organisations::table.find(org_id))
        .set(organisations::status.eq(organisations::status))
        .execute(conn)
        .map(drop)
}

/// Agencies and buyers: the platform organisation exists on every install.
pub fn count_customers(conn: &mut AnyConnection) -> QueryResult<i64> {
    organisations::table
        .filter(organisations::kind.ne(OrgKind::Platform))
        .count()
        .get_result(conn)
}

/// The slug of the platform organisation every install has (made by a migration).
pub const PLATFORM_SLUG: &str = "platform";

/// Organisations per kind, for dashboards.
pub fn count_by_kind(conn: &mut AnyConnection) -> QueryResult<Vec<(OrgKind, i64)>> {
    organisations::table
        .group_by(organisations::kind)
        .select((organisations::kind, diesel::dsl::count_star()))
        .order(organisations::kind.asc())
        .load(conn)
}

pub fn set_billing_address(
    conn: &mut AnyConnection,
    organisation_id: &str,
    address: &str,
) -> QueryResult<()> {
    diesel::update(organisations::table.find(organisation_id))
        .set(organisations::billing_address.eq(address))
        .execute(conn)
        .map(drop)
}

/// Every agency's id and name, by name: the platform funnel's agency picker, and the
/// funnel rollup's walk over agencies.
pub fn agencies(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String)>> {
    organisations::table
        .filter(organisations::kind.eq(OrgKind::Agency))
        .order(organisations::name.asc())
        .select((organisations::id, organisations::name))
        .load(conn)
}

/// Names of organisations by id (for lists).
pub fn names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn billing_address(conn: &mut AnyConnection, organisation_id: &str) -> QueryResult<String> {
    organisations::table
        .find(organisation_id)
        .select(organisations::billing_address)
        .get_result(conn)
}

/// The organisation's IANA time zone name (`UTC` unless set): a buyer's day for caps.
pub fn time_zone(conn: &mut AnyConnection, organisation_id: &str) -> QueryResult<String> {
    organisations::table
        .find(organisation_id)
        .select(organisations::time_zone)
        .get_result(conn)
}

pub fn set_time_zone(
    conn: &mut AnyConnection,
    organisation_id: &str,
    zone: &str,
) -> QueryResult<bool> {
    let n = diesel::update(organisations::table.find(organisation_id))
        .set(organisations::time_zone.eq(zone))
        .execute(conn)?;
    Ok(n == 1)
}

/// An admin's suspension (`Some(reason)`) or its end (`None`): the status follows, so the
/// listings and standing orders stop or resume with it. `false` when nothing changed.
pub fn set_suspension(
    conn: &mut AnyConnection,
    id: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = organisations::table.find(id);
    let n = match reason {
        Some(r) => diesel::update(target.filter(organisations::suspension_reason.is_null()))
            .set((
                organisations::status.eq(OrgStatus::Suspended),
                organisations::suspension_reason.eq(r),
                organisations::suspended_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(target.filter(organisations::suspension_reason.is_not_null()))
            .set((
                organisations::status.eq(OrgStatus::Active),
                organisations::suspension_reason.eq(None::<String>),
                organisations::suspended_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// One page of the admin's list: `term` matches name or slug anywhere, case-insensitive;
/// `limit` rows from `offset`, by kind then name.
pub fn search(
    conn: &mut AnyConnection,
    term: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<OrganisationRow>> {
    let mut q = organisations::table.into_boxed();
    if let Some(term) = term.map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = super::contains_pattern(&term.to_lowercase());
        q = q.filter(
            super::lower(organisations::name.nullable())
                .like(pattern.clone())
                .escape('\\')
                .or(super::lower(organisations::slug.nullable())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    q.order((
        organisations::kind.asc(),
        organisations::name.asc(),
        organisations::id.asc(),
    ))
    .offset(offset)
    .limit(limit)
    .select(OrganisationRow::as_select())
    .load(conn)
}
