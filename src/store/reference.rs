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
