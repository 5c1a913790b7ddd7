//! Segments and channels kept by admins (issue 24): add, rename, move and retire, each
//! audited; a retired slug is refused at intake with that reason and stays on the leads
//! that have it; a moved segment keeps its slug and the catalogue, standing orders and
//! prices follow it to its new parent. Only admins reach the page and its forms, each
//! with its token.

use diesel::prelude::*;
use leadmarket::db::schema::leads;
use leadmarket::domain::Role;
use leadmarket::domain::audit::{AuditAction, AuditActor};
use leadmarket::store;

use crate::builders::{AgencyBuilder, BuyerBuilder, LeadBuilder, StandingOrderBuilder};
use crate::helpers::{Browser, TestApp};
use crate::on_both_backends;

on_both_backends!(
    an_admin_adds_renames_and_retires_segments_and_channels_and_intake_refuses_the_retired,
    a_moved_segment_keeps_its_slug_and_the_catalogue_orders_and_prices_follow_it,
    two_moves_at_once_never_put_two_segments_under_each_other,
    only_an_admin_changes_segments_and_channels_and_every_form_needs_its_token,
);

async fn post(b: &Browser, path: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let token = b.csrf("/admin/segments").await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(extra);
    b.post_form(path, &form).await
}

async fn an_admin_adds_renames_and_retires_segments_and_channels_and_intake_refuses_the_retired(
    app: &TestApp,
) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let admin = app.browser();
    admin.login(&admin_email).await;

    let add = [
        ("kind", "segment"),
        ("slug", "insurance.pet"),
        ("name", "Pet insurance"),
        ("parent", "insurance"),
    ];
    assert_eq!(post(&admin, "/admin/segments", &add).await.status(), 303);
    let (_, html) = admin.get_text("/admin/segments").await;
    assert!(html.contains("Added `insurance.pet`."), "{html}");
    assert!(
        html.contains(r#"data-slug="insurance.pet" data-retired="false""#),
        "{html}"
    );
    // A bad one is refused with the reason, and what was typed stays.
    let resp = post(
        &admin,
        "/admin/segments",
        &[
            ("kind", "segment"),
            ("slug", "pets.cats"),
            ("name", "Cats"),
            ("parent", "insurance"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("must be `insurance.` and one more part"),
        "{html}"
    );
    assert!(html.contains(r#"value="pets.cats""#), "{html}");
    assert_eq!(post(&admin, "/admin/segments", &add).await.status(), 422);
    let resp = post(
        &admin,
        "/admin/channels",
        &[
            ("kind", "channel"),
            ("slug", "podcast"),
            ("name", "Podcast"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let resp = post(
        &admin,
        "/admin/segments/travel/rename",
        &[("name", "Travel, tours and cruises")],
    )
    .await;
    assert_eq!(resp.status(), 303);

    // New leads may use what was added.
    let pet = LeadBuilder::new(1)
        .segment("insurance.pet")
        .set("channel", "podcast")
        .post(app, &agency.token)
        .await;

    // Retired: the lead keeps it, new ones are refused with the reason.
    for path in [
        "/admin/segments/insurance.pet/retire",
        "/admin/channels/flyer/retire",
    ] {
        assert_eq!(post(&admin, path, &[]).await.status(), 303, "{path}");
    }
    let (_, html) = admin.get_text("/admin/segments").await;
    assert!(html.contains("Retired: intake refuses it"), "{html}");
    assert!(
        html.contains(r#"data-slug="insurance.pet" data-retired="true""#),
        "{html}"
    );
    let kept: String = app.with_conn(|c| {
        leads::table
            .find(&pet)
            .select(leads::segment)
            .first(c)
            .unwrap()
    });
    assert_eq!(kept, "insurance.pet");
    for (n, field, value, says) in [
        (2, "segment", "insurance.pet", "is a retired segment"),
        (3, "channel", "flyer", "is a retired channel"),
    ] {
        let (status, body) = app
            .post_json(
                "/api/v1/leads",
                &agency.token,
                &LeadBuilder::new(n).set(field, value).json(),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains(says), "{body}");
    }
    let (_, segments) = app.get_json("/api/v1/segments", &agency.token).await;
    let pet_item = segments["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "insurance.pet")
        .unwrap()
        .clone();
    assert_eq!(pet_item["retired"], true, "{pet_item}");
    // A parent goes after its live sub-segments.
    assert_eq!(
        post(&admin, "/admin/segments/insurance/retire", &[])
            .await
            .status(),
        303
    );
    let (_, html) = admin.get_text("/admin/segments").await;
    assert!(html.contains("Retire its sub-segments first"), "{html}");
    assert!(html.contains(r#"data-slug="insurance" data-retired="false""#));
    // An unknown one is not there to change.
    assert_eq!(
        post(&admin, "/admin/segments/nothing/retire", &[])
            .await
            .status(),
        404
    );

    let log = app.with_conn(|c| store::audit::recent(c, 100).unwrap());
    let changes: Vec<(AuditAction, String)> = log
        .iter()
        .filter(|e| {
            matches!(
                e.action,
                AuditAction::SegmentChanged | AuditAction::ChannelChanged
            )
        })
        .map(|e| {
            assert_eq!(e.actor, AuditActor::Admin);
            assert_eq!(e.address.as_deref(), Some("127.0.0.1"));
            (e.action, e.detail.clone().unwrap())
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                AuditAction::ChannelChanged,
                "channel flyer: live -> retired (old leads keep it)".to_string()
            ),
            (
                AuditAction::SegmentChanged,
                "segment insurance.pet: live -> retired (old leads keep it)".to_string()
            ),
            (
                AuditAction::SegmentChanged,
                "segment travel renamed: Travel and tours -> Travel, tours and cruises".to_string()
            ),
            (
                AuditAction::ChannelChanged,
                "channel podcast added, named Podcast".to_string()
            ),
            (
                AuditAction::SegmentChanged,
                "segment insurance.pet added under insurance, named Pet insurance".to_string()
            ),
        ]
    );
}

/// The ids the buyer's catalogue lists under `query`.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let (status, body) = app
        .get_json(&format!("/api/v1/catalogue?{query}"), token)
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn a_moved_segment_keeps_its_slug_and_the_catalogue_orders_and_prices_follow_it(
    app: &TestApp,
) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let buyer = BuyerBuilder::new("Keystone")
        .credit(10_000_000)
        .create(app)
        .await;
    let buyer_org = app.with_conn(|c| store::organisations::find(c, &buyer.id).unwrap());
    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let admin = app.browser();
    admin.login(&admin_email).await;
    let add = [("kind", "segment"), ("slug", "motor"), ("name", "Motor")];
    assert_eq!(post(&admin, "/admin/segments", &add).await.status(), 303);
    // Motor leads are worth more: a price rule on the new parent.
    app.with_conn(|c| {
        diesel::insert_into(leadmarket::db::schema::price_rules::table)
            .values((
                leadmarket::db::schema::price_rules::kind.eq("segment"),
                leadmarket::db::schema::price_rules::match_value.eq("motor"),
                leadmarket::db::schema::price_rules::factor_bp.eq(20_000),
            ))
            .execute(c)
            .unwrap()
    });
    let before = LeadBuilder::new(1)
        .segment("insurance.car")
        .price_cents(1000)
        .post(app, &agency.token)
        .await;
    assert!(
        listed(app, &buyer.token, "segment=insurance")
            .await
            .contains(&before)
    );
    assert!(listed(app, &buyer.token, "segment=motor").await.is_empty());

    let resp = post(
        &admin,
        "/admin/segments/insurance.car/move",
        &[("parent", "motor")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin.get_text("/admin/segments").await;
    assert!(html.contains("Moved, with everything under it"), "{html}");
    assert!(
        html.contains(
            r#"data-slug="insurance.car" data-retired="false" data-parent="motor" data-depth="1""#
        ),
        "{html}"
    );
    // The tree's order: the moved segment right after its new parent.
    let motor_at = html.find(r#"data-slug="motor""#).unwrap();
    let car_at = html.find(r#"data-slug="insurance.car""#).unwrap();
    assert!(motor_at < car_at, "{html}");
    assert_eq!(
        post(
            &admin,
            "/admin/segments/insurance.car/move",
            &[("parent", "motor")]
        )
        .await
        .status(),
        303
    );
    let (_, html) = admin.get_text("/admin/segments").await;
    assert!(html.contains("It is there already."), "{html}");

    // The lead keeps its slug and is found under its segment's new parent only.
    let kept: String = app.with_conn(|c| {
        leads::table
            .find(&before)
            .select(leads::segment)
            .first(c)
            .unwrap()
    });
    assert_eq!(kept, "insurance.car");
    assert!(
        !listed(app, &buyer.token, "segment=insurance")
            .await
            .contains(&before)
    );
    assert_eq!(
        listed(app, &buyer.token, "segment=motor").await,
        std::slice::from_ref(&before)
    );
    assert_eq!(
        listed(app, &buyer.token, "segment=insurance.car").await,
        std::slice::from_ref(&before)
    );
    // A standing order on the new parent takes a new lead of the moved segment, and
    // the parent's price rule prices it.
    let order = StandingOrderBuilder::new(&buyer_org)
        .filter("segment=motor")
        .insert(app);
    let (status, answer) = app
        .post_json(
            "/api/v1/leads",
            &agency.token,
            &LeadBuilder::new(2)
                .segment("insurance.car")
                .price_cents(1000)
                .json(),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["sold_to_orders"], 1, "{answer}");
    let lead_id = answer["id"].as_str().unwrap().to_string();
    let (order_of, paid): (Option<String>, i64) = app.with_conn(|c| {
        leadmarket::db::schema::purchases::table
            .filter(leadmarket::db::schema::purchases::lead_id.eq(&lead_id))
            .select((
                leadmarket::db::schema::purchases::standing_order_id,
                leadmarket::db::schema::purchases::price_cents,
            ))
            .first(c)
            .unwrap()
    });
    assert_eq!(order_of.as_deref(), Some(order.id.as_str()));
    assert_eq!(answer["price_cents"].as_i64(), Some(paid));
    let quoted: i64 = app.with_conn(|c| {
        leads::table
            .find(&before)
            .select(leads::list_price_cents)
            .first(c)
            .unwrap()
    });
    assert!(
        paid > quoted,
        "the motor rule ({paid}) prices above the old insurance one ({quoted})"
    );

    // Never under itself, nor a live one under a retired one; the refusal says why.
    for (slug, parent, says) in [
        ("insurance", "insurance.health", "cannot move under itself"),
        ("motor", "insurance.car", "cannot move under itself"),
        ("insurance.travel", "nowhere", "is not a known segment"),
    ] {
        let resp = post(
            &admin,
            &format!("/admin/segments/{slug}/move"),
            &[("parent", parent)],
        )
        .await;
        assert_eq!(resp.status(), 303);
        let (_, html) = admin.get_text("/admin/segments").await;
        assert!(html.contains(says), "{slug} under {parent}: {html}");
    }
    assert_eq!(
        post(&admin, "/admin/segments/education/retire", &[])
            .await
            .status(),
        303
    );
    post(
        &admin,
        "/admin/segments/insurance.travel/move",
        &[("parent", "education")],
    )
    .await;
    let (_, html) = admin.get_text("/admin/segments").await;
    assert!(
        html.contains("a live segment cannot move under it"),
        "{html}"
    );
    assert_eq!(
        post(&admin, "/admin/segments/nothing/move", &[("parent", "")])
            .await
            .status(),
        404
    );
    // Back to the top.
    post(
        &admin,
        "/admin/segments/insurance.car/move",
        &[("parent", "")],
    )
    .await;
    let tree = app.with_conn(|c| store::reference::segment_tree(c).unwrap());
    assert_eq!(tree.lineage_owned("insurance.car"), ["insurance.car"]);
    assert_eq!(tree.parent("insurance.travel"), Some("insurance"));

    let moves: Vec<String> = app
        .with_conn(|c| store::audit::recent(c, 100).unwrap())
        .into_iter()
        .filter(|e| e.action == AuditAction::SegmentChanged)
        .filter_map(|e| e.detail)
        .filter(|d| d.contains("moved"))
        .collect();
    assert_eq!(
        moves,
        [
            "segment insurance.car moved: under motor -> the top",
            "segment insurance.car moved: under insurance -> under motor",
        ]
    );
}

async fn two_moves_at_once_never_put_two_segments_under_each_other(app: &TestApp) {
    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let admin = app.browser();
    admin.login(&admin_email).await;
    let token = admin.csrf("/admin/segments").await;
    for _ in 0..5 {
        let form = |parent: &'static str| {
            [
                ("csrf_token", token.clone()),
                ("parent", parent.to_string()),
            ]
        };
        let (a, b) = (form("insurance"), form("finance"));
        let a: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let b: Vec<(&str, &str)> = b.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (first, second) = tokio::join!(
            admin.post_form("/admin/segments/finance/move", &a),
            admin.post_form("/admin/segments/insurance/move", &b),
        );
        assert_eq!(
            (first.status().as_u16(), second.status().as_u16()),
            (303, 303)
        );
        let tree = app.with_conn(|c| store::reference::segment_tree(c).unwrap());
        let finance_under = tree.parent("finance") == Some("insurance");
        let insurance_under = tree.parent("insurance") == Some("finance");
        assert!(finance_under != insurance_under, "exactly one moved");
        app.with_conn(|c| {
            store::reference::move_segment(c, "finance", None).unwrap();
            store::reference::move_segment(c, "insurance", None).unwrap();
        });
    }
}

async fn only_an_admin_changes_segments_and_channels_and_every_form_needs_its_token(app: &TestApp) {
    let (platform, _) = app.member(Role::Admin, "Platform");
    let finance = app.user(&platform, Role::Finance);
    let (_, agency) = app.member(Role::Agency, "Acme Leads");
    let (_, buyer) = app.member(Role::Buyer, "Keystone");
    let forms: [(&str, &[(&str, &str)]); 5] = [
        (
            "/admin/segments",
            &[("kind", "segment"), ("slug", "pets"), ("name", "Pets")],
        ),
        (
            "/admin/channels",
            &[("kind", "channel"), ("slug", "radio"), ("name", "Radio")],
        ),
        ("/admin/segments/travel/rename", &[("name", "Trips")]),
        ("/admin/channels/sms/retire", &[]),
        (
            "/admin/segments/insurance.car/move",
            &[("parent", "finance")],
        ),
    ];
    for email in [&finance, &agency, &buyer] {
        let b = app.browser();
        b.login(email).await;
        assert_eq!(b.get("/admin/segments").await.status(), 403, "{email}");
        let own = b.csrf("/dashboard").await;
        for (path, fields) in forms {
            let mut form = vec![("csrf_token", own.as_str())];
            form.extend_from_slice(fields);
            assert_eq!(
                b.post_form(path, &form).await.status(),
                403,
                "{email} {path}"
            );
        }
    }
    let resp = app.browser().get("/admin/segments").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/login?next=%2Fadmin%2Fsegments"
    );
    let admin_email = app.user(&platform, Role::Admin);
    let admin = app.browser();
    admin.login(&admin_email).await;
    for token in ["", "not-the-token"] {
        for (path, fields) in forms {
            let mut form = vec![("csrf_token", token)];
            form.extend_from_slice(fields);
            assert_eq!(
                admin.post_form(path, &form).await.status(),
                403,
                "{path} {token:?}"
            );
        }
    }
    // Nothing changed.
    let segments = app.with_conn(|c| store::reference::segments(c).unwrap());
    assert!(!segments.iter().any(|s| s.slug == "pets"));
    assert!(
        segments
            .iter()
            .any(|s| s.slug == "travel" && s.name != "Trips")
    );
    assert!(
        segments
            .iter()
            .any(|s| s.slug == "insurance.car" && s.parent.as_deref() == Some("insurance"))
    );
    let channels = app.with_conn(|c| store::reference::channels(c).unwrap());
    assert!(channels.iter().all(|c| c.retired_at.is_none()));
}
