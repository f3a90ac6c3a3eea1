//! Writing the configuration back: masked for display, as written for the file.

use dbsync_config::{Config, Environment, MASK, expose_secrets};

use crate::support::{environment, load};

const WITH_SECRETS: &str = r#"state: "postgres://state:${STATE_PASSWORD}@state-db/dbsync"
connections:
  shop: { url: "mysql://repl:${SHOP_PASSWORD}@127.0.0.1:3306/shop?ssl-mode=REQUIRED" }
  cloud: { url: "mariadb://sync:literal-pw@cloud.example.com/shop" }
  edge: { url: "sqlite://data/edge.db" }
pairs:
  shop-cloud:
    source: shop
    target: cloud
    direction: bidirectional
    schedule: "*/10 * * * *"
    tables:
      - "*"
      - "!audit_*"
      - name: orders
        primary_key: [order_id]
        conflict_resolution: manual
        columns:
          total: { type: "decimal(12,2)" }
  shop-edge:
    source: shop
    target: edge
    capture: poll
    table_prefix: tmp_
    enabled: false
server: { listen: "0.0.0.0:8080", auth_token: "${DBSYNC_TOKEN}", cors_origins: ["http://localhost:3000"] }
logging: { level: warn, format: json, dir: logs }
workers: 4
retry: { attempts: 10, delay: 500ms, backoff: fixed, max_delay: 1m }
job_timeout: 2h
history: { retention: 7d }
scheduler: { enabled: false }
"#;

/// The secrets [`WITH_SECRETS`] holds once interpolated.
const SECRETS: [&str; 4] = ["state-pw", "s3cr:et@#1", "literal-pw", "token-123"];

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked in:\n{text}");
    }
}

#[test]
fn secrets_never_show_in_debug_display_or_serialized_output() {
    let config = load(WITH_SECRETS);
    assert_no_secret(&format!("{config:?}"));
    assert_no_secret(&format!("{config:#?}"));
    assert_no_secret(&config.to_yaml().unwrap());
    assert_no_secret(&serde_json::to_string(&config).unwrap());
    let shop = &config.connections["shop"].url;
    assert_no_secret(&shop.to_string());
    assert_eq!(
        shop.to_string(),
        "mysql://repl:***@127.0.0.1:3306/shop?ssl-mode=REQUIRED"
    );
    let token = config.server.auth_token.as_ref().unwrap();
    assert_eq!(token.to_string(), MASK);
    assert_eq!(format!("{token:?}"), MASK);
    // Only the explicit ways give them.
    assert_eq!(shop.password().unwrap().expose(), "s3cr:et@#1");
    assert_eq!(
        shop.expose(),
        "mysql://repl:s3cr%3Aet%40%231@127.0.0.1:3306/shop?ssl-mode=REQUIRED"
    );
    assert!(expose_secrets(|| serde_json::to_string(&config).unwrap()).contains("literal-pw"));
}

#[test]
fn the_masked_yaml_parses_back_but_refuses_its_masks() {
    let config = load(WITH_SECRETS);
    let masked = config.to_yaml().unwrap();
    let error = Config::from_yaml_str_with(&masked, "request body", &environment()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("holds the masked password `***`"),
        "{error}"
    );
}

#[test]
fn exposing_keeps_references_and_round_trips() {
    let config = load(WITH_SECRETS);
    let written = config.to_yaml_exposing_secrets().unwrap();
    // `${VAR}` references are written back as references, never as what they stood for.
    assert!(written.contains("${SHOP_PASSWORD}"), "{written}");
    assert!(written.contains("${DBSYNC_TOKEN}"), "{written}");
    assert!(written.contains("${STATE_PASSWORD}"), "{written}");
    for secret in ["state-pw", "s3cr:et@#1", "token-123"] {
        assert!(!written.contains(secret), "{secret} in:\n{written}");
    }
    // A password written literally stays literal.
    assert!(written.contains("literal-pw"), "{written}");

    let again = Config::from_yaml_str_with(&written, "dbsync.yaml", &environment()).unwrap();
    assert_eq!(again, config);
    // And once more, to a fixed point.
    assert_eq!(again.to_yaml_exposing_secrets().unwrap(), written);
}

#[test]
fn a_default_configuration_round_trips() {
    let config = Config::default();
    let written = config.to_yaml_exposing_secrets().unwrap();
    let again = Config::from_yaml_str_with(&written, "x", &Environment::empty()).unwrap();
    assert_eq!(again, config);
    assert_eq!(
        Config::from_yaml_str_with("", "x", &Environment::empty()).unwrap(),
        config
    );
}
