//! Every role's pages on a phone (390 px) and a desktop (1366 px), on the demo's data: no
//! page is wider than the screen; on a phone the navigation sits behind a menu button and
//! the catalogue's filters are folded; on a desktop the navigation is one line and the
//! API-keys table shows its Revoke button.

use leadmarket::demo;

use crate::browser::{DESKTOP, PHONE, Page};
use crate::helpers::TestApp;
use crate::in_chromium;

in_chromium!(every_page_of_every_role_fits_a_phone_and_a_desktop);

/// One demo login per role.
const LOGINS: [&str; 4] = [
    "nora@northwind-leads.example.com",
    "sam@surecover.example.com",
    "finance@leadmarket.example.com",
    "admin@leadmarket.example.com",
];

/// The pages a role reaches: its navigation, and under each entry its first two detail
/// pages (a batch, an invoice, a statement, a buyer's account...).
async fn pages_of_role(page: &mut Page) -> Vec<String> {
    let nav: Vec<String> = page
        .js("return [...document.querySelectorAll('.main-nav a')].map(a => a.getAttribute('href'))")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert!(nav.len() >= 3, "a navigation: {nav:?}");
    let mut pages = Vec::new();
    for entry in nav {
        page.goto(&entry).await;
        let details = page
            .js(&format!(
                "return [...document.querySelectorAll('main a[href^=\"{entry}/\"]')]
                   .map(a => a.getAttribute('href'))
                   .filter(h => !h.includes('.csv') && !h.endsWith('/new'))
                   .filter((h, i, all) => all.indexOf(h) === i).slice(0, 2)"
            ))
            .await;
        pages.push(entry);
        for d in details.as_array().unwrap() {
            pages.push(d.as_str().unwrap().to_string());
        }
    }
    pages
}

async fn every_page_of_every_role_fits_a_phone_and_a_desktop(app: &TestApp, page: &mut Page) {
    app.with_conn(|c| {
        let now = leadmarket::store::now();
        demo::seed(c, now, 400, app.state.config().commission_bp).unwrap();
        let ctx = leadmarket::services::billing::Ctx::from(app.state.live.environment());
        demo::seed_billing(c, &ctx, now).unwrap();
        let settings = leadmarket::services::disputes::Settings::from(app.state.live.environment());
        demo::seed_disputes(c, &settings, now).unwrap();
    });

    for email in LOGINS {
        page.set_width(DESKTOP).await;
        page.login(email, demo::PASSWORD).await;
        let pages = pages_of_role(page).await;
        for path in &pages {
            page.goto(path).await;
            assert!(
                page.js_bool(
                    "const ul = document.querySelector('.main-nav ul');
                     const ls = [...ul.querySelectorAll('li')];
                     return ls.length > 0 && ls.every(l => l.offsetTop === ls[0].offsetTop)
                       && ul.scrollWidth <= ul.clientWidth"
                )
                .await,
                "the navigation of {email} is one line, all of it in sight, at {DESKTOP} px on {path}"
            );
        }
        if pages.iter().any(|p| p == "/catalogue") {
            page.goto("/catalogue").await;
            assert!(
                page.js_bool("return document.querySelector('[data-test=filters]').open")
                    .await,
                "the catalogue's filters are open on a desktop"
            );
        }

        // The API-keys table shows every key's Revoke button inside its box.
        page.goto("/settings/organisation").await;
        page.fill("name", "CRM integration").await;
        page.submit("form[action='/settings/api-keys']").await;
        assert!(
            page.js_bool(
                "const bs = [...document.querySelectorAll('form[action$=\"/revoke\"] button')];
                 return bs.length > 0 && bs.every(b => {
                   const box = (b.closest('.table-wrap') || document.documentElement).getBoundingClientRect();
                   const r = b.getBoundingClientRect();
                   return r.width > 0 && r.left >= box.left && r.right <= box.right;
                 })"
            )
            .await,
            "Revoke is visible without scrolling at {DESKTOP} px"
        );

        page.set_width(PHONE).await;
        for path in &pages {
            page.goto(path).await;
        }
        assert!(
            !page
                .js_bool("return document.querySelector('.main-nav').offsetParent !== null")
                .await,
            "on a phone the navigation is folded behind the menu button"
        );
        page.open_menu().await;
        assert!(
            page.js_bool("return document.querySelector('.main-nav').offsetParent !== null")
                .await,
            "the menu button shows the navigation"
        );
        page.assert_fits().await;
        if pages.iter().any(|p| p == "/catalogue") {
            page.goto("/catalogue").await;
            assert!(
                !page
                    .js_bool("return document.querySelector('[data-test=filters]').open")
                    .await,
                "the catalogue's filters are folded on a phone"
            );
        }
        page.logout().await;
        // Checked at both widths already; signed out they would only show the login page.
        page.forget_visited();
    }
}
