//! The audit log's `record_id`: a row's key as the triggers write it, and the SQL that
//! turns it back into the key's values.
//!
//! A `record_id` is a JSON array with one string per key column, such as
//! `["42","2006-02-15 04:34:33"]`: JSON because it holds any number of columns and
//! escapes any text, strings because a JSON number goes through a double in some
//! readers and would round a BIGINT UNSIGNED or a DECIMAL(65,30). Each string is the
//! value in a text form that its type turns back into the same value:
//!
//! | key type | text in the array | read back with |
//! |---|---|---|
//! | integers, YEAR | decimal digits | `CAST(.. AS SIGNED/UNSIGNED)` |
//! | DECIMAL(p,s) | its digits, s decimals | `CAST(.. AS DECIMAL(p,s))` |
//! | DATE, DATETIME, TIME | MySQL's own text | `CAST(.. AS DATE/DATETIME(6)/TIME(6))` |
//! | TIMESTAMP | seconds since the epoch, with fraction | `FROM_UNIXTIME(..)` |
//! | character types, ENUM, SET, UUID | the text in utf8mb4 | the column's charset and collation |
//! | BINARY, VARBINARY, BLOB | hexadecimal | `UNHEX(..)` |
//! | BIT(n) | the number | `CAST(.. AS UNSIGNED)` |
//!
//! A TIMESTAMP goes through the epoch because its text depends on the time zone of the
//! session that wrote the row, which the trigger inherits. FLOAT and DOUBLE keys are
//! refused: no text form round-trips them on every server version.

use dbsync_core::{Column, DataType, Error, ErrorKind, Result, TableSchema};

use crate::sql::quote;

/// How one key column's value is written into a `record_id` and read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyForm {
    Signed,
    Unsigned,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Date,
    DateTime,
    Time,
    Timestamp,
    /// Character data compared in the column's collation, when it has one.
    Text {
        collation: Option<(String, String)>,
    },
    Binary,
    /// BIT(n), whose value the driver reads as `bytes` big-endian bytes.
    Bit {
        bytes: u32,
    },
}

impl KeyForm {
    /// The form of key column `column`; an error names a column no form fits.
    pub(crate) fn of(column: &Column) -> Result<KeyForm> {
        let refuse = |why: &str| {
            Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "key column `{}` ({}) {why}, so triggers cannot record its rows' keys exactly; declare another `primary_key` for the table or capture it by binlog",
                    column.name, column.native_type
                ),
            ))
        };
        if column.nullable {
            return refuse("may be NULL");
        }
        Ok(match &column.data_type {
            DataType::Int {
                unsigned: false, ..
            } => KeyForm::Signed,
            DataType::Int { unsigned: true, .. } | DataType::Year => KeyForm::Unsigned,
            DataType::Decimal { size: Some(size) } => KeyForm::Decimal {
                precision: size.precision,
                scale: size.scale,
            },
            DataType::Date => KeyForm::Date,
            DataType::DateTime { .. } => KeyForm::DateTime,
            DataType::Time { .. } => KeyForm::Time,
            DataType::Timestamp { .. } => KeyForm::Timestamp,
            DataType::Char { .. }
            | DataType::VarChar { .. }
            | DataType::Text { .. }
            | DataType::Enum { .. }
            | DataType::Set { .. }
            | DataType::Uuid => KeyForm::Text {
                collation: column
                    .collation
                    .as_ref()
                    .and_then(|c| Some((c.charset.clone()?, c.name.clone()))),
            },
            DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. } => {
                KeyForm::Binary
            }
            DataType::Bit { length } => KeyForm::Bit {
                bytes: length.div_ceil(8),
            },
            DataType::Float | DataType::Double => return refuse("is a floating-point number"),
            _ => return refuse("has a type no key form covers"),
        })
    }

    /// The SQL text of `value` (an expression such as `NEW.id`) in the array.
    fn encode(&self, value: &str) -> String {
        match self {
            KeyForm::Text { .. } => format!("CONVERT({value} USING utf8mb4)"),
            KeyForm::Binary => format!("HEX({value})"),
            KeyForm::Timestamp => format!("CAST(UNIX_TIMESTAMP({value}) AS CHAR)"),
            // `+ 0` reads a BIT as its number.
            KeyForm::Bit { .. } => format!("CAST({value} + 0 AS CHAR)"),
            _ => format!("CAST({value} AS CHAR)"),
        }
    }

    /// The value of `text` (the array's string) as a value of the column's type, to
    /// compare with the column.
    fn lookup(&self, text: &str) -> String {
        match self {
            KeyForm::Signed => format!("CAST({text} AS SIGNED)"),
            KeyForm::Unsigned | KeyForm::Bit { .. } => format!("CAST({text} AS UNSIGNED)"),
            KeyForm::Decimal { precision, scale } => {
                format!("CAST({text} AS DECIMAL({precision},{scale}))")
            }
            KeyForm::Date => format!("CAST({text} AS DATE)"),
            KeyForm::DateTime => format!("CAST({text} AS DATETIME(6))"),
            KeyForm::Time => format!("CAST({text} AS TIME(6))"),
            KeyForm::Timestamp => format!("FROM_UNIXTIME(CAST({text} AS DECIMAL(20,6)))"),
            KeyForm::Text {
                collation: Some((charset, collation)),
            } => format!("CONVERT({text} USING {charset}) COLLATE {collation}"),
            KeyForm::Text { collation: None } => text.to_owned(),
            KeyForm::Binary => format!("UNHEX({text})"),
        }
    }

    /// The value of `text` as the driver sends the column's own values, so that the
    /// snapshot's decoder reads it: the same as [`KeyForm::lookup`] but for BIT, which
    /// the driver sends as bytes.
    fn decode(&self, text: &str) -> String {
        match self {
            KeyForm::Bit { bytes } => format!(
                "UNHEX(LPAD(HEX({}), {}, '0'))",
                self.lookup(text),
                bytes * 2
            ),
            _ => self.lookup(text),
        }
    }
}

/// The key columns of a table with their forms.
#[derive(Debug, Clone)]
pub(crate) struct RecordId {
    columns: Vec<(String, KeyForm)>,
}

impl RecordId {
    /// The `record_id` of `table`'s rows, keyed by its `primary_key` (a declared key
    /// already applied), and the positions of the key columns in a row.
    pub(crate) fn of(table: &TableSchema) -> Result<(RecordId, Vec<usize>)> {
        let error = |message: String| {
            Err(Error::new(ErrorKind::Config, message).with_table(table.name.clone()))
        };
        if table.primary_key.is_empty() {
            return error(
                "has no primary key, so triggers cannot say which row changed; add one or declare `primary_key` for the table in the pair's `tables`".to_owned(),
            );
        }
        let mut columns = Vec::with_capacity(table.primary_key.len());
        let mut positions = Vec::with_capacity(table.primary_key.len());
        for name in &table.primary_key {
            let Some(position) = table.columns.iter().position(|c| &c.name == name) else {
                return error(format!("has no column `{name}` to use as its key"));
            };
            let form = KeyForm::of(&table.columns[position])
                .map_err(|e| e.with_table(table.name.clone()))?;
            columns.push((name.clone(), form));
            positions.push(position);
        }
        Ok((RecordId { columns }, positions))
    }

    /// The SQL that builds the `record_id` of row image `image` (`NEW` or `OLD`).
    pub(crate) fn encode(&self, image: &str) -> String {
        let values: Vec<String> = self
            .columns
            .iter()
            .map(|(name, form)| form.encode(&format!("{image}.{}", quote(name))))
            .collect();
        format!("JSON_ARRAY({})", values.join(", "))
    }

    /// For each key column, the SQL that reads its value out of `record_id` (an
    /// expression) typed as the column's own values.
    pub(crate) fn decode(&self, record_id: &str) -> Vec<String> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, (_, form))| form.decode(&element(record_id, i)))
            .collect()
    }

    /// The condition that a row of `table` (an alias) has the key in `record_id`.
    pub(crate) fn matches(&self, table: &str, record_id: &str) -> String {
        let terms: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (name, form))| {
                format!(
                    "{table}.{} = {}",
                    quote(name),
                    form.lookup(&element(record_id, i))
                )
            })
            .collect();
        terms.join(" AND ")
    }
}

/// The `i`-th string of a `record_id`, unescaped. `JSON_UNQUOTE(JSON_EXTRACT())` rather
/// than `JSON_VALUE`, which MySQL cuts at 512 characters.
fn element(record_id: &str, i: usize) -> String {
    format!("JSON_UNQUOTE(JSON_EXTRACT({record_id}, '$[{i}]'))")
}

#[cfg(test)]
mod tests {
    use dbsync_core::{Collation, DecimalSize, IntWidth, TableName};

    use super::*;

    fn column(name: &str, data_type: DataType) -> Column {
        Column {
            name: name.to_owned(),
            data_type,
            native_type: "t".to_owned(),
            nullable: false,
            default: None,
            generated: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        }
    }

    fn record_id(key: Vec<Column>) -> Result<(RecordId, Vec<usize>)> {
        let mut columns = vec![column("payload", DataType::Json)];
        let primary_key = key.iter().map(|c| c.name.clone()).collect();
        columns.extend(key);
        RecordId::of(&TableSchema {
            name: TableName::new("shop", "t"),
            columns,
            primary_key,
            indexes: Vec::new(),
        })
    }

    #[test]
    fn a_composite_key_encodes_and_matches_column_by_column() {
        let id = column(
            "id",
            DataType::Int {
                width: IntWidth::I64,
                unsigned: true,
            },
        );
        let mut code = column("code", DataType::VarChar { length: Some(10) });
        code.collation = Some(Collation {
            charset: Some("latin1".to_owned()),
            name: "latin1_swedish_ci".to_owned(),
        });
        let (record_id, positions) = record_id(vec![id, code]).unwrap();
        assert_eq!(positions, [1, 2]);
        assert_eq!(
            record_id.encode("NEW"),
            "JSON_ARRAY(CAST(NEW.`id` AS CHAR), CONVERT(NEW.`code` USING utf8mb4))"
        );
        assert_eq!(
            record_id.matches("t", "a.r"),
            "t.`id` = CAST(JSON_UNQUOTE(JSON_EXTRACT(a.r, '$[0]')) AS UNSIGNED) AND \
             t.`code` = CONVERT(JSON_UNQUOTE(JSON_EXTRACT(a.r, '$[1]')) USING latin1) COLLATE latin1_swedish_ci"
        );
    }

    #[test]
    fn decimals_keep_their_scale_and_bits_their_bytes() {
        let amount = column(
            "amount",
            DataType::Decimal {
                size: Some(DecimalSize {
                    precision: 65,
                    scale: 30,
                }),
            },
        );
        let flags = column("flags", DataType::Bit { length: 12 });
        let (record_id, _) = record_id(vec![amount, flags]).unwrap();
        assert_eq!(
            record_id.decode("r"),
            [
                "CAST(JSON_UNQUOTE(JSON_EXTRACT(r, '$[0]')) AS DECIMAL(65,30))",
                "UNHEX(LPAD(HEX(CAST(JSON_UNQUOTE(JSON_EXTRACT(r, '$[1]')) AS UNSIGNED)), 4, '0'))"
            ]
        );
    }

    #[test]
    fn floating_point_nullable_and_missing_keys_are_refused() {
        let error = record_id(vec![column("x", DataType::Double)]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert!(
            error
                .to_string()
                .starts_with("table shop.t: key column `x`"),
            "{error}"
        );
        assert!(error.to_string().contains("floating-point"), "{error}");
        let mut nullable = column(
            "n",
            DataType::Int {
                width: IntWidth::I32,
                unsigned: false,
            },
        );
        nullable.nullable = true;
        assert!(record_id(vec![nullable]).is_err());
        let error = record_id(vec![]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
    }
}
