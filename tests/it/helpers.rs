//! `TestApp`: the real application on port 0 against a fresh database per test (a SQLite
//! temp file, or a new PostgreSQL database from `TEST_DATABASE_URL`, dropped afterwards),
//! plus fixture builders and a cookie-keeping `Browser`.

use std::collections::HashMap;

use leadmarket::app::{AppState, Application};
use leadmarket::config::{Config, MissingSecrets};
use leadmarket::db::AnyConnection;
use leadmarket::db::scratch::ScratchDb;
use leadmarket::domain::password::NewPassword;
use leadmarket::domain::{OrgKind, Role};
use leadmarket::services::accounts;
use leadmarket::store::{self, batches::BatchRow, organisations::OrganisationRow};

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

    /// A finished batch of this agency.
    pub fn batch(&self, agency: &OrganisationRow) -> BatchRow {
        let now = store::now();
        let row = BatchRow {
            id: uuid::Uuid::new_v4().to_string(),
            agency_id: agency.id.clone(),
            kind: "consumer".into(),
            order_id: None,
            segment: "insurance.car".into(),
            channel: "web_form".into(),
            price_cents: 2500,
            max_sales: 1,
            billing: "per_lead".into(),
            action_price_cents: None,
            consent_text: "I agree to be contacted.".into(),
            source: "api".into(),
            filename: None,
            status: "done".into(),
            error: None,
            rows_total: 10,
            rows_done: 10,
            accepted: 7,
            rejected: 2,
            duplicates: 1,
            suppressed: 0,
            created_by: None,
            created_at: now,
            finished_at: Some(now),
            headers: String::new(),
            unknown_columns: String::new(),
            file_size: 0,
        };
        store::batches::insert(&mut self.conn(), &row).expect("batch");
        row
    }

    /// Waits until a batch is no longer processing; returns its status body.
    pub async fn wait_for_batch(&self, token: &str, batch_id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let body: serde_json::Value = self
                .api()
                .get(self.url(&format!("/api/v1/batches/{batch_id}")))
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
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("batch {batch_id} still processing after 30 s");
    }

    pub fn with_conn<T>(&self, f: impl FnOnce(&mut AnyConnection) -> T) -> T {
        f(&mut self.conn())
    }
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

/// Runs the test body on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
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
                async fn on_postgres() {
                    if let Some(app) = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, &$vars).await {
                        super::$name(&app).await;
                        app.finish().await;
                    }
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
                async fn on_postgres() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                        super::$name(&app).await;
                        app.finish().await;
                    }
                }
            }
        )+
    };
}
