//! Migrations apply, revert and re-apply on both backends.

use diesel_migrations::MigrationHarness;
use leadmarket::db::{self, AnyConnection};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(migrations_revert_and_reapply_cleanly);

async fn migrations_revert_and_reapply_cleanly(app: &TestApp) {
    let mut conn = app.conn();
    assert!(db::migrations_current(&mut conn).unwrap());
    let reverted = match &mut **conn {
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

on_both_backends!(stored_hex_keys_become_digest_bytes_and_back_when_the_migration_is_reverted);

/// The migration that stores dedup, suppression and IP keys as bytes.
const BINARY_DIGESTS: &str = "2026-12-02-074203";

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct HexKeys {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    email_key: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    phone_key: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    ip_hash: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    suppressed: Option<String>,
}

/// Reverts migrations down to and including `version`, with foreign keys off on SQLite
/// (the rebuilt tables hold rows that others reference), as `run_migrations` does.
fn revert_through(conn: &mut AnyConnection, version: &str) {
    use diesel::connection::SimpleConnection as _;
    loop {
        let reverted = match &mut *conn {
            AnyConnection::Postgresql(c) => c.revert_last_migration(db::PG_MIGRATIONS),
            AnyConnection::Sqlite(c) => {
                c.batch_execute("PRAGMA foreign_keys = OFF;").unwrap();
                let r = c.revert_last_migration(db::SQLITE_MIGRATIONS);
                c.batch_execute("PRAGMA foreign_keys = ON;").unwrap();
                r
            }
        }
        .unwrap();
        // Diesel spells a version by its digits alone.
        if reverted.to_string().replace('-', "") == version.replace('-', "") {
            return;
        }
    }
}

async fn stored_hex_keys_become_digest_bytes_and_back_when_the_migration_is_reverted(
    app: &TestApp,
) {
    use diesel::RunQueryDsl as _;
    use leadmarket::domain::{Role, dedup};

    let (agency, _) = app.member(Role::Agency, "Acme Leads");
    let token = app.token(&app.api_key(&agency)).await;
    let lead = crate::builders::LeadBuilder::new(1)
        .set("ip", "10.0.0.1")
        .post(app, &token)
        .await;
    let suppressed = dedup::phone_key("+447911190009");
    app.with_conn(|c| {
        leadmarket::store::intake::add_suppressions(
            c,
            &[(
                suppressed.clone(),
                leadmarket::domain::intake::SuppressionKind::Phone,
            )],
            "opt_out",
            "test",
        )
    })
    .unwrap();

    let mut conn = app.conn();
    revert_through(&mut conn, BINARY_DIGESTS);
    let hex: HexKeys = diesel::sql_query(format!(
        "SELECT l.email_key, l.phone_key, d.ip_hash, \
         (SELECT MIN(key_hash) FROM suppressions) AS suppressed \
         FROM leads l JOIN lead_details d ON d.lead_id = l.id WHERE l.id = '{lead}'"
    ))
    .get_result(&mut **conn)
    .unwrap();
    assert_eq!(
        hex,
        HexKeys {
            email_key: Some(hex::encode(dedup::email_key("ann1@example.com"))),
            phone_key: Some(hex::encode(dedup::phone_key("+447911110001"))),
            ip_hash: Some(hex::encode(dedup::ip_key("10.0.0.1"))),
            suppressed: Some(hex::encode(&suppressed)),
        },
        "the hex the keys were stored as before"
    );
    db::run_migrations(&mut conn).unwrap();
    drop(conn);

    // Decoded, the stored keys are what intake computes: the same person is a duplicate,
    // and the suppressed phone is refused.
    let again = app
        .post_as(&token, "/api/v1/leads")
        .json(
            &crate::builders::LeadBuilder::new(1)
                .set("email", "ANN1@example.com")
                .json(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let body: serde_json::Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "duplicate", "{body}");
    let barred = app
        .post_as(&token, "/api/v1/leads")
        .json(
            &crate::builders::LeadBuilder::new(2)
                .phone("+447911190009")
                .json(),
        )
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = barred.json().await.unwrap();
    assert_eq!(body["error"]["code"], "suppressed", "{body}");
}
