//! The repository writer: one thread applies what the sessions learn, in arrival order, so
//! no repository write runs under the broker lock or on a tokio worker.
//!
//! Each job is still one repository transaction (records with the SWIMA EID and epoch they
//! cover), so a crash loses only jobs not yet committed, and the endpoint's next session
//! asks for exactly those again. Before a session reads an endpoint's stored state
//! ([`Writer::wait_idle`]) the jobs queued for that endpoint are written first.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use posture_repository::{EventBatch, Inventory, ReportedTag, Repository, UnixTime};

use super::Metrics;
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
            | Job::SessionEnded { endpoint, .. } => endpoint,
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
    /// Starts the writer thread over `repo`.
    pub(crate) fn start(
        repo: Arc<dyn Repository>,
        metrics: Arc<Metrics>,
        hub: Arc<Hub>,
    ) -> std::io::Result<Arc<Self>> {
        let (tx, rx) = sync_channel(QUEUE);
        let pending = Arc::new(Pending::default());
        let p = pending.clone();
        let thread = std::thread::Builder::new()
            .name("repository-writer".into())
            .spawn({
                let metrics = metrics.clone();
                move || run(&*repo, &metrics, &hub, &p, &rx)
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
        let deadline = Instant::now() + IDLE_WAIT;
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

fn run(repo: &dyn Repository, metrics: &Metrics, hub: &Hub, pending: &Pending, rx: &Receiver<Job>) {
    while let Ok(job) = rx.recv() {
        apply(repo, metrics, hub, &job);
        pending.done(job.endpoint());
        metrics.writer_queue.fetch_sub(1, Ordering::Relaxed);
    }
}

fn apply(repo: &dyn Repository, metrics: &Metrics, hub: &Hub, job: &Job) {
    let failed = |endpoint: &str, what: &str, e: &posture_repository::Error| {
        metrics.errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(endpoint, error = %e, "repository: {what} failed");
    };
    match job {
        Job::Inventory {
            endpoint,
            inventory,
        } => match repo.apply_inventory(endpoint, inventory) {
            Ok(s) => {
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
                events::inventory_event(hub, endpoint, inventory, &s);
            }
            Err(e) => failed(endpoint, "storing an inventory", &e),
        },
        Job::Events { endpoint, batch } => match repo.apply_events(endpoint, batch) {
            Ok(s) => {
                let n = batch.events.len();
                metrics.records.fetch_add(n as u64, Ordering::Relaxed);
                tracing::info!(
                    endpoint,
                    changes = s.changes,
                    duplicates = s.duplicates,
                    last_eid = batch.last_eid,
                    "events stored"
                );
                events::software_events(hub, endpoint, batch, &s);
            }
            Err(e) => failed(endpoint, "storing events", &e),
        },
        Job::Tags { endpoint, tags, at } => match repo.store_tags(endpoint, tags, *at) {
            Ok(outcomes) => {
                tracing::info!(endpoint, tags = outcomes.len(), "tags stored");
            }
            Err(e) => failed(endpoint, "storing tags", &e),
        },
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
                failed(endpoint, "ending a session", &e);
            }
        }
    }
}
