//! Pseudo-lead checks (domain.md: typos, bots, hired form-fillers, competitors, pranks).
//! Each rule has a reason code. Hard signals reject the row; soft ones are kept as flags
//! that lower the score and that buyers see (never the contact data behind them).

use std::collections::HashSet;
use std::sync::OnceLock;

use super::row::ValidLead;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Hard,
    Soft,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub code: &'static str,
    pub severity: Severity,
    pub message: &'static str,
}

const fn hard(code: &'static str, message: &'static str) -> Signal {
    Signal {
        code,
        severity: Severity::Hard,
        message,
    }
}

const fn soft(code: &'static str, message: &'static str) -> Signal {
    Signal {
        code,
        severity: Severity::Soft,
        message,
    }
}

pub const HONEYPOT: Signal = hard(
    "honeypot",
    "the hidden honeypot field was filled in, as bots do",
);
pub const TOO_FAST: Signal = hard("too_fast", "the form was filled faster than a person can");
pub const FAST_FORM: Signal = soft("fast_form", "the form was filled unusually fast");
pub const DISPOSABLE_EMAIL: Signal = hard(
    "disposable_email",
    "the email is at a disposable-address domain",
);
pub const FAKE_PHONE: Signal = hard(
    "fake_phone_pattern",
    "the phone is a repeated or sequential digit pattern",
);
pub const FICTION_PHONE: Signal = hard(
    "fiction_phone",
    "the phone is in a range reserved for films and drama",
);
pub const TEST_NAME: Signal = hard("test_name", "the name is a test or keyboard pattern");
pub const SHARED_PHONE: Signal = soft(
    "shared_phone",
    "the same phone was given under another name in the batch",
);
pub const IP_BURST: Signal = soft(
    "ip_burst",
    "many leads came from one IP address within minutes",
);

/// Thresholds, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Below this many seconds on the form: a bot (hard).
    pub bot_seconds: i32,
    /// Below this: suspiciously fast (soft).
    pub fast_seconds: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            bot_seconds: 2,
            fast_seconds: 5,
        }
    }
}

fn disposable_domains() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| mailchecker::blacklist().into_iter().collect())
}

/// True when the domain, or any parent domain of it, is on the disposable list.
pub fn is_disposable_email(email: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    let set = disposable_domains();
    let mut d = domain.as_str();
    loop {
        if set.contains(d) {
            return true;
        }
        match d.split_once('.') {
            Some((_, parent)) if parent.contains('.') => d = parent,
            _ => return false,
        }
    }
}

/// Number ranges reserved for fiction, by E.164 prefix: Ofcom's drama numbers (UK) and
/// ACMA's (Australia). The NANP's 555-0100..0199 are checked in `is_fiction_phone`,
/// since the phone metadata counts them as valid numbers.
const FICTION_PREFIXES: &[&str] = &[
    "+447700900",
    "+441134960",
    "+441144960",
    "+441154960",
    "+441164960",
    "+441174960",
    "+441184960",
    "+441214960",
    "+441314960",
    "+441414960",
    "+441514960",
    "+441614960",
    "+442079460",
    "+441914980",
    "+442890180",
    "+442920180",
    "+441632960",
    "+443069990",
    "+448081570",
    "+449098790",
    "+61491570",
    "+61255501",
    "+61355501",
    "+61755501",
    "+61855501",
];

pub fn is_fiction_phone(e164: &str) -> bool {
    let nanp_fiction =
        e164.len() == 12 && e164.starts_with("+1") && e164.get(5..10) == Some("55501");
    nanp_fiction || FICTION_PREFIXES.iter().any(|p| e164.starts_with(p))
}

/// Seven or more equal digits in a row, or an ascending or descending run of seven.
pub fn is_fake_phone_pattern(e164: &str) -> bool {
    let digits: Vec<u8> = e164.bytes().filter(u8::is_ascii_digit).collect();
    // Skip the country code's digits by looking at the last nine.
    let tail = &digits[digits.len().saturating_sub(9)..];
    let (mut same, mut up, mut down) = (1, 1, 1);
    for w in tail.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        up = if w[1] == w[0] + 1 { up + 1 } else { 1 };
        down = if w[0] == w[1] + 1 { down + 1 } else { 1 };
        if same >= 7 || up >= 7 || down >= 7 {
            return true;
        }
    }
    false
}

const TEST_WORDS: &[&str] = &[
    "test", "tester", "testing", "asdf", "qwerty", "qwertz", "azerty", "foo", "bar", "foobar",
    "lorem", "ipsum", "dummy", "fake", "sample", "example", "null", "none", "nobody", "noname",
    "xxx", "abc", "john doe", "jane doe",
];
const KEYBOARD_ROWS: &[&str] = &["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"];

pub fn is_test_name(name: &str) -> bool {
    let n = name.trim().to_lowercase();
    if n.is_empty() {
        return false;
    }
    if TEST_WORDS.contains(&n.as_str()) {
        return true;
    }
    let letters: String = n.chars().filter(|c| c.is_alphanumeric()).collect();
    if letters.chars().count() >= 3 && letters.chars().all(|c| letters.starts_with(c)) {
        return true;
    }
    letters.len() >= 4 && KEYBOARD_ROWS.iter().any(|row| row.contains(&letters))
}

/// The checks that need only the row itself.
pub fn check(lead: &ValidLead, t: Thresholds) -> Vec<Signal> {
    let mut out = Vec::new();
    if lead.honeypot_filled {
        out.push(HONEYPOT);
    }
    match lead.form_seconds {
        Some(s) if s < t.bot_seconds => out.push(TOO_FAST),
        Some(s) if s < t.fast_seconds => out.push(FAST_FORM),
        _ => {}
    }
    if lead.email.as_deref().is_some_and(is_disposable_email) {
        out.push(DISPOSABLE_EMAIL);
    }
    if let Some(phone) = &lead.phone {
        if is_fiction_phone(phone) {
            out.push(FICTION_PHONE);
        } else if is_fake_phone_pattern(phone) {
            out.push(FAKE_PHONE);
        }
    }
    let full_name = format!(
        "{} {}",
        lead.first_name.as_deref().unwrap_or(""),
        lead.last_name.as_deref().unwrap_or("")
    );
    if [
        lead.first_name.as_deref(),
        lead.last_name.as_deref(),
        Some(full_name.as_str()),
    ]
    .into_iter()
    .flatten()
    .any(is_test_name)
    {
        out.push(TEST_NAME);
    }
    out
}

/// Soft signal codes as stored on a lead (`flags`, comma-separated).
pub fn flags_text(signals: &[Signal]) -> String {
    let mut codes: Vec<&str> = signals
        .iter()
        .filter(|s| s.severity == Severity::Soft)
        .map(|s| s.code)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposable_domains_and_their_subdomains_are_caught() {
        assert!(is_disposable_email("x@mailinator.com"));
        assert!(is_disposable_email("x@eu.mailinator.com"));
        assert!(!is_disposable_email("ann@example.com"));
        assert!(!is_disposable_email("ann@gmail.com"));
        assert!(!is_disposable_email("no-at-sign"));
    }

    #[test]
    fn phone_patterns_and_fiction_ranges_are_caught() {
        assert!(is_fake_phone_pattern("+447777777777"));
        assert!(is_fake_phone_pattern("+441234567890"));
        assert!(is_fake_phone_pattern("+33698765432"));
        assert!(!is_fake_phone_pattern("+447911123456"));
        assert!(is_fiction_phone("+447700900123"));
        assert!(is_fiction_phone("+61491570156"));
        assert!(is_fiction_phone("+12125550123"));
        assert!(!is_fiction_phone("+12125550200"));
        assert!(!is_fiction_phone("+447911123456"));
    }

    #[test]
    fn test_names_and_keyboard_rows_are_caught() {
        for n in ["Test", "asdf", "QWERTY", "aaaa", "sdfg", "John Doe"] {
            assert!(is_test_name(n), "{n}");
        }
        for n in ["Ann", "Bob", "Li", "Asdrubal", "Zoë"] {
            assert!(!is_test_name(n), "{n}");
        }
    }

    #[test]
    fn only_soft_signals_become_flags() {
        assert_eq!(
            flags_text(&[FAST_FORM, HONEYPOT, IP_BURST, FAST_FORM]),
            "fast_form,ip_burst"
        );
        assert_eq!(flags_text(&[]), "");
    }
}
