//! Billing rules without I/O: billing periods, invoice numbers, tax, invoice kinds and
//! stored statuses, the status and open amount people see, grouping what was bought into
//! invoice lines, and aging. Pages, the API, exports and tests all read invoices here.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::ledger::ActionKind;
use super::org::text_enum;

/// A calendar month: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

impl Period {
    /// `YYYY-MM`, as `billing run --period` takes it.
    pub fn parse(text: &str) -> Result<Period, String> {
        let (y, m) = text
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("`{text}` is not a month such as 2026-11"))?;
        let (y, m): (i32, u32) = match (y.parse(), m.parse()) {
            (Ok(y), Ok(m)) if (2000..=2999).contains(&y) && (1..=12).contains(&m) => (y, m),
            _ => return Err(format!("`{text}` is not a month such as 2026-11")),
        };
        Ok(Self::month(y, m))
    }

    fn month(year: i32, month: u32) -> Period {
        let start = NaiveDate::from_ymd_opt(year, month, 1).expect("a valid month");
        let end = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .expect("a valid month");
        Period {
            start: start.and_time(chrono::NaiveTime::MIN),
            end: end.and_time(chrono::NaiveTime::MIN),
        }
    }

    /// The month `now` falls in.
    pub fn containing(now: NaiveDateTime) -> Period {
        Self::month(now.year(), now.month())
    }

    /// The month before the one `now` falls in (what a monthly run bills).
    pub fn previous(now: NaiveDateTime) -> Period {
        let this = Self::containing(now);
        Self::containing(this.start - chrono::TimeDelta::days(1))
    }

    pub fn label(&self) -> String {
        self.start.format("%B %Y").to_string()
    }

    pub fn code(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }
}

/// `LM-2026-000123`: series, year, and the number within them.
pub fn format_number(series: &str, year: i32, n: i64) -> String {
    format!("{series}-{year}-{n:06}")
}

/// Tax on `subtotal` at `bp` basis points, rounded half away from zero.
pub fn tax(subtotal_cents: i64, bp: i64) -> i64 {
    let raw = i128::from(subtotal_cents) * i128::from(bp);
    let rounded = if raw >= 0 {
        (raw + 5_000) / 10_000
    } else {
        (raw - 5_000) / 10_000
    };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// What an invoice row is: a bill to a buyer, or a credit note against one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}
text_enum!(InvoiceKind { Invoice => "invoice", CreditNote => "credit_note" });

/// The status stored on an invoice: a draft until finance issues it. Payments and credit
/// notes change amounts, not this; what people see is `Invoice::status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Draft,
    Issued,
}
text_enum!(InvoiceStatus { Draft => "draft", Issued => "issued" });

/// What the invoice rules read of a stored invoice (or credit note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoice {
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub credited_cents: i64,
    pub due_at: Option<NaiveDateTime>,
}

impl Invoice {
    /// The status api.md names: `issued | paid | partly_paid | overdue | void`, and
    /// `draft` for finance's eyes only. A credit note is only ever draft or issued.
    pub fn status(&self, now: NaiveDateTime) -> &'static str {
        if self.status == InvoiceStatus::Draft {
            return "draft";
        }
        if self.kind == InvoiceKind::CreditNote {
            return "issued";
        }
        let (paid, credited) = (self.paid_cents, self.credited_cents);
        if open_cents(self.total_cents, paid, credited) == 0 {
            return if paid == 0 && credited > 0 {
                "void"
            } else {
                "paid"
            };
        }
        if self.due_at.is_some_and(|d| d < now) {
            return "overdue";
        }
        if paid > 0 { "partly_paid" } else { "issued" }
    }

    /// What the buyer still owes on it: only an issued invoice is owed, never a draft
    /// or a credit note.
    pub fn open_cents(&self) -> i64 {
        if self.kind == InvoiceKind::Invoice && self.status == InvoiceStatus::Issued {
            open_cents(self.total_cents, self.paid_cents, self.credited_cents)
        } else {
            0
        }
    }
}

/// What is left to pay on an issued invoice.
pub fn open_cents(total: i64, paid: i64, credited: i64) -> i64 {
    (total - paid - credited).max(0)
}

/// What an invoice line bills (`invoice_lines.kind`): leads bought, an action reported
/// on them (`action:<kind>`), or leads returned through approved disputes (`credit`,
/// also a credit note's one line).
// Declared in the order of their text, the order an invoice lists its lines in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LineKind {
    ActionCall,
    ActionConsultation,
    ActionPurchase,
    Credit,
    Purchase,
}
text_enum!(LineKind {
    ActionCall => "action:call",
    ActionConsultation => "action:consultation",
    ActionPurchase => "action:purchase",
    Credit => "credit",
    Purchase => "purchase",
});

impl LineKind {
    /// The line of an action reported on a bought lead.
    pub fn action(kind: ActionKind) -> Self {
        match kind {
            ActionKind::Call => LineKind::ActionCall,
            ActionKind::Consultation => LineKind::ActionConsultation,
            ActionKind::Purchase => LineKind::ActionPurchase,
        }
    }

    /// The action a line bills, if it bills one.
    pub fn action_kind(self) -> Option<ActionKind> {
        match self {
            LineKind::ActionCall => Some(ActionKind::Call),
            LineKind::ActionConsultation => Some(ActionKind::Consultation),
            LineKind::ActionPurchase => Some(ActionKind::Purchase),
            LineKind::Credit | LineKind::Purchase => None,
        }
    }
}

/// One thing billed: a lead bought, an action reported, or a lead returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillItem {
    pub kind: LineKind,
    pub batch_id: String,
    pub batch_label: String,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub batch_id: Option<String>,
    pub quantity: i64,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

/// Groups items per (kind, batch, unit price) into lines with quantities, in a stable
/// order; the lines' amounts sum to the items' amounts exactly.
pub fn group_lines(items: &[BillItem]) -> Vec<Line> {
    let mut groups: std::collections::BTreeMap<(LineKind, String, i64), (String, i64)> =
        Default::default();
    for i in items {
        let entry = groups
            .entry((i.kind, i.batch_id.clone(), i.amount_cents))
            .or_insert_with(|| (i.batch_label.clone(), 0));
        entry.1 += 1;
    }
    groups
        .into_iter()
        .map(|((kind, batch_id, unit), (label, quantity))| {
            let what = match (kind.action_kind(), kind) {
                (Some(action), _) => format!("{}: {label}", action_label(action)),
                (None, LineKind::Credit) => {
                    format!("Leads returned (approved disputes): {label}")
                }
                (None, _) => format!("Leads bought: {label}"),
            };
            Line {
                description: what,
                batch_id: Some(batch_id),
                quantity,
                unit_cents: unit,
                amount_cents: unit * quantity,
                kind,
            }
        })
        .collect()
}

/// How an invoice line names an action it bills.
fn action_label(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Call => "Calls reported",
        ActionKind::Consultation => "Consultation requests reported",
        ActionKind::Purchase => "Purchases reported",
    }
}

/// Days past due, bucketed as finance reads them.
pub fn aging_bucket(due_at: NaiveDateTime, now: NaiveDateTime) -> &'static str {
    let days = (now.date() - due_at.date()).num_days();
    match days {
        i64::MIN..=0 => "current",
        1..=30 => "1-30",
        31..=60 => "31-60",
        61..=90 => "61-90",
        _ => "90+",
    }
}

pub const AGING_BUCKETS: [&str; 5] = ["current", "1-30", "31-60", "61-90", "90+"];

/// Open amounts per buyer and bucket, in buyer order: (buyer, amounts in
/// `AGING_BUCKETS` order). Invoices with nothing open or no due date are left out.
pub fn aging<B: Ord>(
    invoices: impl IntoIterator<Item = (B, Invoice)>,
    now: NaiveDateTime,
) -> Vec<(B, [i64; 5])> {
    let mut by_buyer: std::collections::BTreeMap<B, [i64; 5]> = Default::default();
    for (buyer, i) in invoices {
        let open = i.open_cents();
        let Some(due) = i.due_at else { continue };
        if open == 0 {
            continue;
        }
        let bucket = aging_bucket(due, now);
        let slot = AGING_BUCKETS.iter().position(|b| *b == bucket).unwrap_or(0);
        by_buyer.entry(buyer).or_default()[slot] += open;
    }
    by_buyer.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    #[test]
    fn periods_are_calendar_months() {
        let p = Period::parse("2026-12").unwrap();
        assert_eq!(p.start, at(2026, 12, 1) - chrono::TimeDelta::hours(12));
        assert_eq!(p.end, at(2027, 1, 1) - chrono::TimeDelta::hours(12));
        assert_eq!(p.label(), "December 2026");
        assert!(Period::parse("2026-13").is_err());
        assert!(Period::parse("november").is_err());
        assert_eq!(Period::previous(at(2026, 1, 15)).code(), "2025-12");
        assert_eq!(Period::containing(at(2026, 11, 24)).code(), "2026-11");
    }

    #[test]
    fn numbers_tax_and_status() {
        assert_eq!(format_number("LM", 2026, 123), "LM-2026-000123");
        assert_eq!(tax(10_000, 1900), 1900);
        assert_eq!(tax(1_005, 1900), 191, "190.95 rounds up");
        assert_eq!(tax(-1_005, 1900), -191);
        assert_eq!(open_cents(100, 60, 50), 0);
    }

    fn invoice(status: InvoiceStatus, total: i64, paid: i64, credited: i64) -> Invoice {
        Invoice {
            kind: InvoiceKind::Invoice,
            status,
            total_cents: total,
            paid_cents: paid,
            credited_cents: credited,
            due_at: Some(at(2026, 12, 8)),
        }
    }

    #[test]
    fn an_invoice_shows_its_status_and_what_is_open() {
        use InvoiceStatus::{Draft, Issued};
        let now = at(2026, 11, 24);
        let status = |i: Invoice| (i.status(now), i.open_cents());
        assert_eq!(status(invoice(Draft, 100, 0, 0)), ("draft", 0));
        assert_eq!(status(invoice(Issued, 100, 0, 0)), ("issued", 100));
        assert_eq!(status(invoice(Issued, 100, 40, 0)), ("partly_paid", 60));
        assert_eq!(status(invoice(Issued, 100, 60, 40)), ("paid", 0));
        assert_eq!(status(invoice(Issued, 100, 0, 100)), ("void", 0));
        assert_eq!(
            invoice(Issued, 100, 40, 0).status(at(2026, 12, 9)),
            "overdue"
        );
        assert_eq!(
            invoice(Issued, 100, 120, 0).open_cents(),
            0,
            "never below zero"
        );
    }

    #[test]
    fn a_credit_note_is_draft_or_issued_and_never_owed() {
        let note = |status| Invoice {
            kind: InvoiceKind::CreditNote,
            ..invoice(status, 100, 0, 0)
        };
        let late = at(2027, 1, 1);
        assert_eq!(note(InvoiceStatus::Draft).status(late), "draft");
        assert_eq!(note(InvoiceStatus::Issued).status(late), "issued");
        assert_eq!(note(InvoiceStatus::Issued).open_cents(), 0);
    }

    #[test]
    fn kinds_and_stored_statuses_read_and_write_their_text() {
        for kind in InvoiceKind::ALL {
            assert_eq!(kind.as_str().parse::<InvoiceKind>(), Ok(*kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for status in InvoiceStatus::ALL {
            assert_eq!(status.as_str().parse::<InvoiceStatus>(), Ok(*status));
        }
        assert_eq!(InvoiceKind::CreditNote.as_str(), "credit_note");
        assert_eq!(InvoiceStatus::Issued.to_string(), "issued");
        assert!(
            "paid".parse::<InvoiceStatus>().is_err(),
            "paid is shown, not stored"
        );
        assert!("Invoice".parse::<InvoiceKind>().is_err());
    }

    #[test]
    fn line_kinds_are_their_stored_text_in_the_order_lines_are_listed() {
        for kind in LineKind::ALL {
            assert_eq!(kind.as_str().parse::<LineKind>(), Ok(*kind));
        }
        // `group_lines` orders by the enum; that must be the order of the text it replaced.
        let mut by_text = LineKind::ALL.to_vec();
        by_text.sort_by_key(|k| k.as_str());
        assert_eq!(by_text, LineKind::ALL);
        for action in ActionKind::ALL {
            let line = LineKind::action(*action);
            assert_eq!(line.as_str(), format!("action:{action}"));
            assert_eq!(line.action_kind(), Some(*action));
        }
        assert_eq!(LineKind::Credit.action_kind(), None);
    }

    #[test]
    fn lines_group_by_kind_batch_and_price_and_keep_the_sum() {
        let item = |kind: &str, batch: &str, amount| BillItem {
            kind: kind.parse().unwrap(),
            batch_id: batch.into(),
            batch_label: format!("batch {batch}"),
            amount_cents: amount,
        };
        let items = vec![
            item("purchase", "a", 1000),
            item("purchase", "a", 1000),
            item("purchase", "a", 1300),
            item("purchase", "b", 1000),
            item("action:call", "a", 5000),
        ];
        let lines = group_lines(&items);
        assert_eq!(lines.len(), 4);
        let total: i64 = lines.iter().map(|l| l.amount_cents).sum();
        assert_eq!(total, items.iter().map(|i| i.amount_cents).sum::<i64>());
        let first = lines
            .iter()
            .find(|l| l.unit_cents == 1000 && l.batch_id.as_deref() == Some("a"))
            .unwrap();
        assert_eq!((first.quantity, first.amount_cents), (2, 2000));
        assert!(
            lines
                .iter()
                .any(|l| l.description == "Calls reported: batch a")
        );
    }

    #[test]
    fn aging_buckets() {
        let due = at(2026, 10, 1);
        assert_eq!(aging_bucket(due, at(2026, 10, 1)), "current");
        assert_eq!(aging_bucket(due, at(2026, 10, 31)), "1-30");
        assert_eq!(aging_bucket(due, at(2026, 11, 1)), "31-60");
        assert_eq!(aging_bucket(due, at(2026, 12, 20)), "61-90");
        assert_eq!(aging_bucket(due, at(2027, 3, 1)), "90+");
    }

    #[test]
    fn aging_puts_open_amounts_in_their_bucket() {
        let due = |total, paid, day| Invoice {
            due_at: Some(at(2026, 11, day)),
            ..invoice(InvoiceStatus::Issued, total, paid, 0)
        };
        let draft = invoice(InvoiceStatus::Draft, 500, 0, 0);
        let rows = aging(
            [
                ("a", due(100, 0, 30)),
                ("a", due(50, 20, 10)),
                ("b", due(70, 70, 1)),
                ("c", draft),
                (
                    "d",
                    Invoice {
                        due_at: None,
                        ..due(100, 0, 1)
                    },
                ),
            ],
            at(2026, 11, 24),
        );
        assert_eq!(rows, vec![("a", [100, 30, 0, 0, 0])]);
    }
}
