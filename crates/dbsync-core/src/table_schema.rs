//! The shape of a table: columns with full type detail, primary key and indexes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::data_type::DataType;
use crate::error::{Error, ErrorKind};

/// A table's name within its database: the MySQL database or PostgreSQL schema, and the
/// table itself, exactly as the engine spells them (case preserved).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        TableName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    pub name: TableName,
    /// In the table's column order.
    pub columns: Vec<Column>,
    /// Names of the primary-key columns in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// Every index but the primary key's, ordered by name.
    pub indexes: Vec<Index>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    pub fn index(&self, name: &str) -> Option<&Index> {
        self.indexes.iter().find(|index| index.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    /// The type as the source engine spells it, such as `smallint(5) unsigned` or
    /// `character varying(120)`: what a user recognizes in messages.
    pub native_type: String,
    pub nullable: bool,
    pub default: Option<ColumnDefault>,
    pub generated: Option<Generated>,
    /// MySQL `AUTO_INCREMENT`, PostgreSQL identity or serial.
    pub auto_increment: bool,
    /// MySQL's `ON UPDATE` expression, such as `current_timestamp()`.
    pub on_update: Option<String>,
    /// For character columns: their character set and collation.
    pub collation: Option<Collation>,
}

impl Column {
    /// The error that the column's type, `native` (a [`DataType::Unsupported`]), has
    /// no target type.
    pub fn unsupported(&self, native: &str) -> Error {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "column `{}` has type {native}, which dbsync cannot carry exactly; exclude the table",
                self.name
            ),
        )
    }
}

/// What a column holds when an insert does not name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnDefault {
    /// A constant, as the text of its value (unquoted, unescaped).
    Literal(String),
    /// An expression the engine evaluates, such as `current_timestamp()`.
    Expression(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    pub expression: String,
    /// Stored (materialized) rather than computed on read.
    pub stored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    /// `None` where the engine has no per-column character set (PostgreSQL).
    pub charset: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    pub kind: IndexKind,
    pub parts: Vec<IndexPart>,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

impl Index {
    /// The names of the columns the index covers, in order; expression parts have none.
    pub fn column_names(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|part| match part {
                IndexPart::Column { name, .. } => Some(name.as_str()),
                IndexPart::Expression(_) => None,
            })
            .collect()
    }

    /// The index's columns as an index definition lists them, each quoted by `quote`
    /// and followed by `DESC` where descending; prefix lengths and expression parts,
    /// which not every engine has, are left out.
    pub fn column_list(&self, quote: impl Fn(&str) -> String) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .filter_map(|part| match part {
                IndexPart::Column {
                    name, descending, ..
                } => Some(format!(
                    "{}{}",
                    quote(name),
                    if *descending { " DESC" } else { "" }
                )),
                IndexPart::Expression(_) => None,
            })
            .collect();
        parts.join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    BTree,
    Hash,
    FullText,
    Spatial,
    /// Another access method, by its engine's name (PostgreSQL `gin`, `gist`, `brin` ...).
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexPart {
    Column {
        name: String,
        /// MySQL's index prefix length in characters or bytes.
        prefix: Option<u32>,
        descending: bool,
    },
    Expression(String),
}

impl fmt::Display for IndexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IndexKind::BTree => "btree",
            IndexKind::Hash => "hash",
            IndexKind::FullText => "fulltext",
            IndexKind::Spatial => "spatial",
            IndexKind::Other(name) => name,
        })
    }
}

impl fmt::Display for IndexPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexPart::Column {
                name,
                prefix,
                descending,
            } => {
                f.write_str(name)?;
                if let Some(prefix) = prefix {
                    write!(f, "({prefix})")?;
                }
                if *descending {
                    f.write_str(" desc")?;
                }
                Ok(())
            }
            IndexPart::Expression(expression) => write!(f, "({expression})"),
        }
    }
}

impl fmt::Display for Column {
    /// One line: name, type and every property that is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.data_type)?;
        if let Some(Collation { charset, name }) = &self.collation {
            match charset {
                Some(charset) => write!(f, " charset {charset} collate {name}")?,
                None => write!(f, " collate {name}")?,
            }
        }
        f.write_str(if self.nullable { " null" } else { " not null" })?;
        match &self.default {
            Some(ColumnDefault::Literal(value)) => write!(f, " default '{value}'")?,
            Some(ColumnDefault::Expression(expression)) => write!(f, " default {expression}")?,
            None => {}
        }
        if let Some(Generated { expression, stored }) = &self.generated {
            let how = if *stored { "stored" } else { "virtual" };
            write!(f, " generated ({expression}) {how}")?;
        }
        if self.auto_increment {
            f.write_str(" auto_increment")?;
        }
        if let Some(expression) = &self.on_update {
            write!(f, " on update {expression}")?;
        }
        write!(f, " [{}]", self.native_type)
    }
}

impl fmt::Display for TableSchema {
    /// A multi-line description: the table, each column, the primary key, each index.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "table {}", self.name)?;
        for column in &self.columns {
            writeln!(f, "  column {column}")?;
        }
        if !self.primary_key.is_empty() {
            writeln!(f, "  primary key ({})", self.primary_key.join(", "))?;
        }
        for index in &self.indexes {
            let unique = if index.unique { "unique " } else { "" };
            let parts: Vec<String> = index.parts.iter().map(ToString::to_string).collect();
            write!(
                f,
                "  {unique}{} index {} ({})",
                index.kind,
                index.name,
                parts.join(", ")
            )?;
            if let Some(predicate) = &index.predicate {
                write!(f, " where {predicate}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Tables for the unit tests of this crate.
#[cfg(test)]
pub(crate) mod fixture {
    use std::sync::Arc;

    use super::{Column, TableName, TableSchema};
    use crate::data_type::{DataType, IntWidth};

    /// `shop.<name>` with `INT NOT NULL` columns, keyed by the first.
    pub(crate) fn int_table(name: &str, columns: &[&str]) -> Arc<TableSchema> {
        let column = |name: &&str| Column {
            name: (*name).into(),
            data_type: DataType::Int {
                width: IntWidth::I32,
                unsigned: false,
            },
            native_type: "int".into(),
            nullable: false,
            default: None,
            generated: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        };
        Arc::new(TableSchema {
            name: TableName::new("shop", name),
            columns: columns.iter().map(column).collect(),
            primary_key: vec![columns[0].into()],
            indexes: vec![],
        })
    }
}
