//! Migrations apply, revert and re-apply on both backends.

use diesel_migrations::MigrationHarness;
use leadmarket::db::{self, AnyConnection};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(migrations_revert_and_reapply_cleanly);

async fn migrations_revert_and_reapply_cleanly(app: &TestApp) {
    let mut conn = app.conn();
    assert!(db::migrations_current(&mut conn).unwrap());
    let reverted = match &mut *conn {
        AnyConnection::Postgresql(c) => c.revert_all_migrations(db::PG_MIGRATIONS).unwrap().len(),
        AnyConnection::Sqlite(c) => c
            .revert_all_migrations(db::SQLITE_MIGRATIONS)
            .unwrap()
            .len(),
    };
    assert!(reverted >= 1);
    assert!(!db::migrations_current(&mut conn).unwrap());
    let resp = app.api().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 503, "not ready while migrations are pending");
    assert_eq!(db::run_migrations(&mut conn).unwrap(), reverted);
    assert!(db::migrations_current(&mut conn).unwrap());
}
