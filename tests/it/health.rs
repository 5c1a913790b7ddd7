//! Liveness and readiness.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(health_and_readiness_answer_when_the_database_is_current);

async fn health_and_readiness_answer_when_the_database_is_current(app: &TestApp) {
    let resp = app.api().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let resp = app.api().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let css = app
        .api()
        .get(app.url("/static/css/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

on_both_backends!(readiness_answers_503_within_a_second_and_a_half_when_the_database_is_gone);

/// On PostgreSQL the test database stops taking connections and its open ones are
/// terminated; on SQLite (a local file cannot go away under an open handle) every pooled
/// connection is held, so none can be had.
async fn readiness_answers_503_within_a_second_and_a_half_when_the_database_is_gone(app: &TestApp) {
    let mut held = Vec::new();
    match app.backend {
        Backend::Postgres => {
            use diesel::Connection as _;
            use diesel::connection::SimpleConnection as _;
            let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
            let name = app.database_url.rsplit('/').next().unwrap().to_string();
            let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
            admin
                .batch_execute(&format!(
                    "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false;
                     SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
                ))
                .unwrap();
        }
        Backend::Sqlite => {
            while let Ok(conn) = app
                .state
                .pool
                .get_timeout(std::time::Duration::from_millis(200))
            {
                held.push(conn);
            }
        }
    }
    let started = std::time::Instant::now();
    let resp = app
        .api()
        .get(app.url("/readyz"))
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert!(
        took < std::time::Duration::from_millis(1500),
        "/readyz took {took:?}"
    );
    drop(held);
}
