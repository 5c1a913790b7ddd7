//! The one integration test binary: each module drives the real app over HTTP against a
//! real database, on SQLite and (with `TEST_DATABASE_URL`) on PostgreSQL. Built without
//! that variable, the PostgreSQL twins are reported as ignored (`src/build.rs`); so are
//! the `browser` journeys (headless Chromium) without a chromedriver. Fixtures come from
//! `builders`; API bodies are pinned by the snapshots in `snapshots/`.

mod builders;
mod helpers;

mod admin_organisations;
mod admin_segments;
mod admin_settings;
mod admin_suppressions;
mod admin_users;
mod allocation;
mod api_auth;
mod audit_log;
mod billing;
mod browser;
mod catalogue;
mod cli;
mod contract;
mod control_characters;
mod crowd;
mod db;
mod deliveries;
mod demo;
mod disputes;
mod finance_races;
mod flash;
mod funnel;
mod health;
mod intake;
mod intake_defaults;
mod intake_memory;
mod layering;
mod login;
mod market;
mod migrations;
mod my_leads;
mod password_reset;
mod payable;
mod ping;
mod planner_stats;
mod pool_timeout;
mod retries;
mod rights;
mod scoping;
mod sessions;
mod standing_orders;
mod suppression;
mod targeted_orders;
mod throttling;
