//! Buying leads: the catalogue a buyer browses (priced, with agency quality), quoting,
//! and the atomic purchase (sales counts, the unique lead/buyer rule, targeted leads to
//! their order's buyer only, the credit check and the ledger, all in one transaction or
//! not at all).
//!
//! One file per use case: `catalogue`, `purchase` (by id), `buy_matching` (by filter),
//! `quote` (what a purchase would cost, before it is confirmed), `account` and `pricing`.

mod account;
mod buy_matching;
mod catalogue;
mod pricing;
mod purchase;
mod quote;

pub use account::{AccountView, account, set_credit_limit};
pub use buy_matching::buy_matching;
pub use catalogue::{
    AgencyRef, CatalogueItem, CataloguePage, catalogue_page, catalogue_page_counted,
};
pub use pricing::{list_price, quote_for, reprice, reprice_if_due, rules, tune_price_rule};
pub(crate) use purchase::settle;
pub use purchase::{PurchaseLine, buy};
pub use quote::{PurchaseQuote, QuoteLine, quote_leads, quote_matching};
