//! Reading table schemas from `information_schema` into the core model.

use std::collections::{BTreeMap, HashSet};

use dbsync_core::{
    Collation, Column, ColumnDefault, Generated, Index, IndexKind, IndexPart, Result, TableName,
    TableSchema,
};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::error::driver_error;
use crate::flavor::Flavor;
use crate::types::{NativeType, data_type};

/// Reads every base table of `database` (views and sequences are not tables to sync),
/// ordered by name.
pub async fn read_tables(conn: &mut Conn, database: &str) -> Result<Vec<TableSchema>> {
    let flavor = Flavor::of(conn).await?;
    let table_names: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
             ORDER BY TABLE_NAME",
            (database,),
        )
        .await
        .map_err(|e| driver_error(&format!("listing the tables of {database}"), e))?;
    let json_columns = json_checked_columns(conn, flavor, database).await?;
    let mut columns = read_columns(conn, flavor, database, &json_columns).await?;
    let mut indexes = read_indexes(conn, flavor, database).await?;

    let mut tables = Vec::with_capacity(table_names.len());
    for name in table_names {
        let (primary_key, indexes) = split_primary_key(indexes.remove(&name).unwrap_or_default());
        tables.push(TableSchema {
            name: TableName::new(database, name.clone()),
            columns: columns.remove(&name).unwrap_or_default(),
            primary_key,
            indexes,
        });
    }
    Ok(tables)
}

/// Columns of every table of `database`, by table name, in column order.
async fn read_columns(
    conn: &mut Conn,
    flavor: Flavor,
    database: &str,
    json_columns: &HashSet<(String, String)>,
) -> Result<BTreeMap<String, Vec<Column>>> {
    let rows: Vec<Row> = conn
        .exec(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
                    CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION,
                    CHARACTER_SET_NAME, COLLATION_NAME, EXTRA, GENERATION_EXPRESSION
             FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = ?
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
            (database,),
        )
        .await
        .map_err(|e| driver_error(&format!("reading the columns of {database}"), e))?;

    let mut columns: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for row in rows {
        let text = |name: &str| {
            row.get_opt::<Option<String>, _>(name)
                .and_then(Result::ok)
                .flatten()
        };
        let number = |name: &str| {
            row.get_opt::<Option<u64>, _>(name)
                .and_then(Result::ok)
                .flatten()
        };
        let table = text("TABLE_NAME").unwrap_or_default();
        let name = text("COLUMN_NAME").unwrap_or_default();
        let column_type = text("COLUMN_TYPE").unwrap_or_default();
        let extra = text("EXTRA").unwrap_or_default().to_ascii_lowercase();
        let native = NativeType {
            data_type: &text("DATA_TYPE").unwrap_or_default(),
            column_type: &column_type,
            max_length: number("CHARACTER_MAXIMUM_LENGTH"),
            numeric_precision: number("NUMERIC_PRECISION"),
            numeric_scale: number("NUMERIC_SCALE"),
            datetime_precision: number("DATETIME_PRECISION"),
            json_checked: json_columns.contains(&(table.clone(), name.clone())),
        };
        let data_type = data_type(&native);
        let collation = text("COLLATION_NAME").map(|name| Collation {
            charset: text("CHARACTER_SET_NAME"),
            name,
        });
        let column = Column {
            data_type,
            native_type: column_type,
            nullable: text("IS_NULLABLE").as_deref() == Some("YES"),
            default: text("COLUMN_DEFAULT")
                .and_then(|default| parse_default(flavor, &default, &extra)),
            generated: extra.contains("generated").then(|| Generated {
                expression: text("GENERATION_EXPRESSION").unwrap_or_default(),
                stored: extra.contains("stored"),
            }),
            auto_increment: extra.contains("auto_increment"),
            on_update: extra
                .split_once("on update ")
                .map(|(_, expression)| expression.trim().to_owned()),
            collation,
            name,
        };
        columns.entry(table).or_default().push(column);
    }
    Ok(columns)
}

/// A column's `COLUMN_DEFAULT` as a literal or an expression.
///
/// MariaDB (10.2.7 and later) quotes string literals and writes expressions bare, and
/// writes `NULL` for a null default. MySQL writes every literal bare and marks
/// expressions with `DEFAULT_GENERATED` in `EXTRA`.
fn parse_default(flavor: Flavor, default: &str, extra: &str) -> Option<ColumnDefault> {
    match flavor {
        Flavor::Mysql if extra.contains("default_generated") => {
            Some(ColumnDefault::Expression(default.to_owned()))
        }
        Flavor::Mysql => Some(ColumnDefault::Literal(default.to_owned())),
        Flavor::MariaDb if default.eq_ignore_ascii_case("null") => None,
        Flavor::MariaDb => match default
            .strip_prefix('\'')
            .and_then(|quoted| quoted.strip_suffix('\''))
        {
            Some(literal) => Some(ColumnDefault::Literal(literal.replace("''", "'"))),
            None if is_number(default) => Some(ColumnDefault::Literal(default.to_owned())),
            None => Some(ColumnDefault::Expression(default.to_owned())),
        },
    }
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E')
}

/// MariaDB's `JSON` type is an alias: the column is `LONGTEXT` with a
/// `CHECK (json_valid(column))` constraint, which is how it is recognized.
async fn json_checked_columns(
    conn: &mut Conn,
    flavor: Flavor,
    database: &str,
) -> Result<HashSet<(String, String)>> {
    if flavor != Flavor::MariaDb {
        return Ok(HashSet::new());
    }
    let checks: Vec<(String, String)> = conn
        .exec(
            "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = ?",
            (database,),
        )
        .await
        .map_err(|e| driver_error(&format!("reading the check constraints of {database}"), e))?;
    Ok(checks
        .into_iter()
        .filter_map(|(table, clause)| {
            let column = clause
                .trim()
                .strip_prefix("json_valid(`")?
                .strip_suffix("`)")?;
            Some((table, column.replace("``", "`")))
        })
        .collect())
}

/// Every index of every table of `database`, primary key included, by table name.
async fn read_indexes(
    conn: &mut Conn,
    flavor: Flavor,
    database: &str,
) -> Result<BTreeMap<String, Vec<Index>>> {
    // MySQL 8 has functional index parts, whose column name is NULL; MariaDB has neither
    // them nor the EXPRESSION column.
    let expression = match flavor {
        Flavor::Mysql => "EXPRESSION",
        Flavor::MariaDb => "NULL AS EXPRESSION",
    };
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION, {expression}
                 FROM information_schema.STATISTICS
                 WHERE TABLE_SCHEMA = ?
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            ),
            (database,),
        )
        .await
        .map_err(|e| driver_error(&format!("reading the indexes of {database}"), e))?;

    let mut indexes: BTreeMap<String, Vec<Index>> = BTreeMap::new();
    for row in rows {
        let text = |name: &str| {
            row.get_opt::<Option<String>, _>(name)
                .and_then(Result::ok)
                .flatten()
        };
        let table = text("TABLE_NAME").unwrap_or_default();
        let name = text("INDEX_NAME").unwrap_or_default();
        let part = match text("COLUMN_NAME") {
            Some(column) => IndexPart::Column {
                name: column,
                prefix: row
                    .get_opt::<Option<u32>, _>("SUB_PART")
                    .and_then(Result::ok)
                    .flatten(),
                descending: text("COLLATION").as_deref() == Some("D"),
            },
            None => IndexPart::Expression(text("EXPRESSION").unwrap_or_default()),
        };
        let table_indexes = indexes.entry(table).or_default();
        match table_indexes.last_mut() {
            Some(index) if index.name == name => index.parts.push(part),
            _ => table_indexes.push(Index {
                unique: row.get_opt::<i64, _>("NON_UNIQUE").and_then(Result::ok) == Some(0),
                kind: index_kind(&text("INDEX_TYPE").unwrap_or_default()),
                parts: vec![part],
                predicate: None,
                name,
            }),
        }
    }
    Ok(indexes)
}

fn index_kind(index_type: &str) -> IndexKind {
    match index_type.to_ascii_uppercase().as_str() {
        "BTREE" => IndexKind::BTree,
        "HASH" => IndexKind::Hash,
        "FULLTEXT" => IndexKind::FullText,
        "SPATIAL" | "RTREE" => IndexKind::Spatial,
        other => IndexKind::Other(other.to_ascii_lowercase()),
    }
}

/// Separates the `PRIMARY` index, as primary-key column names, from the others, which
/// come back sorted by name.
fn split_primary_key(indexes: Vec<Index>) -> (Vec<String>, Vec<Index>) {
    let (primary, mut others): (Vec<Index>, Vec<Index>) = indexes
        .into_iter()
        .partition(|index| index.name == "PRIMARY");
    others.sort_by(|a, b| a.name.cmp(&b.name));
    let primary_key = primary
        .into_iter()
        .flat_map(|index| index.parts)
        .filter_map(|part| match part {
            IndexPart::Column { name, .. } => Some(name),
            IndexPart::Expression(_) => None,
        })
        .collect();
    (primary_key, others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_defaults_distinguish_literals_from_expressions() {
        let parse = |default| parse_default(Flavor::MariaDb, default, "");
        assert_eq!(parse("'G'"), Some(ColumnDefault::Literal("G".into())));
        assert_eq!(
            parse("'it''s'"),
            Some(ColumnDefault::Literal("it's".into()))
        );
        assert_eq!(parse("4.99"), Some(ColumnDefault::Literal("4.99".into())));
        assert_eq!(parse("-1"), Some(ColumnDefault::Literal("-1".into())));
        assert_eq!(parse("NULL"), None);
        assert_eq!(
            parse("current_timestamp()"),
            Some(ColumnDefault::Expression("current_timestamp()".into()))
        );
    }

    #[test]
    fn mysql_defaults_are_expressions_only_when_marked() {
        assert_eq!(
            parse_default(Flavor::Mysql, "CURRENT_TIMESTAMP", "default_generated"),
            Some(ColumnDefault::Expression("CURRENT_TIMESTAMP".into()))
        );
        assert_eq!(
            parse_default(Flavor::Mysql, "G", ""),
            Some(ColumnDefault::Literal("G".into()))
        );
    }
}
