//! MySQL -> MySQL: the writer against a second MariaDB, fed by the real pipeline
//! from the source MariaDB's tables and binlog.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use dbsync_core::pipeline::{
    BatchLimits, Capture, CopyOptions, Source, Target, copy_tables, earliest_position,
    stream_changes,
};
use dbsync_core::{
    Change, ChangeBatch, ChangeOp, Checkpoint, CopyProgress, ErrorKind, Position, Row, TableName,
    TableSchema, Value,
};
use dbsync_mysql::binlog::BinlogConfig;
use dbsync_mysql::capture::BinlogCapture;
use dbsync_mysql::source::MysqlSource;
use dbsync_mysql::writer::{CopyMethod, Writer};
use dbsync_testkit::{Dataset, MariaDb};
use mysql_async::prelude::Queryable;

/// Each stream needs its own replica id; the binlog tests count from 1000.
fn server_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(5000);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

pub(crate) fn options(server: &MariaDb, db: &str) -> mysql_async::Opts {
    dbsync_mysql::session::options_from_url(&server.url(db)).unwrap()
}

async fn connect(server: &MariaDb, db: &str) -> mysql_async::Conn {
    dbsync_mysql::session::connect(options(server, db), "a test server")
        .await
        .unwrap()
}

/// The tables of `db` on `server` as dbsync reads them, without the checkpoints.
pub(crate) async fn tables(server: &MariaDb, db: &str) -> Vec<Arc<TableSchema>> {
    let mut conn = connect(server, db).await;
    let tables = dbsync_mysql::schema::read_tables(&mut conn, db)
        .await
        .unwrap();
    conn.disconnect().await.unwrap();
    tables
        .into_iter()
        .filter(|t| t.name.name != dbsync_mysql::writer::CHECKPOINT_TABLE)
        .map(Arc::new)
        .collect()
}

async fn writer(target_db: &str, tables: &[Arc<TableSchema>]) -> Writer {
    let target = dbsync_testkit::mariadb_target();
    let mut writer = Writer::connect(options(target, target_db), "test")
        .await
        .unwrap();
    for table in tables {
        writer.prepare_table(table).await.unwrap();
    }
    writer
}

fn capture(source_db: &str) -> BinlogCapture {
    let url = dbsync_testkit::mariadb().replication_url(source_db);
    BinlogCapture::new(
        dbsync_mysql::session::options_from_url(&url).unwrap(),
        BinlogConfig::new(server_id()),
        Duration::from_millis(20),
    )
}

/// A pair from a source database into a target one, driven as `dbsync run` does.
pub(crate) struct Pair {
    pub(crate) source_db: String,
    pub(crate) target_db: String,
    pub(crate) tables: Vec<Arc<TableSchema>>,
    capture: BinlogCapture,
    pub(crate) writer: Writer,
    checkpoints: HashMap<TableName, Checkpoint>,
}

impl Pair {
    /// Copies every table of `source_db` into a new target database with `lanes`
    /// lanes in chunks of `rows_per_chunk`, by `method`.
    pub(crate) async fn copy(
        source_db: &str,
        lanes: usize,
        rows_per_chunk: usize,
        method: CopyMethod,
    ) -> Pair {
        let target_db = dbsync_testkit::mariadb_target()
            .create_database(source_db)
            .unwrap();
        let tables = tables(dbsync_testkit::mariadb(), source_db).await;
        let mut lane_list = Vec::new();
        for _ in 0..lanes {
            let source = MysqlSource::connect(options(dbsync_testkit::mariadb(), source_db))
                .await
                .unwrap();
            let mut writer = writer(&target_db, &tables).await;
            writer.set_copy_method(method).unwrap();
            lane_list.push((source, writer));
        }
        let mut checkpoints: HashMap<TableName, Checkpoint> = lane_list[0]
            .1
            .checkpoints()
            .await
            .unwrap()
            .into_iter()
            .collect();
        let mut capture = capture(source_db);
        copy_tables(
            lane_list,
            &mut capture,
            &tables,
            &mut checkpoints,
            CopyOptions { rows_per_chunk },
        )
        .await
        .unwrap();
        let writer = writer(&target_db, &tables).await;
        Pair {
            source_db: source_db.to_owned(),
            target_db,
            tables,
            capture,
            writer,
            checkpoints,
        }
    }

    /// Streams the source's changes until the target holds everything committed so
    /// far.
    async fn catch_up(&mut self) {
        let now = self
            .capture
            .start_position(&self.tables[0], &HashMap::new())
            .await
            .unwrap();
        let from = earliest_position(&self.checkpoints).unwrap().clone();
        let mut stream = self
            .capture
            .stream(self.tables.clone(), from)
            .await
            .unwrap();
        let streaming = stream_changes(
            &mut stream,
            &mut self.writer,
            &mut self.checkpoints,
            BatchLimits::default(),
            Some(now),
            std::future::pending(),
        );
        tokio::time::timeout(Duration::from_secs(120), streaming)
            .await
            .expect("the stream caught up in time")
            .unwrap();
    }

    /// Every table of the source and of the target, value by value, and their columns,
    /// keys and indexes as introspection reads them and as `SHOW CREATE TABLE` says.
    async fn assert_converged(&self) {
        let source = dbsync_testkit::mariadb();
        let target = dbsync_testkit::mariadb_target();
        let target_tables = tables(target, &self.target_db).await;
        assert_eq!(
            target_tables.len(),
            self.tables.len(),
            "the target has one table per source table"
        );
        let mut source_conn = connect(source, &self.source_db).await;
        let mut target_conn = connect(target, &self.target_db).await;
        for (source_table, target_table) in self.tables.iter().zip(&target_tables) {
            let name = &source_table.name.name;
            assert_eq!(&target_table.name.name, name);
            assert_eq!(
                target_table.columns, source_table.columns,
                "the columns of {name}"
            );
            assert_eq!(
                target_table.primary_key, source_table.primary_key,
                "the key of {name}"
            );
            assert_eq!(
                target_table.indexes, source_table.indexes,
                "the indexes of {name}"
            );
            assert_eq!(
                column_definitions(&mut target_conn, name).await,
                column_definitions(&mut source_conn, name).await,
                "SHOW CREATE TABLE {name}"
            );
            let source_rows = read_all(source, &self.source_db, source_table).await;
            let target_rows = read_all(target, &self.target_db, target_table).await;
            assert_eq!(source_rows.len(), target_rows.len(), "the rows of {name}");
            for (s, t) in source_rows.iter().zip(&target_rows) {
                assert_eq!(s, t, "a row of {name}");
            }
        }
    }
}

/// The column lines of `SHOW CREATE TABLE`: types, character sets, collations,
/// defaults.
async fn column_definitions(conn: &mut mysql_async::Conn, table: &str) -> Vec<String> {
    let (_, create): (String, String) = conn
        .query_first(format!("SHOW CREATE TABLE `{table}`"))
        .await
        .unwrap()
        .unwrap();
    create
        .lines()
        .filter(|line| line.trim_start().starts_with('`'))
        .map(str::to_owned)
        .collect()
}

/// Every row of `table` in `db` on `server`, in key order, read as the copy reads a
/// source.
async fn read_all(server: &MariaDb, db: &str, table: &Arc<TableSchema>) -> Vec<Row> {
    const CHUNK: usize = 5000;
    let mut source = MysqlSource::connect(options(server, db)).await.unwrap();
    let key: Vec<usize> = table
        .primary_key
        .iter()
        .map(|k| table.columns.iter().position(|c| &c.name == k).unwrap())
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    loop {
        let after: Option<Vec<Value>> = rows
            .last()
            .map(|row| key.iter().map(|&i| row[i].clone()).collect());
        let chunk = source
            .read_chunk(table, after.as_deref(), CHUNK)
            .await
            .unwrap();
        let done = chunk.len() < CHUNK;
        rows.extend(chunk);
        if done {
            return rows;
        }
    }
}

fn execute(db: &str, sql: &str) {
    dbsync_testkit::mariadb().execute(Some(db), sql).unwrap();
}

#[tokio::test]
async fn sakila_converges_through_the_copy_and_a_write_workload() {
    let source = dbsync_testkit::mariadb();
    let db = source.create_database("sakila_to_mysql").unwrap();
    source.load(&db, Dataset::SakilaGeo).unwrap();
    let mut pair = Pair::copy(&db, 3, 1000, CopyMethod::LoadData).await;
    pair.assert_converged().await;
    execute(
        &db,
        "INSERT INTO actor (actor_id, first_name, last_name) VALUES (1001, 'ÅSA', 'NÖRD€');
         UPDATE actor SET last_name = 'CHANGED' WHERE actor_id = 1;
         UPDATE payment SET payment_id = 60001 WHERE payment_id = 2;
         DELETE FROM film_actor WHERE actor_id = 3;
         UPDATE rental SET customer_id = 1 + customer_id % 599 WHERE rental_id <= 300;
         BEGIN;
           UPDATE film SET rental_rate = rental_rate + 1 WHERE film_id <= 500;
           DELETE FROM film_text WHERE film_id > 900;
         COMMIT;
         TRUNCATE TABLE film_category;
         INSERT INTO film_category (film_id, category_id) VALUES (1, 1), (2, 2);
         UPDATE staff SET picture = x'00ff5c090a4e' WHERE staff_id = 1;
         UPDATE address SET location = ST_GeomFromText('POINT(-73.98 40.75)', 4326) WHERE address_id = 1;",
    );
    pair.catch_up().await;
    pair.assert_converged().await;
}

pub(crate) const EVERY_TYPE: &str = "CREATE TABLE t (
    id INT PRIMARY KEY,
    u64 BIGINT UNSIGNED, i64 BIGINT, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
    i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u32 INT UNSIGNED, flag TINYINT(1),
    z INT(8) UNSIGNED ZEROFILL,
    f FLOAT, d DOUBLE, wide DECIMAL(65,30), money DECIMAL(5,2) NOT NULL DEFAULT 4.99,
    span TIME, span6 TIME(6), day DATE, at DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6),
    at0 DATETIME, ts TIMESTAMP(6) NULL, yr YEAR,
    emoji VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    long_text VARCHAR(300) CHARACTER SET utf8mb4,
    latin CHAR(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci, latin_text TEXT CHARACTER SET latin1,
    padded CHAR(120) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    raw BINARY(16), vraw VARBINARY(20), blob_data BLOB, doc JSON,
    mood ENUM('sad','ok','café') DEFAULT 'ok', flags SET('a','b','c','d'),
    bit1 BIT(1) DEFAULT b'1', bit64 BIT(64), bit5 BIT(5),
    place POINT, uid UUID, escapes TEXT
)";

/// The extremes of every type family, and NULL in every column; `id_offset` keeps
/// the rows of each insert apart.
pub(crate) fn every_type_rows(id_offset: u32) -> String {
    let id = |n: u32| n + id_offset;
    format!(
        "SET SESSION sql_mode = '', time_zone = '+00:00';
         INSERT INTO t VALUES
           ({}, 18446744073709551615, -9223372036854775808, -8388608, 16777215,
            -128, 255, -32768, 4294967295, 1, 42,
            1.5, -2.25e-300, '99999999999999999999999999999999999.999999999999999999999999999999', '-12.5',
            '838:59:59', '-838:59:59.000000', '2024-02-29', '2024-02-29 23:59:59.999999',
            '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999', 2155,
            'a😀b', REPEAT('é', 300), 'café  ', 'déjà vu €', 'hello   ',
            x'0102', x'00ff00', x'00ff80fe5c090a4e', '{{\"b\": 1, \"a\": [true, null]}}',
            'café', 'd,a,c', b'1', b'1111111111111111111111111111111111111111111111111111111111111111', b'10110',
            ST_GeomFromText('POINT(1 2)', 4326), '123e4567-e89b-12d3-a456-426614174000',
            'tab\there\nnew line \\\\N back\\\\slash \\\\');
         INSERT INTO t VALUES
           ({}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            '00:00:00', '-00:00:00.000001', '0000-00-00', '0000-00-00 00:00:00',
            '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0,
            '', '', '', '', '', x'', x'', x'', '[]', 'sad', '', b'0', 0, 0,
            ST_GeomFromText('POINT(0 0)'), '00000000-0000-0000-0000-000000000000', '\\\\N');
         INSERT INTO t (id, money, at, mood, bit1) VALUES ({}, 0, NULL, NULL, NULL);
         INSERT INTO t (id, i24, u24, wide, money, span6, raw, uid) VALUES
           ({}, 8388607, 0, '-99999999999999999999999999999999999.999999999999999999999999999999', '999.99',
            '12:34:56.789012', x'ffffffffffffffffffffffffffffffff', '12345678-9abc-1def-8123-456789ab0000')",
        id(1),
        id(2),
        id(3),
        id(4)
    )
}

#[tokio::test]
async fn every_type_family_arrives_exactly_through_copy_and_stream() {
    let source = dbsync_testkit::mariadb();
    let db = source.create_database("types_to_mysql").unwrap();
    source.execute(Some(&db), EVERY_TYPE).unwrap();
    source.execute(Some(&db), &every_type_rows(0)).unwrap();
    // The same rows copied by each method, each into a target of its own.
    let mut pairs = vec![
        Pair::copy(&db, 1, 3, CopyMethod::LoadData).await,
        Pair::copy(&db, 1, 3, CopyMethod::Insert).await,
    ];
    let target = dbsync_testkit::mariadb_target();
    for pair in &pairs {
        pair.assert_converged().await;
        let copied = read_all(
            target,
            &pair.target_db,
            &tables(target, &pair.target_db).await[0],
        )
        .await;
        assert_eq!(copied.len(), 4, "the copy wrote every row");
    }
    execute(&db, &every_type_rows(10));
    execute(
        &db,
        "SET SESSION sql_mode = '';
         UPDATE t SET id = id + 100, span = '-838:59:59', u64 = 18446744073709551614 WHERE id = 11;
         UPDATE t SET emoji = '🇫🇷', blob_data = x'ff00' WHERE id = 2;
         DELETE FROM t WHERE id = 4;",
    );
    for pair in &mut pairs {
        pair.catch_up().await;
        pair.assert_converged().await;
    }
}

/// A table created on the source from `ddl` for its schema, and a writer into a new
/// target database connected with `opts` (the target's options, adjusted), with the
/// table prepared.
async fn prepared(
    hint: &str,
    ddl: &str,
    adjust: impl FnOnce(mysql_async::OptsBuilder) -> mysql_async::OptsBuilder,
) -> (Arc<TableSchema>, Writer, String) {
    let source = dbsync_testkit::mariadb();
    let source_db = source.create_database(hint).unwrap();
    source.execute(Some(&source_db), ddl).unwrap();
    let table = tables(source, &source_db).await.remove(0);
    let target = dbsync_testkit::mariadb_target();
    let target_db = target.create_database(hint).unwrap();
    let opts = adjust(mysql_async::OptsBuilder::from_opts(options(
        target, &target_db,
    )));
    let mut writer = Writer::connect(opts.into(), "test").await.unwrap();
    writer.prepare_table(&table).await.unwrap();
    (table, writer, target_db)
}

/// The rows `writer` wrote into its copy of `table`, in key order.
async fn written(target_db: &str, table: &Arc<TableSchema>) -> Vec<Row> {
    let target = dbsync_testkit::mariadb_target();
    let target_table = tables(target, target_db)
        .await
        .into_iter()
        .find(|t| t.name.name == table.name.name)
        .unwrap();
    read_all(target, target_db, &target_table).await
}

fn batch(changes: impl IntoIterator<Item = (Arc<TableSchema>, ChangeOp)>) -> ChangeBatch {
    let mut batch = ChangeBatch::new();
    for (table, op) in changes {
        batch.push(Change { table, op });
    }
    batch
}

fn at(id: u64, copy: CopyProgress) -> Checkpoint {
    Checkpoint {
        copy,
        position: Position::AuditLog { id },
    }
}

fn person(id: i64, email: &str) -> Row {
    vec![Value::Int(id), Value::Text(email.into()), Value::Null]
}

#[tokio::test]
async fn applying_twice_changes_nothing_and_checkpoints_never_move_back() {
    let (table, mut writer, target_db) = prepared(
        "idempotent",
        "CREATE TABLE people (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL, note TEXT,
           UNIQUE KEY email (email))",
        |opts| opts,
    )
    .await;
    let name = table.name.clone();

    // The copy: a chunk written again after it committed is refused, not doubled.
    let first = at(
        1,
        CopyProgress::Copying {
            after: Some(vec![Value::Int(1)]),
            rows: 1,
        },
    );
    writer
        .write_chunk(&name, &[person(1, "a@x")], &first)
        .await
        .unwrap();
    let again = writer
        .write_chunk(&name, &[person(1, "a@x")], &first)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Retryable, "{again}");
    let done = at(1, CopyProgress::Done { rows: 2 });
    writer
        .write_chunk(&name, &[person(2, "b@x")], &done)
        .await
        .unwrap();
    assert_eq!(
        written(&target_db, &table).await,
        [person(1, "a@x"), person(2, "b@x")]
    );

    // Two rows swap their unique emails and one changes its key, in one batch: an
    // upsert matched by the email would update the wrong row.
    let t = || Arc::clone(&table);
    let swap = batch([
        (
            t(),
            ChangeOp::Update {
                before: person(1, "a@x"),
                after: person(1, "tmp@x"),
            },
        ),
        (
            t(),
            ChangeOp::Update {
                before: person(2, "b@x"),
                after: person(2, "a@x"),
            },
        ),
        (
            t(),
            ChangeOp::Update {
                before: person(1, "tmp@x"),
                after: person(1, "b@x"),
            },
        ),
        (
            t(),
            ChangeOp::Insert {
                after: person(3, "c@x"),
            },
        ),
        (
            t(),
            ChangeOp::Update {
                before: person(3, "c@x"),
                after: person(30, "c@x"),
            },
        ),
    ]);
    let expected = [person(1, "b@x"), person(2, "a@x"), person(30, "c@x")];
    let ten = at(10, CopyProgress::Done { rows: 2 });
    for _ in 0..2 {
        writer
            .apply(&swap, &[(name.clone(), ten.clone())])
            .await
            .unwrap();
        assert_eq!(written(&target_db, &table).await, expected);
        assert_eq!(
            writer.checkpoints().await.unwrap(),
            [(name.clone(), ten.clone())]
        );
    }

    // An older checkpoint is refused with its batch.
    let delete = batch([(
        t(),
        ChangeOp::Delete {
            before: person(1, "b@x"),
        },
    )]);
    let back = writer
        .apply(
            &delete,
            &[(name.clone(), at(5, CopyProgress::Done { rows: 2 }))],
        )
        .await
        .unwrap_err();
    assert_eq!(back.kind(), ErrorKind::Retryable, "{back}");
    assert_eq!(written(&target_db, &table).await, expected);
    assert_eq!(writer.checkpoints().await.unwrap(), [(name.clone(), ten)]);

    // TRUNCATE empties the table in the batch's transaction.
    let truncate = batch([
        (t(), ChangeOp::Truncate),
        (
            t(),
            ChangeOp::Insert {
                after: person(9, "z@x"),
            },
        ),
    ]);
    writer
        .apply(
            &truncate,
            &[(name.clone(), at(20, CopyProgress::Done { rows: 2 }))],
        )
        .await
        .unwrap();
    assert_eq!(written(&target_db, &table).await, [person(9, "z@x")]);
}

/// `n` rows of about `size` bytes each, from key `first` on.
fn wide_rows(first: i64, n: i64, size: usize) -> Vec<Row> {
    (first..first + n)
        .map(|id| {
            let fill = char::from(b'a' + (id % 26) as u8);
            vec![
                Value::Int(id),
                Value::Text(format!("{id}\t\\N\n{}", fill.to_string().repeat(size))),
                Value::Bytes(vec![(id % 256) as u8; size / 4]),
            ]
        })
        .collect()
}

#[tokio::test]
async fn statements_beyond_max_allowed_packet_are_split() {
    // The client refuses to send a packet beyond its max_allowed_packet, as the server
    // would: every statement must fit 64 KiB while the rows add up to megabytes.
    const PACKET: usize = 64 << 10;
    let ddl = "CREATE TABLE wide (id INT PRIMARY KEY, body MEDIUMTEXT, raw BLOB)";
    for method in [CopyMethod::LoadData, CopyMethod::Insert] {
        let (table, mut writer, target_db) =
            prepared("packet", ddl, |opts| opts.max_allowed_packet(Some(PACKET))).await;
        writer.set_copy_method(method).unwrap();
        let name = table.name.clone();
        let copied = wide_rows(1, 2000, 1000);
        writer
            .write_chunk(&name, &copied, &at(1, CopyProgress::Done { rows: 2000 }))
            .await
            .unwrap();
        assert_eq!(
            written(&target_db, &table).await,
            copied,
            "copied by {method:?}"
        );

        // Upserts of 3 MB over the copied rows and new ones, one row nearly a packet
        // alone, and deletes of more keys than one statement holds.
        let t = || Arc::clone(&table);
        let upserted = wide_rows(1001, 2000, 1500);
        let mut big = wide_rows(5000, 1, 50_000);
        let changes = upserted
            .iter()
            .chain(&big)
            .map(|row| (t(), ChangeOp::Insert { after: row.clone() }))
            .chain(copied[..1000].iter().map(|row| {
                (
                    t(),
                    ChangeOp::Delete {
                        before: row.clone(),
                    },
                )
            }));
        writer
            .apply(
                &batch(changes),
                &[(name.clone(), at(2, CopyProgress::Done { rows: 2000 }))],
            )
            .await
            .unwrap();
        let mut expected = upserted;
        expected.append(&mut big);
        assert_eq!(
            written(&target_db, &table).await,
            expected,
            "applied after {method:?}"
        );
    }
}

/// A debug-build timing of the two copy methods over 100000 rows shaped like
/// sysbench's; run with `--ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn copy_methods_timed() {
    const ROWS: i64 = 100_000;
    const CHUNK: usize = 10_000;
    let source = dbsync_testkit::mariadb();
    let db = source.create_database("timed").unwrap();
    source
        .execute(
            Some(&db),
            &format!(
                "CREATE TABLE sbtest (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL,
                   pad CHAR(60) NOT NULL, KEY k (k));
                 SET SESSION max_recursive_iterations = {ROWS};
                 INSERT INTO sbtest WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
                   SELECT i, i * 7919 % {ROWS}, CONCAT(REPEAT(MD5(i), 3), 'c\tc'), SHA1(i) FROM n"
            ),
        )
        .unwrap();
    let table = tables(source, &db).await.remove(0);
    let rows = read_all(source, &db, &table).await;
    assert_eq!(rows.len(), ROWS as usize);
    for method in [CopyMethod::LoadData, CopyMethod::Insert] {
        let target = dbsync_testkit::mariadb_target();
        let target_db = target.create_database("timed").unwrap();
        let mut writer = writer(&target_db, std::slice::from_ref(&table)).await;
        writer.set_copy_method(method).unwrap();
        let started = std::time::Instant::now();
        let mut copied = 0;
        for chunk in rows.chunks(CHUNK) {
            copied += chunk.len() as u64;
            let after = chunk.last().map(|row| vec![row[0].clone()]);
            let progress = if copied == ROWS as u64 {
                CopyProgress::Done { rows: copied }
            } else {
                CopyProgress::Copying {
                    after,
                    rows: copied,
                }
            };
            writer
                .write_chunk(&table.name, chunk, &at(1, progress))
                .await
                .unwrap();
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{method:?}: {ROWS} rows in {seconds:.2} s ({:.0} rows/s)",
            ROWS as f64 / seconds
        );
        assert_eq!(
            written(&target_db, &table).await,
            rows,
            "copied by {method:?}"
        );
    }
}
