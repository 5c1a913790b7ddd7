//! Guessing is throttled in the database, so every `serve` process shares the counts:
//! passwords per account and address (also under concurrency), API keys and postback
//! tokens per address.

use futures_util::future::join_all;
use leadmarket::domain::Role;
use leadmarket::services::billing;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(
    forty_wrong_passwords_at_once_are_checked_at_most_five_times_then_the_account_waits,
    one_accounts_failures_never_lock_another_account_out_from_the_same_address,
);

on_both_backends!(
    with [("TRUST_PROXY_HEADERS", "true"), ("LOGIN_ADDRESS_MAX_FAILURES", "8")] =>
    an_address_that_fails_for_many_accounts_waits_at_its_own_larger_limit,
);

on_both_backends!(
    with [("TRUST_PROXY_HEADERS", "true")] =>
    ten_wrong_api_keys_from_one_address_make_even_the_right_key_wait,
    ten_wrong_postback_tokens_from_one_address_make_even_the_right_token_wait,
);

async fn forty_wrong_passwords_at_once_are_checked_at_most_five_times_then_the_account_waits(
    app: &TestApp,
) {
    let (_, email) = app.member(Role::Agency, "Acme Leads");
    let mut browsers = Vec::new();
    for _ in 0..40 {
        let b = app.browser();
        let token = b.csrf("/login").await;
        browsers.push((b, token));
    }
    let statuses: Vec<u16> = join_all(browsers.iter().map(|(b, token)| async {
        b.post_form(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", email.as_str()),
                ("password", "wrong-password"),
            ],
        )
        .await
        .status()
        .as_u16()
    }))
    .await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        (1..=5).contains(&checked),
        "{checked} passwords were checked: {statuses:?}"
    );
    assert_eq!(checked + throttled, 40, "{statuses:?}");
    let resp = app.browser().login_attempt(&email, PASSWORD).await;
    assert_eq!(resp.status(), 429, "the right password waits too");
    assert!(resp.headers().contains_key("retry-after"));
}

async fn one_accounts_failures_never_lock_another_account_out_from_the_same_address(app: &TestApp) {
    let (org, guessed) = app.member(Role::Agency, "Acme Leads");
    let colleague = app.user(&org, Role::Agency);
    let b = app.browser();
    for _ in 0..5 {
        assert_eq!(
            b.login_attempt(&guessed, "wrong-password").await.status(),
            401
        );
    }
    assert_eq!(
        b.login_attempt(&guessed, PASSWORD).await.status(),
        429,
        "the guessed account waits"
    );
    // Same browser, same address: the colleague signs in at once.
    let resp = app.browser().login_attempt(&colleague, PASSWORD).await;
    assert_eq!(resp.status(), 303, "another account is not locked out");
}

async fn an_address_that_fails_for_many_accounts_waits_at_its_own_larger_limit(app: &TestApp) {
    let (org, _) = app.member(Role::Agency, "Acme Leads");
    let office = "203.0.113.20";
    let b = app.browser();
    // Eight failures over four accounts: no account reaches its own limit of five.
    for i in 0..8 {
        let email = format!("someone{}@example.com", i % 4);
        let resp = b
            .login_attempt_from(&email, "wrong-password", Some(office))
            .await;
        assert_eq!(resp.status(), 401, "attempt {i}");
    }
    let user = app.user(&org, Role::Agency);
    let resp = b.login_attempt_from(&user, PASSWORD, Some(office)).await;
    assert_eq!(resp.status(), 429, "the address is full");
    let resp = b
        .login_attempt_from(&user, PASSWORD, Some("198.51.100.20"))
        .await;
    assert_eq!(resp.status(), 303, "other addresses are not held up");
}

async fn token_request(app: &TestApp, key: &str, from: &str) -> reqwest::Response {
    app.api()
        .post(app.url("/api/v1/auth/token"))
        .header("X-Forwarded-For", from)
        .json(&serde_json::json!({"api_key": key}))
        .send()
        .await
        .unwrap()
}

async fn assert_rate_limited(resp: reqwest::Response) {
    assert_eq!(resp.status(), 429);
    let wait: i64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&wait), "Retry-After {wait}");
    let json: Value = resp.json().await.unwrap();
    assert_eq!(json["error"]["code"], "rate_limited");
}

async fn ten_wrong_api_keys_from_one_address_make_even_the_right_key_wait(app: &TestApp) {
    let (org, _) = app.member(Role::Agency, "Acme Leads");
    let key = app.api_key(&org);
    let guesser = "203.0.113.5";
    assert_eq!(token_request(app, &key, guesser).await.status(), 200);
    for i in 0..10 {
        let guess = format!("lmk_{:064x}", i);
        assert_eq!(token_request(app, &guess, guesser).await.status(), 401);
    }
    assert_rate_limited(token_request(app, &key, guesser).await).await;
    assert_eq!(
        token_request(app, &key, "198.51.100.7").await.status(),
        200,
        "other addresses are not held up"
    );
}

async fn ten_wrong_postback_tokens_from_one_address_make_even_the_right_token_wait(app: &TestApp) {
    let (buyer, _) = app.member(Role::Buyer, "Keystone");
    let token = app
        .with_conn(|c| billing::rotate_postback_token(c, &buyer.id))
        .unwrap();
    let postback = |token: String, from: &'static str| {
        let url = app.url(&format!(
            "/api/v1/postback?token={token}&lead_id=no-such-lead&kind=call&key=k1"
        ));
        async move {
            app.api()
                .get(url)
                .header("X-Forwarded-For", from)
                .send()
                .await
                .unwrap()
        }
    };
    let guesser = "203.0.113.6";
    // The right token passes the check (the lead is not the buyer's, hence 404).
    assert_eq!(postback(token.clone(), guesser).await.status(), 404);
    for i in 0..10 {
        let guess = format!("lmp_guess{i}");
        assert_eq!(postback(guess, guesser).await.status(), 401);
    }
    assert_rate_limited(postback(token.clone(), guesser).await).await;
    assert_eq!(
        postback(token, "198.51.100.7").await.status(),
        404,
        "other addresses are not held up"
    );
}
