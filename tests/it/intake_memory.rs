//! Intake memory stays bounded whatever a file's shape: a separate `leadmarket serve`
//! process (tests in this binary run in parallel, so the test process's own RSS says
//! nothing) takes an upload with one 20 MB line of `a,a,a,...`, and its peak RSS
//! (`VmHWM`) is checked against a fixed budget.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::builders::{Agency, AgencyBuilder};
use crate::helpers::{JWT_SECRET, SECRET_KEY, TestApp, recent_rfc3339};
use crate::on_both_backends;

// The in-process app must not claim the batch: the separate server has to do the work.
on_both_backends!(with [("JOB_POLL_MS", "60000")] =>
    a_twenty_mb_row_of_tiny_cells_is_rejected_within_a_fixed_memory_budget);

/// Peak RSS allowed to the server process across a small upload and then the 20 MB
/// row. Measured on a debug build: 47-48 MB after a small upload, 60 MB (PostgreSQL)
/// to 82 MB (SQLite, whose page caches hold the stored file's pages) after the big one.
/// The headroom covers allocator and build differences, not another copy of the row.
const PEAK_RSS_BUDGET_KIB: u64 = 200 * 1024;

/// A `leadmarket serve` process of our own, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    async fn start(app: &TestApp) -> Server {
        // A free port: bound, read, released for the child.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_leadmarket"))
            .arg("serve")
            .env("DATABASE_URL", &app.database_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("SECRET_KEY", SECRET_KEY)
            .env("JWT_SECRET", JWT_SECRET)
            .env("WORKERS", "1")
            .env("DB_POOL_SIZE", "4")
            .env("JOB_POLL_MS", "50")
            .env("MAIL_TRANSPORT", "memory")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..300 {
            if let Ok(r) = app.api().get(server.url("/healthz")).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("leadmarket serve did not answer /healthz within 30 s");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The process's peak resident set so far, in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// Uploads a CSV through `POST /api/v1/batches` and waits until it is processed.
    async fn upload(&self, app: &TestApp, token: &str, csv: Vec<u8>) -> Value {
        let form = reqwest::multipart::Form::new()
            .text("segment", "insurance.car")
            .text("channel", "web_form")
            .text("price_cents", "2500")
            .text(
                "consent_text",
                "I agree to be contacted about car insurance.",
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv).file_name("leads.csv"),
            );
        let resp = app
            .api()
            .post(self.url("/api/v1/batches"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        let id = resp.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        for _ in 0..1200 {
            let body: Value = app
                .api()
                .get(self.url(&format!("/api/v1/batches/{id}")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if body["status"] != "processing" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("batch {id} still processing after 120 s");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const HEADER: &str =
    "first_name,last_name,email,phone,age,country,warmth,contact_type,consent_at,captured_at\n";

fn good_rows(tag: &str, n: usize) -> String {
    let (c, t) = (recent_rfc3339(30), recent_rfc3339(29));
    (0..n)
        .map(|i| {
            format!("Ann,Lee,ann.{tag}{i}@example.com,07911 1234{tag}{i},34,GB,hot,quick,{c},{t}\n")
        })
        .collect()
}

async fn a_twenty_mb_row_of_tiny_cells_is_rejected_within_a_fixed_memory_budget(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let server = Server::start(app).await;

    let small = server
        .upload(
            app,
            &token,
            format!("{HEADER}{}", good_rows("1", 3)).into_bytes(),
        )
        .await;
    assert_eq!(small["accepted"], 3, "{small}");
    let after_small = server.peak_rss_kib();

    let mut csv = HEADER.as_bytes().to_vec();
    csv.extend_from_slice(good_rows("2", 2).as_bytes());
    csv.extend(b"a,".iter().cycle().take(20 * 1024 * 1024));
    csv.push(b'\n');
    csv.extend_from_slice(good_rows("3", 2).as_bytes());
    let big = server.upload(app, &token, csv).await;
    let after_big = server.peak_rss_kib();
    eprintln!(
        "leadmarket serve peak RSS: {after_small} KiB after a small upload, {after_big} KiB after a 20 MB row (budget {PEAK_RSS_BUDGET_KIB} KiB)"
    );
    assert_eq!(big["status"], "done", "{big}");
    assert_eq!(big["rows_total"], 5, "{big}");
    assert_eq!(
        big["accepted"], 4,
        "the good rows around the long one: {big}"
    );
    assert_eq!(big["rejected"], 1, "{big}");
    assert!(
        after_big < PEAK_RSS_BUDGET_KIB,
        "peak RSS {after_big} KiB is over the {PEAK_RSS_BUDGET_KIB} KiB budget"
    );

    let id = big["id"].as_str().unwrap();
    let rejects = app
        .api()
        .get(server.url(&format!("/api/v1/batches/{id}/rejects.csv")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 2, "the header and the one rejected row");
    assert!(lines[1].contains("too_many_cells"), "{}", lines[1]);
    assert!(lines[1].contains('…'), "marked as cut off: {}", lines[1]);
    assert!(
        lines[1].len() < 2048,
        "the rejects entry is {} bytes",
        lines[1].len()
    );
    // The rejected row is row 3 of the file's data rows.
    assert!(lines[1].contains(",3,"), "{}", lines[1]);
}
