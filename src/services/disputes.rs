//! Disputes: opening (window, cap, one per purchase), the platform's own decisions, the
//! agency's answer, finance's decision on contested or overdue cases, the money through
//! the ledger in the same transaction as the decision, and agency quality with automatic
//! suspension. Every step is recorded and mailed to the other side.

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::DisputeConfig;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::OrgStatus;
use crate::domain::audit::{AuditAction, Who};
use crate::domain::disputes::{
    self as rules, DisputeActor, DisputeEvent, DisputeStatus, FAKE_REASONS, LeadFacts, REASONS,
};
use crate::domain::ledger::TransactionKind;
use crate::domain::money;
use crate::error::{AppError, FieldProblem};
use crate::mail;
use crate::services;
use crate::services::billing::Ctx;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::disputes::DisputeRow;

/// What a dispute needs from the configuration.
#[derive(Clone, Copy)]
pub struct Settings<'a> {
    pub rules: DisputeConfig,
    pub billing: Ctx<'a>,
}

impl<'a> From<&'a crate::config::Config> for Settings<'a> {
    fn from(c: &'a crate::config::Config) -> Self {
        Settings {
            rules: c.disputes,
            billing: Ctx::from(c),
        }
    }
}

/// Who acts on a dispute.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub kind: DisputeActor,
    pub user_id: Option<&'a str>,
}

fn org_name(conn: &mut AnyConnection, id: &str) -> Result<String, AppError> {
    Ok(store::organisations::find(conn, id)?.name)
}

#[expect(clippy::too_many_arguments, reason = "who, what and where of one mail")]
fn tell(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    to_org: &str,
    headline: String,
    d: &DisputeRow,
    detail: String,
    path: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let recipient_name = org_name(conn, to_org)?;
    to_organisation(
        conn,
        to_org,
        &mail::DisputeUpdate {
            seller_name: s.billing.cfg.seller_name.clone(),
            recipient_name,
            headline,
            reason: d.reason.clone(),
            detail,
            url: format!("{}{path}", s.billing.public_url),
        },
        now,
    )?;
    Ok(())
}

/// One dispute per purchase: a second is a conflict with the first (409), not bad input.
fn already_disputed() -> AppError {
    AppError::Conflict {
        code: "already_disputed",
        message: "you disputed this lead already".into(),
    }
}

/// Opens a dispute on a lead the buyer bought (by lead id or purchase id), refusing it
/// outside the window, twice, over the cap, or for a lead that is not the buyer's. What
/// the platform can check itself is approved at once.
#[expect(clippy::too_many_arguments, reason = "a dispute has this many inputs")]
pub fn open(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    buyer_id: &str,
    lead_id: Option<&str>,
    purchase_id: Option<&str>,
    reason: &str,
    comment: &str,
    actor: Actor<'_>,
    now: NaiveDateTime,
) -> Result<DisputeRow, AppError> {
    let comment = comment.trim();
    let mut problems = Vec::new();
    if !REASONS.contains(&reason) {
        problems.push(FieldProblem::new(
            "reason",
            format!("must be one of {}", REASONS.join(", ")),
        ));
    }
    if comment.chars().count() > 2000 {
        problems.push(FieldProblem::new(
            "comment",
            "must be at most 2000 characters",
        ));
    }
    if lead_id.is_none() && purchase_id.is_none() {
        problems.push(FieldProblem::new(
            "lead_id",
            "name the lead_id or the purchase_id",
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    write_transaction(conn, |conn| {
        // The cap below counts, then inserts: one buyer's disputes open one at a time.
        store::organisations::lock(conn, buyer_id)?;
        let (purchase_id, lead_id, agency_id, price, commission, bought_at) =
            store::disputes::purchase_of(conn, buyer_id, lead_id, purchase_id)?
                .ok_or(AppError::NotFound)?;
        if !rules::within_window(bought_at, now, s.rules.window_days) {
            return Err(AppError::invalid(
                "lead_id",
                format!(
                    "the return window of {} days after purchase has closed",
                    s.rules.window_days
                ),
            ));
        }
        if store::disputes::exists_for_purchase(conn, &purchase_id)? {
            return Err(already_disputed());
        }
        let since = now - TimeDelta::days(30);
        let opened = store::disputes::buyer_disputes_since(conn, buyer_id, since)?;
        let bought = store::disputes::buyer_purchases_since(conn, buyer_id, since)?;
        if !rules::within_cap(opened, bought, s.rules.cap_bp) {
            return Err(AppError::invalid(
                "lead_id",
                format!(
                    "you may return at most {}% of what you bought in the last 30 days",
                    s.rules.cap_bp / 100
                ),
            ));
        }
        let row = DisputeRow {
            id: store::new_id(),
            purchase_id,
            lead_id: lead_id.clone(),
            buyer_id: buyer_id.to_string(),
            agency_id: agency_id.clone(),
            reason: reason.to_string(),
            comment: comment.to_string(),
            status: DisputeStatus::Open,
            decided_by: None,
            evidence: None,
            agency_comment: None,
            decision_comment: None,
            amount_cents: price,
            deadline_at: rules::add_working_days(now, s.rules.answer_working_days),
            credit_transaction_id: None,
            created_at: now,
            decided_at: None,
        };
        // One dispute per purchase: the unique constraint answers a second one.
        let inserted = write_transaction(conn, |c| store::disputes::insert(c, &row));
        match inserted {
            Ok(()) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                return Err(already_disputed());
            }
            Err(e) => return Err(e.into()),
        }
        store::disputes::record(
            conn,
            &row.id,
            actor.kind,
            actor.user_id,
            DisputeEvent::Opened,
            comment,
            now,
        )?;
        let (phone, email, country, status, flags, phone_key, email_key) =
            store::disputes::lead_evidence(conn, &lead_id)?;
        let facts = LeadFacts {
            bought_same_person_before: store::disputes::bought_same_person_before(
                conn,
                buyer_id,
                &lead_id,
                bought_at,
                phone_key.as_deref(),
                email_key.as_deref(),
            )?,
            agency_flagged: flags.split(',').any(|f| f == "agency_flagged"),
            phone,
            email,
            country,
            status,
        };
        if let Some(evidence) = rules::auto_decision(reason, &facts) {
            return approve(
                conn,
                s,
                &row.id,
                &[DisputeStatus::Open],
                DisputeActor::Platform,
                Actor {
                    kind: DisputeActor::Platform,
                    user_id: None,
                },
                Some(&evidence),
                None,
                commission,
                now,
            );
        }
        let buyer_name = org_name(conn, buyer_id)?;
        tell(
            conn,
            s,
            &agency_id,
            format!("{buyer_name} disputes a lead you sold"),
            &row,
            format!(
                "Answer by {}: accept to credit the buyer, or contest with a comment. Without an answer, finance decides.",
                row.deadline_at.format("%Y-%m-%d %H:%M UTC")
            ),
            "/agency/disputes",
            now,
        )?;
        Ok(row)
    })
}

/// Approves a dispute still in one of `from`: credits the buyer and debits the agency
/// (commission included) in this transaction, withdraws a fake lead from sale, and
/// suspends the agency when its returns pass the threshold.
#[expect(
    clippy::too_many_arguments,
    reason = "one decision, its evidence and its money"
)]
fn approve(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    id: &str,
    from: &[DisputeStatus],
    decided_by: DisputeActor,
    actor: Actor<'_>,
    evidence: Option<&str>,
    comment: Option<&str>,
    commission_cents: i64,
    now: NaiveDateTime,
) -> Result<DisputeRow, AppError> {
    if !store::disputes::transition(
        conn,
        id,
        from,
        DisputeStatus::Approved,
        Some(decided_by),
        now,
    )? {
        return Err(AppError::Conflict {
            code: "already_decided",
            message: "this dispute was decided already".into(),
        });
    }
    let d = store::disputes::find(conn, id)?;
    let tx =
        money::dispute_credit_postings(&d.buyer_id, &d.agency_id, d.amount_cents, commission_cents)
            .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let transaction_id = store::ledger::post(
        conn,
        TransactionKind::DisputeCredit,
        &format!("dispute {} approved ({})", d.id, d.reason),
        &tx,
    )?;
    store::credit::add_owed(conn, &d.buyer_id, -d.amount_cents)?;
    store::disputes::set_decision(conn, id, comment, evidence, Some(&transaction_id))?;
    store::disputes::record(
        conn,
        id,
        actor.kind,
        actor.user_id,
        DisputeEvent::Approved,
        evidence.or(comment).unwrap_or(""),
        now,
    )?;
    if FAKE_REASONS.contains(&d.reason.as_str()) {
        store::disputes::withdraw_lead(conn, &d.lead_id)?;
    }
    let agency = org_name(conn, &d.agency_id)?;
    let buyer = org_name(conn, &d.buyer_id)?;
    let credit = money::format_amount(d.amount_cents, s.billing.currency);
    tell(
        conn,
        s,
        &d.buyer_id,
        format!("Your dispute of a lead from {agency} is approved"),
        &d,
        format!("{credit} is credited on your next invoice."),
        "/disputes",
        now,
    )?;
    if decided_by != DisputeActor::Agency {
        tell(
            conn,
            s,
            &d.agency_id,
            format!("A dispute by {buyer} is approved"),
            &d,
            format!(
                "Decided by {decided_by}. {credit} less the platform's commission comes off your statement."
            ),
            "/agency/disputes",
            now,
        )?;
    }
    check_quality(conn, s, &d.agency_id, now)?;
    Ok(store::disputes::find(conn, id)?)
}

/// Suspends an agency whose approved disputes passed the threshold, and mails it and
/// the platform's admins.
fn check_quality(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    agency_id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (approved, sales) =
        store::disputes::agency_rate_since(conn, agency_id, now - TimeDelta::days(30))?;
    if !rules::must_suspend(approved, sales, s.rules.min_sales, s.rules.suspend_bp) {
        return Ok(());
    }
    if !store::disputes::set_agency_status(conn, agency_id, OrgStatus::Suspended)? {
        return Ok(());
    }
    let m = mail::AgencySuspended {
        seller_name: s.billing.cfg.seller_name.clone(),
        agency_name: org_name(conn, agency_id)?,
        rate: format!("{:.1}%", approved as f64 * 100.0 / sales as f64),
        threshold: format!("{:.1}%", s.rules.suspend_bp as f64 / 100.0),
        url: format!("{}/admin/organisations", s.billing.public_url),
    };
    to_organisation(conn, agency_id, &m, now)?;
    if let Some(platform) = store::disputes::platform_id(conn)? {
        to_organisation(conn, &platform, &m, now)?;
    }
    Ok(())
}

/// An agency's answer to a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The buyer is credited.
    Accept,
    /// The buyer is credited and the agency flags the lead as bad: it leaves the
    /// catalogue, and any later dispute of it is approved by the platform at once.
    AcceptAndFlag,
    /// Finance decides.
    Contest,
}

/// The agency accepts (the buyer is credited) or contests (finance decides).
#[expect(
    clippy::too_many_arguments,
    reason = "an answer, who gives it and when"
)]
pub fn agency_answer(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    agency_id: &str,
    dispute_id: &str,
    answer: Answer,
    comment: &str,
    by: &Who,
    now: NaiveDateTime,
) -> Result<DisputeRow, AppError> {
    let user_id = by.user_id.as_deref();
    let comment = comment.trim();
    let accept = answer != Answer::Contest;
    if !accept && comment.is_empty() {
        return Err(AppError::invalid(
            "comment",
            "say why you contest the dispute",
        ));
    }
    write_transaction(conn, |conn| {
        let d = store::disputes::find(conn, dispute_id)?;
        if d.agency_id != agency_id {
            return Err(AppError::NotFound);
        }
        if d.status != DisputeStatus::Open {
            return Err(AppError::Conflict {
                code: "already_decided",
                message: "this dispute is no longer waiting for your answer".into(),
            });
        }
        store::disputes::set_agency_comment(conn, dispute_id, comment)?;
        let actor = Actor {
            kind: DisputeActor::Agency,
            user_id,
        };
        if answer == Answer::AcceptAndFlag {
            store::leads::add_flag(conn, &d.lead_id, "agency_flagged")?;
            store::disputes::withdraw_lead(conn, &d.lead_id)?;
            store::disputes::record(
                conn,
                dispute_id,
                DisputeActor::Agency,
                user_id,
                DisputeEvent::Flagged,
                "the agency flagged the lead as bad and withdrew it from sale",
                now,
            )?;
        }
        if accept {
            let commission = commission_of(conn, &d)?;
            let decided = approve(
                conn,
                s,
                dispute_id,
                &[DisputeStatus::Open],
                DisputeActor::Agency,
                actor,
                None,
                Some(comment),
                commission,
                now,
            )?;
            audit_decision(conn, by, &d, &decided, now)?;
            return Ok(decided);
        }
        if !store::disputes::transition(
            conn,
            dispute_id,
            &[DisputeStatus::Open],
            DisputeStatus::Contested,
            None,
            now,
        )? {
            return Err(AppError::Conflict {
                code: "already_decided",
                message: "this dispute is no longer waiting for your answer".into(),
            });
        }
        store::disputes::record(
            conn,
            dispute_id,
            DisputeActor::Agency,
            user_id,
            DisputeEvent::Contested,
            comment,
            now,
        )?;
        let agency = org_name(conn, agency_id)?;
        tell(
            conn,
            s,
            &d.buyer_id,
            format!("{agency} contests your dispute"),
            &d,
            format!("Their answer: {comment}. Finance will decide."),
            "/disputes",
            now,
        )?;
        let contested = store::disputes::find(conn, dispute_id)?;
        audit_decision(conn, by, &d, &contested, now)?;
        Ok(contested)
    })
}

/// A decision goes to the audit log: the dispute, its status before and after and the
/// amount; never the comments, which are free text that may quote the lead's contact.
fn audit_decision(
    conn: &mut AnyConnection,
    by: &Who,
    before: &DisputeRow,
    after: &DisputeRow,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let detail = format!(
        "dispute {} ({}) on lead {}: {} -> {}, amount {} (minor units), buyer {}",
        after.id,
        after.reason,
        after.lead_id,
        before.status,
        after.status,
        after.amount_cents,
        after.buyer_id
    );
    services::audit::record(
        conn,
        by,
        AuditAction::DisputeDecided,
        Some(&after.agency_id),
        &detail,
        now,
    )
}

fn commission_of(conn: &mut AnyConnection, d: &DisputeRow) -> Result<i64, AppError> {
    Ok(
        store::disputes::purchase_of(conn, &d.buyer_id, None, Some(&d.purchase_id))?
            .map(|p| p.4)
            .unwrap_or(0),
    )
}

/// Finance decides a contested or escalated dispute (also an open one, to save time).
pub fn finance_decide(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    dispute_id: &str,
    approve_it: bool,
    comment: &str,
    by: &Who,
    now: NaiveDateTime,
) -> Result<DisputeRow, AppError> {
    let user_id = by.user_id.as_deref();
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(AppError::invalid(
            "comment",
            "say why, for both sides to read",
        ));
    }
    write_transaction(conn, |conn| {
        let d = store::disputes::find(conn, dispute_id)?;
        let from = [
            DisputeStatus::Open,
            DisputeStatus::Contested,
            DisputeStatus::Escalated,
        ];
        let actor = Actor {
            kind: DisputeActor::Finance,
            user_id,
        };
        if approve_it {
            let commission = commission_of(conn, &d)?;
            let decided = approve(
                conn,
                s,
                dispute_id,
                &from,
                DisputeActor::Finance,
                actor,
                None,
                Some(comment),
                commission,
                now,
            )?;
            audit_decision(conn, by, &d, &decided, now)?;
            return Ok(decided);
        }
        if !store::disputes::transition(
            conn,
            dispute_id,
            &from,
            DisputeStatus::Rejected,
            Some(DisputeActor::Finance),
            now,
        )? {
            return Err(AppError::Conflict {
                code: "already_decided",
                message: "this dispute was decided already".into(),
            });
        }
        store::disputes::set_decision(conn, dispute_id, Some(comment), None, None)?;
        store::disputes::record(
            conn,
            dispute_id,
            DisputeActor::Finance,
            user_id,
            DisputeEvent::Rejected,
            comment,
            now,
        )?;
        for (org, path) in [
            (&d.buyer_id, "/disputes"),
            (&d.agency_id, "/agency/disputes"),
        ] {
            tell(
                conn,
                s,
                org,
                "A dispute is rejected by finance".into(),
                &d,
                format!("Finance's reason: {comment}"),
                path,
                now,
            )?;
        }
        let rejected = store::disputes::find(conn, dispute_id)?;
        audit_decision(conn, by, &d, &rejected, now)?;
        Ok(rejected)
    })
}

/// Open disputes past their deadline go to finance; returns how many.
pub fn escalate_overdue(
    conn: &mut AnyConnection,
    s: &Settings<'_>,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let mut n = 0;
    for id in store::disputes::overdue(conn, now)? {
        write_transaction(conn, |conn| -> Result<(), AppError> {
            if store::disputes::transition(
                conn,
                &id,
                &[DisputeStatus::Open],
                DisputeStatus::Escalated,
                None,
                now,
            )? {
                store::disputes::record(
                    conn,
                    &id,
                    DisputeActor::Platform,
                    None,
                    DisputeEvent::Escalated,
                    "the agency did not answer in time",
                    now,
                )?;
                let d = store::disputes::find(conn, &id)?;
                tell(
                    conn,
                    s,
                    &d.agency_id,
                    "A dispute went to finance without your answer".into(),
                    &d,
                    "The answer deadline passed; finance decides now.".into(),
                    "/agency/disputes",
                    now,
                )?;
                n += 1;
            }
            Ok(())
        })?;
    }
    Ok(n)
}

/// An admin lifts an agency's suspension.
pub fn reinstate(conn: &mut AnyConnection, agency_id: &str) -> Result<bool, AppError> {
    Ok(store::disputes::set_agency_status(
        conn,
        agency_id,
        OrgStatus::Active,
    )?)
}

/// Approved disputes per sale over 30 days, once there is enough volume.
pub fn quality(
    conn: &mut AnyConnection,
    s: &DisputeConfig,
    agency_id: &str,
    now: NaiveDateTime,
) -> Result<Option<f64>, AppError> {
    let (approved, sales) =
        store::disputes::agency_rate_since(conn, agency_id, now - TimeDelta::days(30))?;
    Ok(rules::quality_score(approved, sales, s.min_sales))
}
