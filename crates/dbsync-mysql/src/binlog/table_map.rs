//! TABLE_MAP events: which table a rows event's table id stands for, and how each of
//! its columns is laid out in the rows that follow.
//!
//! The server writes one before the rows events of every statement. Besides the
//! column types and their layout parameters ("metadata"), MySQL 8 and MariaDB 10.5+
//! add optional metadata (all of it with `binlog_row_metadata=FULL`): column names,
//! signedness, ENUM and SET labels, geometry kinds and the primary key. The decoder
//! does not need it, since the table's schema says the same; it serves to notice
//! that the schema dbsync holds is not the one the rows were written with.

use super::reader::{Reader, Truncated};

/// Column type codes as the binlog writes them (`enum_field_types`).
pub(crate) mod column_type {
    pub(crate) const DECIMAL: u8 = 0;
    pub(crate) const TINY: u8 = 1;
    pub(crate) const SHORT: u8 = 2;
    pub(crate) const LONG: u8 = 3;
    pub(crate) const FLOAT: u8 = 4;
    pub(crate) const DOUBLE: u8 = 5;
    pub(crate) const NULL: u8 = 6;
    pub(crate) const TIMESTAMP: u8 = 7;
    pub(crate) const LONGLONG: u8 = 8;
    pub(crate) const INT24: u8 = 9;
    pub(crate) const DATE: u8 = 10;
    pub(crate) const TIME: u8 = 11;
    pub(crate) const DATETIME: u8 = 12;
    pub(crate) const YEAR: u8 = 13;
    pub(crate) const NEWDATE: u8 = 14;
    pub(crate) const VARCHAR: u8 = 15;
    pub(crate) const BIT: u8 = 16;
    pub(crate) const TIMESTAMP2: u8 = 17;
    pub(crate) const DATETIME2: u8 = 18;
    pub(crate) const TIME2: u8 = 19;
    /// MariaDB's `COMPRESSED` column attribute.
    pub(crate) const VARCHAR_COMPRESSED: u8 = 140;
    pub(crate) const BLOB_COMPRESSED: u8 = 141;
    /// MySQL 9.
    pub(crate) const VECTOR: u8 = 242;
    pub(crate) const JSON: u8 = 245;
    pub(crate) const NEWDECIMAL: u8 = 246;
    pub(crate) const ENUM: u8 = 247;
    pub(crate) const SET: u8 = 248;
    pub(crate) const TINY_BLOB: u8 = 249;
    pub(crate) const MEDIUM_BLOB: u8 = 250;
    pub(crate) const LONG_BLOB: u8 = 251;
    pub(crate) const BLOB: u8 = 252;
    pub(crate) const VAR_STRING: u8 = 253;
    pub(crate) const STRING: u8 = 254;
    pub(crate) const GEOMETRY: u8 = 255;
}

use column_type as ty;

/// The table a table map names, read without the rest of the event: enough to skip
/// the tables nobody tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableRef<'a> {
    pub(crate) table_id: u64,
    pub(crate) schema: &'a [u8],
    pub(crate) table: &'a [u8],
}

impl<'a> TableRef<'a> {
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, Truncated> {
        let mut input = Reader::new(data);
        Self::read(&mut input)
    }

    fn read(input: &mut Reader<'a>) -> Result<Self, Truncated> {
        let table_id = input.uint_le(6)?;
        input.skip(2)?; // flags, none of which matter here
        let schema_len = input.u8()?;
        let schema = input.take(usize::from(schema_len))?;
        input.skip(1)?; // NUL
        let table_len = input.u8()?;
        let table = input.take(usize::from(table_len))?;
        input.skip(1)?;
        Ok(TableRef {
            table_id,
            schema,
            table,
        })
    }
}

/// A whole table map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableMap {
    pub(crate) columns: Vec<MapColumn>,
    /// Column indexes of the primary key, in key order (optional metadata).
    pub(crate) primary_key: Option<Vec<usize>>,
}

/// One column of a table map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MapColumn {
    /// The type code; for `STRING` the real type (`ENUM`, `SET` or `STRING`) that
    /// the metadata carries.
    pub(crate) column_type: u8,
    /// The type's layout parameter: a maximum length in bytes, the size of a length
    /// prefix, precision and scale, fractional digits ..., as [`real_type`] reads it.
    pub(crate) metadata: u16,
    /// From the optional metadata, when the server wrote it.
    pub(crate) name: Option<String>,
    pub(crate) unsigned: Option<bool>,
    /// ENUM or SET labels, in the column's character set.
    pub(crate) labels: Option<Vec<Vec<u8>>>,
    /// The geometry kind code (0 geometry, 1 point ... 7 geometry collection).
    pub(crate) geometry_kind: Option<u64>,
}

impl TableMap {
    pub(crate) fn parse(data: &[u8]) -> Result<Self, Truncated> {
        let mut input = Reader::new(data);
        TableRef::read(&mut input)?;
        let count = usize::try_from(input.lenenc()?).map_err(|_| Truncated)?;
        let types = input.take(count)?;
        let mut metadata = Reader::new(input.lenenc_bytes()?);
        let mut columns = Vec::with_capacity(count);
        for &code in types {
            let raw = metadata.take(metadata_len(code).ok_or(Truncated)?)?;
            let (column_type, metadata) = real_type(code, raw);
            columns.push(MapColumn {
                column_type,
                metadata,
                name: None,
                unsigned: None,
                labels: None,
                geometry_kind: None,
            });
        }
        if !metadata.is_empty() {
            return Err(Truncated);
        }
        input.skip(count.div_ceil(8))?; // which columns are nullable; the schema says
        let mut map = TableMap {
            columns,
            primary_key: None,
        };
        map.read_optional_metadata(input);
        Ok(map)
    }

    /// Reads the optional metadata fields that cross-checks use. A field that does
    /// not read as expected is left out rather than failing the event: nothing is
    /// decoded from it.
    fn read_optional_metadata(&mut self, mut input: Reader<'_>) {
        while !input.is_empty() {
            let (Ok(field), Ok(value)) = (input.u8(), input.lenenc_bytes()) else {
                return;
            };
            let value = Reader::new(value);
            // The field numbers of `enum_binlog_optional_metadata_field_type`.
            let _ = match field {
                1 => self.read_signedness(value),
                4 => self.read_names(value),
                5 => self.read_labels(value, ty::SET),
                6 => self.read_labels(value, ty::ENUM),
                7 => self.read_geometry_kinds(value),
                8 => self.read_primary_key(value, false),
                9 => self.read_primary_key(value, true),
                _ => Ok(()),
            };
        }
    }

    /// One bit per numeric column, most significant first, set when unsigned.
    fn read_signedness(&mut self, input: Reader<'_>) -> Result<(), Truncated> {
        let bits = input.rest();
        let numeric: Vec<&mut MapColumn> = self
            .columns
            .iter_mut()
            .filter(|column| is_numeric(column.column_type))
            .collect();
        if bits.len() != numeric.len().div_ceil(8) {
            return Err(Truncated);
        }
        for (i, column) in numeric.into_iter().enumerate() {
            column.unsigned = Some(bits[i / 8] & (0x80 >> (i % 8)) != 0);
        }
        Ok(())
    }

    fn read_names(&mut self, mut input: Reader<'_>) -> Result<(), Truncated> {
        let names = (0..self.columns.len())
            .map(|_| Ok(String::from_utf8_lossy(input.lenenc_bytes()?).into_owned()))
            .collect::<Result<Vec<_>, Truncated>>()?;
        if !input.is_empty() {
            return Err(Truncated);
        }
        for (column, name) in self.columns.iter_mut().zip(names) {
            column.name = Some(name);
        }
        Ok(())
    }

    fn read_labels(&mut self, mut input: Reader<'_>, kind: u8) -> Result<(), Truncated> {
        let mut all = Vec::new();
        for _ in self.columns.iter().filter(|c| c.column_type == kind) {
            let count = input.lenenc()?;
            let labels = (0..count)
                .map(|_| input.lenenc_bytes().map(<[u8]>::to_vec))
                .collect::<Result<Vec<_>, _>>()?;
            all.push(labels);
        }
        if !input.is_empty() {
            return Err(Truncated);
        }
        let columns = self.columns.iter_mut().filter(|c| c.column_type == kind);
        for (column, labels) in columns.zip(all) {
            column.labels = Some(labels);
        }
        Ok(())
    }

    fn read_geometry_kinds(&mut self, mut input: Reader<'_>) -> Result<(), Truncated> {
        let count = self
            .columns
            .iter()
            .filter(|c| c.column_type == ty::GEOMETRY)
            .count();
        let kinds = (0..count)
            .map(|_| input.lenenc())
            .collect::<Result<Vec<_>, _>>()?;
        if !input.is_empty() {
            return Err(Truncated);
        }
        let columns = self
            .columns
            .iter_mut()
            .filter(|c| c.column_type == ty::GEOMETRY);
        for (column, kind) in columns.zip(kinds) {
            column.geometry_kind = Some(kind);
        }
        Ok(())
    }

    /// Column indexes, each followed by a prefix length when `with_prefix`.
    fn read_primary_key(
        &mut self,
        mut input: Reader<'_>,
        with_prefix: bool,
    ) -> Result<(), Truncated> {
        let mut key = Vec::new();
        while !input.is_empty() {
            key.push(usize::try_from(input.lenenc()?).map_err(|_| Truncated)?);
            if with_prefix {
                input.lenenc()?;
            }
        }
        self.primary_key = Some(key);
        Ok(())
    }
}

impl MapColumn {
    /// `DECIMAL`'s precision and scale.
    pub(crate) fn precision_and_scale(&self) -> (u8, u8) {
        let [precision, scale] = self.metadata.to_be_bytes();
        (precision, scale)
    }

    /// `BIT`'s length in bits.
    pub(crate) fn bit_length(&self) -> u32 {
        let [bytes, bits] = self.metadata.to_be_bytes();
        u32::from(bytes) * 8 + u32::from(bits)
    }
}

/// How many metadata bytes a column of type `code` has; `None` for a type this
/// decoder does not know, whose layout (and so every later column's) is unknown.
fn metadata_len(code: u8) -> Option<usize> {
    Some(match code {
        ty::FLOAT
        | ty::DOUBLE
        | ty::TIMESTAMP2
        | ty::DATETIME2
        | ty::TIME2
        | ty::BLOB_COMPRESSED
        | ty::VECTOR
        | ty::JSON
        | ty::TINY_BLOB
        | ty::MEDIUM_BLOB
        | ty::LONG_BLOB
        | ty::BLOB
        | ty::GEOMETRY => 1,
        ty::VARCHAR
        | ty::BIT
        | ty::VARCHAR_COMPRESSED
        | ty::NEWDECIMAL
        | ty::ENUM
        | ty::SET
        | ty::VAR_STRING
        | ty::STRING => 2,
        ty::DECIMAL
        | ty::TINY
        | ty::SHORT
        | ty::LONG
        | ty::NULL
        | ty::TIMESTAMP
        | ty::LONGLONG
        | ty::INT24
        | ty::DATE
        | ty::TIME
        | ty::DATETIME
        | ty::YEAR
        | ty::NEWDATE => 0,
        _ => return None,
    })
}

/// The type and metadata of a column as the decoder reads them.
///
/// Metadata bytes are read the way the server's `table_def` reads them: `VARCHAR`'s
/// maximum length is little-endian; `BIT` is (bits mod 8, bytes), little-endian; the
/// others with two bytes keep them in order (`DECIMAL`: precision, scale).
/// `STRING` hides its real type in its first metadata byte: `ENUM` and `SET` are
/// stored as `STRING`, and a `CHAR` longer than 255 bytes borrows two bits of the
/// real type for its length (MySQL bug #37426).
fn real_type(code: u8, raw: &[u8]) -> (u8, u16) {
    let first = raw.first().copied().unwrap_or(0);
    let second = raw.get(1).copied().unwrap_or(0);
    match code {
        ty::VARCHAR | ty::VAR_STRING | ty::VARCHAR_COMPRESSED | ty::BIT => {
            (code, u16::from_le_bytes([first, second]))
        }
        ty::STRING if first != 0 && first & 0x30 != 0x30 => {
            let length = u16::from(second) | u16::from((first & 0x30) ^ 0x30) << 4;
            (first | 0x30, length)
        }
        ty::STRING if first != 0 => (first, u16::from(second)),
        _ if raw.len() == 2 => (code, u16::from_be_bytes([first, second])),
        _ => (code, u16::from(first)),
    }
}

/// The columns that SIGNEDNESS has a bit for. `YEAR` has one (it is an unsigned
/// TINYINT inside the server), although MariaDB's own mysqlbinlog skips it.
fn is_numeric(column_type: u8) -> bool {
    matches!(
        column_type,
        ty::TINY
            | ty::SHORT
            | ty::INT24
            | ty::LONG
            | ty::LONGLONG
            | ty::NEWDECIMAL
            | ty::FLOAT
            | ty::DOUBLE
            | ty::YEAR
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::test_support::table_map_bytes;

    #[test]
    fn reads_types_metadata_and_optional_metadata() {
        let bytes = table_map_bytes(
            0x1234,
            "shop",
            "orders",
            &[
                (ty::LONG, &[]),
                (ty::NEWDECIMAL, &[65, 30]),
                (ty::VARCHAR, &[0x2c, 0x01]),
                (ty::STRING, &[ty::ENUM, 1]),
                // CHAR(120) in utf8mb4 is 480 bytes: 0x1e0 borrows bits of the type.
                (ty::STRING, &[0xee, 0xe0]),
                (ty::BIT, &[1, 8]),
            ],
            &[
                (1, vec![0b0100_0000]),
                (4, b"\x02id\x05total\x04note\x04mood\x01c\x04bits".to_vec()),
                (6, b"\x02\x03sad\x02ok".to_vec()),
                (8, vec![0]),
            ],
        );
        assert_eq!(
            TableRef::parse(&bytes).unwrap(),
            TableRef {
                table_id: 0x1234,
                schema: b"shop",
                table: b"orders"
            }
        );
        let map = TableMap::parse(&bytes).unwrap();
        let types: Vec<(u8, u16)> = map
            .columns
            .iter()
            .map(|c| (c.column_type, c.metadata))
            .collect();
        assert_eq!(
            types,
            [
                (ty::LONG, 0),
                (ty::NEWDECIMAL, 65 << 8 | 30),
                (ty::VARCHAR, 300),
                (ty::ENUM, 1),
                (ty::STRING, 480),
                (ty::BIT, 8 << 8 | 1),
            ]
        );
        assert_eq!(map.columns[1].precision_and_scale(), (65, 30));
        assert_eq!(map.columns[5].bit_length(), 65);
        assert_eq!(map.columns[0].unsigned, Some(false));
        assert_eq!(map.columns[1].unsigned, Some(true));
        assert_eq!(map.columns[3].unsigned, None);
        assert_eq!(map.columns[4].name.as_deref(), Some("c"));
        assert_eq!(
            map.columns[3].labels,
            Some(vec![b"sad".to_vec(), b"ok".to_vec()])
        );
        assert_eq!(map.primary_key, Some(vec![0]));
    }

    #[test]
    fn unknown_types_and_short_metadata_are_errors() {
        let unknown = table_map_bytes(1, "a", "b", &[(200, &[])], &[]);
        assert_eq!(TableMap::parse(&unknown), Err(Truncated));
        let short = table_map_bytes(1, "a", "b", &[(ty::NEWDECIMAL, &[10])], &[]);
        assert_eq!(TableMap::parse(&short), Err(Truncated));
    }

    #[test]
    fn a_malformed_optional_field_is_left_out() {
        let bytes = table_map_bytes(1, "a", "b", &[(ty::LONG, &[])], &[(4, b"\x05id".to_vec())]);
        let map = TableMap::parse(&bytes).unwrap();
        assert_eq!(map.columns[0].name, None);
    }
}
