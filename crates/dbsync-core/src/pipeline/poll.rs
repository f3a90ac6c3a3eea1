//! Poll capture, the same for every engine: each table is read again and again in the
//! order of a cursor tuple (a timestamp and the primary key, or an increasing id),
//! from where the last read ended.
//!
//! The engine opens connections ([`PollSource`]) and writes the SQL ([`PollReader`],
//! with [`after_cursor_sql`]); [`PollCapture`] makes them a capture. What makes
//! polling exact is here: which columns form the cursor ([`PollColumns`]), which rows
//! a poll may consume and how far its cursor may move ([`PollStream`]), where a new
//! table's stream starts ([`PollTable::start_position`]), and the loop that runs a
//! pair's polled tables ([`poll_tables`]).
//!
//! The rules:
//! - The cursor is the tuple (timestamp, key…) of the last row consumed; a poll reads
//!   the rows whose tuple is greater, in tuple order, at most a limit at a time, so
//!   rows sharing one timestamp are never skipped, however many. A cursor shorter
//!   than the tuple, such as `[T]`, means every row with timestamp `T` or later.
//! - A poll consumes rows only up to the settled watermark, the highest tuple seen at
//!   least the settle time ago (the column's precision plus a second by default), so
//!   that no row can still come to sort before the cursor once it has passed.
//! - Limits: deletes are not seen, nor rows whose timestamp is NULL, nor updates when
//!   polling by id; the verify pass finds them (PRODUCT.md §1).

mod capture;
mod columns;
mod predicate;
mod run;
mod stream;
mod watermark;

pub use capture::{PollCapture, PollSource};
pub use columns::{DEFAULT_ID_COLUMN, DEFAULT_TIMESTAMP_COLUMN, PollBy, PollColumns};
pub use predicate::after_cursor_sql;
pub use run::poll_tables;
pub use stream::{DEFAULT_ROWS_PER_POLL, DEFAULT_SETTLE, PollReader, PollStream, PollTable};
