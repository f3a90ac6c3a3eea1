//! The MySQL/MariaDB column type that holds each source column exactly
//! (docs/type-mapping.md, "MySQL/MariaDB targets").
//!
//! A MySQL or MariaDB source column gets its very own type back: signedness, lengths,
//! fractional seconds, labels, character set and collation. Other engines' types get
//! the MySQL type that holds all their values, or a refusal naming the column.

use std::fmt;

use dbsync_core::{
    Collation, Column, ColumnDefault, DataType, DecimalSize, Error, ErrorKind, GeometryKind,
    IntWidth, Result, Value,
};

use crate::flavor::Flavor;
use crate::sql::literal;

/// A MySQL column type that dbsync creates and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MysqlType {
    Int {
        width: IntWidth,
        unsigned: bool,
        /// The display width a MySQL source declares, such as the 1 of `tinyint(1)`,
        /// which clients read as a boolean.
        display_width: Option<u32>,
        zerofill: bool,
    },
    Float,
    Double,
    Decimal(DecimalSize),
    Char(u32),
    VarChar(u32),
    Text(LobSize),
    Binary(u32),
    VarBinary(u32),
    Blob(LobSize),
    Date,
    /// The fractional-second digits of each temporal type.
    Time(u8),
    DateTime(u8),
    Timestamp(u8),
    Year,
    Json,
    Enum(Vec<String>),
    Set(Vec<String>),
    Bit(u32),
    Geometry(GeometryKind),
    /// MariaDB's `UUID` (10.7 and later).
    Uuid,
}

/// The four sizes of MySQL's `TEXT` and `BLOB` types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LobSize {
    Tiny,
    Regular,
    Medium,
    Long,
}

impl LobSize {
    /// The smallest size that holds `max_bytes` (unbounded: the largest).
    fn holding(max_bytes: Option<u64>) -> LobSize {
        match max_bytes {
            Some(n) if n < 1 << 8 => LobSize::Tiny,
            Some(n) if n < 1 << 16 => LobSize::Regular,
            Some(n) if n < 1 << 24 => LobSize::Medium,
            _ => LobSize::Long,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            LobSize::Tiny => "tiny",
            LobSize::Regular => "",
            LobSize::Medium => "medium",
            LobSize::Long => "long",
        }
    }
}

/// The longest `VARCHAR` in utf8mb4 that InnoDB indexes whole (3072 bytes), for an
/// unbounded text column of a key.
const KEY_CHARS: u32 = 768;
/// The same in bytes, for an unbounded binary column of a key.
const KEY_BYTES: u32 = 3072;
/// The longest `VARCHAR` in utf8mb4 (65535 bytes in a row).
const VARCHAR_CHARS: u32 = 16_383;
/// MySQL's widest `DECIMAL`.
const WIDEST_DECIMAL: DecimalSize = DecimalSize {
    precision: 65,
    scale: 30,
};

impl MysqlType {
    /// The type for `column` on a `flavor` server; `keyed` when the column is part of
    /// the primary key, which MySQL cannot build over an unbounded `TEXT` or `BLOB`.
    pub fn for_column(column: &Column, flavor: Flavor, keyed: bool) -> Result<MysqlType> {
        let refuse = |why: String| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "column `{}` is {}, {why}; exclude the table",
                    column.name, column.native_type
                ),
            )
        };
        // A MySQL source names the column's character set; another engine's text is
        // stored in utf8mb4, where a VARCHAR has at most 16383 characters.
        let own_charset = column
            .collation
            .as_ref()
            .is_some_and(|c| c.charset.is_some());
        let text = |length: u32| {
            if own_charset || length <= VARCHAR_CHARS {
                MysqlType::VarChar(length)
            } else {
                MysqlType::Text(LobSize::holding(Some(u64::from(length) * 4)))
            }
        };
        Ok(match &column.data_type {
            DataType::Bool => MysqlType::Int {
                width: IntWidth::I8,
                unsigned: false,
                display_width: Some(1),
                zerofill: false,
            },
            DataType::Int { width, unsigned } => {
                let (display_width, zerofill) = display_of(&column.native_type, *width);
                MysqlType::Int {
                    width: *width,
                    unsigned: *unsigned,
                    display_width,
                    zerofill,
                }
            }
            DataType::Float => MysqlType::Float,
            DataType::Double => MysqlType::Double,
            // PostgreSQL's unconstrained numeric: the widest DECIMAL, and each value is
            // checked to fit ([`MysqlType::check`]) since the server would round it.
            DataType::Decimal { size: None } => MysqlType::Decimal(WIDEST_DECIMAL),
            DataType::Decimal { size: Some(size) } => {
                if size.precision > WIDEST_DECIMAL.precision
                    || size.scale > WIDEST_DECIMAL.scale
                    || size.scale > size.precision
                {
                    return Err(refuse(
                        "which is wider than MySQL's widest DECIMAL(65,30)".into(),
                    ));
                }
                MysqlType::Decimal(*size)
            }
            DataType::Char { length } if *length <= 255 => MysqlType::Char(*length),
            // PostgreSQL's char(n) beyond 255: its values keep their padding in a
            // VARCHAR.
            DataType::Char { length } => text(*length),
            // A key over unbounded text takes the longest VARCHAR InnoDB indexes whole;
            // a longer value is refused by the server, not cut.
            DataType::VarChar { length: None } | DataType::Text { .. } if keyed => {
                MysqlType::VarChar(KEY_CHARS)
            }
            DataType::VarChar {
                length: Some(length),
            } if keyed && !own_charset => MysqlType::VarChar((*length).min(KEY_CHARS)),
            DataType::VarChar {
                length: Some(length),
            } => text(*length),
            DataType::VarChar { length: None } => MysqlType::Text(LobSize::Long),
            DataType::Text { max_bytes } => MysqlType::Text(LobSize::holding(*max_bytes)),
            DataType::Binary { length } => MysqlType::Binary(*length),
            DataType::VarBinary { length } => MysqlType::VarBinary(*length),
            DataType::Blob { .. } if keyed => MysqlType::VarBinary(KEY_BYTES),
            DataType::Blob { max_bytes } => MysqlType::Blob(LobSize::holding(*max_bytes)),
            DataType::Date => MysqlType::Date,
            DataType::Time { precision } => MysqlType::Time(*precision),
            DataType::DateTime { precision } => MysqlType::DateTime(*precision),
            // PostgreSQL's timestamptz too: values outside TIMESTAMP's range (1970 to
            // 2038) are refused by the server, not changed.
            DataType::Timestamp { precision } => MysqlType::Timestamp(*precision),
            DataType::Year => MysqlType::Year,
            DataType::Json => MysqlType::Json,
            DataType::Enum { labels } => {
                // MySQL drops a label's trailing spaces, which would leave values
                // without their label.
                if let Some(label) = labels.iter().find(|l| l.ends_with(' ')) {
                    return Err(refuse(format!(
                        "whose label '{label}' ends in a space, which a MySQL ENUM drops"
                    )));
                }
                MysqlType::Enum(labels.clone())
            }
            DataType::Set { labels } => MysqlType::Set(labels.clone()),
            DataType::Bit { length } if *length <= 64 => MysqlType::Bit(*length),
            DataType::Bit { .. } => {
                return Err(refuse("longer than MySQL's longest BIT(64)".into()));
            }
            DataType::Geometry { kind, .. } => MysqlType::Geometry(*kind),
            DataType::Uuid => match flavor {
                Flavor::MariaDb => MysqlType::Uuid,
                // Its canonical text, which is how the value is written.
                Flavor::Mysql => MysqlType::Char(36),
            },
            DataType::Unsupported { native } => return Err(column.unsupported(native)),
        })
    }

    /// The character set and collation of `column` with this type: the source's own
    /// when it names a character set, otherwise utf8mb4 compared byte by byte with no
    /// padding, so that keys another engine tells apart (`a`, `A`, `a `) stay apart.
    pub fn collation(&self, column: &Column, flavor: Flavor) -> Option<Collation> {
        let exact = |charset: &str, name: &str| {
            Some(Collation {
                charset: Some(charset.to_owned()),
                name: name.to_owned(),
            })
        };
        if column.data_type == DataType::Uuid {
            return match self {
                MysqlType::Char(_) => exact("ascii", "ascii_bin"),
                _ => None,
            };
        }
        if !matches!(
            self,
            MysqlType::Char(_)
                | MysqlType::VarChar(_)
                | MysqlType::Text(_)
                | MysqlType::Enum(_)
                | MysqlType::Set(_)
        ) {
            return None;
        }
        match &column.collation {
            Some(collation) if collation.charset.is_some() => Some(collation.clone()),
            _ => match flavor {
                Flavor::MariaDb => exact("utf8mb4", "utf8mb4_nopad_bin"),
                Flavor::Mysql => exact("utf8mb4", "utf8mb4_0900_bin"),
            },
        }
    }

    /// Whether the type is `TEXT` or `BLOB`, which an index covers by a prefix only, or
    /// `JSON`, which no index covers.
    pub fn is_lob(&self) -> bool {
        matches!(
            self,
            MysqlType::Text(_) | MysqlType::Blob(_) | MysqlType::Json
        )
    }

    /// `column`'s default as SQL for this type, where it is safe to carry: constants
    /// that mean the same here, and the current time of temporal columns. Others are
    /// left out: dbsync writes every column, so a default only serves other writers.
    pub fn default_sql(&self, column: &Column, flavor: Flavor) -> Option<String> {
        match (&column.default, self) {
            (
                Some(ColumnDefault::Literal(text) | ColumnDefault::Expression(text)),
                MysqlType::Bit(_),
            ) if is_bit_literal(text) => Some(text.clone()),
            (Some(ColumnDefault::Literal(text)), _) => self.literal_default(text, flavor),
            (Some(ColumnDefault::Expression(expression)), _) => self.current_time(expression),
            (None, _) => None,
        }
    }

    /// `column`'s `ON UPDATE`, when it is the current time.
    pub fn on_update_sql(&self, column: &Column) -> Option<String> {
        column
            .on_update
            .as_deref()
            .and_then(|expression| self.current_time(expression))
    }

    fn literal_default(&self, text: &str, flavor: Flavor) -> Option<String> {
        let numeric = || {
            let digits = text.strip_prefix('-').unwrap_or(text);
            !digits.is_empty()
                && digits
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        };
        // Dates and times without a zone suffix, which MySQL would not take.
        let temporal = || {
            text.bytes()
                .all(|b| b.is_ascii_digit() || b" -:.".contains(&b))
        };
        let keep = match self {
            MysqlType::Int {
                display_width: Some(1),
                ..
            } => text == "0" || text == "1",
            MysqlType::Int { .. }
            | MysqlType::Float
            | MysqlType::Double
            | MysqlType::Decimal(_)
            | MysqlType::Year => numeric(),
            MysqlType::Date
            | MysqlType::Time(_)
            | MysqlType::DateTime(_)
            | MysqlType::Timestamp(_) => temporal(),
            MysqlType::Char(_)
            | MysqlType::VarChar(_)
            | MysqlType::Binary(_)
            | MysqlType::VarBinary(_)
            | MysqlType::Enum(_)
            | MysqlType::Set(_)
            | MysqlType::Uuid => true,
            // MySQL takes a TEXT or BLOB default only as an expression.
            MysqlType::Text(_) | MysqlType::Blob(_) => {
                return Some(match flavor {
                    Flavor::MariaDb => literal(text),
                    Flavor::Mysql => format!("({})", literal(text)),
                });
            }
            MysqlType::Json | MysqlType::Geometry(_) | MysqlType::Bit(_) => false,
        };
        keep.then(|| literal(text))
    }

    /// `current_timestamp(n)` for a temporal column whose default or `ON UPDATE` is
    /// the current time, however the source spells it.
    fn current_time(&self, expression: &str) -> Option<String> {
        let (MysqlType::DateTime(precision) | MysqlType::Timestamp(precision)) = self else {
            return None;
        };
        let name = expression
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let now = matches!(
            name.as_str(),
            "current_timestamp" | "now" | "localtime" | "localtimestamp"
        );
        now.then(|| match precision {
            0 => "current_timestamp()".to_owned(),
            p => format!("current_timestamp({p})"),
        })
    }

    /// Checks that `value` fits this type exactly where the server would otherwise
    /// round it or take a value it cannot compare: a decimal with more digits than the
    /// column (from an unconstrained numeric), a float that is not a number, a bit
    /// string longer than 64 bits.
    pub fn check(&self, value: &Value) -> std::result::Result<(), String> {
        match (self, value) {
            (MysqlType::Decimal(size), Value::Decimal(d)) => {
                let fraction = d.fraction_digits().trim_end_matches('0').len();
                let integer = d.integer_digits().trim_start_matches('0').len();
                if fraction > size.scale as usize
                    || integer > (size.precision - size.scale) as usize
                {
                    return Err(format!(
                        "{d} has more digits than decimal({},{}) holds",
                        size.precision, size.scale
                    ));
                }
                Ok(())
            }
            (_, Value::Bit(bits)) if bits.to_u64().is_none() => Err(format!(
                "a BIT value of {} bits is longer than MySQL's BIT(64)",
                bits.len()
            )),
            (_, Value::Float(x)) if !x.is_finite() => {
                Err(format!("{x} is not a number MySQL stores"))
            }
            (_, Value::Double(x)) if !x.is_finite() => {
                Err(format!("{x} is not a number MySQL stores"))
            }
            _ => Ok(()),
        }
    }
}

/// The display width and `zerofill` of a MySQL integer declaration such as
/// `int(10) unsigned zerofill`; none for another engine's spelling.
fn display_of(native: &str, width: IntWidth) -> (Option<u32>, bool) {
    let native = native.to_ascii_lowercase();
    let name = int_name(width);
    let display_width = native
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.split_once(')'))
        .and_then(|(digits, _)| digits.parse().ok());
    (
        display_width,
        native.split_whitespace().any(|w| w == "zerofill"),
    )
}

fn int_name(width: IntWidth) -> &'static str {
    match width {
        IntWidth::I8 => "tinyint",
        IntWidth::I16 => "smallint",
        IntWidth::I24 => "mediumint",
        IntWidth::I32 => "int",
        IntWidth::I64 => "bigint",
    }
}

fn is_bit_literal(text: &str) -> bool {
    text.strip_prefix("b'")
        .and_then(|rest| rest.strip_suffix('\''))
        .is_some_and(|bits| bits.bytes().all(|b| b == b'0' || b == b'1'))
}

impl fmt::Display for MysqlType {
    /// The type as written in `CREATE TABLE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fsp = |f: &mut fmt::Formatter<'_>, name: &str, precision: u8| match precision {
            0 => f.write_str(name),
            p => write!(f, "{name}({p})"),
        };
        match self {
            MysqlType::Int {
                width,
                unsigned,
                display_width,
                zerofill,
            } => {
                f.write_str(int_name(*width))?;
                if let Some(display_width) = display_width {
                    write!(f, "({display_width})")?;
                }
                if *unsigned {
                    f.write_str(" unsigned")?;
                }
                if *zerofill {
                    f.write_str(" zerofill")?;
                }
                Ok(())
            }
            MysqlType::Float => f.write_str("float"),
            MysqlType::Double => f.write_str("double"),
            MysqlType::Decimal(DecimalSize { precision, scale }) => {
                write!(f, "decimal({precision},{scale})")
            }
            MysqlType::Char(length) => write!(f, "char({length})"),
            MysqlType::VarChar(length) => write!(f, "varchar({length})"),
            MysqlType::Text(size) => write!(f, "{}text", size.prefix()),
            MysqlType::Binary(length) => write!(f, "binary({length})"),
            MysqlType::VarBinary(length) => write!(f, "varbinary({length})"),
            MysqlType::Blob(size) => write!(f, "{}blob", size.prefix()),
            MysqlType::Date => f.write_str("date"),
            MysqlType::Time(p) => fsp(f, "time", *p),
            MysqlType::DateTime(p) => fsp(f, "datetime", *p),
            MysqlType::Timestamp(p) => fsp(f, "timestamp", *p),
            MysqlType::Year => f.write_str("year"),
            MysqlType::Json => f.write_str("json"),
            MysqlType::Enum(labels) => write_labels(f, "enum", labels),
            MysqlType::Set(labels) => write_labels(f, "set", labels),
            MysqlType::Bit(length) => write!(f, "bit({length})"),
            MysqlType::Geometry(kind) => f.write_str(kind.name()),
            MysqlType::Uuid => f.write_str("uuid"),
        }
    }
}

fn write_labels(f: &mut fmt::Formatter<'_>, name: &str, labels: &[String]) -> fmt::Result {
    let labels: Vec<String> = labels.iter().map(|label| literal(label)).collect();
    write!(f, "{name}({})", labels.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(data_type: DataType, native_type: &str) -> Column {
        Column {
            name: "c".into(),
            data_type,
            native_type: native_type.into(),
            nullable: true,
            default: None,
            generated: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        }
    }

    fn mysql(data_type: DataType, native_type: &str) -> String {
        MysqlType::for_column(&column(data_type, native_type), Flavor::MariaDb, false)
            .unwrap()
            .to_string()
    }

    #[test]
    fn mysql_declarations_come_back_the_same() {
        let int = |width, unsigned| DataType::Int { width, unsigned };
        assert_eq!(mysql(int(IntWidth::I8, false), "tinyint(1)"), "tinyint(1)");
        assert_eq!(
            mysql(int(IntWidth::I32, true), "int(10) unsigned zerofill"),
            "int(10) unsigned zerofill"
        );
        assert_eq!(
            mysql(int(IntWidth::I64, true), "bigint unsigned"),
            "bigint unsigned"
        );
        assert_eq!(
            mysql(
                DataType::Decimal {
                    size: Some(DecimalSize {
                        precision: 65,
                        scale: 30
                    })
                },
                "decimal(65,30)"
            ),
            "decimal(65,30)"
        );
        assert_eq!(mysql(DataType::Time { precision: 6 }, "time(6)"), "time(6)");
        assert_eq!(
            mysql(DataType::DateTime { precision: 0 }, "datetime"),
            "datetime"
        );
        assert_eq!(
            mysql(
                DataType::Text {
                    max_bytes: Some(16_777_215)
                },
                "mediumtext"
            ),
            "mediumtext"
        );
        assert_eq!(
            mysql(
                DataType::Enum {
                    labels: vec!["it's".into(), "a,b".into()]
                },
                "enum('it''s','a,b')"
            ),
            "enum('it''s','a,b')"
        );
    }

    #[test]
    fn other_engines_types_get_a_lossless_home() {
        assert_eq!(mysql(DataType::Bool, "boolean"), "tinyint(1)");
        assert_eq!(
            mysql(DataType::Decimal { size: None }, "numeric"),
            "decimal(65,30)"
        );
        assert_eq!(
            mysql(DataType::Text { max_bytes: None }, "text"),
            "longtext"
        );
        assert_eq!(
            mysql(
                DataType::VarChar {
                    length: Some(20_000)
                },
                "character varying(20000)"
            ),
            "mediumtext"
        );
        let key = MysqlType::for_column(
            &column(DataType::Text { max_bytes: None }, "text"),
            Flavor::Mysql,
            true,
        )
        .unwrap();
        assert_eq!(key.to_string(), "varchar(768)");
        let uuid = column(DataType::Uuid, "uuid");
        let on_mysql = MysqlType::for_column(&uuid, Flavor::Mysql, false).unwrap();
        assert_eq!(on_mysql.to_string(), "char(36)");
        assert_eq!(
            on_mysql.collation(&uuid, Flavor::Mysql).unwrap().name,
            "ascii_bin"
        );
        let text = column(DataType::Text { max_bytes: None }, "text");
        assert_eq!(
            MysqlType::Text(LobSize::Long)
                .collation(&text, Flavor::MariaDb)
                .unwrap()
                .name,
            "utf8mb4_nopad_bin"
        );
    }

    #[test]
    fn types_without_a_lossless_home_are_refused() {
        let wide = column(
            DataType::Decimal {
                size: Some(DecimalSize {
                    precision: 100,
                    scale: 2,
                }),
            },
            "numeric(100,2)",
        );
        let error = MysqlType::for_column(&wide, Flavor::MariaDb, false).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert!(error.to_string().contains("`c`"), "{error}");
        let bits = column(DataType::Bit { length: 65 }, "bit(65)");
        assert!(MysqlType::for_column(&bits, Flavor::MariaDb, false).is_err());
    }

    #[test]
    fn decimals_that_would_be_rounded_are_refused() {
        let widest = MysqlType::Decimal(WIDEST_DECIMAL);
        let value = |text: &str| Value::Decimal(text.parse().unwrap());
        assert!(
            widest
                .check(&value("-12345678901234567890123456789012345.5"))
                .is_ok()
        );
        assert!(
            widest
                .check(&value("1.5000000000000000000000000000000000"))
                .is_ok()
        );
        assert!(
            widest
                .check(&value("0.0000000000000000000000000000001"))
                .is_err()
        );
        assert!(
            widest
                .check(&value("123456789012345678901234567890123456"))
                .is_err()
        );
        assert!(MysqlType::Double.check(&Value::Double(f64::NAN)).is_err());
    }

    #[test]
    fn defaults_are_kept_where_they_mean_the_same() {
        let mut at = column(DataType::Timestamp { precision: 0 }, "timestamp");
        at.default = Some(ColumnDefault::Expression("current_timestamp()".into()));
        at.on_update = Some("CURRENT_TIMESTAMP".into());
        let ty = MysqlType::Timestamp(0);
        assert_eq!(
            ty.default_sql(&at, Flavor::MariaDb).as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(
            ty.on_update_sql(&at).as_deref(),
            Some("current_timestamp()")
        );
        let mut flag = column(DataType::Bool, "boolean");
        flag.default = Some(ColumnDefault::Literal("true".into()));
        assert_eq!(
            MysqlType::for_column(&flag, Flavor::MariaDb, false)
                .unwrap()
                .default_sql(&flag, Flavor::MariaDb),
            None
        );
        let mut rating = column(
            DataType::Enum {
                labels: vec!["G".into()],
            },
            "enum('G')",
        );
        rating.default = Some(ColumnDefault::Literal("G".into()));
        assert_eq!(
            MysqlType::Enum(vec!["G".into()])
                .default_sql(&rating, Flavor::MariaDb)
                .as_deref(),
            Some("'G'")
        );
        let mut bit = column(DataType::Bit { length: 1 }, "bit(1)");
        bit.default = Some(ColumnDefault::Expression("b'1'".into()));
        assert_eq!(
            MysqlType::Bit(1)
                .default_sql(&bit, Flavor::MariaDb)
                .as_deref(),
            Some("b'1'")
        );
    }
}
