//! Rows as `LOAD DATA LOCAL INFILE` reads them, streamed from memory: the copy's
//! fastest way into MySQL when the server allows it (`local_infile`).
//!
//! The statement reads the data as `CHARACTER SET binary`, so that the bytes of BLOBs,
//! BINARY, geometries and utf8mb4 text land untouched. Text for a column in another
//! character set goes through `CONVERT(... USING utf8mb4)`, and JSON and UUIDs too,
//! which MySQL refuses to build from binary strings; `BIT` values go as integers
//! through `CAST`, since LOAD DATA would store their digits' characters.
//!
//! Fields are tab-separated and rows end in a newline; the escape character is the
//! backslash, so a backslash, tab or newline in a value is written `\\`, `\t` or `\n`,
//! and `\N` is NULL. Bytes are scanned one by one, so multi-byte characters cannot
//! hide a separator: no byte of a UTF-8 sequence is a tab, newline or backslash.

use bytes::Bytes;
use dbsync_core::{Result, Row, Value};

use crate::sql::quote;
use crate::target_table::{TargetColumn, TargetTable};
use crate::target_type::MysqlType;

/// How a column's field reaches it.
enum Field {
    /// Stored as read.
    Direct,
    /// Read as bytes and converted from utf8mb4 to the column's character set.
    Text,
    /// An unsigned integer for a `BIT` column.
    Bits,
}

fn field(column: &TargetColumn) -> Field {
    match &column.mysql_type {
        MysqlType::Bit(_) => Field::Bits,
        MysqlType::Json | MysqlType::Uuid => Field::Text,
        MysqlType::Char(_)
        | MysqlType::VarChar(_)
        | MysqlType::Text(_)
        | MysqlType::Enum(_)
        | MysqlType::Set(_) => {
            let utf8mb4 =
                column.collation.as_ref().and_then(|c| c.charset.as_deref()) == Some("utf8mb4");
            if utf8mb4 { Field::Direct } else { Field::Text }
        }
        _ => Field::Direct,
    }
}

/// The `LOAD DATA` statement that reads [`encode`]'s data into `target`.
///
/// The session has `NO_BACKSLASH_ESCAPES`, so `'\'` is one backslash; the tab and
/// newline are written as themselves.
pub(crate) fn load_statement(target: &TargetTable) -> String {
    let mut columns = Vec::with_capacity(target.columns.len());
    let mut assignments = Vec::new();
    for (i, column) in target.columns.iter().enumerate() {
        let variable = format!("@v{i}");
        let name = quote(&column.name);
        match field(column) {
            Field::Direct => columns.push(name),
            Field::Text => {
                assignments.push(format!("{name} = CONVERT({variable} USING utf8mb4)"));
                columns.push(variable);
            }
            Field::Bits => {
                assignments.push(format!("{name} = CAST({variable} AS UNSIGNED)"));
                columns.push(variable);
            }
        }
    }
    let mut statement = format!(
        "LOAD DATA LOCAL INFILE 'dbsync' INTO TABLE {} CHARACTER SET binary \
         FIELDS TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\' LINES TERMINATED BY '\n' ({})",
        target.qualified_name(),
        columns.join(", ")
    );
    if !assignments.is_empty() {
        statement.push_str(" SET ");
        statement.push_str(&assignments.join(", "));
    }
    statement
}

/// `rows` in the format of [`load_statement`], in pieces of about `piece` bytes (a
/// row may straddle two), each of which the driver sends as one packet.
pub(crate) fn encode(target: &TargetTable, rows: &[Row], piece: usize) -> Result<Vec<Bytes>> {
    let mut pieces = Vec::new();
    let mut buffer = Vec::with_capacity(piece + 1024);
    for row in rows {
        for (i, (value, column)) in row.iter().zip(&target.columns).enumerate() {
            if i > 0 {
                buffer.push(b'\t');
            }
            push_field(&mut buffer, column.checked(value)?, &column.mysql_type);
        }
        buffer.push(b'\n');
        while buffer.len() >= piece {
            let rest = buffer.split_off(piece);
            pieces.push(Bytes::from(std::mem::replace(&mut buffer, rest)));
        }
    }
    if !buffer.is_empty() {
        pieces.push(Bytes::from(buffer));
    }
    Ok(pieces)
}

fn push_field(out: &mut Vec<u8>, value: &Value, mysql_type: &MysqlType) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = match value {
        Value::Null => write!(out, "\\N"),
        Value::Bool(b) => write!(out, "{}", u8::from(*b)),
        Value::Int(n) => write!(out, "{n}"),
        Value::UInt(n) => write!(out, "{n}"),
        // The shortest text that reads back as the same double; a float widens to a
        // double exactly, so the server's rounding back to float is exact too.
        Value::Float(x) => write!(out, "{:e}", f64::from(*x)),
        Value::Double(x) => write!(out, "{x:e}"),
        Value::Decimal(d) => write!(out, "{d}"),
        Value::Text(s) | Value::Json(s) | Value::Enum(s) => {
            push_escaped(out, s.as_bytes());
            Ok(())
        }
        Value::Set(labels) => {
            push_escaped(out, labels.join(",").as_bytes());
            Ok(())
        }
        Value::Bytes(bytes) => {
            push_escaped(out, bytes);
            Ok(())
        }
        Value::Date(d) => write!(out, "{}", d.format("%Y-%m-%d")),
        Value::ZeroDate if *mysql_type == MysqlType::Date => write!(out, "0000-00-00"),
        Value::ZeroDate => write!(out, "0000-00-00 00:00:00"),
        Value::DateTime(dt) => write!(out, "{}", dt.format("%Y-%m-%d %H:%M:%S%.6f")),
        Value::Timestamp(ts) => write!(out, "{}", ts.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")),
        Value::Time(t) => write!(out, "{t}"),
        // Four digits: a bare `0` would read as the year 2000.
        Value::Year(y) => write!(out, "{y:04}"),
        // `checked` has refused a BIT value wider than 64 bits.
        Value::Bit(bits) => write!(out, "{}", bits.to_u64().unwrap_or_default()),
        Value::Geometry(g) => {
            // MySQL's internal format: the SRID, 4 bytes little-endian, then WKB.
            let mut bytes = g.srid.to_le_bytes().to_vec();
            bytes.extend_from_slice(&g.wkb);
            push_escaped(out, &bytes);
            Ok(())
        }
        Value::Uuid(u) => write!(out, "{u}"),
    };
}

fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_the_escape_are_escaped() {
        let mut out = Vec::new();
        push_escaped(&mut out, b"a\tb\nc\\N\xff\x00");
        assert_eq!(out, b"a\\tb\\nc\\\\N\xff\x00");
    }

    #[test]
    fn numbers_are_written_so_that_they_read_back_exactly() {
        let field = |value: Value| {
            let mut out = Vec::new();
            push_field(&mut out, &value, &MysqlType::Double);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(field(Value::Double(-2.25e-300)), "-2.25e-300");
        assert_eq!(field(Value::Float(0.1)), "1.0000000149011612e-1");
        assert_eq!(field(Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(field(Value::Null), "\\N");
    }
}
