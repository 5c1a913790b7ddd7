//! Fixture builders. Each starts from defaults that make a valid fixture, so a test names
//! only what it is about (`LeadBuilder::new(1).age(34).country("GB").post(app, &token)`),
//! and a new column or API field changes one place here.
//!
//! `post` goes through the public API, as an agency or buyer would; `insert` writes a row
//! directly, for fixtures the API cannot make (a finished batch); `create` makes an
//! organisation through the account services and exchanges an API key for a token.

use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::domain::intake::BatchStatus;
use leadmarket::domain::lead::LeadKind;
use leadmarket::services::{billing, market};
use leadmarket::store::{self, batches::BatchRow, organisations::OrganisationRow};
use serde_json::{Value, json};

use crate::helpers::{TestApp, ctx, recent_rfc3339, this_month};

/// A lead for `POST /api/v1/leads`. The n-th lead has its own name, email and phone (so
/// the leads of one test are not duplicates of each other) and an age that varies with n.
pub struct LeadBuilder {
    fields: Value,
}

impl LeadBuilder {
    pub fn new(n: usize) -> Self {
        LeadBuilder {
            fields: json!({
                "first_name": format!("Ann{n}"), "last_name": "Lee", "email": format!("ann{n}@example.com"),
                "phone": format!("+4479111{:05}", 10_000 + n), "age": 30 + (n % 40), "country": "DE",
                "warmth": "warm", "contact_type": "interested", "consent_at": recent_rfc3339(10),
                "captured_at": recent_rfc3339(9), "segment": "travel", "channel": "web_form",
                "price_cents": 1000, "consent_text": "ok", "max_sales": 3
            }),
        }
    }

    /// Any field of the API's lead body, by its name there.
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields[field] = value.into();
        self
    }

    pub fn age(self, age: usize) -> Self {
        self.set("age", age)
    }

    pub fn country(self, country: &str) -> Self {
        self.set("country", country)
    }

    pub fn segment(self, segment: &str) -> Self {
        self.set("segment", segment)
    }

    pub fn warmth(self, warmth: &str) -> Self {
        self.set("warmth", warmth)
    }

    pub fn email(self, email: &str) -> Self {
        self.set("email", email)
    }

    pub fn phone(self, phone: &str) -> Self {
        self.set("phone", phone)
    }

    pub fn price_cents(self, cents: i64) -> Self {
        self.set("price_cents", cents)
    }

    pub fn max_sales(self, max_sales: i64) -> Self {
        self.set("max_sales", max_sales)
    }

    /// Billed per action: a delivery fee (`price_cents`) plus `action_price_cents` per
    /// reported action.
    pub fn per_action(self, action_price_cents: i64) -> Self {
        self.set("billing", "per_action")
            .set("action_price_cents", action_price_cents)
    }

    /// The request body, for a test that sends it itself (to see it refused).
    pub fn json(self) -> Value {
        self.fields
    }

    /// Posts the lead as the agency holding `token`; it must be accepted (201). Returns its id.
    pub async fn post(self, app: &TestApp, token: &str) -> String {
        let resp = app
            .post_as(token, "/api/v1/leads")
            .json(&self.fields)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

/// An agency with one user and an access token.
pub struct AgencyBuilder<'a> {
    name: &'a str,
}

pub struct Agency {
    pub org: OrganisationRow,
    /// The one user's email (the password is `helpers::PASSWORD`).
    pub email: String,
    pub token: String,
}

impl<'a> AgencyBuilder<'a> {
    pub fn new(name: &'a str) -> Self {
        AgencyBuilder { name }
    }

    pub async fn create(self, app: &TestApp) -> Agency {
        let (org, email) = app.member(Role::Agency, self.name);
        let token = app.token(&app.api_key(&org)).await;
        Agency { org, email, token }
    }
}

/// A buyer organisation with a credit limit (0 unless set) and an access token.
pub struct BuyerBuilder<'a> {
    name: &'a str,
    credit_limit_cents: i64,
}

pub struct Buyer {
    /// The organisation's id.
    pub id: String,
    pub token: String,
}

impl<'a> BuyerBuilder<'a> {
    pub fn new(name: &'a str) -> Self {
        BuyerBuilder {
            name,
            credit_limit_cents: 0,
        }
    }

    pub fn credit(mut self, limit_cents: i64) -> Self {
        self.credit_limit_cents = limit_cents;
        self
    }

    pub async fn create(self, app: &TestApp) -> Buyer {
        self.create_with_login(app).await.0
    }

    /// As `create`, with the email of the one user (the password is `helpers::PASSWORD`).
    pub async fn create_with_login(self, app: &TestApp) -> (Buyer, String) {
        let (org, email) = app.member(Role::Buyer, self.name);
        app.with_conn(|c| market::set_credit_limit(c, &org.slug, self.credit_limit_cents))
            .unwrap();
        let token = app.token(&app.api_key(&org)).await;
        (Buyer { id: org.id, token }, email)
    }
}

/// A purchase of leads by id through `POST /api/v1/purchases`.
pub struct PurchaseBuilder {
    lead_ids: Vec<String>,
}

impl PurchaseBuilder {
    pub fn of<S: AsRef<str>>(lead_ids: impl IntoIterator<Item = S>) -> Self {
        PurchaseBuilder {
            lead_ids: lead_ids
                .into_iter()
                .map(|id| id.as_ref().to_string())
                .collect(),
        }
    }

    /// Buys as the buyer holding `token`; the sale must go through (201). Returns the body.
    pub async fn post(self, app: &TestApp, token: &str) -> Value {
        let (status, body) = app
            .post_json(
                "/api/v1/purchases",
                token,
                &json!({ "lead_ids": self.lead_ids }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}

/// A finished batch of an agency, written directly (the API only makes running ones).
pub struct BatchBuilder<'a> {
    agency: &'a OrganisationRow,
}

impl<'a> BatchBuilder<'a> {
    pub fn new(agency: &'a OrganisationRow) -> Self {
        BatchBuilder { agency }
    }

    pub fn insert(self, app: &TestApp) -> BatchRow {
        let now = store::now();
        let row = BatchRow {
            id: uuid::Uuid::new_v4().to_string(),
            agency_id: self.agency.id.clone(),
            kind: LeadKind::Consumer,
            order_id: None,
            segment: Some("insurance.car".into()),
            channel: Some("web_form".into()),
            price_cents: 2500,
            max_sales: 1,
            billing: "per_lead".into(),
            action_price_cents: None,
            consent_text: "I agree to be contacted.".into(),
            source: "api".into(),
            filename: None,
            status: BatchStatus::Done,
            error: None,
            rows_total: 10,
            rows_done: 10,
            accepted: 7,
            rejected: 2,
            duplicates: 1,
            suppressed: 0,
            created_by: None,
            created_at: now,
            finished_at: Some(now),
            headers: String::new(),
            unknown_columns: String::new(),
            file_size: 0,
            traffic: None,
        };
        store::batches::insert(&mut app.conn(), &row).expect("batch");
        row
    }
}

/// Buyers that each bought `leads_each` plain leads of one agency; returns their ids.
pub async fn buyers_who_bought(app: &TestApp, buyers: usize, leads_each: usize) -> Vec<String> {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let mut out = Vec::new();
    for b in 0..buyers {
        let buyer = BuyerBuilder::new(&format!("Buyer {b}"))
            .credit(10_000_000)
            .create(app)
            .await;
        let mut ids = Vec::new();
        for i in 0..leads_each {
            ids.push(
                LeadBuilder::new(b * 100 + i)
                    .max_sales(3)
                    .post(app, &agency.token)
                    .await,
            );
        }
        PurchaseBuilder::of(&ids).post(app, &buyer.token).await;
        out.push(buyer.id);
    }
    out
}

/// An issued invoice of a buyer who bought two leads; returns (buyer id, invoice id, total).
pub async fn an_issued_invoice(app: &TestApp) -> (String, String, i64) {
    let buyers = buyers_who_bought(app, 1, 2).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app
        .with_conn(|c| store::invoices::list(c, Some(&buyers[0]), false))
        .unwrap()
        .remove(0);
    let invoice = app
        .with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    (buyers[0].clone(), invoice.id, invoice.total_cents)
}

/// A standing order of a buyer, written directly (for tests of allocation and delivery
/// that are not about the order's API): active, all day, no cap, no budget, no delivery,
/// unless said.
#[allow(dead_code, reason = "the allocation and delivery tests use it")]
pub struct StandingOrderBuilder {
    row: store::standing_orders::StandingOrderRow,
}

#[allow(dead_code, reason = "the allocation and delivery tests use it")]
impl StandingOrderBuilder {
    pub fn new(buyer: &OrganisationRow) -> Self {
        let now = store::now();
        StandingOrderBuilder {
            row: store::standing_orders::StandingOrderRow {
                id: store::new_id(),
                buyer_id: buyer.id.clone(),
                name: "Every lead".into(),
                filter_query: String::new(),
                segment: None,
                country: None,
                max_price_cents: 100_000,
                daily_cap: None,
                budget_cents: None,
                spent_cents: 0,
                cap_day: None,
                today_count: 0,
                deliver_email: None,
                callback_url: None,
                secret: "test-secret-0123456789abcdef".into(),
                active: true,
                active_from_minute: None,
                active_to_minute: None,
                last_allocated_at: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            },
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.row.name = name.into();
        self
    }

    /// A catalogue filter query (`segment=travel&country=DE`); its segment and country
    /// are copied to the index keys, as the services do.
    pub fn filter(mut self, query: &str) -> Self {
        self.row.filter_query = query.into();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "segment" => self.row.segment = Some(v.into_owned()),
                "country" => self.row.country = Some(v.into_owned()),
                _ => {}
            }
        }
        self
    }

    pub fn max_price_cents(mut self, cents: i64) -> Self {
        self.row.max_price_cents = cents;
        self
    }

    pub fn daily_cap(mut self, cap: i32) -> Self {
        self.row.daily_cap = Some(cap);
        self
    }

    pub fn budget_cents(mut self, cents: i64) -> Self {
        self.row.budget_cents = Some(cents);
        self
    }

    pub fn deliver_email(mut self, to: &str) -> Self {
        self.row.deliver_email = Some(to.into());
        self
    }

    pub fn callback_url(mut self, url: &str) -> Self {
        self.row.callback_url = Some(url.into());
        self
    }

    pub fn secret(mut self, secret: &str) -> Self {
        self.row.secret = secret.into();
        self
    }

    pub fn inactive(mut self) -> Self {
        self.row.active = false;
        self
    }

    /// `[from, to)` in minutes after the buyer's local midnight.
    pub fn active_minutes(mut self, from: i32, to: i32) -> Self {
        self.row.active_from_minute = Some(from);
        self.row.active_to_minute = Some(to);
        self
    }

    pub fn insert(self, app: &TestApp) -> store::standing_orders::StandingOrderRow {
        use diesel::RunQueryDsl;
        let row = self.row;
        app.with_conn(|conn| {
            diesel::insert_into(leadmarket::db::schema::standing_orders::table)
                .values(&row)
                .execute(conn)
                .unwrap()
        });
        row
    }
}
