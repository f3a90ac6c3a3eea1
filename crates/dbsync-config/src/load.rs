//! Reading a configuration: the file, `${VAR}` interpolation, `DBSYNC_*` overrides,
//! validation. Choosing the file (`--config`, `DBSYNC_CONFIG`, `dbsync.yaml`) is the
//! caller's; see [`crate::DEFAULT_CONFIG_PATH`] and [`crate::CONFIG_PATH_VARIABLE`].

use std::io::ErrorKind;
use std::path::Path;

use crate::de::from_node;
use crate::document::{self, Node};
use crate::environment::Environment;
use crate::error::ConfigError;
use crate::interpolate::interpolate_tree;
use crate::key_path::KeyPath;
use crate::model::Config;
use crate::overrides;

/// What messages call text that came from no file.
const TEXT_ORIGIN: &str = "config";

impl Config {
    /// Reads, interpolates (from this process's environment), overrides and validates the
    /// file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_with(path, &Environment::from_process())
    }

    /// [`Config::load`] with the environment given.
    pub fn load_with(path: &Path, environment: &Environment) -> Result<Config, ConfigError> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigError::new(match error.kind() {
                ErrorKind::NotFound => format!(
                    "{shown} does not exist; create it, or name another file with --config or DBSYNC_CONFIG."
                ),
                _ => format!("{shown} cannot be read ({error}); check that it is a readable text file."),
            })
        })?;
        Config::from_yaml_str_with(&text, &shown.to_string(), environment)
    }

    /// Reads a configuration from YAML text, as [`Config::load`] reads a file (with this
    /// process's environment); messages call it `config`.
    pub fn from_yaml_str(text: &str) -> Result<Config, ConfigError> {
        Config::from_yaml_str_with(text, TEXT_ORIGIN, &Environment::from_process())
    }

    /// Reads a configuration from YAML text with the environment given; messages name the
    /// text `origin` (a file name, or `request body` for the API).
    pub fn from_yaml_str_with(
        text: &str,
        origin: &str,
        environment: &Environment,
    ) -> Result<Config, ConfigError> {
        read(text, environment).map_err(|error| error.in_origin(origin))
    }
}

fn read(text: &str, environment: &Environment) -> Result<Config, ConfigError> {
    let mut tree = document::parse(text)?;
    interpolate_tree(&mut tree, &KeyPath::root(), environment)?;
    let mut config: Config = from_node(&tree, KeyPath::root())?;
    keep_written_secrets(&mut config, &tree);
    let overridden = overrides::apply(&mut config, environment)?;
    config.validate().map_err(|error| {
        let path = error.key_path().cloned().unwrap_or_default();
        match overridden.iter().find(|(set, _)| path.starts_with(set)) {
            Some((_, variable)) => error.in_origin(format!("environment variable {variable}")),
            None => {
                let line = tree.line_of(&path);
                error.at_line(line)
            }
        }
    })?;
    Ok(config)
}

/// Remembers how secret-bearing values were written when they used `${VAR}`, so that
/// writing the file back keeps the references rather than the secrets they stood for.
fn keep_written_secrets(config: &mut Config, tree: &Node) {
    let written = |path: KeyPath| tree.raw_text_at(&path).map(str::to_owned);
    config.state = config
        .state
        .clone()
        .with_written(written(KeyPath::from(["state"])));
    for (name, connection) in &mut config.connections {
        let path = KeyPath::from(["connections"]).key(name.as_str()).key("url");
        connection.url = connection.url.clone().with_written(written(path));
    }
    if let Some(token) = config.server.auth_token.take() {
        config.server.auth_token =
            Some(token.with_written(written(KeyPath::from(["server", "auth_token"]))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_no_file_is_called_config() {
        let error = Config::from_yaml_str("workers: 0\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "config line 1: workers is 0; set it to 1 or more."
        );
        assert_eq!(error.origin(), Some("config"));
        assert_eq!(error.line(), Some(1));
        assert_eq!(error.key_path(), Some(&KeyPath::from(["workers"])));
    }
}
