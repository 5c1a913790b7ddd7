//! Dispute pages: a buyer opens and follows its disputes, an agency answers them, finance
//! decides contested and overdue ones with both sides and the lead's evidence in view, an
//! admin lifts a suspension, and the automatic rules are published.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::OrgStatus;
use crate::domain::disputes::{AUTO_RULES, AutoRule, DisputeActor, DisputeStatus, REASONS};
use crate::error::{AppError, AppResult};
use crate::services::disputes::{self, Actor, Answer, Settings};
use crate::store;
use crate::store::disputes::{DisputeRow, Scope};
use crate::web::auth::{AdminUser, AgencyUser, BuyerUser, FinanceUser};
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{money, redirect, render};

pub struct DisputeLine {
    pub id: String,
    pub lead_id: String,
    /// The lead as people know it: "captured 3 Nov 2026, Car insurance".
    pub lead_captured: String,
    pub lead_segment: String,
    /// Name, phone and email, on the buyer's page only (what it bought); empty when the
    /// contact was erased. `None` for the agency and finance: a dispute is no reason to
    /// show them a contact (privacy before sale holds for the platform's staff too).
    pub lead_contact: Option<String>,
    pub reason: String,
    pub comment: String,
    pub status: String,
    pub decided_by: String,
    pub evidence: String,
    pub agency_comment: String,
    pub decision_comment: String,
    pub amount: String,
    pub opened: String,
    pub answer_by: String,
    pub other_side: String,
    pub waiting_for_agency: bool,
}

fn line(
    d: DisputeRow,
    names: &std::collections::HashMap<String, String>,
    other: &str,
    currency: &str,
) -> DisputeLine {
    DisputeLine {
        waiting_for_agency: d.status == DisputeStatus::Open,
        other_side: names.get(other).cloned().unwrap_or_default(),
        amount: money(d.amount_cents, currency),
        opened: d.created_at.format("%Y-%m-%d %H:%M").to_string(),
        answer_by: d.deadline_at.format("%Y-%m-%d %H:%M").to_string(),
        decided_by: d.decided_by.map(|a| a.to_string()).unwrap_or_default(),
        evidence: d.evidence.unwrap_or_default(),
        agency_comment: d.agency_comment.unwrap_or_default(),
        decision_comment: d.decision_comment.unwrap_or_default(),
        id: d.id,
        lead_id: d.lead_id,
        lead_captured: String::new(),
        lead_segment: String::new(),
        lead_contact: None,
        reason: d.reason,
        comment: d.comment,
        status: d.status.to_string(),
    }
}

/// Whose page a dispute is shown on: it decides the other side's name and whether the
/// lead's contact is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Buyer,
    Agency,
    Finance,
}

fn lines(
    conn: &mut crate::db::AnyConnection,
    rows: Vec<DisputeRow>,
    side: Side,
    currency: &str,
) -> Result<Vec<DisputeLine>, AppError> {
    let buyer_side = side == Side::Buyer;
    let ids: Vec<String> = rows
        .iter()
        .map(|d| {
            if buyer_side {
                d.agency_id.clone()
            } else {
                d.buyer_id.clone()
            }
        })
        .collect();
    let names = store::organisations::names(conn, &ids)?;
    let lead_ids: Vec<String> = rows.iter().map(|d| d.lead_id.clone()).collect();
    let leads: std::collections::HashMap<String, store::disputes::DisputedLead> =
        store::disputes::disputed_leads(conn, &lead_ids)?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
    let segments: std::collections::HashMap<String, String> = store::reference::segments(conn)?
        .into_iter()
        .map(|s| (s.slug, s.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|d| {
            let other = if buyer_side {
                d.agency_id.clone()
            } else {
                d.buyer_id.clone()
            };
            let lead = leads.get(&d.lead_id).cloned();
            let mut view = line(d, &names, &other, currency);
            if let Some(l) = lead {
                view.lead_captured = l.captured_at.format("%-d %b %Y").to_string();
                view.lead_segment = segments.get(&l.segment).cloned().unwrap_or(l.segment);
                if buyer_side {
                    let name = [l.first_name, l.last_name]
                        .into_iter()
                        .flatten()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    view.lead_contact = Some(
                        [Some(name), l.phone, l.email]
                            .into_iter()
                            .flatten()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" · "),
                    );
                }
            }
            view
        })
        .collect())
}

#[derive(Template)]
#[template(path = "disputes/list.html")]
struct ListPage {
    layout: Layout,
    agency: bool,
    disputes: Vec<DisputeLine>,
    flash: Option<Flash>,
    /// The agency's own standing, on its page.
    quality: Option<QualityView>,
}

/// An agency's returns over the last 30 days, as buyers and the suspension rule see them.
pub struct QualityView {
    pub approved: i64,
    pub sales: i64,
    /// The share buyers see, or empty while sales are below the minimum.
    pub rate: String,
    pub threshold: String,
    pub min_sales: i64,
    pub suspended: bool,
}

pub async fn buyer_list(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    let (org, c) = (user.org_id.clone(), state.config().currency.clone());
    let disputes = state
        .db(move |conn| {
            let rows = store::disputes::list(conn, Scope::Buyer(&org), &[])?;
            lines(conn, rows, Side::Buyer, &c)
        })
        .await?;
    render(&ListPage {
        layout: Layout::for_user(&user, "Disputes", "/disputes"),
        agency: false,
        disputes,
        flash: flash::take(&session),
        quality: None,
    })
}

#[derive(Deserialize)]
pub struct OpenForm {
    lead_id: String,
    reason: String,
    #[serde(default)]
    comment: String,
}

pub async fn buyer_open(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> AppResult<HttpResponse> {
    let (config, buyer, user_id) = (state.config().clone(), user.org_id.clone(), user.id.clone());
    let d = state
        .db(move |conn| {
            disputes::open(
                conn,
                &Settings::from(&*config),
                &buyer,
                Some(&form.lead_id),
                None,
                &form.reason,
                &form.comment,
                Actor {
                    kind: DisputeActor::Buyer,
                    user_id: Some(&user_id),
                },
                store::now(),
            )
        })
        .await;
    let d = match d {
        Ok(d) => d,
        // A second dispute of a purchase: the first is on the list the buyer lands on.
        Err(AppError::Conflict {
            code: "already_disputed",
            ..
        }) => {
            let notice = "You disputed this lead already: its dispute is listed here.";
            flash::set(&session, Flash::notice(notice))?;
            return Ok(redirect("/disputes"));
        }
        // Refused (window closed, cap reached, no reason): said on My leads, where the
        // form is, rather than on an error page.
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            flash::set(&session, Flash::refused(&e))?;
            return Ok(redirect("/purchases"));
        }
        Err(e) => return Err(e),
    };
    let notice = if d.status == DisputeStatus::Approved {
        format!(
            "Approved at once ({}): {} is credited on your next invoice.",
            d.evidence.unwrap_or_default(),
            money(d.amount_cents, &state.config().currency)
        )
    } else {
        "Dispute opened: the agency answers within its deadline, or finance decides.".into()
    };
    flash::set(&session, Flash::notice(notice))?;
    Ok(redirect("/disputes"))
}

pub async fn agency_list(
    user: AgencyUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    let (org, config) = (user.org_id.clone(), state.config().clone());
    let (disputes, quality) = state
        .db(move |conn| {
            let rows = store::disputes::list(conn, Scope::Agency(&org), &[])?;
            let rules = &config.disputes;
            let (approved, sales) =
                store::disputes::agency_rate_since(conn, &org, store::now() - TimeDelta::days(30))?;
            let suspended = store::organisations::find(conn, &org)?.status == OrgStatus::Suspended;
            let quality = QualityView {
                approved,
                sales,
                rate: crate::domain::disputes::quality_score(approved, sales, rules.min_sales)
                    .map(|q| format!("{:.1}%", q * 100.0))
                    .unwrap_or_default(),
                threshold: format!("{:.1}%", rules.suspend_bp as f64 / 100.0),
                min_sales: rules.min_sales,
                suspended,
            };
            Ok::<_, AppError>((lines(conn, rows, Side::Agency, &config.currency)?, quality))
        })
        .await?;
    render(&ListPage {
        layout: Layout::for_user(&user, "Disputes", "/agency/disputes"),
        agency: true,
        disputes,
        flash: flash::take(&session),
        quality: Some(quality),
    })
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    comment: String,
    /// A checkbox: present when the agency flags the lead as bad.
    #[serde(default)]
    flag_lead: Option<String>,
}

async fn agency_answer(
    req: HttpRequest,
    user: AgencyUser,
    state: web::Data<AppState>,
    session: Session,
    id: String,
    answer: Answer,
    comment: String,
) -> AppResult<HttpResponse> {
    let (config, agency, by) = (
        state.config().clone(),
        user.org_id.clone(),
        who(&req, &user, &state),
    );
    state
        .db(move |conn| {
            disputes::agency_answer(
                conn,
                &Settings::from(&*config),
                &agency,
                &id,
                answer,
                &comment,
                &by,
                store::now(),
            )
        })
        .await?;
    let notice = match answer {
        Answer::Accept => "Accepted: the buyer is credited and it comes off your statement.",
        Answer::AcceptAndFlag => {
            "Accepted and flagged: the buyer is credited, the lead is withdrawn from sale and later returns of it are approved at once."
        }
        Answer::Contest => "Contested: finance decides, with your comment in view.",
    };
    flash::set(&session, Flash::notice(notice))?;
    Ok(redirect("/agency/disputes"))
}

pub async fn agency_accept(
    req: HttpRequest,
    user: AgencyUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<HttpResponse> {
    let how = if form.flag_lead.is_some() {
        Answer::AcceptAndFlag
    } else {
        Answer::Accept
    };
    agency_answer(
        req,
        user,
        state,
        session,
        path.into_inner(),
        how,
        form.comment,
    )
    .await
}

pub async fn agency_contest(
    req: HttpRequest,
    user: AgencyUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<HttpResponse> {
    agency_answer(
        req,
        user,
        state,
        session,
        path.into_inner(),
        Answer::Contest,
        form.comment,
    )
    .await
}

/// A case on finance's queue: both sides, the lead's intake evidence and the history.
pub struct Case {
    pub d: DisputeLine,
    pub buyer: String,
    pub agency: String,
    pub consent: String,
    pub flags: String,
    pub captured: String,
    pub lead_status: String,
    pub buyer_returns: String,
    pub agency_rate: String,
    pub events: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "disputes/queue.html")]
struct QueuePage {
    layout: Layout,
    cases: Vec<Case>,
    all: bool,
    flash: Option<Flash>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    all: Option<String>,
}

pub async fn queue(
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<QueueQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let all = q.all.is_some();
    let (c, min_sales) = (
        state.config().currency.clone(),
        state.config().disputes.min_sales,
    );
    let cases = state
        .db(move |conn| {
            let statuses: &[DisputeStatus] = if all {
                &[]
            } else {
                &[DisputeStatus::Contested, DisputeStatus::Escalated]
            };
            let rows = store::disputes::list(conn, Scope::All, statuses)?;
            let now = store::now();
            let since = now - TimeDelta::days(30);
            let ids: Vec<String> = rows
                .iter()
                .flat_map(|d| [d.buyer_id.clone(), d.agency_id.clone()])
                .collect();
            let names = store::organisations::names(conn, &ids)?;
            let views = lines(conn, rows.clone(), Side::Finance, &c)?;
            let mut cases = Vec::new();
            for (d, view) in rows.into_iter().zip(views) {
                let (consent, flags, captured, lead_status) =
                    store::disputes::lead_intake_evidence(conn, &d.lead_id)?;
                let (approved, opened) =
                    store::disputes::buyer_returns_since(conn, &d.buyer_id, since)?;
                let bought = store::disputes::buyer_purchases_since(conn, &d.buyer_id, since)?;
                let (agency_approved, sales) =
                    store::disputes::agency_rate_since(conn, &d.agency_id, since)?;
                let events = store::disputes::events(conn, &d.id)?
                    .into_iter()
                    .map(|e| {
                        (
                            e.created_at.format("%Y-%m-%d %H:%M").to_string(),
                            e.actor.to_string(),
                            e.action.to_string(),
                            e.note,
                        )
                    })
                    .collect();
                cases.push(Case {
                    buyer: names.get(&d.buyer_id).cloned().unwrap_or_default(),
                    agency: names.get(&d.agency_id).cloned().unwrap_or_default(),
                    consent,
                    flags: if flags.is_empty() { "none".into() } else { flags },
                    captured: captured.format("%Y-%m-%d %H:%M").to_string(),
                    lead_status,
                    buyer_returns: format!(
                        "{opened} disputes ({approved} approved) on {bought} purchases in 30 days"
                    ),
                    agency_rate: match crate::domain::disputes::quality_score(
                        agency_approved,
                        sales,
                        min_sales,
                    ) {
                        Some(q) => format!(
                            "{:.1}% of {sales} sales returned in 30 days",
                            q * 100.0
                        ),
                        None => format!(
                            "{agency_approved} approved returns on {sales} sales in 30 days (too few to rate)"
                        ),
                    },
                    events,
                    d: view,
                });
            }
            Ok(cases)
        })
        .await?;
    render(&QueuePage {
        layout: Layout::for_user(&user, "Disputes", "/finance/disputes"),
        cases,
        all,
        flash: flash::take(&session),
    })
}

#[derive(Deserialize)]
pub struct DecideForm {
    decision: String,
    comment: String,
}

pub async fn decide(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<HttpResponse> {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(AppError::invalid("decision", "must be approve or reject"));
        }
    };
    let (config, id, by) = (
        state.config().clone(),
        path.into_inner(),
        who(&req, &user, &state),
    );
    let d = state
        .db(move |conn| {
            disputes::finance_decide(
                conn,
                &Settings::from(&*config),
                &id,
                approve,
                &form.comment,
                &by,
                store::now(),
            )
        })
        .await?;
    flash::set(&session, Flash::notice(format!("Dispute {}.", d.status)))?;
    Ok(redirect("/finance/disputes"))
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn reinstate(
    _user: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    if !state.db(move |conn| disputes::reinstate(conn, &id)).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/admin/organisations"))
}

#[derive(Template)]
#[template(path = "help/disputes.html")]
struct HelpPage {
    layout: Layout,
    rules: &'static [AutoRule],
    reasons: &'static [&'static str],
    window_days: i64,
    cap_percent: i64,
    answer_days: u32,
    suspend_percent: String,
    min_sales: i64,
}

pub async fn help(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let d = state.config().disputes;
    render(&HelpPage {
        layout: Layout::anonymous("How disputes are decided"),
        rules: &AUTO_RULES,
        reasons: &REASONS,
        window_days: d.window_days,
        cap_percent: d.cap_bp / 100,
        answer_days: d.answer_working_days,
        suspend_percent: format!("{:.1}", d.suspend_bp as f64 / 100.0),
        min_sales: d.min_sales,
    })
}
