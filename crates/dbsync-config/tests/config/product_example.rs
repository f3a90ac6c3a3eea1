//! The example of PRODUCT.md §6, verbatim: the contract outside scripts write.

use std::time::Duration;

use dbsync_config::{Capture, Engine, Glob, LogFormat, LogLevel, OnError, TableOptions, TableRule};

use crate::support::load;

const PRODUCT_EXAMPLE: &str = r#"state: sqlite://.dbsync/state.db          # default; or mysql://... / postgres://...
connections:
  shop:      { url: "mysql://repl:${SHOP_PASSWORD}@127.0.0.1:3306/shop" }
  analytics: { url: "postgres://dbsync@127.0.0.1:5432/analytics" }
pairs:
  shop-analytics:
    source: shop
    target: analytics
    capture: binlog            # binlog | logical | triggers | poll | snapshot
    target_schema: public      # PostgreSQL schema that receives the tables
    tables:
      - "*"                    # globs; "!audit_*" excludes
      - name: orders           # per-table options
        target: orders_replica
        primary_key: [order_id]
        timestamp_column: modified_at
        batch_size: 10000
    batch_size: 1000
    on_error: stop             # stop | skip (skip = dead-letter list, never silent)
server:  { listen: "0.0.0.0:8080", auth_token: "${DBSYNC_TOKEN}", cors_origins: ["http://localhost:3000"] }
logging: { level: info, format: json, dir: logs }
"#;

#[test]
fn parses_to_the_values_it_shows() {
    let config = load(PRODUCT_EXAMPLE);

    assert_eq!(config.state.engine(), Engine::Sqlite);
    assert_eq!(config.state.database(), Some(".dbsync/state.db"));

    assert_eq!(
        config.connections.keys().collect::<Vec<_>>(),
        ["analytics", "shop"]
    );
    let shop = &config.connections["shop"].url;
    assert_eq!(shop.engine(), Engine::MySql);
    assert_eq!(shop.user(), Some("repl"));
    assert_eq!(
        shop.password().map(|password| password.expose()),
        Some("s3cr:et@#1")
    );
    assert_eq!(shop.host(), Some("127.0.0.1"));
    assert_eq!(shop.port(), Some(3306));
    assert_eq!(shop.database(), Some("shop"));
    let analytics = &config.connections["analytics"].url;
    assert_eq!(analytics.engine(), Engine::PostgreSql);
    assert_eq!(analytics.user(), Some("dbsync"));
    assert_eq!(analytics.password(), None);
    assert_eq!(analytics.port(), Some(5432));
    assert_eq!(analytics.database(), Some("analytics"));

    let pair = &config.pairs["shop-analytics"];
    assert_eq!(pair.source, "shop");
    assert_eq!(pair.target, "analytics");
    assert_eq!(pair.capture, Some(Capture::Binlog));
    assert_eq!(pair.target_schema, "public");
    let mut orders = TableOptions::new(Glob::parse("orders").unwrap());
    orders.target = Some("orders_replica".to_owned());
    orders.primary_key = vec!["order_id".to_owned()];
    orders.timestamp_column = Some("modified_at".to_owned());
    orders.batch_size = Some(10_000);
    assert_eq!(
        pair.tables,
        [
            TableRule::Glob(Glob::parse("*").unwrap()),
            TableRule::Table(orders)
        ]
    );
    assert_eq!(pair.batch_size, 1000);
    assert_eq!(pair.on_error, OnError::Stop);
    assert!(pair.enabled);

    assert_eq!(config.server.listen, "0.0.0.0:8080");
    assert_eq!(
        config
            .server
            .auth_token
            .as_ref()
            .map(|token| token.expose()),
        Some("token-123")
    );
    assert_eq!(config.server.cors_origins, ["http://localhost:3000"]);

    assert_eq!(config.logging.level, LogLevel::Info);
    assert_eq!(config.logging.format, LogFormat::Json);
    assert_eq!(config.logging.dir.as_deref(), Some("logs".as_ref()));

    // What the example leaves out takes its default.
    assert_eq!(config.workers, 8);
    assert_eq!(config.retry.attempts, 3);
    assert_eq!(config.history.retention, Duration::from_secs(30 * 86_400));
    assert_eq!(config.job_timeout, None);
    assert!(config.scheduler.enabled);
}

#[test]
fn selects_tables_as_it_says() {
    let config = load(PRODUCT_EXAMPLE);
    let pair = &config.pairs["shop-analytics"];

    let orders = pair.selects("orders").unwrap();
    assert_eq!(orders.target_table(), "orders_replica");
    assert_eq!(orders.batch_size(), 10_000);
    assert_eq!(orders.timestamp_column(), "modified_at");
    assert_eq!(orders.primary_key(), Some(&["order_id".to_owned()][..]));

    let customers = pair.selects("customers").unwrap();
    assert_eq!(customers.target_table(), "customers");
    assert_eq!(customers.batch_size(), 1000);
    assert_eq!(customers.options(), None);
}
