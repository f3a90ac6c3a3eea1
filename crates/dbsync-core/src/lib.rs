//! The engine-neutral model of dbsync.
//!
//! Every engine (MySQL/MariaDB, PostgreSQL, SQLite) converts its native schema and values
//! into the types here and back; nothing between capture and apply knows any engine.
//! This crate imports no database driver.

pub mod change;
pub mod change_batch;
pub mod checkpoint;
pub mod data_type;
pub mod error;
pub mod pipeline;
pub mod position;
pub mod table_schema;
pub mod value;
pub mod verify;

pub use change::{Change, ChangeOp, Row, StreamItem};
pub use change_batch::{ChangeBatch, FinalState, TableChanges};
pub use checkpoint::{Checkpoint, CopyProgress};
pub use data_type::{DataType, DecimalSize, GeometryKind, IntWidth};
pub use error::{Error, ErrorKind, Result};
pub use position::{BinlogFile, BinlogPosition, Lsn, MariaDbGtid, PollCursor, Position};
pub use table_schema::{
    Collation, Column, ColumnDefault, Generated, Index, IndexKind, IndexPart, TableName,
    TableSchema,
};
pub use value::{BitString, Decimal, Geometry, Time, Uuid, Value};
