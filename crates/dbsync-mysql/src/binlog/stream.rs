//! The replication connection: it asks the server for its binlog from a position and
//! turns what arrives into [`StreamItem`]s.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use dbsync_core::{BinlogPosition, Error, ErrorKind, Position, Result, StreamItem, TableSchema};
use futures_util::Stream;
use mysql_async::binlog::BinlogChecksumAlg;
use mysql_async::binlog::events::Event;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, Opts, OptsBuilder};

use super::decoder::{Decoded, Decoder};
use super::event::{self, Header, event_type as ev};
use super::position::{format_gtid_state, gtid_state_at};
use crate::error::driver_error;
use crate::flavor::Flavor;

/// How the stream identifies itself and watches its connection.
#[derive(Debug, Clone)]
pub struct BinlogConfig {
    /// The replica id the server knows this stream by. It must differ from the
    /// server's own id and from every other replica's and stream's: the server
    /// ends the older of two dumps with the same id.
    pub server_id: u32,
    /// How often an idle server sends a heartbeat. The stream reports the
    /// connection lost after [`MISSED_HEARTBEATS`] periods without any event.
    pub heartbeat: Duration,
}

impl BinlogConfig {
    pub fn new(server_id: u32) -> Self {
        BinlogConfig {
            server_id,
            heartbeat: Duration::from_secs(10),
        }
    }
}

/// Heartbeat periods without any event after which the connection counts as lost.
pub const MISSED_HEARTBEATS: u32 = 4;

/// A transaction that touched no tracked table yields a commit at most this often,
/// so that the caller's checkpoint follows the source through long stretches of
/// other tables' traffic without an item per foreign transaction.
const UNTRACKED_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// The largest packet mysql_async accepts; a binlog event is one packet, and the
/// server sends events of any size it can write (up to 1 GiB) whatever its
/// `max_allowed_packet`.
const MAX_PACKET: usize = 1 << 30;

/// While the caller does not read, the server's writes to this connection wait;
/// after `net_write_timeout` the server drops the dump. Backpressure from a slow
/// target is normal here, so the dump waits an hour rather than a minute.
const NET_WRITE_TIMEOUT_SECONDS: u32 = 3600;

/// Row changes of the tracked tables, as they are committed on a MySQL or MariaDB
/// server, read from its binlog as a replica does.
///
/// Yields [`StreamItem::Changes`] for each rows event of a tracked table (so a large
/// transaction arrives in many items) and for `TRUNCATE`, and a
/// [`StreamItem::Commit`] at the end of each transaction that changed a tracked
/// table; see [`BinlogStream::next`] for the commits of other transactions.
pub struct BinlogStream {
    events: mysql_async::BinlogStream,
    decoder: Decoder,
    decoded: Vec<Decoded>,
    pending: VecDeque<StreamItem>,
    idle_timeout: Duration,
    /// When the last event (or heartbeat) arrived. The connection counts as lost
    /// `idle_timeout` after it, however many calls to `next` that spans: a caller
    /// may drop `next` on a shorter timeout of its own and call again.
    last_event: tokio::time::Instant,
    last_commit: Instant,
    /// Whether a format description arrived, which says if events carry checksums.
    format_known: bool,
    /// Set by the first error; the stream cannot continue past an event it failed on.
    failed: bool,
}

impl std::fmt::Debug for BinlogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogStream")
            .field("position", &self.decoder.position())
            .field("pending", &self.pending.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl BinlogStream {
    /// Connects with `opts`, checks that the server logs full row images, and asks
    /// for the binlog from `from`: by GTID state on MariaDB when `from` has one, by
    /// file and offset otherwise. `from` must be a transaction boundary, such as the
    /// position of a [`StreamItem::Commit`] or [`super::current_position`].
    pub async fn start(
        opts: Opts,
        config: BinlogConfig,
        tables: Vec<Arc<TableSchema>>,
        from: BinlogPosition,
    ) -> Result<BinlogStream> {
        if !(Duration::from_millis(1)..=Duration::from_secs(3600)).contains(&config.heartbeat) {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "the binlog heartbeat period must be between a millisecond and an hour, not {:?}: it is how a lost connection is noticed",
                    config.heartbeat
                ),
            ));
        }
        // prefer_socket: mysql_async otherwise moves a connection to 127.0.0.1 onto
        // the server's Unix socket, bypassing whatever listens on the port.
        let opts = OptsBuilder::from_opts(opts)
            .prefer_socket(false)
            .max_allowed_packet(Some(MAX_PACKET));
        let mut conn = Conn::new(opts)
            .await
            .map_err(|e| driver_error("connecting to the binlog source", e))?;
        let flavor = Flavor::of(&mut conn).await?;
        check_settings(&mut conn).await?;

        let by_gtid = !from.gtid_state.is_empty();
        let mut from = from;
        match flavor {
            Flavor::Mysql if by_gtid => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "the position {from} has a MariaDB GTID state but the server is MySQL: it is not the server the position was read from"
                    ),
                ));
            }
            // Commits report the GTID state too, so it must be known from the start.
            Flavor::MariaDb if !by_gtid => {
                from.gtid_state = gtid_state_at(&mut conn, &from.file, from.offset).await?;
            }
            _ => {}
        }
        let offset = u32::try_from(from.offset).map_err(|_| {
            Error::new(
                ErrorKind::Unsupported,
                format!("the binlog position {from} is beyond 4 GiB into its file, which the replication protocol cannot ask for"),
            )
        })?;

        let mut setup = vec![
            format!(
                "SET @master_heartbeat_period = {}",
                config.heartbeat.as_nanos()
            ),
            format!("SET SESSION net_write_timeout = {NET_WRITE_TIMEOUT_SECONDS}"),
        ];
        if flavor == Flavor::MariaDb {
            // Capability 4 (MARIA_SLAVE_CAPABILITY_GTID): send GTID events as they
            // are, rather than rewritten as BEGIN for replicas from before GTIDs.
            setup.push("SET @mariadb_slave_capability = 4".into());
        }
        if by_gtid {
            setup.push(format!(
                "SET @slave_connect_state = '{}', @slave_gtid_strict_mode = 1, @slave_gtid_ignore_duplicates = 0",
                format_gtid_state(&from.gtid_state)
            ));
        }
        for sql in setup {
            conn.query_drop(&sql)
                .await
                .map_err(|e| driver_error("preparing the binlog dump", e))?;
        }

        // By GTID, MariaDB finds the file and offset itself, from an empty file name.
        let file_name = if by_gtid {
            String::new()
        } else {
            from.file.to_string()
        };
        let request = BinlogStreamRequest::new(config.server_id)
            .with_filename(file_name.as_bytes())
            .with_pos(if by_gtid { 4 } else { u64::from(offset) });
        let events = conn
            .get_binlog_stream(request)
            .await
            .map_err(|e| stream_error(&from, e))?;

        Ok(BinlogStream {
            events,
            decoder: Decoder::new(tables, from, !by_gtid),
            decoded: Vec::new(),
            pending: VecDeque::new(),
            idle_timeout: config.heartbeat.saturating_mul(MISSED_HEARTBEATS),
            last_event: tokio::time::Instant::now(),
            last_commit: Instant::now(),
            format_known: false,
            failed: false,
        })
    }

    /// The next item, waiting for the server as long as it takes.
    ///
    /// Besides the commits of transactions that changed a tracked table, the stream
    /// yields a `Commit` (with no changes before it) for the other transactions at
    /// most once a second, and one at each heartbeat the server sends when idle,
    /// stamped with the time it arrived: both tell the caller the stream is alive
    /// and how far it has read, so its checkpoint need not lag behind the source.
    ///
    /// Errors end the stream; a lost connection is [`ErrorKind::Connection`], to be
    /// retried by starting a new stream from the last commit's position. Dropping
    /// the future before it completes loses nothing.
    pub async fn next(&mut self) -> Result<StreamItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(item);
            }
            if self.failed {
                return Err(Error::new(
                    ErrorKind::Connection,
                    "the binlog stream failed earlier; start a new one from the last commit's position",
                ));
            }
            let deadline = self.last_event + self.idle_timeout;
            let event = match tokio::time::timeout_at(deadline, self.next_event()).await {
                Err(_) => Err(Error::new(
                    ErrorKind::Connection,
                    format!(
                        "the server sent neither an event nor a heartbeat for {:?}; the connection is presumed lost",
                        self.idle_timeout
                    ),
                )),
                Ok(None) => Err(Error::new(
                    ErrorKind::Connection,
                    "the server ended the binlog stream",
                )),
                Ok(Some(Err(e))) => Err(stream_error(&self.decoder.position(), e)),
                Ok(Some(Ok(event))) => {
                    self.last_event = tokio::time::Instant::now();
                    self.handle(&event)
                }
            };
            if let Err(error) = event {
                self.failed = true;
                return Err(error);
            }
        }
    }

    /// Closes the connection.
    pub async fn close(self) -> Result<()> {
        self.events
            .close()
            .await
            .map_err(|e| driver_error("closing the binlog stream", e))
    }

    async fn next_event(&mut self) -> Option<mysql_async::Result<Event>> {
        poll_fn(|cx| Pin::new(&mut self.events).poll_next(cx)).await
    }

    fn handle(&mut self, event: &Event) -> Result<()> {
        let raw = event.header();
        let header = Header {
            timestamp: raw.timestamp(),
            event_type: raw.event_type_raw(),
            server_id: raw.server_id(),
            event_size: raw.event_size(),
            log_pos: raw.log_pos(),
            flags: raw.flags_raw(),
        };
        let data = self.verified_data(header, event)?;
        self.decoder.handle(header, data, &mut self.decoded)?;
        for decoded in self.decoded.drain(..) {
            let item = match decoded {
                Decoded::Changes(changes) => StreamItem::Changes(changes),
                Decoded::Commit {
                    position,
                    commit_time,
                    tracked,
                } => {
                    if !tracked && self.last_commit.elapsed() < UNTRACKED_COMMIT_INTERVAL {
                        continue;
                    }
                    self.last_commit = Instant::now();
                    StreamItem::Commit {
                        position: Position::Binlog(position),
                        commit_time,
                    }
                }
                Decoded::CaughtUp(position) => {
                    self.last_commit = Instant::now();
                    StreamItem::Commit {
                        position: Position::Binlog(position),
                        commit_time: Utc::now(),
                    }
                }
            };
            self.pending.push_back(item);
        }
        Ok(())
    }

    /// The event's body after checking its CRC32, which mysql_async does not do.
    fn verified_data<'a>(&mut self, header: Header, event: &'a Event) -> Result<&'a [u8]> {
        let data = event.data();
        if header.event_type == ev::FORMAT_DESCRIPTION {
            self.format_known = true;
        }
        let algorithm = event.footer().get_checksum_alg();
        let Some(expected) = event.checksum() else {
            return Ok(match header.event_type {
                ev::ROTATE if !self.format_known => event::strip_unannounced_checksum(header, data),
                _ => data,
            });
        };
        if algorithm != Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32)) {
            return Ok(data);
        }
        let algorithm_byte = (header.event_type == ev::FORMAT_DESCRIPTION)
            .then_some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32 as u8);
        if event::checksum(header, data, algorithm_byte) != u32::from_le_bytes(expected) {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "the binlog event of type {} ending at {}:{} fails its CRC32 checksum: it was corrupted on the server's disk or on the way",
                    header.event_type,
                    self.decoder.position().file,
                    header.log_pos
                ),
            ));
        }
        Ok(data)
    }
}

/// The settings without which the binlog does not hold what dbsync needs.
async fn check_settings(conn: &mut Conn) -> Result<()> {
    let settings: Option<(String, String, String)> = conn
        .query_first("SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image")
        .await
        .map_err(|e| driver_error("reading the server's binlog settings", e))?;
    let (log_bin, format, row_image) = settings.unwrap_or_default();
    let wrong = |setting: &str, value: &str, fix: &str| {
        Err(Error::new(
            ErrorKind::SourceSetting,
            format!(
                "the server has {setting}={value}; dbsync reads row changes from the binlog only with {fix}"
            ),
        ))
    };
    if log_bin != "1" && !log_bin.eq_ignore_ascii_case("ON") {
        return wrong(
            "log_bin",
            &log_bin,
            "log_bin enabled (restart the server with --log-bin)",
        );
    }
    if !format.eq_ignore_ascii_case("ROW") {
        return wrong("binlog_format", &format, "binlog_format=ROW");
    }
    if !row_image.eq_ignore_ascii_case("FULL") {
        return wrong("binlog_row_image", &row_image, "binlog_row_image=FULL");
    }
    Ok(())
}

/// A driver error while reading the stream, in dbsync's kinds.
fn stream_error(position: &BinlogPosition, error: mysql_async::Error) -> Error {
    match &error {
        // ER_MASTER_FATAL_ERROR_READING_BINLOG: the position is not in the binlog,
        // most often because the files were purged.
        mysql_async::Error::Server(server) if server.code == 1236 => Error::new(
            ErrorKind::SourceSetting,
            format!(
                "the server cannot send its binlog from {position}: {}; if the files were purged, keep binlogs longer (binlog_expire_logs_seconds) and re-sync the pair",
                server.message
            ),
        ),
        // mysql_common reports an event it cannot parse as invalid data; retrying
        // would read the same event again.
        mysql_async::Error::Io(mysql_async::IoError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            Error::new(
                ErrorKind::InvalidData,
                format!("the binlog after {position} holds an event mysql_async cannot read"),
            )
            .with_source(error)
        }
        _ => driver_error(&format!("reading the binlog after {position}"), error),
    }
}
