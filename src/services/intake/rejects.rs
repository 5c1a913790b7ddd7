//! The rejects file: each row not accepted, its cells as uploaded, then its row number
//! and the reasons.

use crate::domain::intake::decision::Reason;
use crate::store::batches::BatchRow;
use crate::store::intake::RejectRow;

/// The reasons column: `code: message`, or `code: field message` for one field.
pub(super) fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| {
            if r.field == "row" {
                format!("{}: {}", r.code, r.message)
            } else {
                format!("{}: {} {}", r.code, r.field, r.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The rejects file's header: the columns as uploaded, then `row_number` and `reasons`.
pub fn header(batch: &BatchRow) -> Vec<String> {
    let mut h: Vec<String> = if batch.headers.is_empty() {
        Vec::new()
    } else {
        batch.headers.split('\t').map(str::to_string).collect()
    };
    h.push("row_number".into());
    h.push("reasons".into());
    h
}

/// One rejected row's cells for the rejects file, padded to the header's width.
pub fn cells(row: RejectRow, columns: usize) -> Vec<String> {
    let mut cells: Vec<String> = serde_json::from_str(&row.raw).unwrap_or_default();
    if cells.len() < columns {
        cells.resize(columns, String::new());
    }
    cells.push(row.row_number.to_string());
    cells.push(row.reasons);
    cells
}

/// Cells made safe to open in a spreadsheet (no formulas).
pub fn neutralised(cells: Vec<String>) -> Vec<String> {
    cells
        .into_iter()
        .map(|c| crate::domain::export::neutralise(&c).into_owned())
        .collect()
}
