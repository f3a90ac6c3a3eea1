//! Live events for `/api/v1/sync/stream` (SSE): progress, lag, state changes and errors
//! as the engines and the lifecycle report them.
//!
//! A broadcast channel: publishing never waits for a slow listener; a listener that falls
//! more than the channel's capacity behind misses the oldest events and is told so.

use serde::Serialize;
use tokio::sync::{broadcast, watch};
use utoipa::ToSchema;

use crate::lifecycle::{RunId, RunState};
use crate::store::TableStatus;

/// Events a listener may miss before it is told it fell behind.
const CAPACITY: usize = 1024;

/// One live event; its `type` names the SSE event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A run of `pair` changed state.
    RunState {
        pair: String,
        run: RunId,
        state: RunState,
        error: Option<String>,
    },
    /// A table of `pair` moved on.
    Progress {
        pair: String,
        table: String,
        status: TableStatus,
        rows_synced: u64,
        /// Rows the source estimates, for a percentage during the initial copy.
        rows_estimated: Option<u64>,
    },
    /// How far a table of `pair` is behind its source.
    Lag {
        pair: String,
        table: String,
        seconds: f64,
    },
    /// An error on `pair` (and `table`, when it concerns one).
    Error {
        pair: String,
        table: Option<String>,
        message: String,
    },
    /// The listener fell behind and missed `missed` events.
    Lagged { missed: u64 },
}

impl Event {
    /// The SSE event name: the same as `type` in the data.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::RunState { .. } => "run_state",
            Event::Progress { .. } => "progress",
            Event::Lag { .. } => "lag",
            Event::Error { .. } => "error",
            Event::Lagged { .. } => "lagged",
        }
    }
}

/// The channel of live events. Cheap to clone: clones publish into the same channel.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<Event>,
    /// Set at shutdown, so that listeners end and the server's graceful shutdown, which
    /// waits for open answers, does not wait forever on endless streams.
    closed: watch::Sender<bool>,
}

/// One listener's end of [`Events`].
#[derive(Debug)]
pub(crate) struct Listener {
    receiver: broadcast::Receiver<Event>,
    closed: watch::Receiver<bool>,
}

impl Listener {
    /// The next event; `None` once the events are closed.
    pub(crate) async fn next(&mut self) -> Option<Event> {
        tokio::select! {
            received = self.receiver.recv() => match received {
                Ok(event) => Some(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => Some(Event::Lagged { missed }),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            _ = self.closed.wait_for(|closed| *closed) => None,
        }
    }
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    pub fn new() -> Events {
        Events {
            sender: broadcast::channel(CAPACITY).0,
            closed: watch::channel(false).0,
        }
    }

    /// Sends `event` to every listener there is now; none is fine.
    pub fn publish(&self, event: Event) {
        // An error only means that nobody listens.
        let _ = self.sender.send(event);
    }

    pub(crate) fn listen(&self) -> Listener {
        Listener {
            receiver: self.sender.subscribe(),
            closed: self.closed.subscribe(),
        }
    }

    /// Ends every listener, now and later.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}
