//! Pure business rules and the typed values they work on. Nothing here does I/O: every
//! function takes what it needs (including the current time) and is unit-tested.

pub mod apikey;
pub mod audit;
pub mod billing;
pub mod catalogue;
pub mod dedup;
pub mod disputes;
pub mod email;
pub mod export;
pub mod funnel;
pub mod intake;
pub mod membership;
pub mod money;
pub mod org;
pub mod password;
pub mod ping;
pub mod planner;
pub mod pricing;
pub mod problem;
pub mod reference;
pub mod rights;
pub mod scoring;
pub mod secret;
pub mod session;
pub mod settings;
pub mod slug;
pub mod standing_order;
pub mod suppression;
pub mod text;
pub mod throttle;
pub mod token;

// Text-stored kinds and statuses without rules of their own yet, and the timestamp format.
pub mod lead;
pub mod ledger;
pub mod market;
pub mod outbox;
pub mod time;

pub use email::Email;
pub use org::{OrgKind, OrgStatus, Role};
