//! The database layer under concurrent writers, and connection errors that say why.

use leadmarket::db::{self, DatabaseUrl, write_transaction};
use leadmarket::domain::OrgKind;
use leadmarket::error::AppError;
use leadmarket::store;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(concurrent_read_then_write_transactions_all_succeed);

async fn concurrent_read_then_write_transactions_all_succeed(app: &TestApp) {
    const WRITERS: usize = 8;
    const EACH: usize = 20;
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let pool = app.state.pool.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for i in 0..EACH {
                    let mut conn = pool.get().unwrap();
                    // Read first, then write: a deferred SQLite transaction fails here with
                    // "database is locked" instead of waiting.
                    let result = write_transaction(&mut conn, |c| -> Result<(), AppError> {
                        let before = store::organisations::count_customers(c)?;
                        store::organisations::create(
                            c,
                            OrgKind::Buyer,
                            &format!("Buyer {w}-{i} after {before}"),
                            &format!("b-{w}-{i}"),
                        )?;
                        Ok(())
                    });
                    if let Err(e) = result {
                        failures.push(format!("{e:?}"));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    let total = app
        .with_conn(store::organisations::count_customers)
        .unwrap();
    assert_eq!(total as usize, WRITERS * EACH);
}

#[test]
fn a_refused_postgres_connection_reports_the_real_cause() {
    let url = DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/nothing").unwrap();
    let err = db::connect_pool(&url, 1)
        .expect_err("nothing listens on port 1")
        .to_string();
    assert!(!err.contains("Invalid connection url"), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
}

#[test]
fn an_unopenable_sqlite_path_reports_the_real_cause() {
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be opened as a database file.
    let url = DatabaseUrl::Sqlite(dir.path().to_path_buf());
    let err = db::connect_pool(&url, 1)
        .expect_err("a directory is no database")
        .to_string();
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
}

fn backend_pid(conn: &mut db::AnyConnection) -> diesel::QueryResult<i32> {
    use diesel::RunQueryDsl;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
        "pg_backend_pid()",
    ))
    .get_result(conn)
}

/// Checkouts skip the test query for a while after one (`db::PoolConn`), so a
/// connection the server dropped may be handed out once more; it must still leave the
/// pool soon, even when it is checked out again and again meanwhile.
#[tokio::test]
#[cfg_attr(
    not(leadmarket_pg_tests),
    ignore = "PostgreSQL twin: TEST_DATABASE_URL is not set"
)]
async fn a_postgres_connection_the_server_dropped_leaves_the_pool_soon_after() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn_with(crate::helpers::Backend::Postgres, &[])
        .await
        .expect(crate::helpers::PG_TWIN_NEEDS_URL);
    let pool = db::connect_pool(&app.state.config().database_url, 1).unwrap();
    let dropped = backend_pid(&mut pool.get().unwrap()).unwrap();
    diesel::sql_query(format!("SELECT pg_terminate_backend({dropped})"))
        .execute(&mut **app.conn())
        .unwrap();
    let started = std::time::Instant::now();
    let mut failed = 0;
    let pid = loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the dropped connection was still handed out after 5 s ({failed} failed queries)"
        );
        match backend_pid(&mut pool.get().unwrap()) {
            Ok(pid) => break pid,
            Err(_) => failed += 1,
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_ne!(pid, dropped);
    // It failed the one query that found it dropped, then left the pool.
    assert!(
        failed <= 1,
        "{failed} queries failed on the dropped connection"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "replaced only after {:?}",
        started.elapsed()
    );
    app.finish().await;
}
