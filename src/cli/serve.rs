//! `serve`, `migrate` and `demo`.

use super::support::{CliError, config, connection};
use crate::app::Application;
use crate::config::{Config, MissingSecrets};
use crate::db;

pub fn migrate() -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let pool = db::connect_pool(&config.database_url, 1).map_err(|e| CliError::Other(e.into()))?;
    let mut conn = pool.get().map_err(|e| CliError::Other(e.into()))?;
    let applied = db::run_migrations(&mut conn).map_err(|e| CliError::Other(e.into()))?;
    println!(
        "{applied} migration(s) applied; the database {} is current",
        config.database_url.redacted()
    );
    Ok(())
}

pub fn demo() -> Result<(), CliError> {
    let mut config = config(MissingSecrets::Generate)?;
    crate::demo::set_demo_seller(&mut config.billing);
    // The demo's standing orders call its own inbox on this machine.
    config.callback_allow_private = true;
    let logins = {
        let mut conn = connection(&config)?;
        crate::demo::seed_if_empty(&mut conn, &config, &mut std::io::stdout())?
    };
    serve_with(config, Some(logins), Some(demo_routes()))
}

/// The demo's callback inbox, one for every worker.
fn demo_routes() -> crate::app::ExtraRoutes {
    let inbox = crate::demo::inbox::Inbox::default();
    std::sync::Arc::new(move |cfg| crate::demo::inbox::routes(cfg, inbox.clone()))
}

pub fn serve(config: Config, demo_logins: Option<String>) -> Result<(), CliError> {
    serve_with(config, demo_logins, None)
}

fn serve_with(
    config: Config,
    demo_logins: Option<String>,
    extra_routes: Option<crate::app::ExtraRoutes>,
) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(e.into()))?;
    runtime.block_on(async move {
        let public_url = config.public_url.clone();
        tracing::info!(database = %config.database_url.redacted(), bind = %config.bind, "starting");
        let app = match extra_routes {
            Some(extra) => Application::build_with_routes(config, extra)?,
            None => Application::build(config)?,
        };
        if let Some(logins) = demo_logins {
            println!(
                "\nleadmarket demo is running at {public_url}\n\n{logins}\nPress Ctrl+C to stop."
            );
        } else {
            println!("leadmarket is serving at {public_url}");
        }
        app.run_until_stopped().await.map_err(anyhow::Error::from)?;
        Ok(())
    })
}
