//! Changing a stored connection or pair in place, as seed 002's `PUT` does: checked by
//! the configuration file's rules, like an addition.

use dbsync_config::{ConnectionUrl, Pair};
use rusqlite::TransactionBehavior;

use super::json::to_json;
use super::time::now_micros;
use super::validate::check_with;
use super::{ConnectionRecord, PairRecord, Store};
use crate::error::{Error, Result};

impl Store {
    /// Replaces the URL of connection `name`; a pair running on it is restarted by the
    /// server, which sees the change.
    pub async fn update_connection(
        &self,
        name: impl Into<String>,
        url: ConnectionUrl,
    ) -> Result<ConnectionRecord> {
        let name = name.into();
        let key = name.clone();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_with(&transaction, |config| {
                if let Some(connection) = config.connections.get_mut(&name) {
                    connection.url = url.clone();
                }
            })?;
            let changed = transaction.execute(
                "UPDATE connections SET url = ?2, updated_at = ?3 WHERE name = ?1",
                (&name, url.expose(), now_micros()),
            )?;
            if changed == 0 {
                return Err(Error::not_found(format!(
                    "there is no connection `{name}`; `dbsync connection list` shows the connections"
                )));
            }
            transaction.commit()?;
            Ok(())
        })
        .await?;
        self.connection(key).await
    }

    /// Replaces the definition of pair `name`; a run going on is restarted by the server,
    /// which sees the change.
    pub async fn update_pair(&self, name: impl Into<String>, pair: Pair) -> Result<PairRecord> {
        let name = name.into();
        let key = name.clone();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_with(&transaction, |config| {
                if let Some(stored) = config.pairs.get_mut(&name) {
                    *stored = pair.clone();
                }
            })?;
            let changed = transaction.execute(
                "UPDATE pairs SET source = ?2, target = ?3, definition = ?4, updated_at = ?5
                 WHERE name = ?1",
                (
                    &name,
                    &pair.source,
                    &pair.target,
                    to_json(&pair)?,
                    now_micros(),
                ),
            )?;
            if changed == 0 {
                return Err(super::pairs::missing(&name));
            }
            transaction.commit()?;
            Ok(())
        })
        .await?;
        self.pair(key).await
    }
}
