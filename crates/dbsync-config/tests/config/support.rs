//! Helpers shared by the tests.

use dbsync_config::{Config, ConfigError, Environment};

/// The environment every test loads with, so that no test depends on the machine's.
pub(crate) fn environment() -> Environment {
    Environment::empty()
        .with("SHOP_PASSWORD", "s3cr:et@#1")
        .with("DBSYNC_TOKEN", "token-123")
        .with("STATE_PASSWORD", "state-pw")
        .with("CLOUD_PASSWORD", "cloud-pw")
}

pub(crate) fn load(yaml: &str) -> Config {
    match Config::from_yaml_str_with(yaml, "dbsync.yaml", &environment()) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

pub(crate) fn load_error(yaml: &str) -> String {
    load_error_with(yaml, &environment()).to_string()
}

pub(crate) fn load_error_with(yaml: &str, environment: &Environment) -> ConfigError {
    match Config::from_yaml_str_with(yaml, "dbsync.yaml", environment) {
        Ok(config) => panic!("loaded, but should not have: {config:?}"),
        Err(error) => error,
    }
}

/// Two connections and one pair between them, with `extra` lines added to the pair.
pub(crate) fn with_pair(extra: &str) -> String {
    format!(
        "connections:\n  shop: {{ url: \"mysql://repl@127.0.0.1:3306/shop\" }}\n  analytics: {{ url: \"postgres://dbsync@127.0.0.1:5432/analytics\" }}\npairs:\n  shop-analytics:\n    source: shop\n    target: analytics\n{extra}"
    )
}
