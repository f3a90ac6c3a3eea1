//! The supervisor of `dbsync serve`: every enabled pair of the state store running, one
//! run at a time, following the pairs and connections as the command line and the API
//! add, change, enable, disable and remove them.
//!
//! It owns the runs: the API's start and stop come to it as [`Request`]s, so that one
//! place decides whether a pair runs. It notices another process's changes by polling
//! the store's [`ChangeMark`] every second, and the API's at once by its nudge.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use dbsync_config::{Config, Connection, ConnectionUrl, Pair};
use dbsync_control::{ChangeMark, Control, Error, Outcome, Request, Requests, Result, RunId};
use tokio::sync::watch;
use tokio::task::{self, JoinError, JoinSet};
use tracing::Instrument;

use crate::pair_run::run_pair;
use crate::pair_sync::PairSync;
use crate::probe::probe;

/// How often the store is asked whether another process changed it.
const POLL: Duration = Duration::from_secs(1);

/// What a run of a pair runs; a change to any part restarts the run.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    pair: Pair,
    source: ConnectionUrl,
    target: ConnectionUrl,
}

/// Why the supervisor asked a run to stop, which decides whether the pair starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    /// The API asked: the pair stays stopped until started or changed.
    Requested,
    /// The pair changed, was disabled or removed: it starts again if it is still enabled.
    Changed,
    Shutdown,
}

struct Running {
    run: RunId,
    task: task::Id,
    wanted: Wanted,
    stop: watch::Sender<bool>,
    stopping: Option<StopReason>,
}

impl Running {
    fn stop(&mut self, reason: StopReason) {
        self.stopping.get_or_insert(reason);
        self.stop.send_replace(true);
    }
}

pub(crate) struct Supervisor {
    control: Control,
    /// The file's settings beyond its connections and pairs (retry, workers), which
    /// every pair runs with.
    settings: Config,
    running: HashMap<String, Running>,
    /// Enabled pairs not started again until what they run changes or the API starts
    /// them: their last run failed, completed or was stopped on request.
    held: HashMap<String, Wanted>,
    tasks: JoinSet<(String, Outcome)>,
}

impl Supervisor {
    pub(crate) fn new(control: Control, settings: Config) -> Supervisor {
        Supervisor {
            control,
            settings,
            running: HashMap::new(),
            held: HashMap::new(),
            tasks: JoinSet::new(),
        }
    }

    /// Runs the pairs and answers `requests` until `shutdown`; then stops every run and
    /// waits until each has finished its batch in flight and recorded its end.
    pub(crate) async fn run(mut self, mut requests: Requests, shutdown: impl Future<Output = ()>) {
        let mut seen: Option<ChangeMark> = None;
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(request) = requests.recv() => self.answer(request).await,
                Some(ended) = self.tasks.join_next() => {
                    self.ended(ended);
                    self.reconcile().await;
                }
                _ = poll.tick() => match self.control.store.change_mark().await {
                    Ok(mark) if seen != Some(mark) => {
                        seen = Some(mark);
                        self.reconcile().await;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!("the state store cannot be watched: {error}"),
                },
            }
        }
        for running in self.running.values_mut() {
            running.stop(StopReason::Shutdown);
        }
        while let Some(ended) = self.tasks.join_next().await {
            self.ended(ended);
        }
    }

    async fn answer(&mut self, request: Request) {
        match request {
            Request::Start { pair, reply } => {
                let _ = reply.send(self.start_requested(&pair).await);
            }
            Request::Stop { pair, reply } => {
                let _ = reply.send(self.stop_requested(&pair).await);
            }
            Request::Test {
                connection,
                url,
                reply,
            } => {
                // Off the loop: an unreachable host may take a while to say so.
                tokio::spawn(async move {
                    let answer = probe(&connection, &url)
                        .await
                        .map_err(|failure| Error::invalid(failure.to_string()));
                    let _ = reply.send(answer);
                });
            }
            Request::Reload => self.reconcile().await,
        }
    }

    async fn start_requested(&mut self, pair: &str) -> Result<RunId> {
        if let Some(running) = self.running.get(pair) {
            return Err(Error::conflict(format!(
                "pair `{pair}` is running already (run {}); stop it first",
                running.run
            )));
        }
        let Some(wanted) = self.wanted().await?.remove(pair) else {
            // Not found is the better answer for a pair that does not exist.
            self.control.store.pair(pair).await?;
            return Err(Error::conflict(format!(
                "pair `{pair}` is disabled; enable it before starting it"
            )));
        };
        self.held.remove(pair);
        self.start(pair.to_owned(), wanted).await
    }

    async fn stop_requested(&mut self, pair: &str) -> Result<RunId> {
        match self.running.get_mut(pair) {
            Some(running) if running.stopping.is_none() => {
                tracing::info!(pair, "stopping run {} on request", running.run);
                running.stop(StopReason::Requested);
                Ok(running.run.clone())
            }
            Some(running) => Err(Error::conflict(format!(
                "run {} of pair `{pair}` is stopping already",
                running.run
            ))),
            None => {
                self.control.store.pair(pair).await?;
                Err(Error::conflict(format!(
                    "pair `{pair}` is not running; start it first"
                )))
            }
        }
    }

    /// Brings the runs in line with the store: stops the runs of pairs changed, disabled
    /// or removed, and starts the enabled pairs that are neither running nor held.
    async fn reconcile(&mut self) {
        let mut wanted = match self.wanted().await {
            Ok(wanted) => wanted,
            Err(error) => {
                tracing::warn!("the pairs cannot be read from the state store: {error}");
                return;
            }
        };
        for (pair, running) in &mut self.running {
            if running.stopping.is_none() && wanted.get(pair) != Some(&running.wanted) {
                tracing::info!(
                    pair,
                    "stopping run {}: the pair changed, was disabled or removed",
                    running.run
                );
                running.stop(StopReason::Changed);
            }
        }
        self.held
            .retain(|pair, held| wanted.get(pair) == Some(held));
        wanted.retain(|pair, _| !self.running.contains_key(pair) && !self.held.contains_key(pair));
        for (pair, wanted) in wanted {
            if let Err(error) = self.start(pair.clone(), wanted.clone()).await {
                tracing::warn!(pair, "{error}");
                self.held.insert(pair, wanted);
            }
        }
    }

    /// The enabled pairs of the store, with their connections.
    async fn wanted(&self) -> Result<HashMap<String, Wanted>> {
        let store = &self.control.store;
        let connections: HashMap<String, ConnectionUrl> = store
            .connections()
            .await?
            .into_iter()
            .map(|record| (record.name, record.url))
            .collect();
        Ok(store
            .pairs()
            .await?
            .into_iter()
            .filter(|record| record.enabled)
            .filter_map(|record| {
                // The store's foreign keys keep both connections of a pair.
                let source = connections.get(&record.definition.source)?.clone();
                let target = connections.get(&record.definition.target)?.clone();
                Some((
                    record.name,
                    Wanted {
                        pair: record.definition,
                        source,
                        target,
                    },
                ))
            })
            .collect())
    }

    /// Starts a run of `pair`. A pair this version cannot run gets a run that failed
    /// with the reason, and is held.
    async fn start(&mut self, pair: String, wanted: Wanted) -> Result<RunId> {
        let run = self.control.start_run(&pair).await?;
        let id = run.id().clone();
        let mut settings = self.settings.clone();
        settings.connections = BTreeMap::from([
            (
                wanted.pair.source.clone(),
                Connection {
                    url: wanted.source.clone(),
                },
            ),
            (
                wanted.pair.target.clone(),
                Connection {
                    url: wanted.target.clone(),
                },
            ),
        ]);
        let sync = match PairSync::new(&pair, &wanted.pair, &settings) {
            Ok(sync) => sync,
            Err(failure) => {
                tracing::error!(pair, run = %id, "{failure}");
                let outcome = Outcome::Failed {
                    error: failure.to_string(),
                };
                self.control.finish_run(run, outcome).await?;
                self.held.insert(pair, wanted);
                return Ok(id);
            }
        };
        tracing::info!(pair, run = %id, "starting run");
        let (stop, stopped) = watch::channel(false);
        // At error level, so that whatever level the logs are filtered at, every line of
        // the run carries the span that names it.
        let span = tracing::error_span!("run", pair = %pair, run = %id);
        let control = self.control.clone();
        let name = pair.clone();
        let task = self.tasks.spawn(
            async move { (name, run_pair(control, sync, run, stopped).await) }.instrument(span),
        );
        self.running.insert(
            pair,
            Running {
                run: id.clone(),
                task: task.id(),
                wanted,
                stop,
                stopping: None,
            },
        );
        Ok(id)
    }

    /// Forgets a run that ended; holds its pair unless it stopped for a change, which
    /// the next reconciliation starts again if the pair is still enabled.
    fn ended(&mut self, ended: std::result::Result<(String, Outcome), JoinError>) {
        let (pair, outcome) = match ended {
            Ok(ended) => ended,
            Err(error) => {
                // A panic: the run's end could not be recorded, and it stays `running`
                // in the store until the next start marks it failed.
                let task = error.id();
                let Some(pair) = self
                    .running
                    .iter()
                    .find(|(_, running)| running.task == task)
                    .map(|(pair, _)| pair.clone())
                else {
                    return;
                };
                tracing::error!(pair, "the run of pair `{pair}` ended abnormally: {error}");
                (
                    pair,
                    Outcome::Failed {
                        error: error.to_string(),
                    },
                )
            }
        };
        let Some(running) = self.running.remove(&pair) else {
            return;
        };
        if running.stopping != Some(StopReason::Changed) {
            tracing::info!(
                pair,
                "run {} ended {}",
                running.run,
                outcome.state().as_str()
            );
            self.held.insert(pair, running.wanted);
        }
    }
}
