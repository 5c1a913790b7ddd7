//! leadmarket: an open-source lead-generation marketplace. The binary in `main.rs` is a
//! thin CLI over this library.

pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod mail;
pub mod payments;
pub mod services;
pub mod store;
pub mod web;

/// Logs to stderr; `RUST_LOG` filters (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
