//! `dbsync triggers install|remove|show PAIR [--dry-run]`: the triggers that record a
//! trigger-captured pair's changes in the source's `sync_audit_log`.

use std::path::Path;

use dbsync_mysql::triggers::{self, TriggerPlan};

use dbsync_config::Capture;

use crate::cli::{TriggersArgs, TriggersCommand};
use crate::failure::{Exit, Failure};
use crate::pair_sync::PairSync;

pub(crate) async fn run(config_path: &Path, command: TriggersCommand) -> Result<(), Failure> {
    let (TriggersCommand::Install(args)
    | TriggersCommand::Remove(args)
    | TriggersCommand::Show(args)) = &command;
    let TriggersArgs {
        pair: name,
        dry_run,
    } = args;
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging)?;
    let pair = super::find_pair(&config, config_path, name)?;
    let sync = PairSync::new(name, pair, &config)?;
    if sync.capture() != Capture::Triggers {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "pair `{name}` captures changes by {}; triggers serve pairs with `capture: triggers`.",
                sync.capture().as_str()
            ),
        ));
    }
    let (mut source, database, tables) = sync.read_source_tables().await?;
    let plan = TriggerPlan::new(&database, &tables)?;
    let conn = source.mysql_conn().ok_or_else(|| {
        Failure::new(
            Exit::Usage,
            format!("the source of pair `{name}` is not MySQL/MariaDB, where triggers capture."),
        )
    })?;
    let database = database.as_str();
    match command {
        TriggersCommand::Install(_) if *dry_run => {
            print!("{}", triggers::script(&plan.install_statements()));
        }
        TriggersCommand::Install(_) => {
            triggers::install(conn, &plan).await?;
            println!(
                "installed {} triggers on {} tables of `{database}`; they record changes in `{database}`.{}",
                plan.triggers().len(),
                tables.len(),
                dbsync_mysql::audit_log::AUDIT_LOG
            );
        }
        TriggersCommand::Remove(_) if *dry_run => {
            print!("{}", triggers::script(&plan.remove_statements()));
        }
        TriggersCommand::Remove(_) => {
            let names: Vec<&str> = tables.iter().map(|t| t.name.name.as_str()).collect();
            triggers::remove(conn, database, &names).await?;
            println!(
                "removed dbsync's triggers from {} tables of `{database}`.",
                tables.len()
            );
        }
        TriggersCommand::Show(_) => {
            let installed = triggers::show(conn, database).await?;
            for table in &tables {
                let state = match installed.iter().find(|t| t.table == table.name.name) {
                    Some(trigger) if trigger.is_complete() => "installed".to_owned(),
                    Some(trigger) => {
                        let events: Vec<String> =
                            trigger.events.iter().map(ToString::to_string).collect();
                        format!(
                            "incomplete (only {}); run `dbsync triggers install {name}`",
                            events.join(", ")
                        )
                    }
                    None => "missing".to_owned(),
                };
                println!("{}\t{state}", table.name.name);
            }
        }
    }
    Ok(())
}
