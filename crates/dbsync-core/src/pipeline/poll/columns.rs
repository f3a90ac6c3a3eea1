use std::time::Duration;

use crate::data_type::DataType;
use crate::error::{Error, ErrorKind, Result};
use crate::table_schema::{Column, TableSchema};

/// The column `timestamp_column` names unless set.
pub const DEFAULT_TIMESTAMP_COLUMN: &str = "updated_at";
/// The column `id_column` names unless set.
pub const DEFAULT_ID_COLUMN: &str = "id";

/// What a table's poll follows: the columns of its cursor tuple, in the order the poll
/// reads rows.
///
/// The tuple is a column that grows with each write (a timestamp set on insert and
/// update, or an increasing id set on insert) followed by the primary-key columns it
/// does not already hold, so that it is unique: rows sharing one timestamp are told
/// apart, and a poll that stops in the middle of them resumes in the middle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollColumns {
    by: PollBy,
    tuple: Vec<String>,
    /// How far apart two distinct values of the leading column can be: a new row may
    /// get a value up to this much below the clock.
    precision: Duration,
}

/// What the leading column of a cursor tuple is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollBy {
    /// A date or time set on insert and on update: inserts and updates are seen.
    Timestamp,
    /// An increasing id set on insert: inserts only are seen.
    Id,
}

impl PollColumns {
    /// The cursor of `table`, from the `timestamp` and `id` columns the configuration
    /// names explicitly (`None`: not set).
    ///
    /// A named column the table lacks is an error. Unset, the timestamp column is
    /// `updated_at` when the table has one, else the poll goes by the id column `id`
    /// when the table has that; a table with neither is an error that says how to name
    /// one. With both named, the id breaks ties between equal timestamps before the
    /// primary key does.
    pub fn choose(table: &TableSchema, timestamp: Option<&str>, id: Option<&str>) -> Result<Self> {
        let named = |name: &str, option: &str| {
            table.column(name).ok_or_else(|| {
                config(
                    table,
                    format!(
                        "has no column `{name}`, which its `{option}` names; name one of its columns or add the column"
                    ),
                )
            })
        };
        let (by, lead, second) = match (timestamp, id) {
            (Some(timestamp), id) => {
                let second = id.map(|id| named(id, "id_column")).transpose()?;
                (
                    PollBy::Timestamp,
                    named(timestamp, "timestamp_column")?,
                    second,
                )
            }
            (None, Some(id)) => (PollBy::Id, named(id, "id_column")?, None),
            (None, None) => match (
                table.column(DEFAULT_TIMESTAMP_COLUMN),
                table.column(DEFAULT_ID_COLUMN),
            ) {
                (Some(timestamp), _) => (PollBy::Timestamp, timestamp, None),
                (None, Some(id)) => (PollBy::Id, id, None),
                (None, None) => {
                    return Err(config(
                        table,
                        format!(
                            "has neither an `{DEFAULT_TIMESTAMP_COLUMN}` nor an `{DEFAULT_ID_COLUMN}` column to poll by; set `timestamp_column` or `id_column` for it in the pair's `tables`"
                        ),
                    ));
                }
            },
        };
        let precision = match by {
            PollBy::Timestamp => timestamp_precision(lead).ok_or_else(|| {
                config(
                    table,
                    format!(
                        "cannot be polled by `{}`, a {} column: the timestamp column must be a date or a date and time",
                        lead.name, lead.data_type
                    ),
                )
            })?,
            PollBy::Id if matches!(lead.data_type, DataType::Int { .. }) => Duration::ZERO,
            PollBy::Id => {
                return Err(config(
                    table,
                    format!(
                        "cannot be polled by `{}`, a {} column: the id column must be an integer",
                        lead.name, lead.data_type
                    ),
                ));
            }
        };
        let mut tuple = vec![lead.name.clone()];
        tuple.extend(second.map(|column| column.name.clone()));
        if by == PollBy::Timestamp && table.primary_key.is_empty() {
            return Err(config(
                table,
                "has no primary key to tell rows with the same timestamp apart; add one or declare `primary_key` for it in the pair's `tables`",
            ));
        }
        for key in &table.primary_key {
            if !tuple.contains(key) {
                tuple.push(key.clone());
            }
        }
        for name in &tuple {
            let column = named(name, "primary_key")?;
            if !orders_as_cursor(&column.data_type) {
                return Err(config(
                    table,
                    format!(
                        "cannot be polled: its column `{name}` is a {}, which does not order rows exactly; poll it by other columns or use another capture",
                        column.data_type
                    ),
                ));
            }
        }
        Ok(PollColumns {
            by,
            tuple,
            precision,
        })
    }

    pub fn by(&self) -> PollBy {
        self.by
    }

    /// The names of the cursor tuple's columns, the growing column first.
    pub fn tuple(&self) -> &[String] {
        &self.tuple
    }

    /// The cursor columns of `table`, in tuple order; an error naming the first one
    /// `table` lacks (it is not the table they were chosen from).
    pub fn columns_of<'t>(&self, table: &'t TableSchema) -> Result<Vec<&'t Column>> {
        self.tuple
            .iter()
            .map(|name| {
                table
                    .column(name)
                    .ok_or_else(|| config(table, format!("has no column `{name}` to poll by")))
            })
            .collect()
    }

    /// The column that grows with each write.
    pub fn leading(&self) -> &str {
        &self.tuple[0]
    }

    /// The smallest step of the leading column's values: a timestamp's fractional
    /// second, or a day for a date.
    pub fn precision(&self) -> Duration {
        self.precision
    }
}

fn config(table: &TableSchema, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message).with_table(table.name.clone())
}

/// The smallest step of a date or time column, `None` for other types.
fn timestamp_precision(column: &Column) -> Option<Duration> {
    let fraction = |digits: u8| Duration::from_nanos(10u64.pow(9 - u32::from(digits.min(9))));
    match column.data_type {
        DataType::Date => Some(Duration::from_secs(24 * 60 * 60)),
        DataType::DateTime { precision } | DataType::Timestamp { precision } => {
            Some(fraction(precision))
        }
        _ => None,
    }
}

/// Whether the values of a column order the same in the database and in
/// [`crate::Value::partial_cmp_cursor`]: integers, temporal values, and strings and
/// binary strings by their bytes (the engines compare these in a binary collation).
fn orders_as_cursor(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int { .. }
            | DataType::Char { .. }
            | DataType::VarChar { .. }
            | DataType::Text { .. }
            | DataType::Binary { .. }
            | DataType::VarBinary { .. }
            | DataType::Blob { .. }
            | DataType::Date
            | DataType::Time { .. }
            | DataType::DateTime { .. }
            | DataType::Timestamp { .. }
            | DataType::Year
            | DataType::Uuid
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_schema::fixture::int_table;

    #[test]
    fn a_named_column_the_table_lacks_is_one_sentence() {
        let table = int_table("orders", &["order_id", "total"]);
        let error = PollColumns::choose(&table, Some("modified_at"), None).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        assert_eq!(
            error.to_string(),
            "table shop.orders: has no column `modified_at`, which its `timestamp_column` names; name one of its columns or add the column"
        );
        let error = PollColumns::choose(&table, None, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "table shop.orders: has neither an `updated_at` nor an `id` column to poll by; set `timestamp_column` or `id_column` for it in the pair's `tables`"
        );
    }

    #[test]
    fn an_id_alone_is_the_cursor_when_it_is_the_key() {
        let table = int_table("orders", &["id", "total"]);
        let columns = PollColumns::choose(&table, None, None).unwrap();
        assert_eq!(
            (columns.by(), columns.tuple()),
            (PollBy::Id, &["id".to_owned()][..])
        );
        let by_total = PollColumns::choose(&table, None, Some("total")).unwrap();
        assert_eq!(by_total.tuple(), ["total", "id"]);
        let error = PollColumns::choose(&table, Some("total"), None).unwrap_err();
        assert!(error.to_string().contains("must be a date"), "{error}");
    }
}
