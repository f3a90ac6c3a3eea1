//! Binlog capture: row changes read from a MySQL or MariaDB server's binlog, the way a
//! replica reads them.
//!
//! mysql_async carries the events (`stream`); dbsync decodes them itself:
//!
//! - `decoder` follows transactions, the position and the MariaDB GTID state, and
//!   decides which events matter and which must stop the stream;
//! - `table_map` reads the layout of each table's columns, `rows_event` the frame
//!   of the row images, `row_decoder` the values, with `decimal`, `temporal`,
//!   `text` and `json` for the formats that need more than a few lines;
//! - `statement` reads DDL enough to notice `TRUNCATE` and schema changes;
//! - `event` holds the other events and the checksum, `position` where the
//!   server is now.
//!
//! Rows are decoded against the table's [`dbsync_core::TableSchema`], which the
//! caller reads before starting the stream; a table map that disagrees with it
//! stops the stream, since values would otherwise be misread.

mod decimal;
mod decoder;
mod event;
mod json;
mod position;
mod reader;
mod row_decoder;
mod rows_event;
mod statement;
mod stream;
mod table_map;
mod temporal;
#[cfg(test)]
mod test_support;
mod text;

pub use position::current_position;
pub use stream::{BinlogConfig, BinlogStream, MISSED_HEARTBEATS};
