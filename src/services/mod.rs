//! Use cases shared by the CLI, the pages and the API: they combine domain rules with the
//! store inside one transaction each.

pub mod accounts;
pub mod audit;
pub mod billing;
pub mod copies;
pub mod deliveries;
pub mod disputes;
pub mod funnel;
pub mod intake;
pub mod invitations;
pub mod known;
pub mod mail;
pub mod market;
pub mod org_admin;
pub mod password_reset;
pub mod ping;
pub mod planner_stats;
pub mod reference_admin;
pub mod rights;
pub mod settings;
pub mod standing_orders;
pub mod suppression;
pub mod targeted_orders;
pub mod throttle;
pub mod unapplied;
pub mod user_admin;
