//! leadmarket: an open-source lead-generation marketplace. The binary in `main.rs` is a
//! thin CLI over this library.
//!
//! # The house
//!
//! Layers run one way: `web` (and `jobs`, `cli`, `demo`, `bench`) → `services` →
//! `store` → `db`. Every layer may use `domain`; `domain` uses nothing else of the
//! crate (no diesel, actix or askama). `tests/it/layering.rs` fails the build's tests
//! when an import runs upwards.
//!
//! | module | owns |
//! |---|---|
//! | `domain` | the rules as pure functions and types: parsing (rows, batch terms, filters), dedup and the intake decision, scoring, pricing, money, invoice status and aging, disputes, and every stored status or kind as an enum with `FromStr`/`Display` |
//! | `db` | the connection (`AnyConnection` over PostgreSQL and SQLite), the pool, migrations, `schema.rs`, the diesel mapping of the domain's enums (`text_enum`), scratch databases for tests and benches, and every statement that differs per backend |
//! | `store` | diesel queries, one file per aggregate (`leads`, `batches`, `purchases`, `credit`, `ledger`, `invoices`, `payments`, `statements`, ...), taking `&mut AnyConnection`; rows are store types, never sent to a browser as they are |
//! | `services` | use cases shared by pages, API, CLI and jobs, one transaction each; a use case that grew sections is a folder with one file per use case (`services/billing/`, `services/intake/`) |
//! | `web` | `pages/<area>` (askama structs beside their handler; `/finance` is one scope in `pages/finance/`), `api/<area>` (JSON + JWT), auth extractors, CSRF, flash messages (`web::flash`, set before a redirect, never read from the URL), the error page; pages and API never import from each other |
//! | `jobs` | background work with leases (`jobs::runner`, also used by `leadmarket import`) and the outbox |
//! | `cli` | clap and dispatch in `cli/mod.rs`, one file per command |
//! | `error` | the one `AppError` (stable code, status, message) and the API's JSON error shape; pages render it in `web::error_page` |
//! | `config` | typed configuration from the environment, read once |
//! | `mail`, `payments` | mail transports and templates; Stripe behind a trait |
//! | `bench`, `demo` | `leadmarket bench ...` (one file per bench) and the demo seed |
//!
//! A new feature adds: its rules and enums in `domain/<area>.rs` (unit-tested there),
//! its queries in `store/<aggregate>.rs`, a use case per file in `services/<area>/`, its
//! pages in `web/pages/<area>/` with templates in `templates/<area>/` (shared pieces
//! from `templates/partials/ui.html`), its API in `web/api/<area>.rs`, and integration
//! tests in `tests/it/<area>.rs` built from `tests/it/builders.rs`, run on both backends
//! with `on_both_backends!`. Errors are `AppError` (`AppError::invalid(field, problem)` for
//! one bad field), money is integer minor units, timestamps for machines go through
//! `domain::time::rfc3339`, and every query is scoped to the caller's organisation.

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
