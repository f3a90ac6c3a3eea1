//! Opening source connections the way every reader relies on them.

use dbsync_core::Result;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::driver_error;

/// Settings that make the text of values mean the same on every connection: instants
/// in UTC, dates in ISO order, floats with every digit needed to read them back.
const SESSION_SETUP: &str =
    "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3";

/// Connects to `config` with [`SESSION_SETUP`]; `what` names the server in the error
/// ("the source").
pub async fn connect(config: &Config, what: &str) -> Result<Client> {
    let doing = format!("connecting to {what}");
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| driver_error(&doing, e))?;
    tokio::spawn(async move {
        // The error, if any, surfaces on the next query as a closed connection.
        let _ = connection.await;
    });
    client
        .batch_execute(SESSION_SETUP)
        .await
        .map_err(|e| driver_error(&doing, e))?;
    Ok(client)
}
