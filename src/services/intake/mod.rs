//! Lead intake's use cases, behind the upload page, the API and `leadmarket import`:
//! batch terms checked, the file's header checked, batch and file stored, then the file
//! run through the chunk pipeline ([`pipeline`]) so a batch is never half-counted and can
//! resume after a restart; the rejects file ([`rejects`]); engagement reported on a lead.

use std::io::Read;

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::{AnyConnection, write_transaction};
use crate::domain::intake::csv_file::{CsvFile, RawRecord};
use crate::domain::intake::decision::Reason;
use crate::domain::intake::header::BatchSupplies;
use crate::domain::intake::terms::BatchTerms;
use crate::domain::intake::{BatchStatus, Header};
use crate::domain::lead::EngagementKind;
use crate::domain::reference::Slugs;
use crate::domain::scoring::{self, ScoreInput};
use crate::error::AppError;
use crate::store::batches::{BatchRow, ChunkCounts};
use crate::store::{self, reference};

mod pipeline;
pub mod rejects;

// The settings and terms types sit in the domain so config and the terms parser need not
// name services; the use cases take them, so their callers find them here.
pub use crate::domain::intake::IntakeSettings;
pub use crate::domain::intake::terms::BatchInput;

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
    let known = crate::services::known::known(conn)?;
    let known = &known.reference;
    let order_open = match input.order_to_look_up() {
        Some(o) => store::orders::find_open(conn, o)?.is_some(),
        None => false,
    };
    let terms = BatchTerms::parse(
        input,
        filename,
        &known.segments,
        &known.channels,
        order_open,
    )
    .map_err(AppError::Validation)?;
    let now = store::now();
    Ok(BatchRow {
        id: store::new_id(),
        agency_id: agency_id.to_string(),
        kind: terms.kind,
        order_id: terms.order_id,
        segment: terms.segment,
        channel: terms.channel,
        price_cents: terms.price_cents,
        max_sales: terms.max_sales,
        billing: terms.billing,
        action_price_cents: terms.action_price_cents,
        consent_text: terms.consent_text,
        source: source.to_string(),
        filename: terms.filename,
        status: BatchStatus::Processing,
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
        traffic: terms.traffic,
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
    let file = CsvFile::open(file).map_err(|e| AppError::invalid("file", e.to_string()))?;
    Header::parse(file.header, supplies(batch))
        .map_err(|e| AppError::invalid("file", e.to_string()))
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
    // Most posts find the batch: read it without a write transaction (on SQLite, without
    // waiting for the writer's turn); only the first of the day makes it, looking again.
    if let Some(existing) = store::batches::find_realtime(conn, &template, midnight)? {
        return Ok(existing);
    }
    write_transaction(conn, |conn| {
        if let Some(existing) = store::batches::find_realtime(conn, &template, midnight)? {
            return Ok(existing);
        }
        template.status = BatchStatus::Done;
        template.headers = String::new();
        store::batches::insert(conn, &template)?;
        Ok(template)
    })
}

/// Reference sets a chunk is checked against: what new leads may use, and what is
/// retired (refused with that reason).
pub struct Reference {
    pub segments: Slugs,
    pub channels: Slugs,
}

impl Reference {
    pub fn load(conn: &mut AnyConnection) -> Result<Self, AppError> {
        fn split(rows: impl Iterator<Item = (String, bool)>) -> Slugs {
            let (retired, live): (Vec<_>, Vec<_>) = rows.partition(|(_, retired)| *retired);
            Slugs::new(
                live.into_iter().map(|(s, _)| s).collect(),
                retired.into_iter().map(|(s, _)| s).collect(),
            )
        }
        Ok(Self {
            segments: split(
                reference::segments(conn)?
                    .into_iter()
                    .map(|s| (s.slug, s.retired_at.is_some())),
            ),
            channels: split(
                reference::channels(conn)?
                    .into_iter()
                    .map(|c| (c.slug, c.retired_at.is_some())),
            ),
        })
    }
}

pub fn supplies(batch: &BatchRow) -> BatchSupplies {
    BatchSupplies {
        segment: batch.segment.is_some(),
        channel: batch.channel.is_some(),
        consent_text: !batch.consent_text.is_empty(),
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
    pub fn reasons(&self) -> &[Reason] {
        match self {
            RowOutcome::Accepted { .. } => &[],
            RowOutcome::Rejected(r) | RowOutcome::Duplicate(r) | RowOutcome::Suppressed(r) => r,
        }
    }
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
    let evaluated = pipeline::evaluate_chunk(settings, batch, header, reference, rows, now);
    write_transaction(conn, |conn| {
        pipeline::store_chunk(conn, settings, batch, rows, evaluated, now)
    })
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
/// stops the run. Once the batch is done, its caller refreshes the planner's statistics
/// ([`super::planner_stats::after_batch`]).
pub fn run_file<R: Read + Send>(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    source: R,
    after_chunk: impl FnMut(&mut AnyConnection, ChunkCounts) -> Result<bool, AppError>,
) -> Result<ChunkCounts, RunError> {
    run_file_allocating(conn, settings, batch, source, None, after_chunk)
}

/// [`run_file`], and each commit's accepted leads then offered to the standing orders
/// (`services::standing_orders::allocate`) at `Some(commission_bp)`.
pub fn run_file_allocating<R: Read + Send>(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    batch: &BatchRow,
    source: R,
    allocate_bp: Option<i64>,
    after_chunk: impl FnMut(&mut AnyConnection, ChunkCounts) -> Result<bool, AppError>,
) -> Result<ChunkCounts, RunError> {
    crate::db::set_sqlite_cache_kib(conn, settings.sqlite_cache_kib)?;
    let result = pipeline::run(conn, settings, batch, source, allocate_bp, after_chunk);
    // The connection goes back to the pool: give the memory back.
    let restored = crate::db::set_sqlite_cache_kib(conn, crate::db::SQLITE_CACHE_KIB);
    let total = result?;
    restored?;
    Ok(total)
}

/// Writes the whole rejects file, formula-safe, page by page.
pub fn write_rejects(
    conn: &mut AnyConnection,
    batch: &BatchRow,
    out: impl std::io::Write,
) -> Result<usize, AppError> {
    let header = rejects::header(batch);
    let columns = header.len() - 2;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(rejects::neutralised(header))
        .map_err(AppError::internal)?;
    let (mut after, mut n) = (0, 0);
    loop {
        let page = store::intake::rejects_page(conn, &batch.id, after, 5000)?;
        let Some(last) = page.last().map(|r| r.row_number) else {
            break;
        };
        for r in page {
            w.write_record(rejects::neutralised(rejects::cells(r, columns)))
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
    let kind: EngagementKind = kind
        .parse()
        .map_err(|_| AppError::invalid("kind", "must be opened, clicked or answered"))?;
    let now = store::now();
    if occurred_at.is_some_and(|t| t > now + TimeDelta::minutes(5)) {
        return Err(AppError::invalid("occurred_at", "is in the future"));
    }
    write_transaction(conn, |conn| {
        let lead =
            store::leads::score_facts(conn, agency_id, lead_id)?.ok_or(AppError::NotFound)?;
        let new =
            store::lead_events::record_once(conn, lead_id, kind, occurred_at.unwrap_or(now), now)?;
        let kinds = store::lead_events::kinds(conn, lead_id)?;
        let has = |k: EngagementKind| kinds.contains(&k);
        let score = scoring::score(&ScoreInput {
            has_name: lead.first_name.is_some() || lead.last_name.is_some(),
            has_phone: lead.phone.is_some(),
            has_email: lead.email.is_some(),
            has_address: lead.street.is_some() && lead.postal_code.is_some(),
            warmth: lead.warmth,
            contact_type: lead.contact_type,
            verified: lead.verified,
            age_days: (now.date() - lead.captured_at.date()).num_days(),
            soft_flags: if lead.flags.is_empty() {
                0
            } else {
                lead.flags.split(',').count()
            },
            engagement: scoring::Engagement {
                opened: has(EngagementKind::Opened),
                clicked: has(EngagementKind::Clicked),
                answered: has(EngagementKind::Answered),
            },
        });
        store::leads::set_score(conn, lead_id, score)?;
        Ok((new, score))
    })
}
