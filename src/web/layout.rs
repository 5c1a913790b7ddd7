//! What the base template needs on every page: title, the signed-in user and the
//! navigation of their role.

use super::auth::CurrentUser;
use crate::domain::Role;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct Layout {
    pub title: String,
    pub user: Option<UserBadge>,
    pub nav: Vec<NavItem>,
    pub csrf_token: String,
}

pub struct UserBadge {
    pub name: String,
    pub role: &'static str,
    pub org_name: String,
}

/// Pages each role can reach from the navigation. Labels are short: the admin's dozen must
/// fit one line of a 1366 px desktop (tests/it/browser/layout.rs checks it); each page's
/// title says it in full.
fn nav_for(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![("/dashboard", "Dashboard")];
    if role == Role::Agency {
        items.push(("/batches", "Batches"));
        items.push(("/funnel", "Funnel"));
        items.push(("/orders/open", "Orders"));
        items.push(("/pings", "Auctions"));
        items.push(("/statements", "Statements"));
        items.push(("/agency/disputes", "Disputes"));
    }
    if role == Role::Buyer {
        items.push(("/catalogue", "Catalogue"));
        items.push(("/purchases", "My leads"));
        items.push(("/outcomes", "Outcomes"));
        items.push(("/standing-orders", "Standing orders"));
        items.push(("/orders", "Orders"));
        items.push(("/pings", "Auctions"));
        items.push(("/disputes", "Disputes"));
        items.push(("/invoices", "Invoices"));
    }
    if matches!(role, Role::Finance | Role::Admin) {
        // The admin's line is full: its dashboard links the platform page instead.
        if role == Role::Finance {
            items.push(("/platform", "Platform"));
        }
        items.push(("/finance/invoices", "Invoices"));
        items.push(("/finance/disputes", "Disputes"));
        items.push(("/finance/buyers", "Credit"));
        items.push(("/finance/aging", "Aging"));
        items.push(("/finance/payouts", "Payouts"));
        items.push(("/finance/unapplied", "Unapplied"));
        items.push(("/finance/ledger", "Trial balance"));
    }
    if role == Role::Admin {
        items.push(("/admin/organisations", "Organisations"));
        items.push(("/admin/users", "Users"));
        items.push(("/admin/settings", "Settings"));
        items.push(("/admin/suppressions", "Suppressions"));
        items.push(("/admin/pricing", "Price rules"));
    }
    items.push(("/settings/organisation", "My organisation"));
    items
}

impl Layout {
    pub fn anonymous(title: &str) -> Self {
        Self {
            title: title.to_string(),
            user: None,
            nav: Vec::new(),
            csrf_token: String::new(),
        }
    }

    /// `current` is the nav entry to mark as the current page.
    pub fn for_user(user: &CurrentUser, title: &str, current: &str) -> Self {
        Self {
            title: title.to_string(),
            user: Some(UserBadge {
                name: user.display_name.clone(),
                role: user.role.as_str(),
                org_name: user.org_name.clone(),
            }),
            nav: nav_for(user.role)
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: href == current,
                })
                .collect(),
            csrf_token: user.csrf_token.clone(),
        }
    }
}
