//! `dbsync serve`: the REST API over the state store, and every enabled pair of the
//! store running under the supervisor, until SIGTERM or SIGINT.

use std::path::Path;

use dbsync_config::Config;
use dbsync_control::{Control, Store, Supervisor};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::failure::{Exit, Failure};

pub(crate) async fn run(config_path: &Path) -> Result<(), Failure> {
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging)?;
    let store = open_store(&config).await?;
    let (supervisor, requests) = Supervisor::channel();
    let control = Control::new(store, supervisor);
    let router = dbsync_control::router(control.clone(), &config.server)?;
    let listen = &config.server.listen;
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!(
                "dbsync cannot listen on {listen}: {e}; free the address or change server.listen."
            ),
        )
    })?;
    tracing::info!("serving the API on {listen}");

    // A signal ends the server gracefully; then the runs finish their batch in flight.
    // A server that fails stops the runs too, rather than leave them unseen.
    let (stop_tx, mut stop) = watch::channel(false);
    let events = control.events.clone();
    let server = async move {
        let served =
            dbsync_control::serve(listener, router, events, crate::signal::shutdown()).await;
        tracing::info!("stopping: finishing the batches in flight");
        stop_tx.send_replace(true);
        served
    };
    let stopped = async move {
        // An error means the sender is gone, which is a stop as well.
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let supervised =
        crate::supervisor::Supervisor::new(control, config.clone()).run(requests, stopped);
    let (served, ()) = tokio::join!(server, supervised);
    served.map_err(|e| Failure::runtime(format!("the API server on {listen} failed: {e}.")))
}

/// The state store, with the runs a dead process left running marked failed and the
/// file's connections and pairs declared in it.
async fn open_store(config: &Config) -> Result<Store, Failure> {
    let store = Store::open(&config.state).await?;
    for run in store.fail_interrupted_runs().await? {
        tracing::warn!("marked run {run} failed: the process running it ended before it did");
    }
    store.declare(config).await?;
    Ok(store)
}
