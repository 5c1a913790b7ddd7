//! The reference data as this process keeps it: segments and channels (what new leads
//! may use), the segment tree and the price rules, read on every ping, post, purchase
//! and quote. A copy is kept per database and is right while the database's
//! `reference_stamp` has not moved: triggers bump it on any change to segments, channels
//! or price rules, from any process. One use reads that one row instead of the tables.

use std::sync::Arc;

use crate::db::{AnyConnection, Stamp};
use crate::domain::pricing::PriceRules;
use crate::error::AppError;
use crate::services::copies::Copies;
use crate::services::intake::Reference;
use crate::store;

/// What is kept of one database.
pub struct Known {
    /// The database's name as the stamp gives it (empty for one in memory): other
    /// per-process state is kept under it too.
    pub database: String,
    pub reference: Reference,
    /// With the segment tree (`rules.tree`).
    pub rules: Arc<PriceRules>,
}

static COPIES: Copies<Known> = Copies::new();

/// This database's reference data, read again when its stamp has moved. The stamp is
/// read first, so a change committed in between only makes the next call read again.
pub fn known(conn: &mut AnyConnection) -> Result<Arc<Known>, AppError> {
    let (database, version) = crate::db::stamp(conn, Stamp::Reference)?;
    COPIES.get(&database, version, || {
        Ok(Known {
            database: database.clone(),
            reference: Reference::load(conn)?,
            rules: Arc::new(PriceRules {
                tree: store::reference::segment_tree(conn)?,
                ..PriceRules::from_rows(store::pricing::price_rules(conn)?)
            }),
        })
    })
}
