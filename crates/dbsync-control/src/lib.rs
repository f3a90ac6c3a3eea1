//! The control plane of dbsync (ARCHITECTURE.md §1): the state store, the lifecycle of
//! runs, the REST API and the Prometheus metrics around the engines.

mod api;
mod control;
mod error;
mod events;
mod lifecycle;
mod metrics;
mod store;
mod supervisor;

pub use api::{router, serve};
pub use control::Control;
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, Events};
pub use lifecycle::{ActiveRun, Outcome, PairState, RunId, RunState};
pub use metrics::{Metrics, Operation};
pub use store::{
    ChangeMark, Cleaned, Conflict, ConflictResolution, ConnectionRecord, DeadLetter, LogLevel,
    NewConflict, NewDeadLetter, PairRecord, PairStatus, RunLogLine, RunRecord, Stats, Store,
    TableState, TableStatus, TableUpdate, VerificationRecord, VerifiedTable,
};
pub use supervisor::{Request, Requests, Supervisor};
