//! The two ends of a pair and the way between them, whatever their engines: each is an
//! enum over the engines built, so that the engine-neutral pipeline of dbsync-core runs
//! every path with one piece of code.

mod capture;
mod source;
mod target;
mod target_reader;

pub(crate) use capture::AnyCapture;
pub(crate) use source::{AnySource, PairSnapshots};
pub(crate) use target::AnyTarget;
pub(crate) use target_reader::AnyTargetReader;
