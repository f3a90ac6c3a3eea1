//! Values bound as statement parameters.

use std::error::Error as StdError;

use bytes::BytesMut;
use dbsync_core::Value;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::copy_format::send;
use crate::target_type::PgType;

/// A value bound to a parameter in the binary format of the type the server gives the
/// parameter: that of the column it is compared with.
#[derive(Debug)]
pub(crate) struct Param<'a>(pub(crate) &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        if self.0.is_null() {
            return Ok(IsNull::Yes);
        }
        let pg_type = format_of(ty).ok_or_else(|| {
            format!("dbsync cannot compare with a PostgreSQL {ty} value; use other key or cursor columns")
        })?;
        let mut buf = Vec::new();
        send(&mut buf, self.0, &pg_type)?;
        out.extend_from_slice(&buf);
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The type whose send format `ty` shares.
fn format_of(ty: &Type) -> Option<PgType> {
    if let Kind::Enum(_) = ty.kind() {
        return Some(PgType::Text);
    }
    Some(match *ty {
        Type::BOOL => PgType::Bool,
        Type::INT2 => PgType::Int2,
        Type::INT4 => PgType::Int4,
        Type::INT8 => PgType::Int8,
        Type::NUMERIC => PgType::Numeric(None),
        Type::FLOAT4 => PgType::Float4,
        Type::FLOAT8 => PgType::Float8,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => PgType::Text,
        Type::BYTEA => PgType::Bytea,
        Type::DATE => PgType::Date,
        Type::TIMESTAMP => PgType::Timestamp { precision: 6 },
        Type::TIMESTAMPTZ => PgType::Timestamptz { precision: 6 },
        Type::UUID => PgType::Uuid,
        Type::BIT => PgType::Bit(0),
        _ => return None,
    })
}
