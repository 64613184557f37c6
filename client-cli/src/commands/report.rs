//! `candor report` as a command: unlock the office, stream its tallies (from the relay or an
//! export), count, suppress and print, or write an export.

use anyhow::{Context as _, Result};
use candor_protocol::Tally;

use super::Context;
use super::office::unlock;
use crate::cli::{PeriodKind, ReportArgs, ReportFormat};
use crate::output;
use crate::report::period::Periods;
use crate::report::{Counter, check_min_count, emit, export};

/// `candor report`.
pub fn report(ctx: &Context, args: ReportArgs) -> Result<()> {
    // Every option is checked before the passphrase is asked.
    let min_count = check_min_count(args.min_count)?;
    let periods = match args.period {
        PeriodKind::Quarter => Periods::quarters(),
        PeriodKind::Year => Periods::years(args.year_starts)?,
    };
    let keys = unlock(&ctx.home)?;
    let relay = || ctx.relay(&keys.card.relay);
    if let Some(path) = &args.export {
        let relay = relay()?;
        let n = export::write(path, &keys.card.id, |put| {
            relay.each_tally(&keys.card.id, keys.identity.signing(), |t| put(t.sealed))
        })
        .context("the tallies were not exported")?;
        let file = path.display().to_string();
        return ctx
            .out
            .either(&serde_json::json!({ "exported": n, "file": file }), |_| {
                format!(
                    "Wrote {n} tallies to {file}, sealed under the office's records key: keep it \
                 with the office's key bundle."
                )
            });
    }
    let mut counter = Counter::new(&keys.card, args.by, periods, args.from, args.to)?;
    let mut unreadable = 0u64;
    let mut add = |sealed: &[u8]| match Tally::open(&keys.records, &keys.card.id, sealed) {
        Ok(tally) => counter.add(&tally),
        Err(_) => unreadable += 1,
    };
    match &args.import {
        Some(path) => export::read(path, &keys.card.id, |sealed| add(&sealed))?,
        None => relay()?.each_tally(&keys.card.id, keys.identity.signing(), |t| {
            add(&t.sealed);
            Ok(())
        })?,
    }
    if unreadable > 0 {
        output::warn(&format!(
            "warning: {unreadable} tallies could not be opened with this office's records key \
             and are not counted; a colleague's records key may differ (share one with \
             `candor office export-keys`)"
        ));
    }
    let report = counter.finish(min_count);
    let bytes = match args.format {
        ReportFormat::Table => crate::report::table::render(&report).into_bytes(),
        ReportFormat::Csv => crate::report::csv::render(&report)?,
        ReportFormat::Json => {
            let mut v = serde_json::to_vec_pretty(&crate::report::json::render(&report))?;
            v.push(b'\n');
            v
        }
        ReportFormat::Svg => crate::report::svg::render(&report)?.into_bytes(),
    };
    emit(args.out.as_deref(), &bytes)
}
