//! Owns database access: the two-backend `AnyConnection`, the r2d2 pool with SQLite's
//! PRAGMAs, the embedded migrations per backend, and the few operations whose SQL must
//! differ per backend (write transactions, multi-row inserts). Every such `match` on the
//! connection variant lives in this module and nowhere else. `scratch` makes throw-away
//! databases (tests, bench), `bench` holds the bench's own statements, `text_enum` maps
//! the domain's text-stored enums to columns, `fixed` constant SQL text,
//! `one_of` a key list and `json_rows` many inserted rows that each stay one prepared
//! statement.

pub mod bench;
mod fixed;
mod group;
mod json_rows;
mod one_of;
pub mod schema;
pub mod scratch;
mod sqlite_writer;
pub mod text_enum;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use fixed::{Fixed, fixed};
pub use group::{Group, Job};
pub use json_rows::{JsonKind, insert_json_rows};
pub use one_of::{OneOf, one_of};

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// One connection type for both backends; PostgreSQL first, SQLite last.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// A pooled connection, with when it was last known to be alive.
pub struct PoolConn {
    conn: AnyConnection,
    checked: Instant,
}

impl std::ops::Deref for PoolConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// A PostgreSQL connection tested less than this long ago is handed out again without a
/// test query (HikariCP's "alive bypass window", with its default). Under load almost
/// every checkout is such a one, and its `SELECT 1` was a round trip of its own (two of
/// a purchase's 14 statements). A connection the server dropped in that while fails the
/// one request that uses it: libpq then reports its status unknown, diesel reports it
/// broken, and the pool drops it on its return (`has_broken`).
const ALIVE_WINDOW: Duration = Duration::from_millis(500);

/// Which backend a `DATABASE_URL` names, decided by its scheme alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `postgres://` or `postgresql://` selects PostgreSQL; `sqlite://path`, `file:path`
    /// or a bare path selects SQLite.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        if raw == ":memory:" || raw.contains("mode=memory") {
            // Each pooled connection would get its own empty database.
            return Err("an in-memory SQLite database cannot be shared by a connection pool; give a file path".into());
        }
        if let Some((scheme, _)) = raw.split_once("://")
            && scheme != "sqlite"
        {
            return Err(format!(
                "DATABASE_URL scheme `{scheme}` is not supported: use postgres://... or a SQLite file path"
            ));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("file:"))
            .unwrap_or(raw);
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// A form safe to log: the password of a PostgreSQL URL is masked.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    let creds = &url[s + 3..at];
                    match creds.split_once(':') {
                        Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                        None => url.clone(),
                    }
                }
                _ => url.clone(),
            },
        }
    }
}

/// r2d2 manager that picks the backend from the URL itself, so a failure reports the
/// real cause instead of the derived `establish`'s "Invalid connection url".
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// Applied to every new SQLite connection, `busy_timeout` first so the others wait
/// rather than fail while another process holds the write lock.
const SQLITE_CONNECTION_PRAGMAS: [&str; 4] = [
    "PRAGMA busy_timeout = 10000;",
    "PRAGMA foreign_keys = ON;",
    "PRAGMA synchronous = NORMAL;",
    "PRAGMA temp_store = MEMORY;",
];

/// The page cache every SQLite connection starts with, in KiB (SQLite's default is
/// 2 MiB): intake probes and updates indexes keyed by random hashes, which otherwise
/// miss the cache constantly.
pub const SQLITE_CACHE_KIB: i64 = 32_768;

/// Sets a SQLite connection's page cache, in KiB (a no-op on PostgreSQL): the intake
/// writer raises its own while a file runs and gives the memory back afterwards.
pub fn set_sqlite_cache_kib(conn: &mut AnyConnection, kib: i64) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => c.batch_execute(&format!("PRAGMA cache_size = -{kib};")),
        AnyConnection::Postgresql(_) => Ok(()),
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = PoolConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolConn, r2d2::Error> {
        Ok(PoolConn {
            conn: self.open()?,
            checked: Instant::now(),
        })
    }

    /// Runs on every checkout (r2d2's `test_on_check_out`). On SQLite the live query it
    /// needs also reloads planner statistics another connection refreshed.
    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), r2d2::Error> {
        use diesel::r2d2::R2D2Connection;
        let fresh = match &mut conn.conn {
            AnyConnection::Sqlite(c) => sqlite_stats::reload_if_refreshed(c).is_ok(),
            AnyConnection::Postgresql(_) => conn.checked.elapsed() < ALIVE_WINDOW,
        };
        if fresh {
            return Ok(());
        }
        conn.conn.ping().map_err(r2d2::Error::QueryError)?;
        conn.checked = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.conn.is_broken()
    }
}

impl ConnectionManager {
    fn open(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                for pragma in SQLITE_CONNECTION_PRAGMAS {
                    conn.batch_execute(pragma)
                        .map_err(r2d2::Error::QueryError)?;
                }
                sqlite_stats::track(&mut conn).map_err(r2d2::Error::QueryError)?;
                let mut conn = AnyConnection::Sqlite(conn);
                set_sqlite_cache_kib(&mut conn, SQLITE_CACHE_KIB)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(conn)
            }
        }
    }
}

/// SQLite reads the planner's statistics (`sqlite_stat1`) when a connection first loads
/// the schema and afterwards only on an `ANALYZE` run on that same connection, not after
/// one run by another connection or process (checked on 3.50: a pooled connection kept
/// the empty table's plans after `leadmarket import` analysed 300 fresh leads; a schema
/// change did not reload them either). So each connection remembers, in a temp table of
/// its own, the last refresh `planner_stats` recorded when it loaded them, and on
/// checkout reloads them (`ANALYZE sqlite_schema`, which reads the statistics tables and
/// analyses nothing) once that has moved. Reloading on every checkout instead would
/// re-prepare every cached statement each time.
mod sqlite_stats {
    use diesel::connection::SimpleConnection as _;
    use diesel::prelude::*;
    use diesel::sql_types::Bool;

    /// The refresh this connection's statistics date from (a macro, so `concat!` can
    /// build the constant checkout query from it).
    macro_rules! current {
        () => {
            "SELECT MAX(refreshed_at) FROM main.planner_stats"
        };
    }

    /// Starts tracking on a new connection, which has just read the current statistics.
    /// Before the migrations have made `planner_stats`, there is nothing to track yet.
    pub(super) fn track(c: &mut SqliteConnection) -> QueryResult<()> {
        c.batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS planner_stats_loaded (refreshed_at TIMESTAMP);",
        )?;
        let _ = c.batch_execute(concat!(
            "DELETE FROM temp.planner_stats_loaded; INSERT INTO temp.planner_stats_loaded ",
            current!(),
            ";"
        ));
        Ok(())
    }

    /// Reloads the statistics when a refresh was recorded since this connection loaded
    /// them. An error means no `planner_stats` yet (or a broken connection, which the
    /// caller's ping then reports).
    pub(super) fn reload_if_refreshed(c: &mut SqliteConnection) -> QueryResult<()> {
        // Kept prepared (`super::fixed`): this runs at every checkout.
        let stale: bool = diesel::select(super::fixed::<Bool>(concat!(
            "(",
            current!(),
            ") IS NOT (SELECT refreshed_at FROM temp.planner_stats_loaded)"
        )))
        .get_result(c)?;
        if stale {
            // Remember the refresh first: one recorded while reloading is caught next time.
            c.batch_execute(concat!(
                "DELETE FROM temp.planner_stats_loaded; INSERT INTO temp.planner_stats_loaded ",
                current!(),
                "; ANALYZE sqlite_schema;"
            ))?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot open the database {url}")]
    Connect {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot create the folder for the SQLite database {path}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("migrations failed: {0}")]
    Migrate(String),
}

/// Opens a pool. For SQLite the WAL journal is switched on once here (it persists in the
/// file); the per-connection PRAGMAs run in `ConnectionManager::connect`.
pub fn connect_pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, DbSetupError> {
    let connect_err = |e: Box<dyn std::error::Error + Send + Sync>| DbSetupError::Connect {
        url: url.redacted(),
        source: e,
    };
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| DbSetupError::Folder {
            path: path.display().to_string(),
            source,
        })?;
    }
    // One direct connection first: it fails fast with the real cause, where the pool
    // would wait out its timeout and report only that.
    let mut first = ConnectionManager::new(url.clone())
        .open()
        .map_err(|e| connect_err(Box::new(e)))?;
    if let AnyConnection::Sqlite(c) = &mut first {
        c.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(|e| connect_err(Box::new(e)))?;
    }
    drop(first);
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::new(url.clone()))
        .map_err(|e| connect_err(Box::new(e)))
}

fn harness_error(e: Box<dyn std::error::Error + Send + Sync>) -> DbSetupError {
    DbSetupError::Migrate(e.to_string())
}

/// Applies pending migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, DbSetupError> {
    match conn {
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(PG_MIGRATIONS)
            .map(|v| v.len())
            .map_err(harness_error),
        AnyConnection::Sqlite(c) => {
            // Table rebuilds in SQLite migrations need foreign keys off, and the PRAGMA is
            // a no-op inside the migration's transaction, so switch it around the run.
            c.batch_execute("PRAGMA foreign_keys = OFF;")
                .map_err(|e| harness_error(Box::new(e)))?;
            let result = c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.len())
                .map_err(harness_error);
            c.batch_execute("PRAGMA foreign_keys = ON;")
                .map_err(|e| harness_error(Box::new(e)))?;
            result
        }
    }
}

/// The readiness probe: a connection within `wait` (not the pool's 10 s, which would keep
/// a load balancer waiting on a database that is gone), a PostgreSQL statement bounded
/// by the same time, and no pending migrations.
pub fn check_ready(pool: &Pool, wait: Duration) -> anyhow::Result<bool> {
    let mut conn = pool.get_timeout(wait)?;
    if let AnyConnection::Postgresql(c) = &mut **conn {
        return c.transaction(|c| {
            // SET LOCAL ends with the transaction, so the pooled connection keeps no limit.
            c.batch_execute(&format!(
                "SET LOCAL statement_timeout = {}; SELECT 1;",
                wait.as_millis()
            ))?;
            c.has_pending_migration(PG_MIGRATIONS)
                .map(|pending| !pending)
                .map_err(|e| anyhow::anyhow!(e))
        });
    }
    // SQLite is a local file whose readers do not wait on writers (WAL): no limit needed.
    conn.batch_execute("SELECT 1;")?;
    Ok(migrations_current(&mut conn)?)
}

/// Refreshes the planner's statistics of `tables` (schema names, never user input).
/// SQLite analyses every row: sampled with `analysis_limit = 1000`, 200,000 leads gave
/// estimates that still chose the wrong index for a postal range (148 ms), while the full
/// pass takes about 0.4 s and picks `leads_postal_idx` (0.1 ms).
pub fn refresh_planner_stats(conn: &mut AnyConnection, tables: &[&str]) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => c.batch_execute(&format!("ANALYZE {};", tables.join(", "))),
        AnyConnection::Sqlite(c) => tables
            .iter()
            .try_for_each(|t| c.batch_execute(&format!("ANALYZE {t};"))),
    }
}

/// Keeps the planner's statistics fresh. PostgreSQL's autovacuum does this by itself;
/// SQLite only analyses when asked, and its catalogue plans need the statistics.
pub fn maintain(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => c.batch_execute("PRAGMA optimize;"),
        AnyConnection::Postgresql(_) => Ok(()),
    }
}

/// True when the database has every migration this binary embeds.
pub fn migrations_current(conn: &mut AnyConnection) -> Result<bool, DbSetupError> {
    let pending = match conn {
        AnyConnection::Postgresql(c) => c.has_pending_migration(PG_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending.map(|p| !p).map_err(harness_error)
}

/// Whether PostgreSQL chose this transaction as a deadlock's victim or could not serialise
/// it: run again from the start, it may well succeed. Diesel names no kind for SQLSTATE
/// 40P01, so its (untranslated) message is matched.
pub fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => info.message().starts_with("deadlock detected"),
        _ => false,
    }
}

/// Whether `conn` is SQLite and in no transaction: where a write takes the writer's turn.
fn sqlite_top_level(conn: &mut AnyConnection) -> QueryResult<bool> {
    Ok(match conn {
        AnyConnection::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()?
            .is_none(),
        AnyConnection::Postgresql(_) => false,
    })
}

/// Runs `f` in a write transaction. On SQLite it waits for this process's turn to write
/// (`sqlite_writer`), then begins with `BEGIN IMMEDIATE`, so a transaction that reads
/// then writes waits for the lock instead of failing with "database is locked". Nested
/// calls become savepoints on both backends.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if !sqlite_top_level(conn).map_err(E::from)? {
        return conn.transaction(f);
    }
    // Dropped when this function returns, after the commit or rollback.
    let mut _turn = None;
    if let AnyConnection::Sqlite(c) = conn {
        _turn = sqlite_writer::turn(c).map_err(E::from)?;
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(E::from)?;
    }
    match f(conn) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(E::from)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) =
                <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// A row bumped by triggers whenever what a process keeps a copy of changes.
#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    /// The active standing orders and their buyers' status and zone.
    OrderBook,
    /// Segments, channels and price rules.
    Reference,
}

/// Whether reading a small table whole is cheaper than looking up most of a hundred keys
/// in it. On PostgreSQL it is: the order counters of `bench ping` (130 of 1,000 orders)
/// by key list gave a p99 of 64-71 ms against 35-37 ms for one scan. SQLite, in the
/// process, pays for every row it hands over, and looks keys up cheaper.
pub fn scans_small_tables(conn: &AnyConnection) -> bool {
    matches!(conn, AnyConnection::Postgresql(_))
}

/// Which database `conn` is on (its file, or PostgreSQL's database and port) and the
/// stamp's version there, in one query: a process's cached copies are kept per database
/// (tests and benches open many in one process).
pub fn stamp(conn: &mut AnyConnection, which: Stamp) -> QueryResult<(String, i64)> {
    macro_rules! sqlite_file {
        () => {
            "(SELECT file FROM pragma_database_list WHERE name = 'main')"
        };
    }
    macro_rules! pg_database {
        () => {
            "current_database() || ':' || COALESCE(inet_server_port(), 0)"
        };
    }
    macro_rules! read {
        ($database:expr, $table:literal) => {
            diesel::select(
                fixed::<(diesel::sql_types::Text, diesel::sql_types::BigInt)>(concat!(
                    $database,
                    ", version FROM ",
                    $table,
                    " WHERE id = 1"
                )),
            )
            .get_result::<(String, i64)>(conn)
        };
    }
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    match (which, postgres) {
        (Stamp::OrderBook, false) => read!(sqlite_file!(), "order_book_stamp"),
        (Stamp::OrderBook, true) => read!(pg_database!(), "order_book_stamp"),
        (Stamp::Reference, false) => read!(sqlite_file!(), "reference_stamp"),
        (Stamp::Reference, true) => read!(pg_database!(), "reference_stamp"),
    }
}

/// Holds `key` until the caller's write transaction ends, so check-then-insert rules
/// with no row to lock (one open invitation per email) run one at a time. PostgreSQL
/// takes a transaction-scoped advisory lock on the key's hash; SQLite needs nothing,
/// as its write transaction already keeps every other writer out.
pub fn lock_key(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<diesel::sql_types::Text, _>(key)
                .execute(c)
                .map(drop)
        }
        AnyConnection::Sqlite(_) => Ok(()),
    }
}

/// What a claim does with rows another transaction holds (PostgreSQL; see `load_claimed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Pass over them (`FOR UPDATE SKIP LOCKED`): concurrent claims get different rows.
    Skip,
    /// Wait for them and take those still matching once they are free (`FOR UPDATE`).
    Wait,
}

/// Loads `query`'s rows and claims them for the caller's write transaction. PostgreSQL
/// locks each row (`FOR UPDATE`), skipping or waiting for rows another transaction holds
/// as `held` says; SQLite needs nothing more, as its write transaction (`BEGIN
/// IMMEDIATE`) already keeps every other writer out until it ends.
pub fn load_claimed<'a, Q, U>(conn: &mut AnyConnection, query: Q, held: Held) -> QueryResult<Vec<U>>
where
    Q: diesel::query_dsl::LoadQuery<'a, AnyConnection, U>,
    ForUpdate<Q>: diesel::query_dsl::LoadQuery<'a, AnyConnection, U>,
{
    if matches!(conn, AnyConnection::Postgresql(_)) {
        ForUpdate { query, held }.load(conn)
    } else {
        query.load(conn)
    }
}

/// A SELECT followed by its PostgreSQL row-locking clause (see `load_claimed`).
pub struct ForUpdate<Q> {
    query: Q,
    held: Held,
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for ForUpdate<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for ForUpdate<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for ForUpdate<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(match self.held {
            Held::Skip => " FOR UPDATE SKIP LOCKED",
            Held::Wait => " FOR UPDATE",
        });
        Ok(())
    }
}

impl<Q> RunQueryDsl<AnyConnection> for ForUpdate<Q> {}

/// The planner's estimate of how many rows `query` returns, read from PostgreSQL's
/// `EXPLAIN (FORMAT JSON)` (the top node's "Plan Rows"; nothing runs). SQLite has no such
/// estimate: `None` there, and when the plan cannot be read.
pub fn estimate_rows<'a, Q>(conn: &mut AnyConnection, query: Q) -> QueryResult<Option<i64>>
where
    Explain<Q>: diesel::query_dsl::LoadQuery<'a, AnyConnection, String>,
{
    if !matches!(conn, AnyConnection::Postgresql(_)) {
        return Ok(None);
    }
    let plan: String = Explain { query }.get_result(conn)?;
    Ok(plan_rows(&plan))
}

/// "Plan Rows" of the first plan in an `EXPLAIN (FORMAT JSON)` answer.
fn plan_rows(plan: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(plan).ok()?;
    let rows = v.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64()?;
    (rows.is_finite() && rows >= 0.0).then_some(rows.round() as i64)
}

/// A query under `EXPLAIN (FORMAT JSON)` (see `estimate_rows`); PostgreSQL only.
pub struct Explain<Q> {
    query: Q,
}

impl<Q> diesel::query_builder::Query for Explain<Q> {
    type SqlType = diesel::sql_types::Text;
}

impl<Q> diesel::query_builder::QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Explain<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("EXPLAIN (FORMAT JSON) ");
        self.query.walk_ast(out.reborrow())
    }
}

impl<Q> RunQueryDsl<AnyConnection> for Explain<Q> {}

/// Multi-row INSERT, which the derived `MultiConnection` does not offer: the statement is
/// built per backend. Callers chunk their rows under the bind-parameter limits.
/// A single row goes as a one-row INSERT and two or three rows (a sale's ledger entries)
/// as a fixed-size array: diesel keeps those prepared when the rows are column tuples
/// (`col.eq(v)`), while a statement over a `Vec`, or over rows of a derived `Insertable`
/// struct on PostgreSQL (its values may be DEFAULT), is prepared afresh every time.
#[macro_export]
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        let rows: &[_] = &($rows)[..];
        macro_rules! on {
            ($c:expr) => {
                match rows.len() {
                    1 => diesel::insert_into($table).values(&rows[0]).execute($c),
                    2 => diesel::insert_into($table)
                        .values(<&[_; 2]>::try_from(rows).expect("two rows"))
                        .execute($c),
                    3 => diesel::insert_into($table)
                        .values(<&[_; 3]>::try_from(rows).expect("three rows"))
                        .execute($c),
                    _ => diesel::insert_into($table).values(rows).execute($c),
                }
            };
        }
        match $conn {
            $crate::db::AnyConnection::Postgresql(c) => on!(c),
            $crate::db::AnyConnection::Sqlite(c) => on!(c),
        }
    }};
}

/// Fewer rows than this go to PostgreSQL as INSERTs rather than `COPY` ([`copy_in`]).
pub const COPY_FROM_ROWS: usize = 4;

/// INSERT that leaves out rows whose key is there already (`ON CONFLICT DO NOTHING`),
/// which the derived `MultiConnection` does not offer.
#[macro_export]
macro_rules! insert_new {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        let q = diesel::insert_into($table).values($rows);
        match $conn {
            $crate::db::AnyConnection::Postgresql(c) => q.on_conflict_do_nothing().execute(c),
            $crate::db::AnyConnection::Sqlite(c) => q.on_conflict_do_nothing().execute(c),
        }
    }};
}

/// Bulk insert of rows of a `#[derive(Insertable)]` struct with
/// `treat_none_as_default_value = false`: binary `COPY` on PostgreSQL (several times
/// faster than multi-row INSERT). On SQLite, one single-row INSERT per row, prepared once
/// and cached: multi-row statements were re-prepared for each size and made SQLite keep
/// a statement journal, and were 15-20% slower at intake (`bench intake`, 100k rows:
/// 10,500-10,900 rows/s against 12,200-12,800) with 23 MB more peak RSS. A few rows (a
/// single posted lead) go as INSERTs on PostgreSQL too: `COPY`'s set-up is most of the
/// cost of one row (2.9 ms a post in `bench orders`).
#[macro_export]
macro_rules! copy_in {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        let rows = $rows;
        match $conn {
            _ if rows.is_empty() => Ok(0),
            $crate::db::AnyConnection::Postgresql(c)
                if rows.len() <= $crate::db::COPY_FROM_ROWS =>
            {
                let mut n = 0;
                for row in rows.iter() {
                    n += diesel::insert_into($table).values(row).execute(&mut *c)?;
                }
                Ok(n)
            }
            $crate::db::AnyConnection::Postgresql(c) => {
                diesel::copy_from($table).from_insertable(rows).execute(c)
            }
            $crate::db::AnyConnection::Sqlite(c) => {
                let mut n = 0;
                for row in rows.iter() {
                    n += diesel::insert_into($table).values(row).execute(&mut *c)?;
                }
                Ok(n)
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_backend() {
        assert!(
            DatabaseUrl::parse("postgres://u@h/db")
                .unwrap()
                .is_postgres()
        );
        assert!(
            DatabaseUrl::parse("postgresql://u@h/db")
                .unwrap()
                .is_postgres()
        );
        assert_eq!(
            DatabaseUrl::parse("leadmarket.db").unwrap(),
            DatabaseUrl::Sqlite("leadmarket.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[test]
    fn the_estimate_is_the_top_plans_rows() {
        let plan = r#"[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 12345, "Plans": []}}]"#;
        assert_eq!(plan_rows(plan), Some(12345));
        assert_eq!(plan_rows(r#"[{"Plan": {"Plan Rows": 7.4}}]"#), Some(7));
        assert_eq!(plan_rows("[]"), None);
        assert_eq!(plan_rows("not json"), None);
    }

    #[test]
    fn redacted_url_hides_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/lm").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/lm");
        assert!(!url.redacted().contains("s3cret"));
    }
}

#[cfg(test)]
mod folder_tests {
    fn versions(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let pg = versions("postgres");
        assert!(!pg.is_empty());
        assert_eq!(pg, versions("sqlite"));
        for name in pg {
            for backend in ["postgres", "sqlite"] {
                for file in ["up.sql", "down.sql"] {
                    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("migrations")
                        .join(backend)
                        .join(&name)
                        .join(file);
                    assert!(path.exists(), "{} is missing", path.display());
                }
            }
        }
    }
}
