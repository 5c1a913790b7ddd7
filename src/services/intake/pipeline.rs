//! The chunk pipeline: rows parsed and checked in parallel (pseudo-lead checks included),
//! then per chunk the dedup and suppression look-ups, the decision, the inserts and the
//! batch's counts in the caller's write transaction; a file streams through it with
//! reading one chunk ahead of the writes.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::{NaiveDateTime, TimeDelta};
use rayon::prelude::*;

use super::{IntakeSettings, Reference, RowOutcome, RunError, rejects, supplies};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::dedup;
use crate::domain::intake::csv_file::{CsvFile, RawRecord};
use crate::domain::intake::decision::{self, Decision, Keys, LeftOut, Reason};
use crate::domain::intake::pseudo::{self, Severity, Signal};
use crate::domain::intake::{Header, IntakeContext, RejectOutcome, ValidLead, parse_row};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::scoring::{self, ScoreInput};
use crate::error::AppError;
use crate::store;
use crate::store::batches::{BatchRow, ChunkCounts};
use crate::store::intake::{LeadDetailsRow, RejectRow};
use crate::store::leads::NewLeadRow;

pub(super) enum Evaluated {
    Rejected(Vec<Reason>),
    Candidate(Box<Candidate>),
}

/// A row that passed parsing and the hard checks, with what the writer needs already
/// computed on the parsing threads (keys, hashes, id, the rows to insert): the writer is
/// the critical path of a big batch, the parsing threads have time to spare.
pub(super) struct Candidate {
    /// Score, flags and list price are filled in by the writer, once duplicates, IP
    /// bursts and the current price rules are known.
    row: NewLeadRow,
    details: LeadDetailsRow,
    /// `soft_flags` is filled in by the writer.
    score: ScoreInput,
    /// Lower-cased full name, for "the same phone under different names".
    name: String,
    soft: Vec<Signal>,
}

impl Candidate {
    fn new(lead: ValidLead, soft: Vec<Signal>, batch: &BatchRow, now: NaiveDateTime) -> Self {
        let name = format!(
            "{} {}",
            lead.first_name.as_deref().unwrap_or(""),
            lead.last_name.as_deref().unwrap_or("")
        )
        .trim()
        .to_lowercase();
        let score = ScoreInput {
            has_name: lead.first_name.is_some() || lead.last_name.is_some(),
            has_phone: lead.phone.is_some(),
            has_email: lead.email.is_some(),
            has_address: lead.street.is_some() && lead.postal_code.is_some(),
            warmth: lead.warmth,
            contact_type: lead.contact_type,
            verified: lead.verified,
            age_days: (now.date() - lead.captured_at.date()).num_days(),
            soft_flags: 0,
            engagement: Default::default(),
        };
        let id = store::new_id();
        let details = LeadDetailsRow {
            lead_id: id.clone(),
            ip_hash: lead.ip.as_deref().map(dedup::ip_key),
            form_seconds: lead.form_seconds,
            comment: lead.comment,
            preferred_call_time: lead.preferred_call_time,
            captured_at: lead.captured_at,
        };
        let row = NewLeadRow {
            id,
            batch_id: batch.id.clone(),
            agency_id: batch.agency_id.clone(),
            kind: batch.kind,
            phone_key: lead.phone.as_deref().map(dedup::phone_key),
            email_key: lead.email.as_deref().map(dedup::email_key),
            postal_key: crate::domain::catalogue::postal_key(
                &lead.country,
                lead.postal_code.as_deref(),
            ),
            segment: lead.segment,
            channel: lead.channel,
            first_name: lead.first_name,
            last_name: lead.last_name,
            email: lead.email,
            phone: lead.phone,
            age: lead.age,
            income_cents: lead.income_cents,
            country: lead.country,
            region: lead.region,
            city: lead.city,
            postal_code: lead.postal_code,
            street: lead.street,
            warmth: lead.warmth,
            contact_type: lead.contact_type,
            verified: lead.verified,
            consent_at: lead.consent_at,
            consent_text: lead.consent_text,
            captured_at: lead.captured_at,
            score: 0,
            flags: String::new(),
            list_price_cents: 0,
            max_sales: batch.max_sales,
            sales_count: 0,
            status: LeadStatus::Available,
            created_at: now,
        };
        Self {
            row,
            details,
            score,
            name,
            soft,
        }
    }

    /// The dedup keys present: phone, then email.
    fn keys(&self) -> impl Iterator<Item = &dedup::Key> {
        self.row.phone_key.iter().chain(self.row.email_key.iter())
    }

    fn decision_keys(&self) -> Keys<'_> {
        Keys {
            phone_key: self.row.phone_key.as_deref(),
            email_key: self.row.email_key.as_deref(),
            name: &self.name,
            soft: &self.soft,
        }
    }
}

fn evaluate(
    header: &Header,
    record: &RawRecord,
    ctx: &IntakeContext<'_>,
    settings: &IntakeSettings,
    batch: &BatchRow,
) -> Evaluated {
    let cells = match record {
        RawRecord::Cells(c) => c,
        RawRecord::Unreadable(code, _) => {
            let message = crate::domain::intake::csv_file::unreadable_message(code);
            return Evaluated::Rejected(vec![Reason::new(code, "row", message)]);
        }
    };
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    match parse_row(header, &refs, ctx) {
        Err(problems) => Evaluated::Rejected(
            problems
                .into_iter()
                .map(|p| Reason::new(p.code, p.field, &p.message))
                .collect(),
        ),
        Ok(lead) => {
            let signals = pseudo::check(&lead, settings.thresholds);
            let hard: Vec<_> = signals
                .iter()
                .filter(|s| s.severity == Severity::Hard)
                .map(Reason::signal)
                .collect();
            if hard.is_empty() {
                Evaluated::Candidate(Box::new(Candidate::new(lead, signals, batch, ctx.now)))
            } else {
                Evaluated::Rejected(hard)
            }
        }
    }
}

/// The CPU half of a chunk: every row parsed and checked, spread over the cores. It
/// needs no database, so a producer thread can run it while the previous chunk is
/// being written.
pub(super) fn evaluate_chunk(
    settings: &IntakeSettings,
    batch: &BatchRow,
    header: &Header,
    reference: &Reference,
    rows: &[(i32, RawRecord)],
    now: NaiveDateTime,
) -> Vec<Evaluated> {
    let ctx = IntakeContext {
        now,
        max_capture_age_days: settings.max_capture_age_days,
        segments: &reference.segments,
        channels: &reference.channels,
        batch_segment: batch.segment.as_deref(),
        batch_channel: batch.channel.as_deref(),
        batch_consent_text: Some(batch.consent_text.as_str()).filter(|s| !s.is_empty()),
    };
    rows.par_iter()
        .map(|(_, r)| evaluate(header, r, &ctx, settings, batch))
        .collect()
}

/// The database half of a chunk: dedup and suppression look-ups, decisions, inserts and
/// the batch's counts, inside the caller's write transaction.
pub(super) fn store_chunk(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    rows: &[(i32, RawRecord)],
    evaluated: Vec<Evaluated>,
    now: NaiveDateTime,
) -> Result<(ChunkCounts, Vec<RowOutcome>), AppError> {
    let started = std::time::Instant::now();

    let mut outcomes: Vec<Option<RowOutcome>> = Vec::with_capacity(rows.len());
    let mut candidates: Vec<Option<Box<Candidate>>> = Vec::with_capacity(rows.len());
    for e in evaluated {
        match e {
            Evaluated::Rejected(r) => {
                outcomes.push(Some(RowOutcome::Rejected(r)));
                candidates.push(None);
            }
            Evaluated::Candidate(c) => {
                outcomes.push(None);
                candidates.push(Some(c));
            }
        }
    }
    let all_keys: Vec<dedup::Key> = candidates
        .iter()
        .flatten()
        .flat_map(|c| c.keys())
        .collect::<HashSet<_>>()
        .into_iter()
        .cloned()
        .collect();

    let rules = crate::services::market::rules(conn)?;
    let since = now - TimeDelta::days(settings.dedup_days);
    let existing = store::intake::existing_keys(conn, &all_keys, since, &batch.id)?;
    let suppressed = store::intake::suppressed_keys(conn, &all_keys)?;
    let looked_up_at = started.elapsed();

    // Decide each row in file order; `kept` indexes accepted candidates.
    let keys: Vec<Option<Keys<'_>>> = candidates
        .iter()
        .map(|c| c.as_deref().map(Candidate::decision_keys))
        .collect();
    let Decision {
        left_out,
        kept,
        mut soft_flags,
    } = decision::decide(&keys, &existing, &suppressed, settings.dedup_days);
    for (i, why) in left_out {
        outcomes[i] = Some(match why {
            LeftOut::Suppressed(r) => RowOutcome::Suppressed(r),
            LeftOut::Duplicate(r) => RowOutcome::Duplicate(r),
        });
    }

    // Many leads from one IP address within minutes: a soft signal.
    let window = TimeDelta::minutes(settings.ip_burst_minutes);
    let mut by_ip: HashMap<&[u8], Vec<(usize, NaiveDateTime)>> = HashMap::new();
    for &i in &kept {
        let details = &candidates[i]
            .as_ref()
            .expect("kept rows are candidates")
            .details;
        if let Some(hash) = &details.ip_hash {
            by_ip
                .entry(hash.as_slice())
                .or_default()
                .push((i, details.captured_at));
        }
    }
    if !by_ip.is_empty() {
        let times: Vec<NaiveDateTime> = by_ip.values().flatten().map(|(_, t)| *t).collect();
        let (from, to) = (
            *times.iter().min().expect("not empty") - window,
            *times.iter().max().expect("not empty") + window,
        );
        let hashes: Vec<dedup::Key> = by_ip.keys().map(|h| h.to_vec()).collect();
        let earlier = store::intake::ip_capture_times(conn, &hashes, from, to)?;
        for (hash, rows_here) in &by_ip {
            let stored = earlier.get(*hash).map(Vec::as_slice).unwrap_or(&[]);
            for (i, at) in rows_here {
                let near = |t: &NaiveDateTime| (*t - *at).abs() <= window;
                let count = stored.iter().filter(|t| near(t)).count()
                    + rows_here.iter().filter(|(_, t)| near(t)).count();
                if count > settings.ip_burst_max {
                    soft_flags.entry(*i).or_default().push(pseudo::IP_BURST);
                }
            }
        }
    }

    // A targeted batch's rows go to its order alone, within its criteria and quantity.
    let targeted = match (batch.kind, batch.order_id.as_deref()) {
        (LeadKind::Targeted, Some(order_id)) => Some(TargetedOrder::load(conn, order_id, now)?),
        _ => None,
    };
    let mut new_leads = Vec::with_capacity(kept.len());
    let mut details = Vec::with_capacity(kept.len());
    for &i in &kept {
        let c = *candidates[i].take().expect("kept rows are candidates");
        let Candidate {
            mut row,
            details: detail,
            mut score,
            ..
        } = c;
        let flags = soft_flags.remove(&i).unwrap_or_default();
        row.flags = pseudo::flags_text(&flags);
        score.soft_flags = if row.flags.is_empty() {
            0
        } else {
            row.flags.split(',').count()
        };
        row.score = scoring::score(&score);
        row.list_price_cents =
            crate::services::market::list_price(&row, batch.price_cents, &rules, now);
        if let Some(t) = &targeted
            && let Err(reason) = t.admit(conn, &mut row, now)?
        {
            outcomes[i] = Some(RowOutcome::Rejected(vec![reason]));
            continue;
        }
        outcomes[i] = Some(RowOutcome::Accepted {
            lead_id: row.id.clone(),
            score: row.score,
            price_cents: row.list_price_cents,
        });
        new_leads.push(row);
        details.push(detail);
    }
    let outcomes: Vec<RowOutcome> = outcomes
        .into_iter()
        .map(|o| o.expect("every row decided"))
        .collect();
    let mut counts = ChunkCounts {
        rows: rows.len() as i32,
        ..Default::default()
    };
    let mut rejects = Vec::new();
    for ((row_number, record), outcome) in rows.iter().zip(&outcomes) {
        let stored = match outcome {
            RowOutcome::Accepted { .. } => {
                counts.accepted += 1;
                continue;
            }
            RowOutcome::Rejected(_) => {
                counts.rejected += 1;
                RejectOutcome::Rejected
            }
            RowOutcome::Duplicate(_) => {
                counts.duplicates += 1;
                RejectOutcome::Duplicate
            }
            RowOutcome::Suppressed(_) => {
                counts.suppressed += 1;
                RejectOutcome::Suppressed
            }
        };
        let cells = match record {
            RawRecord::Cells(c) | RawRecord::Unreadable(_, c) => c,
        };
        rejects.push(RejectRow {
            id: store::new_id(),
            batch_id: batch.id.clone(),
            row_number: *row_number,
            outcome: stored,
            reasons: rejects::reasons_text(outcome.reasons()),
            raw: serde_json::to_string(cells).unwrap_or_else(|_| "[]".into()),
        });
    }
    let decided_at = started.elapsed();
    store::leads::insert_many(conn, &new_leads)?;
    store::intake::insert_details(conn, &details)?;
    if let Some(t) = &targeted {
        t.sell(conn, settings.commission_bp, batch, &new_leads, now)?;
    }
    store::intake::insert_rejects(conn, &rejects)?;
    store::batches::add_counts(conn, &batch.id, counts)?;
    tracing::debug!(
        rows = rows.len(),
        lookup_ms = looked_up_at.as_millis() as u64,
        decide_ms = (decided_at - looked_up_at).as_millis() as u64,
        insert_ms = (started.elapsed() - decided_at).as_millis() as u64,
        "intake chunk"
    );
    Ok((counts, outcomes))
}

/// The order a targeted batch fills: its criteria parsed once per chunk. `None` rules:
/// the order is closed (by its buyer or its deadline), or its criteria do not parse.
struct TargetedOrder {
    order: Option<store::orders::OrderRow>,
    filter: Option<crate::domain::catalogue::Filter>,
    tree: crate::domain::reference::SegmentTree,
}

impl TargetedOrder {
    fn load(
        conn: &mut AnyConnection,
        order_id: &str,
        now: NaiveDateTime,
    ) -> Result<Self, AppError> {
        let order = store::orders::find_open_at(conn, order_id, now)?;
        let filter = order.as_ref().and_then(|o| {
            crate::domain::catalogue::RawFilter::from_query(&o.filter_query)
                .ok()
                .and_then(|raw| crate::domain::catalogue::parse(&raw).ok())
                .map(|p| p.filter)
        });
        let tree = store::reference::segment_tree(conn)?;
        Ok(Self {
            order,
            filter,
            tree,
        })
    }

    /// Takes one of the order's slots for the row (priced at the order's price), or says
    /// why the row is refused.
    fn admit(
        &self,
        conn: &mut AnyConnection,
        row: &mut NewLeadRow,
        now: NaiveDateTime,
    ) -> Result<Result<(), Reason>, AppError> {
        use crate::domain::market::targeted_reasons::{
            ORDER_CLOSED, ORDER_FILLED, OUT_OF_CRITERIA,
        };
        let (Some(order), Some(filter)) = (&self.order, &self.filter) else {
            return Ok(Err(Reason::new(
                ORDER_CLOSED,
                "order_id",
                "the order is closed and takes no more leads",
            )));
        };
        row.list_price_cents = order.price_cents;
        let facts = crate::domain::catalogue::LeadFacts {
            segment: &row.segment,
            country: &row.country,
            region: row.region.as_deref(),
            city: row.city.as_deref(),
            postal_key: row.postal_key.as_deref(),
            age: row.age,
            income_cents: row.income_cents,
            warmth: row.warmth.as_str(),
            contact_type: row.contact_type.as_str(),
            verified: row.verified,
            score: row.score,
            list_price_cents: row.list_price_cents,
            captured_at: row.captured_at,
            max_sales: row.max_sales,
        };
        if !filter.matches(&facts, &self.tree, now) {
            return Ok(Err(Reason::new(
                OUT_OF_CRITERIA,
                "row",
                "the lead misses the order's criteria",
            )));
        }
        if !store::orders::take_slot(conn, &order.id, now)? {
            return Ok(Err(Reason::new(
                ORDER_FILLED,
                "row",
                "the order has all the leads it asked for",
            )));
        }
        Ok(Ok(()))
    }

    /// Sells each accepted lead to the order's buyer at the order's price, each sale in
    /// its own savepoint: a buyer past its credit limit leaves the lead unsold (it is
    /// never listed), and the batch goes on.
    fn sell(
        &self,
        conn: &mut AnyConnection,
        commission_bp: i64,
        batch: &BatchRow,
        leads: &[NewLeadRow],
        now: NaiveDateTime,
    ) -> Result<(), AppError> {
        let Some(order) = &self.order else {
            return Ok(());
        };
        for lead in leads {
            let sale = store::purchases::SaleFacts {
                id: lead.id.clone(),
                agency_id: lead.agency_id.clone(),
                batch_id: batch.id.clone(),
                kind: lead.kind,
                status: lead.status,
                warmth: lead.warmth.as_str().to_string(),
                segment: lead.segment.clone(),
                country: lead.country.clone(),
                captured_at: lead.captured_at,
                base_cents: batch.price_cents,
                max_sales: lead.max_sales,
                sales_count: lead.sales_count,
            };
            let sold = write_transaction(conn, |conn| -> Result<(), AppError> {
                if !store::purchases::take_sale(conn, &lead.id)? {
                    return Err(AppError::NotFound);
                }
                crate::services::market::settle(
                    conn,
                    commission_bp,
                    &order.buyer_id,
                    &[(&sale, order.price_cents)],
                    now,
                    None,
                )?;
                Ok(())
            });
            if let Err(e) = sold {
                tracing::warn!(order = %order.id, lead = %lead.id, error = %e, "targeted lead not sold to its order's buyer");
            }
        }
        Ok(())
    }
}

/// A chunk also ends once its rows weigh this much ([`RawRecord::weight`]): up to three
/// chunks are alive at once (being read, waiting, being written), each a few times its
/// raw weight once parsed, so rows of many cells cannot add up past a fixed budget the
/// way `chunk_rows` alone would let them (5000 rows of 64 KiB are 320 MB).
const CHUNK_MAX_BYTES: usize = 8 << 20;

pub(super) fn run<R: Read + Send>(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    source: R,
    allocate_bp: Option<i64>,
    mut after_chunk: impl FnMut(&mut AnyConnection, ChunkCounts) -> Result<bool, AppError>,
) -> Result<ChunkCounts, RunError> {
    let mut file = CsvFile::open(source).map_err(|e| RunError::Unusable(e.to_string()))?;
    let header = Header::parse(std::mem::take(&mut file.header), supplies(batch))
        .map_err(|e| RunError::Unusable(e.to_string()))?;
    if batch.rows_done == 0 {
        store::batches::set_header(
            conn,
            &batch.id,
            &header.names.join("\t"),
            &header.unknown.join(", "),
        )
        .map_err(AppError::from)?;
    }
    let reference = Reference::load(conn)?;
    let skip = usize::try_from(batch.rows_done).unwrap_or(0);
    type Parsed = (Vec<(i32, RawRecord)>, Vec<Evaluated>, NaiveDateTime);
    let total = std::thread::scope(|scope| -> Result<ChunkCounts, RunError> {
        // Reading and parsing run one chunk ahead of the writes, on the other core.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Parsed, RunError>>(1);
        let (header, reference) = (&header, &reference);
        scope.spawn(move || {
            let mut row_number: usize = 0;
            loop {
                let mut chunk = Vec::with_capacity(settings.chunk_rows);
                let (mut done, mut weight) = (false, 0);
                while chunk.len() < settings.chunk_rows && weight < CHUNK_MAX_BYTES {
                    match file.next_record() {
                        None => {
                            done = true;
                            break;
                        }
                        Some(Err(e)) => {
                            let _ = tx.send(Err(RunError::Unusable(format!(
                                "reading stopped at row {}: {e}",
                                row_number + 1
                            ))));
                            return;
                        }
                        Some(Ok(record)) => {
                            row_number += 1;
                            if row_number > skip {
                                weight += record.weight();
                                chunk.push((i32::try_from(row_number).unwrap_or(i32::MAX), record));
                            }
                        }
                    }
                }
                if !chunk.is_empty() {
                    let now = store::now();
                    let evaluated = evaluate_chunk(settings, batch, header, reference, &chunk, now);
                    // A closed channel means the writer stopped: so do we.
                    if tx.send(Ok((chunk, evaluated, now))).is_err() {
                        return;
                    }
                }
                if done {
                    return;
                }
            }
        });
        let mut total = ChunkCounts::default();
        while let Ok(message) = rx.recv() {
            // Chunks as they come, until `commit_rows` or the end of the file, in one
            // transaction with their counts.
            let mut accepted: Vec<String> = Vec::new();
            let counts = write_transaction(conn, |conn| -> Result<ChunkCounts, RunError> {
                let mut counts = ChunkCounts::default();
                let mut next = Some(message);
                while let Some(message) = next.take() {
                    let (chunk, evaluated, now) = message?;
                    let (c, outcomes) = store_chunk(conn, settings, batch, &chunk, evaluated, now)?;
                    if allocate_bp.is_some() {
                        accepted.extend(outcomes.into_iter().filter_map(|o| match o {
                            RowOutcome::Accepted { lead_id, .. } => Some(lead_id),
                            _ => None,
                        }));
                    }
                    counts.add(c);
                    if (counts.rows as usize) < settings.commit_rows {
                        next = rx.recv().ok();
                    }
                }
                Ok(counts)
            })?;
            total.add(counts);
            if let Some(bp) = allocate_bp {
                // The committed leads go to standing orders in their own transaction; its
                // failure is logged and never fails the batch.
                crate::services::standing_orders::allocate::allocate_logged(
                    conn,
                    bp,
                    &accepted,
                    store::now(),
                );
            }
            if !after_chunk(conn, counts)? {
                return Err(RunError::LeaseLost);
            }
        }
        Ok(total)
    })?;
    store::batches::finish(conn, &batch.id).map_err(AppError::from)?;
    Ok(total)
}
