//! `dbsync verify [PAIR...] [--tables T,..] [--json]`: whether each pair's target holds
//! exactly its source's rows, per table, with the keys that differ. Exits 0 when in
//! sync, 3 when it found differences.

use std::path::Path;

use dbsync_config::ZeroDatePolicy;
use dbsync_core::Value;
use dbsync_core::verify::{
    Canonical, Key, Keys, VerifyOptions, VerifyReport, ZeroDates, verify_tables,
};

use crate::cli::VerifyArgs;
use crate::failure::{Exit, Failure};
use crate::pair_sync::PairSync;

pub(crate) async fn run(config_path: &Path, args: VerifyArgs) -> Result<(), Failure> {
    if args.repair {
        return Err(Failure::not_built("verify --repair"));
    }
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging);
    let names = super::pair_names(&config, &args.pairs);
    let mut reports = Vec::new();
    for name in &names {
        let pair = super::find_pair(&config, config_path, name)?;
        let sync = PairSync::new(name, pair, &config)?;
        let (mut source, _, mut tables) = sync.read_source_tables().await?;
        if !args.tables.is_empty() {
            if let Some(unknown) = args
                .tables
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
            tables.retain(|table| args.tables.contains(&table.name.name));
        }
        let mut target = sync.open_target_reader(&tables).await?;
        let options = VerifyOptions {
            canonical: Canonical {
                zero_dates: match pair.zero_date {
                    ZeroDatePolicy::Keep => ZeroDates::Kept,
                    _ => ZeroDates::AsNull,
                },
            },
            ..VerifyOptions::default()
        };
        let report = verify_tables(&mut source, &mut target, &tables, &options).await?;
        if !args.json {
            print_report(name, &report);
        }
        reports.push((name.clone(), report));
    }
    if args.json {
        let json: serde_json::Map<String, serde_json::Value> = reports
            .iter()
            .map(|(name, report)| {
                (
                    name.clone(),
                    serde_json::to_value(report).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        println!("{}", serde_json::Value::Object(json));
    }
    let differing: Vec<&str> = reports
        .iter()
        .filter(|(_, report)| !report.is_equal())
        .map(|(name, _)| name.as_str())
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        Exit::Differences,
        format!(
            "the target of pair {} differs from its source; see the report above, and `dbsync run --full` re-copies.",
            differing
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
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
