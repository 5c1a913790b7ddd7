//! `import`: a lead CSV for an agency through the same intake as an upload, run in this
//! process under a lease like the intake worker's, with a progress bar.

use super::ImportArgs;
use super::support::{CliError, config, connection, lookup_org};
use crate::config::MissingSecrets;
use crate::domain::OrgKind;
use crate::jobs::runner::{self, Lease};
use crate::services::intake::{self, BatchInput, RunError};

/// Counts bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

pub fn run(args: ImportArgs) -> Result<(), CliError> {
    let config = config(MissingSecrets::GenerateForSqlite)?;
    let open = || {
        std::fs::File::open(&args.file)
            .map_err(|e| CliError::Input(format!("cannot open {}: {e}", args.file.display())))
    };
    let size = open()?.metadata().map(|m| m.len()).unwrap_or(0);
    let mut conn = connection(&config)?;
    let config = super::support::in_force(&mut conn, config)?;
    let agency = lookup_org(&mut conn, &args.agency)?;
    if agency.kind != OrgKind::Agency {
        return Err(CliError::Input(format!(
            "`{}` is a {} organisation, not an agency",
            agency.slug, agency.kind
        )));
    }
    let input = BatchInput {
        kind: args.kind,
        order_id: args.order,
        segment: args.segment,
        channel: args.channel,
        price_cents: args.price_cents,
        max_sales: args.max_sales,
        billing: args.billing,
        action_price_cents: args.action_price_cents,
        consent_text: args.consent_text,
        traffic: args.traffic,
    };
    let filename = args
        .file
        .file_name()
        .map(|f| f.to_string_lossy().to_string());
    let batch = intake::prepare_batch(
        &mut conn,
        &agency.id,
        &input,
        "import",
        filename.as_deref(),
        None,
    )?;
    intake::check_file_header(&batch, open()?)?;
    let worker = format!("import-{}", std::process::id());
    crate::store::batches::insert(&mut conn, &batch).map_err(|e| CliError::Other(e.into()))?;
    let lease = Lease::take(&mut conn, &batch, &worker)
        .map_err(|e| CliError::Other(e.into()))?
        .allocating(config.commission_bp);

    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let source = Counted {
        inner: std::io::BufReader::with_capacity(1 << 20, open()?),
        read: read.clone(),
    };
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} · {msg} · ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut rows = 0i64;
    let result = lease.run(&mut conn, &config.intake, source, |counts| {
        rows += i64::from(counts.rows);
        let rate = rows as f64 / started.elapsed().as_secs_f64().max(0.001);
        bar.set_position(read.load(std::sync::atomic::Ordering::Relaxed));
        bar.set_message(format!("{rows} rows · {rate:.0} rows/s"));
    });
    bar.finish_and_clear();
    if let Err(error) = &result
        && let Some(reason) =
            runner::failure_reason(error, "the import failed; rows counted so far are kept")
    {
        let _ = runner::fail(&mut conn, &batch.id, reason);
    }
    match result {
        Ok(_) => {}
        Err(RunError::Unusable(reason)) => return Err(CliError::Input(reason)),
        Err(RunError::LeaseLost) => {
            return Err(CliError::Other(anyhow::anyhow!(
                "another process took over this batch"
            )));
        }
        Err(RunError::App(e)) => return Err(e.into()),
    }
    let done =
        crate::store::batches::find(&mut conn, &batch.id).map_err(|e| CliError::Other(e.into()))?;
    let secs = started.elapsed().as_secs_f64();
    // Buyers may come as soon as the import is done: the plans must fit it now (after
    // the timing, which is intake's own).
    crate::services::planner_stats::after_batch(&mut conn);
    println!(
        "batch {}: {} rows in {secs:.1} s ({:.0} rows/s): {} accepted, {} rejected, {} duplicates, {} suppressed",
        done.id,
        done.rows_total,
        f64::from(done.rows_total) / secs.max(0.001),
        done.accepted,
        done.rejected,
        done.duplicates,
        done.suppressed
    );
    if done.accepted < done.rows_total {
        let mut path = args.file.clone().into_os_string();
        path.push(".rejects.csv");
        let path = std::path::PathBuf::from(path);
        let file = std::fs::File::create(&path).map_err(|e| CliError::Other(e.into()))?;
        let n = intake::write_rejects(&mut conn, &done, std::io::BufWriter::new(file))?;
        println!(
            "{n} rows not accepted, with their reasons, are in {}",
            path.display()
        );
    }
    Ok(())
}
