//! Column types in engine-neutral terms, with every detail a target needs to hold the
//! values exactly.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The type of a column.
///
/// Engines read their native types into this and map this onto their own types when
/// they create a table. A native type that dbsync does not carry is kept as
/// [`DataType::Unsupported`] so that introspection can show it; syncing such a column
/// stops its table with an error that names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum DataType {
    Bool,
    Int {
        width: IntWidth,
        unsigned: bool,
    },
    /// 4-byte IEEE 754.
    Float,
    /// 8-byte IEEE 754.
    Double,
    /// Exact decimal; `None` is PostgreSQL's unconstrained `numeric`.
    Decimal {
        size: Option<DecimalSize>,
    },
    /// Fixed-length character string, length in characters.
    Char {
        length: u32,
    },
    /// Variable-length character string; `None` is PostgreSQL's unbounded `varchar`.
    VarChar {
        length: Option<u32>,
    },
    /// Long text; `None` is unbounded (PostgreSQL `text`).
    Text {
        max_bytes: Option<u64>,
    },
    /// Fixed-length binary string, right-padded with zero bytes to `length`.
    Binary {
        length: u32,
    },
    VarBinary {
        length: u32,
    },
    /// Long binary; `None` is unbounded (PostgreSQL `bytea`).
    Blob {
        max_bytes: Option<u64>,
    },
    Date,
    /// A signed duration that may exceed 24 hours, or a time of day;
    /// `precision` is the number of fractional-second digits.
    Time {
        precision: u8,
    },
    /// Wall-clock date and time without a zone.
    DateTime {
        precision: u8,
    },
    /// An instant in time.
    Timestamp {
        precision: u8,
    },
    Year,
    Json,
    Enum {
        labels: Vec<String>,
    },
    Set {
        labels: Vec<String>,
    },
    Bit {
        length: u32,
    },
    Geometry {
        kind: GeometryKind,
        srid: Option<u32>,
    },
    Uuid,
    /// A native type dbsync can read the schema of but does not carry.
    Unsupported {
        native: String,
    },
}

/// The storage width of an integer column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntWidth {
    I8,
    I16,
    /// MySQL's 3-byte `MEDIUMINT`.
    I24,
    I32,
    I64,
}

impl IntWidth {
    pub fn bits(self) -> u32 {
        match self {
            IntWidth::I8 => 8,
            IntWidth::I16 => 16,
            IntWidth::I24 => 24,
            IntWidth::I32 => 32,
            IntWidth::I64 => 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DecimalSize {
    pub precision: u32,
    pub scale: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeometryKind {
    Geometry,
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    GeometryCollection,
}

impl GeometryKind {
    pub fn name(self) -> &'static str {
        match self {
            GeometryKind::Geometry => "geometry",
            GeometryKind::Point => "point",
            GeometryKind::LineString => "linestring",
            GeometryKind::Polygon => "polygon",
            GeometryKind::MultiPoint => "multipoint",
            GeometryKind::MultiLineString => "multilinestring",
            GeometryKind::MultiPolygon => "multipolygon",
            GeometryKind::GeometryCollection => "geometrycollection",
        }
    }

    /// The kind for a type name such as `point` or `GeometryCollection`, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        const ALL: [GeometryKind; 8] = [
            GeometryKind::Geometry,
            GeometryKind::Point,
            GeometryKind::LineString,
            GeometryKind::Polygon,
            GeometryKind::MultiPoint,
            GeometryKind::MultiLineString,
            GeometryKind::MultiPolygon,
            GeometryKind::GeometryCollection,
        ];
        ALL.into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for DataType {
    /// An engine-neutral spelling, such as `uint16`, `decimal(5,2)` or `enum('G','PG')`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Bool => f.write_str("bool"),
            DataType::Int { width, unsigned } => {
                write!(f, "{}int{}", if *unsigned { "u" } else { "" }, width.bits())
            }
            DataType::Float => f.write_str("float32"),
            DataType::Double => f.write_str("float64"),
            DataType::Decimal { size: None } => f.write_str("decimal"),
            DataType::Decimal {
                size: Some(DecimalSize { precision, scale }),
            } => {
                write!(f, "decimal({precision},{scale})")
            }
            DataType::Char { length } => write!(f, "char({length})"),
            DataType::VarChar { length: None } => f.write_str("varchar"),
            DataType::VarChar {
                length: Some(length),
            } => write!(f, "varchar({length})"),
            DataType::Text { max_bytes: None } => f.write_str("text"),
            DataType::Text {
                max_bytes: Some(max),
            } => write!(f, "text({max})"),
            DataType::Binary { length } => write!(f, "binary({length})"),
            DataType::VarBinary { length } => write!(f, "varbinary({length})"),
            DataType::Blob { max_bytes: None } => f.write_str("blob"),
            DataType::Blob {
                max_bytes: Some(max),
            } => write!(f, "blob({max})"),
            DataType::Date => f.write_str("date"),
            DataType::Time { precision } => write!(f, "time({precision})"),
            DataType::DateTime { precision } => write!(f, "datetime({precision})"),
            DataType::Timestamp { precision } => write!(f, "timestamp({precision})"),
            DataType::Year => f.write_str("year"),
            DataType::Json => f.write_str("json"),
            DataType::Enum { labels } => write_labels(f, "enum", labels),
            DataType::Set { labels } => write_labels(f, "set", labels),
            DataType::Bit { length } => write!(f, "bit({length})"),
            DataType::Geometry { kind, srid: None } => f.write_str(kind.name()),
            DataType::Geometry {
                kind,
                srid: Some(srid),
            } => write!(f, "{} srid {srid}", kind.name()),
            DataType::Uuid => f.write_str("uuid"),
            DataType::Unsupported { native } => write!(f, "unsupported({native})"),
        }
    }
}

fn write_labels(f: &mut fmt::Formatter<'_>, name: &str, labels: &[String]) -> fmt::Result {
    write!(f, "{name}(")?;
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "'{}'", label.replace('\'', "''"))?;
    }
    f.write_str(")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_engine_neutral_names() {
        let cases = [
            (
                DataType::Int {
                    width: IntWidth::I24,
                    unsigned: true,
                },
                "uint24",
            ),
            (
                DataType::Int {
                    width: IntWidth::I64,
                    unsigned: false,
                },
                "int64",
            ),
            (
                DataType::Decimal {
                    size: Some(DecimalSize {
                        precision: 65,
                        scale: 30,
                    }),
                },
                "decimal(65,30)",
            ),
            (DataType::Decimal { size: None }, "decimal"),
            (
                DataType::Enum {
                    labels: vec!["it's".into(), "b".into()],
                },
                "enum('it''s','b')",
            ),
            (
                DataType::Geometry {
                    kind: GeometryKind::Point,
                    srid: Some(4326),
                },
                "point srid 4326",
            ),
        ];
        for (data_type, expected) in cases {
            assert_eq!(data_type.to_string(), expected);
        }
    }

    #[test]
    fn geometry_kinds_parse_in_any_case() {
        assert_eq!(
            GeometryKind::from_name("GeometryCollection"),
            Some(GeometryKind::GeometryCollection)
        );
        assert_eq!(GeometryKind::from_name("POINT"), Some(GeometryKind::Point));
        assert_eq!(GeometryKind::from_name("circle"), None);
    }
}
