//! `${VAR}` interpolation and `DBSYNC_*` overrides.

use std::path::Path;

use dbsync_config::{Config, Environment, LogFormat, LogLevel};

use crate::support::{environment, load_error_with, with_pair};

fn load_with(yaml: &str, environment: &Environment) -> Config {
    match Config::from_yaml_str_with(yaml, "dbsync.yaml", environment) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn interpolates_values_from_the_environment() {
    let environment = Environment::empty()
        .with("HOST", "db.internal")
        .with("PASSWORD", "pa\"ss #1: x")
        .with("BATCH", "250");
    let config = load_with(
        &format!(
            "{}    batch_size: ${{BATCH}}\n    table_prefix: \"$${{literal}}_\"\n",
            with_pair("")
                .replace("127.0.0.1:3306", "${HOST}:3306")
                .replace("mysql://repl@", "mysql://repl:${PASSWORD}@")
        ),
        &environment,
    );
    let shop = &config.connections["shop"].url;
    assert_eq!(shop.host(), Some("db.internal"));
    // A value with quotes, `#` and `: ` stays one value.
    assert_eq!(
        shop.password().map(|password| password.expose()),
        Some("pa\"ss #1: x")
    );
    let pair = &config.pairs["shop-analytics"];
    assert_eq!(pair.batch_size, 250);
    assert_eq!(pair.table_prefix, "${literal}_");
}

#[test]
fn a_missing_variable_is_named_with_its_line() {
    let error = load_error_with(
        "connections:\n  shop:\n    url: \"mysql://repl:${SHOP_PASSWORD}@h/shop\"\n",
        &Environment::empty(),
    );
    assert_eq!(
        error.to_string(),
        "dbsync.yaml line 3: connections.shop.url uses `${SHOP_PASSWORD}`, but the environment variable SHOP_PASSWORD is not set; set it, or write `$${` for a literal `${`."
    );
    let error = load_error_with("logging: { dir: \"${OPEN\" }\n", &Environment::empty());
    assert_eq!(
        error.to_string(),
        "dbsync.yaml line 1: logging.dir has a `${` without its closing `}`; close it, or write `$${` for a literal `${`."
    );
}

#[test]
fn overrides_set_the_documented_keys() {
    let environment = environment()
        .with("DBSYNC_STATE", "postgres://dbsync@state-db/dbsync")
        .with("DBSYNC_WORKERS", "3")
        .with("DBSYNC_SERVER__LISTEN", "0.0.0.0:9090")
        .with("DBSYNC_SERVER__AUTH_TOKEN", "from-env")
        .with("DBSYNC_LOGGING__LEVEL", "debug")
        .with("DBSYNC_LOGGING__FORMAT", "json")
        .with("DBSYNC_LOGGING__DIR", "/var/log/dbsync")
        .with(
            "DBSYNC_CONNECTIONS__SHOP__URL",
            "mysql://repl:pw@replica:3306/shop",
        )
        .with("DBSYNC_PAIRS__SHOP_ANALYTICS__BATCH_SIZE", "5000")
        .with("DBSYNC_PAIRS__SHOP_ANALYTICS__ENABLED", "false")
        .with("DBSYNC_PAIRS__SHOP_ANALYTICS__SCHEDULE", "@hourly")
        // Not overrides: the file's name, and a variable for `${DBSYNC_TOKEN}`.
        .with("DBSYNC_CONFIG", "elsewhere.yaml")
        .with("DBSYNC_TOKEN", "token-123");
    let config = load_with(&with_pair("    batch_size: 10\n"), &environment);
    assert_eq!(config.state.host(), Some("state-db"));
    assert_eq!(config.workers, 3);
    assert_eq!(config.server.listen, "0.0.0.0:9090");
    assert_eq!(
        config
            .server
            .auth_token
            .as_ref()
            .map(|token| token.expose()),
        Some("from-env")
    );
    assert_eq!(config.logging.level, LogLevel::Debug);
    assert_eq!(config.logging.format, LogFormat::Json);
    assert_eq!(
        config.logging.dir.as_deref(),
        Some(Path::new("/var/log/dbsync"))
    );
    assert_eq!(config.connections["shop"].url.host(), Some("replica"));
    let pair = &config.pairs["shop-analytics"];
    assert_eq!(pair.batch_size, 5000);
    assert!(!pair.enabled);
    assert_eq!(pair.schedule.as_ref().map(|s| s.as_str()), Some("@hourly"));

    // An empty value unsets an optional setting.
    let environment = Environment::empty().with("DBSYNC_PAIRS__SHOP_ANALYTICS__SCHEDULE", "");
    let config = load_with(&with_pair("    schedule: \"@daily\"\n"), &environment);
    assert_eq!(config.pairs["shop-analytics"].schedule, None);
}

#[test]
fn override_errors_name_the_variable() {
    let cases = [
        (
            "DBSYNC_SERVER__LISTN",
            "x",
            "environment variable DBSYNC_SERVER__LISTN: no setting has this name; the overrides are DBSYNC_STATE, DBSYNC_WORKERS, DBSYNC_SERVER__LISTEN, DBSYNC_SERVER__AUTH_TOKEN, DBSYNC_LOGGING__LEVEL, DBSYNC_LOGGING__FORMAT, DBSYNC_LOGGING__DIR, DBSYNC_CONNECTIONS__<NAME>__URL, DBSYNC_PAIRS__<NAME>__BATCH_SIZE, DBSYNC_PAIRS__<NAME>__ENABLED and DBSYNC_PAIRS__<NAME>__SCHEDULE; fix or unset the variable.",
        ),
        (
            "DBSYNC_PAIRS__NOPE__BATCH_SIZE",
            "5",
            "environment variable DBSYNC_PAIRS__NOPE__BATCH_SIZE: no pair under `pairs` matches `NOPE` (its name upper-cased, with `-` written `_`); fix or unset the variable.",
        ),
        (
            "DBSYNC_PAIRS__SHOP_ANALYTICS__BATCH_SIZE",
            "ten",
            "environment variable DBSYNC_PAIRS__SHOP_ANALYTICS__BATCH_SIZE: pairs.shop-analytics.batch_size must be a whole number from 0 to 4294967295, not `ten`.",
        ),
        (
            "DBSYNC_CONNECTIONS__SHOP__URL",
            "mysql://u:hunter2@h:0/shop",
            "environment variable DBSYNC_CONNECTIONS__SHOP__URL: connections.shop.url has the port `0`, which is not a number from 1 to 65535; fix the port.",
        ),
        // Validation of an overridden value names the variable rather than a line.
        (
            "DBSYNC_PAIRS__SHOP_ANALYTICS__BATCH_SIZE",
            "0",
            "environment variable DBSYNC_PAIRS__SHOP_ANALYTICS__BATCH_SIZE: pairs.shop-analytics.batch_size is 0; set it to 1 or more.",
        ),
        (
            "DBSYNC_WORKERS",
            "0",
            "environment variable DBSYNC_WORKERS: workers is 0; set it to 1 or more.",
        ),
    ];
    for (variable, value, expected) in cases {
        let environment = Environment::empty().with(variable, value);
        assert_eq!(
            load_error_with(&with_pair(""), &environment).to_string(),
            expected
        );
    }

    let yaml = format!(
        "{}  shop_analytics:\n    source: shop\n    target: analytics\n",
        with_pair("")
    );
    let environment = Environment::empty().with("DBSYNC_PAIRS__SHOP_ANALYTICS__ENABLED", "false");
    assert_eq!(
        load_error_with(&yaml, &environment).to_string(),
        "environment variable DBSYNC_PAIRS__SHOP_ANALYTICS__ENABLED: the pairs `shop-analytics` and `shop_analytics` both match `SHOP_ANALYTICS`; rename one, or set the value in the file."
    );
}
