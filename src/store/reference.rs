//! Reference data: the segment tree and the channels. Rows are never deleted (old leads
//! keep their slugs); a retired one has `retired_at`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{channels, segments};
use crate::domain::reference::SegmentTree;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segments)]
pub struct SegmentRow {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = channels)]
pub struct ChannelRow {
    pub slug: String,
    pub name: String,
    pub retired_at: Option<NaiveDateTime>,
}

pub fn segments(conn: &mut AnyConnection) -> QueryResult<Vec<SegmentRow>> {
    segments::table
        .order(segments::slug.asc())
        .select(SegmentRow::as_select())
        .load(conn)
}

/// The segment tree, as `parent` keeps it.
pub fn segment_tree(conn: &mut AnyConnection) -> QueryResult<SegmentTree> {
    let rows: Vec<(String, Option<String>)> = segments::table
        .select((segments::slug, segments::parent))
        .load(conn)?;
    Ok(SegmentTree::new(rows))
}

/// Moves a segment under `parent` (`None`: to the top); false when it is not there.
pub fn move_segment(
    conn: &mut AnyConnection,
    slug: &str,
    parent: Option<&str>,
) -> QueryResult<bool> {
    Ok(diesel::update(segments::table.find(slug))
        .set(segments::parent.eq(parent))
        .execute(conn)?
        == 1)
}

pub fn channels(conn: &mut AnyConnection) -> QueryResult<Vec<ChannelRow>> {
    channels::table
        .order(channels::slug.asc())
        .select(ChannelRow::as_select())
        .load(conn)
}

pub fn find_segment(conn: &mut AnyConnection, slug: &str) -> QueryResult<Option<SegmentRow>> {
    segments::table
        .find(slug)
        .select(SegmentRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_channel(conn: &mut AnyConnection, slug: &str) -> QueryResult<Option<ChannelRow>> {
    channels::table
        .find(slug)
        .select(ChannelRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_segment(
    conn: &mut AnyConnection,
    slug: &str,
    name: &str,
    parent: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(segments::table)
        .values((
            segments::slug.eq(slug),
            segments::name.eq(name),
            segments::parent.eq(parent),
        ))
        .execute(conn)
        .map(drop)
}

pub fn insert_channel(conn: &mut AnyConnection, slug: &str, name: &str) -> QueryResult<()> {
    diesel::insert_into(channels::table)
        .values((channels::slug.eq(slug), channels::name.eq(name)))
        .execute(conn)
        .map(drop)
}

pub fn rename_segment(conn: &mut AnyConnection, slug: &str, name: &str) -> QueryResult<bool> {
    Ok(diesel::update(segments::table.find(slug))
        .set(segments::name.eq(name))
        .execute(conn)?
        == 1)
}

pub fn rename_channel(conn: &mut AnyConnection, slug: &str, name: &str) -> QueryResult<bool> {
    Ok(diesel::update(channels::table.find(slug))
        .set(channels::name.eq(name))
        .execute(conn)?
        == 1)
}

/// Retires a live segment; false when it was retired already.
pub fn retire_segment(
    conn: &mut AnyConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(diesel::update(
        segments::table
            .find(slug)
            .filter(segments::retired_at.is_null()),
    )
    .set(segments::retired_at.eq(now))
    .execute(conn)?
        == 1)
}

/// Retires a live channel; false when it was retired already.
pub fn retire_channel(
    conn: &mut AnyConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(diesel::update(
        channels::table
            .find(slug)
            .filter(channels::retired_at.is_null()),
    )
    .set(channels::retired_at.eq(now))
    .execute(conn)?
        == 1)
}

/// Display names of segments and channels by slug, for pages and invoice lines.
pub struct Names {
    segments: std::collections::HashMap<String, String>,
    channels: std::collections::HashMap<String, String>,
}

impl Names {
    pub fn load(conn: &mut AnyConnection) -> QueryResult<Names> {
        Ok(Names {
            segments: segments(conn)?
                .into_iter()
                .map(|s| (s.slug, s.name))
                .collect(),
            channels: channels(conn)?
                .into_iter()
                .map(|c| (c.slug, c.name))
                .collect(),
        })
    }

    /// `Car insurance` for `insurance.car`; an unknown slug as it is.
    pub fn segment(&self, slug: &str) -> String {
        self.segments
            .get(slug)
            .cloned()
            .unwrap_or_else(|| slug.to_string())
    }

    pub fn channel(&self, slug: &str) -> String {
        self.channels
            .get(slug)
            .cloned()
            .unwrap_or_else(|| slug.to_string())
    }
}
