//! dbsync's triggers: per table, AFTER INSERT, UPDATE and DELETE triggers that record
//! each row change in the audit log, for servers where reading the binlog is not
//! allowed.
//!
//! Each trigger writes the changed row's key (see the `record_id` module) and, for
//! people, its values. An UPDATE that changes the key writes two entries, a DELETE of
//! the old key and an UPDATE of the new, so that capture removes the old row too.
//! Triggers are named `dbsync_<table>_ai|au|ad`, so that `show` finds them among the
//! application's own.
//!
//! Limits that come with triggers: the server does not fire them for the rows that a
//! foreign key's `ON DELETE/UPDATE CASCADE` or `SET NULL` changes, for TRUNCATE, nor
//! for rows a replica applies from row-format binlog events; those changes reach the
//! target only through a verify and repair pass. After a change of a table's key, its
//! triggers must be removed and installed again.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use dbsync_core::{Column, DataType, Error, ErrorKind, Result, TableSchema};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::audit_log::{AUDIT_LOG, AuditLog};
use crate::error::driver_error;
use crate::record_id::RecordId;
use crate::sql::quote;

/// The row event a trigger follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TriggerEvent {
    Insert,
    Update,
    Delete,
}

impl TriggerEvent {
    pub const ALL: [TriggerEvent; 3] = [
        TriggerEvent::Insert,
        TriggerEvent::Update,
        TriggerEvent::Delete,
    ];

    /// As SQL and `information_schema.TRIGGERS` spell it.
    pub fn as_sql(self) -> &'static str {
        match self {
            TriggerEvent::Insert => "INSERT",
            TriggerEvent::Update => "UPDATE",
            TriggerEvent::Delete => "DELETE",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            TriggerEvent::Insert => "ai",
            TriggerEvent::Update => "au",
            TriggerEvent::Delete => "ad",
        }
    }
}

impl fmt::Display for TriggerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// Identifiers are at most 64 characters.
const MAX_IDENTIFIER: usize = 64;

/// The name of dbsync's trigger for `event` on `table`: `dbsync_<table>_ai`, or for a
/// table name too long for that, its first characters and a hash of the whole name.
pub fn trigger_name(table: &str, event: TriggerEvent) -> String {
    let name = format!("dbsync_{table}_{}", event.suffix());
    if name.chars().count() <= MAX_IDENTIFIER {
        return name;
    }
    let hash = format!("{:08x}", crc32fast::hash(table.as_bytes()));
    // "dbsync_" + prefix + "_" + hash + "_ai"
    let room = MAX_IDENTIFIER - 7 - 1 - hash.len() - 3;
    let prefix: String = table.chars().take(room).collect();
    format!("dbsync_{prefix}_{hash}_{}", event.suffix())
}

/// The sql_mode the triggers are created with, and so run with whatever the writer's
/// session has: not strict, because an audit entry must never fail the application's
/// write (no entry can overflow its columns anyway); no backslash escapes, so that the
/// string literals below are read as written; no engine substitution, so that the
/// audit log is InnoDB, transactional, or not created.
const TRIGGER_SQL_MODE: &str =
    "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES'";

/// One trigger to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTrigger {
    pub table: String,
    pub event: TriggerEvent,
    pub name: String,
    /// What the trigger does, as `information_schema.TRIGGERS.ACTION_STATEMENT` shows it.
    pub body: String,
}

/// The SQL that installs dbsync's triggers on a set of tables: what `install` runs and
/// `--dry-run` prints.
#[derive(Debug, Clone)]
pub struct TriggerPlan {
    log: AuditLog,
    triggers: Vec<PlannedTrigger>,
}

impl TriggerPlan {
    /// The triggers of `tables`, all of one database, keyed by their `primary_key` (a
    /// declared key already applied). Fails for a table whose key triggers cannot
    /// record exactly, and for the audit log itself.
    pub fn new(database: &str, tables: &[Arc<TableSchema>]) -> Result<TriggerPlan> {
        let log = AuditLog::new(database);
        let mut triggers = Vec::with_capacity(tables.len() * 3);
        for table in tables {
            let name = &table.name;
            if name.schema != database || name.name == AUDIT_LOG {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "dbsync's triggers go on the tables of database `{database}` other than {AUDIT_LOG}"
                    ),
                )
                .with_table(name.clone()));
            }
            let entries = Entries::new(&log, table)?;
            for event in TriggerEvent::ALL {
                triggers.push(PlannedTrigger {
                    table: name.name.clone(),
                    event,
                    name: trigger_name(&name.name, event),
                    body: entries.body(event),
                });
            }
        }
        Ok(TriggerPlan { log, triggers })
    }

    pub fn database(&self) -> &str {
        self.log.database()
    }

    pub fn triggers(&self) -> &[PlannedTrigger] {
        &self.triggers
    }

    /// Every statement `install` runs, in order.
    pub fn install_statements(&self) -> Vec<String> {
        let mut statements = vec![TRIGGER_SQL_MODE.to_owned(), self.log.create_statement()];
        statements.extend(self.triggers.iter().map(|t| self.create_trigger(t)));
        statements
    }

    /// The statements that drop the plan's triggers (see [`remove`] for the audit log).
    pub fn remove_statements(&self) -> Vec<String> {
        let mut tables: Vec<&str> = self.triggers.iter().map(|t| t.table.as_str()).collect();
        tables.dedup();
        remove_statements(self.database(), &tables)
    }

    fn create_trigger(&self, trigger: &PlannedTrigger) -> String {
        let database = quote(self.database());
        format!(
            "CREATE TRIGGER {database}.{} AFTER {} ON {database}.{} FOR EACH ROW {}",
            quote(&trigger.name),
            trigger.event,
            quote(&trigger.table),
            trigger.body
        )
    }
}

/// Writes `statements` as a script for the `mysql`/`mariadb` client, whose own
/// delimiter would cut a trigger's `BEGIN ... END` apart.
pub fn script(statements: &[String]) -> String {
    let mut script = String::from("DELIMITER //\n");
    for statement in statements {
        script.push_str(statement);
        script.push_str("\n//\n");
    }
    script.push_str("DELIMITER ;\n");
    script
}

/// The audit entries of one table's rows.
struct Entries<'a> {
    log: &'a AuditLog,
    table: &'a str,
    record_id: RecordId,
    columns: &'a [Column],
}

impl<'a> Entries<'a> {
    fn new(log: &'a AuditLog, table: &'a TableSchema) -> Result<Entries<'a>> {
        let (record_id, _) = RecordId::of(table)?;
        Ok(Entries {
            log,
            table: &table.name.name,
            record_id,
            columns: &table.columns,
        })
    }

    fn body(&self, event: TriggerEvent) -> String {
        match event {
            TriggerEvent::Insert => self.insert("NEW", TriggerEvent::Insert),
            TriggerEvent::Delete => self.insert("OLD", TriggerEvent::Delete),
            // Compared as bytes: a key changed only in letter case or trailing spaces
            // is the same key to the collation but another to the target.
            TriggerEvent::Update => format!(
                "BEGIN\n  IF CAST({old} AS BINARY) <> CAST({new} AS BINARY) THEN\n    {delete};\n  END IF;\n  {update};\nEND",
                old = self.record_id.encode("OLD"),
                new = self.record_id.encode("NEW"),
                delete = self.insert("OLD", TriggerEvent::Delete),
                update = self.insert("NEW", TriggerEvent::Update),
            ),
        }
    }

    /// The statement that records `operation` of row image `image`.
    fn insert(&self, image: &str, operation: TriggerEvent) -> String {
        format!(
            "INSERT INTO {} (table_name, record_id, operation, row_data, created_at) VALUES ({}, {}, '{operation}', {}, UTC_TIMESTAMP(6))",
            self.log.table(),
            literal(self.table),
            self.record_id.encode(image),
            self.row_data(image),
        )
    }

    /// The row as a JSON object, for people: binary values in hexadecimal, text in
    /// utf8mb4, other values as the server writes them.
    fn row_data(&self, image: &str) -> String {
        let members: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !matches!(c.data_type, DataType::Unsupported { .. }))
            .map(|column| {
                let value = format!("{image}.{}", quote(&column.name));
                let value = match column.data_type {
                    DataType::Binary { .. }
                    | DataType::VarBinary { .. }
                    | DataType::Blob { .. }
                    | DataType::Geometry { .. }
                    | DataType::Bit { .. } => format!("HEX({value})"),
                    DataType::Char { .. }
                    | DataType::VarChar { .. }
                    | DataType::Text { .. }
                    | DataType::Enum { .. }
                    | DataType::Set { .. }
                    | DataType::Uuid => format!("CONVERT({value} USING utf8mb4)"),
                    // JSON_OBJECT writes a YEAR as its digits: `0000` is no JSON number,
                    // and the log's JSON check would then fail the user's own write.
                    DataType::Year => format!("CAST({value} AS UNSIGNED)"),
                    _ => value,
                };
                format!("{}, {value}", literal(&column.name))
            })
            .collect();
        format!("JSON_OBJECT({})", members.join(", "))
    }
}

/// `text` as a string literal, for a session with NO_BACKSLASH_ESCAPES.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Installs `plan`: creates the audit log when absent, then the triggers. DDL is not
/// transactional, so on any failure it drops what it created, and nothing stays half
/// installed. Leaves the session with the triggers' sql_mode.
pub async fn install(conn: &mut Conn, plan: &TriggerPlan) -> Result<()> {
    let log_existed = plan.log.exists(conn).await?;
    let statements = plan.install_statements();
    let (setup, triggers) = statements.split_at(2);
    for statement in setup {
        conn.query_drop(statement)
            .await
            .map_err(|e| driver_error(&format!("creating {}", plan.log.table()), e))?;
    }
    let mut created = Vec::new();
    for (statement, trigger) in triggers.iter().zip(&plan.triggers) {
        if let Err(error) = conn.query_drop(statement).await {
            let error = install_error(conn, plan, trigger, error).await;
            let undo = undo_install(conn, plan, &created, !log_existed).await;
            return Err(match undo {
                Ok(()) => error,
                Err(undo) => Error::new(
                    error.kind(),
                    format!(
                        "{error}; removing what was installed failed too ({undo}): run `dbsync triggers remove` for the pair"
                    ),
                ),
            });
        }
        created.push(trigger.name.as_str());
    }
    Ok(())
}

/// Drops the triggers `install` created and the audit log when it created it.
async fn undo_install(
    conn: &mut Conn,
    plan: &TriggerPlan,
    created: &[&str],
    drop_log: bool,
) -> Result<()> {
    for name in created {
        conn.query_drop(drop_trigger(plan.database(), name))
            .await
            .map_err(|e| driver_error(&format!("dropping trigger {name}"), e))?;
    }
    if drop_log {
        conn.query_drop(format!("DROP TABLE IF EXISTS {}", plan.log.table()))
            .await
            .map_err(|e| driver_error(&format!("dropping {}", plan.log.table()), e))?;
    }
    Ok(())
}

/// The error of a failed CREATE TRIGGER, with the fix where one is known.
async fn install_error(
    conn: &mut Conn,
    plan: &TriggerPlan,
    trigger: &PlannedTrigger,
    error: mysql_async::Error,
) -> Error {
    let code = match &error {
        mysql_async::Error::Server(server) => server.code,
        _ => 0,
    };
    let database = plan.database();
    match code {
        // Access denied to the table or the database.
        1142 | 1044 => {
            let account = current_account(conn).await;
            Error::new(
                ErrorKind::Config,
                format!(
                    "the source account lacks the TRIGGER privilege on database `{database}`, which trigger capture needs; run GRANT TRIGGER ON {}.* TO {account}",
                    quote(database)
                ),
            )
        }
        // ER_BINLOG_CREATE_ROUTINE_NEED_SUPER
        1419 => Error::new(
            ErrorKind::Config,
            "the source writes a binary log, and then creating triggers needs the SUPER privilege; run SET GLOBAL log_bin_trust_function_creators = 1 as an administrator, or grant the account SUPER",
        ),
        // ER_TRG_ALREADY_EXISTS
        1359 => Error::new(
            ErrorKind::Config,
            format!(
                "table `{}` already has trigger {}; run `dbsync triggers remove` for the pair first, or leave the table's triggers as they are",
                trigger.table, trigger.name
            ),
        ),
        _ => driver_error(
            &format!("creating trigger {} on `{}`", trigger.name, trigger.table),
            error,
        ),
    }
}

/// The account the connection is, as a GRANT names it: `'user'@'host'`.
async fn current_account(conn: &mut Conn) -> String {
    let account: Option<String> = conn
        .query_first("SELECT CURRENT_USER()")
        .await
        .ok()
        .flatten();
    match account.as_deref().and_then(|a| a.rsplit_once('@')) {
        Some((user, host)) => format!("{}@{}", literal(user), literal(host)),
        None => "the account dbsync uses".to_owned(),
    }
}

/// Drops dbsync's triggers from `tables` of `database`, then the audit log when no
/// table of the database keeps any: with no trigger left to write it, nothing would
/// consume or purge it.
pub async fn remove(conn: &mut Conn, database: &str, tables: &[&str]) -> Result<()> {
    for statement in remove_statements(database, tables) {
        conn.query_drop(&statement)
            .await
            .map_err(|e| driver_error("dropping dbsync's triggers", e))?;
    }
    if show(conn, database).await?.is_empty() {
        let log = AuditLog::new(database);
        conn.query_drop(format!("DROP TABLE IF EXISTS {}", log.table()))
            .await
            .map_err(|e| driver_error(&format!("dropping {}", log.table()), e))?;
    }
    Ok(())
}

/// The statements `remove` runs to drop the triggers of `tables`.
pub fn remove_statements(database: &str, tables: &[&str]) -> Vec<String> {
    tables
        .iter()
        .flat_map(|table| {
            TriggerEvent::ALL.map(|event| drop_trigger(database, &trigger_name(table, event)))
        })
        .collect()
}

fn drop_trigger(database: &str, name: &str) -> String {
    format!("DROP TRIGGER IF EXISTS {}.{}", quote(database), quote(name))
}

/// The dbsync triggers on one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledTrigger {
    pub table: String,
    /// The events it has a trigger for, in [`TriggerEvent::ALL`] order.
    pub events: Vec<TriggerEvent>,
}

impl InstalledTrigger {
    /// Whether every event is recorded; a table with only some of its triggers loses
    /// changes.
    pub fn is_complete(&self) -> bool {
        self.events == TriggerEvent::ALL
    }
}

/// The tables of `database` that have dbsync's triggers, by table name; complete or
/// not.
pub async fn show(conn: &mut Conn, database: &str) -> Result<Vec<InstalledTrigger>> {
    let rows: Vec<(String, String, String)> = conn
        .exec(
            "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, EVENT_MANIPULATION FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = ? AND ACTION_TIMING = 'AFTER'",
            (database,),
        )
        .await
        .map_err(|e| driver_error(&format!("reading the triggers of `{database}`"), e))?;
    let mut tables: BTreeMap<String, Vec<TriggerEvent>> = BTreeMap::new();
    for (table, name, manipulation) in rows {
        let event = TriggerEvent::ALL
            .into_iter()
            .find(|event| event.as_sql() == manipulation && trigger_name(&table, *event) == name);
        if let Some(event) = event {
            tables.entry(table).or_default().push(event);
        }
    }
    Ok(tables
        .into_iter()
        .map(|(table, mut events)| {
            events.sort();
            InstalledTrigger { table, events }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_names_fit_identifiers_and_stay_distinct() {
        assert_eq!(trigger_name("film", TriggerEvent::Update), "dbsync_film_au");
        let long = "a".repeat(64);
        let longer = format!("{}b", "a".repeat(63));
        let name = trigger_name(&long, TriggerEvent::Delete);
        assert_eq!(name.chars().count(), 64);
        assert!(name.starts_with("dbsync_aaa") && name.ends_with("_ad"));
        assert_ne!(name, trigger_name(&longer, TriggerEvent::Delete));
        // Counted in characters, as the server counts them.
        let wide = "é".repeat(54);
        assert_eq!(
            trigger_name(&wide, TriggerEvent::Insert).chars().count(),
            64
        );
    }

    #[test]
    fn a_script_keeps_compound_statements_whole() {
        let statements = vec!["SELECT 1".to_owned(), "BEGIN\n  SELECT 2;\nEND".to_owned()];
        assert_eq!(
            script(&statements),
            "DELIMITER //\nSELECT 1\n//\nBEGIN\n  SELECT 2;\nEND\n//\nDELIMITER ;\n"
        );
    }
}
