//! Every error: one sentence with the file, the line, the key path and the fix.

use std::path::Path;

use dbsync_config::{Config, Environment, KeyPath};

use crate::support::{load_error, load_error_with, with_pair};

/// Connections of every kind, for pairs to name.
const CONNECTIONS: &str = r#"connections:
  shop: { url: "mysql://repl@127.0.0.1:3306/shop" }
  lite: { url: "sqlite://a.db" }
  pg: { url: "postgres://u@h/db" }
  shop2: { url: "mariadb://other@127.0.0.1/shop" }
  nodb: { url: "mysql://u@h" }
"#;

/// A pair `p` over [`CONNECTIONS`] with `lines` (each indented by four spaces).
fn pair(lines: &str) -> String {
    format!("{CONNECTIONS}pairs:\n  p:\n{lines}")
}

fn check(cases: &[(&str, &str)]) {
    for (yaml, expected) in cases {
        assert_eq!(load_error(yaml), *expected, "for:\n{yaml}");
    }
}

#[test]
fn validation_names_file_line_path_and_fix() {
    let cases = [
        (
            pair("    source: shopp\n    target: pg\n"),
            "dbsync.yaml line 9: pairs.p.source names connection `shopp`, which is not defined under `connections`; define it or fix the name.",
        ),
        (
            pair("    source: shop\n    target: pgg\n"),
            "dbsync.yaml line 10: pairs.p.target names connection `pgg`, which is not defined under `connections`; define it or fix the name.",
        ),
        (
            pair("    source: shop\n    target: shop\n"),
            "dbsync.yaml line 10: pairs.p.target names the same connection as source, `shop`; a pair needs two different databases.",
        ),
        (
            pair("    source: shop\n    target: shop2\n"),
            "dbsync.yaml line 10: pairs.p.target, connection `shop2`, is the same database as source, connection `shop`; a pair needs two different databases.",
        ),
        (
            pair("    source: nodb\n    target: pg\n"),
            "dbsync.yaml line 6: connections.nodb.url names no database, but pair `p` uses it; add the database after the host, like mysql://user@host:3306/shop.",
        ),
        (
            pair("    source: lite\n    target: pg\n    capture: binlog\n"),
            "dbsync.yaml line 11: pairs.p.capture is `binlog`, which needs a MySQL/MariaDB source, but connection `lite` is SQLite; use `triggers`, `poll` or `snapshot`.",
        ),
        (
            pair("    source: shop\n    target: pg\n    capture: logical\n"),
            "dbsync.yaml line 11: pairs.p.capture is `logical`, which needs a PostgreSQL source, but connection `shop` is MySQL/MariaDB; use `binlog`, `triggers`, `poll` or `snapshot`.",
        ),
        (
            pair("    source: pg\n    target: lite\n    capture: binlog\n"),
            "dbsync.yaml line 11: pairs.p.capture is `binlog`, which needs a MySQL/MariaDB source, but connection `pg` is PostgreSQL; use `logical`, `triggers`, `poll` or `snapshot`.",
        ),
        (
            pair("    source: shop\n    target: pg\n    direction: bidirectional\n"),
            "dbsync.yaml line 11: pairs.p.direction is `bidirectional`, but capture `binlog` cannot read changes on the target, connection `pg`, which is PostgreSQL; set `capture` to one both engines support, such as `triggers` or `poll`.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    direction: bidirectional\n    capture: snapshot\n",
            ),
            "dbsync.yaml line 11: pairs.p.direction is `bidirectional`, but capture `snapshot` copies one way only; set `capture` to a change stream such as `triggers` or `poll`.",
        ),
        (
            pair("    source: shop\n    target: pg\n    batch_size: 0\n"),
            "dbsync.yaml line 11: pairs.p.batch_size is 0; set it to 1 or more.",
        ),
        (
            pair("    source: shop\n    target: pg\n    poll_interval: 0s\n"),
            "dbsync.yaml line 11: pairs.p.poll_interval is 0s; set it to `1s` or more.",
        ),
        (
            pair("    source: shop\n    target: pg\n    zero_date: keep\n"),
            "dbsync.yaml line 11: pairs.p.zero_date is `keep`, but the target, connection `pg`, is PostgreSQL, which has no zero dates; use `null` or `error`.",
        ),
        (
            pair("    source: shop\n    target: pg\n    tables: []\n"),
            "dbsync.yaml line 11: pairs.p.tables is empty, so the pair syncs nothing; list tables, or \"*\" for all.",
        ),
        (
            pair("    source: shop\n    target: pg\n    tables: [\"!audit_*\"]\n"),
            "dbsync.yaml line 11: pairs.p.tables only excludes tables, so the pair syncs nothing; add \"*\" to sync the others.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    tables:\n      - \"*\"\n      - name: \"!orders\"\n",
            ),
            "dbsync.yaml line 13: pairs.p.tables[1].name is `!orders`, but `!` excludes only in a plain string; write \"!orders\" as its own entry, or set `enabled: false`.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    tables:\n      - name: orders\n      - \"*\"\n      - name: orders\n",
            ),
            "dbsync.yaml line 14: pairs.p.tables[2] configures `orders` again, after tables[0]; merge the two entries.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    tables:\n      - name: \"log_*\"\n        target: logs\n",
            ),
            "dbsync.yaml line 13: pairs.p.tables[0].target renames every table `log_*` matches to one name; give each table its own entry.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    tables:\n      - name: orders\n        batch_size: 0\n",
            ),
            "dbsync.yaml line 13: pairs.p.tables[0].batch_size is 0; set it to 1 or more.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    tables:\n      - name: orders\n        poll_interval: 0s\n",
            ),
            "dbsync.yaml line 13: pairs.p.tables[0].poll_interval is 0s; set it to `1s` or more.",
        ),
        (
            pair(
                "    source: shop\n    target: pg\n    tables:\n      - name: orders\n        capture: logical\n",
            ),
            "dbsync.yaml line 13: pairs.p.tables[0].capture is `logical`, which needs a PostgreSQL source, but connection `shop` is MySQL/MariaDB; use `binlog`, `triggers`, `poll` or `snapshot`.",
        ),
    ];
    for (yaml, expected) in &cases {
        assert_eq!(load_error(yaml), *expected, "for:\n{yaml}");
    }
    // The checks refuse only what is wrong.
    let valid = pair("    source: shop\n    target: pg\n");
    assert!(Config::from_yaml_str_with(&valid, "dbsync.yaml", &Environment::empty()).is_ok());
}

#[test]
fn validation_of_names_and_settings() {
    check(&[
        (
            "connections:\n  Prod DB: { url: \"mysql://u@h/d\" }\n",
            "dbsync.yaml line 2: connections has the connection name `Prod DB`, which may only hold lower-case letters, digits, `_` and `-`; rename it.",
        ),
        (
            "connections:\n  a: { url: \"mysql://u@h/a\" }\n  b: { url: \"mysql://u@h/b\" }\npairs:\n  Shop:\n    source: a\n    target: b\n",
            "dbsync.yaml line 5: pairs has the pair name `Shop`, which may only hold lower-case letters, digits, `_` and `-`; rename it.",
        ),
        (
            "workers: 0\n",
            "dbsync.yaml line 1: workers is 0; set it to 1 or more.",
        ),
        (
            "retry: { delay: 1m, max_delay: 1s }\n",
            "dbsync.yaml line 1: retry.max_delay (1s) is shorter than retry.delay (1m); make it at least as long.",
        ),
        (
            "job_timeout: 0s\n",
            "dbsync.yaml line 1: job_timeout is 0s; set a longer limit, or remove the key for none.",
        ),
        (
            "server: { listen: \"8080\" }\n",
            "dbsync.yaml line 1: server.listen is `8080`, which is not `host:port`; write it like `0.0.0.0:8080`.",
        ),
        (
            "server:\n  listen: \"0.0.0.0:8080\"\n",
            "dbsync.yaml line 2: server.listen `0.0.0.0:8080` accepts connections from other machines, but server.auth_token is not set; set a token (such as `${DBSYNC_TOKEN}`) or listen on 127.0.0.1.",
        ),
        (
            "server:\n  auth_token: \"***\"\n",
            "dbsync.yaml line 2: server.auth_token is the mask `***`, not a real token; write the token or a `${VAR}` reference.",
        ),
        (
            "state: \"mysql://u:***@h/state\"\n",
            "dbsync.yaml line 1: state holds the masked password `***`, not a real one; write the password or a `${VAR}` reference.",
        ),
        (
            "connections:\n  a:\n    url: \"mysql://u:***@h/a\"\n",
            "dbsync.yaml line 3: connections.a.url holds the masked password `***`, not a real one; write the password or a `${VAR}` reference.",
        ),
    ]);
    // Loopback needs no token.
    for listen in ["127.0.0.1:8080", "localhost:9000", "[::1]:8080"] {
        let yaml = format!("server: {{ listen: \"{listen}\" }}\n");
        assert!(Config::from_yaml_str_with(&yaml, "x", &Environment::empty()).is_ok());
    }
}

#[test]
fn unknown_keys_are_named_with_the_allowed_ones() {
    check(&[
        (
            "foo: 1\n",
            "dbsync.yaml line 1: the top level has the unknown key `foo`; the keys allowed there are `state`, `connections`, `pairs`, `server`, `logging`, `workers`, `retry`, `job_timeout`, `history`, `scheduler`; remove it or fix its spelling.",
        ),
        (
            &with_pair("    sourc: x\n"),
            "dbsync.yaml line 8: pairs.shop-analytics has the unknown key `sourc`; the keys allowed there are `source`, `target`, `capture`, `target_schema`, `tables`, `batch_size`, `on_error`, `enabled`, `direction`, `conflict_resolution`, `identifier_case`, `zero_date`, `enum_mapping`, `set_mapping`, `table_prefix`, `schedule`, `poll_interval`; remove it or fix its spelling.",
        ),
        (
            &with_pair("    tables:\n      - name: orders\n        targt: x\n"),
            "dbsync.yaml line 10: pairs.shop-analytics.tables[0] has the unknown key `targt`; the keys allowed there are `name`, `target`, `primary_key`, `timestamp_column`, `id_column`, `poll_interval`, `batch_size`, `capture`, `conflict_resolution`, `enabled`, `columns`; remove it or fix its spelling.",
        ),
        (
            &with_pair(
                "    tables:\n      - name: orders\n        columns:\n          total: { typ: text }\n",
            ),
            "dbsync.yaml line 11: pairs.shop-analytics.tables[0].columns.total has the unknown key `typ`; the keys allowed there are `type`; remove it or fix its spelling.",
        ),
        (
            "connections:\n  a: { url: \"mysql://h/d\", ssl: true }\n",
            "dbsync.yaml line 2: connections.a has the unknown key `ssl`; the keys allowed there are `url`; remove it or fix its spelling.",
        ),
        (
            "server: { port: 8080 }\n",
            "dbsync.yaml line 1: server has the unknown key `port`; the keys allowed there are `listen`, `auth_token`, `cors_origins`, `read_timeout`, `write_timeout`; remove it or fix its spelling.",
        ),
        (
            "retry: { tries: 1 }\n",
            "dbsync.yaml line 1: retry has the unknown key `tries`; the keys allowed there are `attempts`, `delay`, `backoff`, `max_delay`; remove it or fix its spelling.",
        ),
    ]);
    let error = load_error_with(&with_pair("    sourc: x\n"), &Environment::empty());
    assert_eq!(
        error.key_path(),
        Some(&KeyPath::from(["pairs", "shop-analytics", "sourc"]))
    );
    assert_eq!(error.line(), Some(8));
}

#[test]
fn wrong_values_say_what_is_expected() {
    check(&[
        (
            "pairs:\n  a:\n    source: x\n",
            "dbsync.yaml line 2: pairs.a has no `target` key, which is required; add it.",
        ),
        (
            &with_pair("    capture: binlg\n"),
            "dbsync.yaml line 8: pairs.shop-analytics.capture is `binlg`, which is not one of `binlog`, `logical`, `triggers`, `poll`, `snapshot`; use one of those.",
        ),
        (
            &with_pair("    batch_size: ten\n"),
            "dbsync.yaml line 8: pairs.shop-analytics.batch_size must be a whole number from 0 to 4294967295, not `ten`.",
        ),
        (
            &with_pair("    enabled: yes\n"),
            "dbsync.yaml line 8: pairs.shop-analytics.enabled must be `true` or `false`, not `yes`.",
        ),
        (
            &with_pair("    tables: \"*\"\n"),
            "dbsync.yaml line 8: pairs.shop-analytics.tables must be a list, not `*`.",
        ),
        (
            &with_pair("    tables:\n      - target: x\n"),
            "dbsync.yaml line 9: pairs.shop-analytics.tables[0] has no `name` key, which is required; add it.",
        ),
        (
            &with_pair("    tables:\n      - \"log_[0-9]\"\n"),
            "dbsync.yaml line 9: pairs.shop-analytics.tables[0] is `log_[0-9]`, which is not a table glob: only `*` and `?` are wildcards; list the tables one by one instead of `[...]` or `{...}`.",
        ),
        (
            &with_pair("    tables:\n      - \"*\"\n      - !audit_*\n"),
            "dbsync.yaml line 10: pairs.shop-analytics.tables[1] has the YAML tag `!audit_*`; if it is text, put it in quotes, like \"!audit_*\".",
        ),
        (
            &with_pair("    poll_interval: 5x\n"),
            "dbsync.yaml line 8: pairs.shop-analytics.poll_interval must be a duration such as `500ms`, `30s`, `5m`, `1h` or `30d`, not `5x`.",
        ),
        (
            &with_pair("    schedule: \"*/61 * * * *\"\n"),
            "dbsync.yaml line 8: pairs.shop-analytics.schedule is `*/61 * * * *`, which is not a cron schedule: the minute field `*/61` has the step `61`, which is not from 1 to 59; write five fields (minute hour day-of-month month day-of-week) such as `*/10 * * * *`.",
        ),
        (
            "connections:\n  a:\n    url: \"ftp://x/y\"\n",
            "dbsync.yaml line 3: connections.a.url has the unknown scheme `ftp://`; use mysql://, mariadb://, postgres://, postgresql:// or sqlite://.",
        ),
        (
            "connections:\n  a: [1]\n",
            "dbsync.yaml line 2: connections.a must be a mapping of keys, not a list.",
        ),
        (
            "logging: { level: loud }\n",
            "dbsync.yaml line 1: logging.level is `loud`, which is not one of `error`, `warn`, `info`, `debug`, `trace`; use one of those.",
        ),
        (
            "- a\n- b\n",
            "dbsync.yaml line 1: the top level must be a mapping of keys, not a list.",
        ),
    ]);
}

#[test]
fn a_bad_url_never_shows_its_password() {
    let error = load_error("connections:\n  a: { url: \"mysql://u:hunter2@h:99999/d\" }\n");
    assert_eq!(
        error,
        "dbsync.yaml line 2: connections.a.url has the port `99999`, which is not a number from 1 to 65535; fix the port."
    );
}

#[test]
fn malformed_yaml_gives_the_parsers_line_and_column() {
    check(&[
        (
            "a: b: c\n",
            "dbsync.yaml line 1, column 5: malformed YAML (mapping values are not allowed in this context); check the indentation and quoting there.",
        ),
        (
            "pairs:\n  x:\n    source: a\n   target: b\n",
            "dbsync.yaml line 4, column 4: malformed YAML (while parsing a block mapping, did not find expected key); check the indentation and quoting there.",
        ),
        (
            "pairs:\n  a: {\n",
            "dbsync.yaml line 2, column 6: malformed YAML (unclosed bracket '{'); check the indentation and quoting there.",
        ),
        (
            &with_pair("    tables:\n      - *\n"),
            "dbsync.yaml line 9, column 9: malformed YAML (while scanning an anchor or alias, did not find expected alphabetic or numeric character); a value that starts with `*`, `&` or `!` must be in quotes, like \"*\".",
        ),
        (
            "pairs:\n  a: 1\n  a: 2\n",
            "dbsync.yaml line 3: pairs has the key `a` twice, here and on line 2; keep one.",
        ),
    ]);
}

#[test]
fn a_file_is_named_as_given() {
    let directory = std::env::temp_dir().join(format!("dbsync-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("dbsync.yaml");
    std::fs::write(&path, with_pair("    source: shopp\n")).unwrap();
    let error = Config::load_with(&path, &Environment::empty()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{} line 8: pairs.shop-analytics has the key `source` twice, here and on line 6; keep one.",
            path.display()
        )
    );
    std::fs::write(&path, with_pair("")).unwrap();
    let config = Config::load_with(&path, &Environment::empty()).unwrap();
    assert!(config.pairs.contains_key("shop-analytics"));
    std::fs::remove_dir_all(&directory).unwrap();

    let missing = Path::new("/nonexistent/dbsync.yaml");
    assert_eq!(
        Config::load_with(missing, &Environment::empty())
            .unwrap_err()
            .to_string(),
        "/nonexistent/dbsync.yaml does not exist; create it, or name another file with --config or DBSYNC_CONFIG."
    );
}

#[test]
fn errors_become_configuration_errors_of_dbsync_core() {
    let error: dbsync_core::Error = load_error_with("workers: 0\n", &Environment::empty()).into();
    assert_eq!(error.kind(), dbsync_core::ErrorKind::Config);
    assert_eq!(
        error.to_string(),
        "dbsync.yaml line 1: workers is 0; set it to 1 or more."
    );
}
