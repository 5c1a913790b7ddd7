//! Fresh planner statistics: a batch that grows `leads` by more than a tenth since the
//! last refresh has them analysed as soon as it is done; a small one does not.

use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use leadmarket::db::AnyConnection;
use leadmarket::db::schema::planner_stats;
use leadmarket::domain::Role;
use leadmarket::services::planner_stats::after_repricing;

use crate::helpers::{JWT_SECRET, SECRET_KEY, TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(a_batch_that_grows_leads_by_a_tenth_refreshes_their_statistics_once);

/// `leadmarket import` of `rows` fresh leads (their emails start with `tag`).
fn import(app: &TestApp, agency: &str, tag: &str, rows: usize) {
    let (c, t) = (recent_rfc3339(30), recent_rfc3339(29));
    let mut csv = "email,age,country,warmth,contact_type,consent_at,captured_at\n".to_string();
    for i in 0..rows {
        csv.push_str(&format!("{tag}{i}@example.com,34,GB,hot,quick,{c},{t}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    std::fs::write(&path, csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadmarket"))
        .args(["import", path.to_str().unwrap(), "--agency", agency])
        .args(["--segment", "travel", "--channel", "web_form"])
        .args(["--price-cents", "1000", "--consent-text", "I agree."])
        .env("DATABASE_URL", &app.database_url)
        .env("SECRET_KEY", SECRET_KEY)
        .env("JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("{rows} accepted")),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `(rows_at_refresh, refreshed_at)` of `leads` and of `lead_details`.
type Tracked = Vec<(String, i64, Option<chrono::NaiveDateTime>)>;

fn tracked(app: &TestApp) -> Tracked {
    app.with_conn(|c| {
        planner_stats::table
            .select((
                planner_stats::table_name,
                planner_stats::rows_at_refresh,
                planner_stats::refreshed_at,
            ))
            .order(planner_stats::table_name.desc())
            .load(c)
            .unwrap()
    })
}

fn scalar(conn: &mut AnyConnection, sql: &str) -> i64 {
    diesel::select(diesel::dsl::sql::<BigInt>(sql))
        .get_result(conn)
        .unwrap()
}

/// What the database itself says the planner knows of `leads`: SQLite's `sqlite_stat1`
/// rows for it (none before the first `ANALYZE` makes the table), PostgreSQL's row
/// estimate (-1 until the table is first analysed).
fn planner_knows(conn: &mut AnyConnection) -> i64 {
    match conn {
        AnyConnection::Sqlite(_) => {
            if scalar(
                conn,
                "(SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1')",
            ) == 0
            {
                return 0;
            }
            scalar(
                conn,
                "(SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'leads')",
            )
        }
        AnyConnection::Postgresql(_) => scalar(
            conn,
            "(SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = 'leads'::regclass)",
        ),
    }
}

async fn a_batch_that_grows_leads_by_a_tenth_refreshes_their_statistics_once(app: &TestApp) {
    let (agency, _) = app.member(Role::Agency, "Acme Leads");
    let before = tracked(app);
    assert!(
        before
            .iter()
            .all(|(_, rows, at)| *rows == 0 && at.is_none())
    );
    let knew = app.with_conn(planner_knows);

    import(app, &agency.slug, "first", 30);
    let first = tracked(app);
    assert_eq!(first[0].0, "leads");
    assert_eq!(first[0].1, 30, "{first:?}");
    assert_eq!(
        first[1],
        ("lead_details".into(), 30, first[1].2),
        "{first:?}"
    );
    assert!(first.iter().all(|(_, _, at)| at.is_some()), "{first:?}");
    let knows = app.with_conn(planner_knows);
    match app.backend {
        crate::helpers::Backend::Sqlite => assert!(knows > knew, "sqlite_stat1 has leads"),
        crate::helpers::Backend::Postgres => assert_eq!(knows, 30, "ANALYZE counted them"),
    }

    // Two more leads are under a tenth of 30: no refresh.
    import(app, &agency.slug, "second", 2);
    assert_eq!(tracked(app), first);

    // A repricing run that changed a few prices as well tips it over.
    app.with_conn(|c| after_repricing(c, 2));
    let repriced = tracked(app);
    assert_eq!(repriced[0].1, 32, "{repriced:?}");
    assert!(repriced[0].2 >= first[0].2);
    assert_eq!(repriced[1], first[1], "repricing leaves lead_details alone");
}
