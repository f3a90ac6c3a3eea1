//! `DBSYNC_*` environment overrides: a few settings a container or a service manager sets
//! without editing the file.
//!
//! The variables and their rules are in the crate documentation (`# Overrides`); the
//! `OVERRIDES` list below, quoted in errors, must follow it.

use serde::de::DeserializeOwned;

use crate::de::from_node;
use crate::document::Node;
use crate::environment::Environment;
use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::model::Config;

const PREFIX: &str = "DBSYNC_";

const OVERRIDES: &str = "DBSYNC_STATE, DBSYNC_WORKERS, DBSYNC_SERVER__LISTEN, DBSYNC_SERVER__AUTH_TOKEN, DBSYNC_LOGGING__LEVEL, DBSYNC_LOGGING__FORMAT, DBSYNC_LOGGING__DIR, DBSYNC_CONNECTIONS__<NAME>__URL, DBSYNC_PAIRS__<NAME>__BATCH_SIZE, DBSYNC_PAIRS__<NAME>__ENABLED and DBSYNC_PAIRS__<NAME>__SCHEDULE";

/// Applies every override in `environment` to `config`; returns the key paths set, each
/// with the variable that set it, so that a later error about one names the variable.
pub(crate) fn apply(
    config: &mut Config,
    environment: &Environment,
) -> Result<Vec<(KeyPath, String)>, ConfigError> {
    let mut applied = Vec::new();
    for (variable, value) in environment.iter() {
        let Some(name) = variable.strip_prefix(PREFIX) else {
            continue;
        };
        let origin = format!("environment variable {variable}");
        let path = set(config, name, value).map_err(|error| error.in_origin(&origin))?;
        if let Some(path) = path {
            applied.push((path, variable.to_owned()));
        }
    }
    Ok(applied)
}

/// Sets what the variable `DBSYNC_{name}` names; `None` when it is no override.
fn set(config: &mut Config, name: &str, value: &str) -> Result<Option<KeyPath>, ConfigError> {
    let parts: Vec<&str> = name.split("__").collect();
    let path = match parts.as_slice() {
        ["STATE"] => read_into(&mut config.state, value, KeyPath::from(["state"]))?,
        ["WORKERS"] => read_into(&mut config.workers, value, KeyPath::from(["workers"]))?,
        [_] => return Ok(None),
        ["SERVER", "LISTEN"] => read_into(
            &mut config.server.listen,
            value,
            KeyPath::from(["server", "listen"]),
        )?,
        ["SERVER", "AUTH_TOKEN"] => read_into(
            &mut config.server.auth_token,
            value,
            KeyPath::from(["server", "auth_token"]),
        )?,
        ["LOGGING", "LEVEL"] => read_into(
            &mut config.logging.level,
            value,
            KeyPath::from(["logging", "level"]),
        )?,
        ["LOGGING", "FORMAT"] => read_into(
            &mut config.logging.format,
            value,
            KeyPath::from(["logging", "format"]),
        )?,
        ["LOGGING", "DIR"] => read_into(
            &mut config.logging.dir,
            value,
            KeyPath::from(["logging", "dir"]),
        )?,
        ["CONNECTIONS", connection, "URL"] => {
            let key = find(
                "connection",
                "connections",
                config.connections.keys(),
                connection,
            )?;
            let path = KeyPath::from(["connections"]).key(key.as_str()).key("url");
            match config.connections.get_mut(&key) {
                Some(defined) => read_into(&mut defined.url, value, path)?,
                None => return Ok(None),
            }
        }
        [
            "PAIRS",
            pair,
            setting @ ("BATCH_SIZE" | "ENABLED" | "SCHEDULE"),
        ] => {
            let key = find("pair", "pairs", config.pairs.keys(), pair)?;
            let Some(defined) = config.pairs.get_mut(&key) else {
                return Ok(None);
            };
            let path = KeyPath::from(["pairs"]).key(key.as_str());
            match *setting {
                "BATCH_SIZE" => read_into(&mut defined.batch_size, value, path.key("batch_size"))?,
                "ENABLED" => read_into(&mut defined.enabled, value, path.key("enabled"))?,
                _ => read_into(&mut defined.schedule, value, path.key("schedule"))?,
            }
        }
        _ => {
            return Err(ConfigError::new(format!(
                "no setting has this name; the overrides are {OVERRIDES}; fix or unset the variable."
            )));
        }
    };
    Ok(Some(path))
}

/// Reads `value` as the file would read it unquoted at `path`, into `slot`.
fn read_into<T: DeserializeOwned>(
    slot: &mut T,
    value: &str,
    path: KeyPath,
) -> Result<KeyPath, ConfigError> {
    *slot = from_node(&Node::plain(value), path.clone())?;
    Ok(path)
}

/// The one name among `names` that the variable segment `segment` stands for.
fn find<'n>(
    what: &str,
    section: &str,
    names: impl Iterator<Item = &'n String>,
    segment: &str,
) -> Result<String, ConfigError> {
    let matching: Vec<&String> = names
        .filter(|name| name.to_ascii_uppercase().replace('-', "_") == segment)
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ConfigError::new(format!(
            "no {what} under `{section}` matches `{segment}` (its name upper-cased, with `-` written `_`); fix or unset the variable."
        ))),
        [first, second, ..] => Err(ConfigError::new(format!(
            "the {what}s `{first}` and `{second}` both match `{segment}`; rename one, or set the value in the file."
        ))),
    }
}
