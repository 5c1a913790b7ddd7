//! CSV exports that are safe to open in a spreadsheet: a cell that a spreadsheet would
//! run as a formula is prefixed with `'`.

use std::borrow::Cow;

/// Neutralises cells starting with `=`, `+`, `-`, `@`, tab or carriage return. A phone
/// in E.164 (`+` and digits only) is kept as it is: a spreadsheet reads it as a number,
/// never runs it, and buyers dial what they copy.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('+') if is_e164_like(cell) => Cow::Borrowed(cell),
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// `+` followed by one or more ASCII digits and nothing else.
fn is_e164_like(cell: &str) -> bool {
    let digits = &cell[1..];
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for bad in ["=SUM(A1)", "+1+1", "-2+3", "@cmd", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("Ann"), "Ann");
        assert_eq!(neutralise(""), "");
        assert_eq!(neutralise("a=b"), "a=b");
    }

    #[test]
    fn a_phone_in_e164_is_kept_without_an_apostrophe() {
        assert_eq!(neutralise("+4915112345678"), "+4915112345678");
        assert!(matches!(neutralise("+4915112345678"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_plus_followed_by_anything_but_digits_is_still_neutralised() {
        for bad in ["+", "+1+2", "+49 151", "+1)", "+A1", "+1e3", "+٣", "+1\t"] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        assert_eq!(neutralise("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(neutralise("-49151"), "'-49151");
    }
}
