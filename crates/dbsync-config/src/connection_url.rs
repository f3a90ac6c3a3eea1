//! Connection URLs: `mysql://`, `mariadb://`, `postgres://`, `postgresql://`, `sqlite://PATH`.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::{MASK, Secret, secrets_exposed};

/// The database engine a URL connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    /// MySQL or MariaDB (`mysql://`, `mariadb://`).
    MySql,
    /// PostgreSQL (`postgres://`, `postgresql://`).
    PostgreSql,
    /// SQLite (`sqlite://PATH`).
    Sqlite,
}

impl Engine {
    /// The port a server of this engine listens on unless told otherwise.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Engine::MySql => Some(3306),
            Engine::PostgreSql => Some(5432),
            Engine::Sqlite => None,
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::MySql => "MySQL/MariaDB",
            Engine::PostgreSql => "PostgreSQL",
            Engine::Sqlite => "SQLite",
        })
    }
}

/// The scheme as written, so that a `mariadb://` URL is written back as `mariadb://`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    MySql,
    MariaDb,
    Postgres,
    PostgreSql,
    Sqlite,
}

impl Scheme {
    fn parse(text: &str) -> Option<Scheme> {
        Some(match text.to_ascii_lowercase().as_str() {
            "mysql" => Scheme::MySql,
            "mariadb" => Scheme::MariaDb,
            "postgres" => Scheme::Postgres,
            "postgresql" => Scheme::PostgreSql,
            "sqlite" => Scheme::Sqlite,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::MySql => "mysql",
            Scheme::MariaDb => "mariadb",
            Scheme::Postgres => "postgres",
            Scheme::PostgreSql => "postgresql",
            Scheme::Sqlite => "sqlite",
        }
    }

    fn engine(self) -> Engine {
        match self {
            Scheme::MySql | Scheme::MariaDb => Engine::MySql,
            Scheme::Postgres | Scheme::PostgreSql => Engine::PostgreSql,
            Scheme::Sqlite => Engine::Sqlite,
        }
    }
}

/// A parsed connection URL.
///
/// The password may be written as it is or percent-encoded (`%40` for `@`); only `%`
/// followed by two hex digits is decoded, so that a password like `50%off` needs no care.
/// `@` in the database name or the query must be written `%40`: the last `@` ends the
/// user and password. Query parameters (`?sslmode=require`, `?ssl-mode=REQUIRED` ...) are
/// kept in order for the engine's driver.
///
/// `Display`, `Debug` and `Serialize` print the password as `***`; [`ConnectionUrl::expose`]
/// gives the URL a driver connects with.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionUrl {
    scheme: Scheme,
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<Secret>,
    /// For SQLite, the file's path.
    database: Option<String>,
    params: Vec<(String, String)>,
    /// The text as written in the file when it used `${VAR}`, written back instead of the
    /// URL with the value it stood for.
    written: Option<String>,
}

/// Why a text is not a connection URL: a predicate to follow the key path, such as
/// "has the unknown scheme `ftp`; use ...". It never quotes the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    NoScheme,
    UnknownScheme(String),
    BadPort(String),
    UnclosedHost,
    NoSqlitePath,
}

const SCHEMES: &str = "mysql://, mariadb://, postgres://, postgresql:// or sqlite://";

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::NoScheme => write!(
                f,
                "is not a URL like mysql://user:password@host:3306/database; start it with {SCHEMES}"
            ),
            UrlError::UnknownScheme(scheme) => {
                write!(f, "has the unknown scheme `{scheme}://`; use {SCHEMES}")
            }
            UrlError::BadPort(port) => write!(
                f,
                "has the port `{port}`, which is not a number from 1 to 65535; fix the port"
            ),
            UrlError::UnclosedHost => {
                write!(
                    f,
                    "has a host that opens `[` without closing it; close it with `]`"
                )
            }
            UrlError::NoSqlitePath => write!(
                f,
                "names no SQLite file; write its path after sqlite://, like sqlite://data/app.db"
            ),
        }
    }
}

impl std::error::Error for UrlError {}

impl ConnectionUrl {
    pub fn parse(text: &str) -> Result<ConnectionUrl, UrlError> {
        let (scheme, rest) = text.split_once("://").ok_or(UrlError::NoScheme)?;
        let scheme =
            Scheme::parse(scheme).ok_or_else(|| UrlError::UnknownScheme(scheme.to_owned()))?;
        if scheme == Scheme::Sqlite {
            let (path, query) = split_query(rest);
            if path.is_empty() {
                return Err(UrlError::NoSqlitePath);
            }
            return Ok(ConnectionUrl {
                params: parse_query(query),
                ..ConnectionUrl::sqlite(path)
            });
        }
        // The last `@` ends the user and password, so that a password may hold any
        // character, `/` and `?` too.
        let (userinfo, after) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (location, query) = split_query(after);
        let (address, database) = location.split_once('/').unwrap_or((location, ""));
        let (host, port) = split_port(address)?;
        let (user, password) = match userinfo.map(|userinfo| userinfo.split_once(':')) {
            None => (None, None),
            Some(None) => (userinfo.map(decode), None),
            Some(Some((user, password))) => (Some(decode(user)), Some(decode(password))),
        };
        Ok(ConnectionUrl {
            scheme,
            host: non_empty(host.to_owned()),
            port,
            user: user.and_then(non_empty),
            password: password.map(Secret::new),
            database: non_empty(decode(database)),
            params: parse_query(query),
            written: None,
        })
    }

    /// `sqlite://PATH`.
    pub fn sqlite(path: impl Into<String>) -> ConnectionUrl {
        ConnectionUrl {
            scheme: Scheme::Sqlite,
            host: None,
            port: None,
            user: None,
            password: None,
            database: Some(path.into()),
            params: Vec::new(),
            written: None,
        }
    }

    pub fn engine(&self) -> Engine {
        self.scheme.engine()
    }

    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port as written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port as written, or the engine's usual one.
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or(self.engine().default_port())
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    /// The database (MySQL, PostgreSQL) or the file's path (SQLite).
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The file of a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self.engine() {
            Engine::Sqlite => self.database.as_deref().map(Path::new),
            Engine::MySql | Engine::PostgreSql => None,
        }
    }

    /// The query parameters, in the order written.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether both URLs reach the same database (same engine, host, port and database),
    /// whatever their users, passwords and parameters.
    pub fn same_database(&self, other: &ConnectionUrl) -> bool {
        self.engine() == other.engine()
            && self.host.as_deref().map(str::to_ascii_lowercase)
                == other.host.as_deref().map(str::to_ascii_lowercase)
            && self.port_or_default() == other.port_or_default()
            && self.database == other.database
    }

    /// The URL with its password, for a driver to connect with. Never log it.
    pub fn expose(&self) -> String {
        self.format(self.password.as_ref().map(Secret::expose))
    }

    pub(crate) fn with_written(mut self, written: Option<String>) -> Self {
        self.written = written;
        self
    }

    pub(crate) fn has_masked_password(&self) -> bool {
        self.password
            .as_ref()
            .is_some_and(|password| password.expose() == MASK)
    }

    fn format(&self, password: Option<&str>) -> String {
        let mut out = format!("{}://", self.scheme.as_str());
        if self.engine() == Engine::Sqlite {
            out.push_str(self.database.as_deref().unwrap_or_default());
        } else {
            if self.user.is_some() || password.is_some() {
                out.push_str(&encode(self.user.as_deref().unwrap_or_default()));
                if let Some(password) = password {
                    out.push(':');
                    out.push_str(&if password == MASK {
                        MASK.to_owned()
                    } else {
                        encode(password)
                    });
                }
                out.push('@');
            }
            match &self.host {
                Some(host) if host.contains(':') => out.push_str(&format!("[{host}]")),
                Some(host) => out.push_str(host),
                None => {}
            }
            if let Some(port) = self.port {
                out.push_str(&format!(":{port}"));
            }
            if let Some(database) = &self.database {
                out.push('/');
                out.push_str(&encode(database));
            }
        }
        for (position, (key, value)) in self.params.iter().enumerate() {
            out.push(if position == 0 { '?' } else { '&' });
            out.push_str(&encode(key));
            out.push('=');
            out.push_str(&encode(value));
        }
        out
    }
}

/// `before?query` -> (`before`, `query`); the query is empty when there is none.
fn split_query(text: &str) -> (&str, &str) {
    text.split_once('?').unwrap_or((text, ""))
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_port(address: &str) -> Result<(&str, Option<u16>), UrlError> {
    let (host, port) = if let Some(bracketed) = address.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or(UrlError::UnclosedHost)?;
        (host, after.strip_prefix(':'))
    } else {
        match address.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (address, None),
        }
    };
    let port = match port {
        None => None,
        Some(port) => Some(
            port.parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| UrlError::BadPort(port.to_owned()))?,
        ),
    };
    Ok((host, port))
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// Decodes `%XX` where XX are two hex digits and leaves every other `%` as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        let hex = bytes
            .get(position + 1..position + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[position], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                position += 3;
            }
            (byte, _) => {
                out.push(byte);
                position += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes every byte but the unreserved characters of RFC 3986 and a few
/// harmless ones, so that any user, password or database name parses back unchanged.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$'()*+,;".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl FromStr for ConnectionUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, UrlError> {
        ConnectionUrl::parse(text)
    }
}

impl fmt::Display for ConnectionUrl {
    /// The URL with the password masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(self.password.as_ref().map(|_| MASK)))
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionUrl({self})")
    }
}

impl Serialize for ConnectionUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if secrets_exposed() {
            match &self.written {
                Some(written) => serializer.serialize_str(written),
                None => serializer.serialize_str(&self.expose()),
            }
        } else {
            serializer.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for ConnectionUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ConnectionUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::expose_secrets;

    #[test]
    fn parses_every_engine() {
        let url = ConnectionUrl::parse("mysql://repl:s3cret@127.0.0.1:3306/shop").unwrap();
        assert_eq!(url.engine(), Engine::MySql);
        assert_eq!(url.host(), Some("127.0.0.1"));
        assert_eq!(url.port(), Some(3306));
        assert_eq!(url.user(), Some("repl"));
        assert_eq!(url.password().map(Secret::expose), Some("s3cret"));
        assert_eq!(url.database(), Some("shop"));

        let url = ConnectionUrl::parse("mariadb://db.example.com/shop").unwrap();
        assert_eq!(url.engine(), Engine::MySql);
        assert_eq!(url.port(), None);
        assert_eq!(url.port_or_default(), Some(3306));
        assert_eq!(url.user(), None);
        assert_eq!(url.to_string(), "mariadb://db.example.com/shop");

        for scheme in ["postgres", "postgresql", "PostgreSQL"] {
            let url = ConnectionUrl::parse(&format!("{scheme}://dbsync@127.0.0.1:5432/analytics"))
                .unwrap();
            assert_eq!(url.engine(), Engine::PostgreSql);
            assert_eq!(url.port_or_default(), Some(5432));
            assert_eq!(url.password(), None);
        }

        let url = ConnectionUrl::parse("sqlite://.dbsync/state.db").unwrap();
        assert_eq!(url.engine(), Engine::Sqlite);
        assert_eq!(url.sqlite_path(), Some(Path::new(".dbsync/state.db")));
        assert_eq!(url.host(), None);
        let url = ConnectionUrl::parse("sqlite:///var/lib/app.db?mode=ro").unwrap();
        assert_eq!(url.sqlite_path(), Some(Path::new("/var/lib/app.db")));
        assert_eq!(url.param("mode"), Some("ro"));
        assert_eq!(url.to_string(), "sqlite:///var/lib/app.db?mode=ro");
    }

    #[test]
    fn keeps_query_parameters_and_ipv6_hosts() {
        let url = ConnectionUrl::parse(
            "postgres://u@[::1]:6543/db?sslmode=require&application_name=dbsync",
        )
        .unwrap();
        assert_eq!(url.host(), Some("::1"));
        assert_eq!(url.port(), Some(6543));
        assert_eq!(
            url.params(),
            [
                ("sslmode".to_owned(), "require".to_owned()),
                ("application_name".to_owned(), "dbsync".to_owned())
            ]
        );
        assert_eq!(
            url.to_string(),
            "postgres://u@[::1]:6543/db?sslmode=require&application_name=dbsync"
        );
    }

    #[test]
    fn passwords_may_hold_any_character() {
        let url = ConnectionUrl::parse("mysql://u:p@ss/w?rd#1%zz@host/db?x=1").unwrap();
        assert_eq!(url.password().map(Secret::expose), Some("p@ss/w?rd#1%zz"));
        assert_eq!(url.host(), Some("host"));
        assert_eq!(url.database(), Some("db"));
        assert_eq!(url.param("x"), Some("1"));
        let url = ConnectionUrl::parse("mysql://u:p%40ss@host/db").unwrap();
        assert_eq!(url.password().map(Secret::expose), Some("p@ss"));
        // What `expose` writes parses back to the same password.
        let again = ConnectionUrl::parse(&url.expose()).unwrap();
        assert_eq!(again, url);
    }

    #[test]
    fn never_prints_the_password() {
        let url = ConnectionUrl::parse("mysql://repl:hunter2@127.0.0.1:3306/shop").unwrap();
        assert_eq!(url.to_string(), "mysql://repl:***@127.0.0.1:3306/shop");
        assert_eq!(
            format!("{url:?}"),
            "ConnectionUrl(mysql://repl:***@127.0.0.1:3306/shop)"
        );
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            "\"mysql://repl:***@127.0.0.1:3306/shop\""
        );
        assert_eq!(
            expose_secrets(|| serde_json::to_string(&url).unwrap()),
            "\"mysql://repl:hunter2@127.0.0.1:3306/shop\""
        );
        assert_eq!(url.expose(), "mysql://repl:hunter2@127.0.0.1:3306/shop");
    }

    #[test]
    fn refuses_what_is_not_a_connection_url() {
        let error = |text: &str| ConnectionUrl::parse(text).unwrap_err().to_string();
        assert_eq!(
            error("ftp://host/db"),
            "has the unknown scheme `ftp://`; use mysql://, mariadb://, postgres://, postgresql:// or sqlite://"
        );
        assert_eq!(
            error("shop-db:3306"),
            "is not a URL like mysql://user:password@host:3306/database; start it with mysql://, mariadb://, postgres://, postgresql:// or sqlite://"
        );
        assert_eq!(
            error("mysql://u:secret@host:99999/db"),
            "has the port `99999`, which is not a number from 1 to 65535; fix the port"
        );
        assert_eq!(
            error("mysql://[::1/db"),
            "has a host that opens `[` without closing it; close it with `]`"
        );
        assert_eq!(
            error("sqlite://"),
            "names no SQLite file; write its path after sqlite://, like sqlite://data/app.db"
        );
    }

    #[test]
    fn knows_the_same_database_under_two_names() {
        let a = ConnectionUrl::parse("mysql://a:x@DB.example.com/shop").unwrap();
        let b =
            ConnectionUrl::parse("mariadb://b@db.example.com:3306/shop?ssl-mode=REQUIRED").unwrap();
        let c = ConnectionUrl::parse("mysql://a@db.example.com/other").unwrap();
        assert!(a.same_database(&b));
        assert!(!a.same_database(&c));
    }
}
