//! `dbsync sync add|list|show|enable|disable|remove`: sync pairs in the state store,
//! beside those the configuration file declares.

use std::path::Path;

use dbsync_config::{Capture, Pair, TableRule};
use dbsync_control::{PairRecord, PairStatus};
use serde::Serialize;

use super::listing::{Columns, print_json};
use super::prompt::or_ask;
use super::state::{Kind, State};
use crate::cli::SyncAddArgs;
use crate::failure::{Exit, Failure};

pub(crate) async fn add(config_path: &Path, args: SyncAddArgs, json: bool) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    let name = or_ask(args.name, "sync add", "NAME", "Pair name")?;
    let source = or_ask(args.source, "sync add", "--source", "Source connection")?;
    let target = or_ask(args.target, "sync add", "--target", "Target connection")?;
    let mut pair = Pair::new(source, target);
    if !args.tables.is_empty() {
        pair.tables = parse_flag::<Vec<TableRule>>(&name, "--tables", args.tables.into())?;
    }
    if let Some(capture) = args.capture {
        pair.capture = Some(parse_flag::<Capture>(&name, "--capture", capture.into())?);
    }
    if let Some(schema) = args.target_schema {
        pair.target_schema = schema;
    }
    pair.enabled = !args.disabled;
    let record = state.store.create_pair(name, pair).await?;
    if json {
        return print_json(&Listed::new(&state, &record, None));
    }
    println!(
        "added pair `{}`: {} -> {}{}",
        record.name,
        record.definition.source,
        record.definition.target,
        if record.enabled { "" } else { " (disabled)" }
    );
    Ok(())
}

pub(crate) async fn list(config_path: &Path, json: bool) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    let records = state.store.pairs().await?;
    let statuses = state.store.status().await?;
    let listed: Vec<Listed<'_>> = records
        .iter()
        .map(|record| {
            let status = statuses.iter().find(|status| status.pair == record.name);
            Listed::new(&state, record, status)
        })
        .collect();
    if json {
        return print_json(&listed);
    }
    let mut columns = Columns::new(&[
        "name",
        "source",
        "target",
        "enabled",
        "state",
        "declared in",
    ]);
    for pair in &listed {
        columns.push(vec![
            pair.record.name.clone(),
            pair.record.definition.source.clone(),
            pair.record.definition.target.clone(),
            yes_no(pair.record.enabled).to_owned(),
            pair.state.map(state_text).unwrap_or_default(),
            pair.declared_in.to_owned(),
        ]);
    }
    print!("{}", columns.render());
    Ok(())
}

pub(crate) async fn show(config_path: &Path, name: &str, json: bool) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    let record = state.store.pair(name).await?;
    let statuses = state.store.status().await?;
    let status = statuses.iter().find(|status| status.pair == name);
    let listed = Listed::new(&state, &record, status);
    if json {
        return print_json(&listed);
    }
    let pair = &record.definition;
    // A glob as written, a table with options as its JSON.
    let tables: Vec<String> = pair
        .tables
        .iter()
        .map(|rule| match serde_json::to_value(rule) {
            Ok(serde_json::Value::String(glob)) => glob,
            Ok(options) => options.to_string(),
            Err(_) => String::new(),
        })
        .collect();
    let tables = tables.join(", ");
    let lines = [
        ("name", record.name.clone()),
        ("enabled", yes_no(record.enabled).to_owned()),
        ("state", listed.state.map(state_text).unwrap_or_default()),
        (
            "source",
            format!(
                "{} ({})",
                pair.source,
                masked_url(&state, &pair.source).await?
            ),
        ),
        (
            "target",
            format!(
                "{} ({})",
                pair.target,
                masked_url(&state, &pair.target).await?
            ),
        ),
        (
            "capture",
            pair.capture
                .map_or("the source engine's usual way", Capture::as_str)
                .to_owned(),
        ),
        ("target schema", pair.target_schema.clone()),
        ("tables", tables),
        ("batch size", pair.batch_size.to_string()),
        ("declared in", listed.declared_in.to_owned()),
        ("created", record.created_at.to_rfc3339()),
        ("updated", record.updated_at.to_rfc3339()),
    ];
    for (key, value) in lines {
        println!("{key:<14}{value}");
    }
    Ok(())
}

pub(crate) async fn set_enabled(
    config_path: &Path,
    name: &str,
    enabled: bool,
) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    state.refuse_declared(Kind::Pair, name)?;
    state.store.set_pair_enabled(name, enabled).await?;
    println!(
        "{} pair `{name}`",
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

pub(crate) async fn remove(config_path: &Path, name: &str) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    state.refuse_declared(Kind::Pair, name)?;
    state.store.delete_pair(name).await?;
    println!("removed pair `{name}`");
    Ok(())
}

/// A pair as listed: its definition, its state and where it is declared.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    record: &'a PairRecord,
    state: Option<dbsync_control::PairState>,
    declared_in: &'static str,
}

impl<'a> Listed<'a> {
    fn new(state: &State, record: &'a PairRecord, status: Option<&PairStatus>) -> Self {
        Listed {
            record,
            state: status.map(|status| status.state),
            declared_in: state.declared_in(Kind::Pair, &record.name),
        }
    }
}

/// A flag's value read as the configuration file reads the same key.
fn parse_flag<T: serde::de::DeserializeOwned>(
    pair: &str,
    flag: &str,
    value: serde_json::Value,
) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(|error| {
        Failure::new(
            Exit::Usage,
            format!("{flag} of pair `{pair}` is not valid: {error}; see `dbsync sync add --help`."),
        )
    })
}

/// The URL of connection `name`, password masked.
async fn masked_url(state: &State, name: &str) -> Result<String, Failure> {
    Ok(state.store.connection(name).await?.url.to_string())
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// A pair's state as JSON writes it (`idle`, `running`...).
pub(crate) fn state_text(state: dbsync_control::PairState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}
