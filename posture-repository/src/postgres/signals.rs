//! [`Signals`] on PostgreSQL: `pg_notify` on a pooled connection, `LISTEN` on a connection of
//! the listener's own.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::PostgresRepository;
use crate::error::Result;
use crate::signals::{SignalListener, Signals, check, scoped_channel};

impl PostgresRepository {
    /// The backend channel of `channel`, scoped to this database and schema.
    fn channel(&self, channel: &str) -> Result<String> {
        if let Some(scope) = self.scope.get() {
            return Ok(scoped_channel(scope, channel));
        }
        let scope: String = self.read(|tx| {
            Ok(tx
                .one(
                    "SELECT current_database() || '/' || COALESCE(current_schema(), '')",
                    &[],
                )?
                .try_get(0)?)
        })?;
        Ok(scoped_channel(self.scope.get_or_init(|| scope), channel))
    }
}

impl Signals for PostgresRepository {
    fn signal(&self, channel: &str, payload: &str) -> Result<()> {
        check(channel, payload)?;
        let ch = self.channel(channel)?;
        // NOTIFY takes effect at commit: one small transaction of its own.
        self.write(|tx| {
            tx.exec("SELECT pg_notify($1, $2)", &[&ch, &payload])?;
            Ok(())
        })
    }

    fn listen(&self, channel: &str) -> Result<Option<Box<dyn SignalListener>>> {
        check(channel, "")?;
        let ch = self.channel(channel)?;
        super::off_runtime(|| {
            let mut conn = self.pool.connect()?;
            // `ch` is `nea_` + hex digits: a plain identifier, nothing to quote.
            conn.client.batch_execute(&format!("LISTEN {ch}"))?;
            Ok(Some(Box::new(Listener {
                client: Some(conn.client),
            }) as Box<dyn SignalListener>))
        })
    }
}

/// A connection that listens.
struct Listener {
    client: Option<postgres::Client>,
}

impl SignalListener for Listener {
    fn next(&mut self, timeout: Duration) -> Result<Option<String>> {
        let Some(client) = self.client.as_mut() else {
            return Ok(None);
        };
        super::off_runtime(|| {
            let mut n = client.notifications();
            let mut it = n.timeout_iter(timeout);
            Ok(it.next()?.map(|m| m.payload().to_owned()))
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            super::off_runtime(move || drop(c));
        }
    }
}
