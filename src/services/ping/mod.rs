//! Ping-post (issue 21): an agency pings a lead without its contact, the active standing
//! orders that want it bid in an open second-price auction (`auction`), the agency posts
//! the lead against the offer within 60 s and it is sold to the winner alone (`post`);
//! every auction is kept and shown to whom it concerns (`log`).

pub mod auction;
pub mod log;
pub mod post;

pub use auction::{PingAnswer, ping};
