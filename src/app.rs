//! Application state and the HTTP server. `Application::build` binds first (port 0 in
//! tests) so the caller learns the real port before serving.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::config::Config;
use crate::db::{self, AnyConnection, Pool};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct AppState {
    /// The configuration in force: read it through `config()`, which sees a settings
    /// change saved by any process within `services::settings::POLL`.
    pub live: Arc<crate::services::settings::LiveConfig>,
    pub pool: Pool,
    pub mailer: crate::mail::Mailer,
    /// Card payments; `None` without Stripe keys (bank transfer only).
    pub payments: Option<Arc<dyn crate::payments::Payments>>,
    /// Wakes this process's delivery worker when a sale made deliveries.
    pub deliveries_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// The configuration in force now. Take it once per request or job step, so one
    /// piece of work sees one consistent set of settings.
    pub fn config(&self) -> Arc<Config> {
        self.live.current()
    }

    /// Tells the delivery worker new deliveries were committed, so they go out now
    /// rather than at its next poll. A wake with no worker waiting is kept for its next
    /// wait.
    pub fn wake_deliveries(&self) {
        self.deliveries_wake.notify_one();
    }

    /// Runs blocking diesel work on actix's blocking pool with a pooled connection, so no
    /// connection is held across an await of the request.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(AppError::internal)?
    }
}

/// Routes only some commands mount (the demo's callback inbox), shared by every worker.
pub type ExtraRoutes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    jobs: crate::jobs::JobsHandle,
}

/// Stops a running application: background jobs first, then the HTTP workers, which
/// drop their pool connections as they exit.
pub struct StopHandle {
    server: actix_web::dev::ServerHandle,
    jobs: crate::jobs::JobsHandle,
}

impl StopHandle {
    /// `graceful` waits for requests in flight; otherwise connections are dropped.
    pub async fn stop(self, graceful: bool) {
        self.jobs.abort();
        self.server.stop(graceful).await;
    }
}

impl Application {
    /// Opens the pool, applies migrations and binds `config.bind`.
    pub fn build(config: Config) -> anyhow::Result<Self> {
        let payments = config.billing.stripe.as_ref().map(|keys| {
            let secret = String::from_utf8_lossy(keys.secret_key.expose()).to_string();
            Arc::new(crate::payments::StripePayments::new(&secret))
                as Arc<dyn crate::payments::Payments>
        });
        Self::build_with(config, payments)
    }

    /// As `build`, with extra routes mounted (`leadmarket demo`).
    pub fn build_with_routes(config: Config, extra: ExtraRoutes) -> anyhow::Result<Self> {
        let payments = config.billing.stripe.as_ref().map(|keys| {
            let secret = String::from_utf8_lossy(keys.secret_key.expose()).to_string();
            Arc::new(crate::payments::StripePayments::new(&secret))
                as Arc<dyn crate::payments::Payments>
        });
        Self::build_inner(config, payments, Some(extra))
    }

    /// As `build`, with the card processor given (tests pass a fake).
    pub fn build_with(
        config: Config,
        payments: Option<Arc<dyn crate::payments::Payments>>,
    ) -> anyhow::Result<Self> {
        Self::build_inner(config, payments, None)
    }

    fn build_inner(
        config: Config,
        payments: Option<Arc<dyn crate::payments::Payments>>,
        extra: Option<ExtraRoutes>,
    ) -> anyhow::Result<Self> {
        let pool = db::connect_pool(&config.database_url, config.db_pool_size)?;
        let applied = db::run_migrations(&mut *pool.get()?)?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        let mailer = crate::mail::Mailer::from_config(&config.mail)?;
        let live = crate::services::settings::LiveConfig::load(&mut *pool.get()?, config)?;
        let state = AppState {
            live: Arc::new(live),
            pool,
            mailer,
            payments,
            deliveries_wake: Arc::new(tokio::sync::Notify::new()),
        };
        let bind = state.config().bind.clone();
        let listener = TcpListener::bind(&bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone(), extra)?;
        let jobs = crate::jobs::spawn(state.clone());
        Ok(Self {
            port,
            server,
            state,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            server: self.server.handle(),
            jobs: self.jobs.clone(),
        }
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(
    listener: TcpListener,
    state: AppState,
    extra: Option<ExtraRoutes>,
) -> std::io::Result<Server> {
    let workers = state.config().workers;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(
                crate::web::input_guard::refuse_control_characters,
            ))
            .wrap(crate::web::session_middleware(&data.config()))
            .wrap(actix_web::middleware::from_fn(crate::web::no_store))
            .wrap(crate::web::security_headers())
            .wrap(crate::web::access_log())
            .configure(|cfg| {
                if let Some(extra) = &extra {
                    extra(cfg);
                }
            })
            .configure(crate::web::routes)
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
