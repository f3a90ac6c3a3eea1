//! The engine-neutral runtime: copy each table in chunks, then stream changes in
//! compacted batches, each written with its checkpoint.
//!
//! Engines plug in through [`Source`], [`Capture`] and [`Target`]; nothing here
//! knows one.

mod copy;
pub mod poll;
mod source;
mod stream;
mod target;

pub use copy::{CopyOptions, copy_tables};
pub use source::{Capture, ChangeStream, Source, earliest_position};
pub use stream::{BatchLimits, StreamEnd, stream_changes};
pub use target::{Target, planned_target};
