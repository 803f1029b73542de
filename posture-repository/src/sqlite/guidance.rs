//! [`EvaluationStore`] on SQLite (tables of migration 4).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::query::{INSTALLED_COLUMNS, installed_row};
use super::{SqliteRepository, check, events, ingest};
use crate::error::{Error, Result};
use crate::events::StoredEvent;
use crate::guidance::like_escape;
use crate::guidance::*;
use crate::model::{InstalledSoftware, Page, SoftwareMeta, UnixTime};

/// Identifiers per `IN (…)` statement (SQLite's default variable limit is 32,766).
const CHUNK: usize = 500;

fn change_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, String, i64, String, Option<String>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn changes(
    c: &Connection,
    filter: &str,
    arg: &dyn rusqlite::ToSql,
    (l, o): (i64, i64),
) -> Result<Vec<GuidanceChange>> {
    let sql = format!(
        "SELECT revision, rule_id, at, author, rule FROM guidance_change {filter}
         ORDER BY revision LIMIT ?2 OFFSET ?3"
    );
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map(params![arg, l, o], change_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (revision, rule_id, at, author, rule) = row?;
        out.push(GuidanceChange {
            revision,
            rule_id,
            at: UnixTime(at),
            author,
            rule: rule.map(|j| serde_json::from_str(&j)).transpose()?,
        });
    }
    Ok(out)
}

fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s
}

const EVALUATION_COLUMNS: &str =
    "v.id, v.at, v.guidance_revision, v.recommendation, v.result, v.detail";

fn evaluation_row(
    endpoint: &str,
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(StoredEvaluation, String)> {
    Ok((
        StoredEvaluation {
            id: r.get(0)?,
            endpoint: endpoint.to_owned(),
            at: UnixTime(r.get(1)?),
            guidance_revision: r.get(2)?,
            recommendation: r.get(3)?,
            result: r.get(4)?,
            detail: serde_json::Value::Null,
        },
        r.get(5)?,
    ))
}

fn finish(row: (StoredEvaluation, String)) -> Result<StoredEvaluation> {
    let (mut e, json) = row;
    e.detail = serde_json::from_str(&json)?;
    Ok(e)
}

/// The id of the endpoint's current evaluation.
fn current_id(c: &Connection, ep: i64) -> Result<Option<i64>> {
    Ok(c.prepare_cached(
        "SELECT id FROM evaluation WHERE endpoint_id = ?1 ORDER BY at DESC, id DESC LIMIT 1",
    )?
    .query_row([ep], |r| r.get(0))
    .optional()?)
}

fn strings(c: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<String>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map(args, |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl EvaluationStore for SqliteRepository {
    fn append_guidance(&self, g: &NewGuidanceChange) -> Result<GuidanceChange> {
        self.text("rule id", &g.rule_id)?;
        self.text("author", &g.author)?;
        let json = g.rule.as_ref().map(serde_json::to_string).transpose()?;
        if let Some(j) = &json {
            check("guidance rule", j.len(), self.limits.max_json_bytes)?;
        }
        let c = self.lock();
        c.prepare_cached(
            "INSERT INTO guidance_change (rule_id, at, author, rule) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![g.rule_id, g.at.0, g.author, json])?;
        Ok(GuidanceChange {
            revision: c.last_insert_rowid(),
            rule_id: g.rule_id.clone(),
            at: g.at,
            author: g.author.clone(),
            rule: g.rule.clone(),
        })
    }

    fn guidance_revision(&self) -> Result<i64> {
        // Cached: the evaluator asks before every call.
        Ok(self
            .read()
            .prepare_cached("SELECT COALESCE(MAX(revision), 0) FROM guidance_change")?
            .query_row([], |r| r.get(0))?)
    }

    fn guidance_changes(&self, after: i64, page: Page) -> Result<Vec<GuidanceChange>> {
        changes(&self.lock(), "WHERE revision > ?1", &after, self.page(page))
    }

    fn rule_history(&self, rule_id: &str, page: Page) -> Result<Vec<GuidanceChange>> {
        changes(
            &self.lock(),
            "WHERE rule_id = ?1",
            &rule_id,
            self.page(page),
        )
    }

    fn software_candidates(&self, key: &SoftwareKey) -> Result<Vec<SoftwareEntry>> {
        let (filter, a, b) = match key {
            SoftwareKey::Identifier(s) => ("software_identifier = ?1", s.clone(), String::new()),
            // The LIKE (ASCII case-insensitive, not indexed) walks the software catalogue,
            // never the per-endpoint rows; the caller keeps the exact matches.
            SoftwareKey::TagId(t) => (
                "software_identifier = ?1 OR software_identifier LIKE ?2 ESCAPE '\\'",
                t.clone(),
                format!("%\\_\\_{}", like_escape(t)),
            ),
            SoftwareKey::Name(n) => (
                "name = ?1 COLLATE NOCASE AND ?2 = ?2",
                n.clone(),
                String::new(),
            ),
            SoftwareKey::Vendor(v) => (
                "(vendor = ?1 COLLATE NOCASE OR regid = ?1 COLLATE NOCASE) AND ?2 = ?2",
                v.clone(),
                String::new(),
            ),
        };
        let filter = if matches!(key, SoftwareKey::Identifier(_)) {
            format!("{filter} AND ?2 = ?2")
        } else {
            filter.to_owned()
        };
        let c = self.lock();
        let sql = format!(
            "SELECT software_identifier, name, version, vendor, regid FROM software WHERE {filter}"
        );
        let mut st = c.prepare_cached(&sql)?;
        let rows = st.query_map(params![a, b], |r| {
            Ok(SoftwareEntry {
                software_identifier: r.get(0)?,
                meta: SoftwareMeta {
                    name: r.get(1)?,
                    version: r.get(2)?,
                    vendor: r.get(3)?,
                    regid: r.get(4)?,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn installed_with(&self, ids: &[String]) -> Result<Vec<(String, InstalledSoftware)>> {
        check("identifier list", ids.len(), self.limits.max_lookup)?;
        let c = self.lock();
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            // The software index first, then each holder through installed_software.
            let sql = format!(
                "SELECT e.identifier, {INSTALLED_COLUMNS}
                 FROM software s CROSS JOIN installed i ON i.software_id = s.id
                 CROSS JOIN endpoint e ON e.id = i.endpoint_id
                 WHERE s.software_identifier IN ({})",
                placeholders(chunk.len())
            );
            let mut st = c.prepare_cached(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(chunk), |r| {
                Ok((r.get(0)?, installed_row(r, 1)?))
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        out.sort_by(|a, b| {
            (&a.0, &a.1.software_identifier, a.1.source_id).cmp(&(
                &b.0,
                &b.1.software_identifier,
                b.1.source_id,
            ))
        });
        Ok(out)
    }

    fn installed_subset(&self, endpoint: &str, ids: &[String]) -> Result<Vec<InstalledSoftware>> {
        check("identifier list", ids.len(), self.limits.max_lookup)?;
        let c = self.lock();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        let mut out = Vec::new();
        let mut st = c.prepare_cached(&format!(
            "SELECT {INSTALLED_COLUMNS} FROM software s
             CROSS JOIN installed i ON i.software_id = s.id AND i.endpoint_id = ?1
             WHERE s.software_identifier = ?2 ORDER BY i.source_id"
        ))?;
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            let rows = st.query_map(params![ep, id], |r| installed_row(r, 0))?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    fn set_attributes(&self, endpoint: &str, attributes: &[EndpointAttribute]) -> Result<()> {
        check("attribute list", attributes.len(), self.limits.max_records)?;
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ep = ingest::endpoint_id(&tx, endpoint)?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO endpoint_attribute (endpoint_id, name, value, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (endpoint_id, name) DO UPDATE SET value = excluded.value, at = excluded.at",
            )?;
            for a in attributes {
                self.text("attribute name", &a.name)?;
                self.text("attribute value", &a.value)?;
                st.execute(params![ep, a.name, a.value, a.at.0])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn attributes(&self, endpoint: &str) -> Result<Vec<EndpointAttribute>> {
        let c = self.read();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        let mut st = c.prepare_cached(
            "SELECT name, value, at FROM endpoint_attribute WHERE endpoint_id = ?1 ORDER BY name",
        )?;
        let rows = st.query_map([ep], |r| {
            Ok(EndpointAttribute {
                name: r.get(0)?,
                value: r.get(1)?,
                at: UnixTime(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn endpoints_with_attribute(&self, name: &str, value: &str, page: Page) -> Result<Vec<String>> {
        let (l, o) = self.page(page);
        strings(
            &self.lock(),
            "SELECT e.identifier FROM endpoint_attribute a JOIN endpoint e ON e.id = a.endpoint_id
             WHERE a.name = ?1 AND a.value = ?2 COLLATE NOCASE
             ORDER BY e.identifier LIMIT ?3 OFFSET ?4",
            &[&name, &value, &l, &o],
        )
    }

    fn endpoints_last_seen(&self, from: UnixTime, to: UnixTime, page: Page) -> Result<Vec<String>> {
        let (l, o) = self.page(page);
        strings(
            &self.lock(),
            "SELECT identifier FROM endpoint WHERE last_seen >= ?1 AND last_seen < ?2
             ORDER BY identifier LIMIT ?3 OFFSET ?4",
            &[&from.0, &to.0, &l, &o],
        )
    }

    fn store_evaluation_publishing(
        &self,
        e: &NewEvaluation,
        publish: &PublishEvaluation<'_>,
    ) -> Result<(StoreOutcome, Vec<StoredEvent>)> {
        let json = serde_json::to_string(&e.detail)?;
        check("evaluation detail", json.len(), self.limits.max_json_bytes)?;
        check("finding list", e.findings.len(), self.limits.max_records)?;
        for rule in &e.findings {
            self.text("rule id", rule)?;
        }
        let mut c = self.lock();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ep = ingest::endpoint_id(&tx, &e.endpoint)?;
        if current_id(&tx, ep)? != e.previous {
            return Ok((StoreOutcome::Conflict, Vec::new()));
        }
        tx.prepare_cached(
            "INSERT INTO evaluation (endpoint_id, at, guidance_revision, recommendation, result, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![ep, e.at.0, e.guidance_revision, e.recommendation, e.result, json])?;
        let id = tx.last_insert_rowid();
        // Not current when an evaluation with a later time is already stored: this one is
        // history only.
        if current_id(&tx, ep)? == Some(id) {
            tx.prepare_cached("DELETE FROM finding WHERE endpoint_id = ?1")?
                .execute([ep])?;
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO finding (rule_id, endpoint_id) VALUES (?1, ?2)",
            )?;
            for rule in &e.findings {
                ins.execute(params![rule, ep])?;
            }
        }
        let mut published = Vec::new();
        for event in publish(id) {
            let event_id = events::append_in(&tx, &self.limits, &event)?;
            published.push(event.stored(event_id));
        }
        tx.commit()?;
        Ok((StoreOutcome::Stored(id), published))
    }

    fn evaluation(
        &self,
        endpoint: &str,
        as_of: Option<UnixTime>,
    ) -> Result<Option<StoredEvaluation>> {
        let c = self.read();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        let sql = format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluation v WHERE v.endpoint_id = ?1 AND v.at <= ?2
             ORDER BY v.at DESC, v.id DESC LIMIT 1"
        );
        let row = c
            .prepare_cached(&sql)?
            .query_row(params![ep, as_of.map_or(i64::MAX, |t| t.0)], |r| {
                evaluation_row(endpoint, r)
            })
            .optional()?;
        row.map(finish).transpose()
    }

    fn evaluations(&self, endpoint: &str, page: Page) -> Result<Vec<StoredEvaluation>> {
        let (l, o) = self.page(page);
        let c = self.lock();
        let ep = ingest::endpoint_id(&c, endpoint)?;
        let sql = format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluation v WHERE v.endpoint_id = ?1
             ORDER BY v.at DESC, v.id DESC LIMIT ?2 OFFSET ?3"
        );
        let mut st = c.prepare_cached(&sql)?;
        let rows = st.query_map(params![ep, l, o], |r| evaluation_row(endpoint, r))?;
        rows.map(|r| finish(r.map_err(Error::from)?)).collect()
    }

    fn endpoints_with_finding(&self, rule_id: &str, page: Page) -> Result<Vec<String>> {
        let (l, o) = self.page(page);
        strings(
            &self.lock(),
            "SELECT e.identifier FROM finding f JOIN endpoint e ON e.id = f.endpoint_id
             WHERE f.rule_id = ?1 ORDER BY e.identifier LIMIT ?2 OFFSET ?3",
            &[&rule_id, &l, &o],
        )
    }
}
