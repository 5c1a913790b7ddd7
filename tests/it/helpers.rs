//! `TestApp`: the real application on port 0 against a fresh database per test (a SQLite
//! temp file, or a new PostgreSQL database from `TEST_DATABASE_URL`, dropped afterwards),
//! its request helpers, a cookie-keeping `Browser`, and the checks and Stripe webhook
//! helpers several feature modules share. Fixtures are made in `builders`.

use std::collections::HashMap;

use leadmarket::app::{AppState, Application};
use leadmarket::config::{Config, MissingSecrets};
use leadmarket::db::AnyConnection;
use leadmarket::db::scratch::ScratchDb;
use leadmarket::domain::billing::Period;
use leadmarket::domain::password::NewPassword;
use leadmarket::domain::{OrgKind, Role};
use leadmarket::services::accounts;
use leadmarket::services::billing::Ctx;
use leadmarket::store::{self, organisations::OrganisationRow};
use serde_json::Value;

pub const PASSWORD: &str = "a-long-test-password";
pub const SECRET_KEY: &str = "test-secret-key-test-secret-key-0123456789";
pub const JWT_SECRET: &str = "test-jwt-secret-test-jwt-secret-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    stop: Option<leadmarket::app::StopHandle>,
    pub backend: Backend,
    pub address: String,
    pub state: AppState,
    /// The fake card processor, when the test set Stripe keys.
    pub fake_payments: Option<std::sync::Arc<leadmarket::payments::FakePayments>>,
    pub database_url: String,
    /// Dropped last: removes the test's database (`None` for a second instance).
    _db: Option<ScratchDb>,
}

impl TestApp {
    /// The app on this backend; `None` (with the reason printed) when PostgreSQL is
    /// asked for but `TEST_DATABASE_URL` is not set.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, &[]).await
    }

    /// As `spawn`, with extra configuration variables.
    pub async fn spawn_with(backend: Backend, extra: &[(&'static str, &str)]) -> Option<TestApp> {
        let db = match backend {
            Backend::Sqlite => ScratchDb::sqlite("test").expect("temp dir"),
            Backend::Postgres => {
                let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
                else {
                    eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
                    return None;
                };
                ScratchDb::postgres(&admin_url, "test").unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                })
            }
        };
        let database_url = db.url_string();
        Some(Self::start(backend, database_url, Some(db), extra))
    }

    /// Builds and starts the app on `database_url`, as `leadmarket serve` would.
    fn start(
        backend: Backend,
        database_url: String,
        db: Option<ScratchDb>,
        extra: &[(&'static str, &str)],
    ) -> TestApp {
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", database_url.clone()),
            ("BIND", "127.0.0.1:0".into()),
            ("SECRET_KEY", SECRET_KEY.into()),
            ("JWT_SECRET", JWT_SECRET.into()),
            ("WORKERS", "1".into()),
            ("DB_POOL_SIZE", "4".into()),
            ("JOB_POLL_MS", "50".into()),
            ("FUNNEL_REFRESH_MS", "100".into()),
            ("MAIL_TRANSPORT", "memory".into()),
        ]);
        vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let config =
            Config::from_lookup(|k| vars.get(k).cloned(), MissingSecrets::GenerateForSqlite)
                .expect("config");
        // Stripe keys in a test mean the fake processor: no test talks to Stripe.
        let fake_payments = config
            .billing
            .stripe
            .as_ref()
            .map(|_| std::sync::Arc::new(leadmarket::payments::FakePayments::default()));
        let payments = fake_payments
            .clone()
            .map(|f| f as std::sync::Arc<dyn leadmarket::payments::Payments>);
        let app = Application::build_with(config, payments).expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let stop = Some(app.stop_handle());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            fake_payments,
            stop,
            backend,
            address,
            state,
            database_url,
            _db: db,
        }
    }

    /// A second app instance on this app's database, as a second `serve` process would be.
    pub async fn second_instance(&self) -> TestApp {
        Self::start(self.backend, self.database_url.clone(), None, &[])
    }

    /// As `second_instance`, with extra configuration variables.
    pub async fn second_instance_with(&self, extra: &[(&'static str, &str)]) -> TestApp {
        Self::start(self.backend, self.database_url.clone(), None, extra)
    }

    /// Stops the server and its jobs, closes the pool, then drops the test database: no
    /// thread is left talking to a database that is gone when the test binary exits.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.stop(false).await;
        }
    }

    pub fn conn(&self) -> leadmarket::db::PooledConn {
        self.state.pool.get().expect("a pooled connection")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn browser(&self) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.address.clone(),
        }
    }

    pub fn api(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// A GET of this app's `path` as the holder of the access `token`.
    pub fn get_as(&self, token: impl std::fmt::Display, path: &str) -> reqwest::RequestBuilder {
        self.api().get(self.url(path)).bearer_auth(token)
    }

    /// A POST to this app's `path` as the holder of the access `token`.
    pub fn post_as(&self, token: impl std::fmt::Display, path: &str) -> reqwest::RequestBuilder {
        self.api().post(self.url(path)).bearer_auth(token)
    }

    /// GETs `path` as `token`; returns the status and the JSON body (null if none).
    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        json_of(self.get_as(token, path).send().await.unwrap()).await
    }

    /// POSTs `body` as JSON to `path` as `token`; returns the status and the JSON body.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        json_of(self.post_as(token, path).json(body).send().await.unwrap()).await
    }

    /// A new agency or buyer; for the platform, the one organisation every install has.
    pub fn org(&self, kind: OrgKind, name: &str) -> OrganisationRow {
        if kind == OrgKind::Platform {
            return store::organisations::find_by_slug(
                &mut self.conn(),
                store::organisations::PLATFORM_SLUG,
            )
            .expect("the platform organisation");
        }
        accounts::create_organisation(&mut self.conn(), kind, name, None).expect("organisation")
    }

    /// A user of `org` with `role`; returns the email (the password is `PASSWORD`).
    pub fn user(&self, org: &OrganisationRow, role: Role) -> String {
        let email = format!("{}-{}@example.com", role, uuid::Uuid::new_v4().simple());
        let pw = NewPassword::parse(PASSWORD).unwrap();
        accounts::create_user(&mut self.conn(), &org.slug, &email, None, role, &pw).expect("user");
        email
    }

    /// An organisation of the role's kind with one user; returns (org, email).
    pub fn member(&self, role: Role, org_name: &str) -> (OrganisationRow, String) {
        let org = self.org(role.org_kind(), org_name);
        let email = self.user(&org, role);
        (org, email)
    }

    pub fn api_key(&self, org: &OrganisationRow) -> String {
        accounts::create_api_key(&mut self.conn(), &org.id, "test", None)
            .expect("api key")
            .secret
    }

    /// Exchanges an API key for an access token.
    pub async fn token(&self, api_key: &str) -> String {
        let resp = self
            .api()
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"api_key": api_key}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Waits until a batch is no longer processing; returns its status body.
    pub async fn wait_for_batch(&self, token: &str, batch_id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let body: serde_json::Value = self
                .get_as(token, &format!("/api/v1/batches/{batch_id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if body["status"] != "processing" {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("batch {batch_id} still processing after 30 s");
    }

    pub fn with_conn<T>(&self, f: impl FnOnce(&mut AnyConnection) -> T) -> T {
        f(&mut self.conn())
    }
}

/// The status and the JSON body of a response (null when the body is not JSON).
async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

/// The billing services' context, from the app's configuration.
pub fn ctx(app: &TestApp) -> Ctx<'_> {
    Ctx::from(app.state.live.environment())
}

pub fn this_month() -> Period {
    Period::containing(store::now())
}

/// The whole ledger sums to zero and every transaction balances.
pub fn assert_ledger_balanced(app: &TestApp) {
    let (total, unbalanced) = app.with_conn(store::ledger::trial_balance).unwrap();
    assert_eq!(total, 0);
    assert!(unbalanced.is_empty(), "{unbalanced:?}");
}

/// The webhook secret of the tests that set Stripe keys.
const WEBHOOK_SECRET: &str = "whsec_test_0123456789abcdef";

/// A paid checkout session's event for the payment intent `intent`.
pub fn completed_event_for(intent: &str, event_id: &str, invoice_id: &str, amount: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": "cs_test_1", "object": "checkout.session", "amount_total": amount,
            "currency": "eur", "payment_status": "paid", "payment_intent": intent,
            "metadata": {"invoice_id": invoice_id}
        }}
    }))
    .unwrap()
}

/// Delivers a Stripe webhook body, signed or not; returns the status and the JSON body.
pub async fn deliver(app: &TestApp, body: &[u8], signature: Option<String>) -> (u16, Value) {
    let mut req = app
        .api()
        .post(app.url("/api/v1/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    json_of(req.send().await.unwrap()).await
}

/// A `Stripe-Signature` for `body`, made `seconds_ago`.
pub fn signed(body: &[u8], seconds_ago: i64) -> Option<String> {
    Some(leadmarket::payments::sign(
        body,
        WEBHOOK_SECRET.as_bytes(),
        chrono::Utc::now().timestamp() - seconds_ago,
    ))
}

/// A browser session: keeps cookies, does not follow redirects.
pub struct Browser {
    pub client: reqwest::Client,
    base: String,
}

/// An RFC 3339 time `minutes_ago`, but never before today's midnight (UTC). Prices and
/// scores decay by calendar day, so a lead captured "ten minutes ago" at 00:05 would
/// already be a day old and cheaper, and a test run just after midnight would fail.
pub fn recent_rfc3339(minutes_ago: i64) -> String {
    let now = chrono::Utc::now();
    let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    (now - chrono::TimeDelta::minutes(minutes_ago))
        .max(midnight)
        .to_rfc3339()
}

/// The value of the first hidden `csrf_token` input in a page.
pub fn csrf_from(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")?;
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    rest.split('"').next().map(str::to_string)
}

impl Browser {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// The CSRF token of this session, read from a page that has a form.
    pub async fn csrf(&self, page: &str) -> String {
        let (_, html) = self.get_text(page).await;
        csrf_from(&html).unwrap_or_else(|| panic!("no csrf_token on {page}"))
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login_attempt(&self, email: &str, password: &str) -> reqwest::Response {
        self.login_attempt_from(email, password, None).await
    }

    /// A login attempt that claims to come through a proxy from `forwarded_for`.
    pub async fn login_attempt_from(
        &self,
        email: &str,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> reqwest::Response {
        let token = self.csrf("/login").await;
        let mut req = self.client.post(format!("{}/login", self.base)).form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ]);
        if let Some(ip) = forwarded_for {
            req = req.header("X-Forwarded-For", ip);
        }
        req.send().await.unwrap()
    }

    /// Signs in and asserts it worked.
    pub async fn login(&self, email: &str) {
        let resp = self.login_attempt(email, PASSWORD).await;
        assert_eq!(resp.status(), 303, "login of {email} should redirect");
    }
}

/// Why a PostgreSQL twin that runs (built with `TEST_DATABASE_URL`, or `--ignored`) has
/// no database: it fails rather than pass without having run.
pub const PG_TWIN_NEEDS_URL: &str =
    "the PostgreSQL twin needs TEST_DATABASE_URL at run time as well as at build time";

/// Runs the test body on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
/// The PostgreSQL twin is compiled as ignored (with the reason) when the variable was not
/// set for the build (`src/build.rs`), so `cargo test` reports it as ignored, not passed.
#[macro_export]
macro_rules! on_both_backends {
    (with $vars:expr => $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn on_sqlite() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, &$vars).await.unwrap();
                    super::$name(&app).await;
                    app.finish().await;
                }

                #[tokio::test]
                #[cfg_attr(not(leadmarket_pg_tests), ignore = "PostgreSQL twin: TEST_DATABASE_URL is not set")]
                async fn on_postgres() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, &$vars).await.expect($crate::helpers::PG_TWIN_NEEDS_URL);
                    super::$name(&app).await;
                    app.finish().await;
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn on_sqlite() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$name(&app).await;
                    app.finish().await;
                }

                #[tokio::test]
                #[cfg_attr(not(leadmarket_pg_tests), ignore = "PostgreSQL twin: TEST_DATABASE_URL is not set")]
                async fn on_postgres() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await.expect($crate::helpers::PG_TWIN_NEEDS_URL);
                    super::$name(&app).await;
                    app.finish().await;
                }
            }
        )+
    };
}
