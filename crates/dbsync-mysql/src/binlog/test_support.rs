//! Event bytes built the way the servers build them, for tests of the paths that
//! only MySQL takes (rows events v2, binary formats MariaDB writes the same way but
//! in other combinations), and schemas to decode them against.

use std::sync::Arc;

use dbsync_core::{Collation, Column, DataType, TableName, TableSchema};

use super::event::{Header, flag};

/// A nullable column as introspection reads it: text types in utf8mb4.
pub(crate) fn column(name: &str, data_type: DataType) -> Column {
    let collation = matches!(
        data_type,
        DataType::Char { .. }
            | DataType::VarChar { .. }
            | DataType::Text { .. }
            | DataType::Json
            | DataType::Enum { .. }
            | DataType::Set { .. }
    )
    .then(|| Collation {
        charset: Some("utf8mb4".into()),
        name: "utf8mb4_general_ci".into(),
    });
    Column {
        name: name.into(),
        native_type: data_type.to_string(),
        data_type,
        nullable: true,
        default: None,
        generated: None,
        auto_increment: false,
        on_update: None,
        collation,
    }
}

pub(crate) fn table(schema: &str, name: &str, columns: Vec<Column>) -> Arc<TableSchema> {
    Arc::new(TableSchema {
        name: TableName::new(schema, name),
        primary_key: vec![columns[0].name.clone()],
        columns,
        indexes: vec![],
    })
}

/// A table map event body for `schema.table` with the given (type, metadata)
/// columns and optional metadata fields.
pub(crate) fn table_map_bytes(
    table_id: u64,
    schema: &str,
    table: &str,
    columns: &[(u8, &[u8])],
    optional: &[(u8, Vec<u8>)],
) -> Vec<u8> {
    let mut bytes = table_id.to_le_bytes()[..6].to_vec();
    bytes.extend_from_slice(&[1, 0]);
    for name in [schema, table] {
        bytes.push(name.len() as u8);
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
    }
    bytes.push(columns.len() as u8);
    bytes.extend(columns.iter().map(|(code, _)| code));
    let metadata: Vec<u8> = columns
        .iter()
        .flat_map(|(_, meta)| meta.iter().copied())
        .collect();
    bytes.push(metadata.len() as u8);
    bytes.extend_from_slice(&metadata);
    bytes.extend(std::iter::repeat_n(0xff, columns.len().div_ceil(8)));
    for (field, value) in optional {
        bytes.push(*field);
        bytes.push(value.len() as u8);
        bytes.extend_from_slice(value);
    }
    bytes
}

/// A rows event body: version 2 carries a block of extra data (here, MySQL's
/// partition info), an update has two column bitmaps. `present` clears the bits of
/// the columns an image leaves out (in every bitmap).
pub(crate) fn rows_event_bytes(
    table_id: u64,
    version: u8,
    update: bool,
    column_count: usize,
    absent: &[usize],
    images: &[Vec<u8>],
) -> Vec<u8> {
    let mut bytes = table_id.to_le_bytes()[..6].to_vec();
    bytes.extend_from_slice(&1u16.to_le_bytes()); // STMT_END_F
    if version == 2 {
        let extra = [1, 2, 0]; // ROWS_EXTRA_INFO partition type 1, partition 2
        bytes.extend_from_slice(&(2 + extra.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&extra);
    }
    bytes.push(column_count as u8);
    let mut bitmap = vec![0xffu8; column_count.div_ceil(8)];
    for &i in absent {
        bitmap[i / 8] &= !(1 << (i % 8));
    }
    for _ in 0..if update { 2 } else { 1 } {
        bytes.extend_from_slice(&bitmap);
    }
    for image in images {
        bytes.extend_from_slice(image);
    }
    bytes
}

/// A row image: the null bitmap over the columns, then the values that are not null.
pub(crate) fn image(values: &[Option<Vec<u8>>]) -> Vec<u8> {
    let mut nulls = vec![0u8; values.len().div_ceil(8)];
    for (i, value) in values.iter().enumerate() {
        if value.is_none() {
            nulls[i / 8] |= 1 << (i % 8);
        }
    }
    nulls.extend(values.iter().flatten().flatten());
    nulls
}

pub(crate) fn header(event_type: u8, log_pos: u32) -> Header {
    Header {
        timestamp: 1_700_000_000,
        event_type,
        server_id: 1,
        event_size: 0,
        log_pos,
        flags: 0,
    }
}

pub(crate) fn artificial(mut header: Header) -> Header {
    header.flags |= flag::ARTIFICIAL;
    header
}

/// `text` in MySQL's binary DECIMAL format (`decimal2bin`), for
/// `DECIMAL(precision, scale)`: groups of nine digits in four big-endian bytes,
/// shorter groups at both ends, the first bit flipped, all bytes inverted when
/// negative.
pub(crate) fn encode_decimal(text: &str, precision: usize, scale: usize) -> Vec<u8> {
    const BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
    let negative = text.starts_with('-');
    let unsigned = text.trim_start_matches('-');
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let int_width = precision - scale;
    let int = if int_width == 0 {
        String::new()
    } else {
        format!("{int:0>int_width$}")
    };
    let frac = format!("{frac:0<scale$}");
    let mut groups: Vec<&str> = Vec::new();
    let lead = int.len() % 9;
    groups.push(&int[..lead]);
    groups.extend(
        int.as_bytes()[lead..]
            .chunks(9)
            .map(|g| std::str::from_utf8(g).unwrap()),
    );
    let full = frac.len() / 9 * 9;
    groups.extend(
        frac.as_bytes()[..full]
            .chunks(9)
            .map(|g| std::str::from_utf8(g).unwrap()),
    );
    groups.push(&frac[full..]);
    let mut bytes = Vec::new();
    for group in groups.into_iter().filter(|g| !g.is_empty()) {
        let value: u32 = group.parse().unwrap();
        bytes.extend_from_slice(&value.to_be_bytes()[4 - BYTES[group.len()]..]);
    }
    bytes[0] ^= 0x80;
    if negative {
        bytes.iter_mut().for_each(|b| *b = !*b);
    }
    bytes
}

/// A time in `TIME2`, as MySQL's `my_time_packed_to_binary` writes it.
pub(crate) fn encode_time2(negative: bool, hms: (i64, i64, i64), micros: i64, fsp: u8) -> Vec<u8> {
    let (h, m, s) = hms;
    let magnitude = ((h << 12 | m << 6 | s) << 24) + micros;
    let packed = if negative { -magnitude } else { magnitude };
    let int_part = (0x80_0000 + (packed >> 24)) as u32;
    let frac = packed % (1 << 24);
    let mut bytes = int_part.to_be_bytes()[1..].to_vec();
    match fsp {
        0 => {}
        1 | 2 => bytes.push((frac / 10_000) as i8 as u8),
        3 | 4 => bytes.extend_from_slice(&((frac / 100) as i16).to_be_bytes()),
        _ => bytes = ((packed + 0x8000_0000_0000) as u64).to_be_bytes()[2..].to_vec(),
    }
    bytes
}

/// A date and time in `DATETIME2`, as MySQL's `my_datetime_packed_to_binary`
/// writes it.
pub(crate) fn encode_datetime2(
    ymd: (u64, u64, u64),
    hms: (u64, u64, u64),
    micros: u64,
    fsp: u8,
) -> Vec<u8> {
    let (year, month, day) = ymd;
    let (hour, minute, second) = hms;
    let packed = ((year * 13 + month) << 5 | day) << 17 | hour << 12 | minute << 6 | second;
    let mut bytes = (packed + 0x80_0000_0000).to_be_bytes()[3..].to_vec();
    match fsp {
        0 => {}
        1 | 2 => bytes.push((micros / 10_000) as u8),
        3 | 4 => bytes.extend_from_slice(&((micros / 100) as u16).to_be_bytes()),
        _ => bytes.extend_from_slice(&(micros as u32).to_be_bytes()[1..]),
    }
    bytes
}

/// A QUERY event body: `sql` run in the default database `schema`.
pub(crate) fn query_bytes(schema: &str, sql: &str) -> Vec<u8> {
    let mut bytes = vec![0; 8]; // thread id, execution time
    bytes.push(schema.len() as u8);
    bytes.extend_from_slice(&[0, 0]); // error code
    bytes.extend_from_slice(&0u16.to_le_bytes()); // no status variables
    bytes.extend_from_slice(schema.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(sql.as_bytes());
    bytes
}

/// A MariaDB GTID event body.
pub(crate) fn mariadb_gtid_bytes(sequence: u64, domain: u32, standalone: bool) -> Vec<u8> {
    let mut bytes = sequence.to_le_bytes().to_vec();
    bytes.extend_from_slice(&domain.to_le_bytes());
    bytes.push(if standalone { 0x01 } else { 0x08 });
    bytes.extend_from_slice(&[0; 6]);
    bytes
}

/// A ROTATE event body.
pub(crate) fn rotate_bytes(position: u64, file: &str) -> Vec<u8> {
    let mut bytes = position.to_le_bytes().to_vec();
    bytes.extend_from_slice(file.as_bytes());
    bytes
}
