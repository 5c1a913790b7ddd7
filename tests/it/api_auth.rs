//! API keys to tokens, and tokens that must be refused: expired, forged, other algorithm,
//! revoked key. Also the API's organisation scoping and role checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use leadmarket::domain::{Role, token};
use serde_json::Value;

use crate::builders::BatchBuilder;
use crate::helpers::{JWT_SECRET, TestApp};
use crate::on_both_backends;

on_both_backends!(
    an_api_key_buys_a_short_lived_bearer_token,
    bad_keys_get_401_in_the_documented_shape,
    expired_forged_and_other_algorithm_tokens_get_401,
    a_revoked_key_stops_its_tokens_at_once,
    agencies_read_only_their_own_batches_through_the_api,
    the_openapi_document_lists_the_endpoints,
);

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = app.api().get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn an_api_key_buys_a_short_lived_bearer_token(app: &TestApp) {
    let (org, _) = app.member(Role::Buyer, "Keystone");
    let key = app.api_key(&org);
    let resp = app
        .api()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"api_key": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let claims = token::verify(&app.state.config().jwt, token).unwrap();
    assert_eq!(claims.sub, org.id);
    assert!(claims.exp - claims.iat <= 900);

    let (status, body) = get(app, "/api/v1/segments", Some(token)).await;
    assert_eq!(status, 200);
    let slugs: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 16);
    assert!(slugs.contains(&"insurance.car") && slugs.contains(&"medical"));
    let car = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "insurance.car")
        .unwrap();
    assert_eq!(car["parent"], "insurance");
    let (status, body) = get(app, "/api/v1/channels", Some(token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 15);
}

async fn bad_keys_get_401_in_the_documented_shape(app: &TestApp) {
    for body in [
        serde_json::json!({"api_key": "lmk_nope"}),
        serde_json::json!({"api_key": format!("lmk_{}", "0".repeat(64))}),
    ] {
        let resp = app
            .api()
            .post(app.url("/api/v1/auth/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["code"], "unauthorized");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("API key")
        );
        assert!(json["error"]["details"].is_array());
    }
    let resp = app
        .api()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = app
        .api()
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let json: Value = resp.json().await.unwrap();
    assert_eq!(json["error"]["code"], "bad_request");
    let (status, json) = get(app, "/api/v1/segments", None).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"]["code"], "unauthorized");
}

async fn expired_forged_and_other_algorithm_tokens_get_401(app: &TestApp) {
    let (org, _) = app.member(Role::Agency, "Acme Leads");
    let key = app.api_key(&org);
    let good = app.token(&key).await;
    let claims = token::verify(&app.state.config().jwt, &good).unwrap();
    let now = chrono::Utc::now().timestamp();

    let expired = token::issue(&app.state.config().jwt, &org.id, &claims.kid, now - 1000);
    let (status, body) = get(app, "/api/v1/segments", Some(&expired)).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let payload = good.split('.').nth(1).unwrap();
    let unsigned = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    let other_secret = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    )
    .unwrap();
    let mut tampered_claims = claims.clone();
    tampered_claims.sub = "someone-else".into();
    let tampered = format!(
        "{}.{}.{}",
        good.split('.').next().unwrap(),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).unwrap()),
        good.split('.').nth(2).unwrap()
    );
    for (what, t) in [
        ("HS512", hs512),
        ("alg none", unsigned),
        ("other secret", other_secret),
        ("tampered", tampered),
    ] {
        let (status, body) = get(app, "/api/v1/segments", Some(&t)).await;
        assert_eq!(status, 401, "{what}");
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    }
    assert_eq!(get(app, "/api/v1/segments", Some(&good)).await.0, 200);
}

async fn a_revoked_key_stops_its_tokens_at_once(app: &TestApp) {
    let (org, _) = app.member(Role::Buyer, "Keystone");
    let key = app.api_key(&org);
    let token = app.token(&key).await;
    let key_id = token::verify(&app.state.config().jwt, &token).unwrap().kid;
    assert_eq!(get(app, "/api/v1/channels", Some(&token)).await.0, 200);
    app.with_conn(|c| leadmarket::store::api_keys::revoke(c, &org.id, &key_id))
        .unwrap();
    let (status, body) = get(app, "/api/v1/channels", Some(&token)).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

async fn agencies_read_only_their_own_batches_through_the_api(app: &TestApp) {
    let (a, _) = app.member(Role::Agency, "Agency A");
    let (b, _) = app.member(Role::Agency, "Agency B");
    let (buyer, _) = app.member(Role::Buyer, "Keystone");
    let batch = BatchBuilder::new(&a).insert(app);
    let path = format!("/api/v1/batches/{}", batch.id);

    let a_token = app.token(&app.api_key(&a)).await;
    let (status, body) = get(app, &path, Some(&a_token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], batch.id.as_str());
    assert_eq!(body["status"], "done");
    assert_eq!(body["accepted"], 7);
    assert_eq!(body["rejected"], 2);
    assert_eq!(body["duplicates"], 1);
    assert_eq!(body["suppressed"], 0);
    assert_eq!(body["rows_total"], 10);

    let b_token = app.token(&app.api_key(&b)).await;
    let (status, body) = get(app, &path, Some(&b_token)).await;
    assert_eq!(status, 404, "another agency's batch is not found");
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(
        get(app, "/api/v1/batches/not-a-uuid", Some(&b_token))
            .await
            .0,
        404
    );

    let buyer_token = app.token(&app.api_key(&buyer)).await;
    let (status, body) = get(app, &path, Some(&buyer_token)).await;
    assert_eq!(status, 403, "buyers have no batches");
    assert_eq!(body["error"]["code"], "forbidden");
}

async fn the_openapi_document_lists_the_endpoints(app: &TestApp) {
    let (status, doc) = get(app, "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/token",
        "/api/v1/segments",
        "/api/v1/channels",
        "/api/v1/batches/{id}",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
