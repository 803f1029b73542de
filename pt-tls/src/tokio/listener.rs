//! The NEA Server's accept loop: TLS handshake and PT-TLS Negotiation for each connection on
//! its own task, under [`Config::handshake_timeout`], with per-source limits.
//!
//! RFC 6876 and the NEA profile's countermeasures against attacks on the posture manager
//! (§8.2.2, §8.2.3) ask that a flood from one address cannot starve the others. The
//! [`Listener`] therefore counts, per source IP address, the connections it holds (in
//! handshake or established and not yet dropped by the caller) and the handshakes in
//! progress; a connection past either limit from that address is closed at once (before any
//! TLS work) while other addresses keep being served. A global bound on handshakes in
//! progress stops accepting (the kernel's backlog queues) until a slot frees; a global bound
//! on connections refuses further ones. A client that fails TLS, fails Negotiation or sends
//! nothing within the timeout is dropped on its own task; nothing a client does stops the
//! loop, and accept errors (e.g. out of file descriptors) pause it briefly.
//!
//! ```no_run
//! # async fn f(tls: std::sync::Arc<rustls::ServerConfig>) -> std::io::Result<()> {
//! use std::sync::Arc;
//! use pt_tls::tokio::listener::{Limits, Listener};
//! let config = Arc::new(pt_tls::Config::default());
//! let mut listener = Listener::bind("127.0.0.1:0", tls, config, Limits::default()).await?;
//! println!("LISTENING {}", listener.local_addr());
//! while let Some((conn, peer)) = listener.accept().await {
//!     tokio::spawn(async move {
//!         // conn is in Data Transport; conn.authenticated_identity() says who it is.
//!         let _ = (conn, peer);
//!     });
//! }
//! # Ok(()) }
//! ```
//!
//! Graceful shutdown: [`Listener::shutdown`] (or dropping the listener) stops accepting and
//! abandons the handshakes in progress; connections already handed out are the caller's and
//! keep running.

use core::time::Duration;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::{AdapterError, PtTlsConnection};
use crate::{Config, Side};

/// How long the loop pauses after `accept` fails (e.g. EMFILE) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The listener's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Connections one source IP address may hold at once, in handshake or established
    /// (until the caller drops the [`PtTlsConnection`]). Default 256 (NAT gateways put many
    /// endpoints behind one address).
    pub max_connections_per_source: usize,
    /// Handshakes (TLS + Negotiation) one source IP address may have in progress. Default 8.
    pub max_handshakes_per_source: usize,
    /// Handshakes in progress over all sources; at the bound the loop stops accepting until
    /// one ends. Default 512.
    pub max_handshakes: usize,
    /// Connections held over all sources; past it new ones are closed. Default 100,000.
    pub max_connections: usize,
    /// Established connections waiting for [`Listener::accept`]. Default 64.
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections_per_source: 256,
            max_handshakes_per_source: 8,
            max_handshakes: 512,
            max_connections: 100_000,
            queue: 64,
        }
    }
}

impl Limits {
    /// Sets both per-source limits (connections held, handshakes in progress).
    #[must_use]
    pub fn with_per_source(mut self, connections: usize, handshakes: usize) -> Self {
        self.max_connections_per_source = connections;
        self.max_handshakes_per_source = handshakes;
        self
    }

    /// Sets both global limits (handshakes in progress, connections held).
    #[must_use]
    pub fn with_global(mut self, handshakes: usize, connections: usize) -> Self {
        self.max_handshakes = handshakes;
        self.max_connections = connections;
        self
    }
}

/// Counters since the listener started (a snapshot, see [`Listener::stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// TCP connections accepted.
    pub accepted: u64,
    /// Closed at once: the source held its maximum of connections or handshakes.
    pub refused_per_source: u64,
    /// Closed at once: the listener held `max_connections`.
    pub refused_total: u64,
    /// TLS handshake or PT-TLS Negotiation failed (incl. refused client certificates).
    pub handshake_failed: u64,
    /// Dropped because TLS + Negotiation took longer than the handshake timeout.
    pub handshake_timed_out: u64,
    /// Handed to the caller in Data Transport.
    pub established: u64,
    /// Now: connections held (in handshake, queued for `accept`, or still owned by the caller).
    pub held: u64,
    /// Now: handshakes in progress.
    pub in_handshake: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused_per_source: AtomicU64,
    refused_total: AtomicU64,
    handshake_failed: AtomicU64,
    handshake_timed_out: AtomicU64,
    established: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

#[derive(Default)]
struct PerSource {
    connections: usize,
    handshakes: usize,
}

#[derive(Default)]
struct SourceTable {
    total: usize,
    handshakes: usize,
    by_ip: HashMap<IpAddr, PerSource>,
}

enum Refusal {
    PerSource,
    Total,
}

/// The per-source bookkeeping shared by the loop and the connections it made.
#[derive(Default)]
struct Sources(Mutex<SourceTable>);

impl Sources {
    /// (connections held, handshakes in progress) over all sources.
    fn totals(&self) -> (u64, u64) {
        let t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        (n(t.total), n(t.handshakes))
    }

    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Result<SourceGuard, Refusal> {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if t.total >= limits.max_connections {
            return Err(Refusal::Total);
        }
        let s = t.by_ip.entry(ip).or_default();
        if s.connections >= limits.max_connections_per_source
            || s.handshakes >= limits.max_handshakes_per_source
        {
            if s.connections == 0 {
                t.by_ip.remove(&ip);
            }
            return Err(Refusal::PerSource);
        }
        s.connections = s.connections.saturating_add(1);
        s.handshakes = s.handshakes.saturating_add(1);
        t.total = t.total.saturating_add(1);
        t.handshakes = t.handshakes.saturating_add(1);
        Ok(SourceGuard {
            sources: Arc::clone(self),
            ip,
            in_handshake: true,
        })
    }
}

/// One connection counted against its source; released on drop.
pub(crate) struct SourceGuard {
    sources: Arc<Sources>,
    ip: IpAddr,
    in_handshake: bool,
}

impl SourceGuard {
    fn handshake_done(&mut self) {
        if self.in_handshake {
            self.in_handshake = false;
            let mut t = self
                .sources
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            t.handshakes = t.handshakes.saturating_sub(1);
            if let Some(s) = t.by_ip.get_mut(&self.ip) {
                s.handshakes = s.handshakes.saturating_sub(1);
            }
        }
    }
}

impl Drop for SourceGuard {
    fn drop(&mut self) {
        self.handshake_done();
        let mut t = self
            .sources
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        t.total = t.total.saturating_sub(1);
        if let Some(s) = t.by_ip.get_mut(&self.ip) {
            s.connections = s.connections.saturating_sub(1);
            if s.connections == 0 {
                t.by_ip.remove(&self.ip);
            }
        }
    }
}

/// An accept loop handing out PT-TLS connections in Data Transport (NEA Server side).
pub struct Listener {
    local_addr: SocketAddr,
    incoming: mpsc::Receiver<(PtTlsConnection<TcpStream>, SocketAddr)>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    sources: Arc<Sources>,
}

impl core::fmt::Debug for Listener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Listener")
            .field("local_addr", &self.local_addr)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Binds `addr` and starts the loop (on the current tokio runtime).
    pub async fn bind(
        addr: impl ToSocketAddrs,
        tls: Arc<rustls::ServerConfig>,
        config: Arc<Config>,
        limits: Limits,
    ) -> io::Result<Self> {
        Self::from_tcp(TcpListener::bind(addr).await?, tls, config, limits)
    }

    /// Starts the loop over a bound listener.
    pub fn from_tcp(
        tcp: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        config: Arc<Config>,
        limits: Limits,
    ) -> io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (tx, incoming) = mpsc::channel(limits.queue.max(1));
        let (stop, stop_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let sources = Arc::new(Sources::default());
        let run = AcceptLoop {
            tcp,
            acceptor: TlsAcceptor::from(tls),
            config,
            handshakes: Arc::new(Semaphore::new(limits.max_handshakes.max(1))),
            limits,
            sources: Arc::clone(&sources),
            counters: Arc::clone(&counters),
            tx,
        };
        let task = tokio::spawn(run.run(stop_rx));
        Ok(Self {
            local_addr,
            incoming,
            stop: Some(stop),
            task: Some(task),
            counters,
            sources,
        })
    }

    /// The bound address (the port chosen for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next established connection (in Data Transport) and its peer address; `None`
    /// after [`Listener::shutdown`]. Cancellation-safe.
    pub async fn accept(&mut self) -> Option<(PtTlsConnection<TcpStream>, SocketAddr)> {
        self.incoming.recv().await
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (held, in_handshake) = self.sources.totals();
        Stats {
            accepted: get(&c.accepted),
            refused_per_source: get(&c.refused_per_source),
            refused_total: get(&c.refused_total),
            handshake_failed: get(&c.handshake_failed),
            handshake_timed_out: get(&c.handshake_timed_out),
            established: get(&c.established),
            held,
            in_handshake,
        }
    }

    /// Stops accepting, abandons handshakes in progress and connections not yet accepted,
    /// and waits for the loop to end. Connections already returned by `accept` are not
    /// touched.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct AcceptLoop {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    config: Arc<Config>,
    handshakes: Arc<Semaphore>,
    limits: Limits,
    sources: Arc<Sources>,
    counters: Arc<Counters>,
    tx: mpsc::Sender<(PtTlsConnection<TcpStream>, SocketAddr)>,
}

impl AcceptLoop {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        let mut tasks = JoinSet::new();
        loop {
            while tasks.try_join_next().is_some() {}
            let permit = tokio::select! {
                p = Arc::clone(&self.handshakes).acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break, // the semaphore is never closed
                },
                _ = &mut stop => break,
                () = self.tx.closed() => break,
            };
            let (tcp, peer) = tokio::select! {
                r = self.tcp.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(%e, "pt-tls listener: accept failed; pausing");
                        tokio::select! {
                            () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                            _ = &mut stop => break,
                        }
                    }
                },
                _ = &mut stop => break,
                () = self.tx.closed() => break,
            };
            bump(&self.counters.accepted);
            let guard = match self.sources.admit(peer.ip(), &self.limits) {
                Ok(g) => g,
                Err(r) => {
                    tracing::debug!(%peer, "pt-tls listener: connection refused by limits");
                    bump(match r {
                        Refusal::PerSource => &self.counters.refused_per_source,
                        Refusal::Total => &self.counters.refused_total,
                    });
                    drop(tcp);
                    continue;
                }
            };
            let handshake = handshake(tcp, self.acceptor.clone(), Arc::clone(&self.config), guard);
            let counters = Arc::clone(&self.counters);
            let tx = self.tx.clone();
            tasks.spawn(async move {
                let r = handshake.await;
                drop(permit);
                match r {
                    Ok(conn) => {
                        bump(&counters.established);
                        // The listener may be gone: the connection is dropped then.
                        let _ = tx.send((conn, peer)).await;
                    }
                    Err(AdapterError::HandshakeTimeout { .. }) => {
                        tracing::debug!(%peer, "pt-tls listener: handshake timed out");
                        bump(&counters.handshake_timed_out);
                    }
                    Err(e) => {
                        tracing::debug!(%peer, %e, "pt-tls listener: handshake failed");
                        bump(&counters.handshake_failed);
                    }
                }
            });
        }
        // Dropping the JoinSet aborts the handshakes in progress.
        tasks.abort_all();
    }
}

/// TLS accept and PT-TLS Negotiation under the handshake timeout.
async fn handshake(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    config: Arc<Config>,
    mut guard: SourceGuard,
) -> Result<PtTlsConnection<TcpStream>, AdapterError> {
    let after = config.handshake_timeout;
    let setup = async {
        tcp.set_nodelay(true)?;
        let stream = acceptor.accept(tcp).await?;
        let mut conn = PtTlsConnection::new(config, Side::Server, stream);
        conn.negotiate_untimed().await?;
        Ok::<_, AdapterError>(conn)
    };
    let mut conn = tokio::time::timeout(after, setup)
        .await
        .map_err(|_| AdapterError::HandshakeTimeout { after })??;
    guard.handshake_done();
    conn.c._guard = Some(guard);
    Ok(conn)
}
