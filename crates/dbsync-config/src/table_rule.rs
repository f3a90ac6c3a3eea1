//! The entries of a pair's `tables`: globs that select and exclude, and per-table options.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer, Serialize};

use crate::glob::Glob;
use crate::pair::{Capture, ConflictResolution};

/// One entry of `tables`: a glob string (`"*"`, `"orders"`, `"!audit_*"`) or a mapping of
/// options for the tables its `name` matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TableRule {
    Glob(Glob),
    Table(TableOptions),
}

/// Options for the tables a `tables` entry names (seed 004's table objects, seed 001's
/// `sync.tables`, seed 002's per-table settings). Unset options take the pair's value or
/// the product's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableOptions {
    /// The table, or a glob of tables (without `!`), such as `orders` or `audit.logs`.
    pub name: Glob,
    /// The target table's name, instead of the source's (seed 002's `target_table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The key to sync by, for a table without a primary key or to override it; one
    /// column may be written without brackets (seed 001's `primary_key: id`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub primary_key: Vec<String>,
    /// For `poll` capture and `last_write_wins`: the column that changes with each update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_column: Option<String>,
    /// For `poll` capture: the increasing id column that finds new rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::option"
    )]
    pub poll_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// A capture for these tables other than the pair's, such as `snapshot` for a table
    /// that is copied whole each run (seed 002's `sync_mode: full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Capture>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_resolution: Option<ConflictResolution>,
    /// `false` excludes the tables, like a `!` glob (seed 002's per-table `enabled`).
    #[serde(
        default = "crate::model::yes",
        skip_serializing_if = "crate::model::is_true"
    )]
    pub enabled: bool,
    /// Per-column options, by source column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnOptions>,
}

/// Options for one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnOptions {
    /// The target column's type, as the target engine spells it (`numeric(12,2)`, `text`),
    /// instead of the one the default type mapping chooses.
    #[serde(rename = "type")]
    pub target_type: String,
}

impl TableOptions {
    /// Options for `name` with nothing else set.
    pub fn new(name: Glob) -> Self {
        TableOptions {
            name,
            target: None,
            primary_key: Vec::new(),
            timestamp_column: None,
            id_column: None,
            poll_interval: None,
            batch_size: None,
            capture: None,
            conflict_resolution: None,
            enabled: true,
            columns: BTreeMap::new(),
        }
    }
}

/// Whether `rules` select `table`, and with which options.
///
/// A table is selected when some rule includes it (a glob without `!`, or an entry whose
/// `name` matches it) and no rule excludes it (a `!` glob, or a matching entry with
/// `enabled: false`): exclusions win, whatever the order, so `["!audit_*", "*"]` and
/// `["*", "!audit_*"]` mean the same. Its options are those of the entry whose `name` is
/// exactly the table, or else of the last entry whose glob matches it; options are not merged.
pub(crate) fn select<'a>(rules: &'a [TableRule], table: &str) -> Option<Option<&'a TableOptions>> {
    let mut included = false;
    let mut exact = None;
    let mut by_glob = None;
    for rule in rules {
        match rule {
            TableRule::Glob(glob) if glob.matches(table) => {
                if glob.is_exclusion() {
                    return None;
                }
                included = true;
            }
            TableRule::Table(options) if options.name.matches(table) => {
                if !options.enabled {
                    return None;
                }
                included = true;
                if options.name.is_wildcard() {
                    by_glob = Some(options);
                } else {
                    exact = Some(options);
                }
            }
            TableRule::Glob(_) | TableRule::Table(_) => {}
        }
    }
    included.then_some(exact.or(by_glob))
}

impl<'de> Deserialize<'de> for TableRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TableRuleVisitor)
    }
}

/// A hand-written visitor rather than `#[serde(untagged)]`, which would hide why an entry
/// is wrong (an unknown key, a bad glob) behind "did not match any variant".
struct TableRuleVisitor;

impl<'de> Visitor<'de> for TableRuleVisitor {
    type Value = TableRule;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table glob in quotes, such as \"*\", or a mapping of table options")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<TableRule, E> {
        Glob::parse(text).map(TableRule::Glob).map_err(E::custom)
    }

    /// A table named by digits alone, such as `2024`, reads as a number in YAML.
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<TableRule, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<TableRule, M::Error> {
        TableOptions::deserialize(MapAccessDeserializer::new(map)).map(TableRule::Table)
    }
}

/// `id` or `[order_id, line_no]`.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a column name or a list of column names")
        }

        fn visit_str<E: de::Error>(self, column: &str) -> Result<Vec<String>, E> {
            Ok(vec![column.to_owned()])
        }

        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<String>, S::Error> {
            let mut columns = Vec::new();
            while let Some(column) = seq.next_element()? {
                columns.push(column);
            }
            Ok(columns)
        }
    }
    deserializer.deserialize_any(OneOrMany)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> TableRule {
        TableRule::Glob(Glob::parse(text).unwrap())
    }

    fn table(name: &str) -> TableOptions {
        TableOptions::new(Glob::parse(name).unwrap())
    }

    #[test]
    fn exclusions_win_in_any_order() {
        for rules in [
            vec![glob("*"), glob("!audit_*")],
            vec![glob("!audit_*"), glob("*")],
        ] {
            assert_eq!(select(&rules, "orders"), Some(None));
            assert_eq!(select(&rules, "audit_log"), None);
        }
        let disabled = TableOptions {
            enabled: false,
            ..table("orders")
        };
        let rules = vec![glob("*"), TableRule::Table(disabled)];
        assert_eq!(select(&rules, "orders"), None);
        assert_eq!(select(&rules, "customers"), Some(None));
    }

    #[test]
    fn selects_only_what_a_rule_includes() {
        let rules = vec![glob("orders"), glob("customer?")];
        assert_eq!(select(&rules, "orders"), Some(None));
        assert_eq!(select(&rules, "customers"), Some(None));
        assert_eq!(select(&rules, "customer"), None);
        assert_eq!(select(&rules, "audit.logs"), None);
    }

    #[test]
    fn an_exact_name_has_the_options_else_the_last_glob() {
        let exact = TableOptions {
            batch_size: Some(10),
            ..table("log_big")
        };
        let first_glob = TableOptions {
            batch_size: Some(20),
            ..table("log_*")
        };
        let last_glob = TableOptions {
            batch_size: Some(30),
            ..table("log_*")
        };
        let rules = vec![
            TableRule::Table(exact.clone()),
            TableRule::Table(first_glob),
            TableRule::Table(last_glob.clone()),
        ];
        assert_eq!(select(&rules, "log_big"), Some(Some(&exact)));
        assert_eq!(select(&rules, "log_small"), Some(Some(&last_glob)));
        // An entry selects its tables by itself, with no "*".
        assert_eq!(select(&rules, "orders"), None);
    }
}
