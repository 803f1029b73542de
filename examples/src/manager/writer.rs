//! The repository writer: one thread applies what the sessions learn, in arrival order, so
//! no repository write runs under the broker lock or on a tokio worker.
//!
//! Each job is still one repository transaction (records with the SWIMA EID and epoch they
//! cover), so a crash loses only jobs not yet committed, and the endpoint's next session
//! asks for exactly those again. Before a session reads an endpoint's stored state
//! ([`Writer::wait_idle`]) the jobs queued for that endpoint are written first.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use posture_repository::{EventBatch, Inventory, ReportedTag, Repository, UnixTime};

use if_imv::RetryReason;

use super::Metrics;
use super::evaluation::Evaluation;
use super::events::{self, Hub};

/// Jobs the queue holds before a submitting session waits (back-pressure).
const QUEUE: usize = 4096;
/// Longest [`Writer::wait_idle`] waits for an endpoint's queued jobs.
const IDLE_WAIT: Duration = Duration::from_secs(30);

/// A write for the repository.
#[derive(Debug)]
pub(crate) enum Job {
    /// A full inventory of `endpoint`.
    Inventory {
        /// Endpoint identifier.
        endpoint: String,
        /// What it reported.
        inventory: Inventory,
    },
    /// Events of `endpoint`.
    Events {
        /// Endpoint identifier.
        endpoint: String,
        /// What it reported.
        batch: EventBatch,
    },
    /// Tags `endpoint` sent answering a targeted request.
    Tags {
        /// Endpoint identifier.
        endpoint: String,
        /// The tags.
        tags: Vec<ReportedTag>,
        /// When they arrived.
        at: UnixTime,
    },
    /// An event to publish once the endpoint's writes queued before it are done (an
    /// assessment result after the posture it assessed).
    Publish {
        /// Endpoint identifier.
        endpoint: String,
        /// The event.
        event: posture_repository::events::NewEvent,
    },
    /// OS attributes `endpoint` reported (for the evaluator's `os_attribute` rules).
    Attributes {
        /// Endpoint identifier.
        endpoint: String,
        /// `(name, value)` pairs.
        attributes: Vec<(String, String)>,
        /// When.
        at: UnixTime,
    },
    /// Time passed: endpoints that became stale since `since` are evaluated.
    Tick {
        /// The previous tick.
        since: UnixTime,
        /// Now.
        now: UnixTime,
    },
    /// A session ended.
    SessionEnded {
        /// Endpoint identifier.
        endpoint: String,
        /// The session row.
        row: i64,
        /// When.
        at: UnixTime,
        /// Its result (the last recommendation).
        result: String,
    },
}

impl Job {
    fn endpoint(&self) -> &str {
        match self {
            Job::Inventory { endpoint, .. }
            | Job::Events { endpoint, .. }
            | Job::Tags { endpoint, .. }
            | Job::Publish { endpoint, .. }
            | Job::Attributes { endpoint, .. }
            | Job::SessionEnded { endpoint, .. } => endpoint,
            Job::Tick { .. } => "",
        }
    }
}

/// Jobs queued per endpoint, and a condition signalled as they drain.
#[derive(Default)]
struct Pending {
    queued: Mutex<HashMap<String, usize>>,
    drained: Condvar,
}

impl Pending {
    fn add(&self, endpoint: &str) {
        let mut q = self.queued.lock().unwrap_or_else(PoisonError::into_inner);
        *q.entry(endpoint.to_owned()).or_default() += 1;
    }

    fn done(&self, endpoint: &str) {
        let mut q = self.queued.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = q.get_mut(endpoint) {
            *n -= 1;
            if *n == 0 {
                q.remove(endpoint);
            }
        }
        drop(q);
        self.drained.notify_all();
    }
}

/// The writer thread and its queue.
pub struct Writer {
    tx: Mutex<Option<SyncSender<Job>>>,
    metrics: Arc<Metrics>,
    pending: Arc<Pending>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer thread over `repo`; after each posture change it commits, it runs
    /// the evaluator (`eval`).
    pub(crate) fn start(
        repo: Arc<dyn Repository>,
        metrics: Arc<Metrics>,
        hub: Arc<Hub>,
        eval: Arc<Evaluation>,
    ) -> std::io::Result<Arc<Self>> {
        let (tx, rx) = sync_channel(QUEUE);
        let pending = Arc::new(Pending::default());
        let p = pending.clone();
        let thread = std::thread::Builder::new()
            .name("repository-writer".into())
            .spawn({
                let metrics = metrics.clone();
                move || {
                    let w = Worker {
                        repo: &*repo,
                        metrics: &metrics,
                        hub: &hub,
                        eval: &eval,
                    };
                    while let Ok(job) = rx.recv() {
                        w.apply(&job);
                        p.done(job.endpoint());
                        metrics.writer_queue.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            })?;
        Ok(Arc::new(Self {
            tx: Mutex::new(Some(tx)),
            metrics,
            pending,
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Queues a job (waits while the queue is full). After [`close`](Self::close) the job
    /// is dropped with an error log.
    pub(crate) fn submit(&self, job: Job) {
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(tx) = tx else {
            tracing::error!(
                endpoint = job.endpoint(),
                "repository writer closed: write lost"
            );
            return;
        };
        self.pending.add(job.endpoint());
        self.metrics.writer_queue.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = tx.send(job) {
            self.pending.done(e.0.endpoint());
            self.metrics.writer_queue.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(
                endpoint = e.0.endpoint(),
                "repository writer gone: write lost"
            );
        }
    }

    /// Waits until every job queued for `endpoint` is written (at most 30 s).
    pub(crate) fn wait_idle(&self, endpoint: &str) {
        self.wait_idle_for(endpoint, IDLE_WAIT);
    }

    /// Waits until every job queued for `endpoint` is written, at most `max`.
    pub(crate) fn wait_idle_for(&self, endpoint: &str, max: Duration) {
        let deadline = Instant::now() + max;
        let mut q = self
            .pending
            .queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while q.contains_key(endpoint) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(endpoint, "repository writer still busy; reading anyway");
                return;
            }
            q = self
                .pending
                .drained
                .wait_timeout(q, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Stops taking jobs, writes those queued, and waits for the thread.
    pub(crate) fn close(&self) {
        drop(
            self.tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// What the writer thread works with.
struct Worker<'a> {
    repo: &'a dyn Repository,
    metrics: &'a Metrics,
    hub: &'a Hub,
    eval: &'a Evaluation,
}

impl Worker<'_> {
    fn failed(&self, endpoint: &str, what: &str, e: &posture_repository::Error) {
        self.metrics.errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(endpoint, error = %e, "repository: {what} failed");
    }

    fn apply(&self, job: &Job) {
        let (repo, metrics, hub, eval) = (self.repo, self.metrics, self.hub, self.eval);
        let posture = RetryReason::ImvSeriousEvent;
        match job {
            Job::Inventory {
                endpoint,
                inventory,
            } => match repo.apply_inventory_publishing(endpoint, inventory, &|s| {
                events::inventory_event(endpoint, inventory, s)
            }) {
                Ok((s, published)) => {
                    let n = inventory.records.len();
                    metrics.records.fetch_add(n as u64, Ordering::Relaxed);
                    tracing::info!(
                        endpoint,
                        records = n,
                        changes = s.changes,
                        epoch = inventory.epoch,
                        last_eid = inventory.last_eid,
                        "inventory stored"
                    );
                    hub.appended(&published);
                    eval.run("an inventory", posture, |e, st| {
                        e.evaluate_endpoint(st, endpoint, inventory.received_at)
                    });
                }
                Err(e) => self.failed(endpoint, "storing an inventory", &e),
            },
            Job::Events { endpoint, batch } => {
                match repo.apply_events_publishing(endpoint, batch, &|s| {
                    events::software_events(endpoint, batch, s)
                }) {
                    Ok((s, published)) => {
                        let n = batch.events.len();
                        metrics.records.fetch_add(n as u64, Ordering::Relaxed);
                        tracing::info!(
                            endpoint,
                            changes = s.changes,
                            duplicates = s.duplicates,
                            last_eid = batch.last_eid,
                            "events stored"
                        );
                        hub.appended(&published);
                        let mut ids: Vec<String> = batch
                            .events
                            .iter()
                            .skip(s.duplicates)
                            .map(|e| e.record.software_identifier.clone())
                            .collect();
                        ids.sort_unstable();
                        ids.dedup();
                        if !ids.is_empty() {
                            eval.run("events", posture, |e, st| {
                                e.on_software_changes(st, endpoint, &ids, batch.received_at)
                            });
                        }
                    }
                    Err(e) => self.failed(endpoint, "storing events", &e),
                }
            }
            Job::Tags { endpoint, tags, at } => match repo.store_tags(endpoint, tags, *at) {
                Ok(outcomes) => {
                    tracing::info!(endpoint, tags = outcomes.len(), "tags stored");
                    // The tags gave software its name, version and vendor.
                    let ids: Vec<String> =
                        tags.iter().map(|t| t.software_identifier.clone()).collect();
                    eval.run("tags", posture, |e, st| e.on_metadata_change(st, &ids, *at));
                }
                Err(e) => self.failed(endpoint, "storing tags", &e),
            },
            Job::Attributes {
                endpoint,
                attributes,
                at,
            } => eval.run("OS attributes", posture, |e, st| {
                e.on_attributes(st, endpoint, attributes, *at)
            }),
            Job::Tick { since, now } => eval.tick(*since, *now),
            Job::Publish { event, .. } => {
                hub.publish(event);
            }
            Job::SessionEnded {
                endpoint,
                row,
                at,
                result,
            } => {
                if let Err(e) = repo.session_ended(*row, *at, Some(result)) {
                    self.failed(endpoint, "ending a session", &e);
                }
            }
        }
    }
}
