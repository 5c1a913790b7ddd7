//! Platform settings an admin may change while the site runs (`/admin/settings`): each
//! one's name, unit and allowed range, parsing a submitted form into a whole valid set,
//! and the before/after text the audit log keeps of a change.

/// The tunable rules of the trade. Environment variables give the first values; once an
/// admin saves the page, the stored set counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformSettings {
    pub return_window_days: i64,
    pub return_cap_bp: i64,
    pub dispute_answer_days: i64,
    pub commission_bp: i64,
    pub dedup_days: i64,
    pub quality_suspend_bp: i64,
    pub quality_min_sales: i64,
    pub invoice_due_days: i64,
    pub tax_rate_bp: i64,
}

/// How a setting is typed on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Days,
    /// Shown and typed as a percentage with up to two decimals, kept in basis points.
    Percent,
    Count,
}

/// One setting: its form field name, label, unit and range (in stored units).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub unit: Unit,
    pub min: i64,
    pub max: i64,
    get: fn(&PlatformSettings) -> i64,
    set: fn(&mut PlatformSettings, i64),
}

impl Field {
    pub fn value(&self, s: &PlatformSettings) -> i64 {
        (self.get)(s)
    }

    /// The stored value as typed on the page (`20.5` for 2050 basis points).
    pub fn display(&self, value: i64) -> String {
        match self.unit {
            Unit::Percent if value % 100 == 0 => format!("{}", value / 100),
            Unit::Percent => format!("{}.{:02}", value / 100, value % 100)
                .trim_end_matches('0')
                .to_string(),
            Unit::Days | Unit::Count => value.to_string(),
        }
    }

    fn parse(&self, raw: &str) -> Result<i64, String> {
        let raw = raw.trim();
        let value = match self.unit {
            Unit::Percent => parse_percent(raw).ok_or_else(|| {
                format!(
                    "{}: type a percentage such as 20 or 12.5 (at most two decimals)",
                    self.label
                )
            })?,
            Unit::Days | Unit::Count => raw
                .parse::<i64>()
                .map_err(|_| format!("{}: type a whole number", self.label))?,
        };
        if !(self.min..=self.max).contains(&value) {
            let unit = match self.unit {
                Unit::Days => " days",
                Unit::Percent => "%",
                Unit::Count => "",
            };
            return Err(format!(
                "{} must be between {}{unit} and {}{unit}",
                self.label,
                self.display(self.min),
                self.display(self.max)
            ));
        }
        Ok(value)
    }
}

/// `12.5` -> 1250 basis points; `%` allowed at the end.
fn parse_percent(raw: &str) -> Option<i64> {
    let raw = raw.trim_end_matches('%').trim();
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 6
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole * 100 + frac)
}

/// Every setting, in the page's order.
pub const FIELDS: &[Field] = &[
    Field {
        name: "return_window_days",
        label: "Return window",
        hint: "days after a purchase in which the buyer may dispute the lead",
        unit: Unit::Days,
        min: 1,
        max: 90,
        get: |s| s.return_window_days,
        set: |s, v| s.return_window_days = v,
    },
    Field {
        name: "return_cap_bp",
        label: "Return cap",
        hint: "a buyer's disputes over 30 days, at most this share of its purchases",
        unit: Unit::Percent,
        min: 0,
        max: 10_000,
        get: |s| s.return_cap_bp,
        set: |s, v| s.return_cap_bp = v,
    },
    Field {
        name: "dispute_answer_days",
        label: "Dispute answer time",
        hint: "working days the agency has to answer before finance decides",
        unit: Unit::Days,
        min: 1,
        max: 30,
        get: |s| s.dispute_answer_days,
        set: |s, v| s.dispute_answer_days = v,
    },
    Field {
        name: "commission_bp",
        label: "Platform commission",
        hint: "the platform's share of each sale",
        unit: Unit::Percent,
        min: 0,
        max: 9_900,
        get: |s| s.commission_bp,
        set: |s, v| s.commission_bp = v,
    },
    Field {
        name: "dedup_days",
        label: "Duplicate window",
        hint: "a lead whose phone or email was captured this many days ago or less is a duplicate (0: only within a batch)",
        unit: Unit::Days,
        min: 0,
        max: 730,
        get: |s| s.dedup_days,
        set: |s, v| s.dedup_days = v,
    },
    Field {
        name: "quality_suspend_bp",
        label: "Quality threshold",
        hint: "approved disputes per sale over 30 days above this suspend an agency's listings",
        unit: Unit::Percent,
        min: 0,
        max: 10_000,
        get: |s| s.quality_suspend_bp,
        set: |s, v| s.quality_suspend_bp = v,
    },
    Field {
        name: "quality_min_sales",
        label: "Quality minimum sales",
        hint: "sales in 30 days before an agency's dispute rate counts",
        unit: Unit::Count,
        min: 0,
        max: 1_000_000,
        get: |s| s.quality_min_sales,
        set: |s, v| s.quality_min_sales = v,
    },
    Field {
        name: "invoice_due_days",
        label: "Invoice due",
        hint: "days after issue an invoice is due",
        unit: Unit::Days,
        min: 0,
        max: 365,
        get: |s| s.invoice_due_days,
        set: |s, v| s.invoice_due_days = v,
    },
    Field {
        name: "tax_rate_bp",
        label: "Tax rate",
        hint: "tax added to invoices issued from now on",
        unit: Unit::Percent,
        min: 0,
        max: 10_000,
        get: |s| s.tax_rate_bp,
        set: |s, v| s.tax_rate_bp = v,
    },
];

/// A field and what is wrong with what was typed in it.
pub type Problem = (&'static str, String);

impl PlatformSettings {
    /// The whole set from a submitted form, or every problem. A field left out of the form
    /// keeps its value in `self`; an empty one is a problem, so nothing is lost silently.
    pub fn parse_form(&self, form: &[(String, String)]) -> Result<PlatformSettings, Vec<Problem>> {
        let mut next = *self;
        let mut problems = Vec::new();
        for f in FIELDS {
            let Some((_, raw)) = form.iter().find(|(k, _)| k == f.name) else {
                continue;
            };
            match f.parse(raw) {
                Ok(v) => (f.set)(&mut next, v),
                Err(p) => problems.push((f.name, p)),
            }
        }
        if problems.is_empty() {
            Ok(next)
        } else {
            Err(problems)
        }
    }

    /// The fields that differ, as `name: before -> after` (stored units), for the audit log;
    /// empty when nothing changed.
    pub fn changes(&self, after: &PlatformSettings) -> Vec<String> {
        FIELDS
            .iter()
            .filter(|f| f.value(self) != f.value(after))
            .map(|f| format!("{}: {} -> {}", f.name, f.value(self), f.value(after)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> PlatformSettings {
        PlatformSettings {
            return_window_days: 7,
            return_cap_bp: 2000,
            dispute_answer_days: 3,
            commission_bp: 2000,
            dedup_days: 30,
            quality_suspend_bp: 1500,
            quality_min_sales: 20,
            invoice_due_days: 14,
            tax_rate_bp: 0,
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn percentages_are_typed_with_up_to_two_decimals_and_kept_in_basis_points() {
        assert_eq!(parse_percent("20"), Some(2000));
        assert_eq!(parse_percent("12.5"), Some(1250));
        assert_eq!(parse_percent("0.05"), Some(5));
        assert_eq!(parse_percent("19%"), Some(1900));
        assert_eq!(parse_percent("1.234"), None);
        assert_eq!(parse_percent("-1"), None);
        assert_eq!(parse_percent(""), None);
        assert_eq!(parse_percent("abc"), None);
        let tax = FIELDS.iter().find(|f| f.name == "tax_rate_bp").unwrap();
        assert_eq!(tax.display(1250), "12.5");
        assert_eq!(tax.display(1905), "19.05");
        assert_eq!(tax.display(2000), "20");
    }

    #[test]
    fn a_valid_form_changes_only_what_it_names() {
        let next = base()
            .parse_form(&form(&[
                ("return_window_days", "10"),
                ("tax_rate_bp", "19"),
            ]))
            .unwrap();
        assert_eq!(next.return_window_days, 10);
        assert_eq!(next.tax_rate_bp, 1900);
        assert_eq!(next.commission_bp, 2000);
        assert_eq!(
            base().changes(&next),
            ["return_window_days: 7 -> 10", "tax_rate_bp: 0 -> 1900"]
        );
        assert!(next.changes(&next).is_empty());
    }

    #[test]
    fn every_bad_field_is_named_with_its_range() {
        let problems = base()
            .parse_form(&form(&[
                ("return_window_days", "0"),
                ("commission_bp", "100"),
                ("dedup_days", ""),
                ("quality_min_sales", "ten"),
            ]))
            .unwrap_err();
        let names: Vec<&str> = problems.iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            [
                "return_window_days",
                "commission_bp",
                "dedup_days",
                "quality_min_sales"
            ]
        );
        assert_eq!(
            problems[0].1,
            "Return window must be between 1 days and 90 days"
        );
        assert_eq!(
            problems[1].1,
            "Platform commission must be between 0% and 99%"
        );
    }

    #[test]
    fn each_field_changes_its_own_setting_and_no_other() {
        for f in FIELDS {
            let mut s = base();
            (f.set)(&mut s, f.max);
            assert_eq!(f.value(&s), f.max, "{}", f.name);
            let changes = base().changes(&s);
            assert_eq!(changes.len(), 1, "{}: {changes:?}", f.name);
            assert!(changes[0].starts_with(f.name), "{}", changes[0]);
        }
    }
}
