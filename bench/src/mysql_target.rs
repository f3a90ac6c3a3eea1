//! MySQL/MariaDB -> MySQL/MariaDB: dbsync's copy beside the `mariadb` client's
//! LOAD DATA LOCAL INFILE of the same rows.

use std::path::PathBuf;
use std::sync::OnceLock;

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
