//! Where a source's change stream is: what a checkpoint stores and a restart resumes from.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// A point in one source's change stream, totally ordered within that source.
///
/// Positions of different kinds (a binlog position and an LSN) come from different
/// sources and do not compare: `partial_cmp` returns `None` for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Position {
    /// MySQL/MariaDB binlog.
    Binlog(BinlogPosition),
    /// PostgreSQL write-ahead log.
    Lsn { lsn: Lsn },
    /// dbsync's trigger audit log on the source (`sync_audit_log`): the id of the last
    /// entry read.
    AuditLog { id: u64 },
    /// One polled table: the cursor of the last row read. Unlike the others, this
    /// position belongs to one table, not to the whole source.
    Poll(PollCursor),
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Position::Binlog(a), Position::Binlog(b)) => a.partial_cmp(b),
            (Position::Lsn { lsn: a }, Position::Lsn { lsn: b }) => Some(a.cmp(b)),
            (Position::AuditLog { id: a }, Position::AuditLog { id: b }) => Some(a.cmp(b)),
            (Position::Poll(a), Position::Poll(b)) => a.partial_cmp(b),
            _ => None,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Binlog(position) => position.fmt(f),
            Position::Lsn { lsn } => lsn.fmt(f),
            Position::AuditLog { id } => write!(f, "audit log entry {id}"),
            Position::Poll(cursor) => cursor.fmt(f),
        }
    }
}

/// A position in a MySQL/MariaDB binlog: the file and the offset of the next event, and,
/// where the server has GTIDs, the MariaDB GTID state after the last transaction (one
/// GTID per replication domain).
///
/// Ordered by file then offset: the GTID state describes the same point and never
/// decides the order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinlogPosition {
    pub file: BinlogFile,
    pub offset: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gtid_state: Vec<MariaDbGtid>,
}

impl PartialOrd for BinlogPosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(
            self.file
                .partial_cmp(&other.file)?
                .then(self.offset.cmp(&other.offset)),
        )
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.offset)?;
        if !self.gtid_state.is_empty() {
            let gtids: Vec<String> = self.gtid_state.iter().map(ToString::to_string).collect();
            write!(f, " gtid {}", gtids.join(","))?;
        }
        Ok(())
    }
}

/// A binlog file name such as `binlog.000042`: a base name and a sequence number.
///
/// Files of one server sort by their number; files with different base names belong to
/// differently configured servers and do not compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BinlogFile {
    base: String,
    number: u32,
    digits: usize,
}

impl BinlogFile {
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn number(&self) -> u32 {
        self.number
    }
}

impl PartialOrd for BinlogFile {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self.base == other.base).then(|| self.number.cmp(&other.number))
    }
}

impl fmt::Display for BinlogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:0width$}",
            self.base,
            self.number,
            width = self.digits
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a binlog file name (expected a base name, a dot and a number, like binlog.000001)"
)]
pub struct ParseBinlogFileError(String);

impl FromStr for BinlogFile {
    type Err = ParseBinlogFileError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let error = || ParseBinlogFileError(name.to_owned());
        let (base, number) = name.rsplit_once('.').ok_or_else(error)?;
        if base.is_empty() || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        Ok(BinlogFile {
            base: base.to_owned(),
            number: number.parse().map_err(|_| error())?,
            digits: number.len(),
        })
    }
}

impl TryFrom<String> for BinlogFile {
    type Error = ParseBinlogFileError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl From<BinlogFile> for String {
    fn from(file: BinlogFile) -> String {
        file.to_string()
    }
}

/// A MariaDB global transaction id, `domain-server-sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MariaDbGtid {
    pub domain: u32,
    pub server: u32,
    pub sequence: u64,
}

impl fmt::Display for MariaDbGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.sequence)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a MariaDB GTID (expected domain-server-sequence, like 0-1-42)")]
pub struct ParseGtidError(String);

impl FromStr for MariaDbGtid {
    type Err = ParseGtidError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseGtidError(text.to_owned());
        let mut parts = text.split('-');
        let (Some(domain), Some(server), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(error());
        };
        Ok(MariaDbGtid {
            domain: domain.parse().map_err(|_| error())?,
            server: server.parse().map_err(|_| error())?,
            sequence: sequence.parse().map_err(|_| error())?,
        })
    }
}

impl TryFrom<String> for MariaDbGtid {
    type Error = ParseGtidError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<MariaDbGtid> for String {
    fn from(gtid: MariaDbGtid) -> String {
        gtid.to_string()
    }
}

/// Where the polling of one table is: the cursor columns' values of the last row read
/// (its timestamp then its key, or its increasing id), in the order the poll reads
/// rows. Empty before the first row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollCursor {
    pub after: Vec<Value>,
}

impl PartialOrd for PollCursor {
    /// Lexicographic over the cursor's values; `None` where two values do not compare
    /// (a column type a cursor cannot use, or values of different types).
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        for (a, b) in self.after.iter().zip(&other.after) {
            match a.partial_cmp_cursor(b)? {
                Ordering::Equal => continue,
                unequal => return Some(unequal),
            }
        }
        Some(self.after.len().cmp(&other.after.len()))
    }
}

impl fmt::Display for PollCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.after.is_empty() {
            return f.write_str("the first row");
        }
        f.write_str("after (")?;
        for (i, value) in self.after.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{value:?}")?;
        }
        f.write_str(")")
    }
}

/// A PostgreSQL log sequence number, shown as `X/Y` in hexadecimal like PostgreSQL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xffff_ffff)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a PostgreSQL LSN (expected two hexadecimal numbers like 16/B374D848)")]
pub struct ParseLsnError(String);

impl FromStr for Lsn {
    type Err = ParseLsnError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseLsnError(text.to_owned());
        let (high, low) = text.split_once('/').ok_or_else(error)?;
        let high = u32::from_str_radix(high, 16).map_err(|_| error())?;
        let low = u32::from_str_radix(low, 16).map_err(|_| error())?;
        Ok(Lsn(u64::from(high) << 32 | u64::from(low)))
    }
}

impl TryFrom<String> for Lsn {
    type Error = ParseLsnError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Lsn> for String {
    fn from(lsn: Lsn) -> String {
        lsn.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binlog(file: &str, offset: u64) -> Position {
        Position::Binlog(BinlogPosition {
            file: file.parse().unwrap(),
            offset,
            gtid_state: vec![],
        })
    }

    #[test]
    fn binlog_positions_order_by_file_number_then_offset() {
        assert!(binlog("binlog.000002", 4) > binlog("binlog.000001", 9_000_000));
        assert!(binlog("binlog.000001", 5) > binlog("binlog.000001", 4));
        // A seventh digit appears after 999999; the number, not the text, orders.
        assert!(binlog("binlog.1000000", 4) > binlog("binlog.999999", 4));
    }

    #[test]
    fn positions_of_different_sources_do_not_compare() {
        let lsn = Position::Lsn { lsn: Lsn(1) };
        assert_eq!(binlog("binlog.000001", 4).partial_cmp(&lsn), None);
        assert_eq!(
            binlog("a.000001", 4).partial_cmp(&binlog("b.000001", 4)),
            None
        );
    }

    #[test]
    fn binlog_file_names_round_trip_with_their_padding() {
        for name in ["binlog.000001", "mysql-bin.1", "host.with.dots-bin.000123"] {
            assert_eq!(name.parse::<BinlogFile>().unwrap().to_string(), name);
        }
        for bad in ["binlog", "binlog.", ".000001", "binlog.00a1"] {
            assert!(bad.parse::<BinlogFile>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn lsn_round_trips_through_postgres_notation() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.0, 0x16_B374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!("16-B374D848".parse::<Lsn>().is_err());
    }

    #[test]
    fn poll_cursors_order_lexicographically_and_shorter_first() {
        let at = |values: Vec<Value>| Position::Poll(PollCursor { after: values });
        let t = |s: &str| Value::DateTime(s.parse().unwrap());
        let a = at(vec![t("2026-01-01T00:00:00"), Value::Int(9)]);
        let b = at(vec![t("2026-01-01T00:00:00"), Value::Int(10)]);
        let c = at(vec![t("2026-01-01T00:00:01"), Value::Int(1)]);
        assert!(a < b && b < c);
        assert!(at(vec![]) < a);
        assert_eq!(a.partial_cmp(&at(vec![Value::Int(1), Value::Int(9)])), None);
        assert!(Position::AuditLog { id: 7 } > Position::AuditLog { id: 6 });
    }

    #[test]
    fn positions_serialize_for_checkpoints() {
        let position = Position::Binlog(BinlogPosition {
            file: "binlog.000003".parse().unwrap(),
            offset: 1234,
            gtid_state: vec!["0-1-42".parse().unwrap()],
        });
        let json = serde_json::to_string(&position).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"binlog","file":"binlog.000003","offset":1234,"gtid_state":["0-1-42"]}"#
        );
        assert_eq!(serde_json::from_str::<Position>(&json).unwrap(), position);
    }
}
