//! The PostgreSQL type that holds each source column exactly (docs/type-mapping.md).

use std::fmt;

use dbsync_config::{EnumMapping, SetMapping, ZeroDatePolicy};
use dbsync_core::{Column, DataType, DecimalSize, Error, ErrorKind, IntWidth, Result};

/// A PostgreSQL column type that dbsync writes, in the binary COPY format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    Numeric(Option<DecimalSize>),
    Float4,
    Float8,
    VarChar(Option<u32>),
    Text,
    Bytea,
    Date,
    /// A MySQL `TIME`: a signed span that may pass 24 hours, which `time` cannot hold.
    Interval {
        precision: u8,
    },
    Timestamp {
        precision: u8,
    },
    Timestamptz {
        precision: u8,
    },
    Jsonb,
    Bit(u32),
    TextArray,
    Uuid,
}

/// The pair's choices that shape the mapping; the defaults are lossless.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappingOptions {
    pub zero_date: ZeroDatePolicy,
    pub enum_mapping: EnumMapping,
    pub set_mapping: SetMapping,
}

impl PgType {
    /// The type for `column`, or an error naming it when no PostgreSQL type holds its
    /// values exactly.
    pub fn for_column(column: &Column, options: MappingOptions) -> Result<PgType> {
        Ok(match &column.data_type {
            DataType::Bool => PgType::Bool,
            // PostgreSQL has no unsigned integers: each takes the next wider type, and an
            // unsigned 64-bit integer needs numeric(20).
            DataType::Int { width, unsigned } => match (width, unsigned) {
                (IntWidth::I8, _) | (IntWidth::I16, false) => PgType::Int2,
                (IntWidth::I16, true) | (IntWidth::I24, _) | (IntWidth::I32, false) => PgType::Int4,
                (IntWidth::I32, true) | (IntWidth::I64, false) => PgType::Int8,
                (IntWidth::I64, true) => PgType::Numeric(Some(DecimalSize {
                    precision: 20,
                    scale: 0,
                })),
            },
            DataType::Float => PgType::Float4,
            DataType::Double => PgType::Float8,
            DataType::Decimal { size } => PgType::Numeric(*size),
            // CHAR(n) maps to varchar(n): MySQL returns CHAR values without their padding
            // spaces, and PostgreSQL's char(n) would add them back.
            DataType::Char { length } => PgType::VarChar(Some(*length)),
            DataType::VarChar { length } => PgType::VarChar(*length),
            DataType::Text { .. } => PgType::Text,
            DataType::Enum { .. } => match options.enum_mapping {
                EnumMapping::Text => PgType::Text,
                EnumMapping::Native => {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "column `{}` is an ENUM and the pair asks for native PostgreSQL enums (enum_mapping: native), which this version cannot create yet; use enum_mapping: text",
                            column.name
                        ),
                    ));
                }
            },
            DataType::Set { .. } => match options.set_mapping {
                SetMapping::TextArray => PgType::TextArray,
                SetMapping::Text => PgType::Text,
            },
            DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. } => {
                PgType::Bytea
            }
            DataType::Geometry { .. } => PgType::Bytea,
            DataType::Date => PgType::Date,
            DataType::Time { precision } => PgType::Interval {
                precision: *precision,
            },
            DataType::DateTime { precision } => PgType::Timestamp {
                precision: *precision,
            },
            DataType::Timestamp { precision } => PgType::Timestamptz {
                precision: *precision,
            },
            DataType::Year => PgType::Int2,
            DataType::Json => PgType::Jsonb,
            DataType::Bit { length } => PgType::Bit(*length),
            DataType::Uuid => PgType::Uuid,
            DataType::Unsupported { native } => return Err(column.unsupported(native)),
        })
    }

    /// Whether a zero date can arrive in a column of this type.
    pub fn holds_dates(&self) -> bool {
        matches!(
            self,
            PgType::Date | PgType::Timestamp { .. } | PgType::Timestamptz { .. }
        )
    }
}

impl fmt::Display for PgType {
    /// The type as written in `CREATE TABLE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgType::Bool => f.write_str("boolean"),
            PgType::Int2 => f.write_str("smallint"),
            PgType::Int4 => f.write_str("integer"),
            PgType::Int8 => f.write_str("bigint"),
            PgType::Numeric(None) => f.write_str("numeric"),
            PgType::Numeric(Some(DecimalSize { precision, scale })) => {
                write!(f, "numeric({precision},{scale})")
            }
            PgType::Float4 => f.write_str("real"),
            PgType::Float8 => f.write_str("double precision"),
            PgType::VarChar(None) => f.write_str("varchar"),
            PgType::VarChar(Some(length)) => write!(f, "varchar({length})"),
            PgType::Text => f.write_str("text"),
            PgType::Bytea => f.write_str("bytea"),
            PgType::Date => f.write_str("date"),
            PgType::Interval { precision } => write!(f, "interval({precision})"),
            PgType::Timestamp { precision } => write!(f, "timestamp({precision})"),
            PgType::Timestamptz { precision } => write!(f, "timestamptz({precision})"),
            PgType::Jsonb => f.write_str("jsonb"),
            PgType::Bit(length) => write!(f, "bit({length})"),
            PgType::TextArray => f.write_str("text[]"),
            PgType::Uuid => f.write_str("uuid"),
        }
    }
}
