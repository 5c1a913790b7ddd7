//! What pages show figures with: tables of cells, and charts with the same numbers as a
//! table beside them (`ui::figure` in `partials/ui.html`).

use crate::web::thousands;

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Self {
        Self {
            text: t.into(),
            href: None,
            num: false,
        }
    }
    pub fn num(n: i64) -> Self {
        Self {
            text: thousands(n),
            href: None,
            num: true,
        }
    }
    /// Figures already written out (money, a percent), aligned as numbers.
    pub fn figure(t: impl Into<String>) -> Self {
        Self {
            text: t.into(),
            href: None,
            num: true,
        }
    }
    pub fn link(t: impl Into<String>, href: String) -> Self {
        Self {
            text: t.into(),
            href: Some(href),
            num: false,
        }
    }
}

pub struct Table {
    pub caption: &'static str,
    pub headers: Vec<(&'static str, bool)>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: &'static str,
}

/// A chart (SVG from `web::charts`) and the table of its numbers.
pub struct Figure {
    pub svg: String,
    pub table: Table,
}
