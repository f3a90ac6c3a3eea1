//! A sync pair: what flows from which connection to which, and how.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connection_url::Engine;
use crate::glob::Glob;
use crate::model::{is_true, yes};
use crate::schedule::Schedule;
use crate::table_rule::{self, TableOptions, TableRule};

/// One pipeline: tables of the `source` connection kept in step in the `target` one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    /// The name of the connection read from.
    pub source: String,
    /// The name of the connection written to.
    pub target: String,
    /// How changes are captured; unset, the source engine's usual way
    /// ([`Capture::default_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Capture>,
    /// The PostgreSQL schema that receives the tables, for a PostgreSQL target.
    #[serde(default = "default_target_schema")]
    pub target_schema: String,
    /// Which tables sync, with per-table options; see [`Pair::selects`].
    #[serde(default = "default_tables")]
    pub tables: Vec<TableRule>,
    /// Rows per target transaction.
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    #[serde(default)]
    pub on_error: OnError,
    /// A disabled pair is kept but not run (seed 003's `sync enable|disable`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(default)]
    pub direction: Direction,
    /// How a row changed on both sides is settled, for a bidirectional pair; a table may
    /// choose its own.
    #[serde(default)]
    pub conflict_resolution: ConflictResolution,
    /// How identifiers are written on the target; unset, [`IdentifierCase::default_for`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_case: Option<IdentifierCase>,
    /// What becomes of MySQL's zero dates (`0000-00-00`).
    #[serde(default)]
    pub zero_date: ZeroDatePolicy,
    /// What MySQL `ENUM` columns become on a target without them.
    #[serde(default)]
    pub enum_mapping: EnumMapping,
    /// What MySQL `SET` columns become on a target without them.
    #[serde(default)]
    pub set_mapping: SetMapping,
    /// Put before every target table's name (seed 004's `tmp_`), unless a table names its
    /// own `target`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub table_prefix: String,
    /// A cron schedule for runs (seed 001's scheduler): a run that is still going when the
    /// next is due is not doubled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// How often `poll` capture asks for changes, unless a table sets its own.
    #[serde(default = "default_poll_interval", with = "crate::duration")]
    pub poll_interval: Duration,
}

pub(crate) fn default_target_schema() -> String {
    "public".to_owned()
}

fn default_tables() -> Vec<TableRule> {
    vec![TableRule::Glob(Glob::all())]
}

pub(crate) const DEFAULT_BATCH_SIZE: u32 = 1000;

fn default_batch_size() -> u32 {
    DEFAULT_BATCH_SIZE
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(5)
}

impl Pair {
    /// A pair of `source` and `target` with every default: all tables, captured the
    /// source engine's usual way.
    pub fn new(source: impl Into<String>, target: impl Into<String>) -> Self {
        Pair {
            source: source.into(),
            target: target.into(),
            capture: None,
            target_schema: default_target_schema(),
            tables: default_tables(),
            batch_size: DEFAULT_BATCH_SIZE,
            on_error: OnError::default(),
            enabled: true,
            direction: Direction::default(),
            conflict_resolution: ConflictResolution::default(),
            identifier_case: None,
            zero_date: ZeroDatePolicy::default(),
            enum_mapping: EnumMapping::default(),
            set_mapping: SetMapping::default(),
            table_prefix: String::new(),
            schedule: None,
            poll_interval: default_poll_interval(),
        }
    }

    /// Whether the pair syncs `table`, and how; `None` when no rule of `tables` includes it
    /// or one excludes it. See [`crate::Glob`] for how tables are named and
    /// [`TableRule`] for the rules: exclusions win whatever the order, and the options are
    /// those of the entry naming the table exactly, else of the last entry whose glob matches.
    pub fn selects(&self, table: &str) -> Option<TableSelection<'_>> {
        let options = table_rule::select(&self.tables, table)?;
        Some(TableSelection {
            pair: self,
            table: table.to_owned(),
            options,
        })
    }

    /// The capture to use with a source of engine `source`.
    pub fn effective_capture(&self, source: Engine) -> Capture {
        self.capture.unwrap_or(Capture::default_for(source))
    }

    /// The identifier case to use with a target of engine `target`.
    pub fn effective_identifier_case(&self, target: Engine) -> IdentifierCase {
        self.identifier_case
            .unwrap_or(IdentifierCase::default_for(target))
    }
}

/// A table a pair syncs, with its options resolved against the pair's.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSelection<'a> {
    pair: &'a Pair,
    table: String,
    options: Option<&'a TableOptions>,
}

impl<'a> TableSelection<'a> {
    /// The `tables` entry that configures this table, if one does.
    pub fn options(&self) -> Option<&'a TableOptions> {
        self.options
    }

    /// The target table's name before identifier case is applied: the entry's `target`,
    /// else the pair's `table_prefix` and the source name, with a schema's dot made `_`
    /// (every table lands in one target schema: seed 004's `audit.logs` -> `tmp_audit_logs`).
    pub fn target_table(&self) -> String {
        if let Some(target) = self.options.and_then(|options| options.target.as_ref()) {
            return target.clone();
        }
        let table = self.table.strip_prefix("public.").unwrap_or(&self.table);
        format!("{}{}", self.pair.table_prefix, table.replace('.', "_"))
    }

    pub fn batch_size(&self) -> u32 {
        self.options
            .and_then(|options| options.batch_size)
            .unwrap_or(self.pair.batch_size)
    }

    pub fn poll_interval(&self) -> Duration {
        self.options
            .and_then(|options| options.poll_interval)
            .unwrap_or(self.pair.poll_interval)
    }

    /// The column that changes with each update; `updated_at` unless set.
    pub fn timestamp_column(&self) -> &'a str {
        self.options
            .and_then(|options| options.timestamp_column.as_deref())
            .unwrap_or("updated_at")
    }

    /// The increasing id column; `id` unless set.
    pub fn id_column(&self) -> &'a str {
        self.options
            .and_then(|options| options.id_column.as_deref())
            .unwrap_or("id")
    }

    /// The declared key; `None` means the table's own primary key.
    pub fn primary_key(&self) -> Option<&'a [String]> {
        self.options
            .map(|options| options.primary_key.as_slice())
            .filter(|key| !key.is_empty())
    }

    pub fn capture(&self, source: Engine) -> Capture {
        self.options
            .and_then(|options| options.capture)
            .unwrap_or(self.pair.effective_capture(source))
    }

    pub fn conflict_resolution(&self) -> ConflictResolution {
        self.options
            .and_then(|options| options.conflict_resolution)
            .unwrap_or(self.pair.conflict_resolution)
    }

    /// The target type declared for `column`, if any.
    pub fn column_type(&self, column: &str) -> Option<&'a str> {
        self.options
            .and_then(|options| options.columns.get(column))
            .map(|column| column.target_type.as_str())
    }
}

/// How a pair captures changes on its source (PRODUCT §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capture {
    /// MySQL/MariaDB row-based binlog, as a replication client.
    Binlog,
    /// PostgreSQL logical replication with `pgoutput`.
    Logical,
    /// Triggers that write every change into `sync_audit_log`.
    Triggers,
    /// Incremental reads by timestamp and id columns.
    Poll,
    /// A full copy each run, and no change stream.
    Snapshot,
}

impl Capture {
    /// The usual capture for a source engine: its own change log where it has one.
    pub fn default_for(source: Engine) -> Capture {
        match source {
            Engine::MySql => Capture::Binlog,
            Engine::PostgreSql => Capture::Logical,
            Engine::Sqlite => Capture::Triggers,
        }
    }

    /// Whether this capture can read changes from a database of engine `engine`.
    pub fn supports(self, engine: Engine) -> bool {
        match self {
            Capture::Binlog => engine == Engine::MySql,
            Capture::Logical => engine == Engine::PostgreSql,
            Capture::Triggers | Capture::Poll | Capture::Snapshot => true,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Capture::Binlog => "binlog",
            Capture::Logical => "logical",
            Capture::Triggers => "triggers",
            Capture::Poll => "poll",
            Capture::Snapshot => "snapshot",
        }
    }
}

impl fmt::Display for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a row that cannot be applied does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Stop the table with the error.
    #[default]
    Stop,
    /// Put the row in the dead-letter list with its error and go on (never silent).
    Skip,
}

/// Which way changes flow (seed 000's `direction`, seed 001's `mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    OneWay,
    /// Both ways, with conflict resolution and no echo of dbsync's own writes.
    Bidirectional,
}

/// How a conflict (a row changed on both sides since it was last in sync) is settled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictResolution {
    /// The side whose timestamp column is later wins.
    #[default]
    LastWriteWins,
    /// The pair's source wins (seed 002's `overwrite`).
    SourcePriority,
    /// The pair's target wins.
    TargetPriority,
    /// The conflict is stored and waits for a person to choose.
    Manual,
}

/// How table and column names are written on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierCase {
    /// Lower-cased, so that PostgreSQL needs no quotes around them.
    Lower,
    /// As the source spells them.
    Preserve,
}

impl IdentifierCase {
    /// Lower for a PostgreSQL target, preserve for the others.
    pub fn default_for(target: Engine) -> IdentifierCase {
        match target {
            Engine::PostgreSql => IdentifierCase::Lower,
            Engine::MySql | Engine::Sqlite => IdentifierCase::Preserve,
        }
    }

    pub fn apply<'n>(self, name: &'n str) -> Cow<'n, str> {
        match self {
            IdentifierCase::Lower if name.chars().any(char::is_uppercase) => {
                Cow::Owned(name.to_lowercase())
            }
            IdentifierCase::Lower | IdentifierCase::Preserve => Cow::Borrowed(name),
        }
    }
}

/// What becomes of MySQL's zero dates (`0000-00-00`, `0000-00-00 00:00:00`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroDatePolicy {
    /// NULL on the target.
    #[default]
    Null,
    /// Stop the table with an error naming the row.
    Error,
    /// Kept as they are; only a MySQL/MariaDB target can.
    Keep,
}

/// What MySQL `ENUM` columns become on a target without them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnumMapping {
    /// Text (with a check of the allowed values where the target has checks).
    #[default]
    Text,
    /// The target's own enum type (a PostgreSQL `CREATE TYPE ... AS ENUM`).
    Native,
}

/// What MySQL `SET` columns become on a target without them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetMapping {
    /// An array of text (PostgreSQL `text[]`).
    #[default]
    TextArray,
    /// The comma-separated text MySQL itself shows.
    Text,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_rule::ColumnOptions;

    fn pair_with(tables: Vec<TableRule>) -> Pair {
        Pair {
            tables,
            ..Pair::new("shop", "analytics")
        }
    }

    #[test]
    fn a_selection_resolves_options_against_the_pair() {
        let mut orders = TableOptions::new(Glob::parse("orders").unwrap());
        orders.target = Some("orders_replica".to_owned());
        orders.primary_key = vec!["order_id".to_owned()];
        orders.timestamp_column = Some("modified_at".to_owned());
        orders.batch_size = Some(10_000);
        orders.capture = Some(Capture::Snapshot);
        orders.columns.insert(
            "total".to_owned(),
            ColumnOptions {
                target_type: "numeric(12,2)".to_owned(),
            },
        );
        let mut pair = pair_with(vec![
            TableRule::Glob(Glob::all()),
            TableRule::Glob(Glob::parse("!audit_*").unwrap()),
            TableRule::Table(orders),
        ]);
        pair.table_prefix = "tmp_".to_owned();
        pair.conflict_resolution = ConflictResolution::Manual;

        let selected = pair.selects("orders").unwrap();
        assert_eq!(selected.target_table(), "orders_replica");
        assert_eq!(selected.batch_size(), 10_000);
        assert_eq!(selected.timestamp_column(), "modified_at");
        assert_eq!(selected.id_column(), "id");
        assert_eq!(selected.primary_key(), Some(&["order_id".to_owned()][..]));
        assert_eq!(selected.capture(Engine::MySql), Capture::Snapshot);
        assert_eq!(selected.column_type("total"), Some("numeric(12,2)"));
        assert_eq!(selected.conflict_resolution(), ConflictResolution::Manual);

        let selected = pair.selects("customers").unwrap();
        assert!(selected.options().is_none());
        assert_eq!(selected.target_table(), "tmp_customers");
        assert_eq!(selected.batch_size(), 1000);
        assert_eq!(selected.poll_interval(), Duration::from_secs(5));
        assert_eq!(selected.timestamp_column(), "updated_at");
        assert_eq!(selected.primary_key(), None);
        assert_eq!(selected.capture(Engine::MySql), Capture::Binlog);
        assert_eq!(selected.capture(Engine::PostgreSql), Capture::Logical);
        assert_eq!(selected.column_type("total"), None);

        assert!(pair.selects("audit_log").is_none());
    }

    #[test]
    fn qualified_tables_flatten_into_the_target_schema() {
        let mut pair = pair_with(vec![
            TableRule::Glob(Glob::parse("public.products").unwrap()),
            TableRule::Glob(Glob::parse("audit.*").unwrap()),
        ]);
        pair.table_prefix = "tmp_".to_owned();
        assert_eq!(
            pair.selects("products").unwrap().target_table(),
            "tmp_products"
        );
        assert_eq!(
            pair.selects("audit.logs").unwrap().target_table(),
            "tmp_audit_logs"
        );
        assert!(pair.selects("users").is_none());
    }

    #[test]
    fn defaults_follow_the_engines() {
        let pair = Pair::new("a", "b");
        assert_eq!(pair.effective_capture(Engine::MySql), Capture::Binlog);
        assert_eq!(pair.effective_capture(Engine::PostgreSql), Capture::Logical);
        assert_eq!(pair.effective_capture(Engine::Sqlite), Capture::Triggers);
        assert_eq!(
            pair.effective_identifier_case(Engine::PostgreSql),
            IdentifierCase::Lower
        );
        assert_eq!(
            pair.effective_identifier_case(Engine::MySql),
            IdentifierCase::Preserve
        );
        assert_eq!(IdentifierCase::Lower.apply("OrderLines"), "orderlines");
        assert_eq!(IdentifierCase::Preserve.apply("OrderLines"), "OrderLines");
        assert!(Capture::Binlog.supports(Engine::MySql));
        assert!(!Capture::Binlog.supports(Engine::Sqlite));
        assert!(!Capture::Logical.supports(Engine::MySql));
        assert!(Capture::Triggers.supports(Engine::Sqlite));
    }
}
