//! The reference data as this process keeps it: segments and channels (what new leads
//! may use), the segment tree and the price rules, read on every ping, post, purchase
//! and quote. A copy is kept per database and is right while the database's
//! `reference_stamp` has not moved: triggers bump it on any change to segments, channels
//! or price rules, from any process. One use reads that one row instead of the tables.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use crate::db::{AnyConnection, Stamp};
use crate::domain::pricing::PriceRules;
use crate::error::AppError;
use crate::services::intake::Reference;
use crate::store;

/// What is kept of one database.
pub struct Known {
    version: i64,
    /// The database's name as the stamp gives it (empty for one in memory): other
    /// per-process copies are kept under it too.
    pub database: String,
    pub reference: Reference,
    /// With the segment tree (`rules.tree`).
    pub rules: Arc<PriceRules>,
}

/// Copies kept, one per database; past it they start again (a process serves one
/// database; tests and benches open many).
const MAX_COPIES: usize = 64;

static COPIES: LazyLock<Mutex<HashMap<String, Arc<Known>>>> = LazyLock::new(Default::default);

/// This database's reference data, read again when its stamp has moved. The stamp is
/// read first, so a change committed in between only makes the next call read again.
pub fn known(conn: &mut AnyConnection) -> Result<Arc<Known>, AppError> {
    let (database, version) = crate::db::stamp(conn, Stamp::Reference)?;
    // An in-memory database has no name to keep its copy under.
    let keep = !database.is_empty();
    if keep
        && let Some(k) = COPIES.lock().get(&database)
        && k.version == version
    {
        return Ok(k.clone());
    }
    let known = Arc::new(Known {
        version,
        database: database.clone(),
        reference: Reference::load(conn)?,
        rules: Arc::new(PriceRules {
            tree: store::reference::segment_tree(conn)?,
            ..PriceRules::from_rows(store::pricing::price_rules(conn)?)
        }),
    });
    if keep {
        let mut copies = COPIES.lock();
        if copies.len() >= MAX_COPIES && !copies.contains_key(&database) {
            copies.clear();
        }
        copies.insert(database, known.clone());
    }
    Ok(known)
}
