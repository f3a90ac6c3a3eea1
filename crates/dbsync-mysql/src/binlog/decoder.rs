//! The binlog as a sequence of transactions: events in, changes and commits out.
//!
//! This is the stream without the network: it keeps the table maps, the position
//! and the MariaDB GTID state, knows where each transaction starts and ends, and
//! decodes the rows events of the tracked tables. Every rule about which events
//! matter, and which must stop the stream, lives here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dbsync_core::{
    BinlogFile, BinlogPosition, Change, ChangeOp, Error, ErrorKind, MariaDbGtid, Result,
    TableSchema,
};

use super::event::{Header, MariaDbGtidEvent, Query, Rotate, event_type as ev, flag};
use super::row_decoder::RowDecoder;
use super::rows_event::{self, RowsEvent, RowsKind};
use super::statement::{NamedTable, Statement};
use super::table_map::{TableMap, TableRef};

/// What one event amounts to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decoded {
    /// Row changes of tracked tables, from one rows event (or a `TRUNCATE`).
    Changes(Vec<Change>),
    /// A transaction ended.
    Commit {
        position: BinlogPosition,
        commit_time: DateTime<Utc>,
        /// Whether it changed a tracked table.
        tracked: bool,
    },
    /// The server had nothing to send; the stream has everything up to `position`.
    CaughtUp(BinlogPosition),
}

/// How a table id was last mapped.
#[derive(Debug)]
struct MappedTable {
    /// The table map event's body, to recognize the same map when the next
    /// statement repeats it, without parsing it again.
    raw: Box<[u8]>,
    /// `None` for a table nobody tracks.
    decoder: Option<Arc<RowDecoder>>,
}

/// Past this many distinct table ids, the cache of table maps starts over rather
/// than grow with every table ever written.
const MAX_TABLE_MAPS: usize = 4096;

#[derive(Debug, Default)]
struct Transaction {
    /// Between its first event and its end (`BEGIN` or a GTID event without the
    /// standalone flag).
    open: bool,
    /// A GTID event announced a transaction of a single statement.
    standalone: bool,
    gtid: Option<MariaDbGtid>,
    /// The first tracked table it changed.
    changed: Option<Arc<TableSchema>>,
}

#[derive(Debug)]
pub(crate) struct Decoder {
    tracked: HashMap<(String, String), Arc<TableSchema>>,
    table_maps: HashMap<u64, MappedTable>,
    file: BinlogFile,
    offset: u64,
    /// Whether `file` and `offset` are a real position: a dump by GTID starts at an
    /// artificial one until the first real event.
    offset_known: bool,
    gtid_state: Vec<MariaDbGtid>,
    transaction: Transaction,
}

impl Decoder {
    /// A decoder that resumes at `from`. `offset_known` is false when the server is
    /// asked for a GTID state and finds the position itself.
    pub(crate) fn new(
        tables: Vec<Arc<TableSchema>>,
        from: BinlogPosition,
        offset_known: bool,
    ) -> Self {
        let mut gtid_state = from.gtid_state;
        gtid_state.sort_by_key(|gtid| gtid.domain);
        Decoder {
            tracked: tables
                .into_iter()
                .map(|table| ((table.name.schema.clone(), table.name.name.clone()), table))
                .collect(),
            table_maps: HashMap::new(),
            file: from.file,
            offset: from.offset,
            offset_known,
            gtid_state,
            transaction: Transaction::default(),
        }
    }

    pub(crate) fn position(&self) -> BinlogPosition {
        BinlogPosition {
            file: self.file.clone(),
            offset: self.offset,
            gtid_state: self.gtid_state.clone(),
        }
    }

    /// Handles one event (its body without checksum), adding what it amounts to.
    pub(crate) fn handle(
        &mut self,
        header: Header,
        data: &[u8],
        out: &mut Vec<Decoded>,
    ) -> Result<()> {
        match header.event_type {
            ev::ROTATE => return self.rotate(header, data),
            ev::HEARTBEAT => return self.heartbeat(header, data, out),
            ev::HEARTBEAT_V2 => {
                self.caught_up(out);
                return Ok(());
            }
            _ => {}
        }
        if header.log_pos != 0 && !header.is_artificial() {
            self.offset = u64::from(header.log_pos);
            self.offset_known = true;
        }
        match header.event_type {
            ev::MARIADB_GTID => {
                let event = MariaDbGtidEvent::parse(data, header.server_id)
                    .map_err(|_| self.malformed(header))?;
                self.transaction = Transaction {
                    open: true,
                    standalone: event.standalone,
                    gtid: Some(event.gtid),
                    changed: None,
                };
            }
            ev::QUERY | ev::EXECUTE_LOAD_QUERY => {
                let query =
                    Query::parse(data, header.event_type).map_err(|_| self.malformed(header))?;
                self.query(header, query, out)?;
            }
            ev::XID => self.commit(header, out),
            ev::XA_PREPARE => self.xa_prepare(header, out)?,
            ev::TABLE_MAP => self.table_map(data)?,
            code => {
                if let Some((kind, version)) = RowsKind::of(code) {
                    self.rows(header, kind, version, data, out)?;
                } else if let Some(cause) = undecodable_rows(code) {
                    self.refuse_rows(header, data, cause)?;
                } else if !is_ignorable(code, header.flags) {
                    return Err(self.unsupported_event(header));
                }
            }
        }
        Ok(())
    }

    /// XA PREPARE ends the event group of an XA transaction whose outcome (XA
    /// COMMIT or XA ROLLBACK) comes later, in a group of its own.
    fn xa_prepare(&mut self, header: Header, out: &mut Vec<Decoded>) -> Result<()> {
        if let Some(table) = &self.transaction.changed {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "an XA transaction changed the table; dbsync does not follow XA transactions, whose outcome comes after their changes: use ordinary transactions on the table and re-sync it",
            )
            .with_table(table.name.clone()));
        }
        self.commit(header, out);
        Ok(())
    }

    fn rotate(&mut self, header: Header, data: &[u8]) -> Result<()> {
        let rotate = Rotate::parse(data).map_err(|_| self.malformed(header))?;
        let name = String::from_utf8_lossy(rotate.file);
        self.file = name.parse().map_err(|e| {
            Error::new(
                ErrorKind::InvalidData,
                "the server rotated to a binlog file dbsync cannot name",
            )
            .with_source(e)
        })?;
        self.offset = rotate.position;
        // The rotate that opens a dump names the file of the requested position; in a
        // dump by GTID, its offset is only where the server starts looking.
        if !header.is_artificial() {
            self.offset_known = true;
        }
        Ok(())
    }

    /// A heartbeat names the server's binlog file, and its header the offset up to
    /// which the server has sent (or, in a dump by GTID, skipped) events.
    fn heartbeat(&mut self, header: Header, data: &[u8], out: &mut Vec<Decoded>) -> Result<()> {
        if !self.transaction.open
            && data == self.file.to_string().as_bytes()
            && u64::from(header.log_pos) >= self.offset
        {
            self.offset = u64::from(header.log_pos);
            self.offset_known = true;
        }
        self.caught_up(out);
        Ok(())
    }

    fn caught_up(&mut self, out: &mut Vec<Decoded>) {
        if !self.transaction.open && self.offset_known {
            out.push(Decoded::CaughtUp(self.position()));
        }
    }

    fn query(&mut self, header: Header, query: Query<'_>, out: &mut Vec<Decoded>) -> Result<()> {
        let sql = String::from_utf8_lossy(query.statement);
        let keyword = sql.trim().trim_end_matches(';').trim();
        if keyword.eq_ignore_ascii_case("BEGIN") || starts_with_words(keyword, &["XA", "START"]) {
            self.transaction.open = true;
            return Ok(());
        }
        if keyword.eq_ignore_ascii_case("COMMIT") || keyword.eq_ignore_ascii_case("ROLLBACK") {
            // A rolled back transaction is logged only for what it did to
            // non-transactional tables, which no rollback undoes.
            self.commit(header, out);
            return Ok(());
        }
        let schema = String::from_utf8_lossy(query.schema);
        match Statement::parse(&sql) {
            Statement::Truncate(table) => {
                if let Some(table) = self.tracked_table(&table, &schema) {
                    self.transaction
                        .changed
                        .get_or_insert_with(|| Arc::clone(&table));
                    out.push(Decoded::Changes(vec![Change {
                        table,
                        op: ChangeOp::Truncate,
                    }]));
                }
            }
            Statement::Redefine(tables) => {
                if let Some(table) = tables.iter().find_map(|t| self.tracked_table(t, &schema)) {
                    return Err(redefined(&table, &sql));
                }
            }
            Statement::DropDatabase(database) => {
                if let Some(table) = self
                    .tracked
                    .values()
                    .find(|t| t.name.schema.eq_ignore_ascii_case(&database))
                {
                    return Err(redefined(table, &sql));
                }
            }
            Statement::Write(table) => {
                if let Some(table) = self.tracked_table(&table, &schema) {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "the statement `{}` was logged as a statement, not as rows (binlog_format=STATEMENT or MIXED in that session); dbsync needs binlog_format=ROW for every session: fix the setting and re-sync the table",
                            abbreviate(&sql)
                        ),
                    )
                    .with_table(table.name.clone()));
                }
            }
            Statement::Other => {}
        }
        if !self.transaction.open || self.transaction.standalone {
            self.commit(header, out);
        }
        Ok(())
    }

    /// The tracked table a statement names, if any. Names compare without case:
    /// with `lower_case_table_names` the server does too, and a false alarm is
    /// better than a missed change.
    fn tracked_table(&self, table: &NamedTable, default_schema: &str) -> Option<Arc<TableSchema>> {
        let schema = table.schema.as_deref().unwrap_or(default_schema);
        self.tracked
            .values()
            .find(|t| {
                t.name.name.eq_ignore_ascii_case(&table.name)
                    && (schema.is_empty() || t.name.schema.eq_ignore_ascii_case(schema))
            })
            .cloned()
    }

    fn commit(&mut self, header: Header, out: &mut Vec<Decoded>) {
        // Every statement maps its tables again, so between transactions the cache
        // may start over.
        if self.table_maps.len() > MAX_TABLE_MAPS {
            self.table_maps.clear();
        }
        let transaction = std::mem::take(&mut self.transaction);
        if let Some(gtid) = transaction.gtid {
            match self
                .gtid_state
                .binary_search_by_key(&gtid.domain, |g| g.domain)
            {
                Ok(i) => self.gtid_state[i] = gtid,
                Err(i) => self.gtid_state.insert(i, gtid),
            }
        }
        out.push(Decoded::Commit {
            position: self.position(),
            commit_time: DateTime::from_timestamp(i64::from(header.timestamp), 0)
                .unwrap_or_default(),
            tracked: transaction.changed.is_some(),
        });
    }

    fn table_map(&mut self, data: &[u8]) -> Result<()> {
        let table = TableRef::parse(data)
            .map_err(|_| Error::new(ErrorKind::InvalidData, "a table map event is malformed"))?;
        if let Some(mapped) = self.table_maps.get(&table.table_id)
            && *mapped.raw == *data
        {
            return Ok(());
        }
        let key = (
            String::from_utf8_lossy(table.schema).into_owned(),
            String::from_utf8_lossy(table.table).into_owned(),
        );
        let decoder = match self.tracked.get(&key) {
            None => None,
            Some(schema) => {
                let map = TableMap::parse(data).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidData,
                        "the binlog's table map of the table is malformed or has a column type dbsync does not know",
                    )
                    .with_table(schema.name.clone())
                })?;
                Some(Arc::new(RowDecoder::new(Arc::clone(schema), &map)?))
            }
        };
        self.table_maps.insert(
            table.table_id,
            MappedTable {
                raw: data.into(),
                decoder,
            },
        );
        Ok(())
    }

    fn mapped(&self, header: Header, data: &[u8]) -> Result<Option<Arc<RowDecoder>>> {
        let table_id = rows_event::table_id(data).map_err(|_| self.malformed(header))?;
        match self.table_maps.get(&table_id) {
            Some(mapped) => Ok(mapped.decoder.clone()),
            None => Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "a rows event at {} refers to table id {table_id}, which no table map introduced; the stream did not start at a transaction boundary",
                    self.position()
                ),
            )),
        }
    }

    fn rows(
        &mut self,
        header: Header,
        kind: RowsKind,
        version: u8,
        data: &[u8],
        out: &mut Vec<Decoded>,
    ) -> Result<()> {
        let Some(decoder) = self.mapped(header, data)? else {
            return Ok(());
        };
        let event = RowsEvent::parse(kind, version, data).map_err(|_| {
            self.malformed(header)
                .with_table(decoder.table().name.clone())
        })?;
        let changes = event.changes(&decoder)?;
        if !changes.is_empty() {
            self.transaction
                .changed
                .get_or_insert_with(|| Arc::clone(decoder.table()));
            out.push(Decoded::Changes(changes));
        }
        Ok(())
    }

    /// Rows events that dbsync cannot decode stop the stream if they are for a
    /// tracked table, and are skipped like any other table's otherwise.
    fn refuse_rows(&self, header: Header, data: &[u8], cause: &str) -> Result<()> {
        match self.mapped(header, data)? {
            Some(decoder) => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{cause}, then re-sync the table"),
            )
            .with_table(decoder.table().name.clone())),
            None => Ok(()),
        }
    }

    fn malformed(&self, header: Header) -> Error {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "the binlog event of type {} ending at {}:{} is malformed",
                header.event_type, self.file, header.log_pos
            ),
        )
    }

    fn unsupported_event(&self, header: Header) -> Error {
        let what = match header.event_type {
            ev::TRANSACTION_PAYLOAD => "a compressed transaction (binlog_transaction_compression=ON); set binlog_transaction_compression=OFF on the server and re-sync".to_owned(),
            ev::MARIADB_QUERY_COMPRESSED => "a compressed statement (log_bin_compress=ON); set log_bin_compress=OFF on the server and re-sync".to_owned(),
            ev::INCIDENT => "an incident: the server may have lost changes from its binlog; re-sync every table".to_owned(),
            code => format!("an event of type {code}, which dbsync does not know; re-sync after checking the server's binlog settings"),
        };
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "the binlog has {what} (at {}:{})",
                self.file, header.log_pos
            ),
        )
    }
}

/// Rows events that dbsync does not decode, with the server setting that writes them.
fn undecodable_rows(code: u8) -> Option<&'static str> {
    match code {
        ev::PARTIAL_UPDATE_ROWS => Some(
            "MySQL logs partial JSON updates (binlog_row_value_options=PARTIAL_JSON); set binlog_row_value_options='' on the server",
        ),
        ev::MARIADB_WRITE_ROWS_COMPRESSED_V1..=ev::MARIADB_DELETE_ROWS_COMPRESSED => Some(
            "MariaDB compresses its binlog (log_bin_compress=ON); set log_bin_compress=OFF on the server",
        ),
        ev::PRE_GA_WRITE_ROWS..=ev::PRE_GA_DELETE_ROWS => {
            Some("the server writes the rows events of MySQL 5.1 betas; upgrade it")
        }
        _ => None,
    }
}

/// Events that neither change rows nor move transactions: skipped.
fn is_ignorable(code: u8, flags: u16) -> bool {
    matches!(
        code,
        ev::STOP
            | ev::INTVAR
            | ev::RAND
            | ev::USER_VAR
            | ev::FORMAT_DESCRIPTION
            | ev::BEGIN_LOAD_QUERY
            | ev::APPEND_BLOCK
            | ev::IGNORABLE
            | ev::ROWS_QUERY
            | ev::GTID
            | ev::ANONYMOUS_GTID
            | ev::PREVIOUS_GTIDS
            | ev::TRANSACTION_CONTEXT
            | ev::VIEW_CHANGE
            | ev::GTID_TAGGED
            | ev::MARIADB_ANNOTATE_ROWS
            | ev::MARIADB_BINLOG_CHECKPOINT
            | ev::MARIADB_GTID_LIST
            | ev::MARIADB_START_ENCRYPTION
    ) || (flags & flag::IGNORABLE != 0 && !matches!(code, ev::TRANSACTION_PAYLOAD | ev::INCIDENT))
}

fn starts_with_words(text: &str, words: &[&str]) -> bool {
    let mut parts = text.split_whitespace();
    words.iter().all(|word| {
        parts
            .next()
            .is_some_and(|part| part.eq_ignore_ascii_case(word))
    })
}

fn redefined(table: &TableSchema, sql: &str) -> Error {
    Error::new(
        ErrorKind::SchemaMismatch,
        format!(
            "its definition changed on the source (`{}`); dbsync does not follow schema changes in the stream yet: the table must be re-synced",
            abbreviate(sql)
        ),
    )
    .with_table(table.name.clone())
}

/// A statement cut short enough for an error message.
fn abbreviate(sql: &str) -> String {
    const MAX: usize = 200;
    let sql = sql.trim();
    match sql.char_indices().nth(MAX) {
        Some((end, _)) => format!("{} ...", &sql[..end]),
        None => sql.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use dbsync_core::{DataType, IntWidth, Value};

    use super::*;
    use crate::binlog::table_map::column_type as ty;
    use crate::binlog::test_support::{
        artificial, column, header, image, mariadb_gtid_bytes, query_bytes, rotate_bytes,
        rows_event_bytes, table, table_map_bytes,
    };

    fn tracked() -> Arc<TableSchema> {
        table(
            "shop",
            "t",
            vec![column(
                "id",
                DataType::Int {
                    width: IntWidth::I32,
                    unsigned: false,
                },
            )],
        )
    }

    fn start(gtid_state: &str) -> Decoder {
        let from = BinlogPosition {
            file: "binlog.000007".parse().unwrap(),
            offset: 400,
            gtid_state: super::super::position::parse_gtid_state(gtid_state).unwrap(),
        };
        Decoder::new(vec![tracked()], from, true)
    }

    /// Feeds events (type, log_pos, body) and returns what they amount to.
    fn feed(decoder: &mut Decoder, events: &[(u8, u32, Vec<u8>)]) -> Result<Vec<Decoded>> {
        let mut out = Vec::new();
        for (event_type, log_pos, data) in events {
            decoder.handle(header(*event_type, *log_pos), data, &mut out)?;
        }
        Ok(out)
    }

    fn table_map(table_id: u64, name: &str) -> (u8, u32, Vec<u8>) {
        (
            ev::TABLE_MAP,
            0,
            table_map_bytes(table_id, "shop", name, &[(ty::LONG, &[])], &[]),
        )
    }

    fn write(table_id: u64, version: u8, id: i32) -> (u8, u32, Vec<u8>) {
        let event_type = if version == 1 {
            ev::WRITE_ROWS_V1
        } else {
            ev::WRITE_ROWS
        };
        let row = image(&[Some(id.to_le_bytes().to_vec())]);
        (
            event_type,
            0,
            rows_event_bytes(table_id, version, false, 1, &[], &[row]),
        )
    }

    fn commit_position(decoded: &[Decoded]) -> (String, bool) {
        match decoded.last() {
            Some(Decoded::Commit {
                position, tracked, ..
            }) => (position.to_string(), *tracked),
            other => panic!("expected a commit, got {other:?}"),
        }
    }

    fn inserted(decoded: &Decoded) -> Vec<Value> {
        match decoded {
            Decoded::Changes(changes) => changes
                .iter()
                .map(|change| match &change.op {
                    ChangeOp::Insert { after } => after[0].clone(),
                    op => panic!("expected an insert, got {op:?}"),
                })
                .collect(),
            other => panic!("expected changes, got {other:?}"),
        }
    }

    #[test]
    fn a_mariadb_transaction_commits_with_its_gtid() {
        let mut decoder = start("0-1-41,2-5-9");
        let decoded = feed(
            &mut decoder,
            &[
                (ev::MARIADB_GTID, 500, mariadb_gtid_bytes(42, 0, false)),
                table_map(9, "t"),
                write(9, 1, 5),
                (ev::XID, 600, 77u64.to_le_bytes().to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(inserted(&decoded[0]), [Value::Int(5)]);
        assert_eq!(
            commit_position(&decoded),
            ("binlog.000007:600 gtid 0-1-42,2-5-9".into(), true)
        );
    }

    #[test]
    fn a_mysql_transaction_with_version_2_rows() {
        let mut decoder = start("");
        let decoded = feed(
            &mut decoder,
            &[
                (ev::ANONYMOUS_GTID, 450, vec![0; 42]),
                (ev::QUERY, 500, query_bytes("shop", "BEGIN")),
                table_map(9, "t"),
                write(9, 2, -5),
                (ev::XID, 600, 77u64.to_le_bytes().to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(inserted(&decoded[0]), [Value::Int(-5)]);
        assert_eq!(
            commit_position(&decoded),
            ("binlog.000007:600".into(), true)
        );
    }

    #[test]
    fn a_non_transactional_table_commits_with_a_query() {
        let mut decoder = start("0-1-1");
        let decoded = feed(
            &mut decoder,
            &[
                (ev::MARIADB_GTID, 500, mariadb_gtid_bytes(2, 0, false)),
                table_map(9, "t"),
                write(9, 1, 1),
                (ev::QUERY, 600, query_bytes("shop", "COMMIT")),
            ],
        )
        .unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(
            commit_position(&decoded),
            ("binlog.000007:600 gtid 0-1-2".into(), true)
        );
    }

    #[test]
    fn ddl_is_a_transaction_of_its_own() {
        let mut decoder = start("0-1-1");
        let decoded = feed(
            &mut decoder,
            &[
                (ev::MARIADB_GTID, 500, mariadb_gtid_bytes(2, 0, true)),
                (ev::QUERY, 550, query_bytes("shop", "TRUNCATE TABLE t")),
                (ev::MARIADB_GTID, 600, mariadb_gtid_bytes(3, 0, true)),
                (
                    ev::QUERY,
                    650,
                    query_bytes("other", "ALTER TABLE t ADD c INT"),
                ),
            ],
        )
        .unwrap();
        assert!(
            matches!(&decoded[0], Decoded::Changes(changes) if changes[0].op == ChangeOp::Truncate)
        );
        assert!(matches!(&decoded[1], Decoded::Commit { tracked: true, .. }));
        assert_eq!(
            commit_position(&decoded),
            ("binlog.000007:650 gtid 0-1-3".into(), false),
            "other.t is not shop.t"
        );

        let error = feed(
            &mut decoder,
            &[
                (ev::MARIADB_GTID, 700, mariadb_gtid_bytes(4, 0, true)),
                (
                    ev::QUERY,
                    750,
                    query_bytes("other", "ALTER TABLE `shop`.`T` ADD c INT"),
                ),
            ],
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::SchemaMismatch);
        assert_eq!(error.table(), Some(&tracked().name));
    }

    #[test]
    fn untracked_tables_commit_without_changes() {
        let mut decoder = start("0-1-1");
        let decoded = feed(
            &mut decoder,
            &[
                (ev::MARIADB_GTID, 500, mariadb_gtid_bytes(2, 0, false)),
                table_map(10, "other"),
                write(10, 1, 1),
                (
                    ev::PARTIAL_UPDATE_ROWS,
                    0,
                    rows_event_bytes(10, 2, true, 1, &[], &[]),
                ),
                (ev::XID, 600, vec![0; 8]),
            ],
        )
        .unwrap();
        assert_eq!(decoded.len(), 1);
        assert_eq!(
            commit_position(&decoded),
            ("binlog.000007:600 gtid 0-1-2".into(), false)
        );
    }

    #[test]
    fn events_dbsync_cannot_decode_stop_the_stream_for_tracked_tables() {
        let partial = rows_event_bytes(9, 2, true, 1, &[], &[]);
        let error = feed(
            &mut start(""),
            &[table_map(9, "t"), (ev::PARTIAL_UPDATE_ROWS, 0, partial)],
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert!(
            error.to_string().contains("binlog_row_value_options"),
            "{error}"
        );

        let compressed = rows_event_bytes(9, 1, false, 1, &[], &[]);
        let error = feed(
            &mut start(""),
            &[
                table_map(9, "t"),
                (ev::MARIADB_WRITE_ROWS_COMPRESSED_V1, 0, compressed),
            ],
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("log_bin_compress=OFF"),
            "{error}"
        );

        let error = feed(
            &mut start(""),
            &[(ev::TRANSACTION_PAYLOAD, 700, vec![0; 16])],
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("binlog_transaction_compression=OFF"),
            "{error}"
        );

        let error = feed(&mut start(""), &[write(9, 2, 1)]).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidData,
            "rows without a table map: {error}"
        );

        let error = feed(&mut start(""), &[(200, 700, vec![])]).unwrap_err();
        assert!(error.to_string().contains("type 200"), "{error}");
    }

    #[test]
    fn rotation_and_heartbeats_move_the_position() {
        let mut decoder = start("0-1-1");
        let mut rotate = header(ev::ROTATE, 900);
        let mut out = Vec::new();
        decoder
            .handle(rotate, &rotate_bytes(4, "binlog.000008"), &mut out)
            .unwrap();
        assert_eq!(decoder.position().to_string(), "binlog.000008:4 gtid 0-1-1");

        decoder
            .handle(header(ev::HEARTBEAT, 1200), b"binlog.000008", &mut out)
            .unwrap();
        assert_eq!(
            out,
            [Decoded::CaughtUp(BinlogPosition {
                file: "binlog.000008".parse().unwrap(),
                offset: 1200,
                gtid_state: vec!["0-1-1".parse().unwrap()],
            })]
        );

        // A dump by GTID starts at an artificial position, which is not reported.
        let from = decoder.position();
        let mut by_gtid = Decoder::new(vec![tracked()], from, false);
        rotate = artificial(header(ev::ROTATE, 0));
        out.clear();
        by_gtid
            .handle(rotate, &rotate_bytes(4, "binlog.000009"), &mut out)
            .unwrap();
        by_gtid
            .handle(header(ev::HEARTBEAT, 300), b"binlog.000008", &mut out)
            .unwrap();
        assert_eq!(out, [], "a heartbeat of another file says nothing");
    }
}
