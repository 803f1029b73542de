//! Re-assessment routing (profile §2.2.4, issue 13 §3): a request to re-assess endpoint E —
//! from the API's admin, or from the evaluator when E's access recommendation changed —
//! reaches the session that holds E, on this manager or on another one sharing the
//! PostgreSQL repository.
//!
//! A session registers its command channel here. A request for an endpoint with a session on
//! this manager goes straight to it; otherwise it is signalled through the repository
//! ([`Signals`](posture_repository::Signals): PostgreSQL `NOTIFY`), and the manager that
//! holds the session (each one listens on a thread of its own) hands it on. With SQLite there
//! is one manager, so nothing is signalled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use if_imv::{ActionRecommendation, RetryReason};
use posture_repository::{PostureStore, SignalListener};
use tokio::sync::{mpsc, watch};

use super::Command;

/// The repository signal channel of re-assessment requests.
const CHANNEL: &str = "reassess";
/// How often the listening thread looks at the stop flag.
const TICK: Duration = Duration::from_millis(500);
/// Wait before listening again after the listening connection failed.
const RELISTEN: Duration = Duration::from_secs(2);

/// A re-assessment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The retry reason the IMV broker gives.
    pub reason: RetryReason,
    /// The recommendation the evaluator now holds: a session whose last assessment already
    /// delivered it skips the retry; `None` (the API's request) always retries.
    pub expect: Option<ActionRecommendation>,
}

impl Request {
    /// As a signal payload: `reason expect endpoint` (codes; `-` for no expectation).
    fn encode(&self, endpoint: &str) -> String {
        let expect = self
            .expect
            .map_or_else(|| "-".to_owned(), |r| r.code().to_string());
        format!("{} {expect} {endpoint}", self.reason.code())
    }

    /// The payload's request and endpoint; `None` for anything else.
    fn decode(payload: &str) -> Option<(Self, &str)> {
        let mut parts = payload.splitn(3, ' ');
        let reason = RetryReason::try_from(parts.next()?.parse::<u64>().ok()?).ok()?;
        let expect = match parts.next()? {
            "-" => None,
            code => Some(ActionRecommendation::try_from(code.parse::<u64>().ok()?).ok()?),
        };
        let endpoint = parts.next().filter(|e| !e.is_empty())?;
        Some((Self { reason, expect }, endpoint))
    }
}

/// Where a request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routed {
    /// To a session on this manager.
    Local,
    /// Signalled to the other managers (the repository says the endpoint is connected).
    Signalled,
    /// The endpoint is not connected anywhere.
    NotConnected,
}

/// The sessions of this manager and the way to the others.
pub(crate) struct Router {
    sessions: Mutex<HashMap<String, mpsc::Sender<Command>>>,
    store: Arc<dyn PostureStore>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").finish_non_exhaustive()
    }
}

impl Router {
    pub(crate) fn new(store: Arc<dyn PostureStore>) -> Arc<Self> {
        Arc::new(Self {
            sessions: Mutex::new(HashMap::new()),
            store,
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<Command>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A session of `endpoint` started: requests for it go to `tx` (the newest session of
    /// an endpoint wins).
    pub(crate) fn register(&self, endpoint: &str, tx: mpsc::Sender<Command>) {
        self.sessions().insert(endpoint.to_owned(), tx);
    }

    /// The session with channel `tx` ended (a newer session of the endpoint stays).
    pub(crate) fn unregister(&self, endpoint: &str, tx: &mpsc::Sender<Command>) {
        let mut s = self.sessions();
        if s.get(endpoint).is_some_and(|t| t.same_channel(tx)) {
            s.remove(endpoint);
        }
    }

    /// Whether `endpoint` has a session on this manager.
    pub(crate) fn is_local(&self, endpoint: &str) -> bool {
        self.sessions().contains_key(endpoint)
    }

    /// Hands `req` to this manager's session of `endpoint`; `false` when there is none (or it
    /// just ended).
    fn deliver(&self, endpoint: &str, req: Request) -> bool {
        let Some(tx) = self.sessions().get(endpoint).cloned() else {
            return false;
        };
        match tx.try_send(Command::Reassess(req)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Requests already queued re-assess it anyway.
                tracing::debug!(endpoint, "re-assessment already queued");
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Routes `req` to the session of `endpoint`, wherever it is (blocking: repository
    /// calls; the writer thread or `spawn_blocking`).
    pub(crate) fn request(&self, endpoint: &str, req: Request) -> Routed {
        if self.deliver(endpoint, req) {
            return Routed::Local;
        }
        match self.store.endpoint(endpoint) {
            Ok(Some(e)) if e.connected => {}
            Ok(_) => return Routed::NotConnected,
            Err(e) => {
                tracing::warn!(endpoint, error = %e, "re-assessment: endpoint not read");
                return Routed::NotConnected;
            }
        }
        match self.store.signal(CHANNEL, &req.encode(endpoint)) {
            Ok(()) => Routed::Signalled,
            Err(e) => {
                tracing::warn!(endpoint, error = %e, "re-assessment not signalled");
                Routed::NotConnected
            }
        }
    }

    /// Listens for requests other managers signal, on a thread of its own, until `stop`;
    /// `None` when the repository has no other managers (SQLite).
    pub(crate) fn listen(
        self: &Arc<Self>,
        stop: watch::Receiver<bool>,
    ) -> std::io::Result<Option<JoinHandle<()>>> {
        let first = match self.store.listen(CHANNEL) {
            Ok(None) => return Ok(None),
            Ok(Some(l)) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "re-assessment listener: will retry");
                None
            }
        };
        let me = self.clone();
        std::thread::Builder::new()
            .name("reassess-listener".into())
            .spawn(move || me.run(first, &stop))
            .map(Some)
    }

    fn run(&self, mut listener: Option<Box<dyn SignalListener>>, stop: &watch::Receiver<bool>) {
        while !*stop.borrow() {
            let Some(l) = listener.as_mut() else {
                std::thread::sleep(RELISTEN);
                listener = self.store.listen(CHANNEL).ok().flatten();
                continue;
            };
            match l.next(TICK) {
                Ok(Some(payload)) => match Request::decode(&payload) {
                    Some((req, endpoint)) => {
                        if self.deliver(endpoint, req) {
                            tracing::info!(endpoint, "re-assessment signalled by a manager");
                        }
                    }
                    None => tracing::warn!(payload, "unreadable re-assessment signal"),
                },
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "re-assessment listener lost; listening again");
                    listener = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_survive_the_signal_payload() {
        for req in [
            Request {
                reason: RetryReason::ImvImportantPolicyChange,
                expect: Some(ActionRecommendation::Isolate),
            },
            Request {
                reason: RetryReason::ImvSeriousEvent,
                expect: None,
            },
        ] {
            let p = req.encode("CN=host 1,O=Example");
            assert_eq!(Request::decode(&p), Some((req, "CN=host 1,O=Example")));
        }
        for bad in ["", "4", "4 -", "4 - ", "x - e", "4 9 e", "99 - e"] {
            assert_eq!(Request::decode(bad), None, "{bad:?}");
        }
    }
}
