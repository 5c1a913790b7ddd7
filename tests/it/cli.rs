//! The `leadmarket` command's account commands and exit codes.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::helpers::{JWT_SECRET, SECRET_KEY, TestApp};
use crate::on_both_backends;

on_both_backends!(org_user_and_apikey_commands_work_and_bad_input_exits_2);
on_both_backends!(bench_intake_times_the_database_alone_on_the_same_leads);

fn run(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadmarket"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("SECRET_KEY", SECRET_KEY)
        .env("JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

async fn org_user_and_apikey_commands_work_and_bad_input_exits_2(app: &TestApp) {
    let out = run(
        app,
        &[
            "org",
            "create",
            "--kind",
            "agency",
            "--name",
            "Acme Leads Ltd",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "acme-leads-ltd");

    let out = run(
        app,
        &[
            "user",
            "create",
            "--org",
            "acme-leads-ltd",
            "--email",
            "Ops@Acme.example.com",
            "--role",
            "agency",
            "--password-stdin",
        ],
        "a-good-long-password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = app.browser();
    let resp = b
        .login_attempt("ops@acme.example.com", "a-good-long-password")
        .await;
    assert_eq!(resp.status(), 303, "the CLI-created user can sign in");

    let out = run(
        app,
        &[
            "apikey",
            "create",
            "--org",
            "acme-leads-ltd",
            "--name",
            "CRM",
        ],
        "",
    );
    assert!(out.status.success());
    let key = stdout(&out);
    assert!(key.starts_with("lmk_"));
    let _ = app.token(&key).await;

    let bad: [(&[&str], &str, &str); 6] = [
        (
            &[
                "user",
                "create",
                "--org",
                "acme-leads-ltd",
                "--email",
                "x@acme.example.com",
                "--role",
                "agency",
            ],
            "short\n",
            "at least 10",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "acme-leads-ltd",
                "--email",
                "y@acme.example.com",
                "--role",
                "buyer",
            ],
            "a-good-long-password\n",
            "belongs to a buyer organisation",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "nope",
                "--email",
                "z@acme.example.com",
                "--role",
                "agency",
            ],
            "a-good-long-password\n",
            "no organisation",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "acme-leads-ltd",
                "--email",
                "ops@acme.example.com",
                "--role",
                "agency",
            ],
            "a-good-long-password\n",
            "exists already",
        ),
        (
            &[
                "org",
                "create",
                "--kind",
                "agency",
                "--name",
                "Acme Leads Ltd",
            ],
            "",
            "exists already",
        ),
        (
            &["apikey", "create", "--org", "missing-org"],
            "",
            "no organisation",
        ),
    ];
    for (args, stdin, reason) in bad {
        let out = run(app, args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}

/// The number before `word` in `text`, e.g. `(1234 accepted`.
fn number_before(text: &str, word: &str) -> i64 {
    let at = text
        .find(word)
        .unwrap_or_else(|| panic!("no `{word}` in {text}"));
    text[..at]
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|s| !s.is_empty())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before `{word}` in {text}"))
}

async fn bench_intake_times_the_database_alone_on_the_same_leads(app: &TestApp) {
    // The bench makes (and drops) its own database beside the app's.
    let out = run(app, &["bench", "intake", "--rows", "3000", "--ceiling"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let accepted = number_before(&text, " accepted");
    assert!(accepted > 2000, "{text}");
    // Every accepted lead was copied back into the emptied table.
    assert_eq!(number_before(&text, " leads in"), accepted, "{text}");
    assert!(text.contains("leads/s"), "{text}");
}
