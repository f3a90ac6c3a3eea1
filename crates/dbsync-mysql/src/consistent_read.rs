//! Reading some rows of the source while they hold still: verify checks a key again
//! once the target has applied the source's changes up to a point after which the
//! key's row cannot change until the check is done.

use dbsync_core::{Result, TableSchema, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value as Wire};

use crate::error::driver_error;
use crate::protocol_value::to_wire;
use crate::sql::quote;

/// Starts a transaction on `conn` that share-locks the rows of `keys` of `table`
/// (and, for a key without a row, the gap it would go in), so that no transaction
/// can change them until [`end`]; the reads that follow see them as locked.
///
/// Every transaction that changed them before has committed, and so is in the binlog
/// (and the trigger audit log) before a position read after this.
pub async fn begin_locked(conn: &mut Conn, table: &TableSchema, keys: &[Vec<Value>]) -> Result<()> {
    let doing = || format!("locking the rows to check again of {}", table.name);
    let columns: Vec<String> = table.primary_key.iter().map(|c| quote(c)).collect();
    let one_key = format!(
        "({})",
        columns
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    let from = format!("{}.{}", quote(&table.name.schema), quote(&table.name.name));
    let mut statements = Vec::new();
    for chunk in keys.chunks(KEYS_PER_LOCK) {
        let filter = vec![one_key.as_str(); chunk.len()].join(" OR ");
        let params = chunk
            .iter()
            .flatten()
            .map(to_wire)
            .collect::<Result<Vec<_>>>()?;
        statements.push((
            format!("SELECT 1 FROM {from} WHERE {filter} LOCK IN SHARE MODE"),
            params,
        ));
    }
    let mut attempt = 1;
    loop {
        match lock(conn, &statements).await {
            Ok(()) => return Ok(()),
            // A writer held one of the rows too long, or holds one and waits for
            // another this transaction locked (a deadlock, in which the server rolls
            // one of the two back): this attempt gives way, and locks again.
            Err(mysql_async::Error::Server(e))
                if [ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT].contains(&e.code)
                    && attempt < LOCK_ATTEMPTS =>
            {
                attempt += 1;
                conn.query_drop("ROLLBACK")
                    .await
                    .map_err(|e| driver_error(&doing(), e))?;
            }
            Err(e) => return Err(driver_error(&doing(), e).with_table(table.name.clone())),
        }
    }
}

const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
const LOCK_ATTEMPTS: usize = 5;
const LOCK_WAIT_SECONDS: u32 = 5;

/// Runs the locking `statements` in a new transaction.
async fn lock(
    conn: &mut Conn,
    statements: &[(String, Vec<Wire>)],
) -> std::result::Result<(), mysql_async::Error> {
    // Reads see one snapshot for the whole transaction only in REPEATABLE READ; the
    // statement sets the level of the next transaction alone.
    conn.query_drop("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await?;
    // A writer that keeps a row locked a long time makes this attempt give up soon,
    // rather than after the server's default of 50 s.
    conn.query_drop(format!(
        "SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_SECONDS}"
    ))
    .await?;
    conn.query_drop("START TRANSACTION").await?;
    for (statement, params) in statements {
        conn.exec_drop(statement, params.clone()).await?;
    }
    Ok(())
}

/// Keys locked per statement.
const KEYS_PER_LOCK: usize = 500;

/// Ends the transaction [`begin_locked`] started, releasing its locks.
pub async fn end(conn: &mut Conn) -> Result<()> {
    conn.query_drop("COMMIT")
        .await
        .map_err(|e| driver_error("releasing the rows checked again", e))
}
