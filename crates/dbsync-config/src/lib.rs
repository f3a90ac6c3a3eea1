//! The configuration file of PRODUCT.md §6: its shape, loading, interpolation and
//! validation.
//!
//! `dbsync.yaml` is a contract: scripts and tests outside the project write it. Both the
//! binary (`dbsync run`, `verify` ...) and the control plane (`GET|PUT /api/v1/config`, the
//! state store) read and write this one model, so it lives in its own crate that depends on
//! no engine, server or command line.
//!
//! ```text
//! text --document--> located tree --interpolate--> ${VAR} replaced in values
//!      --de--> Config --overrides--> DBSYNC_* applied --validate--> checked Config
//! ```
//!
//! - [`Config::load`] / [`Config::from_yaml_str`] run all of it; every error is one
//!   sentence naming the file, the line, the key path and the fix ([`ConfigError`]).
//! - `${VAR}` is replaced inside values, never keys; `$${` writes a literal `${`.
//! - `DBSYNC_*` environment overrides: see [Overrides](#overrides) below.
//! - Secrets ([`Secret`], the password of a [`ConnectionUrl`]) print and serialize as
//!   `***`; [`Config::to_yaml_exposing_secrets`] and [`expose_secrets`] are the only ways
//!   to write them, and they keep `${VAR}` references as written.
//!
//! # Overrides
//!
//! | variable | sets |
//! |---|---|
//! | `DBSYNC_STATE` | `state` |
//! | `DBSYNC_WORKERS` | `workers` |
//! | `DBSYNC_SERVER__LISTEN`, `DBSYNC_SERVER__AUTH_TOKEN` | `server.listen`, `server.auth_token` |
//! | `DBSYNC_LOGGING__LEVEL`, `__FORMAT`, `__DIR` | `logging.level`, `.format`, `.dir` |
//! | `DBSYNC_CONNECTIONS__<NAME>__URL` | `connections.<name>.url` |
//! | `DBSYNC_PAIRS__<NAME>__BATCH_SIZE`, `__ENABLED`, `__SCHEDULE` | `pairs.<name>.batch_size`, `.enabled`, `.schedule` |
//!
//! `__` separates keys. `<NAME>` is an existing connection or pair's name upper-cased with
//! `-` written `_` (`DBSYNC_PAIRS__SHOP_ANALYTICS__BATCH_SIZE` for `shop-analytics`): an
//! override changes what the file defines and adds nothing. A value reads as if written
//! unquoted in the file, so an empty one unsets an optional setting. A `DBSYNC_` name with
//! `__` that is none of these is an error; one without `__` other than `DBSYNC_STATE` and
//! `DBSYNC_WORKERS` is left alone: `DBSYNC_CONFIG` names the file, and a variable such as
//! `DBSYNC_TOKEN` may be there for `${DBSYNC_TOKEN}`.

mod connection_url;
mod de;
mod document;
mod duration;
mod environment;
mod error;
mod glob;
mod interpolate;
mod key_path;
mod load;
mod model;
mod overrides;
mod pair;
mod schedule;
mod secret;
mod table_rule;
mod validate;

pub use connection_url::{ConnectionUrl, Engine, UrlError};
pub use environment::Environment;
pub use error::ConfigError;
pub use glob::{Glob, GlobError};
pub use key_path::{KeyPath, Segment};
pub use model::{
    Backoff, CONFIG_PATH_VARIABLE, Config, Connection, DEFAULT_CONFIG_PATH, DEFAULT_STATE_PATH,
    History, LogFormat, LogLevel, Logging, Retry, Scheduler, Server,
};
pub use pair::{
    Capture, ConflictResolution, Direction, EnumMapping, IdentifierCase, OnError, Pair, SetMapping,
    TableSelection, ZeroDatePolicy,
};
pub use schedule::{Schedule, ScheduleError};
pub use secret::{MASK, Secret, expose_secrets};
pub use table_rule::{ColumnOptions, TableOptions, TableRule};
