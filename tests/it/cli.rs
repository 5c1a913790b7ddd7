//! The `leadmarket` command's account commands and exit codes.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::builders::LeadBuilder;
use crate::helpers::{JWT_SECRET, SECRET_KEY, TestApp};
use crate::on_both_backends;

on_both_backends!(org_user_and_apikey_commands_work_and_bad_input_exits_2);
on_both_backends!(bench_intake_times_the_database_alone_on_the_same_leads);
on_both_backends!(bench_market_crowd_buys_by_one_filter_after_a_real_import);
on_both_backends!(bench_orders_sells_posted_leads_to_orders_and_their_callbacks_arrive);
on_both_backends!(bench_funnel_counts_every_lead_and_times_each_grouping);
on_both_backends!(a_fresh_install_has_a_platform_organisation_for_the_first_admin_and_finance);
on_both_backends!(a_suppression_file_withdraws_the_listed_leads_of_its_people);

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

/// Runs a command that must succeed (its stderr says why not) and returns its stdout.
fn succeeded(app: &TestApp, args: &[&str]) -> String {
    let out = run(app, args, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
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

    // Disabled from the command line: signed out, and audited without the address.
    let out = run(
        app,
        &["user", "disable", "--email", "ops@acme.example.com"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resp = app
        .browser()
        .login_attempt("ops@acme.example.com", "a-good-long-password")
        .await;
    assert_ne!(resp.status(), 303, "a disabled user cannot sign in");
    let entry = app
        .with_conn(|c| leadmarket::store::audit::recent(c, 50).unwrap())
        .into_iter()
        .find(|e| e.action == leadmarket::domain::audit::AuditAction::UserDisabled)
        .expect("the disabling is audited");
    assert_eq!(entry.actor, leadmarket::domain::audit::AuditActor::System);
    let detail = entry.detail.unwrap();
    assert!(
        detail.contains("disabled from the command line"),
        "{detail}"
    );
    assert!(!detail.contains('@'), "{detail}");
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

async fn bench_market_crowd_buys_by_one_filter_after_a_real_import(app: &TestApp) {
    let text = succeeded(
        app,
        &[
            "bench",
            "market",
            "--leads",
            "600",
            "--crowd",
            "--crowd-seconds",
            "2",
        ],
    );
    // The existing report stays as it was, the crowd's follows it.
    assert!(text.starts_with("market on "), "{text}");
    let import = text
        .lines()
        .find(|l| l.starts_with("crowd: "))
        .expect(&text);
    let accepted = number_before(import, " accepted");
    assert!(accepted > 400, "{text}");
    assert!(import.contains("catalogue over the 20 mixes"), "{text}");
    // Timed alone, before the crowd: the window ran some queries.
    assert!(number_before(import, " queries)") > 0, "{text}");
    let runs: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("crowd of 16 buyers"))
        .collect();
    assert_eq!(runs.len(), 2, "{text}");
    assert!(
        runs[0].contains("quantity 1:") && runs[1].contains("quantity 10:"),
        "{text}"
    );
    let mut bought = 0;
    for line in &runs {
        bought += number_before(line, " bought");
        // Buying by filter skips what others took: no 409 while matching leads remain.
        assert_eq!(number_before(line, " while matching"), 0, "{text}");
    }
    // Each lead is sold once (the bench's batch), never oversold.
    assert!(bought <= accepted, "{text}");
    // Every buyer stopped once: refused when none was left (and it asked no more), or
    // still buying when the time was up (a slow machine may not sell out in time).
    let sold_out = number_before(runs[1], " after they ran out");
    let timed_out = number_before(runs[1], " still buying when time was up");
    assert_eq!(sold_out + timed_out, 16, "{text}");
    if bought < accepted {
        assert_eq!(timed_out, 16, "{text}");
    }
    // Then timed again beside a third run, whose buyers stopped the same way.
    let beside = text
        .lines()
        .find(|l| l.starts_with("catalogue beside the crowd: p50 "))
        .expect(&text);
    let tail = &beside[beside
        .find("meanwhile the crowd, quantity 1:")
        .expect(&text)..];
    assert_eq!(number_before(tail, " while matching"), 0, "{text}");
    assert!(
        bought + number_before(tail, " bought") <= accepted,
        "{text}"
    );
    assert_eq!(
        number_before(tail, " after they ran out")
            + number_before(tail, " still buying when time was up"),
        16,
        "{text}"
    );
}

async fn bench_funnel_counts_every_lead_and_times_each_grouping(app: &TestApp) {
    let text = succeeded(app, &["bench", "funnel", "--leads", "5000"]);
    assert!(text.starts_with("funnel on "), "{text}");
    // 5,000 leads in batches of 2,000: the rollup counted three batches, and every
    // answer counted every lead (the bench checks each one).
    assert_eq!(number_before(&text, " batches over 90 days"), 3, "{text}");
    assert_eq!(number_before(&text, " requests)"), 200, "{text}");
    for g in ["day", "batch", "segment", "channel", "warmth"] {
        assert!(text.contains(&format!("group_by={g}: p50 ")), "{text}");
    }
}

async fn bench_orders_sells_posted_leads_to_orders_and_their_callbacks_arrive(app: &TestApp) {
    let text = succeeded(
        app,
        &[
            "bench",
            "orders",
            "--leads",
            "300",
            "--clients",
            "2",
            "--seconds",
            "2",
        ],
    );
    assert!(text.starts_with("orders on "), "{text}");
    assert!(text.contains("1000 active standing orders"), "{text}");
    assert_eq!(number_before(&text, " posts failed"), 0, "{text}");
    let posts = number_before(&text, " single-lead posts");
    let sold = number_before(&text, " leads sold to orders");
    assert!(posts > 0 && sold > 0 && sold <= posts, "{text}");
    // Every tenth order has a callback to the bench's receiver: each of its sales arrives.
    let callbacks = &text[text.find("callbacks: ").expect(&text)..];
    let callback_sales = number_before(callbacks, " sales arrived");
    let arrived = number_before(callbacks, " of ");
    assert!(callback_sales > 0, "{text}");
    assert_eq!(arrived, callback_sales, "{text}");
}

async fn a_fresh_install_has_a_platform_organisation_for_the_first_admin_and_finance(
    app: &TestApp,
) {
    let out = run(app, &["migrate"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (email, role) in [
        ("root@ops.example.com", "admin"),
        ("books@ops.example.com", "finance"),
    ] {
        let out = run(
            app,
            &[
                "user",
                "create",
                "--org",
                "platform",
                "--email",
                email,
                "--role",
                role,
                "--password-stdin",
            ],
            "a-good-long-password\n",
        );
        assert!(
            out.status.success(),
            "{role}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let admin = app.browser();
    let resp = admin
        .login_attempt("root@ops.example.com", "a-good-long-password")
        .await;
    assert_eq!(resp.status(), 303);
    let (status, _) = admin.get_text("/admin/suppressions").await;
    assert_eq!(status, 200, "the first admin reaches the admin pages");
    let finance = app.browser();
    let resp = finance
        .login_attempt("books@ops.example.com", "a-good-long-password")
        .await;
    assert_eq!(resp.status(), 303);
    // A platform admin cannot be made in an agency, nor a second platform by the CLI.
    let out = run(
        app,
        &["org", "create", "--kind", "platform", "--name", "Another"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
}

async fn a_suppression_file_withdraws_the_listed_leads_of_its_people(app: &TestApp) {
    let (agency, _) = app.member(leadmarket::domain::Role::Agency, "Acme Leads");
    let token = app.token(&app.api_key(&agency)).await;
    let gone = LeadBuilder::new(1).post(app, &token).await;
    let kept = LeadBuilder::new(2).post(app, &token).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("optouts.txt");
    std::fs::write(&file, "ANN1@example.com\nnot a contact\n").unwrap();
    let out = run(
        app,
        &["suppress", file.to_str().unwrap(), "--reason", "opt_out"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        "1 added, 0 already listed, 1 open leads withdrawn, 1 not recognised"
    );
    let status = |id: &str| -> String {
        use diesel::prelude::*;
        use leadmarket::db::schema::leads;
        app.with_conn(|c| {
            leads::table
                .find(id)
                .select(leads::status)
                .first(c)
                .unwrap()
        })
    };
    assert_eq!(status(&gone), "withdrawn");
    assert_eq!(status(&kept), "available");
}
