//! Reference data: the segment tree and the channels.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{channels, segments};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segments)]
pub struct SegmentRow {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = channels)]
pub struct ChannelRow {
    pub slug: String,
    pub name: String,
}

pub fn segments(conn: &mut AnyConnection) -> QueryResult<Vec<SegmentRow>> {
    segments::table
        .order(segments::slug.asc())
        .select(SegmentRow::as_select())
        .load(conn)
}

pub fn channels(conn: &mut AnyConnection) -> QueryResult<Vec<ChannelRow>> {
    channels::table
        .order(channels::slug.asc())
        .select(ChannelRow::as_select())
        .load(conn)
}
