//! The MySQL/MariaDB table that receives a source table: its columns, keys and
//! indexes, and the DDL that creates it.

use std::collections::HashSet;

use dbsync_core::{
    Collation, Error, ErrorKind, Index, IndexKind, IndexPart, Result, TableSchema, Value,
};

use crate::flavor::Flavor;
use crate::sql::quote;
use crate::target_type::MysqlType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetColumn {
    pub name: String,
    pub mysql_type: MysqlType,
    pub collation: Option<Collation>,
    pub nullable: bool,
    /// The `DEFAULT` clause's SQL, where the source's default is safe to carry.
    pub default: Option<String>,
    pub on_update: Option<String>,
    pub auto_increment: bool,
}

impl TargetColumn {
    /// `value` once checked to fit the column exactly (see [`MysqlType::check`]).
    pub(crate) fn checked<'v>(&self, value: &'v Value) -> Result<&'v Value> {
        self.mysql_type.check(value).map_err(|why| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "column `{}` ({}) cannot hold a value exactly: {why}; exclude the table or change the source column's type",
                    self.name, self.mysql_type
                ),
            )
        })?;
        Ok(value)
    }
}

/// A source table's counterpart in MySQL or MariaDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTable {
    pub database: String,
    pub name: String,
    /// In the source's column order, so a source row maps by position.
    pub columns: Vec<TargetColumn>,
    pub primary_key: Vec<String>,
    /// Indexes created with the table: those that start with an `AUTO_INCREMENT`
    /// column, which MySQL requires to lead an index.
    pub table_indexes: Vec<Index>,
    /// Secondary indexes, built after the copy, since building an index once over all
    /// rows is faster than keeping it up to date row by row. Names are kept: MySQL
    /// scopes them per table.
    pub indexes: Vec<Index>,
    /// Source indexes MySQL has no counterpart for (another engine's access method,
    /// a partial or expression index, an index over a whole `TEXT`), reported rather
    /// than dropped silently.
    pub skipped_indexes: Vec<String>,
}

impl TargetTable {
    /// Plans the target of `source`, named `name` in `database` on a `flavor` server.
    ///
    /// Generated columns become plain columns that hold the source's values: the
    /// target then has the very values the source computed, whatever its functions
    /// make of the expression.
    pub fn plan(
        source: &TableSchema,
        database: &str,
        name: &str,
        flavor: Flavor,
    ) -> Result<TargetTable> {
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
                let keyed = source.primary_key.contains(&column.name);
                let mysql_type = MysqlType::for_column(column, flavor, keyed)
                    .map_err(|e| e.with_table(source.name.clone()))?;
                Ok(TargetColumn {
                    name: column.name.clone(),
                    collation: mysql_type.collation(column, flavor),
                    nullable: column.nullable && !keyed,
                    default: mysql_type.default_sql(column, flavor),
                    on_update: mysql_type.on_update_sql(column),
                    auto_increment: column.auto_increment,
                    mysql_type,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut table = TargetTable {
            database: database.to_owned(),
            name: name.to_owned(),
            columns,
            primary_key: source.primary_key.clone(),
            table_indexes: Vec::new(),
            indexes: Vec::new(),
            skipped_indexes: Vec::new(),
        };
        let auto_increment = table
            .columns
            .iter()
            .find(|c| c.auto_increment)
            .map(|c| c.name.clone());
        for index in &source.indexes {
            if let Some(why) = table.unportable(index) {
                table
                    .skipped_indexes
                    .push(format!("{} index {} ({why})", index.kind, index.name));
            } else if auto_increment.is_some()
                && index.column_names().first().copied() == auto_increment.as_deref()
            {
                table.table_indexes.push(index.clone());
            } else {
                table.indexes.push(index.clone());
            }
        }
        Ok(table)
    }

    /// Why MySQL cannot build `index` as the source has it, if it cannot.
    fn unportable(&self, index: &Index) -> Option<&'static str> {
        if index.predicate.is_some() {
            return Some("a partial index");
        }
        if !matches!(
            index.kind,
            IndexKind::BTree | IndexKind::Hash | IndexKind::FullText | IndexKind::Spatial
        ) {
            return Some("an access method MySQL lacks");
        }
        for part in &index.parts {
            let IndexPart::Column { name, prefix, .. } = part else {
                return Some("an expression index");
            };
            let lob = self.column(name).is_some_and(|c| c.mysql_type.is_lob());
            if lob && prefix.is_none() && index.kind != IndexKind::FullText {
                return Some("over a whole TEXT or BLOB, which MySQL indexes by a prefix only");
            }
        }
        None
    }

    pub fn column(&self, name: &str) -> Option<&TargetColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether a unique index other than the primary key exists, which an
    /// `INSERT ... ON DUPLICATE KEY UPDATE` could match instead of the primary key.
    pub fn has_secondary_unique(&self) -> bool {
        self.table_indexes
            .iter()
            .chain(&self.indexes)
            .any(|index| index.unique)
    }

    /// `` `database`.`table` ``.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", quote(&self.database), quote(&self.name))
    }

    /// The table with its primary key, when absent: what the copy writes into.
    pub fn create_statement(&self) -> String {
        let mut lines: Vec<String> = self.columns.iter().map(column_definition).collect();
        let key: Vec<String> = self.primary_key.iter().map(|k| quote(k)).collect();
        lines.push(format!("PRIMARY KEY ({})", key.join(", ")));
        lines.extend(self.table_indexes.iter().map(index_definition));
        let mut statement = format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {}\n) ENGINE=InnoDB",
            self.qualified_name(),
            lines.join(",\n  ")
        );
        if let Some(Collation {
            charset: Some(charset),
            name,
        }) = self.default_collation()
        {
            statement.push_str(&format!(" DEFAULT CHARSET={charset} COLLATE={name}"));
        }
        statement
    }

    /// The table's default collation: the one most of its text columns have, which is
    /// the source table's default in all but odd tables. It only serves columns added
    /// later, and keeps `SHOW CREATE TABLE` the same as the source's.
    fn default_collation(&self) -> Option<&Collation> {
        let collations: Vec<&Collation> = self
            .columns
            .iter()
            .filter_map(|c| c.collation.as_ref())
            .collect();
        collations
            .iter()
            .copied()
            .max_by_key(|&candidate| collations.iter().filter(|&&c| c == candidate).count())
    }

    /// One `ALTER TABLE` that adds the secondary indexes not in `existing` (index
    /// names), building them in one pass over the rows; `None` when none is missing.
    pub fn add_indexes_statement(&self, existing: &HashSet<String>) -> Option<String> {
        let missing: Vec<String> = self
            .indexes
            .iter()
            .filter(|index| !existing.contains(&index.name))
            .map(|index| format!("ADD {}", index_definition(index)))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "ALTER TABLE {} {}",
                self.qualified_name(),
                missing.join(", ")
            )
        })
    }
}

fn column_definition(column: &TargetColumn) -> String {
    let mut definition = format!("{} {}", quote(&column.name), column.mysql_type);
    if let Some(Collation {
        charset: Some(charset),
        name,
    }) = &column.collation
    {
        definition.push_str(&format!(" CHARACTER SET {charset} COLLATE {name}"));
    }
    definition.push_str(if column.nullable {
        " NULL"
    } else {
        " NOT NULL"
    });
    if let Some(default) = &column.default {
        definition.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(on_update) = &column.on_update {
        definition.push_str(&format!(" ON UPDATE {on_update}"));
    }
    if column.auto_increment {
        definition.push_str(" AUTO_INCREMENT");
    }
    definition
}

/// `UNIQUE KEY name (a, b(10) DESC)` and the like. InnoDB builds every B-tree the same
/// way, so a source's `USING HASH` is not repeated. A spatial index covers whole
/// values, whatever prefix MariaDB reports for it.
fn index_definition(index: &Index) -> String {
    let kind = match (&index.kind, index.unique) {
        (IndexKind::FullText, _) => "FULLTEXT KEY",
        (IndexKind::Spatial, _) => "SPATIAL KEY",
        (_, true) => "UNIQUE KEY",
        (_, false) => "KEY",
    };
    let parts: Vec<String> = index
        .parts
        .iter()
        .filter_map(|part| match part {
            IndexPart::Column {
                name,
                prefix,
                descending,
            } => Some(format!(
                "{}{}{}",
                quote(name),
                prefix
                    .filter(|_| index.kind != IndexKind::Spatial)
                    .map(|p| format!("({p})"))
                    .unwrap_or_default(),
                if *descending { " DESC" } else { "" }
            )),
            IndexPart::Expression(_) => None,
        })
        .collect();
    format!("{kind} {} ({})", quote(&index.name), parts.join(", "))
}
