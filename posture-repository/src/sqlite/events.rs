//! [`EventLog`] on SQLite (tables of migration 5).

use rusqlite::{Connection, TransactionBehavior, params, params_from_iter, types::Value};

use super::SqliteRepository;
use crate::error::Result;
use crate::events::*;
use crate::model::UnixTime;

/// Appends `e` (checked against `limits`) in the transaction of `c`; its id.
pub(super) fn append_in(c: &Connection, limits: &crate::Limits, e: &NewEvent) -> Result<i64> {
    let payload = encode(limits, e)?;
    let id: i64 = c.prepare_cached(NEXT_ID)?.query_row([], |r| r.get(0))?;
    c.prepare_cached(
        "INSERT INTO event (id, at, kind, endpoint, device, severity, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        e.at.0,
        e.kind.as_str(),
        e.endpoint,
        e.device,
        severity_code(e.severity),
        payload
    ])?;
    Ok(id)
}

impl EventLog for SqliteRepository {
    fn append_event(&self, e: &NewEvent) -> Result<StoredEvent> {
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = append_in(&tx, &self.limits, e)?;
        tx.commit()?;
        Ok(e.stored(id))
    }

    fn events_since(&self, after: i64, f: &EventFilter, limit: u32) -> Result<EventPage> {
        let limit = i64::from(limit.min(self.limits.max_page));
        let (filter, n) = filter_sql(f, '?');
        let sql = format!("SELECT {EVENT_COLUMNS} FROM event {filter} ORDER BY id LIMIT ?{n}");
        let mut c = self.lock();
        let tx = c.transaction()?;
        let newest: i64 = tx
            .prepare_cached("SELECT last_id FROM event_counter")?
            .query_row([], |r| r.get(0))?;
        let mut args: Vec<Value> = vec![
            after.into(),
            newest.into(),
            f.endpoint.clone().into(),
            f.device.clone().into(),
            severity_code(f.min_severity).into(),
        ];
        args.extend(f.kinds.iter().map(|k| Value::from(k.as_str().to_owned())));
        args.push(limit.into());
        let mut events = Vec::new();
        {
            let mut st = tx.prepare_cached(&sql)?;
            let rows = st.query_map(params_from_iter(args), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?;
            for row in rows {
                events.push(event_from_row(row?)?);
            }
        }
        Ok(EventPage::new(events, after, newest, limit))
    }

    fn event_bounds(&self) -> Result<EventBounds> {
        let c = self.lock();
        let (oldest, newest) = c.query_row(
            "SELECT COALESCE((SELECT MIN(id) FROM event), 0), last_id FROM event_counter",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(EventBounds { oldest, newest })
    }

    fn prune(&self, keep: Retention) -> Result<u64> {
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut removed = 0;
        if let Some(n) = keep.max_events {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            removed += tx.execute(
                "DELETE FROM event WHERE id <= (SELECT last_id FROM event_counter) - ?1",
                [n],
            )?;
        }
        if let Some(UnixTime(t)) = keep.before {
            removed += tx.execute("DELETE FROM event WHERE at < ?1", [t])?;
        }
        tx.commit()?;
        Ok(removed as u64)
    }
}
