//! The API's side of the supervisor that runs the pairs: requests to start and stop a
//! pair's run, to test a connection, and a nudge when pairs or connections changed.
//!
//! The supervisor itself lives in the `dbsync` binary, next to the engines it drives;
//! the API only holds this handle, so that it depends on no engine.

use dbsync_config::ConnectionUrl;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, ErrorKind, Result};
use crate::lifecycle::RunId;

/// What the API asks of the supervisor.
#[derive(Debug)]
pub enum Request {
    /// Start a run of the pair now; answered with the run, or refused (409) when it runs
    /// already or is disabled.
    Start {
        pair: String,
        reply: oneshot::Sender<Result<RunId>>,
    },
    /// Stop the pair's run, which then ends `stopped`; answered with the run, or refused
    /// (409) when none is running.
    Stop {
        pair: String,
        reply: oneshot::Sender<Result<RunId>>,
    },
    /// Connect to a database and say what answered (its engine and version), or why
    /// nothing did (422).
    Test {
        connection: String,
        url: ConnectionUrl,
        reply: oneshot::Sender<Result<String>>,
    },
    /// Pairs or connections changed in the store: read them again now rather than at the
    /// next poll.
    Reload,
}

/// Where the supervisor receives the requests.
pub type Requests = mpsc::UnboundedReceiver<Request>;

/// The handle to the supervisor. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Supervisor {
    requests: mpsc::UnboundedSender<Request>,
}

impl Supervisor {
    /// A handle, and where its requests arrive. A server that drops the [`Requests`]
    /// runs no pairs: start and stop then answer 503.
    pub fn channel() -> (Supervisor, Requests) {
        let (requests, received) = mpsc::unbounded_channel();
        (Supervisor { requests }, received)
    }

    pub async fn start(&self, pair: impl Into<String>) -> Result<RunId> {
        let pair = pair.into();
        self.ask(|reply| Request::Start { pair, reply }).await
    }

    pub async fn stop(&self, pair: impl Into<String>) -> Result<RunId> {
        let pair = pair.into();
        self.ask(|reply| Request::Stop { pair, reply }).await
    }

    /// Connects to `url`, the database of `connection`; gives what answered.
    pub async fn test(&self, connection: impl Into<String>, url: ConnectionUrl) -> Result<String> {
        let connection = connection.into();
        self.ask(|reply| Request::Test {
            connection,
            url,
            reply,
        })
        .await
    }

    /// Tells the supervisor that pairs or connections changed; never waits.
    pub fn reload(&self) {
        // Without a supervisor there is nothing to tell.
        let _ = self.requests.send(Request::Reload);
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T>>) -> Request,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(request(reply)).map_err(|_| absent())?;
        answer.await.map_err(|_| absent())?
    }
}

fn absent() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "this server runs no pairs (it is shutting down, or was started without them); start `dbsync serve` again",
    )
}
