//! Verify results kept in the state store (issue 5), for `dbsync status` and the history.

use chrono::{DateTime, Utc};
use dbsync_config::Config;
use dbsync_control::Store;

use super::verify::PairCheck;

/// Records what a verify of `pair` started at `started_at` found. The verify's answer
/// stands whatever happens here: a store that cannot take the result is a warning.
pub(crate) async fn record_verify(
    config: &Config,
    pair: &str,
    started_at: DateTime<Utc>,
    check: &PairCheck,
) {
    let recorded = async {
        let store = Store::open(&config.state).await?;
        store.declare(config).await?;
        store
            .record_verification(pair, started_at, check.report(), &check.to_json())
            .await
    };
    if let Err(error) = recorded.await {
        eprintln!(
            "warning: the result of verifying pair `{pair}` is not kept in the state store: {error}."
        );
    }
}
