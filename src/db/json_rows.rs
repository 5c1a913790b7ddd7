//! Many rows in one INSERT that stays prepared: they travel as one JSON array bind,
//! unpacked by the database (`json_each` on SQLite, `json_array_elements` on PostgreSQL).
//! A ping's 75 bids went to SQLite as 75 single-row INSERTs (an eighth of its CPU) and
//! to PostgreSQL as a multi-row INSERT parsed and planned afresh for each count.

use diesel::QueryResult;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;

use super::{AnyConnection, MultiBackend};

/// How a column's value is read out of its row's JSON array.
#[derive(Debug, Clone, Copy)]
pub enum JsonKind {
    Text,
    BigInt,
}

/// Inserts `rows`, a JSON array with one array per row holding the values of `columns`
/// in order, into `table`; answers how many rows went in.
pub fn insert_json_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[(&str, JsonKind)],
    rows: String,
) -> QueryResult<usize> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match (postgres, kind) {
            (false, _) => format!("value ->> {i}"),
            (true, JsonKind::Text) => format!("value ->> {i}"),
            (true, JsonKind::BigInt) => format!("CAST(value ->> {i} AS BIGINT)"),
        })
        .collect();
    let (from, to) = if postgres {
        ("json_array_elements(CAST(", " AS json)) AS r(value)")
    } else {
        ("json_each(", ")")
    };
    OneBind {
        before: format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {from}",
            names.join(", "),
            values.join(", ")
        ),
        bind: rows,
        after: to.to_string(),
    }
    .execute(conn)
}

/// SQL around one text bind, kept prepared under its text (unlike `sql_query`).
struct OneBind {
    before: String,
    bind: String,
    after: String,
}

impl QueryId for OneBind {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for OneBind {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(&self.before);
        out.push_bind_param::<Text, String>(&self.bind)?;
        out.push_sql(&self.after);
        Ok(())
    }
}

impl RunQueryDsl<AnyConnection> for OneBind {}
