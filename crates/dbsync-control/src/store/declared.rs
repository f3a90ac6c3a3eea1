//! The configuration file's connections and pairs, written into the store when
//! `dbsync serve` starts, so that the API and `status` show what the file declares.

use dbsync_config::Config;
use rusqlite::TransactionBehavior;

use super::Store;
use super::json::to_json;
use super::time::now_micros;
use super::validate::check_with;
use crate::error::Result;

impl Store {
    /// Creates every connection and pair of `config` that the store lacks and replaces
    /// those it holds under the same name; leaves the others (added through the CLI or
    /// the API) as they are. All or nothing: refused, with nothing written, when the
    /// result breaks a rule of the configuration file.
    pub async fn declare(&self, config: &Config) -> Result<()> {
        let declared = config.clone();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Checked before writing: the foreign keys would refuse a pair of an unknown
            // connection too, but without saying which.
            check_with(&transaction, |config| {
                config.connections.extend(declared.connections.clone());
                config.pairs.extend(declared.pairs.clone());
            })?;
            let now = now_micros();
            for (name, connection) in &declared.connections {
                // `updated_at` moves only when the file changed the connection.
                transaction.execute(
                    "INSERT INTO connections (name, url, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT (name) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at
                     WHERE url != excluded.url",
                    (name, connection.url.expose(), now),
                )?;
            }
            for (name, pair) in &declared.pairs {
                transaction.execute(
                    "INSERT INTO pairs (name, source, target, definition, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT (name) DO UPDATE SET source = excluded.source,
                         target = excluded.target, definition = excluded.definition,
                         updated_at = excluded.updated_at
                     WHERE definition != excluded.definition",
                    (name, &pair.source, &pair.target, to_json(pair)?, now),
                )?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }
}
