//! The events around the rows: their common header, their checksum, and the few
//! that move the position, delimit transactions or carry statements.

use dbsync_core::MariaDbGtid;

use super::reader::{Reader, Truncated};

/// Event type codes, MySQL's and MariaDB's (from 160).
pub(crate) mod event_type {
    pub(crate) const QUERY: u8 = 2;
    pub(crate) const STOP: u8 = 3;
    pub(crate) const ROTATE: u8 = 4;
    pub(crate) const INTVAR: u8 = 5;
    pub(crate) const APPEND_BLOCK: u8 = 9;
    pub(crate) const RAND: u8 = 13;
    pub(crate) const USER_VAR: u8 = 14;
    pub(crate) const FORMAT_DESCRIPTION: u8 = 15;
    pub(crate) const XID: u8 = 16;
    pub(crate) const BEGIN_LOAD_QUERY: u8 = 17;
    pub(crate) const EXECUTE_LOAD_QUERY: u8 = 18;
    pub(crate) const TABLE_MAP: u8 = 19;
    pub(crate) const PRE_GA_WRITE_ROWS: u8 = 20;
    pub(crate) const PRE_GA_DELETE_ROWS: u8 = 22;
    pub(crate) const WRITE_ROWS_V1: u8 = 23;
    pub(crate) const UPDATE_ROWS_V1: u8 = 24;
    pub(crate) const DELETE_ROWS_V1: u8 = 25;
    pub(crate) const INCIDENT: u8 = 26;
    pub(crate) const HEARTBEAT: u8 = 27;
    pub(crate) const IGNORABLE: u8 = 28;
    pub(crate) const ROWS_QUERY: u8 = 29;
    pub(crate) const WRITE_ROWS: u8 = 30;
    pub(crate) const UPDATE_ROWS: u8 = 31;
    pub(crate) const DELETE_ROWS: u8 = 32;
    pub(crate) const GTID: u8 = 33;
    pub(crate) const ANONYMOUS_GTID: u8 = 34;
    pub(crate) const PREVIOUS_GTIDS: u8 = 35;
    pub(crate) const TRANSACTION_CONTEXT: u8 = 36;
    pub(crate) const VIEW_CHANGE: u8 = 37;
    pub(crate) const XA_PREPARE: u8 = 38;
    pub(crate) const PARTIAL_UPDATE_ROWS: u8 = 39;
    pub(crate) const TRANSACTION_PAYLOAD: u8 = 40;
    pub(crate) const HEARTBEAT_V2: u8 = 41;
    pub(crate) const GTID_TAGGED: u8 = 42;
    pub(crate) const MARIADB_ANNOTATE_ROWS: u8 = 160;
    pub(crate) const MARIADB_BINLOG_CHECKPOINT: u8 = 161;
    pub(crate) const MARIADB_GTID: u8 = 162;
    pub(crate) const MARIADB_GTID_LIST: u8 = 163;
    pub(crate) const MARIADB_START_ENCRYPTION: u8 = 164;
    pub(crate) const MARIADB_QUERY_COMPRESSED: u8 = 165;
    pub(crate) const MARIADB_WRITE_ROWS_COMPRESSED_V1: u8 = 166;
    pub(crate) const MARIADB_DELETE_ROWS_COMPRESSED: u8 = 171;
}

/// Event header flags.
pub(crate) mod flag {
    /// Set in a binlog file's format description while the server writes the file;
    /// the checksum is computed with it cleared.
    pub(crate) const BINLOG_IN_USE: u16 = 0x0001;
    /// Made up by the server for the replica (a rotate at the start of a dump), not
    /// read from a binlog file: its position fields are not positions in the file.
    pub(crate) const ARTIFICIAL: u16 = 0x0020;
    /// A replica that does not know the event type may skip it.
    pub(crate) const IGNORABLE: u16 = 0x0080;
}

/// The 19 bytes that start every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) timestamp: u32,
    pub(crate) event_type: u8,
    pub(crate) server_id: u32,
    pub(crate) event_size: u32,
    /// The offset of the next event in the binlog file; 0 in artificial events.
    pub(crate) log_pos: u32,
    pub(crate) flags: u16,
}

impl Header {
    fn to_bytes(self) -> [u8; 19] {
        let mut bytes = [0u8; 19];
        bytes[0..4].copy_from_slice(&self.timestamp.to_le_bytes());
        bytes[4] = self.event_type;
        bytes[5..9].copy_from_slice(&self.server_id.to_le_bytes());
        bytes[9..13].copy_from_slice(&self.event_size.to_le_bytes());
        bytes[13..17].copy_from_slice(&self.log_pos.to_le_bytes());
        bytes[17..19].copy_from_slice(&self.flags.to_le_bytes());
        bytes
    }

    pub(crate) fn is_artificial(&self) -> bool {
        self.flags & flag::ARTIFICIAL != 0
    }
}

/// The CRC32 of an event as the server computes it: over the header and the body,
/// plus, for a format description, the byte that names the checksum algorithm.
pub(crate) fn checksum(header: Header, data: &[u8], algorithm_byte: Option<u8>) -> u32 {
    let mut header = header;
    header.flags &= !flag::BINLOG_IN_USE;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header.to_bytes());
    hasher.update(data);
    if let Some(byte) = algorithm_byte {
        hasher.update(&[byte]);
    }
    hasher.finalize()
}

/// `data` without the checksum that trails it, when it ends with one.
///
/// The rotate event that opens a dump comes before the format description that says
/// whether events carry checksums, so mysql_async leaves the checksum in it (as four
/// bytes at the end of the file name). A checksum that matches is one.
pub(crate) fn strip_unannounced_checksum(header: Header, data: &[u8]) -> &[u8] {
    match data.split_last_chunk::<4>() {
        Some((body, crc)) if checksum(header, body, None) == u32::from_le_bytes(*crc) => body,
        _ => data,
    }
}

/// ROTATE: the binlog continues in another file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rotate<'a> {
    pub(crate) position: u64,
    pub(crate) file: &'a [u8],
}

impl<'a> Rotate<'a> {
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, Truncated> {
        let mut input = Reader::new(data);
        let position = input.u64_le()?;
        Ok(Rotate {
            position,
            file: input.rest(),
        })
    }
}

/// QUERY (and EXECUTE_LOAD_QUERY, which extends it): a statement as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Query<'a> {
    /// The default database the statement ran in.
    pub(crate) schema: &'a [u8],
    pub(crate) statement: &'a [u8],
}

impl<'a> Query<'a> {
    /// QUERY's fixed part is 13 bytes; EXECUTE_LOAD_QUERY adds 13 of its own.
    pub(crate) fn parse(data: &'a [u8], event_type: u8) -> Result<Self, Truncated> {
        let mut input = Reader::new(data);
        input.skip(8)?; // thread id, execution time
        let schema_len = input.u8()?;
        input.skip(2)?; // error code
        let status_len = input.u16_le()?;
        if event_type == event_type::EXECUTE_LOAD_QUERY {
            input.skip(13)?;
        }
        input.skip(usize::from(status_len))?;
        let schema = input.take(usize::from(schema_len))?;
        input.skip(1)?; // NUL
        Ok(Query {
            schema,
            statement: input.rest(),
        })
    }
}

/// MariaDB's GTID event, which opens every transaction (in place of `BEGIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MariaDbGtidEvent {
    pub(crate) gtid: MariaDbGtid,
    /// The transaction is this event and one statement, without `BEGIN`/`COMMIT`
    /// (DDL, and statements on non-transactional tables outside a transaction).
    pub(crate) standalone: bool,
}

impl MariaDbGtidEvent {
    const STANDALONE: u8 = 0x01;

    /// The GTID's server id is that of the server that wrote the event first.
    pub(crate) fn parse(data: &[u8], server_id: u32) -> Result<Self, Truncated> {
        let mut input = Reader::new(data);
        let sequence = input.u64_le()?;
        let domain = input.u32_le()?;
        let flags = input.u8()?;
        Ok(MariaDbGtidEvent {
            gtid: MariaDbGtid {
                domain,
                server: server_id,
                sequence,
            },
            standalone: flags & Self::STANDALONE != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(event_type: u8) -> Header {
        Header {
            timestamp: 1_700_000_000,
            event_type,
            server_id: 1,
            event_size: 0,
            log_pos: 0,
            flags: flag::ARTIFICIAL,
        }
    }

    #[test]
    fn a_trailing_checksum_is_recognized_and_stripped() {
        let mut data = 4u64.to_le_bytes().to_vec();
        data.extend_from_slice(b"binlog.000001");
        let header = header(event_type::ROTATE);
        let crc = checksum(header, &data, None);
        let mut with_crc = data.clone();
        with_crc.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(strip_unannounced_checksum(header, &with_crc), &data[..]);
        assert_eq!(strip_unannounced_checksum(header, &data), &data[..]);
        assert_eq!(Rotate::parse(&data).unwrap().file, b"binlog.000001");
    }

    #[test]
    fn the_in_use_flag_is_not_part_of_the_checksum() {
        let mut in_use = header(event_type::FORMAT_DESCRIPTION);
        let crc = checksum(in_use, b"body", Some(1));
        in_use.flags |= flag::BINLOG_IN_USE;
        assert_eq!(checksum(in_use, b"body", Some(1)), crc);
    }

    #[test]
    fn reads_a_query_past_its_status_variables() {
        let mut data = vec![0; 8];
        data.push(4); // schema length
        data.extend_from_slice(&[0, 0]);
        data.extend_from_slice(&3u16.to_le_bytes());
        data.extend_from_slice(&[9, 9, 9]);
        data.extend_from_slice(b"shop\0TRUNCATE t");
        let query = Query::parse(&data, event_type::QUERY).unwrap();
        assert_eq!(query.schema, b"shop");
        assert_eq!(query.statement, b"TRUNCATE t");
    }

    #[test]
    fn reads_a_mariadb_gtid() {
        let mut data = 42u64.to_le_bytes().to_vec();
        data.extend_from_slice(&7u32.to_le_bytes());
        data.push(0x01 | 0x20);
        let event = MariaDbGtidEvent::parse(&data, 3).unwrap();
        assert_eq!(event.gtid.to_string(), "7-3-42");
        assert!(event.standalone);
    }
}
