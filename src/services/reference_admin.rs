//! Admins keep the segments and channels: add one, rename it, move a segment in the tree,
//! retire it. A slug never changes and no row is deleted, so old leads, orders and price
//! rules keep theirs: a move changes `parent`, which every match follows
//! (`domain::reference::SegmentTree`). A retired slug is refused at intake with that
//! reason. Each change is audited with its before and after.

use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::reference::{parse_name, parse_slug};
use crate::error::{AppError, FieldProblem};
use crate::services;
use crate::store;

/// Segments or channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Segment,
    Channel,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Segment => "segment",
            Kind::Channel => "channel",
        }
    }

    fn action(self) -> AuditAction {
        match self {
            Kind::Segment => AuditAction::SegmentChanged,
            Kind::Channel => AuditAction::ChannelChanged,
        }
    }
}

/// The current name and whether it is retired, or 404.
fn current(conn: &mut AnyConnection, kind: Kind, slug: &str) -> Result<(String, bool), AppError> {
    let found =
        match kind {
            Kind::Segment => store::reference::find_segment(conn, slug)?
                .map(|s| (s.name, s.retired_at.is_some())),
            Kind::Channel => store::reference::find_channel(conn, slug)?
                .map(|c| (c.name, c.retired_at.is_some())),
        };
    found.ok_or(AppError::NotFound)
}

fn audit(conn: &mut AnyConnection, who: &Who, kind: Kind, detail: &str) -> Result<(), AppError> {
    services::audit::record(conn, who, kind.action(), None, detail, store::now())?;
    Ok(())
}

/// Adds a segment (under `parent`, a live segment, when given) or a channel.
pub fn add(
    conn: &mut AnyConnection,
    who: &Who,
    kind: Kind,
    slug: &str,
    name: &str,
    parent: Option<&str>,
) -> Result<String, AppError> {
    let parent = parent.map(str::trim).filter(|p| !p.is_empty());
    let parent = if kind == Kind::Channel { None } else { parent };
    let mut problems = Vec::new();
    let slug = parse_slug(slug, parent)
        .map_err(|e| problems.push(FieldProblem::new("slug", e)))
        .ok();
    let name = parse_name(name)
        .map_err(|e| problems.push(FieldProblem::new("name", e)))
        .ok();
    let (Some(slug), Some(name), true) = (slug, name, problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    write_transaction(conn, |conn| {
        let taken = match kind {
            Kind::Segment => store::reference::find_segment(conn, &slug)?.is_some(),
            Kind::Channel => store::reference::find_channel(conn, &slug)?.is_some(),
        };
        if taken {
            return Err(AppError::invalid(
                "slug",
                format!("`{slug}` exists already (a retired one stays taken)"),
            ));
        }
        match kind {
            Kind::Segment => {
                if let Some(p) = parent {
                    match store::reference::find_segment(conn, p)? {
                        Some(s) if s.retired_at.is_none() => {}
                        Some(_) => {
                            return Err(AppError::invalid(
                                "parent",
                                format!("`{p}` is retired: put nothing new under it"),
                            ));
                        }
                        None => {
                            return Err(AppError::invalid(
                                "parent",
                                format!("`{p}` is not a segment"),
                            ));
                        }
                    }
                }
                store::reference::insert_segment(conn, &slug, &name, parent)?;
            }
            Kind::Channel => store::reference::insert_channel(conn, &slug, &name)?,
        }
        let under = parent.map(|p| format!(" under {p}")).unwrap_or_default();
        audit(
            conn,
            who,
            kind,
            &format!("{} {slug} added{under}, named {name}", kind.word()),
        )?;
        Ok(slug)
    })
}

/// Gives a segment or channel a new display name; `false` when it had that name.
pub fn rename(
    conn: &mut AnyConnection,
    who: &Who,
    kind: Kind,
    slug: &str,
    name: &str,
) -> Result<bool, AppError> {
    let name = parse_name(name).map_err(|e| AppError::invalid("name", e))?;
    write_transaction(conn, |conn| {
        let (before, _) = current(conn, kind, slug)?;
        if before == name {
            return Ok(false);
        }
        match kind {
            Kind::Segment => store::reference::rename_segment(conn, slug, &name)?,
            Kind::Channel => store::reference::rename_channel(conn, slug, &name)?,
        };
        audit(
            conn,
            who,
            kind,
            &format!("{} {slug} renamed: {before} -> {name}", kind.word()),
        )?;
        Ok(true)
    })
}

/// Moves a segment under `parent` (empty: to the top), with everything under it; `false`
/// when it is there already. Its slug stays, so filters, orders and price rules naming
/// it follow it; those naming its old parent no longer include it.
pub fn move_segment(
    conn: &mut AnyConnection,
    who: &Who,
    slug: &str,
    parent: &str,
) -> Result<bool, AppError> {
    let parent = Some(parent.trim()).filter(|p| !p.is_empty());
    write_transaction(conn, |conn| {
        // Two moves at once (A under B, B under A) would each check the other's old place.
        crate::db::lock_key(conn, "segment-tree")?;
        let moving = store::reference::find_segment(conn, slug)?.ok_or(AppError::NotFound)?;
        if moving.parent.as_deref() == parent {
            return Ok(false);
        }
        if let Some(p) = parent {
            let target = store::reference::find_segment(conn, p)?;
            if target
                .as_ref()
                .is_some_and(|t| t.retired_at.is_some() && moving.retired_at.is_none())
            {
                return Err(AppError::invalid(
                    "parent",
                    format!("`{p}` is retired: a live segment cannot move under it"),
                ));
            }
        }
        store::reference::segment_tree(conn)?
            .check_move(slug, parent)
            .map_err(|e| AppError::invalid("parent", e))?;
        store::reference::move_segment(conn, slug, parent)?;
        let place = |p: Option<&str>| p.map_or("the top".to_string(), |p| format!("under {p}"));
        audit(
            conn,
            who,
            Kind::Segment,
            &format!(
                "segment {slug} moved: {} -> {}",
                place(moving.parent.as_deref()),
                place(parent)
            ),
        )?;
        Ok(true)
    })
}

/// Retires a segment or channel: new leads may no longer use it, old ones keep it;
/// `false` when it was retired already. A segment with live sub-segments is retired
/// after them, so no live segment sits under a retired one.
pub fn retire(
    conn: &mut AnyConnection,
    who: &Who,
    kind: Kind,
    slug: &str,
) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        current(conn, kind, slug)?;
        let now = store::now();
        let retired = match kind {
            Kind::Segment => {
                let live_children: Vec<String> = store::reference::segments(conn)?
                    .into_iter()
                    .filter(|s| s.parent.as_deref() == Some(slug) && s.retired_at.is_none())
                    .map(|s| s.slug)
                    .collect();
                if !live_children.is_empty() {
                    return Err(AppError::invalid(
                        "slug",
                        format!(
                            "retire its sub-segments first: {}",
                            live_children.join(", ")
                        ),
                    ));
                }
                store::reference::retire_segment(conn, slug, now)?
            }
            Kind::Channel => store::reference::retire_channel(conn, slug, now)?,
        };
        if retired {
            audit(
                conn,
                who,
                kind,
                &format!(
                    "{} {slug}: live -> retired (old leads keep it)",
                    kind.word()
                ),
            )?;
        }
        Ok(retired)
    })
}
