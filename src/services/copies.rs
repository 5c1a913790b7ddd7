//! Copies of what a process reads from its database on every request (the order book,
//! the reference data), each trusted while its stamp (`db::stamp`) stands still. One is
//! kept per database: a process serves one, tests and benches open many.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

/// Databases kept; past it they start again.
const MAX_DATABASES: usize = 64;

/// A copy and the stamp's version it was read at.
type Kept<T> = (i64, Arc<T>);

pub struct Copies<T> {
    kept: LazyLock<Mutex<HashMap<String, Kept<T>>>>,
}

impl<T> Default for Copies<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Copies<T> {
    pub const fn new() -> Self {
        Copies {
            kept: LazyLock::new(Default::default),
        }
    }

    /// The copy of `database` at the stamp's `version`, made by `load` (and kept) when
    /// none is kept at that version. A database in memory has no name to keep its copy
    /// under, so `load` runs every time.
    pub fn get<E>(
        &self,
        database: &str,
        version: i64,
        load: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        if !database.is_empty()
            && let Some((v, copy)) = self.kept.lock().get(database)
            && *v == version
        {
            return Ok(copy.clone());
        }
        let copy = Arc::new(load()?);
        if !database.is_empty() {
            let mut kept = self.kept.lock();
            if kept.len() >= MAX_DATABASES && !kept.contains_key(database) {
                kept.clear();
            }
            kept.insert(database.to_string(), (version, copy.clone()));
        }
        Ok(copy)
    }
}
