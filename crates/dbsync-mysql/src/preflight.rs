//! Checks that a MySQL/MariaDB server can be a binlog source, before anything is
//! written anywhere. Each failure names the setting and the fix.

use std::sync::Arc;

use dbsync_core::{Error, ErrorKind, Result, TableSchema};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::audit_log::{AUDIT_LOG, AuditLog};
use crate::error::driver_error;
use crate::flavor::Flavor;
use crate::triggers;

/// Checks the server settings and the account's privileges that binlog capture needs;
/// returns the first problem found.
pub async fn check_binlog_source(conn: &mut Conn, database: &str) -> Result<()> {
    let exists: Option<String> = conn
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (database,),
        )
        .await
        .map_err(|e| driver_error("checking the source database", e))?;
    if exists.is_none() {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "the source has no database `{database}` (or the account cannot see it); fix the database name in the source URL"
            ),
        ));
    }
    let flavor = Flavor::of(conn).await?;
    let log_bin = variable(conn, "log_bin").await?;
    if !log_bin.eq_ignore_ascii_case("ON") && log_bin != "1" {
        return Err(source_setting(
            "the source has binary logging off (log_bin); start the server with --log-bin and --binlog-format=ROW",
        ));
    }
    let format = variable(conn, "binlog_format").await?;
    if !format.eq_ignore_ascii_case("ROW") {
        return Err(source_setting(&format!(
            "the source logs in binlog_format={format}; dbsync needs ROW: set binlog_format=ROW in the server configuration"
        )));
    }
    let image = variable(conn, "binlog_row_image").await?;
    if !image.eq_ignore_ascii_case("FULL") {
        return Err(source_setting(&format!(
            "the source logs binlog_row_image={image}; dbsync needs whole rows: set binlog_row_image=FULL"
        )));
    }
    if flavor == Flavor::MariaDb
        && variable(conn, "log_bin_compress")
            .await?
            .eq_ignore_ascii_case("ON")
    {
        return Err(source_setting(
            "the source compresses its binlog (log_bin_compress=ON), which dbsync does not read; set log_bin_compress=OFF",
        ));
    }
    if flavor == Flavor::Mysql
        && optional_variable(conn, "binlog_transaction_compression")
            .await?
            .is_some_and(|v| v.eq_ignore_ascii_case("ON"))
    {
        return Err(source_setting(
            "the source compresses its binlog transactions (binlog_transaction_compression=ON), which dbsync does not read; turn it off",
        ));
    }
    check_privileges(conn, flavor).await
}

/// Checks that trigger capture can follow `tables` of `database` for pair `pair`: the
/// audit log exists and every table has all of dbsync's triggers.
pub async fn check_trigger_source(
    conn: &mut Conn,
    database: &str,
    tables: &[Arc<TableSchema>],
    pair: &str,
) -> Result<()> {
    let fix = format!("run `dbsync triggers install {pair}`");
    if !AuditLog::new(database).exists(conn).await? {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "the source database `{database}` has no {AUDIT_LOG}, which trigger capture reads; {fix}"
            ),
        ));
    }
    // The server shows triggers only to holders of the TRIGGER privilege: without
    // it, every table would look unprotected, or, worse, be taken as protected.
    if !holds_on_database(conn, "TRIGGER", database).await? {
        return Err(Error::new(
            ErrorKind::Privilege,
            format!(
                "the source account cannot see the triggers of `{database}`, which the server shows only to holders of the TRIGGER privilege; run GRANT TRIGGER ON `{database}`.* TO the account dbsync uses, so that it can check that every table's changes are recorded"
            ),
        ));
    }
    let installed = triggers::show(conn, database).await?;
    let missing: Vec<String> = tables
        .iter()
        .filter(|table| {
            !installed
                .iter()
                .any(|t| t.table == table.name.name && t.is_complete())
        })
        .map(|table| format!("`{}`", table.name.name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Config,
        format!(
            "table {} of `{database}` lacks dbsync's triggers (all or some), so its changes are not recorded; {fix}",
            missing.join(", ")
        ),
    ))
}

/// The grants dbsync needs: reading rows, and reading the binlog as a replica.
async fn check_privileges(conn: &mut Conn, flavor: Flavor) -> Result<()> {
    let grants: Vec<String> = conn
        .query("SHOW GRANTS FOR CURRENT_USER()")
        .await
        .map_err(|e| driver_error("reading the account's grants", e))?;
    let grants = grants.join("\n").to_ascii_uppercase();
    let all = grants.contains("GRANT ALL PRIVILEGES ON *.*");
    let has = |privilege: &str| all || grants.contains(privilege);
    let replication_client = match flavor {
        // MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR.
        Flavor::MariaDb => has("REPLICATION CLIENT") || has("BINLOG MONITOR"),
        Flavor::Mysql => has("REPLICATION CLIENT"),
    };
    let missing: Vec<&str> = [
        (
            has("REPLICATION SLAVE") || has("REPLICATION REPLICA"),
            "REPLICATION SLAVE",
        ),
        (replication_client, "REPLICATION CLIENT"),
        (has("SELECT"), "SELECT"),
    ]
    .into_iter()
    .filter_map(|(granted, privilege)| (!granted).then_some(privilege))
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Privilege,
        format!(
            "the source account lacks {}; run GRANT {} ON *.* TO the account dbsync uses",
            missing.join(" and "),
            missing.join(", ")
        ),
    ))
}

/// Whether the account holds `privilege` on every table of `database`: granted on
/// `*.*` or on the database, by name or as ALL PRIVILEGES.
async fn holds_on_database(conn: &mut Conn, privilege: &str, database: &str) -> Result<bool> {
    let grants: Vec<String> = conn
        .query("SHOW GRANTS FOR CURRENT_USER()")
        .await
        .map_err(|e| driver_error("reading the account's grants", e))?;
    let on_database = format!("`{}`.*", database.replace('`', "``"));
    Ok(grants.iter().any(|grant| {
        let Some((privileges, rest)) = grant
            .strip_prefix("GRANT ")
            .and_then(|grant| grant.split_once(" ON "))
        else {
            return false;
        };
        let object = rest.split(" TO ").next().unwrap_or_default();
        (object == "*.*" || object == on_database)
            && privileges
                .split(", ")
                .any(|p| p == privilege || p == "ALL PRIVILEGES")
    }))
}

fn source_setting(message: &str) -> Error {
    Error::new(ErrorKind::SourceSetting, message)
}

async fn variable(conn: &mut Conn, name: &str) -> Result<String> {
    optional_variable(conn, name).await?.ok_or_else(|| {
        Error::new(
            ErrorKind::SourceSetting,
            format!("the source has no server variable {name}; is it MySQL or MariaDB?"),
        )
    })
}

async fn optional_variable(conn: &mut Conn, name: &str) -> Result<Option<String>> {
    let row: Option<(String, String)> = conn
        .exec_first("SHOW GLOBAL VARIABLES WHERE Variable_name = ?", (name,))
        .await
        .map_err(|e| driver_error(&format!("reading the server variable {name}"), e))?;
    Ok(row.map(|(_, value)| value))
}
