//! "Forgot password" end to end: the mailed one-time link (captured by the memory
//! transport), the same answer for unknown addresses, single use, expiry, the throttle,
//! and the account's sessions ending with the old password.

use diesel::prelude::*;
use leadmarket::db::schema::{outbox, password_resets};
use leadmarket::domain::Role;
use leadmarket::mail::SentMail;

use crate::helpers::{Browser, PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_mailed_link_sets_a_new_password_once_and_signs_out_everywhere,
    an_unknown_address_gets_the_same_answer_and_no_mail,
    an_expired_link_sets_nothing,
);

on_both_backends!(with [("LOGIN_MAX_FAILURES", "2")] =>
    asking_again_and_again_is_throttled,
);

const NEW_PASSWORD: &str = "a-brand-new-password";

async fn ask(b: &Browser, email: &str) -> (u16, String) {
    let csrf = b.csrf("/password/forgot").await;
    let resp = b
        .post_form(
            "/password/forgot",
            &[("csrf_token", csrf.as_str()), ("email", email)],
        )
        .await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The reset mail to `to`, once the outbox worker has sent it.
async fn mail_to(app: &TestApp, to: &str) -> SentMail {
    for _ in 0..100 {
        if let Some(m) = app.state.mailer.sent().into_iter().find(|m| m.to == to) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail to {to}");
}

fn link_path(mail: &SentMail) -> String {
    let start = mail.text.find("/password/reset?token=").expect("a link");
    mail.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

async fn set_password(b: &Browser, path: &str, password: &str) -> reqwest::Response {
    let (_, page) = b.get_text(path).await;
    let csrf = crate::helpers::csrf_from(&page).expect("a form");
    let token = path.split("token=").nth(1).unwrap();
    b.post_form(
        "/password/reset",
        &[
            ("csrf_token", csrf.as_str()),
            ("token", token),
            ("password", password),
        ],
    )
    .await
}

async fn a_mailed_link_sets_a_new_password_once_and_signs_out_everywhere(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let signed_in = app.browser();
    signed_in.login(&email).await;
    let (_, login) = app.browser().get_text("/login").await;
    assert!(login.contains("href=\"/password/forgot\""), "{login}");

    let b = app.browser();
    let (status, page) = ask(&b, &email).await;
    assert_eq!(status, 200);
    assert!(page.contains("If an account uses that email"), "{page}");
    let mail = mail_to(app, &email).await;
    assert_eq!(mail.subject, "Set a new password for leadmarket");
    let path = link_path(&mail);
    let token = path.split("token=").nth(1).unwrap().to_string();
    // Stored only hashed.
    let stored: Vec<String> = app.with_conn(|c| {
        password_resets::table
            .select(password_resets::token_hash)
            .load(c)
            .unwrap()
    });
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    let short = set_password(&b, &path, "short").await;
    assert_eq!(short.status(), 422);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("Password must be at least 10 characters"),
        "the refusal is said beside the field"
    );
    let resp = set_password(&b, &path, NEW_PASSWORD).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    let (_, login) = b.get_text("/login").await;
    assert!(login.contains("Your new password is set"), "{login}");

    assert_eq!(
        app.browser().login_attempt(&email, PASSWORD).await.status(),
        401
    );
    assert_eq!(
        app.browser()
            .login_attempt(&email, NEW_PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(
        signed_in.get("/dashboard").await.status(),
        303,
        "the session signed in with the old password has ended"
    );
    // The link works once.
    let (status, page) = b.get_text(&path).await;
    assert_eq!(status, 410);
    assert!(page.contains("expired or was used already"), "{page}");
    let csrf = b.csrf("/password/forgot").await;
    let again = b
        .post_form(
            "/password/reset",
            &[
                ("csrf_token", csrf.as_str()),
                ("token", token.as_str()),
                ("password", "yet-another-password"),
            ],
        )
        .await;
    assert_eq!(again.status(), 410);
    assert_eq!(
        app.browser()
            .login_attempt(&email, NEW_PASSWORD)
            .await
            .status(),
        303
    );
}

async fn an_unknown_address_gets_the_same_answer_and_no_mail(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    let (known_status, known) = ask(&b, &email).await;
    let (unknown_status, unknown) = ask(&b, "nobody@example.com").await;
    assert_eq!((known_status, unknown_status), (200, 200));
    let body = |html: &str| {
        let start = html.find("<h1>").unwrap();
        html[start..].to_string()
    };
    assert_eq!(body(&known), body(&unknown), "the same page either way");
    let recipients: Vec<String> = app.with_conn(|c| {
        outbox::table
            .filter(outbox::template.eq("password_reset"))
            .select(outbox::recipient)
            .load(c)
            .unwrap()
    });
    assert_eq!(recipients, vec![email]);
}

async fn an_expired_link_sets_nothing(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    ask(&b, &email).await;
    let path = link_path(&mail_to(app, &email).await);
    let past = leadmarket::store::now() - chrono::TimeDelta::minutes(1);
    app.with_conn(|c| {
        diesel::update(password_resets::table)
            .set(password_resets::expires_at.eq(past))
            .execute(c)
            .unwrap()
    });
    let (status, page) = b.get_text(&path).await;
    assert_eq!(status, 410);
    assert!(page.contains("Ask for a new link"), "{page}");
    let csrf = b.csrf("/password/forgot").await;
    let token = path.split("token=").nth(1).unwrap();
    let resp = b
        .post_form(
            "/password/reset",
            &[
                ("csrf_token", csrf.as_str()),
                ("token", token),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), 410);
    assert_eq!(
        app.browser().login_attempt(&email, PASSWORD).await.status(),
        303
    );
}

async fn asking_again_and_again_is_throttled(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    assert_eq!(ask(&b, &email).await.0, 200);
    assert_eq!(ask(&b, &email).await.0, 200);
    assert_eq!(ask(&b, &email).await.0, 429, "the account's limit");
    assert_eq!(
        ask(&b, "nobody@example.com").await.0,
        200,
        "another address typed has its own count"
    );
    assert_eq!(ask(&b, "nobody@example.com").await.0, 200);
    assert_eq!(
        ask(&b, "nobody@example.com").await.0,
        429,
        "throttled alike"
    );
}
