//! The checks a configuration must pass beyond its shape: names that refer to something,
//! captures that fit their engines, sizes above zero.
//!
//! Each failed check is one sentence naming the key path, what is wrong and the fix; the
//! loader adds the file and line. Checks run in a fixed order (the top-level settings, then
//! connections and pairs by name) and stop at the first failure, so that the same file
//! always gives the same first thing to fix.

use crate::connection_url::{ConnectionUrl, Engine};
use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::model::Config;
use crate::pair::{Capture, Direction, Pair, ZeroDatePolicy};
use crate::table_rule::TableRule;

impl Config {
    /// Checks everything the shape alone does not: that every pair names two defined and
    /// different connections, that captures fit their engines, that sizes are above zero,
    /// that names are `[a-z0-9_-]+` ... The error names the key path but no file or line;
    /// [`Config::load`] adds them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_settings(self)?;
        for (name, connection) in &self.connections {
            let path = KeyPath::from(["connections"]).key(name.as_str());
            check_name("connection", "connections", name, &path)?;
            check_password(&connection.url, &path.key("url"))?;
        }
        for (name, pair) in &self.pairs {
            check_pair(self, name, pair)?;
        }
        Ok(())
    }
}

fn fail(path: KeyPath, message: String) -> Result<(), ConfigError> {
    Err(ConfigError::new(message).at_path(path))
}

fn check_settings(config: &Config) -> Result<(), ConfigError> {
    check_password(&config.state, &KeyPath::from(["state"]))?;
    if config.workers == 0 {
        return fail(
            KeyPath::from(["workers"]),
            "workers is 0; set it to 1 or more.".to_owned(),
        );
    }
    let retry = &config.retry;
    if retry.max_delay < retry.delay {
        return fail(
            KeyPath::from(["retry", "max_delay"]),
            format!(
                "retry.max_delay ({}) is shorter than retry.delay ({}); make it at least as long.",
                crate::duration::format(retry.max_delay),
                crate::duration::format(retry.delay)
            ),
        );
    }
    if config.job_timeout.is_some_and(|timeout| timeout.is_zero()) {
        return fail(
            KeyPath::from(["job_timeout"]),
            "job_timeout is 0s; set a longer limit, or remove the key for none.".to_owned(),
        );
    }
    let server = &config.server;
    let listen_path = KeyPath::from(["server", "listen"]);
    let Some(host) = listen_host(&server.listen) else {
        return fail(
            listen_path,
            format!(
                "server.listen is `{}`, which is not `host:port`; write it like `0.0.0.0:8080`.",
                server.listen
            ),
        );
    };
    match &server.auth_token {
        Some(token) if token.expose() == crate::secret::MASK => fail(
            KeyPath::from(["server", "auth_token"]),
            "server.auth_token is the mask `***`, not a real token; write the token or a `${VAR}` reference.".to_owned(),
        ),
        None if !is_loopback(host) => fail(
            listen_path,
            format!(
                "server.listen `{}` accepts connections from other machines, but server.auth_token is not set; set a token (such as `${{DBSYNC_TOKEN}}`) or listen on 127.0.0.1.",
                server.listen
            ),
        ),
        _ => Ok(()),
    }
}

/// The host of `host:port` (`[v6]:port` too), when the port is a port.
fn listen_host(listen: &str) -> Option<&str> {
    let (host, port) = listen.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host);
    (port > 0 && !host.is_empty() && !host.contains(char::is_whitespace)).then_some(host)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// A `***` password is what `to_yaml` shows; written back by mistake, it would be tried
/// as the password and fail far from its cause.
fn check_password(url: &ConnectionUrl, path: &KeyPath) -> Result<(), ConfigError> {
    if url.has_masked_password() {
        return fail(
            path.clone(),
            format!(
                "{path} holds the masked password `***`, not a real one; write the password or a `${{VAR}}` reference."
            ),
        );
    }
    Ok(())
}

fn check_name(what: &str, section: &str, name: &str, path: &KeyPath) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return fail(
            path.clone(),
            format!(
                "{section} has the {what} name `{name}`, which may only hold lower-case letters, digits, `_` and `-`; rename it."
            ),
        );
    }
    Ok(())
}

/// `triggers`, `poll` or `snapshot`: the captures that can read `engine`.
fn captures_for(engine: Engine) -> String {
    let names: Vec<String> = [
        Capture::Binlog,
        Capture::Logical,
        Capture::Triggers,
        Capture::Poll,
        Capture::Snapshot,
    ]
    .into_iter()
    .filter(|capture| capture.supports(engine))
    .map(|capture| format!("`{capture}`"))
    .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn check_capture(
    capture: Capture,
    path: &KeyPath,
    source_name: &str,
    source: Engine,
) -> Result<(), ConfigError> {
    if capture.supports(source) {
        return Ok(());
    }
    let needs = match capture {
        Capture::Logical => "a PostgreSQL source",
        _ => "a MySQL/MariaDB source",
    };
    fail(
        path.clone(),
        format!(
            "{path} is `{capture}`, which needs {needs}, but connection `{source_name}` is {source}; use {}.",
            captures_for(source)
        ),
    )
}

fn check_pair(config: &Config, name: &str, pair: &Pair) -> Result<(), ConfigError> {
    let path = KeyPath::from(["pairs"]).key(name);
    check_name("pair", "pairs", name, &path)?;
    let mut urls = Vec::new();
    for (role, connection) in [("source", &pair.source), ("target", &pair.target)] {
        let Some(defined) = config.connections.get(connection) else {
            return fail(
                path.key(role),
                format!(
                    "{} names connection `{connection}`, which is not defined under `connections`; define it or fix the name.",
                    path.key(role)
                ),
            );
        };
        urls.push(&defined.url);
    }
    let (source, target) = (urls[0], urls[1]);
    if pair.source == pair.target {
        return fail(
            path.key("target"),
            format!(
                "{} names the same connection as source, `{}`; a pair needs two different databases.",
                path.key("target"),
                pair.source
            ),
        );
    }
    if source.same_database(target) {
        return fail(
            path.key("target"),
            format!(
                "{}, connection `{}`, is the same database as source, connection `{}`; a pair needs two different databases.",
                path.key("target"),
                pair.target,
                pair.source
            ),
        );
    }
    for (connection, url) in [(&pair.source, source), (&pair.target, target)] {
        if url.engine() == Engine::MySql && url.database().is_none() {
            let url_path = KeyPath::from(["connections"])
                .key(connection.as_str())
                .key("url");
            return fail(
                url_path.clone(),
                format!(
                    "{url_path} names no database, but pair `{name}` uses it; add the database after the host, like mysql://user@host:3306/shop."
                ),
            );
        }
    }
    let capture = pair.effective_capture(source.engine());
    if let Some(written) = pair.capture {
        check_capture(written, &path.key("capture"), &pair.source, source.engine())?;
    }
    if pair.direction == Direction::Bidirectional {
        check_bidirectional(&path, pair, capture, target.engine())?;
    }
    check_sizes(&path, pair)?;
    if pair.zero_date == ZeroDatePolicy::Keep && target.engine() != Engine::MySql {
        return fail(
            path.key("zero_date"),
            format!(
                "{} is `keep`, but the target, connection `{}`, is {}, which has no zero dates; use `null` or `error`.",
                path.key("zero_date"),
                pair.target,
                target.engine()
            ),
        );
    }
    check_tables(&path, pair, source.engine())
}

fn check_bidirectional(
    path: &KeyPath,
    pair: &Pair,
    capture: Capture,
    target: Engine,
) -> Result<(), ConfigError> {
    let direction = path.key("direction");
    if capture == Capture::Snapshot {
        return fail(
            direction.clone(),
            format!(
                "{direction} is `bidirectional`, but capture `snapshot` copies one way only; set `capture` to a change stream such as `triggers` or `poll`."
            ),
        );
    }
    if !capture.supports(target) {
        return fail(
            direction.clone(),
            format!(
                "{direction} is `bidirectional`, but capture `{capture}` cannot read changes on the target, connection `{}`, which is {target}; set `capture` to one both engines support, such as `triggers` or `poll`.",
                pair.target
            ),
        );
    }
    Ok(())
}

fn check_sizes(path: &KeyPath, pair: &Pair) -> Result<(), ConfigError> {
    if pair.batch_size == 0 {
        let key = path.key("batch_size");
        return fail(key.clone(), format!("{key} is 0; set it to 1 or more."));
    }
    if pair.poll_interval.is_zero() {
        let key = path.key("poll_interval");
        return fail(key.clone(), format!("{key} is 0s; set it to `1s` or more."));
    }
    Ok(())
}

fn check_tables(path: &KeyPath, pair: &Pair, source: Engine) -> Result<(), ConfigError> {
    let tables = path.key("tables");
    if pair.tables.is_empty() {
        return fail(
            tables.clone(),
            format!("{tables} is empty, so the pair syncs nothing; list tables, or \"*\" for all."),
        );
    }
    let includes = pair.tables.iter().any(|rule| match rule {
        TableRule::Glob(glob) => !glob.is_exclusion(),
        TableRule::Table(options) => options.enabled,
    });
    if !includes {
        return fail(
            tables.clone(),
            format!(
                "{tables} only excludes tables, so the pair syncs nothing; add \"*\" to sync the others."
            ),
        );
    }
    for (index, rule) in pair.tables.iter().enumerate() {
        let TableRule::Table(options) = rule else {
            continue;
        };
        let entry = tables.index(index);
        let name = &options.name;
        if name.is_exclusion() {
            let key = entry.key("name");
            return fail(
                key.clone(),
                format!(
                    "{key} is `{name}`, but `!` excludes only in a plain string; write \"{name}\" as its own entry, or set `enabled: false`."
                ),
            );
        }
        let earlier = pair.tables[..index].iter().position(|rule| {
            matches!(rule, TableRule::Table(other) if other.name.pattern() == name.pattern())
        });
        if let Some(earlier) = earlier {
            return fail(
                entry.clone(),
                format!(
                    "{entry} configures `{name}` again, after tables[{earlier}]; merge the two entries."
                ),
            );
        }
        if name.is_wildcard() && options.target.is_some() {
            let key = entry.key("target");
            return fail(
                key.clone(),
                format!(
                    "{key} renames every table `{name}` matches to one name; give each table its own entry."
                ),
            );
        }
        if options.batch_size == Some(0) {
            let key = entry.key("batch_size");
            return fail(key.clone(), format!("{key} is 0; set it to 1 or more."));
        }
        if options
            .poll_interval
            .is_some_and(|interval| interval.is_zero())
        {
            let key = entry.key("poll_interval");
            return fail(key.clone(), format!("{key} is 0s; set it to `1s` or more."));
        }
        if let Some(capture) = options.capture {
            check_capture(capture, &entry.key("capture"), &pair.source, source)?;
        }
    }
    Ok(())
}
