//! Organisation slugs: short, lower-case, URL- and CLI-safe names.

/// Derives a slug from a display name: ASCII letters and digits, words joined by `-`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    trimmed
        .chars()
        .take(48)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Checks a slug given explicitly.
pub fn parse_slug(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let ok = (2..=48).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "slug `{s}` must be 2-48 characters of a-z, 0-9 and inner dashes"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_from_names() {
        assert_eq!(slugify("Acme Leads GmbH"), "acme-leads-gmbh");
        assert_eq!(slugify("  Über -- Média & Co. "), "ber-m-dia-co");
        assert_eq!(slugify("!!!"), "");
        assert!(slugify(&"long name ".repeat(20)).len() <= 48);
    }

    #[test]
    fn explicit_slugs_are_checked() {
        assert_eq!(parse_slug("north-leads").unwrap(), "north-leads");
        assert!(parse_slug("North").is_err());
        assert!(parse_slug("-x").is_err());
        assert!(parse_slug("a").is_err());
    }
}
