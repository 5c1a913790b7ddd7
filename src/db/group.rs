//! Group commit on SQLite. Its one writer at a time makes a busy process's short write
//! transactions queue for their turn, and each pays BEGIN, COMMIT and the WAL pages it
//! dirtied on its own, though most of them touch the same pages (a table's tail). Here
//! the jobs that queue for one file meanwhile are run by whichever of them gets the turn,
//! one after another in one transaction, each in its own savepoint, and committed once:
//! each job's caller gets its own answer after that commit, as if it had been alone. A
//! job that fails rolls back to its savepoint only. PostgreSQL writers do not take turns,
//! and a database in memory is its connection's alone: there each job is its own
//! transaction.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, LazyLock};

use diesel::Connection;
use diesel::result::Error;
use parking_lot::{Condvar, Mutex};

use super::{AnyConnection, write_transaction};

/// A job's work: what it writes, in the transaction it is given.
pub type Job<T, E> = Box<dyn FnOnce(&mut AnyConnection) -> Result<T, E> + Send>;

/// Jobs run in one transaction at most: bounds how long the first waits for its answer.
const MAX_JOBS: usize = 64;

/// One kind of job's queues, one per SQLite file (use it as a `static`).
pub struct Group<T, E> {
    lanes: LazyLock<Mutex<Lanes<T, E>>>,
}

/// The queues, by database.
type Lanes<T, E> = HashMap<String, Arc<Lane<T, E>>>;

struct Lane<T, E> {
    state: Mutex<LaneState<T, E>>,
    changed: Condvar,
}

struct LaneState<T, E> {
    next: u64,
    queue: Vec<(u64, Job<T, E>)>,
    /// A caller is running a group now.
    running: bool,
    /// Answers not yet taken by their callers.
    done: HashMap<u64, Result<T, E>>,
}

impl<T: Send, E: From<Error> + Send> Group<T, E> {
    pub const fn new() -> Self {
        Self {
            lanes: LazyLock::new(Default::default),
        }
    }

    /// Runs `job` on `database` (its name as `db::stamp` gives it; empty for one in
    /// memory), in a group on SQLite and alone on PostgreSQL. Inside a transaction of
    /// the caller's it is a savepoint of it, as `write_transaction` makes it.
    pub fn run(&self, conn: &mut AnyConnection, database: &str, job: Job<T, E>) -> Result<T, E> {
        if database.is_empty() || !super::sqlite_top_level(conn).map_err(E::from)? {
            return write_transaction(conn, job);
        }
        let lane = self.lane(database);
        let mut state = lane.state.lock();
        let id = state.next;
        state.next += 1;
        state.queue.push((id, job));
        loop {
            if let Some(answer) = state.done.remove(&id) {
                return answer;
            }
            if !state.running {
                state.running = true;
                let take = state.queue.len().min(MAX_JOBS);
                let jobs: Vec<(u64, Job<T, E>)> = state.queue.drain(..take).collect();
                let ids: Vec<u64> = jobs.iter().map(|(id, _)| *id).collect();
                let ran = parking_lot::MutexGuard::unlocked(&mut state, || {
                    let ran = catch_unwind(AssertUnwindSafe(|| run_group(conn, jobs)));
                    if ran.is_err() {
                        roll_back_open(conn);
                    }
                    ran
                });
                state.running = false;
                lane.changed.notify_all();
                match ran {
                    Ok(answers) => state.done.extend(answers),
                    Err(panic) => {
                        // The others learn their work was not done; this caller panics on.
                        for id in ids {
                            state.done.insert(
                                id,
                                Err(E::from(Error::QueryBuilderError(
                                    "the group this write ran in panicked; nothing of it was kept"
                                        .into(),
                                ))),
                            );
                        }
                        drop(state);
                        resume_unwind(panic);
                    }
                }
                continue;
            }
            lane.changed.wait(&mut state);
        }
    }

    fn lane(&self, database: &str) -> Arc<Lane<T, E>> {
        self.lanes
            .lock()
            .entry(database.to_string())
            .or_insert_with(|| {
                Arc::new(Lane {
                    state: Mutex::new(LaneState {
                        next: 0,
                        queue: Vec::new(),
                        running: false,
                        done: HashMap::new(),
                    }),
                    changed: Condvar::new(),
                })
            })
            .clone()
    }
}

impl<T: Send, E: From<Error> + Send> Default for Group<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

/// The jobs in one write transaction, each in a savepoint; their answers once it is
/// committed (every one an error when the commit failed: nothing of them was kept).
fn run_group<T, E: From<Error>>(
    conn: &mut AnyConnection,
    jobs: Vec<(u64, Job<T, E>)>,
) -> Vec<(u64, Result<T, E>)> {
    let ids: Vec<u64> = jobs.iter().map(|(id, _)| *id).collect();
    let mut answers = Vec::with_capacity(jobs.len());
    let committed = write_transaction::<_, Error, _>(conn, |conn| {
        for (id, job) in jobs {
            let mut failed = None;
            let kept = conn.transaction::<T, Error, _>(|c| {
                job(c).map_err(|e| {
                    failed = Some(e);
                    Error::RollbackTransaction
                })
            });
            answers.push((
                id,
                match (kept, failed) {
                    (Ok(value), _) => Ok(value),
                    (Err(_), Some(e)) => Err(e),
                    (Err(e), None) => Err(E::from(e)),
                },
            ));
        }
        Ok(())
    });
    match committed {
        Ok(()) => answers,
        Err(e) => ids
            .into_iter()
            .map(|id| (id, Err(E::from(again(&e)))))
            .collect(),
    }
}

/// Rolls back what a panic left open on `conn`, savepoints and all: it goes back to the
/// pool, where a later write would otherwise run inside it (and commit it).
fn roll_back_open(conn: &mut AnyConnection) {
    use diesel::connection::TransactionManager as _;
    while matches!(super::sqlite_top_level(conn), Ok(false)) {
        if <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn).is_err() {
            tracing::error!("rollback after a panic in a group of writes failed");
            return;
        }
    }
}

/// The same failure for another caller (a diesel error cannot be cloned).
fn again(e: &Error) -> Error {
    match e {
        Error::DatabaseError(kind, info) => {
            Error::DatabaseError(*kind, Box::new(info.message().to_string()))
        }
        other => Error::QueryBuilderError(other.to_string().into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicBool, Ordering};

    use diesel::connection::SimpleConnection as _;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::*;
    use crate::db::{DatabaseUrl, connect_pool};

    static WRITES: Group<i64, Error> = Group::new();
    /// Some write ran on another caller's thread, in that caller's group.
    static RUN_BY_ANOTHER: AtomicBool = AtomicBool::new(false);

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(conn: &mut AnyConnection) -> i64 {
        diesel::sql_query("SELECT COUNT(*) AS n FROM t")
            .get_result::<Count>(conn)
            .unwrap()
            .n
    }

    /// A SQLite file with an empty table `t`, its pool and its name for `Group::run`.
    fn scratch(pool_size: u32) -> (tempfile::TempDir, crate::db::Pool, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group.db");
        let pool = connect_pool(&DatabaseUrl::Sqlite(path.clone()), pool_size).unwrap();
        pool.get()
            .unwrap()
            .batch_execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let database = path.to_string_lossy().to_string();
        (dir, pool, database)
    }

    #[test]
    fn writes_queued_together_each_get_their_own_answer_and_a_failed_one_leaves_nothing() {
        let (_dir, pool, database) = scratch(16);
        let threads = 12;
        let rounds = 20;
        let start = Barrier::new(threads);
        let answers: Vec<Vec<Result<i64, String>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (pool, start, database) = (pool.clone(), &start, database.clone());
                    s.spawn(move || {
                        let mut conn = pool.get().unwrap();
                        start.wait();
                        (0..rounds)
                            .map(|r| {
                                let n = (t * rounds + r) as i64;
                                let caller = std::thread::current().id();
                                let job: Job<i64, Error> = Box::new(move |c| {
                                    if std::thread::current().id() != caller {
                                        RUN_BY_ANOTHER.store(true, Ordering::Relaxed);
                                    }
                                    diesel::sql_query(format!("INSERT INTO t VALUES ({n})"))
                                        .execute(c)?;
                                    // Every seventh write fails after writing.
                                    if n % 7 == 0 {
                                        return Err(Error::RollbackTransaction);
                                    }
                                    Ok(n * 10)
                                });
                                WRITES
                                    .run(&mut conn, &database, job)
                                    .map_err(|e| e.to_string())
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut kept = 0;
        for (t, mine) in answers.iter().enumerate() {
            for (r, answer) in mine.iter().enumerate() {
                let n = (t * rounds + r) as i64;
                if n % 7 == 0 {
                    assert!(answer.is_err(), "write {n} failed, yet answered {answer:?}");
                } else {
                    assert_eq!(answer, &Ok(n * 10));
                    kept += 1;
                }
            }
        }
        let mut conn = pool.get().unwrap();
        assert_eq!(count(&mut conn), kept);
        let failed_kept: i64 = diesel::sql_query("SELECT COUNT(*) AS n FROM t WHERE n % 7 = 0")
            .get_result::<Count>(&mut **conn)
            .unwrap()
            .n;
        assert_eq!(failed_kept, 0, "a failed write's row was committed");
        assert!(
            RUN_BY_ANOTHER.load(Ordering::Relaxed),
            "12 writers at once never ran in one group"
        );
    }

    #[test]
    fn a_write_run_inside_a_transaction_is_undone_with_it() {
        let (_dir, pool, database) = scratch(2);
        let mut conn = pool.get().unwrap();
        let undone = write_transaction::<(), Error, _>(&mut conn, |c| {
            let answer = WRITES.run(
                c,
                &database,
                Box::new(|c| {
                    diesel::sql_query("INSERT INTO t VALUES (1)").execute(c)?;
                    Ok(1)
                }),
            )?;
            assert_eq!(answer, 1);
            assert_eq!(count(c), 1);
            Err(Error::RollbackTransaction)
        });
        assert!(undone.is_err());
        assert_eq!(count(&mut conn), 0);
    }

    #[test]
    fn a_write_that_panics_leaves_nothing_open_or_kept() {
        let (_dir, pool, database) = scratch(2);
        let mut conn = pool.get().unwrap();
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            WRITES.run(
                &mut conn,
                &database,
                Box::new(|c| {
                    diesel::sql_query("INSERT INTO t VALUES (1)").execute(c)?;
                    panic!("a bug in the write");
                }),
            )
        }));
        assert!(panicked.is_err());
        assert!(
            super::super::sqlite_top_level(&mut conn).unwrap(),
            "left open"
        );
        let next = WRITES.run(
            &mut conn,
            &database,
            Box::new(|c| {
                diesel::sql_query("INSERT INTO t VALUES (2)").execute(c)?;
                Ok(2)
            }),
        );
        assert_eq!(next.unwrap(), 2);
        assert_eq!(count(&mut pool.get().unwrap()), 1);
    }
}
