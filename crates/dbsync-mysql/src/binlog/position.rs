//! Where the server's binlog is now, and the MariaDB GTID state at a position.

use dbsync_core::{BinlogFile, BinlogPosition, Error, ErrorKind, MariaDbGtid, Result};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::error::driver_error;
use crate::flavor::Flavor;

/// The server's current binlog position: the file and offset where the next
/// transaction will be written and, on MariaDB, the GTID state there.
pub async fn current_position(conn: &mut Conn) -> Result<BinlogPosition> {
    let flavor = Flavor::of(conn).await?;
    if flavor == Flavor::MariaDb {
        // `@@gtid_binlog_pos` read before and after the position: when both reads
        // agree, no transaction was written in between, so it is the state at that
        // position. That costs three small queries, where `BINLOG_GTID_POS` reads the
        // binlog file from its start (seconds, on a large file).
        for _ in 0..ATTEMPTS {
            let before = gtid_binlog_pos(conn).await?;
            let (file, offset) = file_and_offset(conn).await?;
            if gtid_binlog_pos(conn).await? == before {
                return Ok(BinlogPosition {
                    file,
                    offset,
                    gtid_state: parse_gtid_state(&before)?,
                });
            }
        }
    }
    let (file, offset) = file_and_offset(conn).await?;
    let gtid_state = match flavor {
        Flavor::MariaDb => gtid_state_at(conn, &file, offset).await?,
        Flavor::Mysql => Vec::new(),
    };
    Ok(BinlogPosition {
        file,
        offset,
        gtid_state,
    })
}

/// How often a busy MariaDB is asked for a quiet moment before the binlog is read.
const ATTEMPTS: usize = 5;

async fn gtid_binlog_pos(conn: &mut Conn) -> Result<String> {
    let state: Option<String> = conn
        .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
        .await
        .map_err(|e| driver_error("reading the GTID state (@@gtid_binlog_pos)", e))?;
    Ok(state.unwrap_or_default())
}

/// The binlog file and offset where the next transaction will be written.
async fn file_and_offset(conn: &mut Conn) -> Result<(BinlogFile, u64)> {
    // MySQL 8.4 renamed the statement; MariaDB and older MySQL know only the old name.
    let row: Option<mysql_async::Row> = match conn.query_first("SHOW MASTER STATUS").await {
        Ok(row) => row,
        Err(mysql_async::Error::Server(e)) if e.code == ER_PARSE_ERROR => conn
            .query_first("SHOW BINARY LOG STATUS")
            .await
            .map_err(|e| driver_error("reading the binlog position (SHOW BINARY LOG STATUS)", e))?,
        Err(e) => {
            return Err(driver_error(
                "reading the binlog position (SHOW MASTER STATUS)",
                e,
            ));
        }
    };
    let status = row.and_then(|row| Some((row.get::<String, _>(0)?, row.get::<u64, _>(1)?)));
    let Some((file, offset)) = status else {
        return Err(Error::new(
            ErrorKind::SourceSetting,
            "the server does not write a binlog; start it with log_bin (and binlog_format=ROW) to sync from it",
        ));
    };
    let file: BinlogFile = file.parse().map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            "the server reports a binlog file name dbsync cannot read",
        )
        .with_source(e)
    })?;
    Ok((file, offset))
}

const ER_PARSE_ERROR: u16 = 1064;

/// MariaDB's GTID state at `file:offset`: the last GTID of every replication domain
/// before that point.
///
/// `BINLOG_GTID_POS` reads it from the binlog itself, so it describes exactly that
/// position; reading `@@gtid_binlog_pos` beside `SHOW MASTER STATUS` could see a
/// transaction committed between the two reads.
pub(crate) async fn gtid_state_at(
    conn: &mut Conn,
    file: &BinlogFile,
    offset: u64,
) -> Result<Vec<MariaDbGtid>> {
    let state: Option<Option<String>> = conn
        .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (file.to_string(), offset))
        .await
        .map_err(|e| driver_error(&format!("reading the GTID state at {file}:{offset}"), e))?;
    let state = state.flatten().ok_or_else(|| {
        Error::new(
            ErrorKind::SourceSetting,
            format!(
                "the binlog has no transaction boundary at {file}:{offset} (the file was purged, or the offset is not where a transaction starts); re-sync the pair"
            ),
        )
    })?;
    parse_gtid_state(&state)
}

/// `0-1-42,1-2-7` (as MariaDB writes GTID states) into one GTID per domain.
pub(crate) fn parse_gtid_state(text: &str) -> Result<Vec<MariaDbGtid>> {
    let mut state = text
        .split(',')
        .map(str::trim)
        .filter(|gtid| !gtid.is_empty())
        .map(|gtid| {
            gtid.parse::<MariaDbGtid>().map_err(|e| {
                Error::new(
                    ErrorKind::InvalidData,
                    "the server reports a GTID state dbsync cannot read",
                )
                .with_source(e)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    state.sort_by_key(|gtid| gtid.domain);
    Ok(state)
}

/// The GTID state as MariaDB reads it (`@slave_connect_state`).
pub(crate) fn format_gtid_state(state: &[MariaDbGtid]) -> String {
    state
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_states_round_trip() {
        let state = parse_gtid_state("1-2-7, 0-1-42").unwrap();
        assert_eq!(format_gtid_state(&state), "0-1-42,1-2-7");
        assert_eq!(parse_gtid_state("").unwrap(), vec![]);
        assert!(parse_gtid_state("0-1").is_err());
    }
}
