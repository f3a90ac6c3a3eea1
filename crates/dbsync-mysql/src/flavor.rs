//! MySQL or MariaDB: the servers agree on most things, and differ in the details that
//! introspection and binlog capture care about.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::error::driver_error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    Mysql,
}

impl Flavor {
    /// Asks the server which it is.
    pub async fn of(conn: &mut Conn) -> dbsync_core::Result<Flavor> {
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| driver_error("reading the server version", e))?;
        Ok(Flavor::from_version(&version.unwrap_or_default()))
    }

    /// `10.11.6-MariaDB-0+deb12u1-log` is MariaDB; anything else is MySQL.
    pub fn from_version(version: &str) -> Flavor {
        if version.contains("MariaDB") {
            Flavor::MariaDb
        } else {
            Flavor::Mysql
        }
    }
}
