//! Rule 0 of docs/architecture.md, checked on the source: imports run one way
//! (`web`/`jobs` -> `services` -> `store` -> `db`, everyone may use `domain`, `domain` uses
//! nothing else of the crate). Reviews missed these before; a test does not.
//!
//! The check reads `src/` as text: it strips comments and literals, then resolves every
//! `crate::`, `$crate::` and leading `super::` path to the top-level module it names.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What one layer may not reach. `only` (when set) lists the crate modules it may name at
/// all; `forbidden` the crate modules it may not (a top-level module like `web`, or a
/// module inside one like `web::api`, and everything below it); `crates` the external
/// crates it may not.
struct Rule {
    /// A directory (`domain/`, `web/pages/`) or a file (`error.rs`) under `src/`.
    scope: &'static str,
    only: Option<&'static [&'static str]>,
    forbidden: &'static [&'static str],
    crates: &'static [&'static str],
    why: &'static str,
}

const ABOVE_SERVICES: &[&str] = &["web", "jobs", "app", "cli", "demo", "bench"];

const RULES: &[Rule] = &[
    Rule {
        scope: "domain/",
        only: Some(&["domain"]),
        forbidden: &[],
        crates: &["actix_web", "actix_http", "askama", "lettre", "diesel"],
        why: "domain is pure: it uses nothing else of the crate",
    },
    Rule {
        scope: "db/",
        only: None,
        forbidden: &[
            "store", "services", "web", "jobs", "mail", "payments", "app", "cli", "demo", "bench",
        ],
        crates: &["actix_web", "actix_http", "askama", "lettre"],
        why: "db is the bottom layer",
    },
    Rule {
        scope: "store/",
        only: None,
        forbidden: &[
            "services", "web", "jobs", "mail", "payments", "app", "cli", "demo", "bench",
        ],
        crates: &["actix_web", "actix_http", "askama", "lettre"],
        why: "store knows no HTTP, no mail and nothing above it",
    },
    Rule {
        scope: "services/",
        only: None,
        forbidden: ABOVE_SERVICES,
        crates: &[],
        why: "services sit below web and jobs",
    },
    Rule {
        scope: "config.rs",
        only: None,
        forbidden: &["services", "store", "web", "jobs", "mail", "app", "cli"],
        crates: &[],
        why: "config is read by every layer, so it depends on none above db",
    },
    Rule {
        scope: "error.rs",
        only: None,
        forbidden: &[
            "store", "services", "web", "jobs", "mail", "payments", "app", "cli", "demo", "bench",
        ],
        crates: &["askama"],
        why: "every layer returns AppError; pages render it in web, not here",
    },
    Rule {
        scope: "web/pages/",
        only: None,
        forbidden: &["web::api"],
        crates: &[],
        why: "pages have their own views; they never borrow the API's",
    },
    Rule {
        scope: "web/api/",
        only: None,
        forbidden: &["web::pages"],
        crates: &[],
        why: "the API has its own views; it never borrows the pages'",
    },
];

/// Whether `path` (`web::api::market`) is `module` (`web::api`) or inside it.
fn is_within(path: &[String], module: &str) -> bool {
    let module: Vec<&str> = module.split("::").collect();
    path.len() >= module.len() && path.iter().zip(&module).all(|(a, b)| a == b)
}

#[test]
fn every_import_runs_downwards_through_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 20,
        "found only {} files under {src:?}",
        files.len()
    );

    let mut offences = String::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(file).unwrap();
        let code = strip_comments_and_literals(&text);
        let tokens = tokenize(&code);

        // Rule 5: what differs per backend lives in db/, nowhere else.
        if !rel.starts_with("db/") {
            for (i, t) in tokens.iter().enumerate() {
                if t.text == "AnyConnection"
                    && tokens.get(i + 1).is_some_and(|t| t.text == "::")
                    && tokens
                        .get(i + 2)
                        .is_some_and(|t| t.text == "Postgresql" || t.text == "Sqlite")
                {
                    let _ = writeln!(
                        offences,
                        "src/{rel}:{}: matches on AnyConnection::{} (backend-specific code belongs in src/db/)",
                        t.line,
                        tokens[i + 2].text
                    );
                }
            }
        }

        let Some(rule) = RULES.iter().find(|r| {
            if r.scope.ends_with('/') {
                rel.starts_with(r.scope)
            } else {
                rel == r.scope
            }
        }) else {
            continue;
        };
        for (line, path) in crate_paths(&module_path(&rel), &tokens) {
            let bad = match rule.only {
                Some(only) => !only.contains(&path[0].as_str()),
                None => rule.forbidden.iter().any(|m| is_within(&path, m)),
            };
            if bad {
                let _ = writeln!(
                    offences,
                    "src/{rel}:{line}: uses crate::{} ({})",
                    path.join("::"),
                    rule.why
                );
            }
        }
        for (i, t) in tokens.iter().enumerate() {
            let starts_path = i == 0 || tokens[i - 1].text != "::";
            if starts_path
                && rule.crates.contains(&t.text.as_str())
                && tokens.get(i + 1).is_some_and(|n| n.text == "::")
            {
                let _ = writeln!(
                    offences,
                    "src/{rel}:{}: uses the {} crate ({})",
                    t.line, t.text, rule.why
                );
            }
        }
    }
    assert!(
        offences.is_empty(),
        "imports that run upwards (docs/architecture.md, rule 0):\n{offences}"
    );
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `domain/intake/row.rs` -> [domain, intake, row]; `domain/mod.rs` -> [domain].
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

#[derive(Debug)]
struct Token {
    text: String,
    line: usize,
}

/// Identifiers, `::` and single punctuation characters, with their line numbers.
fn tokenize(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token {
                text: chars[start..i].iter().collect(),
                line,
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    tokens
}

/// Every crate path named in this file, resolved from the crate root, with its line:
/// `crate::x::y`, `$crate::x`, `crate::{x, y::{z, w}}`, and `super::...::x` chains.
fn crate_paths(file_module: &[String], tokens: &[Token]) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    // Inline `mod name { ... }` blocks deepen the module path; each entry is the brace
    // depth inside that block and the block's name.
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let next = |k: usize| tokens.get(i + k).map(|t| t.text.as_str());
        match t.text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                while inline.last().is_some_and(|(d, _)| *d > depth) {
                    inline.pop();
                }
            }
            "mod" if next(2) == Some("{") => {
                inline.push((depth + 1, next(1).unwrap_or_default().to_string()));
            }
            "crate" if next(1) == Some("::") && (i == 0 || tokens[i - 1].text != "::") => {
                found.extend(paths_after(tokens, i + 2, &[]));
            }
            "super" if next(1) == Some("::") && (i == 0 || tokens[i - 1].text != "::") => {
                let mut n = 0;
                let mut j = i;
                while tokens.get(j).is_some_and(|t| t.text == "super")
                    && tokens.get(j + 1).is_some_and(|t| t.text == "::")
                {
                    n += 1;
                    j += 2;
                }
                // Climbing past the crate root is refused by rustc anyway.
                let here: Vec<String> = file_module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(_, name)| name.clone()))
                    .collect();
                found.extend(paths_after(
                    tokens,
                    j,
                    &here[..here.len().saturating_sub(n)],
                ));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The paths starting at `tokens[at]`, each after `prefix`: `a::b`, or each item of a
/// `{...}` group (`a::{b, c::d}` gives `a::b` and `a::c::d`), `self` naming the group's module.
fn paths_after(tokens: &[Token], at: usize, prefix: &[String]) -> Vec<(usize, Vec<String>)> {
    let mut path = prefix.to_vec();
    let mut i = at;
    loop {
        let Some(t) = tokens.get(i) else {
            return finished(path, tokens.get(at).map_or(0, |t| t.line));
        };
        if t.text == "{" {
            return group(tokens, i, &path);
        }
        if !is_ident_token(&t.text) && t.text != "*" {
            return finished(path, t.line);
        }
        path.push(t.text.clone());
        if tokens.get(i + 1).is_some_and(|n| n.text == "::") {
            i += 2;
        } else {
            return finished(path, t.line);
        }
    }
}

/// An empty path (e.g. `super::` at the end of a file) names nothing.
fn finished(path: Vec<String>, line: usize) -> Vec<(usize, Vec<String>)> {
    if path.is_empty() {
        Vec::new()
    } else {
        vec![(line, path)]
    }
}

/// Each item of the `{...}` group at `tokens[open]`, after `prefix`.
fn group(tokens: &[Token], open: usize, prefix: &[String]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t.text.as_str() {
            "{" => {
                depth += 1;
                if depth == 1 {
                    expect_item = true;
                }
            }
            "}" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => expect_item = true,
            "self" if depth == 1 && expect_item => {
                out.extend(finished(prefix.to_vec(), t.line));
                expect_item = false;
            }
            _ if depth == 1 && expect_item => {
                out.extend(paths_after(tokens, k, prefix));
                expect_item = false;
            }
            _ => {}
        }
    }
    out
}

fn is_ident_token(text: &str) -> bool {
    text.chars().all(is_ident)
}

/// Blanks comments, string/char literals (raw strings included) and lifetimes' quotes,
/// keeping newlines so line numbers still match.
fn strip_comments_and_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        for &ch in s {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    };
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|&x| x == '\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let (mut j, mut nest) = (2, 1);
            while j < rest.len() && nest > 0 {
                if rest[j..].starts_with(&['/', '*']) {
                    nest += 1;
                    j += 2;
                } else if rest[j..].starts_with(&['*', '/']) {
                    nest -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string_len(rest, i == 0 || !is_ident(c[i - 1])) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == '"' || (rest[0] == 'b' && rest.get(1) == Some(&'"')) {
            let mut j = if rest[0] == 'b' { 2 } else { 1 };
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == '\'' {
            // A char literal ('x', '\n', '\u{7f}', '{') or a lifetime ('a): blank the literal.
            let len = if rest.get(1) == Some(&'\\') {
                rest[2..].iter().position(|&x| x == '\'').map(|p| p + 3)
            } else if rest.get(2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            let len = len.unwrap_or(1);
            blank(&mut out, &rest[..len]);
            i += len;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Length of `r"..."`, `r#"..."#` or `br#"..."#` at the start of `s`, if one starts there.
fn raw_string_len(s: &[char], at_token_start: bool) -> Option<usize> {
    if !at_token_start {
        return None;
    }
    let mut j = match s {
        ['b', 'r', ..] => 2,
        ['r', ..] => 1,
        _ => return None,
    };
    let mut hashes = 0;
    while s.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if s.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < s.len() {
        if s[j] == '"'
            && s[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&h| h == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(s.len())
}
