//! Fresh planner statistics: a batch that grows `leads` by more than a tenth since the
//! last refresh has them analysed as soon as it is done; a small one does not.

use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use leadmarket::db::AnyConnection;
use leadmarket::db::schema::planner_stats;
use leadmarket::domain::Role;
use leadmarket::services::planner_stats::after_repricing;

use crate::helpers::{Backend, JWT_SECRET, SECRET_KEY, TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(a_batch_that_grows_leads_by_a_tenth_refreshes_their_statistics_once);

/// `leadmarket import` of `rows` fresh leads (their emails start with `tag`).
fn import(app: &TestApp, agency: &str, tag: &str, rows: usize) {
    let (c, t) = (recent_rfc3339(30), recent_rfc3339(29));
    let mut csv = "email,age,country,warmth,contact_type,consent_at,captured_at\n".to_string();
    for i in 0..rows {
        csv.push_str(&format!("{tag}{i}@example.com,34,GB,hot,quick,{c},{t}\n"));
    }
    import_csv(app, agency, &csv, rows);
}

/// `leadmarket import` of a CSV file of `rows` rows, each of them accepted.
fn import_csv(app: &TestApp, agency: &str, csv: &str, rows: usize) {
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

/// A query whose plan turns on the statistics: without them SQLite takes the index with
/// two equality columns (country and city), with them it knows every lead is in London
/// and the segment narrows far more.
const PLANNED: &str = "EXPLAIN QUERY PLAN SELECT id FROM leads \
     WHERE country = 'GB' AND city = 'London' AND segment = 'travel'";

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

fn plan(conn: &mut AnyConnection) -> String {
    diesel::sql_query(PLANNED)
        .load::<PlanStep>(conn)
        .unwrap()
        .into_iter()
        .map(|s| s.detail)
        .collect::<Vec<_>>()
        .join("; ")
}

/// SQLite loads `sqlite_stat1` when a connection opens and on its own `ANALYZE` only:
/// connections already in the pool must pick up a refresh another process ran.
#[tokio::test]
async fn pooled_sqlite_connections_plan_with_statistics_another_process_refreshed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (agency, _) = app.member(Role::Agency, "Acme Leads");
    // Several connections at once, so they are distinct, each with a plan made before
    // any statistics; back in the pool they wait for the next checkouts.
    let held: Vec<_> = (0..4).map(|_| app.conn()).collect();
    let mut before = Vec::new();
    for mut conn in held {
        before.push(plan(&mut conn));
    }

    let (c, t) = (recent_rfc3339(30), recent_rfc3339(29));
    let segments = [
        "travel",
        "insurance",
        "finance",
        "education",
        "medical",
        "telecom",
    ];
    let mut csv =
        "email,age,country,city,segment,warmth,contact_type,consent_at,captured_at\n".to_string();
    for i in 0..300 {
        let segment = segments[i % segments.len()];
        csv.push_str(&format!(
            "p{i}@example.com,34,GB,London,{segment},hot,quick,{c},{t}\n"
        ));
    }
    import_csv(&app, &agency.slug, &csv, 300);

    // A connection opened now reads the refreshed statistics: the plan to match.
    let mut fresh = leadmarket::db::connect_pool(
        &leadmarket::db::DatabaseUrl::parse(&app.database_url).unwrap(),
        1,
    )
    .unwrap()
    .get()
    .unwrap();
    let analysed = plan(&mut fresh);
    drop(fresh);
    assert!(
        before.iter().all(|p| *p != analysed),
        "the statistics change the plan: {before:?} / {analysed}"
    );
    let held: Vec<_> = (0..4).map(|_| app.conn()).collect();
    for mut conn in held {
        assert_eq!(plan(&mut conn), analysed, "a pooled connection");
    }
    app.finish().await;
}
