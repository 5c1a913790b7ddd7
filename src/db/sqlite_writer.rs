//! One lock per SQLite database file for this process's write transactions. SQLite
//! lets one writer in at a time; the others wait in its busy handler, which sleeps 1,
//! 2, 5, 10 ... up to 100 ms between tries, so under a crowd a writer sleeps long after
//! the lock came free (most of a post's latency at p99, and a third of its throughput).
//! Queueing on a process lock first hands the file over at once. SQLite serves one
//! process (`serve`); another process (a CLI command) still meets the busy handler.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use parking_lot::{ArcMutexGuard, Mutex, RawMutex};

/// As long as `busy_timeout`: a writer that waits this long goes on to SQLite's own lock,
/// which then fails it as before, rather than waiting forever.
const WAIT: Duration = Duration::from_secs(10);

static WRITERS: LazyLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = LazyLock::new(Default::default);

/// The lock of the file `conn` writes to; `None` for an in-memory database (its own
/// connection's alone).
fn lock_of(conn: &mut SqliteConnection) -> QueryResult<Option<Arc<Mutex<()>>>> {
    // Kept prepared (`super::fixed`): this runs at every write transaction.
    let file: String = diesel::select(super::fixed::<Text>(
        "(SELECT file FROM pragma_database_list WHERE name = 'main')",
    ))
    .get_result(conn)?;
    if file.is_empty() {
        return Ok(None);
    }
    Ok(Some(WRITERS.lock().entry(file).or_default().clone()))
}

/// This process's turn to write to `conn`'s file, waited for up to [`WAIT`]; held for
/// one top-level write transaction. `None` once the wait ran out, or for a database in
/// memory.
pub fn turn(conn: &mut SqliteConnection) -> QueryResult<Option<ArcMutexGuard<RawMutex, ()>>> {
    Ok(lock_of(conn)?.and_then(|l| l.try_lock_arc_for(WAIT)))
}
