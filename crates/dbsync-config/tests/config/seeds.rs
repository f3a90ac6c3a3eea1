//! Each seed's configuration keys have a home (PRODUCT §6): its settings written in
//! dbsync's shape, with a comment naming the seed's key.

use std::time::Duration;

use dbsync_config::{
    Backoff, Capture, ConflictResolution, Direction, Engine, EnumMapping, IdentifierCase,
    LogFormat, OnError, SetMapping, ZeroDatePolicy,
};

use crate::support::{load, with_pair};

/// Seed 000: a Laravel package syncing MySQL to PostgreSQL through triggers.
#[test]
fn seed_000_laravel_triggers() {
    let config = load(
        r#"
connections:                        # config/sync.php `connections`
  mysql: { url: "mysql://app:${SHOP_PASSWORD}@127.0.0.1:3306/app" }
  pgsql: { url: "postgres://analytics@127.0.0.1:5432/analytics" }
pairs:
  app-analytics:
    source: mysql
    target: pgsql
    capture: triggers               # trigger + sync_audit_log, no binlog
    direction: one_way              # `direction`
    tables: [users, orders]         # `tables`
    batch_size: 500                 # batch size
    on_error: stop                  # no silent drops
retry: { attempts: 5, delay: 10s, backoff: exponential }   # `retry`
"#,
    );
    let pair = &config.pairs["app-analytics"];
    assert_eq!(pair.capture, Some(Capture::Triggers));
    assert_eq!(pair.direction, Direction::OneWay);
    assert!(pair.selects("users").is_some());
    assert!(pair.selects("orders").is_some());
    assert!(pair.selects("sync_audit_log").is_none());
    assert_eq!(pair.batch_size, 500);
    assert_eq!(pair.on_error, OnError::Stop);
    assert_eq!(config.retry.attempts, 5);
    assert_eq!(config.retry.delay, Duration::from_secs(10));
    assert_eq!(config.retry.backoff, Backoff::Exponential);
}

/// Seed 001: a Go service syncing MySQL both ways over binlog, with a scheduler and an API.
#[test]
fn seed_001_bidirectional_service() {
    let config = load(
        r#"
state: "mysql://state_user:${STATE_PASSWORD}@state-db:3306/sync_state"   # state_storage
connections:                                                          # databases
  local: { url: "mysql://repl_user:${SHOP_PASSWORD}@localhost:3306/myapp_local" }
  cloud: { url: "mysql://repl_user:${CLOUD_PASSWORD}@db.example.com:3306/myapp_cloud" }
pairs:
  local-cloud:
    source: local
    target: cloud
    direction: bidirectional        # sync.mode
    capture: binlog                 # sync.realtime: true
    batch_size: 1000                # sync.batch_insert_size
    schedule: "*/10 * * * *"        # scheduler.interval
    tables:                         # sync.tables
      - name: users
        conflict_resolution: last_write_wins
        batch_size: 5000
        primary_key: id
        timestamp_column: updated_at
      - name: orders
        conflict_resolution: manual
        batch_size: 10000
        primary_key: order_id
        timestamp_column: modified_at
workers: 8                          # sync.workers
scheduler: { enabled: true }        # scheduler.enabled
server:
  listen: 0.0.0.0:8080              # server.host, server.port
  auth_token: your-secret-token
  read_timeout: 30s
  write_timeout: 30s
  cors_origins: ["http://localhost:3000", "https://sync-ui.example.com"]
logging: { level: info, format: json }
"#,
    );
    assert_eq!(config.state.engine(), Engine::MySql);
    assert_eq!(config.state.host(), Some("state-db"));
    assert_eq!(config.state.database(), Some("sync_state"));
    let pair = &config.pairs["local-cloud"];
    assert_eq!(pair.direction, Direction::Bidirectional);
    assert_eq!(
        pair.schedule.as_ref().map(|s| s.as_str()),
        Some("*/10 * * * *")
    );
    let users = pair.selects("users").unwrap();
    assert_eq!(
        users.conflict_resolution(),
        ConflictResolution::LastWriteWins
    );
    assert_eq!(users.batch_size(), 5000);
    assert_eq!(users.primary_key(), Some(&["id".to_owned()][..]));
    let orders = pair.selects("orders").unwrap();
    assert_eq!(orders.conflict_resolution(), ConflictResolution::Manual);
    assert_eq!(orders.timestamp_column(), "modified_at");
    assert!(pair.selects("sessions").is_none());
    assert_eq!(config.workers, 8);
    assert!(config.scheduler.enabled);
    assert_eq!(config.server.write_timeout, Duration::from_secs(30));
    assert_eq!(config.server.cors_origins.len(), 2);
    assert_eq!(config.logging.format, LogFormat::Json);
}

/// Seed 002: DB-Taxi's sync extension, its `sync:` settings and a sync configuration.
#[test]
fn seed_002_db_taxi() {
    let config = load(
        r#"
connections:
  production-db:        # name, host, port, username, password, database, ssl, enable_compression
    url: "mysql://sync_user:${SHOP_PASSWORD}@prod-db.example.com:3306/production?ssl-mode=REQUIRED&compress=true"
  prod-sync:            # local_db_name
    url: "mysql://sync_user@localhost:3306/prod_sync"
pairs:
  user-data-sync:       # a sync configuration's name
    source: production-db
    target: prod-sync
    enabled: true
    batch_size: 1000
    conflict_resolution: source_priority   # "overwrite"
    tables:
      - name: users                        # source_table
        target: users                      # target_table; sync_mode incremental
      - name: orders
        target: orders
        capture: snapshot                  # sync_mode: full
        enabled: true
workers: 5               # max_concurrency
retry: { attempts: 3, delay: 30s }         # retry_attempts, retry_delay
job_timeout: 1h          # job_timeout
history: { retention: 30d }                # cleanup_age
"#,
    );
    let production = &config.connections["production-db"].url;
    assert_eq!(production.param("ssl-mode"), Some("REQUIRED"));
    assert_eq!(production.param("compress"), Some("true"));
    let pair = &config.pairs["user-data-sync"];
    assert_eq!(pair.conflict_resolution, ConflictResolution::SourcePriority);
    assert_eq!(
        pair.selects("users").unwrap().capture(Engine::MySql),
        Capture::Binlog
    );
    assert_eq!(
        pair.selects("orders").unwrap().capture(Engine::MySql),
        Capture::Snapshot
    );
    assert!(pair.selects("invoices").is_none());
    assert_eq!(config.workers, 5);
    assert_eq!(config.retry.delay, Duration::from_secs(30));
    assert_eq!(config.job_timeout, Some(Duration::from_secs(3600)));
    assert_eq!(config.history.retention, Duration::from_secs(30 * 86_400));
}

/// Seed 004: StarbaseDB pulling PostgreSQL tables into a SQLite edge replica.
#[test]
fn seed_004_edge_replica() {
    let config = load(
        r#"
connections:
  external: { url: "postgresql://postgres:${SHOP_PASSWORD}@localhost:5432/demo" }   # EXTERNAL_DB_*
  edge: { url: "sqlite://data/starbase.db" }
pairs:
  external-edge:
    source: external
    target: edge
    capture: poll
    poll_interval: 300        # sync_interval, in seconds
    table_prefix: tmp_        # the tmp_ prefix
    tables:
      - users                 # public schema
      - public.products       # explicit public schema
      - users.profile         # custom schema
      - name: orders
        timestamp_column: created_at
      - name: audit.logs
        timestamp_column: logged_at
        id_column: log_id
        batch_size: 500
"#,
    );
    let pair = &config.pairs["external-edge"];
    assert_eq!(pair.poll_interval, Duration::from_secs(300));
    let target = |table: &str| pair.selects(table).unwrap().target_table();
    assert_eq!(target("users"), "tmp_users");
    assert_eq!(target("products"), "tmp_products");
    assert_eq!(target("users.profile"), "tmp_users_profile");
    assert_eq!(target("audit.logs"), "tmp_audit_logs");
    let logs = pair.selects("audit.logs").unwrap();
    assert_eq!(logs.timestamp_column(), "logged_at");
    assert_eq!(logs.id_column(), "log_id");
    assert_eq!(logs.batch_size(), 500);
    assert_eq!(logs.poll_interval(), Duration::from_secs(300));
    assert_eq!(
        pair.selects("orders").unwrap().timestamp_column(),
        "created_at"
    );
    assert!(pair.selects("audit.other").is_none());
}

/// The homes PRODUCT §6 lists beyond the example.
#[test]
fn fidelity_and_schema_settings() {
    let config = load(&with_pair(
        r#"    identifier_case: preserve
    zero_date: error
    enum_mapping: native
    set_mapping: text
    tables:
      - "*"
      - name: orders
        poll_interval: 1m
        columns:
          total: { type: "numeric(12,2)" }
"#,
    ));
    let pair = &config.pairs["shop-analytics"];
    assert_eq!(pair.identifier_case, Some(IdentifierCase::Preserve));
    assert_eq!(pair.zero_date, ZeroDatePolicy::Error);
    assert_eq!(pair.enum_mapping, EnumMapping::Native);
    assert_eq!(pair.set_mapping, SetMapping::Text);
    let orders = pair.selects("orders").unwrap();
    assert_eq!(orders.column_type("total"), Some("numeric(12,2)"));
    assert_eq!(orders.poll_interval(), Duration::from_secs(60));

    // `zero_date: null` is the policy, not a missing value.
    let config = load(&with_pair("    zero_date: null\n"));
    assert_eq!(
        config.pairs["shop-analytics"].zero_date,
        ZeroDatePolicy::Null
    );
    let config = load(&with_pair(""));
    let pair = &config.pairs["shop-analytics"];
    assert_eq!(pair.identifier_case, None);
    assert_eq!(
        pair.effective_identifier_case(Engine::PostgreSql),
        IdentifierCase::Lower
    );
    assert_eq!(pair.enum_mapping, EnumMapping::Text);
    assert_eq!(pair.set_mapping, SetMapping::TextArray);
}
