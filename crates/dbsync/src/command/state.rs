//! The state store as the management commands (`connection`, `sync`, `status`) see it:
//! the configuration file declared into it first, so that the file and the command line
//! change one state and the file wins for the names it declares.

use std::path::{Path, PathBuf};

use dbsync_config::{Config, Connection};
use dbsync_control::Store;

use crate::failure::{Exit, Failure};

/// The configuration file and the state store it names.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) config_path: PathBuf,
    pub(crate) store: Store,
}

impl State {
    /// Opens the store of the configuration at `config_path` and declares the file's
    /// connections and pairs in it. A missing file is an empty configuration: the
    /// command line alone may manage the default store.
    pub(crate) async fn open(config_path: &Path) -> Result<State, Failure> {
        let config = load_config_or_empty(config_path)?;
        let store = Store::open(&config.state).await?;
        store.declare(&config).await?;
        Ok(State {
            config,
            config_path: config_path.to_owned(),
            store,
        })
    }

    /// Refuses to change `name`, a connection or pair (`kind`) the file declares: the
    /// next command would declare it again as the file has it.
    pub(crate) fn refuse_declared(&self, kind: Kind, name: &str) -> Result<(), Failure> {
        if !self.declares(kind, name) {
            return Ok(());
        }
        Err(Failure::new(
            Exit::Usage,
            format!(
                "{} `{name}` is declared in {}, which wins over the command line; change it there.",
                kind.noun(),
                self.config_path.display()
            ),
        ))
    }

    /// Where `name` comes from, for listings: `file` or `cli` (the command line or the
    /// API).
    pub(crate) fn declared_in(&self, kind: Kind, name: &str) -> &'static str {
        if self.declares(kind, name) {
            "file"
        } else {
            "cli"
        }
    }

    /// The file's configuration with the connections and pairs of the store, which holds
    /// the file's and those added since.
    pub(crate) async fn as_config(&self) -> Result<Config, Failure> {
        let mut config = self.config.clone();
        for record in self.store.connections().await? {
            config
                .connections
                .insert(record.name, Connection { url: record.url });
        }
        for record in self.store.pairs().await? {
            config.pairs.insert(record.name, record.definition);
        }
        Ok(config)
    }

    /// Whether the file declares `name`.
    fn declares(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Connection => self.config.connections.contains_key(name),
            Kind::Pair => self.config.pairs.contains_key(name),
        }
    }
}

/// What the file and the command line both declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Connection,
    Pair,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Connection => "connection",
            Kind::Pair => "pair",
        }
    }
}

/// The configuration at `path`, or the empty one (every default) when there is no file.
pub(crate) fn load_config_or_empty(path: &Path) -> Result<Config, Failure> {
    if path.exists() {
        super::load_config(path)
    } else {
        Ok(Config::default())
    }
}
