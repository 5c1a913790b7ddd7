//! Which characters user text may hold. PostgreSQL's `TEXT` refuses NUL outright (SQLite
//! stores it), and the other control characters are never meant in a name, a filter or a
//! comment, so every edge (JSON bodies, forms, multipart fields, query strings, paths, CSV
//! rows) refuses them with this one rule before anything reaches the database.

/// The stable reason code for a refused character (API details, intake row reasons).
pub const CONTROL_CHARACTER: &str = "control_character";

/// Where the text goes decides whether line breaks and tabs belong in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Names, emails, phones, ids, filters, keys: no control character at all.
    Line,
    /// Comments, consent texts, addresses, form values: `\t`, `\n` and `\r` are allowed.
    Free,
}

/// The first character of `s` that text of this kind may not hold: any Unicode control
/// character (C0, DEL, C1; NUL above all), except tab and line breaks in free text.
pub fn refused_character(s: &str, kind: TextKind) -> Option<char> {
    s.chars()
        .find(|&c| c.is_control() && !(kind == TextKind::Free && matches!(c, '\t' | '\n' | '\r')))
}

/// The problem text shown next to the field, e.g. "contains a control character (U+0000)".
pub fn problem(c: char) -> String {
    format!("contains a control character (U+{:04X})", c as u32)
}

/// A field name safe to echo back: refused characters shown as U+FFFD.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// The first refused character in a JSON document, with the path of the value or key
/// holding it (`batch.consent_text`, `phones[2]`; `body` for the top level). Keys are
/// `Line` text, string values `Free` text.
pub fn json_refused(value: &serde_json::Value) -> Option<(String, char)> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<(String, char)> {
        let at = |p: &str| {
            if p.is_empty() {
                "body".to_string()
            } else {
                p.to_string()
            }
        };
        match v {
            serde_json::Value::String(s) => {
                refused_character(s, TextKind::Free).map(|c| (at(path), c))
            }
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{}[{i}]", at(path)))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
                let child = if path.is_empty() {
                    printable(k)
                } else {
                    format!("{path}.{}", printable(k))
                };
                if let Some(c) = refused_character(k, TextKind::Line) {
                    return Some((child, c));
                }
                walk(item, &child)
            }),
            _ => None,
        }
    }
    walk(value, "")
}

/// The first refused character in decoded name/value pairs (a query string or a form),
/// with the name of the field holding it. Names are `Line` text; values are `kind`.
pub fn pairs_refused<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    kind: TextKind,
) -> Option<(String, char)> {
    pairs.into_iter().find_map(|(k, v)| {
        refused_character(k, TextKind::Line)
            .or_else(|| refused_character(v, kind))
            .map(|c| (printable(k), c))
    })
}

/// Whether a percent-encoded URL path decodes to a refused character (`/batches/%00`).
/// Undecodable escapes are left as they are: routing decides what they mean.
pub fn path_has_refused(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            decoded.push((h * 16 + l) as u8);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    refused_character(&String::from_utf8_lossy(&decoded), TextKind::Line).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_other_controls_are_refused_everywhere() {
        for kind in [TextKind::Line, TextKind::Free] {
            assert_eq!(refused_character("Ber\0lin", kind), Some('\0'));
            assert_eq!(refused_character("a\u{1b}[31m", kind), Some('\u{1b}'));
            assert_eq!(refused_character("del\u{7f}", kind), Some('\u{7f}'));
            assert_eq!(refused_character("c1\u{85}", kind), Some('\u{85}'));
            assert_eq!(refused_character("Zoë Müller-Łukasz 東京 🙂", kind), None);
        }
    }

    #[test]
    fn tabs_and_line_breaks_are_allowed_in_free_text_only() {
        assert_eq!(refused_character("one\r\ntwo\tthree", TextKind::Free), None);
        assert_eq!(refused_character("Anna\tLena", TextKind::Line), Some('\t'));
        assert_eq!(refused_character("Anna\nLena", TextKind::Line), Some('\n'));
        // Other Unicode "format" characters (BOM, zero-width joiner) are not controls.
        assert_eq!(
            refused_character("\u{feff}a\u{200d}b", TextKind::Line),
            None
        );
    }

    #[test]
    fn problems_name_the_code_point() {
        assert_eq!(problem('\0'), "contains a control character (U+0000)");
    }

    #[test]
    fn json_paths_name_the_value_or_key() {
        let v = serde_json::json!({
            "batch": {"segment": "insurance", "consent_text": "I agree\n"},
            "phones": ["+491", "+49\u{0}2"],
        });
        assert_eq!(json_refused(&v), Some(("phones[1]".into(), '\0')));
        let v = serde_json::json!({"batch": {"consent_text": "ok\u{0}"}});
        assert_eq!(json_refused(&v), Some(("batch.consent_text".into(), '\0')));
        let v = serde_json::json!({"na\u{0}me": "x"});
        assert_eq!(json_refused(&v), Some(("na\u{fffd}me".into(), '\0')));
        assert_eq!(
            json_refused(&serde_json::json!("a\u{0}")),
            Some(("body".into(), '\0'))
        );
        assert_eq!(
            json_refused(&serde_json::json!([1, "x", {"a": null}])),
            None
        );
    }

    #[test]
    fn pairs_name_the_field() {
        let pairs = [("city", "Ber\0lin"), ("segment", "insurance")];
        assert_eq!(
            pairs_refused(pairs, TextKind::Line),
            Some(("city".into(), '\0'))
        );
        assert_eq!(pairs_refused([("comment", "a\nb")], TextKind::Free), None);
        assert!(pairs_refused([("comment", "a\nb")], TextKind::Line).is_some());
    }

    #[test]
    fn paths_are_checked_decoded() {
        assert!(path_has_refused("/api/v1/batches/abc%00"));
        assert!(path_has_refused("/batches/%0a"));
        assert!(path_has_refused("/x/%C2%85"));
        assert!(!path_has_refused("/batches/0190-ab%20cd"));
        assert!(!path_has_refused("/odd/%zz%"));
    }
}
