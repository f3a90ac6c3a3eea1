//! `dbsync verify` on every type family of each source engine, on every engine pair: a
//! faithful copy of the extremes is equal, and one value changed on the target to
//! another valid value of its family (a last fraction digit, a JSON key's value, one
//! byte, a label) is found, with its key.
//!
//! A pair syncs every family ([`families`]) and a table named in mixed case once, each
//! a table of its own, and is verified before and after the changes, one per table. A
//! test fails naming every family that failed, and how. Tables keyed by a column of each family
//! verify equal too, whatever order each engine sorts their keys in.

use std::path::Path;

use crate::support::families::{self, Family};
use crate::support::{Replica, Sandbox, assert_success, run};

/// A change of one value on the target: `column` of row `id` set to `value`, an SQL
/// expression of the target's engine.
struct Change {
    id: u32,
    column: &'static str,
    value: &'static str,
}

/// One table a pair syncs, and the change of one of its values.
struct Checked {
    table: String,
    change: Change,
}

impl Checked {
    /// Makes the change on the target.
    fn change(&self, replica: &Replica) {
        let Change { id, column, value } = &self.change;
        replica.execute(&format!(
            "UPDATE {} SET {column} = {value} WHERE id = {id}",
            self.table
        ));
    }

    /// What is wrong with what `verify` found of this table before its change, if
    /// anything: it must be equal.
    fn unequal(&self, verify: &Verify) -> Option<String> {
        let found = verify.table(&self.table);
        let equal = ["missing", "extra", "different"]
            .iter()
            .all(|kind| found[kind]["count"] == 0);
        (!equal).then(|| format!("{}: a faithful copy differs: {found}", self.table))
    }

    /// What is wrong with what `verify` found of this table after its change, if
    /// anything: the changed row different, and nothing else.
    fn unfound(&self, verify: &Verify) -> Option<String> {
        let found = verify.table(&self.table);
        let Change { id, column, value } = &self.change;
        let different: Vec<&serde_json::Value> = found["different"]["first"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|key| key[0].get("value"))
            .collect();
        let only_it = found["missing"]["count"] == 0
            && found["extra"]["count"] == 0
            && found["different"]["count"] == 1
            && different == [&serde_json::json!(id)];
        (!only_it).then(|| {
            format!(
                "{}: {column} of row {id} set to {value} on the target, and verify found {found}",
                self.table
            )
        })
    }
}

/// What `dbsync verify --json` found: its exit code and report.
struct Verify {
    code: Option<i32>,
    report: serde_json::Value,
}

impl Verify {
    fn run(config: &Path) -> Verify {
        let output = run(config, &["verify", "--json"]);
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "verify printed no report: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        Verify {
            code: output.status.code(),
            report,
        }
    }

    /// The report of source table `name`, `null` when there is none.
    fn table(&self, name: &str) -> &serde_json::Value {
        self.report["p"]["tables"]
            .as_array()
            .and_then(|tables| tables.iter().find(|t| t["table"]["name"] == name))
            .unwrap_or(&serde_json::Value::Null)
    }
}

/// The source of a pair: a MySQL/MariaDB database and how its changes are captured,
/// or a PostgreSQL database (polled).
enum Source {
    Mysql {
        database: String,
        capture: MysqlCapture,
    },
    Postgres {
        database: String,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum MysqlCapture {
    Binlog,
    Triggers,
    Poll,
}

impl Source {
    fn execute(&self, sql: &str) {
        match self {
            Source::Mysql { database, .. } => dbsync_testkit::mariadb()
                .execute(Some(database), sql)
                .unwrap(),
            Source::Postgres { database } => {
                dbsync_testkit::postgres().execute(database, sql).unwrap();
            }
        }
    }

    fn url(&self) -> String {
        match self {
            // Trigger capture creates its audit log, which the replication account
            // may not.
            Source::Mysql {
                database,
                capture: MysqlCapture::Triggers,
            } => dbsync_testkit::mariadb().url(database),
            Source::Mysql { database, .. } => dbsync_testkit::mariadb().replication_url(database),
            Source::Postgres { database } => dbsync_testkit::postgres().url(database),
        }
    }

    /// The pair's settings: its capture (polling by `id`, often, so that a recheck of
    /// a polled pair waits little).
    fn settings(&self) -> &'static [&'static str] {
        match self {
            Source::Mysql { capture, .. } => match capture {
                MysqlCapture::Binlog => &[],
                MysqlCapture::Triggers => &["capture: triggers"],
                MysqlCapture::Poll => &["capture: poll", "poll_interval: 100ms"],
            },
            Source::Postgres { .. } => &["capture: poll", "poll_interval: 100ms"],
        }
    }

    /// What the capture needs before the pair's first run: its triggers.
    fn prepare(&self, config: &Path) {
        if let Source::Mysql {
            capture: MysqlCapture::Triggers,
            ..
        } = self
        {
            assert_success(&run(config, &["triggers", "install", "p"]));
        }
    }

    /// `name` quoted as an identifier, its case kept.
    fn quoted(&self, name: &str) -> String {
        match self {
            Source::Mysql { .. } => format!("`{name}`"),
            Source::Postgres { .. } => format!("\"{name}\""),
        }
    }

    /// Creates a table named in mixed case, with a column named so, whose change
    /// verify must find through the target's spelling of the names.
    fn create_mixed_case(&self) -> Checked {
        let table = self.quoted("MixedCase");
        self.execute(&format!(
            "CREATE TABLE {table} (id INT PRIMARY KEY, {} VARCHAR(10));
             INSERT INTO {table} VALUES (1, NULL), (2, 'a'), (3, 'A');",
            self.quoted("CamelValue")
        ));
        Checked {
            table: "MixedCase".to_owned(),
            change: Change {
                id: 3,
                column: "CamelValue",
                value: "'a'",
            },
        }
    }

    /// Inserts a copy of every row of `table` at `id + 100`: rows that reach the target
    /// through the pair's change stream, beside those of its copy.
    fn duplicate_rows(&self, table: &str) {
        // Zero dates and invalid labels, as the extremes were inserted.
        let sql_mode = match self {
            Source::Mysql { .. } => "SET SESSION sql_mode = '';",
            Source::Postgres { .. } => "",
        };
        let table = self.quoted(table);
        self.execute(&format!(
            "{sql_mode}
             CREATE TEMPORARY TABLE copied AS SELECT * FROM {table};
             UPDATE copied SET id = id + 100;
             INSERT INTO {table} SELECT * FROM copied;"
        ));
    }
}

/// Syncs `families` of `source` and a table in mixed case into `replica` with the
/// pair's `settings`, through the copy and then the stream; then checks verify on each
/// table. `change` gives the change of each family on the target.
fn verify_finds_every_change(
    sandbox: &Sandbox,
    source: Source,
    replica: &Replica,
    settings: &[&str],
    families: Vec<Family>,
    change: fn(&str, &Replica) -> Change,
) {
    let mut checked = vec![source.create_mixed_case()];
    for family in families {
        source.execute(&family.create_table());
        source.execute(&family.insert_rows());
        checked.push(Checked {
            table: family.name.to_owned(),
            change: change(family.name, replica),
        });
    }
    let mut settings = settings.to_vec();
    settings.extend(source.settings());
    let config = sandbox.write_config("types.yaml", &source.url(), &replica.url(), &settings, "");
    source.prepare(&config);
    assert_success(&run(&config, &["run", "--once"]));
    for checked in &checked {
        source.duplicate_rows(&checked.table);
    }
    assert_success(&run(&config, &["run", "--once"]));
    let copied = Verify::run(&config);
    for checked in &checked {
        checked.change(replica);
    }
    let changed = Verify::run(&config);
    let mut failures: Vec<String> = checked
        .iter()
        .filter_map(|checked| {
            checked
                .unequal(&copied)
                .or_else(|| checked.unfound(&changed))
        })
        .collect();
    if copied.code != Some(0) || changed.code != Some(3) {
        failures.push(format!(
            "verify exited with {:?} on the copy, {:?} after the changes",
            copied.code, changed.code
        ));
    }
    assert!(
        failures.is_empty(),
        "verify failed on {} of {} tables:\n{}",
        failures.len(),
        checked.len(),
        failures.join("\n")
    );
}

/// `families` but those `refused` names, each with the reason the target refuses it
/// (documented in docs/type-mapping.md).
fn all_but(families: Vec<Family>, refused: &[(&str, &str)]) -> Vec<Family> {
    families
        .into_iter()
        .filter(|family| !refused.iter().any(|(name, _)| *name == family.name))
        .collect()
}

fn mysql_change(family: &str, target: &Replica) -> Change {
    let change = |id, column, value| Change { id, column, value };
    let postgres = matches!(target, Replica::Postgres { .. });
    let sqlite = matches!(target, Replica::Sqlite { .. });
    let mysql = matches!(target, Replica::Mysql { .. });
    match family {
        // SQLite holds an unsigned number beyond i64 as its 8 bytes.
        "integers" if sqlite => change(2, "u64", "x'fffffffffffffffe'"),
        "integers" => change(2, "u64", "18446744073709551614"),
        // The next float after 0.1.
        "floats" => change(7, "f", "0.10000001"),
        "decimals" => change(
            2,
            "big",
            "'99999999999999999999999999999999999.999999999999999999999999999998'",
        ),
        // The trailing space.
        "text_utf8mb4" => change(2, "v", "'émoji 😀🇫🇷'"),
        "text_latin1" => change(2, "v", "'é€ Ÿ‰œ ý'"),
        "text_wide_charsets" => change(2, "x", "'😀y𝄞'"),
        // The last byte of the padding.
        "binaries" if postgres => change(2, "b", r"'\x01020000000000000000000000000001'"),
        "binaries" => change(2, "b", "x'01020000000000000000000000000001'"),
        // A zero date the `keep` policy keeps, made NULL.
        "dates" if mysql => change(4, "d", "NULL"),
        "dates" => change(5, "d", "'2024-02-28'"),
        "datetimes" => change(3, "d6", "'9999-12-31 23:59:59.999998'"),
        "timestamps" => change(5, "t6", "'2024-02-29 12:34:56.000002'"),
        "times" => change(5, "t6", "'-12:34:56.789013'"),
        "years" => change(3, "y", "2154"),
        "jsons" => change(6, "j", r#"'{"z": {"y": {"x": [true, false, false]}}}'"#),
        "enums" => change(5, "e", "'it''s'"),
        // A member added.
        "sets" if postgres => change(5, "s", "'{a,b}'"),
        "sets" if sqlite => change(5, "s", r#"'["a","b"]'"#),
        "sets" => change(5, "s", "'a,b'"),
        "bits" => change(3, "b64", "x'8000000000000003'"),
        // The SRID, 4326 to 0, of the same point.
        "geometries" => change(
            2,
            "p",
            "(SELECT p FROM (SELECT p FROM geometries WHERE id = 3) AS other)",
        ),
        "uuids" => change(2, "u", "'123e4567-e89b-12d3-a456-426614174001'"),
        other => panic!("no change for the MySQL family `{other}`"),
    }
}

fn postgres_change(family: &str, target: &Replica) -> Change {
    let change = |id, column, value| Change { id, column, value };
    let postgres = matches!(target, Replica::Postgres { .. });
    match family {
        "integers" => change(2, "i64", "9223372036854775806"),
        "numerics" => change(
            2,
            "big",
            "'99999999999999999999999999999999999.999999999999999999999999999998'",
        ),
        "floats" => change(7, "r", "0.10000001"),
        "float_infinities" if postgres => change(2, "d", "'-Infinity'"),
        // SQLite reads a literal beyond the doubles as an infinity.
        "float_infinities" => change(2, "d", "-9e999"),
        "float_nans" => change(3, "r", "'NaN'"),
        "texts" => change(2, "v", "'émoji 😀🇫🇷'"),
        "byteas" if postgres => change(2, "b", r"'\x00ff81fe'"),
        "byteas" => change(2, "b", "x'00ff81fe'"),
        "booleans" if postgres => change(2, "b", "false"),
        "booleans" => change(2, "b", "0"),
        "dates" => change(4, "d", "'2024-02-28'"),
        "times" => change(3, "t6", "'23:59:59.999998'"),
        "timestamps" => change(3, "t6", "'9999-12-31 23:59:59.999998'"),
        "timestamptzs" if postgres => change(4, "z6", "'2024-06-01 06:30:00.499999+00'"),
        // In UTC on SQLite; in a MySQL target's session zone, whatever it is, another
        // instant all the same.
        "timestamptzs" => change(4, "z6", "'2024-06-01 06:30:00.499999'"),
        "jsons" => change(5, "jb", r#"'{"z": {"y": {"x": [true, false, false]}}}'"#),
        "uuids" => change(2, "u", "'123e4567-e89b-12d3-a456-426614174001'"),
        "enums" => change(2, "e", "'c d'"),
        "bits" => change(3, "b64", "x'8000000000000003'"),
        other => panic!("no change for the PostgreSQL family `{other}`"),
    }
}

/// A MySQL source with every family, for the sandbox's own target or another.
fn mysql_source(hint: &str, capture: MysqlCapture) -> (Sandbox, Source) {
    let sandbox = Sandbox::new(hint);
    let source = Source::Mysql {
        database: sandbox.source.clone(),
        capture,
    };
    (sandbox, source)
}

fn postgres_source(hint: &str) -> (Sandbox, Source) {
    let sandbox = Sandbox::new(hint);
    let source = Source::Postgres {
        database: dbsync_testkit::postgres().create_database(hint).unwrap(),
    };
    (sandbox, source)
}

#[tokio::test]
async fn verify_types_mysql_to_postgres() {
    let (sandbox, source) = mysql_source("vtmypg", MysqlCapture::Binlog);
    let replica = Replica::Postgres {
        database: sandbox.target.clone(),
    };
    let families = families::mysql();
    verify_finds_every_change(&sandbox, source, &replica, &[], families, mysql_change);
}

#[tokio::test]
async fn verify_types_mysql_to_mysql() {
    let (sandbox, source) = mysql_source("vtmymy", MysqlCapture::Binlog);
    let replica = Replica::mysql("vtmymy");
    // MariaDB reports labels with emoji as `?` and creates the target's column with
    // them: the target refuses the source's value.
    let refused = "a label with an emoji";
    let families = all_but(families::mysql(), &[("enums", refused), ("sets", refused)]);
    // The zero-date policy of MySQL targets: zero dates kept as they are.
    let settings = ["zero_date: keep"];
    verify_finds_every_change(
        &sandbox,
        source,
        &replica,
        &settings,
        families,
        mysql_change,
    );
}

#[tokio::test]
async fn verify_types_mysql_to_sqlite() {
    let (sandbox, source) = mysql_source("vtmylite", MysqlCapture::Binlog);
    let replica = Replica::sqlite(sandbox.dir(), "edge");
    let families = families::mysql();
    verify_finds_every_change(&sandbox, source, &replica, &[], families, mysql_change);
}

#[tokio::test]
async fn verify_types_postgres_to_postgres() {
    let (sandbox, source) = postgres_source("vtpgpg");
    let replica = Replica::postgres("vtpgpg");
    let families = families::postgres();
    verify_finds_every_change(&sandbox, source, &replica, &[], families, postgres_change);
}

#[tokio::test]
async fn verify_types_postgres_to_mysql() {
    let (sandbox, source) = postgres_source("vtpgmy");
    let replica = Replica::mysql("vtpgmy");
    let families = all_but(
        families::postgres(),
        &[
            ("float_infinities", "MySQL has no infinities"),
            ("float_nans", "MySQL has no NaN"),
        ],
    );
    verify_finds_every_change(&sandbox, source, &replica, &[], families, postgres_change);
}

#[tokio::test]
async fn verify_types_postgres_to_sqlite() {
    let (sandbox, source) = postgres_source("vtpglite");
    let replica = Replica::sqlite(sandbox.dir(), "edge");
    let families = all_but(
        families::postgres(),
        &[("float_nans", "SQLite stores NaN as NULL")],
    );
    verify_finds_every_change(&sandbox, source, &replica, &[], families, postgres_change);
}

/// The other captures of a MySQL source: the rows after the copy arrive from the
/// triggers' audit log, or are polled.
#[tokio::test]
async fn verify_types_mysql_to_postgres_by_triggers() {
    let (sandbox, source) = mysql_source("vttriggers", MysqlCapture::Triggers);
    let replica = Replica::Postgres {
        database: sandbox.target.clone(),
    };
    // YEAR 0000 among them: the trigger must write it into its JSON as a number.
    let families = families::mysql();
    verify_finds_every_change(&sandbox, source, &replica, &[], families, mysql_change);
}

#[tokio::test]
async fn verify_types_mysql_to_postgres_by_polling() {
    let (sandbox, source) = mysql_source("vtpolling", MysqlCapture::Poll);
    let replica = Replica::Postgres {
        database: sandbox.target.clone(),
    };
    verify_finds_every_change(
        &sandbox,
        source,
        &replica,
        &[],
        families::mysql(),
        mysql_change,
    );
}

/// SETs stored as MySQL's text, `a,b` (`set_mapping: text`), rather than an array, on
/// the targets that would hold an array.
#[tokio::test]
async fn verify_types_mysql_sets_as_text() {
    let targets: [fn(&Sandbox) -> Replica; 2] = [
        |sandbox| Replica::Postgres {
            database: sandbox.target.clone(),
        },
        |sandbox| Replica::sqlite(sandbox.dir(), "edge"),
    ];
    for target in targets {
        let (sandbox, source) = mysql_source("vtsettext", MysqlCapture::Binlog);
        let replica = target(&sandbox);
        verify_finds_every_change(
            &sandbox,
            source,
            &replica,
            &["set_mapping: text"],
            vec![families::mysql_family("sets")],
            |_, _| Change {
                id: 5,
                column: "s",
                value: "'a,b'",
            },
        );
    }
}

/// Keys of each family of a MySQL source, which verify matches rows by whatever order
/// each engine sorts them in: text in MySQL's `_ci` collation, PostgreSQL's and
/// SQLite's bytes; `BINARY(4)` with its padding; `BIGINT UNSIGNED` beyond SQLite's
/// integers; a composite key.
const MYSQL_KEYED_TABLES: &str = "
    CREATE TABLE k_text (k VARCHAR(20) PRIMARY KEY, v INT);
    INSERT INTO k_text VALUES ('apple', 1), ('Banana', 2), ('cherry', 3), ('Éclair', 4),
      ('zebra', 5), ('Ärger', 6), ('_x', 7), ('10', 8), ('9', 9), (' lead', 10),
      ('emoji😀', 11), ('a b', 12), ('ab', 13), ('Zulu', 14), ('ß', 15), ('ss2', 16);
    CREATE TABLE k_binary (k BINARY(4) PRIMARY KEY, v INT);
    INSERT INTO k_binary VALUES (x'00', 1), (x'01', 2), (x'ff', 3), (x'00000001', 4), (x'80', 5);
    CREATE TABLE k_varbinary (k VARBINARY(8) PRIMARY KEY, v INT);
    INSERT INTO k_varbinary VALUES (x'00', 1), (x'0000', 2), (x'', 3), (x'ff', 4), (x'80', 5);
    CREATE TABLE k_decimal (k DECIMAL(10,2) PRIMARY KEY, v INT);
    INSERT INTO k_decimal VALUES (-10, 1), (-1.5, 2), (0, 3), (2.25, 4), (10, 5);
    CREATE TABLE k_datetime (k DATETIME(6) PRIMARY KEY, v INT);
    INSERT INTO k_datetime VALUES ('1999-12-31 23:59:59.999999', 1), ('2024-01-01 00:00:00', 2),
      ('2024-01-01 00:00:00.000001', 3);
    CREATE TABLE k_uuid (k UUID PRIMARY KEY, v INT);
    INSERT INTO k_uuid VALUES ('ffffffff-0000-0000-0000-000000000000', 1),
      ('00000000-0000-0000-0000-0000000000ff', 2), ('80000000-0000-0000-0000-000000000000', 3);
    CREATE TABLE k_unsigned (k BIGINT UNSIGNED PRIMARY KEY, v INT);
    INSERT INTO k_unsigned VALUES (0, 1), (9223372036854775807, 2), (9223372036854775808, 3),
      (18446744073709551615, 4);
    CREATE TABLE k_composite (a VARCHAR(5), b INT, v INT, PRIMARY KEY (a, b));
    INSERT INTO k_composite VALUES ('a', 2, 1), ('B', 1, 2), ('a', -1, 3), ('é', 0, 4);";

/// The same of a PostgreSQL source, whose text keys tell case and trailing spaces
/// apart; each table has an `id` to be polled by (poll capture refuses a `numeric` key).
const POSTGRES_KEYED_TABLES: &str = "
    CREATE TABLE k_text (k varchar(20) PRIMARY KEY, id int);
    INSERT INTO k_text VALUES ('a', 1), ('A', 2), ('a ', 3), ('b', 4), ('É', 5), ('é', 6),
      ('emoji😀', 7), ('', 8), ('10', 9), ('9', 10);
    CREATE TABLE k_bytea (k bytea PRIMARY KEY, id int);
    INSERT INTO k_bytea VALUES ('\\x00', 1), ('\\x0000', 2), ('\\x', 3), ('\\xff', 4), ('\\x80', 5);
    CREATE TABLE k_timestamptz (k timestamptz PRIMARY KEY, id int);
    INSERT INTO k_timestamptz VALUES ('2024-01-01 00:00:00+05:30', 1), ('2024-01-01 00:00:00+00', 2),
      ('2000-01-01 00:00:00.000001+00', 3);
    CREATE TABLE k_uuid (k uuid PRIMARY KEY, id int);
    INSERT INTO k_uuid VALUES ('ffffffff-0000-0000-0000-000000000000', 1),
      ('00000000-0000-0000-0000-0000000000ff', 2), ('80000000-0000-0000-0000-000000000000', 3);
    CREATE TABLE k_composite (a varchar(5), b bigint, id int, PRIMARY KEY (a, b));
    INSERT INTO k_composite VALUES ('a', 2, 1), ('B', 1, 2), ('a', -1, 3), ('A', 0, 4);";

/// Each engine that `source`'s tables of `keyed` are synced into, verified equal.
fn verify_matches_keys(source: fn(&str) -> (Sandbox, Source), keyed: &str, tables: usize) {
    let targets: [fn(&Sandbox) -> Replica; 3] = [
        |_| Replica::postgres("vtkeys"),
        |_| Replica::mysql("vtkeys"),
        |sandbox| Replica::sqlite(sandbox.dir(), "edge"),
    ];
    for target in targets {
        let (sandbox, source) = source("vtkeys");
        source.execute(keyed);
        let replica = target(&sandbox);
        let config = sandbox.write_config(
            "keys.yaml",
            &source.url(),
            &replica.url(),
            source.settings(),
            "",
        );
        assert_success(&run(&config, &["run", "--once"]));
        let output = run(&config, &["verify"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}:\n{stdout}{}",
            replica.url(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(stdout.matches("\tequal\t").count(), tables, "{stdout}");
    }
}

#[tokio::test]
async fn verify_matches_mysql_keys_of_every_family_on_every_target_engine() {
    verify_matches_keys(
        |hint| mysql_source(hint, MysqlCapture::Binlog),
        MYSQL_KEYED_TABLES,
        8,
    );
}

#[tokio::test]
async fn verify_matches_postgres_keys_of_every_family_on_every_target_engine() {
    verify_matches_keys(postgres_source, POSTGRES_KEYED_TABLES, 5);
}
