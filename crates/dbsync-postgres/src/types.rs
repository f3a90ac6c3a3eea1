//! PostgreSQL column types in terms of [`DataType`].

use dbsync_core::{DataType, DecimalSize, IntWidth};
use tokio_postgres::types::Type;

/// What `pg_catalog` says about a column's type, a domain already resolved to the type
/// it is based on (the values are the base type's; the domain only adds checks).
#[derive(Debug, Clone)]
pub struct NativeType<'a> {
    /// The type's OID.
    pub oid: u32,
    /// The type modifier (`atttypmod`): lengths, precisions; -1 when there is none.
    pub typmod: i32,
    /// `format_type(oid, typmod)`, such as `interval` or `integer[]`: what an
    /// unsupported type is shown as.
    pub name: &'a str,
    /// The labels in sort order when the type is an enum.
    pub enum_labels: Option<&'a [String]>,
}

/// PostgreSQL's `VARHDRSZ`, which the modifiers of `char`, `varchar` and `numeric`
/// include.
const VARHDRSZ: i32 = 4;
/// The fractional-second digits of `time` and `timestamp` without a precision.
const DEFAULT_TIME_PRECISION: u8 = 6;

/// The engine-neutral type of a column, or [`DataType::Unsupported`] naming its type.
pub fn data_type(native: &NativeType<'_>) -> DataType {
    if let Some(labels) = native.enum_labels {
        return DataType::Enum {
            labels: labels.to_vec(),
        };
    }
    let unsupported = || DataType::Unsupported {
        native: native.name.to_owned(),
    };
    // Built-in types have fixed OIDs, so a user type that happens to be called `int4`
    // is not mistaken for one.
    let Some(builtin) = Type::from_oid(native.oid) else {
        return unsupported();
    };
    let typmod = native.typmod;
    let length = || u32::try_from(typmod - VARHDRSZ).ok().filter(|n| *n > 0);
    let precision = || u8::try_from(typmod).unwrap_or(DEFAULT_TIME_PRECISION);
    let int = |width| DataType::Int {
        width,
        unsigned: false,
    };
    match builtin.name() {
        "bool" => DataType::Bool,
        "int2" => int(IntWidth::I16),
        "int4" => int(IntWidth::I32),
        "int8" => int(IntWidth::I64),
        "float4" => DataType::Float,
        "float8" => DataType::Double,
        "numeric" if typmod < 0 => DataType::Decimal { size: None },
        "numeric" => decimal_size(typmod)
            .map_or_else(unsupported, |size| DataType::Decimal { size: Some(size) }),
        // A bare `bpchar` (no length) is blank-padded yet unbounded: no `Char` holds it.
        "bpchar" => length().map_or_else(unsupported, |length| DataType::Char { length }),
        "varchar" => DataType::VarChar { length: length() },
        "text" => DataType::Text { max_bytes: None },
        "bytea" => DataType::Blob { max_bytes: None },
        "date" => DataType::Date,
        "time" => DataType::Time {
            precision: precision(),
        },
        "timestamp" => DataType::DateTime {
            precision: precision(),
        },
        "timestamptz" => DataType::Timestamp {
            precision: precision(),
        },
        "json" | "jsonb" => DataType::Json,
        "uuid" => DataType::Uuid,
        "bit" => u32::try_from(typmod)
            .ok()
            .filter(|n| *n > 0)
            .map_or_else(unsupported, |length| DataType::Bit { length }),
        _ => unsupported(),
    }
}

/// Precision and scale from a `numeric` type modifier, or `None` for a negative scale
/// (PostgreSQL 15 allows `numeric(5,-2)`, which rounds to hundreds; nothing else has it).
///
/// The modifier holds the precision in its upper 16 bits and, since PostgreSQL 15, the
/// scale as an 11-bit signed number in the lower bits; older servers only wrote scales
/// from 0 to the precision, which read the same.
fn decimal_size(typmod: i32) -> Option<DecimalSize> {
    let bits = typmod - VARHDRSZ;
    let precision = (bits >> 16) & 0xffff;
    let scale = ((bits & 0x7ff) ^ 0x400) - 0x400;
    Some(DecimalSize {
        precision: u32::try_from(precision).ok()?,
        scale: u32::try_from(scale).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(precision: i32, scale: i32) -> i32 {
        ((precision << 16) | (scale & 0x7ff)) + VARHDRSZ
    }

    #[test]
    fn numeric_modifiers_hold_precision_and_signed_scale() {
        assert_eq!(
            decimal_size(numeric(65, 30)),
            Some(DecimalSize {
                precision: 65,
                scale: 30
            })
        );
        assert_eq!(
            decimal_size(numeric(1000, 1000)),
            Some(DecimalSize {
                precision: 1000,
                scale: 1000
            })
        );
        assert_eq!(
            decimal_size(numeric(2, 5)),
            Some(DecimalSize {
                precision: 2,
                scale: 5
            }),
            "PostgreSQL 15 allows a scale above the precision"
        );
        assert_eq!(decimal_size(numeric(5, -2)), None);
    }

    #[test]
    fn user_types_are_not_taken_for_builtins_of_the_same_name() {
        let native = NativeType {
            oid: 16_500,
            typmod: -1,
            name: "int4",
            enum_labels: None,
        };
        assert_eq!(
            data_type(&native),
            DataType::Unsupported {
                native: "int4".into()
            }
        );
    }
}
