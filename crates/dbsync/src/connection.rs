//! Driver options from the connection URLs of the configuration.

use dbsync_config::ConnectionUrl;
use mysql_async::{Opts, OptsBuilder};

/// MySQL/MariaDB options with the settings every dbsync connection needs.
pub(crate) fn mysql_options(url: &ConnectionUrl) -> Opts {
    let builder = OptsBuilder::default()
        .ip_or_hostname(url.host().unwrap_or("localhost"))
        .tcp_port(url.port_or_default().unwrap_or(3306))
        .user(url.user())
        .pass(url.password().map(|p| p.expose()))
        .db_name(url.database());
    dbsync_mysql::session::options(builder)
}

pub(crate) fn postgres_config(url: &ConnectionUrl) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config.host(url.host().unwrap_or("localhost"));
    config.port(url.port_or_default().unwrap_or(5432));
    if let Some(user) = url.user() {
        config.user(user);
    }
    if let Some(password) = url.password() {
        config.password(password.expose());
    }
    if let Some(database) = url.database() {
        config.dbname(database);
    }
    config.application_name("dbsync");
    config
}
