//! A small blocking connection pool: at most `size` connections, opened when first needed,
//! each with its own prepared-statement cache. A connection the server closed is dropped
//! instead of going back. (Twenty lines of `Mutex` + `Condvar` rather than another crate.)

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use postgres::{Client, Statement};

use super::tls::Tls;
use crate::error::{Error, Result};

/// One connection and the statements prepared on it (prepared statements live as long as the
/// connection, whatever happens to the transactions they were prepared in).
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) stmts: HashMap<String, Statement>,
}

#[derive(Default)]
struct State {
    idle: Vec<Conn>,
    open: usize,
}

pub(super) struct Pool {
    config: postgres::Config,
    tls: Tls,
    size: usize,
    wait: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the config: it may hold the password.
        f.debug_struct("Pool")
            .field("tls", &self.tls)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Pool {
    pub(super) fn new(config: postgres::Config, tls: Tls, size: usize, wait: Duration) -> Self {
        Self {
            config,
            tls,
            size: size.max(1),
            wait,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn connect(&self) -> Result<Conn> {
        let client = match &self.tls {
            Tls::Plain => self.config.connect(postgres::NoTls)?,
            Tls::Verified(c) => self.config.connect(c.clone())?,
        };
        Ok(Conn {
            client,
            stmts: HashMap::new(),
        })
    }

    /// A connection: an idle one, a new one while fewer than `size` are open, or the first
    /// one given back within the wait.
    pub(super) fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.wait;
        let mut st = self.lock();
        loop {
            if let Some(conn) = st.idle.pop() {
                if conn.client.is_closed() {
                    st.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if st.open < self.size {
                st.open += 1;
                drop(st);
                return match self.connect() {
                    Ok(conn) => Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::PoolTimeout(self.wait, self.size));
            }
            st = self
                .freed
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// A connection taken from the pool; it goes back on drop.
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    #[allow(clippy::expect_used)]
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    #[allow(clippy::expect_used)]
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Pool {
    /// Closing a client blocks on its connection: off the tokio workers (see
    /// [`off_runtime`](super::off_runtime)).
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        if !idle.is_empty() {
            super::off_runtime(move || drop(idle));
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut st = self.pool.lock();
        match self.conn.take() {
            Some(c) if !c.client.is_closed() => st.idle.push(c),
            _ => st.open -= 1,
        }
        drop(st);
        self.pool.freed.notify_one();
    }
}
