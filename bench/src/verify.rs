//! `dbsync verify` of the sysbench table: MySQL -> MySQL beside pt-table-checksum on
//! the same tables, MySQL -> PostgreSQL, and the server's own checksum of the table
//! (the ceiling), all in the same run.

use std::process::Command;
use std::sync::OnceLock;

use dbsync_testkit::ADMIN_USER;

use crate::measure::{self, Measured};
use crate::scenario::Bench;

/// The databases verify compares with the source, made once per bench.
struct Copies {
    /// A copy of `sbtest1` on the source's server, for pt-table-checksum to checksum
    /// both in one run.
    mysql: String,
    /// dbsync's copy in PostgreSQL.
    postgres: String,
}

static COPIES: OnceLock<Copies> = OnceLock::new();

impl Bench {
    fn verify_copies(&self) -> &Copies {
        COPIES.get_or_init(|| {
            let mysql = self
                .mariadb
                .create_database("verifycopy")
                .expect("a database for the copy");
            self.mariadb
                .execute(
                    Some(&mysql),
                    &format!(
                        "CREATE TABLE sbtest1 LIKE {source}.sbtest1;
                         INSERT INTO sbtest1 SELECT * FROM {source}.sbtest1;",
                        source = self.source
                    ),
                )
                .expect("copying sbtest1 on the source's server");
            let postgres = self
                .postgres
                .create_database("verifypg")
                .expect("a target database");
            self.run_once(&self.pair_config(&postgres, &self.postgres.url(&postgres), ""));
            Copies { mysql, postgres }
        })
    }

    /// `dbsync verify` of `sbtest1` by the pair whose configuration is at `config`; it
    /// must find the table equal.
    fn verify_with_dbsync(&self, config: &std::path::Path) -> Measured {
        let mut command = Command::new(&self.dbsync);
        command
            .args(["verify", "--tables", "sbtest1", "--config"])
            .arg(config)
            .env("DBSYNC_LOG", "warn");
        measure::run(command, "dbsync verify")
    }

    /// `dbsync verify` of the source against its copy on the same server.
    pub(crate) fn verify_mysql_with_dbsync(&self) -> Measured {
        let copy = &self.verify_copies().mysql;
        let config = self.pair_config_from(
            "verifymy",
            &self.mariadb.url(&self.source),
            &self.mariadb.url(copy),
            "",
        );
        self.verify_with_dbsync(&config)
    }

    /// `dbsync verify` of the source against dbsync's copy in PostgreSQL.
    pub(crate) fn verify_postgres_with_dbsync(&self) -> Measured {
        let copy = &self.verify_copies().postgres;
        self.verify_with_dbsync(&self.pair_config(copy, &self.postgres.url(copy), ""))
    }

    /// pt-table-checksum of `sbtest1` in the source's database and in its copy, in
    /// one run on the one server (no replica: each table's chunks are checksummed and
    /// written to `percona.checksums`, which is how it compares with a replica).
    pub(crate) fn verify_with_pt_table_checksum(&self) -> Result<Measured, String> {
        let copy = &self.verify_copies().mysql;
        let script = format!(
            "pt-table-checksum h=127.0.0.1,P={},u={ADMIN_USER} --databases {},{copy} --tables sbtest1 \
             --recursion-method=none --no-check-replication-filters --no-check-binlog-format \
             --no-version-check",
            self.mariadb.port(),
            self.source,
        );
        std::panic::catch_unwind(|| measure::shell(&script))
            .map_err(|_| "see its output above".to_owned())
    }

    /// The ceiling: the server counting and checksumming the whole table in one query,
    /// with no range, no bisection and nothing sent.
    pub(crate) fn checksum_in_sql(&self) -> Measured {
        measure::shell(&format!(
            "mariadb -h 127.0.0.1 -P {} -u {ADMIN_USER} -B -N -e \
             \"SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', id, k, c, pad))) FROM sbtest1\" {}",
            self.mariadb.port(),
            self.source
        ))
    }
}
