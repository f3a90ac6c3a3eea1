//! The PostgreSQL table that receives a source table: its names, column types and
//! indexes, and the DDL that creates it.

use dbsync_core::{Error, ErrorKind, Index, IndexKind, IndexPart, Result, TableSchema};

use crate::sql::quote;
use dbsync_config::{IdentifierCase, ZeroDatePolicy};

use crate::target_type::{MappingOptions, PgType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetColumn {
    pub name: String,
    pub pg_type: PgType,
    pub nullable: bool,
}

/// A source table's counterpart in PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTable {
    pub schema: String,
    pub name: String,
    /// In the source's column order, so a source row maps by position.
    pub columns: Vec<TargetColumn>,
    pub primary_key: Vec<String>,
    /// Secondary indexes, renamed with the table's name so that they are unique in the
    /// schema as PostgreSQL requires (MySQL scopes index names per table).
    pub indexes: Vec<(String, Index)>,
    /// Source indexes PostgreSQL has no counterpart for (FULLTEXT, SPATIAL without
    /// PostGIS), reported rather than dropped silently.
    pub skipped_indexes: Vec<String>,
}

impl TargetTable {
    /// Plans the target of `source`; `key` is its primary key or the declared one.
    pub fn plan(
        source: &TableSchema,
        schema: &str,
        name: &str,
        key: &[String],
        case: IdentifierCase,
        options: MappingOptions,
    ) -> Result<TargetTable> {
        let columns = source
            .columns
            .iter()
            .map(|column| {
                let pg_type = PgType::for_column(column, options)
                    .map_err(|e| e.with_table(source.name.clone()))?;
                // A zero date becomes NULL under the default policy, so the column must
                // accept NULL even where the source's does not.
                let nullable = column.nullable
                    || (pg_type.holds_dates() && options.zero_date == ZeroDatePolicy::Null);
                Ok(TargetColumn {
                    name: case.apply(&column.name).into_owned(),
                    pg_type,
                    nullable,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut indexes = Vec::new();
        let mut skipped_indexes = Vec::new();
        for index in &source.indexes {
            let portable = matches!(index.kind, IndexKind::BTree | IndexKind::Hash)
                && index
                    .parts
                    .iter()
                    .all(|part| matches!(part, IndexPart::Column { .. }));
            if portable {
                let index_name = case.apply(&format!("{}_{}", name, index.name)).into_owned();
                indexes.push((index_name, index.clone()));
            } else {
                skipped_indexes.push(format!("{} index {}", index.kind, index.name));
            }
        }
        if key.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "has no primary key, so its rows cannot be told apart; add one or declare `primary_key` for the table in the pair's `tables`",
            )
            .with_table(source.name.clone()));
        }
        Ok(TargetTable {
            schema: case.apply(schema).into_owned(),
            name: case.apply(name).into_owned(),
            columns,
            primary_key: key.iter().map(|k| case.apply(k).into_owned()).collect(),
            indexes: indexes
                .into_iter()
                .map(|(index_name, mut index)| {
                    for part in &mut index.parts {
                        if let IndexPart::Column { name, prefix, .. } = part {
                            *name = case.apply(name).into_owned();
                            // PostgreSQL indexes whole values; a prefix only made the
                            // MySQL index smaller.
                            *prefix = None;
                        }
                    }
                    (index_name, index)
                })
                .collect(),
            skipped_indexes,
        })
    }

    /// `"schema"."table"`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", quote(&self.schema), quote(&self.name))
    }

    /// The statements that create the schema, the table and its indexes when absent.
    pub fn create_statements(&self) -> Vec<String> {
        let mut statements = self.table_statements();
        statements.extend(self.index_statements());
        statements
    }

    /// The schema and the table with its primary key, when absent: what the copy
    /// writes into. Secondary indexes come after the copy ([`Self::index_statements`]),
    /// since building an index once over all rows is faster than keeping it up to date
    /// row by row.
    pub fn table_statements(&self) -> Vec<String> {
        let mut columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let null = if c.nullable { "" } else { " NOT NULL" };
                format!("{} {}{null}", quote(&c.name), c.pg_type)
            })
            .collect();
        let key: Vec<String> = self.primary_key.iter().map(|k| quote(k)).collect();
        columns.push(format!("PRIMARY KEY ({})", key.join(", ")));
        vec![
            format!("CREATE SCHEMA IF NOT EXISTS {}", quote(&self.schema)),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n  {}\n)",
                self.qualified_name(),
                columns.join(",\n  ")
            ),
        ]
    }

    /// The secondary indexes, when absent.
    pub fn index_statements(&self) -> Vec<String> {
        let mut statements = Vec::new();
        for (name, index) in &self.indexes {
            let unique = if index.unique { "UNIQUE " } else { "" };
            let method = if index.kind == IndexKind::Hash && !index.unique {
                " USING hash"
            } else {
                ""
            };
            statements.push(format!(
                "CREATE {unique}INDEX IF NOT EXISTS {} ON {}{method} ({})",
                quote(name),
                self.qualified_name(),
                index.column_list(quote)
            ));
        }
        statements
    }
}
