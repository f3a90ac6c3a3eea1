//! The SQLite table that receives a source table: its name, column types and indexes,
//! and the DDL that creates it.

use dbsync_config::ZeroDatePolicy;
use dbsync_core::{Error, ErrorKind, Index, IndexKind, IndexPart, Result, TableSchema};

use crate::sql::quote;
use crate::target_type::{MappingOptions, SqliteType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetColumn {
    pub name: String,
    pub sqlite_type: SqliteType,
    pub nullable: bool,
}

/// A source table's counterpart in SQLite. Names keep the source's spelling: SQLite
/// compares them without regard to case, as MySQL does table and column names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTable {
    pub name: String,
    /// In the source's column order, so a source row maps by position.
    pub columns: Vec<TargetColumn>,
    pub primary_key: Vec<String>,
    /// Secondary indexes, named `<table>_<index>`: SQLite scopes index names to the
    /// database file, MySQL to the table.
    pub indexes: Vec<(String, Index)>,
    /// Source indexes SQLite has no counterpart for (FULLTEXT, SPATIAL, expression
    /// parts), reported rather than dropped silently.
    pub skipped_indexes: Vec<String>,
}

impl TargetTable {
    /// Plans table `name` for `source`, keyed by `source.primary_key` (the declared key
    /// where the table has none).
    pub fn plan(source: &TableSchema, name: &str, options: MappingOptions) -> Result<TargetTable> {
        if source.primary_key.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "has no primary key, so its rows cannot be told apart; add one or declare `primary_key` for the table in the pair's `tables`",
            )
            .with_table(source.name.clone()));
        }
        let columns = source
            .columns
            .iter()
            .map(|column| {
                let sqlite_type = SqliteType::for_column(column, options)
                    .map_err(|e| e.with_table(source.name.clone()))?;
                // A zero date becomes NULL under the default policy, so the column must
                // accept NULL even where the source's does not.
                let nullable = column.nullable
                    || (sqlite_type.holds_dates() && options.zero_date() == ZeroDatePolicy::Null);
                Ok(TargetColumn {
                    name: column.name.clone(),
                    sqlite_type,
                    nullable,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (portable, skipped): (Vec<&Index>, Vec<&Index>) =
            source.indexes.iter().partition(|index| {
                matches!(index.kind, IndexKind::BTree | IndexKind::Hash)
                    && index.predicate.is_none()
                    && index
                        .parts
                        .iter()
                        .all(|part| matches!(part, IndexPart::Column { .. }))
            });
        Ok(TargetTable {
            name: name.to_owned(),
            columns,
            primary_key: source.primary_key.clone(),
            indexes: portable
                .into_iter()
                .map(|index| (format!("{name}_{}", index.name), index.clone()))
                .collect(),
            skipped_indexes: skipped
                .into_iter()
                .map(|index| format!("{} index {}", index.kind, index.name))
                .collect(),
        })
    }

    /// The table's name, quoted.
    pub fn quoted_name(&self) -> String {
        quote(&self.name)
    }

    /// The table with its primary key, when absent: what the copy writes into.
    /// Secondary indexes come after the copy ([`Self::index_statements`]), since
    /// building an index once over all rows is faster than keeping it up to date row
    /// by row.
    pub fn table_statement(&self) -> String {
        let mut columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let null = if c.nullable { "" } else { " NOT NULL" };
                format!("{} {}{null}", quote(&c.name), c.sqlite_type)
            })
            .collect();
        columns.push(format!("PRIMARY KEY ({})", self.key_columns().join(", ")));
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {}\n)",
            self.quoted_name(),
            columns.join(",\n  ")
        )
    }

    /// The secondary indexes, when absent. SQLite indexes whole values, so MySQL's
    /// prefix lengths are dropped; a hash index becomes a B-tree, SQLite's only kind.
    pub fn index_statements(&self) -> Vec<String> {
        self.indexes
            .iter()
            .map(|(name, index)| {
                format!(
                    "CREATE {}INDEX IF NOT EXISTS {} ON {} ({})",
                    if index.unique { "UNIQUE " } else { "" },
                    quote(name),
                    self.quoted_name(),
                    index.column_list(quote)
                )
            })
            .collect()
    }

    /// The key columns, quoted, in key order.
    pub(crate) fn key_columns(&self) -> Vec<String> {
        self.primary_key.iter().map(|k| quote(k)).collect()
    }

    /// The types of the key columns, in key order.
    pub(crate) fn key_types(&self) -> Vec<SqliteType> {
        self.primary_key
            .iter()
            .filter_map(|k| self.columns.iter().find(|c| &c.name == k))
            .map(|c| c.sqlite_type)
            .collect()
    }

    /// Whether `existing` (name, declared type, key position from 1 or 0, as
    /// `PRAGMA table_info` lists them) is this table; otherwise one sentence saying
    /// how it differs.
    pub(crate) fn check_existing(&self, existing: &[(String, String, u32)]) -> Result<()> {
        let differs = |how: String| {
            Err(Error::new(
                ErrorKind::SchemaMismatch,
                format!(
                    "the SQLite table {} exists and {how}; drop it so that dbsync creates it anew, or write the table under another name",
                    self.quoted_name()
                ),
            ))
        };
        for column in &self.columns {
            let found = existing
                .iter()
                .find(|(name, ..)| name.eq_ignore_ascii_case(&column.name));
            match found {
                None => return differs(format!("has no column {}", quote(&column.name))),
                Some((_, declared, _))
                    if !declared.eq_ignore_ascii_case(&column.sqlite_type.to_string()) =>
                {
                    return differs(format!(
                        "declares column {} as {declared} where dbsync stores it as {}",
                        quote(&column.name),
                        column.sqlite_type
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some((name, ..)) = existing.iter().find(|(name, ..)| {
            !self
                .columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(name))
        }) {
            return differs(format!(
                "has column {}, which the source has not",
                quote(name)
            ));
        }
        let mut key: Vec<&(String, String, u32)> = existing
            .iter()
            .filter(|(.., position)| *position > 0)
            .collect();
        key.sort_by_key(|(.., position)| *position);
        let same_key = key.len() == self.primary_key.len()
            && key
                .iter()
                .zip(&self.primary_key)
                .all(|((name, ..), k)| name.eq_ignore_ascii_case(k));
        if !same_key {
            let names: Vec<&str> = key.iter().map(|(name, ..)| name.as_str()).collect();
            return differs(format!(
                "has the primary key ({}) where the source's is ({})",
                names.join(", "),
                self.primary_key.join(", ")
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use dbsync_core::{Column, DataType, IntWidth, TableName};

    use super::*;

    fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            data_type,
            native_type: String::new(),
            nullable,
            default: None,
            generated: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        }
    }

    fn source() -> TableSchema {
        let id = DataType::Int {
            width: IntWidth::I64,
            unsigned: true,
        };
        TableSchema {
            name: TableName::new("shop", "Orders"),
            columns: vec![
                column("Id", id, false),
                column("placed", DataType::Date, false),
                column("note", DataType::Text { max_bytes: None }, true),
            ],
            primary_key: vec!["Id".into()],
            indexes: vec![
                Index {
                    name: "by_note".into(),
                    unique: true,
                    kind: IndexKind::BTree,
                    parts: vec![IndexPart::Column {
                        name: "note".into(),
                        prefix: Some(10),
                        descending: true,
                    }],
                    predicate: None,
                },
                Index {
                    name: "words".into(),
                    unique: false,
                    kind: IndexKind::FullText,
                    parts: vec![],
                    predicate: None,
                },
            ],
        }
    }

    #[test]
    fn plans_the_table_and_its_indexes() {
        let target = TargetTable::plan(&source(), "tmp_Orders", MappingOptions::default()).unwrap();
        assert_eq!(
            target.table_statement(),
            "CREATE TABLE IF NOT EXISTS \"tmp_Orders\" (\n  \"Id\" UNSIGNED BIG INT NOT NULL,\n  \"placed\" TEXT,\n  \"note\" TEXT,\n  PRIMARY KEY (\"Id\")\n)"
        );
        assert_eq!(
            target.index_statements(),
            [
                "CREATE UNIQUE INDEX IF NOT EXISTS \"tmp_Orders_by_note\" ON \"tmp_Orders\" (\"note\" DESC)"
            ]
        );
        assert_eq!(target.skipped_indexes, ["fulltext index words"]);
    }

    #[test]
    fn an_existing_table_must_match() {
        let target = TargetTable::plan(&source(), "t", MappingOptions::default()).unwrap();
        let existing = |id_type: &str, key: u32| {
            vec![
                ("id".to_owned(), id_type.to_owned(), key),
                ("PLACED".to_owned(), "text".to_owned(), 0),
                ("note".to_owned(), "TEXT".to_owned(), 0),
            ]
        };
        assert!(
            target
                .check_existing(&existing("UNSIGNED BIG INT", 1))
                .is_ok()
        );
        let error = target.check_existing(&existing("INTEGER", 1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the SQLite table \"t\" exists and declares column \"Id\" as INTEGER where dbsync stores it as UNSIGNED BIG INT; drop it so that dbsync creates it anew, or write the table under another name"
        );
        assert!(
            target
                .check_existing(&existing("UNSIGNED BIG INT", 0))
                .is_err()
        );
    }
}
