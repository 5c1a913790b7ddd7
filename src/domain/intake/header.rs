//! The CSV header: known columns (case-insensitive), unknown ones reported, required ones
//! checked before any row is read.

use std::collections::HashMap;

macro_rules! columns {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Column { $($variant),+ }

        impl Column {
            pub const ALL: &'static [Column] = &[$(Column::$variant),+];
            pub fn name(self) -> &'static str {
                match self { $(Column::$variant => $name),+ }
            }
            pub fn from_header(raw: &str) -> Option<Column> {
                match raw.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().as_str() {
                    $($name => Some(Column::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

columns! {
    FirstName => "first_name",
    LastName => "last_name",
    Email => "email",
    Phone => "phone",
    Age => "age",
    BirthDate => "birth_date",
    AnnualIncome => "annual_income",
    Country => "country",
    Region => "region",
    City => "city",
    PostalCode => "postal_code",
    Street => "street",
    Segment => "segment",
    Channel => "channel",
    Warmth => "warmth",
    ContactType => "contact_type",
    ConsentAt => "consent_at",
    ConsentText => "consent_text",
    CapturedAt => "captured_at",
    Verified => "verified",
    Ip => "ip",
    FormSeconds => "form_seconds",
    Honeypot => "honeypot",
    Comment => "comment",
    PreferredCallTime => "preferred_call_time",
}

/// What the batch itself supplies, so the file may leave those columns out.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchSupplies {
    pub segment: bool,
    pub channel: bool,
    pub consent_text: bool,
}

#[derive(Debug, Clone)]
pub struct Header {
    /// The header names as uploaded, for the rejects file.
    pub names: Vec<String>,
    /// Columns not in the contract; ignored and reported.
    pub unknown: Vec<String>,
    index: HashMap<Column, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("required columns are missing: {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("columns appear more than once: {}", .0.join(", "))]
    Duplicate(Vec<String>),
    /// The names are stored with the batch (tab-separated) and PostgreSQL refuses NUL.
    #[error("the name of column {column} {problem}")]
    ControlCharacter { column: usize, problem: String },
}

impl Header {
    pub fn parse(names: Vec<String>, batch: BatchSupplies) -> Result<Self, HeaderError> {
        let mut index = HashMap::new();
        let mut unknown = Vec::new();
        let mut duplicate = Vec::new();
        for (i, raw) in names.iter().enumerate() {
            if let Some(c) = crate::domain::text::refused_character(
                raw.trim(),
                crate::domain::text::TextKind::Line,
            ) {
                return Err(HeaderError::ControlCharacter {
                    column: i + 1,
                    problem: crate::domain::text::problem(c),
                });
            }
            match Column::from_header(raw) {
                Some(col) => {
                    if index.insert(col, i).is_some() {
                        duplicate.push(col.name().to_string());
                    }
                }
                None if raw.trim().is_empty() => {}
                None => unknown.push(raw.trim().to_string()),
            }
        }
        if !duplicate.is_empty() {
            return Err(HeaderError::Duplicate(duplicate));
        }
        let has = |c: Column| index.contains_key(&c);
        let mut missing = Vec::new();
        if !has(Column::Email) && !has(Column::Phone) {
            missing.push("email or phone".to_string());
        }
        if !has(Column::Age) && !has(Column::BirthDate) {
            missing.push("age or birth_date".to_string());
        }
        for col in [
            Column::Country,
            Column::Warmth,
            Column::ContactType,
            Column::ConsentAt,
            Column::CapturedAt,
        ] {
            if !has(col) {
                missing.push(col.name().to_string());
            }
        }
        for (col, supplied) in [
            (Column::Segment, batch.segment),
            (Column::Channel, batch.channel),
            (Column::ConsentText, batch.consent_text),
        ] {
            if !has(col) && !supplied {
                missing.push(format!("{} (or the batch's {})", col.name(), col.name()));
            }
        }
        if !missing.is_empty() {
            return Err(HeaderError::Missing(missing));
        }
        Ok(Self {
            names,
            unknown,
            index,
        })
    }

    /// The trimmed cell of `col` in this row; `None` when the column is absent or empty.
    pub fn get<'r>(&self, row: &[&'r str], col: Column) -> Option<&'r str> {
        let i = *self.index.get(&col)?;
        row.get(i).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn a_control_character_in_a_column_name_refuses_the_header() {
        let err =
            Header::parse(names(&format!("{FULL},no\0te")), BatchSupplies::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the name of column 14 contains a control character (U+0000)"
        );
    }

    const FULL: &str = "First_Name,LAST_NAME,email,phone,age,country,warmth,contact_type,consent_at,captured_at,segment,channel,consent_text";

    #[test]
    fn header_names_are_case_insensitive_and_unknown_ones_reported() {
        let h = Header::parse(
            names(&format!("{FULL},Shoe Size,")),
            BatchSupplies::default(),
        )
        .unwrap();
        assert_eq!(h.unknown, vec!["Shoe Size"]);
        let row = [
            "Ann",
            "Lee",
            " ann@example.com ",
            "",
            "30",
            "GB",
            "hot",
            "quick",
            "x",
            "y",
            "insurance",
            "sms",
            "ok",
            "44",
            "",
        ];
        assert_eq!(h.get(&row, Column::FirstName), Some("Ann"));
        assert_eq!(h.get(&row, Column::Email), Some("ann@example.com"));
        assert_eq!(h.get(&row, Column::Phone), None, "empty cells are absent");
        assert_eq!(h.get(&row, Column::Street), None, "absent column");
    }

    #[test]
    fn missing_required_columns_are_all_listed() {
        let err =
            Header::parse(names("first_name,last_name,foo"), BatchSupplies::default()).unwrap_err();
        let HeaderError::Missing(missing) = err else {
            panic!()
        };
        assert!(missing.contains(&"email or phone".to_string()));
        assert!(missing.contains(&"age or birth_date".to_string()));
        assert!(missing.contains(&"country".to_string()));
        assert!(missing.iter().any(|m| m.starts_with("segment")));
        assert_eq!(missing.len(), 10, "{missing:?}");
    }

    #[test]
    fn the_batch_can_supply_segment_channel_and_consent_text() {
        let supplies = BatchSupplies {
            segment: true,
            channel: true,
            consent_text: true,
        };
        assert!(
            Header::parse(
                names("phone,birth_date,country,warmth,contact_type,consent_at,captured_at"),
                supplies
            )
            .is_ok()
        );
    }

    #[test]
    fn duplicate_columns_are_refused() {
        let err =
            Header::parse(names(&format!("{FULL},Email")), BatchSupplies::default()).unwrap_err();
        assert_eq!(err, HeaderError::Duplicate(vec!["email".into()]));
    }
}
