//! Reading table schemas from `pg_catalog` into the core model.
//!
//! `information_schema` hides what dbsync needs (type modifiers of domains, index
//! expressions and access methods, enum labels) and only shows objects the account
//! owns or has privileges on, so the catalogs are read directly: one query per kind for
//! the whole schema.

use std::collections::BTreeMap;

use dbsync_core::{
    Collation, Column, ColumnDefault, Error, ErrorKind, Generated, Index, IndexKind, IndexPart,
    Result, TableName, TableSchema,
};
use tokio_postgres::types::FromSql;
use tokio_postgres::{Client, Row};

use crate::error::driver_error;
use crate::types::{NativeType, data_type};

/// The tables to sync: ordinary tables and the parents of partitioned ones, whose rows
/// are those of all their partitions. Views, materialized views, foreign tables and the
/// partitions themselves are left out. `c` is `pg_class`, `n` its `pg_namespace`.
const SYNCED_TABLES: &str = "n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition";

/// Reads every table of `schema` (ordinary tables and partitioned parents, not views nor
/// partitions), ordered by name.
///
/// Type names in `native_type`, defaults and expressions are written by the server the
/// way the session's `search_path` makes them unambiguous: a type of a schema outside
/// it comes qualified, such as `sales.mood`.
pub async fn read_tables(client: &Client, schema: &str) -> Result<Vec<TableSchema>> {
    let rows = client
        .query(
            &format!(
                "SELECT c.relname FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {SYNCED_TABLES}
                 ORDER BY c.relname"
            ),
            &[&schema],
        )
        .await
        .map_err(|e| driver_error(&format!("listing the tables of schema {schema}"), e))?;
    let mut columns = read_columns(client, schema).await?;
    let mut indexes = read_indexes(client, schema).await?;

    let mut tables = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = get(row, "relname")?;
        let (primary_key, indexes) = split_primary_key(indexes.remove(&name).unwrap_or_default());
        tables.push(TableSchema {
            name: TableName::new(schema, name.clone()),
            columns: columns.remove(&name).unwrap_or_default(),
            primary_key,
            indexes,
        });
    }
    Ok(tables)
}

/// Columns of every table of `schema`, by table name, in column order.
async fn read_columns(client: &Client, schema: &str) -> Result<BTreeMap<String, Vec<Column>>> {
    // A domain may be based on another domain; the values are those of the type at the
    // bottom of the chain, whose modifier is the one given to the last domain.
    let rows = client
        .query(
            &format!(
                "WITH RECURSIVE domain_chain (domain, base, typmod) AS (
                     SELECT oid, typbasetype, typtypmod FROM pg_type WHERE typtype = 'd'
                   UNION ALL
                     SELECT chain.domain, t.typbasetype, t.typtypmod
                     FROM domain_chain chain JOIN pg_type t ON t.oid = chain.base
                     WHERE t.typtype = 'd'
                 ), domain_base AS (
                     SELECT chain.* FROM domain_chain chain
                     JOIN pg_type t ON t.oid = chain.base
                     WHERE t.typtype <> 'd'
                 )
                 SELECT c.relname AS table_name,
                        a.attname AS column_name,
                        format_type(a.atttypid, a.atttypmod) AS native_type,
                        bt.oid AS base_oid,
                        COALESCE(db.typmod, a.atttypmod) AS base_typmod,
                        format_type(bt.oid, COALESCE(db.typmod, a.atttypmod)) AS base_type,
                        CASE WHEN bt.typtype = 'e' THEN
                            ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                                  WHERE e.enumtypid = bt.oid ORDER BY e.enumsortorder)
                        END AS enum_labels,
                        NOT a.attnotnull AS nullable,
                        a.attidentity IN ('a', 'd') AS identity,
                        a.attgenerated::text AS generated,
                        pg_get_expr(ad.adbin, ad.adrelid, true) AS default_expression,
                        current_setting('standard_conforming_strings') = 'off'
                            AS backslash_escapes,
                        CASE WHEN a.attcollation <> bt.typcollation THEN co.collname END
                            AS collation
                 FROM pg_attribute a
                 JOIN pg_class c ON c.oid = a.attrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN domain_base db ON db.domain = a.atttypid
                 JOIN pg_type bt ON bt.oid = COALESCE(db.base, a.atttypid)
                 LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                 LEFT JOIN pg_collation co ON co.oid = a.attcollation
                 WHERE {SYNCED_TABLES} AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY c.relname, a.attnum"
            ),
            &[&schema],
        )
        .await
        .map_err(|e| driver_error(&format!("reading the columns of schema {schema}"), e))?;

    let mut columns: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for row in &rows {
        let enum_labels: Option<Vec<String>> = get(row, "enum_labels")?;
        let native = NativeType {
            oid: get(row, "base_oid")?,
            typmod: get(row, "base_typmod")?,
            name: get(row, "base_type")?,
            enum_labels: enum_labels.as_deref(),
        };
        let expression: Option<String> = get(row, "default_expression")?;
        let generated: &str = get(row, "generated")?;
        let identity: bool = get(row, "identity")?;
        // PostgreSQL 12+ has stored generated columns ('s'); 18 adds virtual ones ('v').
        let (default, generated, auto_increment) = match (generated, expression) {
            ("", _) if identity => (None, None, true),
            ("", Some(expression)) if expression.starts_with("nextval(") => (None, None, true),
            ("", expression) => {
                let backslash_escapes = get(row, "backslash_escapes")?;
                let default = expression.and_then(|e| parse_default(&e, backslash_escapes));
                (default, None, false)
            }
            (kind, expression) => {
                let generated = Generated {
                    expression: expression.unwrap_or_default(),
                    stored: kind == "s",
                };
                (None, Some(generated), false)
            }
        };
        let column = Column {
            name: get(row, "column_name")?,
            data_type: data_type(&native),
            native_type: get(row, "native_type")?,
            nullable: get(row, "nullable")?,
            default,
            generated,
            auto_increment,
            on_update: None,
            collation: get::<Option<String>>(row, "collation")?.map(|name| Collation {
                charset: None,
                name,
            }),
        };
        columns
            .entry(get(row, "table_name")?)
            .or_default()
            .push(column);
    }
    Ok(columns)
}

/// A column default as `pg_get_expr` writes it: a constant is a [`ColumnDefault::Literal`],
/// anything else an [`ColumnDefault::Expression`], and a null constant no default.
///
/// The server doubles backslashes in string literals when the session has
/// `standard_conforming_strings` off (and never writes `E''` strings), so
/// `backslash_escapes` says how to read them.
fn parse_default(expression: &str, backslash_escapes: bool) -> Option<ColumnDefault> {
    match constant(expression, backslash_escapes) {
        Some(Constant::Null) => None,
        Some(Constant::Value(value)) => Some(ColumnDefault::Literal(value)),
        None => Some(ColumnDefault::Expression(expression.to_owned())),
    }
}

enum Constant {
    Null,
    Value(String),
}

/// The value of `expression` when it is a constant, with any casts: `'it''s'::text`,
/// `'-1'::integer` (the server quotes negative numbers), `0.5`, `true`,
/// `NULL::character varying`.
fn constant(expression: &str, backslash_escapes: bool) -> Option<Constant> {
    let (value, casts) = if let Some(quoted) = expression.strip_prefix('\'') {
        unquote(quoted, backslash_escapes)?
    } else {
        let end = expression
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')))
            .unwrap_or(expression.len());
        let (word, casts) = expression.split_at(end);
        match word {
            "NULL" => return only_casts(casts).then_some(Constant::Null),
            "true" | "false" => (word.to_owned(), casts),
            number if is_number(number) => (number.to_owned(), casts),
            _ => return None,
        }
    };
    only_casts(casts).then_some(Constant::Value(value))
}

/// Reads a string literal whose opening quote is already consumed: its value and what
/// follows the closing quote.
fn unquote(quoted: &str, backslash_escapes: bool) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = quoted.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' if chars.peek().map(|&(_, next)| next) == Some('\'') => {
                chars.next();
                value.push('\'');
            }
            '\'' => return Some((value, &quoted[at + 1..])),
            '\\' if backslash_escapes => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

/// An unsigned decimal number as the server writes one: `5`, `0.5`, `1.5e+20`.
fn is_number(text: &str) -> bool {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    all_digits(whole)
        && all_digits(fraction)
        && all_digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent))
}

/// Keywords that join a value to more, without an operator character or a quote
/// (`'t'::boolean AND false`, `'a'::text IS NULL`): no type name holds them as words.
const OPERATOR_KEYWORDS: [&str; 12] = [
    "and", "or", "not", "is", "isnull", "notnull", "in", "between", "like", "ilike", "similar",
    "overlaps",
];

/// Whether `text` is nothing but casts such as `::character varying(20)::text[]`: type
/// names, with no operator, quote or keyword that would make the whole an expression.
fn only_casts(text: &str) -> bool {
    text.split("::").enumerate().all(|(i, type_name)| {
        if i == 0 {
            return type_name.is_empty();
        }
        !type_name.is_empty()
            && type_name.chars().all(|c| {
                c.is_alphanumeric()
                    || matches!(c, '_' | '$' | ' ' | '.' | '"' | '(' | ')' | ',' | '[' | ']')
            })
            && !type_name.split(' ').any(|word| {
                OPERATOR_KEYWORDS
                    .iter()
                    .any(|keyword| word.eq_ignore_ascii_case(keyword))
            })
    })
}

/// Every valid index of every table of `schema`, by table name, each with whether it is
/// the primary key's.
///
/// An index that is not valid (a failed `CREATE INDEX CONCURRENTLY`, or a partitioned
/// table's index that some partition lacks) enforces and serves nothing, so it is left
/// out. Columns an index merely `INCLUDE`s are not parts of its key and are left out too.
async fn read_indexes(
    client: &Client,
    schema: &str,
) -> Result<BTreeMap<String, Vec<(bool, Index)>>> {
    // int2vector columns are 0-based when subscripted: unnesting both together with
    // their ordinality pairs each key column with its options without that pitfall.
    let rows = client
        .query(
            &format!(
                "SELECT c.relname AS table_name, ic.relname AS index_name,
                        i.indisprimary AS is_primary, i.indisunique AS is_unique,
                        am.amname AS access_method, a.attname AS column_name,
                        pg_get_indexdef(i.indexrelid, k.position::int, true) AS definition,
                        (k.option & 1) = 1 AS descending,
                        pg_get_expr(i.indpred, i.indrelid, true) AS predicate
                 FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_class ic ON ic.oid = i.indexrelid
                 JOIN pg_am am ON am.oid = ic.relam
                 CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indoption::int2[])
                     WITH ORDINALITY AS k(attnum, option, position)
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     AND k.attnum > 0
                 WHERE {SYNCED_TABLES} AND i.indisvalid AND k.position <= i.indnkeyatts
                 ORDER BY c.relname, ic.relname, k.position"
            ),
            &[&schema],
        )
        .await
        .map_err(|e| driver_error(&format!("reading the indexes of schema {schema}"), e))?;

    let mut indexes: BTreeMap<String, Vec<(bool, Index)>> = BTreeMap::new();
    for row in &rows {
        let name: String = get(row, "index_name")?;
        // An expression part has no column (attnum 0); the server writes it for us.
        let part = match get::<Option<String>>(row, "column_name")? {
            Some(column) => IndexPart::Column {
                name: column,
                prefix: None,
                descending: get(row, "descending")?,
            },
            None => IndexPart::Expression(get(row, "definition")?),
        };
        let table_indexes = indexes.entry(get(row, "table_name")?).or_default();
        match table_indexes.last_mut() {
            Some((_, index)) if index.name == name => index.parts.push(part),
            _ => table_indexes.push((
                get(row, "is_primary")?,
                Index {
                    unique: get(row, "is_unique")?,
                    kind: index_kind(get(row, "access_method")?),
                    parts: vec![part],
                    predicate: get(row, "predicate")?,
                    name,
                },
            )),
        }
    }
    Ok(indexes)
}

fn index_kind(access_method: &str) -> IndexKind {
    match access_method {
        "btree" => IndexKind::BTree,
        "hash" => IndexKind::Hash,
        other => IndexKind::Other(other.to_owned()),
    }
}

/// Separates the primary key's index, as column names, from the others, which come back
/// sorted by name.
fn split_primary_key(indexes: Vec<(bool, Index)>) -> (Vec<String>, Vec<Index>) {
    let (primary, others): (Vec<_>, Vec<_>) =
        indexes.into_iter().partition(|(is_primary, _)| *is_primary);
    let mut others: Vec<Index> = others.into_iter().map(|(_, index)| index).collect();
    others.sort_by(|a, b| a.name.cmp(&b.name));
    let primary_key = primary
        .into_iter()
        .flat_map(|(_, index)| index.parts)
        .filter_map(|part| match part {
            IndexPart::Column { name, .. } => Some(name),
            IndexPart::Expression(_) => None,
        })
        .collect();
    (primary_key, others)
}

/// A field of a catalog row. The queries choose every type, so a failure here means the
/// server answered something unexpected.
fn get<'a, T: FromSql<'a>>(row: &'a Row, column: &str) -> Result<T> {
    row.try_get(column).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!("reading {column} from pg_catalog"),
        )
        .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(value: &str) -> Option<ColumnDefault> {
        Some(ColumnDefault::Literal(value.into()))
    }

    fn expression(text: &str) -> Option<ColumnDefault> {
        Some(ColumnDefault::Expression(text.into()))
    }

    #[test]
    fn constants_are_literals_whatever_their_casts() {
        assert_eq!(
            parse_default("'abc'::character varying", false),
            literal("abc")
        );
        assert_eq!(parse_default("'it''s'::text", false), literal("it's"));
        assert_eq!(parse_default("''::text", false), literal(""));
        assert_eq!(parse_default("'-1'::integer", false), literal("-1"));
        assert_eq!(parse_default("0", false), literal("0"));
        assert_eq!(parse_default("0.5", false), literal("0.5"));
        assert_eq!(parse_default("1.5e+20", false), literal("1.5e+20"));
        assert_eq!(parse_default("true", false), literal("true"));
        assert_eq!(
            parse_default("'2024-02-29'::date", false),
            literal("2024-02-29")
        );
        assert_eq!(
            parse_default(
                "'2024-02-29 10:00:00'::timestamp(3) without time zone",
                false
            ),
            literal("2024-02-29 10:00:00")
        );
        assert_eq!(parse_default("'{1,2}'::integer[]", false), literal("{1,2}"));
        assert_eq!(parse_default("'x'::text::\"My Type\"", false), literal("x"));
        assert_eq!(parse_default("'x'::sales.mood", false), literal("x"));
        assert_eq!(parse_default("'a::b'::text", false), literal("a::b"));
        assert_eq!(parse_default(r"'a\b'::text", false), literal(r"a\b"));
        assert_eq!(parse_default(r"'a\\b'::text", true), literal(r"a\b"));
        assert_eq!(parse_default("NULL::character varying", false), None);
    }

    #[test]
    fn anything_computed_is_an_expression() {
        for text in [
            "now()",
            "CURRENT_DATE",
            "gen_random_uuid()",
            "'a'::text || 'b'::text",
            "'1'::integer + 1",
            "'a'::text IS NULL",
            "'t'::boolean AND false",
            "'a'::text NOT LIKE 'b'::text",
            "1 + 2",
            "- 1",
            "(1)",
            "1-2",
            "ARRAY[1, 2]",
            "'unterminated",
            "NULL::text IS NULL",
        ] {
            assert_eq!(parse_default(text, false), expression(text), "{text}");
        }
    }
}
