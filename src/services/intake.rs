//! The one intake pipeline behind the upload page, the API and `leadmarket import`:
//! batch terms checked, rows parsed in parallel, pseudo-lead checks, dedup and
//! suppression looked up per chunk, and chunks committed together with their counts,
//! so a batch is never half-counted and can resume after a restart.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::{NaiveDateTime, TimeDelta};
use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::db::{AnyConnection, write_transaction};
use crate::domain::dedup;
use crate::domain::intake::csv_file::{CsvFile, RawRecord};
use crate::domain::intake::header::BatchSupplies;
use crate::domain::intake::pseudo::{self, Severity, Signal};
use crate::domain::intake::{Header, IntakeContext, ValidLead, parse_row};
use crate::domain::scoring::{self, ScoreInput};
use crate::error::{AppError, FieldProblem};
use crate::store::batches::{BatchRow, ChunkCounts};
use crate::store::intake::{LeadDetailsRow, RejectRow};
use crate::store::leads::NewLeadRow;
use crate::store::{self, reference};

// The settings type sits in the domain so config can build it without naming services.
pub use crate::domain::intake::IntakeSettings;

/// Batch terms as a form, JSON body or the CLI gives them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BatchInput {
    /// `consumer` (default) or `targeted`.
    pub kind: Option<String>,
    /// The buyer's open order (targeted batches only).
    pub order_id: Option<String>,
    pub segment: Option<String>,
    pub channel: Option<String>,
    /// Base price per lead in minor units.
    pub price_cents: Option<i64>,
    /// Consumer leads: how many buyers may buy each lead, 1-10 (default 1).
    pub max_sales: Option<i32>,
    /// `per_lead` (default) or `per_action`.
    pub billing: Option<String>,
    pub action_price_cents: Option<i64>,
    /// Consent wording, used for rows without their own `consent_text`.
    pub consent_text: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Batch terms holding a character PostgreSQL cannot store or no term should hold.
fn refused_characters(input: &BatchInput, filename: Option<&str>) -> Vec<FieldProblem> {
    use crate::domain::text::{TextKind, problem, refused_character};
    [
        ("kind", input.kind.as_deref(), TextKind::Line),
        ("order_id", input.order_id.as_deref(), TextKind::Line),
        ("segment", input.segment.as_deref(), TextKind::Line),
        ("channel", input.channel.as_deref(), TextKind::Line),
        ("billing", input.billing.as_deref(), TextKind::Line),
        (
            "consent_text",
            input.consent_text.as_deref(),
            TextKind::Free,
        ),
        ("file", filename, TextKind::Line),
    ]
    .into_iter()
    .filter_map(|(name, v, kind)| {
        refused_character(v?, kind).map(|c| FieldProblem::new(name, problem(c)))
    })
    .collect()
}

/// Checks batch terms and builds the batch row (not yet stored).
pub fn prepare_batch(
    conn: &mut AnyConnection,
    agency_id: &str,
    input: &BatchInput,
    source: &str,
    filename: Option<&str>,
    created_by: Option<&str>,
) -> Result<BatchRow, AppError> {
    // Every batch edge (multipart, JSON, a single lead's batch fields) meets here.
    let mut p = refused_characters(input, filename);
    if !p.is_empty() {
        return Err(AppError::Validation(p));
    }
    let kind = non_empty(&input.kind).unwrap_or("consumer");
    if !matches!(kind, "consumer" | "targeted") {
        p.push(FieldProblem::new("kind", "must be consumer or targeted"));
    }
    let segments: HashSet<String> = reference::segments(conn)?
        .into_iter()
        .map(|s| s.slug)
        .collect();
    let channels: HashSet<String> = reference::channels(conn)?
        .into_iter()
        .map(|c| c.slug)
        .collect();
    let segment = non_empty(&input.segment);
    match segment {
        None => p.push(FieldProblem::new("segment", "is required")),
        Some(s) if !segments.contains(s) => p.push(FieldProblem::new(
            "segment",
            format!("`{s}` is not a known segment"),
        )),
        _ => {}
    }
    let channel = non_empty(&input.channel);
    match channel {
        None => p.push(FieldProblem::new("channel", "is required")),
        Some(c) if !channels.contains(c) => p.push(FieldProblem::new(
            "channel",
            format!("`{c}` is not a known channel"),
        )),
        _ => {}
    }
    let price_cents = input.price_cents.unwrap_or(-1);
    if !(0..=100_000_000).contains(&price_cents) {
        p.push(FieldProblem::new(
            "price_cents",
            "is required: a whole number of minor units, 0 or more",
        ));
    }
    let max_sales = input.max_sales.unwrap_or(1);
    if kind == "consumer" && !(1..=10).contains(&max_sales) {
        p.push(FieldProblem::new("max_sales", "must be from 1 to 10"));
    }
    let billing = non_empty(&input.billing).unwrap_or("per_lead");
    let action_price_cents = match billing {
        "per_lead" => None,
        "per_action" => match input.action_price_cents {
            Some(a) if a >= 0 => Some(a),
            _ => {
                p.push(FieldProblem::new(
                    "action_price_cents",
                    "is required for per_action billing: 0 or more",
                ));
                None
            }
        },
        _ => {
            p.push(FieldProblem::new(
                "billing",
                "must be per_lead or per_action",
            ));
            None
        }
    };
    let consent_text = non_empty(&input.consent_text).unwrap_or("").to_string();
    if consent_text.chars().count() > 2000 {
        p.push(FieldProblem::new(
            "consent_text",
            "must be at most 2000 characters",
        ));
    }
    let order_id = match (kind, non_empty(&input.order_id)) {
        ("targeted", None) => {
            p.push(FieldProblem::new(
                "order_id",
                "is required for a targeted batch",
            ));
            None
        }
        ("targeted", Some(o)) => {
            if uuid::Uuid::parse_str(o).is_err() || store::orders::find_open(conn, o)?.is_none() {
                p.push(FieldProblem::new("order_id", "is not an open order"));
            }
            Some(o.to_string())
        }
        (_, Some(_)) => {
            p.push(FieldProblem::new(
                "order_id",
                "is only for targeted batches",
            ));
            None
        }
        (_, None) => None,
    };
    if !p.is_empty() {
        return Err(AppError::Validation(p));
    }
    let now = store::now();
    Ok(BatchRow {
        id: store::new_id(),
        agency_id: agency_id.to_string(),
        kind: kind.to_string(),
        order_id,
        segment: segment.unwrap_or_default().to_string(),
        channel: channel.unwrap_or_default().to_string(),
        price_cents,
        // A targeted lead goes to its order's buyer alone.
        max_sales: if kind == "targeted" { 1 } else { max_sales },
        billing: billing.to_string(),
        action_price_cents,
        consent_text,
        source: source.to_string(),
        filename: filename.map(|f| f.chars().take(200).collect()),
        status: "processing".into(),
        error: None,
        rows_total: 0,
        rows_done: 0,
        accepted: 0,
        rejected: 0,
        duplicates: 0,
        suppressed: 0,
        created_by: created_by.map(str::to_string),
        created_at: now,
        finished_at: None,
        headers: String::new(),
        unknown_columns: String::new(),
        file_size: 0,
    })
}

/// Stores a new batch and its uploaded file in one transaction, so a worker never sees
/// the batch without its file. Returns the file size.
pub fn create_with_file(
    conn: &mut AnyConnection,
    batch: &BatchRow,
    file: &mut impl Read,
) -> Result<i64, AppError> {
    write_transaction(conn, |conn| {
        store::batches::insert(conn, batch)?;
        let mut buf = vec![0u8; store::intake::FILE_CHUNK_BYTES];
        let (mut seq, mut size) = (0i32, 0i64);
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                let n = file.read(&mut buf[filled..]).map_err(AppError::internal)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            store::intake::append_file_chunk(conn, &batch.id, seq, &buf[..filled])?;
            seq += 1;
            size += filled as i64;
        }
        store::batches::set_file_size(conn, &batch.id, size)?;
        Ok(size)
    })
}

/// Checks that a file is a CSV whose header fits the contract for this batch, before
/// anything is stored: a bad file is refused at once with the reason.
pub fn check_file_header(batch: &BatchRow, file: impl Read) -> Result<Header, AppError> {
    let file = CsvFile::open(file)
        .map_err(|e| AppError::Validation(vec![FieldProblem::new("file", e.to_string())]))?;
    Header::parse(file.header, supplies(batch))
        .map_err(|e| AppError::Validation(vec![FieldProblem::new("file", e.to_string())]))
}

/// The whole upload use case: terms checked, file header checked, batch and file stored
/// for a worker to process.
pub fn accept_upload(
    conn: &mut AnyConnection,
    agency_id: &str,
    input: &BatchInput,
    source: &str,
    filename: Option<&str>,
    created_by: Option<&str>,
    path: &std::path::Path,
) -> Result<BatchRow, AppError> {
    let batch = prepare_batch(conn, agency_id, input, source, filename, created_by)?;
    let open = || std::fs::File::open(path).map_err(AppError::internal);
    check_file_header(&batch, open()?)?;
    create_with_file(conn, &batch, &mut open()?)?;
    Ok(batch)
}

/// Today's real-time batch for these terms, created on first use. It is `done` from the
/// start (no file to process) and its counts grow with each lead posted.
pub fn realtime_batch(
    conn: &mut AnyConnection,
    mut template: BatchRow,
) -> Result<BatchRow, AppError> {
    let midnight = template
        .created_at
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or(template.created_at);
    write_transaction(conn, |conn| {
        if let Some(existing) = store::batches::find_realtime(conn, &template, midnight)? {
            return Ok(existing);
        }
        template.status = "done".into();
        template.headers = String::new();
        store::batches::insert(conn, &template)?;
        Ok(template)
    })
}

/// Reference sets a chunk is checked against.
pub struct Reference {
    pub segments: HashSet<String>,
    pub channels: HashSet<String>,
}

impl Reference {
    pub fn load(conn: &mut AnyConnection) -> Result<Self, AppError> {
        Ok(Self {
            segments: reference::segments(conn)?
                .into_iter()
                .map(|s| s.slug)
                .collect(),
            channels: reference::channels(conn)?
                .into_iter()
                .map(|c| c.slug)
                .collect(),
        })
    }
}

pub fn supplies(batch: &BatchRow) -> BatchSupplies {
    BatchSupplies {
        segment: !batch.segment.is_empty(),
        channel: !batch.channel.is_empty(),
        consent_text: !batch.consent_text.is_empty(),
    }
}

/// Why a row was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub field: String,
    pub message: String,
}

impl Reason {
    fn new(code: &str, field: &str, message: &str) -> Self {
        Self {
            code: code.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Accepted {
        lead_id: String,
        score: i32,
        price_cents: i64,
    },
    Rejected(Vec<Reason>),
    Duplicate(Vec<Reason>),
    Suppressed(Vec<Reason>),
}

impl RowOutcome {
    fn outcome(&self) -> &'static str {
        match self {
            RowOutcome::Accepted { .. } => "accepted",
            RowOutcome::Rejected(_) => "rejected",
            RowOutcome::Duplicate(_) => "duplicate",
            RowOutcome::Suppressed(_) => "suppressed",
        }
    }

    pub fn reasons(&self) -> &[Reason] {
        match self {
            RowOutcome::Accepted { .. } => &[],
            RowOutcome::Rejected(r) | RowOutcome::Duplicate(r) | RowOutcome::Suppressed(r) => r,
        }
    }
}

pub enum Evaluated {
    Rejected(Vec<Reason>),
    Candidate(Box<Candidate>),
}

/// A row that passed parsing and the hard checks, with what the writer needs already
/// computed on the parsing threads (keys, hashes, id, the rows to insert): the writer is
/// the critical path of a big batch, the parsing threads have time to spare.
pub struct Candidate {
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
            ip_hash: lead.ip.as_deref().map(ip_hash),
            form_seconds: lead.form_seconds,
            comment: lead.comment,
            preferred_call_time: lead.preferred_call_time,
            captured_at: lead.captured_at,
        };
        let row = NewLeadRow {
            id,
            batch_id: batch.id.clone(),
            agency_id: batch.agency_id.clone(),
            kind: batch.kind.clone(),
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
            warmth: lead.warmth.to_string(),
            contact_type: lead.contact_type.to_string(),
            verified: lead.verified,
            consent_at: lead.consent_at,
            consent_text: lead.consent_text,
            captured_at: lead.captured_at,
            score: 0,
            flags: String::new(),
            list_price_cents: 0,
            max_sales: batch.max_sales,
            sales_count: 0,
            status: "available".into(),
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
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.row.phone_key.iter().chain(self.row.email_key.iter())
    }
}

fn signal_reason(s: &Signal) -> Reason {
    Reason::new(s.code, "row", s.message)
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
                .map(signal_reason)
                .collect();
            if hard.is_empty() {
                Evaluated::Candidate(Box::new(Candidate::new(lead, signals, batch, ctx.now)))
            } else {
                Evaluated::Rejected(hard)
            }
        }
    }
}

fn ip_hash(ip: &str) -> String {
    hex::encode(Sha256::digest(format!("ip:{}", ip.trim()).as_bytes()))
}

fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| {
            if r.field == "row" {
                format!("{}: {}", r.code, r.message)
            } else {
                format!("{}: {} {}", r.code, r.field, r.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Evaluates and stores one chunk of rows in one transaction, with the batch's counts.
pub fn process_chunk(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    header: &Header,
    reference: &Reference,
    rows: &[(i32, RawRecord)],
    now: NaiveDateTime,
) -> Result<(ChunkCounts, Vec<RowOutcome>), AppError> {
    let evaluated = evaluate_chunk(settings, batch, header, reference, rows, now);
    write_transaction(conn, |conn| {
        store_chunk(conn, settings, batch, rows, evaluated, now)
    })
}

/// The CPU half of a chunk: every row parsed and checked, spread over the cores. It
/// needs no database, so a producer thread can run it while the previous chunk is
/// being written.
pub fn evaluate_chunk(
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
        batch_segment: Some(batch.segment.as_str()).filter(|s| !s.is_empty()),
        batch_channel: Some(batch.channel.as_str()).filter(|s| !s.is_empty()),
        batch_consent_text: Some(batch.consent_text.as_str()).filter(|s| !s.is_empty()),
    };
    rows.par_iter()
        .map(|(_, r)| evaluate(header, r, &ctx, settings, batch))
        .collect()
}

/// The database half of a chunk: dedup and suppression look-ups, decisions, inserts and
/// the batch's counts, inside the caller's write transaction.
fn store_chunk(
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
    let all_keys: Vec<String> = candidates
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
    let mut soft_flags: HashMap<usize, Vec<Signal>> = HashMap::new();
    let mut kept: Vec<usize> = Vec::new();
    {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut phone_owner: HashMap<&str, (&str, usize)> = HashMap::new();
        for (i, c) in candidates.iter().enumerate() {
            let Some(c) = c else { continue };
            if c.keys().any(|k| suppressed.contains(k)) {
                outcomes[i] = Some(RowOutcome::Suppressed(vec![Reason::new(
                    "suppressed",
                    "contact",
                    "is on the suppression list (opted out or do-not-call)",
                )]));
                continue;
            }
            let phone_key = c.row.phone_key.as_deref();
            if c.keys()
                .any(|k| existing.contains(k) || seen.contains(k.as_str()))
            {
                let mut reasons = vec![Reason::new(
                    "duplicate",
                    "contact",
                    &format!(
                        "was seen in this batch or in the last {} days",
                        settings.dedup_days
                    ),
                )];
                if let Some(pk) = phone_key
                    && let Some((owner, idx)) = phone_owner.get(pk)
                    && *owner != c.name
                {
                    reasons.push(signal_reason(&pseudo::SHARED_PHONE));
                    soft_flags
                        .entry(*idx)
                        .or_default()
                        .push(pseudo::SHARED_PHONE);
                }
                outcomes[i] = Some(RowOutcome::Duplicate(reasons));
                continue;
            }
            seen.extend(c.keys().map(String::as_str));
            if let Some(pk) = phone_key {
                phone_owner.insert(pk, (c.name.as_str(), i));
            }
            soft_flags
                .entry(i)
                .or_default()
                .extend(c.soft.iter().cloned());
            kept.push(i);
        }
    }

    // Many leads from one IP address within minutes: a soft signal.
    let window = TimeDelta::minutes(settings.ip_burst_minutes);
    let mut by_ip: HashMap<&str, Vec<(usize, NaiveDateTime)>> = HashMap::new();
    for &i in &kept {
        let details = &candidates[i]
            .as_ref()
            .expect("kept rows are candidates")
            .details;
        if let Some(hash) = &details.ip_hash {
            by_ip
                .entry(hash.as_str())
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
        let hashes: Vec<String> = by_ip.keys().map(|h| (*h).to_string()).collect();
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
        match outcome {
            RowOutcome::Accepted { .. } => {
                counts.accepted += 1;
                continue;
            }
            RowOutcome::Rejected(_) => counts.rejected += 1,
            RowOutcome::Duplicate(_) => counts.duplicates += 1,
            RowOutcome::Suppressed(_) => counts.suppressed += 1,
        }
        let cells = match record {
            RawRecord::Cells(c) | RawRecord::Unreadable(_, c) => c,
        };
        rejects.push(RejectRow {
            id: store::new_id(),
            batch_id: batch.id.clone(),
            row_number: *row_number,
            outcome: outcome.outcome().to_string(),
            reasons: reasons_text(outcome.reasons()),
            raw: serde_json::to_string(cells).unwrap_or_else(|_| "[]".into()),
        });
    }
    let decided_at = started.elapsed();
    store::leads::insert_many(conn, &new_leads)?;
    store::intake::insert_details(conn, &details)?;
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

/// Why a batch stopped without finishing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The file or its header is unusable: the batch is marked failed with this reason.
    #[error("{0}")]
    Unusable(String),
    /// Another worker took the batch over (its lease expired): stop quietly.
    #[error("the batch was taken over by another worker")]
    LeaseLost,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<diesel::result::Error> for RunError {
    fn from(e: diesel::result::Error) -> Self {
        RunError::App(e.into())
    }
}

/// Streams a whole file through the pipeline, committing chunk by chunk. The first
/// `batch.rows_done` rows were committed before (a resumed run) and are skipped.
/// `after_chunk` runs after each commit (progress, lease renewal); returning `false`
/// stops the run.
pub fn run_file<R: Read + Send>(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    source: R,
    after_chunk: impl FnMut(&mut AnyConnection, ChunkCounts) -> Result<bool, AppError>,
) -> Result<ChunkCounts, RunError> {
    crate::db::set_sqlite_cache_kib(conn, settings.sqlite_cache_kib)?;
    let result = run_file_with(conn, settings, batch, source, after_chunk);
    // The connection goes back to the pool: give the memory back.
    let restored = crate::db::set_sqlite_cache_kib(conn, crate::db::SQLITE_CACHE_KIB);
    let total = result?;
    restored?;
    Ok(total)
}

/// A chunk also ends once its rows weigh this much ([`RawRecord::weight`]): up to three
/// chunks are alive at once (being read, waiting, being written), each a few times its
/// raw weight once parsed, so rows of many cells cannot add up past a fixed budget the
/// way `chunk_rows` alone would let them (5000 rows of 64 KiB are 320 MB).
const CHUNK_MAX_BYTES: usize = 8 << 20;

fn run_file_with<R: Read + Send>(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    source: R,
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
            let counts = write_transaction(conn, |conn| -> Result<ChunkCounts, RunError> {
                let mut counts = ChunkCounts::default();
                let mut next = Some(message);
                while let Some(message) = next.take() {
                    let (chunk, evaluated, now) = message?;
                    let (c, _) = store_chunk(conn, settings, batch, &chunk, evaluated, now)?;
                    counts.add(c);
                    if (counts.rows as usize) < settings.commit_rows {
                        next = rx.recv().ok();
                    }
                }
                Ok(counts)
            })?;
            total.add(counts);
            if !after_chunk(conn, counts)? {
                return Err(RunError::LeaseLost);
            }
        }
        Ok(total)
    })?;
    store::batches::finish(conn, &batch.id).map_err(AppError::from)?;
    Ok(total)
}

/// The rejects file's header: the columns as uploaded, then `row_number` and `reasons`.
pub fn rejects_header(batch: &BatchRow) -> Vec<String> {
    let mut h: Vec<String> = if batch.headers.is_empty() {
        Vec::new()
    } else {
        batch.headers.split('\t').map(str::to_string).collect()
    };
    h.push("row_number".into());
    h.push("reasons".into());
    h
}

/// One rejected row's cells for the rejects file, padded to the header's width.
pub fn rejects_cells(row: RejectRow, columns: usize) -> Vec<String> {
    let mut cells: Vec<String> = serde_json::from_str(&row.raw).unwrap_or_default();
    if cells.len() < columns {
        cells.resize(columns, String::new());
    }
    cells.push(row.row_number.to_string());
    cells.push(row.reasons);
    cells
}

/// Writes the whole rejects file, formula-safe, page by page.
pub fn write_rejects(
    conn: &mut AnyConnection,
    batch: &BatchRow,
    out: impl std::io::Write,
) -> Result<usize, AppError> {
    let header = rejects_header(batch);
    let columns = header.len() - 2;
    let mut w = csv::Writer::from_writer(out);
    let safe = |cells: Vec<String>| {
        cells
            .into_iter()
            .map(|c| crate::domain::export::neutralise(&c).into_owned())
            .collect::<Vec<_>>()
    };
    w.write_record(safe(header)).map_err(AppError::internal)?;
    let (mut after, mut n) = (0, 0);
    loop {
        let page = store::intake::rejects_page(conn, &batch.id, after, 5000)?;
        let Some(last) = page.last().map(|r| r.row_number) else {
            break;
        };
        for r in page {
            w.write_record(safe(rejects_cells(r, columns)))
                .map_err(AppError::internal)?;
            n += 1;
        }
        after = last;
    }
    w.flush().map_err(AppError::internal)?;
    Ok(n)
}

/// Records what a lead did after capture (reported by its agency) and rescores it.
/// Each kind counts once per lead; returns whether it was new and the new score.
pub fn record_engagement(
    conn: &mut AnyConnection,
    agency_id: &str,
    lead_id: &str,
    kind: &str,
    occurred_at: Option<NaiveDateTime>,
) -> Result<(bool, i32), AppError> {
    use diesel::prelude::*;

    use crate::db::schema::{lead_events, leads};
    if !matches!(kind, "opened" | "clicked" | "answered") {
        return Err(AppError::Validation(vec![FieldProblem::new(
            "kind",
            "must be opened, clicked or answered",
        )]));
    }
    let now = store::now();
    if occurred_at.is_some_and(|t| t > now + TimeDelta::minutes(5)) {
        return Err(AppError::Validation(vec![FieldProblem::new(
            "occurred_at",
            "is in the future",
        )]));
    }
    write_transaction(conn, |conn| {
        type Facts = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            bool,
            NaiveDateTime,
            String,
        );
        let facts: Option<Facts> = leads::table
            .filter(leads::id.eq(lead_id))
            .filter(leads::agency_id.eq(agency_id))
            .select((
                leads::first_name,
                leads::last_name,
                leads::phone,
                leads::email,
                leads::street,
                leads::postal_code,
                leads::warmth,
                leads::contact_type,
                leads::verified,
                leads::captured_at,
                leads::flags,
            ))
            .first(conn)
            .optional()?;
        let (
            first,
            last,
            phone,
            email,
            street,
            postal,
            warmth,
            contact_type,
            verified,
            captured_at,
            flags,
        ) = facts.ok_or(AppError::NotFound)?;
        let already: i64 = lead_events::table
            .filter(lead_events::lead_id.eq(lead_id))
            .filter(lead_events::kind.eq(kind))
            .count()
            .get_result(conn)?;
        if already == 0 {
            diesel::insert_into(lead_events::table)
                .values((
                    lead_events::id.eq(store::new_id()),
                    lead_events::lead_id.eq(lead_id),
                    lead_events::kind.eq(kind),
                    lead_events::occurred_at.eq(occurred_at.unwrap_or(now)),
                    lead_events::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        let kinds: Vec<String> = lead_events::table
            .filter(lead_events::lead_id.eq(lead_id))
            .select(lead_events::kind)
            .load(conn)?;
        let has = |k: &str| kinds.iter().any(|x| x == k);
        let score = scoring::score(&ScoreInput {
            has_name: first.is_some() || last.is_some(),
            has_phone: phone.is_some(),
            has_email: email.is_some(),
            has_address: street.is_some() && postal.is_some(),
            warmth: warmth
                .parse()
                .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
            contact_type: contact_type
                .parse()
                .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
            verified,
            age_days: (now.date() - captured_at.date()).num_days(),
            soft_flags: if flags.is_empty() {
                0
            } else {
                flags.split(',').count()
            },
            engagement: scoring::Engagement {
                opened: has("opened"),
                clicked: has("clicked"),
                answered: has("answered"),
            },
        });
        diesel::update(leads::table.find(lead_id))
            .set(leads::score.eq(score))
            .execute(conn)?;
        Ok((already == 0, score))
    })
}
