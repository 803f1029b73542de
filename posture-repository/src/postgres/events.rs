//! [`EventLog`] on PostgreSQL (tables of migration 5).
//!
//! Ids come from the one-row counter, whose row lock is held until the append commits: two
//! managers appending at once take turns, and a reader never sees id N+1 committed before N.

use postgres::types::ToSql;

use super::PostgresRepository;
use super::store::Tx;
use crate::error::Result;
use crate::events::*;
use crate::model::UnixTime;

/// Appends `e` (checked against `limits`) in the transaction `tx`; its id.
pub(super) fn append_in(tx: &mut Tx<'_>, limits: &crate::Limits, e: &NewEvent) -> Result<i64> {
    let payload = encode(limits, e)?;
    let severity = severity_code(e.severity);
    let id: i64 = tx.one(NEXT_ID, &[])?.try_get(0)?;
    tx.exec(
        "INSERT INTO event (id, at, kind, endpoint, device, severity, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &id,
            &e.at.0,
            &e.kind.as_str(),
            &e.endpoint,
            &e.device,
            &severity,
            &payload,
        ],
    )?;
    Ok(id)
}

impl EventLog for PostgresRepository {
    fn append_event(&self, e: &NewEvent) -> Result<StoredEvent> {
        let id = self.write(|tx| append_in(tx, &self.limits, e))?;
        Ok(e.stored(id))
    }

    fn events_since(&self, after: i64, f: &EventFilter, limit: u32) -> Result<EventPage> {
        let limit = i64::from(limit.min(self.limits.max_page));
        let (filter, n) = filter_sql(f, '$');
        let sql = format!("SELECT {EVENT_COLUMNS} FROM event {filter} ORDER BY id LIMIT ${n}");
        let severity = severity_code(f.min_severity);
        let kinds: Vec<&str> = f.kinds.iter().map(|k| k.as_str()).collect();
        self.read(|tx| {
            // Read first: every id up to it has committed (see the module doc).
            let newest: i64 = tx
                .one("SELECT last_id FROM event_counter", &[])?
                .try_get(0)?;
            let mut args: Vec<&(dyn ToSql + Sync)> =
                vec![&after, &newest, &f.endpoint, &f.device, &severity];
            args.extend(kinds.iter().map(|k| k as &(dyn ToSql + Sync)));
            args.push(&limit);
            let events = tx
                .rows(&sql, &args)?
                .iter()
                .map(|r| {
                    event_from_row((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                        r.try_get(6)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(EventPage::new(events, after, newest, limit))
        })
    }

    fn event_bounds(&self) -> Result<EventBounds> {
        self.read(|tx| {
            let r = tx.one(
                "SELECT COALESCE((SELECT MIN(id) FROM event), 0), last_id FROM event_counter",
                &[],
            )?;
            Ok(EventBounds {
                oldest: r.try_get(0)?,
                newest: r.try_get(1)?,
            })
        })
    }

    fn prune(&self, keep: Retention) -> Result<u64> {
        self.write(|tx| {
            let mut removed = 0;
            if let Some(n) = keep.max_events {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                removed += tx.exec(
                    "DELETE FROM event WHERE id <= (SELECT last_id FROM event_counter) - $1",
                    &[&n],
                )?;
            }
            if let Some(UnixTime(t)) = keep.before {
                removed += tx.exec("DELETE FROM event WHERE at < $1", &[&t])?;
            }
            Ok(removed)
        })
    }
}
