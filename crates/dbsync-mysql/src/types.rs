//! MySQL/MariaDB column types in terms of [`DataType`].

use dbsync_core::{DataType, DecimalSize, GeometryKind, IntWidth};

/// What `information_schema.COLUMNS` says about a column's type.
#[derive(Debug, Clone, Default)]
pub struct NativeType<'a> {
    /// `DATA_TYPE`: the bare type name, such as `smallint` or `enum`.
    pub data_type: &'a str,
    /// `COLUMN_TYPE`: the full declaration, such as `smallint(5) unsigned` or
    /// `enum('G','PG')`.
    pub column_type: &'a str,
    /// `CHARACTER_MAXIMUM_LENGTH`: characters for text, bytes for binary.
    pub max_length: Option<u64>,
    pub numeric_precision: Option<u64>,
    pub numeric_scale: Option<u64>,
    pub datetime_precision: Option<u64>,
    /// MariaDB's `JSON` is `LONGTEXT` with a `json_valid` check; the caller knows.
    pub json_checked: bool,
}

const TINY_MAX: u64 = (1 << 8) - 1;
const REGULAR_MAX: u64 = (1 << 16) - 1;
const MEDIUM_MAX: u64 = (1 << 24) - 1;
const LONG_MAX: u64 = (1 << 32) - 1;

/// The engine-neutral type of a column, or [`DataType::Unsupported`] naming its
/// declaration.
pub fn data_type(native: &NativeType<'_>) -> DataType {
    let name = native.data_type.to_ascii_lowercase();
    let unsigned = native.column_type.to_ascii_lowercase().contains("unsigned");
    let length = || {
        native
            .max_length
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .unwrap_or(0)
    };
    let precision = || native.datetime_precision.map_or(0, |p| p.min(6) as u8);
    let int = |width| DataType::Int { width, unsigned };
    match name.as_str() {
        "tinyint" => int(IntWidth::I8),
        "smallint" => int(IntWidth::I16),
        "mediumint" => int(IntWidth::I24),
        "int" | "integer" => int(IntWidth::I32),
        "bigint" => int(IntWidth::I64),
        "float" => DataType::Float,
        "double" | "real" | "double precision" => DataType::Double,
        "decimal" | "numeric" | "dec" | "fixed" => DataType::Decimal {
            size: Some(DecimalSize {
                precision: native.numeric_precision.unwrap_or(10) as u32,
                scale: native.numeric_scale.unwrap_or(0) as u32,
            }),
        },
        "char" => DataType::Char { length: length() },
        "varchar" => DataType::VarChar {
            length: Some(length()),
        },
        "longtext" if native.json_checked => DataType::Json,
        "tinytext" => DataType::Text {
            max_bytes: Some(TINY_MAX),
        },
        "text" => DataType::Text {
            max_bytes: Some(REGULAR_MAX),
        },
        "mediumtext" => DataType::Text {
            max_bytes: Some(MEDIUM_MAX),
        },
        "longtext" => DataType::Text {
            max_bytes: Some(LONG_MAX),
        },
        "binary" => DataType::Binary { length: length() },
        "varbinary" => DataType::VarBinary { length: length() },
        "tinyblob" => DataType::Blob {
            max_bytes: Some(TINY_MAX),
        },
        "blob" => DataType::Blob {
            max_bytes: Some(REGULAR_MAX),
        },
        "mediumblob" => DataType::Blob {
            max_bytes: Some(MEDIUM_MAX),
        },
        "longblob" => DataType::Blob {
            max_bytes: Some(LONG_MAX),
        },
        "date" => DataType::Date,
        "time" => DataType::Time {
            precision: precision(),
        },
        "datetime" => DataType::DateTime {
            precision: precision(),
        },
        "timestamp" => DataType::Timestamp {
            precision: precision(),
        },
        "year" => DataType::Year,
        "json" => DataType::Json,
        "enum" => DataType::Enum {
            labels: labels(native.column_type),
        },
        "set" => DataType::Set {
            labels: labels(native.column_type),
        },
        "bit" => DataType::Bit {
            length: native.numeric_precision.unwrap_or(1) as u32,
        },
        "uuid" => DataType::Uuid,
        other => match GeometryKind::from_name(other) {
            Some(kind) => DataType::Geometry { kind, srid: None },
            None => DataType::Unsupported {
                native: native.column_type.to_owned(),
            },
        },
    }
}

/// The labels of `enum('a','b''c')` or `set(...)`, unquoted: `['a', "b'c"]`.
///
/// MySQL writes a quote inside a label as two quotes, and a label may hold commas and
/// parentheses, so this reads quoted strings rather than splitting on commas.
fn labels(column_type: &str) -> Vec<String> {
    let Some(open) = column_type.find('(') else {
        return Vec::new();
    };
    let mut labels = Vec::new();
    let mut chars = column_type[open + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue; // a separating comma, or the closing parenthesis
        }
        let mut label = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                '\'' => break,
                c => label.push(c),
            }
        }
        labels.push(label);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_labels_may_hold_quotes_commas_and_parentheses() {
        assert_eq!(
            labels("enum('G','PG-13','it''s','a,b','(x)','')"),
            ["G", "PG-13", "it's", "a,b", "(x)", ""]
        );
        assert_eq!(
            labels("set('Trailers','Deleted Scenes')"),
            ["Trailers", "Deleted Scenes"]
        );
    }

    #[test]
    fn unknown_types_are_kept_by_their_declaration() {
        let native = NativeType {
            data_type: "inet6",
            column_type: "inet6",
            ..Default::default()
        };
        assert_eq!(
            data_type(&native),
            DataType::Unsupported {
                native: "inet6".into()
            }
        );
    }
}
