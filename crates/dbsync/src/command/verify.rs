//! `dbsync verify [PAIR...] [--tables T,..] [--json] [--repair]`: whether each pair's
//! target holds exactly its source's rows, per table, with the keys that differ; with
//! `--repair`, the differences fixed through the target's apply path and the pair
//! verified again. Keys found differing are checked again once the pair's stream has
//! passed them, so that a verify beside a running pair reports only real differences.
//! Exits 0 when in sync (after the repair), 3 when not.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbsync_config::{Pair, ZeroDatePolicy};
use dbsync_core::pipeline::Target as _;
use dbsync_core::verify::{
    Canonical, Key, Keys, Recheck, RecheckOptions, RepairScope, Repaired, VerifyOptions,
    VerifyReport, VerifyTable, ZeroDates, recheck_table, repair_table, verify_table,
};
use dbsync_core::{Result, TableName, TableSchema, Value};

use crate::cli::VerifyArgs;
use crate::endpoint::{AnySource, AnyTargetReader, PairSnapshots};
use crate::failure::{Exit, Failure};
use crate::pair_sync::PairSync;

pub(crate) async fn run(config_path: &Path, args: VerifyArgs) -> Result<(), Failure> {
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging)?;
    let names = super::pair_names(&config, &args.pairs);
    let scope = args.repair.then_some(RepairScope::Everything);
    let mut checks = Vec::new();
    for name in &names {
        let pair = super::find_pair(&config, config_path, name)?;
        let sync = PairSync::new(name, pair, &config)?;
        let (source, _, mut tables) = sync.read_source_tables().await?;
        keep_tables(name, &mut tables, &args.tables)?;
        let started_at = chrono::Utc::now();
        let check = check_pair(&sync, pair, source, &tables, scope).await?;
        for note in check.notes() {
            eprintln!("{name}: {note}");
        }
        super::history::record_verify(&config, name, started_at, &check).await;
        if !args.json {
            check.print(name);
        }
        checks.push((name.clone(), check));
    }
    if args.json {
        let json: serde_json::Map<String, serde_json::Value> = checks
            .iter()
            .map(|(name, check)| (name.clone(), check.to_json()))
            .collect();
        println!("{}", serde_json::Value::Object(json));
    }
    let differing: Vec<&str> = checks
        .iter()
        .filter(|(_, check)| !check.is_equal())
        .map(|(name, _)| name.as_str())
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    let pairs = differing
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Failure::new(
        Exit::Differences,
        if args.repair {
            format!(
                "the target of pair {pairs} still differs from its source after the repair (its rows changed meanwhile?); see the report above, and verify again."
            )
        } else {
            format!(
                "the target of pair {pairs} differs from its source; see the report above, and `dbsync verify --repair` fixes it."
            )
        },
    ))
}

/// Keeps of `tables` those named in `only` (all when it is empty); naming a table pair
/// `name` does not sync is a usage error.
fn keep_tables(
    name: &str,
    tables: &mut Vec<Arc<TableSchema>>,
    only: &[String],
) -> Result<(), Failure> {
    if only.is_empty() {
        return Ok(());
    }
    if let Some(unknown) = only
        .iter()
        .find(|t| !tables.iter().any(|table| &table.name.name == *t))
    {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "pair `{name}` syncs no table `{unknown}`; its tables are: {}.",
                tables
                    .iter()
                    .map(|t| t.name.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    tables.retain(|table| only.contains(&table.name.name));
    Ok(())
}

/// What verify found of a pair, and when it repaired, what it wrote and then found.
#[derive(Debug)]
pub(crate) struct PairCheck {
    found: VerifyReport,
    repair: Option<PairRepair>,
    /// Where a recheck could not settle whether keys differ.
    notes: Vec<String>,
}

/// What a repair wrote (nothing when the pair was equal), and the verify after it.
#[derive(Debug)]
struct PairRepair {
    repaired: Vec<(TableName, Repaired)>,
    after: VerifyReport,
}

impl PairCheck {
    /// Whether the target holds exactly the source's rows, after the repair if any.
    pub(crate) fn is_equal(&self) -> bool {
        self.report().is_equal()
    }

    /// Where verify could not settle whether keys differ (a stream lagging behind).
    pub(crate) fn notes(&self) -> &[String] {
        &self.notes
    }

    /// What the verify found last: after the repair, if any.
    pub(crate) fn report(&self) -> &VerifyReport {
        self.repair.as_ref().map_or(&self.found, |r| &r.after)
    }

    /// The tables a repair wrote to, with what it wrote.
    pub(crate) fn repaired(&self) -> &[(TableName, Repaired)] {
        self.repair.as_ref().map_or(&[], |r| &r.repaired)
    }

    /// The report; with a repair asked for, `{found, repaired, after}`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let report =
            |report: &VerifyReport| serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
        let Some(repair) = &self.repair else {
            return report(&self.found);
        };
        let repaired: Vec<serde_json::Value> = repair
            .repaired
            .iter()
            .map(|(table, done)| {
                serde_json::json!({
                    "table": table,
                    "upserted": done.upserted,
                    "deleted": done.deleted,
                })
            })
            .collect();
        serde_json::json!({
            "found": report(&self.found),
            "repaired": repaired,
            "after": report(&repair.after),
        })
    }

    /// The report; after a repair that wrote, what it wrote and the report of the
    /// verify after.
    fn print(&self, pair: &str) {
        print_report(pair, &self.found);
        let Some(repair) = self.repair.as_ref().filter(|r| !r.repaired.is_empty()) else {
            return;
        };
        for (table, done) in &repair.repaired {
            println!(
                "{pair}\t{table}\trepaired\t{} rows written, {} deleted",
                done.upserted, done.deleted
            );
        }
        print_report(pair, &repair.after);
    }
}

/// Verifies `tables` of pair `sync` (`pair` as configured) between `source` and the
/// target; with a `repair` scope, writes what differs within it to the target through
/// its normal apply path, then verifies again.
pub(crate) async fn check_pair(
    sync: &PairSync,
    pair: &Pair,
    mut source: AnySource,
    tables: &[Arc<TableSchema>],
    repair: Option<RepairScope>,
) -> Result<PairCheck> {
    let mut reader = sync.open_target_reader(tables).await?;
    let mut options = VerifyOptions {
        canonical: Canonical {
            zero_dates: match pair.zero_date {
                ZeroDatePolicy::Keep => ZeroDates::Kept,
                _ => ZeroDates::AsNull,
            },
        },
        ..VerifyOptions::default()
    };
    if repair.is_some() {
        options = options.listing_every_key();
    }
    let mut verify = Verify {
        sync,
        pair,
        source: &mut source,
        reader: &mut reader,
        tables,
        options,
        notes: Vec::new(),
    };
    let found = verify.rechecked().await?;
    let Some(scope) = repair else {
        let notes = verify.notes;
        return Ok(PairCheck {
            found,
            repair: None,
            notes,
        });
    };
    if found.is_equal() {
        let after = found.clone();
        let notes = verify.notes;
        return Ok(PairCheck {
            found,
            repair: Some(PairRepair {
                repaired: Vec::new(),
                after,
            }),
            notes,
        });
    }
    let mut target = sync.open_target(tables).await?;
    let checkpoints: HashMap<TableName, _> = target.checkpoints().await?.into_iter().collect();
    let mut repaired = Vec::new();
    for (table, report) in tables.iter().zip(&found.tables) {
        if report.is_equal() {
            continue;
        }
        let verified = VerifyTable::new(Arc::clone(table), options.canonical, options.chunk_rows)?;
        let done = repair_table(
            verify.source,
            &mut target,
            &verified,
            report,
            scope,
            checkpoints.get(&table.name),
            pair.batch_size.max(1) as usize,
        )
        .await?;
        repaired.push((table.name.clone(), done));
    }
    let after = verify.rechecked().await?;
    Ok(PairCheck {
        found,
        repair: Some(PairRepair { repaired, after }),
        notes: verify.notes,
    })
}

/// One verify of a pair's tables, with what it has to say beside its report.
struct Verify<'v> {
    sync: &'v PairSync,
    pair: &'v Pair,
    source: &'v mut AnySource,
    reader: &'v mut AnyTargetReader,
    tables: &'v [Arc<TableSchema>],
    options: VerifyOptions,
    /// Where a recheck could not settle whether a key differs.
    notes: Vec<String>,
}

impl Verify<'_> {
    /// The report of a verify pass whose differing keys were checked again once the
    /// pair's stream had passed them (see [`recheck_table`]): rows that changed on the
    /// source during the pass are not reported, even while the pair streams.
    async fn rechecked(&mut self) -> Result<VerifyReport> {
        let recheck = RecheckOptions {
            // A polled change reaches the target within a poll interval or two.
            timed_round: self.pair.poll_interval * 2 + Duration::from_secs(1),
            ..RecheckOptions::default()
        };
        // The pass lists every key a recheck reads.
        let pass = VerifyOptions {
            keys_listed: self.options.keys_listed.max(recheck.max_keys),
            ..self.options
        };
        let mut report = self.pass(&pass).await?;
        if report.is_equal() {
            return Ok(report);
        }
        let mut target = self.sync.open_target(self.tables).await?;
        let database = self.sync.source_database();
        let mut source = PairSnapshots::new(self.source, self.sync.capture(), &database);
        for (table, found) in self.tables.iter().zip(&mut report.tables) {
            if found.is_equal() {
                continue;
            }
            let verified = VerifyTable::new(
                Arc::clone(table),
                self.options.canonical,
                self.options.chunk_rows,
            )?;
            let rechecked = recheck_table(
                &mut source,
                self.reader,
                &mut target,
                &verified,
                found.clone(),
                self.options.keys_listed,
                &recheck,
            )
            .await?;
            *found = rechecked.report;
            match rechecked.recheck {
                Recheck::Done { .. } => {}
                Recheck::TooManyKeys => {
                    for keys in [&mut found.missing, &mut found.extra, &mut found.different] {
                        keys.first.truncate(self.options.keys_listed);
                    }
                    self.notes.push(format!(
                        "{}: more than {} keys differ, too many to check again once the stream has passed them; rows that changed during the verify may be among them",
                        table.name, recheck.max_keys
                    ));
                }
                Recheck::TargetBehind { source, target } => self.notes.push(format!(
                    "{}: the target's checkpoint ({}) did not reach the source's position {source} within {:?}; the keys reported may be changes the stream has not applied yet",
                    table.name,
                    target.map_or_else(|| "none".to_owned(), |p| p.to_string()),
                    recheck.catch_up
                )),
            }
        }
        Ok(report)
    }

    /// Verifies each table in turn; on a terminal, says on stderr which one, and after
    /// it how many rows it compared at what rate.
    async fn pass(&mut self, options: &VerifyOptions) -> Result<VerifyReport> {
        let terminal = std::io::stderr().is_terminal();
        let mut report = VerifyReport::default();
        for (done, table) in self.tables.iter().enumerate() {
            if terminal {
                eprint!(
                    "\rverifying {} ({} of {})\x1b[K",
                    table.name,
                    done + 1,
                    self.tables.len()
                );
            }
            let started = Instant::now();
            let found = verify_table(self.source, self.reader, table, options).await?;
            if terminal {
                let seconds = started.elapsed().as_secs_f64();
                let rows = found.source_rows.max(found.target_rows);
                eprintln!(
                    "\rverified {}: {rows} rows in {seconds:.1} s ({:.0} rows/s)\x1b[K",
                    table.name,
                    rows as f64 / seconds.max(0.001)
                );
            }
            report.tables.push(found);
        }
        Ok(report)
    }
}

/// One line per table: equal, or how many keys are missing, extra and different, with
/// the first of each.
fn print_report(pair: &str, report: &VerifyReport) {
    for table in &report.tables {
        let rows = format!(
            "{} source rows, {} target rows",
            table.source_rows, table.target_rows
        );
        if table.is_equal() {
            println!("{pair}\t{}\tequal\t{rows}", table.table);
            continue;
        }
        let kinds = [
            ("missing", &table.missing),
            ("extra", &table.extra),
            ("different", &table.different),
        ];
        let found: Vec<String> = kinds
            .iter()
            .filter(|(_, keys)| keys.count > 0)
            .map(|(kind, keys)| format!("{} {kind} (first: {})", keys.count, first_keys(keys)))
            .collect();
        println!(
            "{pair}\t{}\tDIFFERENT\t{rows}; {}",
            table.table,
            found.join("; ")
        );
    }
}

fn first_keys(keys: &Keys) -> String {
    keys.first
        .iter()
        .map(key_text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key as people write it: its values, in parentheses when it has several.
fn key_text(key: &Key) -> String {
    let values: Vec<String> = key
        .iter()
        .map(|value| match value {
            Value::Int(v) => v.to_string(),
            Value::UInt(v) => v.to_string(),
            Value::Text(v) => format!("'{v}'"),
            other => format!("{other:?}"),
        })
        .collect();
    match values.as_slice() {
        [one] => one.clone(),
        _ => format!("({})", values.join(", ")),
    }
}
