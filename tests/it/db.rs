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
