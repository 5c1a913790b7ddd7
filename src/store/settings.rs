//! The one row of platform settings (`platform_settings`): absent until an admin first
//! saves `/admin/settings`, then the values every process works with.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::platform_settings as ps;
use crate::domain::settings::PlatformSettings;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ps)]
#[diesel(treat_none_as_null = true)]
struct SettingsRow {
    id: i32,
    return_window_days: i32,
    return_cap_bp: i32,
    dispute_answer_days: i32,
    commission_bp: i32,
    dedup_days: i32,
    quality_suspend_bp: i32,
    quality_min_sales: i32,
    invoice_due_days: i32,
    tax_rate_bp: i32,
    version: i64,
    updated_by: Option<String>,
    updated_at: NaiveDateTime,
}

/// The stored set and its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub settings: PlatformSettings,
    pub version: i64,
}

// Every value is range-checked on the way in (`domain::settings::FIELDS`), so each fits
// an INTEGER column.
fn narrow(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl From<SettingsRow> for Stored {
    fn from(r: SettingsRow) -> Self {
        Stored {
            settings: PlatformSettings {
                return_window_days: r.return_window_days.into(),
                return_cap_bp: r.return_cap_bp.into(),
                dispute_answer_days: r.dispute_answer_days.into(),
                commission_bp: r.commission_bp.into(),
                dedup_days: r.dedup_days.into(),
                quality_suspend_bp: r.quality_suspend_bp.into(),
                quality_min_sales: r.quality_min_sales.into(),
                invoice_due_days: r.invoice_due_days.into(),
                tax_rate_bp: r.tax_rate_bp.into(),
            },
            version: r.version,
        }
    }
}

pub fn load(conn: &mut AnyConnection) -> QueryResult<Option<Stored>> {
    ps::table
        .find(1)
        .select(SettingsRow::as_select())
        .get_result(conn)
        .optional()
        .map(|r| r.map(Stored::from))
}

/// The version alone: what each process polls to learn of a change.
pub fn version(conn: &mut AnyConnection) -> QueryResult<Option<i64>> {
    ps::table
        .find(1)
        .select(ps::version)
        .get_result(conn)
        .optional()
}

/// Writes the set as version `version` (the first save inserts the row).
pub fn save(
    conn: &mut AnyConnection,
    s: &PlatformSettings,
    version: i64,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let row = SettingsRow {
        id: 1,
        return_window_days: narrow(s.return_window_days),
        return_cap_bp: narrow(s.return_cap_bp),
        dispute_answer_days: narrow(s.dispute_answer_days),
        commission_bp: narrow(s.commission_bp),
        dedup_days: narrow(s.dedup_days),
        quality_suspend_bp: narrow(s.quality_suspend_bp),
        quality_min_sales: narrow(s.quality_min_sales),
        invoice_due_days: narrow(s.invoice_due_days),
        tax_rate_bp: narrow(s.tax_rate_bp),
        version,
        updated_by: Some(user_id.to_string()),
        updated_at: now,
    };
    if version == 1 {
        diesel::insert_into(ps::table).values(&row).execute(conn)?;
    } else {
        diesel::update(ps::table.find(1)).set(&row).execute(conn)?;
    }
    Ok(())
}
