//! The market bench's purchase run: buyers buying single leads over HTTP from a real
//! server on the scratch database.

use std::time::Instant;

use crate::config::Config;
use crate::db::DatabaseUrl;

/// How one buyer's requests ended.
#[derive(Default)]
struct Tally {
    bought: usize,
    refused: usize,
    failed: usize,
}

/// Each buyer (one API key each) buys single leads through `POST /api/v1/purchases` on a
/// real server, all at once, each over its own share of `candidates`, so the run
/// measures purchases rather than refusals (the race for the same leads is the
/// concurrency test's job). Returns (bought, refused, seconds).
pub fn over_http(
    config: &Config,
    url: &DatabaseUrl,
    keys: &[String],
    candidates: &[String],
) -> anyhow::Result<(usize, usize, f64)> {
    runtime()?.block_on(async move {
        let server = Server::start(config, url, keys).await?;
        let t = Instant::now();
        let mut tasks = Vec::new();
        for (i, token) in server.tokens.iter().enumerate() {
            let wanted: Vec<String> = candidates
                .iter()
                .enumerate()
                .filter(|(n, _)| n % keys.len() == i)
                .map(|(_, id)| id.clone())
                .collect();
            tasks.push(tokio::spawn(buy_each(
                server.client.clone(),
                server.base.clone(),
                token.clone(),
                wanted,
            )));
        }
        let mut total = Tally::default();
        for task in tasks {
            let t = task.await?;
            total.bought += t.bought;
            total.refused += t.refused;
            total.failed += t.failed;
        }
        let seconds = t.elapsed().as_secs_f64();
        server.stop().await;
        anyhow::ensure!(
            total.failed == 0,
            "{} purchase requests failed",
            total.failed
        );
        Ok((total.bought, total.refused, seconds))
    })
}

/// The runtime the benches' HTTP runs drive their server and clients on.
pub(super) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// The real app serving the scratch database on a free port, with a bearer token for
/// each of the buyers' API keys.
pub(super) struct Server {
    pub client: reqwest::Client,
    pub base: String,
    pub tokens: Vec<String>,
    stop: crate::app::StopHandle,
}

impl Server {
    pub async fn start(
        config: &Config,
        url: &DatabaseUrl,
        keys: &[String],
    ) -> anyhow::Result<Self> {
        let mut app_config = config.clone();
        app_config.database_url = url.clone();
        app_config.bind = "127.0.0.1:0".into();
        app_config.db_pool_size = app_config.db_pool_size.max(16);
        let app = crate::app::Application::build(app_config)?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let stop = app.stop_handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let mut tokens = Vec::new();
        for key in keys {
            tokens.push(token(&client, &base, key).await?);
        }
        Ok(Self {
            client,
            base,
            tokens,
            stop,
        })
    }

    pub async fn stop(self) {
        self.stop.stop(true).await;
    }
}

/// A bearer token for an API key.
async fn token(client: &reqwest::Client, base: &str, key: &str) -> anyhow::Result<String> {
    let body: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({ "api_key": key }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = body["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no access token in {body}"))?;
    Ok(token.to_string())
}

/// One buyer buys each of `leads` on its own, one request after the other.
async fn buy_each(
    client: reqwest::Client,
    base: String,
    token: String,
    leads: Vec<String>,
) -> Tally {
    let mut tally = Tally::default();
    for lead in leads {
        let status = client
            .post(format!("{base}/api/v1/purchases"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "lead_ids": [lead] }))
            .send()
            .await
            .map(|r| r.status().as_u16());
        match status {
            Ok(201) => tally.bought += 1,
            Ok(402 | 409) => tally.refused += 1,
            _ => tally.failed += 1,
        }
    }
    tally
}
