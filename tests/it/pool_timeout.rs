//! A pool that has no connection to give converts into the API's 503: the real r2d2
//! timeout from `pool.get()`, not a constructed error, so a change in r2d2's error type or
//! in our conversion shows here.

use std::time::{Duration, Instant};

use leadmarket::db::{ConnectionManager, DatabaseUrl};
use leadmarket::error::AppError;

#[test]
fn a_real_pool_timeout_becomes_503_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&dir.path().join("pool.db").to_string_lossy()).unwrap();
    let pool = diesel::r2d2::Pool::builder()
        .max_size(1)
        .connection_timeout(Duration::from_millis(200))
        .build(ConnectionManager::new(url))
        .expect("a pool of one");
    let held = pool.get().expect("the one connection");

    let started = Instant::now();
    let Err(timeout) = pool.get() else {
        panic!("the pool of one gave a second connection");
    };
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "get() gave up before its timeout: {timeout}"
    );
    assert!(
        timeout.to_string().contains("timed out"),
        "not a timeout: {timeout}"
    );

    let err = AppError::from(timeout);
    assert!(matches!(err, AppError::Unavailable), "{err:?}");
    assert_eq!(err.status(), 503);
    assert_eq!(err.code(), "unavailable");
    assert_eq!(
        err.public_message(),
        "the service is busy; try again shortly"
    );
    drop(held);
}
