//! MySQL/MariaDB -> MySQL/MariaDB: dbsync's copy beside the `mariadb` client's
//! LOAD DATA LOCAL INFILE of the same rows.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dbsync_core::pipeline::{CopyOptions, Target, copy_tables};
use dbsync_mysql::binlog::BinlogConfig;
use dbsync_mysql::capture::BinlogCapture;
use dbsync_mysql::source::MysqlSource;
use dbsync_mysql::writer::{CopyMethod, Writer};
use dbsync_testkit::ADMIN_USER;
use mysql_async::prelude::Queryable;

use crate::measure::{self, Measured};
use crate::scenario::Bench;

/// The rows of `sbtest1` as `mariadb -B` prints them, dumped once per bench.
static DUMP: OnceLock<PathBuf> = OnceLock::new();

impl Bench {
    /// The ceiling: `LOAD DATA LOCAL INFILE` by the `mariadb` client of the rows,
    /// dumped to a file beforehand (not timed), into a fresh database on the target
    /// server. Stricter than a pipe from the source: only the load is timed.
    pub(crate) async fn mysql_load_ceiling(&self) -> Measured {
        let dump = DUMP.get_or_init(|| {
            let path = self.dir.join("sbtest1.tsv");
            measure::shell(&format!(
                "mariadb -h 127.0.0.1 -P {} -u {ADMIN_USER} -B -N --quick -e 'SELECT id, k, c, pad FROM sbtest1' {} > {}",
                self.mariadb.port(),
                self.source,
                path.display()
            ));
            path
        });
        let target = self.mysql_target_database("ceiling").await;
        measure::shell(&format!(
            "mariadb -h 127.0.0.1 -P {} -u {ADMIN_USER} --local-infile=1 -e \"LOAD DATA LOCAL INFILE '{}' INTO TABLE sbtest1 (id, k, c, pad)\" {target}",
            dbsync_testkit::mariadb_target().port(),
            dump.display()
        ))
    }

    /// `dbsync run --once` into a fresh database on the target server.
    pub(crate) fn copy_to_mysql_with_dbsync(&self) -> Measured {
        let server = dbsync_testkit::mariadb_target();
        let target = server.create_database("dbsync").expect("a target database");
        let config = self.pair_config(&target, &server.url(&target), "");
        self.run_once(&config)
    }

    /// Seconds the copy of `sbtest1` takes through the pipeline with the MySQL writer
    /// held to `method`: the binary copies by `LOAD DATA LOCAL INFILE` where the
    /// server allows it, and this is what says whether that is the faster way.
    pub(crate) async fn mysql_copy_by(&self, method: CopyMethod) -> f64 {
        let server = dbsync_testkit::mariadb_target();
        let target = server.create_database("method").expect("a target database");
        let options = |url: &str| dbsync_mysql::session::options_from_url(url).expect("options");
        let mut writer = Writer::connect(options(&server.url(&target)), "bench")
            .await
            .expect("the writer");
        writer.set_copy_method(method).expect("the copy method");
        writer.plan_table(&self.table).expect("a plan of sbtest1");
        writer
            .prepare_table(&self.table)
            .await
            .expect("the target table");
        let source = MysqlSource::connect(options(&self.mariadb.url(&self.source)))
            .await
            .expect("the source");
        let mut capture = BinlogCapture::new(
            options(&self.mariadb.url(&self.source)),
            BinlogConfig::new(1_999_999_999),
            Duration::from_millis(20),
        );
        let started = Instant::now();
        copy_tables(
            vec![(source, writer)],
            &mut capture,
            &[Arc::clone(&self.table)],
            &mut HashMap::new(),
            CopyOptions::default(),
        )
        .await
        .expect("the copy");
        started.elapsed().as_secs_f64()
    }

    /// A fresh database on the target server holding an empty `sbtest1` exactly as the
    /// source defines it.
    async fn mysql_target_database(&self, hint: &str) -> String {
        let server = dbsync_testkit::mariadb_target();
        let target = server.create_database(hint).expect("a target database");
        let mut source = self.source_conn().await;
        let create: Option<(String, String)> = source
            .query_first("SHOW CREATE TABLE sbtest1")
            .await
            .expect("sbtest1's definition");
        let (_, create) = create.expect("sbtest1 exists");
        server
            .execute(Some(&target), &create)
            .expect("creating sbtest1 on the target");
        target
    }
}
