//! [`EvaluationStore`] on PostgreSQL (tables of migration 4).
//!
//! Several managers may write at once: guidance revisions are the next number under a
//! transaction-scoped advisory lock (no gaps, as SQLite's), and `store_evaluation_publishing`
//! locks the endpoint's row, so its optimistic check (`previous`) and the insert are one step.

use super::store::{Tx, endpoint_id, u32_at};
use super::{INSTALLED_COLUMNS, PostgresRepository, events, installed_row};
use crate::error::Result;
use crate::events::StoredEvent;
use crate::guidance::like_escape;
use crate::guidance::*;
use crate::limits::check;
use crate::model::{InstalledSoftware, Page, SoftwareMeta, UnixTime};

/// Advisory lock key of guidance appends ("nea-guid").
const GUIDANCE_LOCK: i64 = 0x6e65_612d_6775_6964;

fn changes(
    tx: &mut Tx<'_>,
    filter: &str,
    arg: &(dyn postgres::types::ToSql + Sync),
    (l, o): (i64, i64),
) -> Result<Vec<GuidanceChange>> {
    let sql = format!(
        "SELECT revision, rule_id, at, author, rule FROM guidance_change {filter}
         ORDER BY revision LIMIT $2 OFFSET $3"
    );
    tx.rows(&sql, &[arg, &l, &o])?
        .iter()
        .map(|r| {
            Ok(GuidanceChange {
                revision: r.try_get(0)?,
                rule_id: r.try_get(1)?,
                at: UnixTime(r.try_get(2)?),
                author: r.try_get(3)?,
                rule: r
                    .try_get::<_, Option<&str>>(4)?
                    .map(serde_json::from_str)
                    .transpose()?,
            })
        })
        .collect()
}

const EVALUATION_COLUMNS: &str =
    "v.id, v.at, v.guidance_revision, v.recommendation, v.result, v.detail";

fn evaluation_row(endpoint: &str, r: &postgres::Row) -> Result<StoredEvaluation> {
    Ok(StoredEvaluation {
        id: r.try_get(0)?,
        endpoint: endpoint.to_owned(),
        at: UnixTime(r.try_get(1)?),
        guidance_revision: r.try_get(2)?,
        recommendation: u32_at(r, 3, "evaluation recommendation")?,
        result: u32_at(r, 4, "evaluation result")?,
        detail: serde_json::from_str(r.try_get::<_, &str>(5)?)?,
    })
}

/// The id of the endpoint's current evaluation.
fn current_id(tx: &mut Tx<'_>, ep: i64) -> Result<Option<i64>> {
    tx.opt(
        "SELECT id FROM evaluation WHERE endpoint_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
        &[&ep],
    )?
    .map(|r| Ok(r.try_get(0)?))
    .transpose()
}

fn strings(tx: &mut Tx<'_>, sql: &str, args: super::store::Params<'_>) -> Result<Vec<String>> {
    tx.rows(sql, args)?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

impl EvaluationStore for PostgresRepository {
    fn append_guidance(&self, g: &NewGuidanceChange) -> Result<GuidanceChange> {
        self.text("rule id", &g.rule_id)?;
        self.text("author", &g.author)?;
        let json = g.rule.as_ref().map(serde_json::to_string).transpose()?;
        if let Some(j) = &json {
            check("guidance rule", j.len(), self.limits.max_json_bytes)?;
        }
        let revision: i64 = self.write(|tx| {
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&GUIDANCE_LOCK])?;
            Ok(tx
                .one(
                    "INSERT INTO guidance_change (revision, rule_id, at, author, rule)
                     SELECT COALESCE(MAX(revision), 0) + 1, $1::text, $2::BIGINT, $3::text, $4::text
                     FROM guidance_change
                     RETURNING revision",
                    &[&g.rule_id, &g.at.0, &g.author, &json],
                )?
                .try_get(0)?)
        })?;
        Ok(GuidanceChange {
            revision,
            rule_id: g.rule_id.clone(),
            at: g.at,
            author: g.author.clone(),
            rule: g.rule.clone(),
        })
    }

    fn guidance_revision(&self) -> Result<i64> {
        self.read(|tx| {
            Ok(tx
                .one(
                    "SELECT COALESCE(MAX(revision), 0)::BIGINT FROM guidance_change",
                    &[],
                )?
                .try_get(0)?)
        })
    }

    fn guidance_changes(&self, after: i64, page: Page) -> Result<Vec<GuidanceChange>> {
        let page = self.page(page);
        self.read(|tx| changes(tx, "WHERE revision > $1", &after, page))
    }

    fn rule_history(&self, rule_id: &str, page: Page) -> Result<Vec<GuidanceChange>> {
        let page = self.page(page);
        self.read(|tx| changes(tx, "WHERE rule_id = $1", &rule_id, page))
    }

    fn software_candidates(&self, key: &SoftwareKey) -> Result<Vec<SoftwareEntry>> {
        let (filter, a, b) = match key {
            SoftwareKey::Identifier(s) => (
                "software_identifier = $1 AND $2::text IS NOT NULL",
                s.clone(),
                String::new(),
            ),
            // ILIKE on a "C" column folds ASCII case only, as SQLite's LIKE; it walks the
            // software catalogue, never the per-endpoint rows; the caller keeps exact matches.
            SoftwareKey::TagId(t) => (
                r"software_identifier = $1 OR software_identifier ILIKE $2 ESCAPE '\'",
                t.clone(),
                format!(r"%\_\_{}", like_escape(t)),
            ),
            SoftwareKey::Name(n) => (
                r#"lower(name) = lower($1::text COLLATE "C") AND $2::text IS NOT NULL"#,
                n.clone(),
                String::new(),
            ),
            SoftwareKey::Vendor(v) => (
                r#"(lower(vendor) = lower($1::text COLLATE "C")
                    OR lower(regid) = lower($1::text COLLATE "C")) AND $2::text IS NOT NULL"#,
                v.clone(),
                String::new(),
            ),
        };
        let sql = format!(
            "SELECT software_identifier, name, version, vendor, regid FROM software WHERE {filter}"
        );
        self.read(|tx| {
            tx.rows(&sql, &[&a, &b])?
                .iter()
                .map(|r| {
                    Ok(SoftwareEntry {
                        software_identifier: r.try_get(0)?,
                        meta: SoftwareMeta {
                            name: r.try_get(1)?,
                            version: r.try_get(2)?,
                            vendor: r.try_get(3)?,
                            regid: r.try_get(4)?,
                        },
                    })
                })
                .collect()
        })
    }

    fn installed_with(&self, ids: &[String]) -> Result<Vec<(String, InstalledSoftware)>> {
        check("identifier list", ids.len(), self.limits.max_lookup)?;
        let sql = format!(
            "SELECT e.identifier, {INSTALLED_COLUMNS}
             FROM software s JOIN installed i ON i.software_id = s.id
             JOIN endpoint e ON e.id = i.endpoint_id
             WHERE s.software_identifier = ANY($1)
             ORDER BY e.identifier, s.software_identifier, i.source_id"
        );
        self.read(|tx| {
            tx.rows(&sql, &[&ids])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, installed_row(r, 1)?)))
                .collect()
        })
    }

    fn installed_subset(&self, endpoint: &str, ids: &[String]) -> Result<Vec<InstalledSoftware>> {
        check("identifier list", ids.len(), self.limits.max_lookup)?;
        // In the order asked, repeats dropped, as SQLite's.
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| seen.insert(*id))
            .collect();
        let sql = format!(
            "SELECT {INSTALLED_COLUMNS}
             FROM unnest($2::text[]) WITH ORDINALITY AS q(identifier, n)
             JOIN software s ON s.software_identifier = q.identifier
             JOIN installed i ON i.software_id = s.id AND i.endpoint_id = $1
             ORDER BY q.n, i.source_id"
        );
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            tx.rows(&sql, &[&ep, &unique])?
                .iter()
                .map(|r| installed_row(r, 0))
                .collect()
        })
    }

    fn set_attributes(&self, endpoint: &str, attributes: &[EndpointAttribute]) -> Result<()> {
        check("attribute list", attributes.len(), self.limits.max_records)?;
        for a in attributes {
            self.text("attribute name", &a.name)?;
            self.text("attribute value", &a.value)?;
        }
        self.write(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            for a in attributes {
                tx.exec(
                    "INSERT INTO endpoint_attribute (endpoint_id, name, value, at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (endpoint_id, name)
                     DO UPDATE SET value = EXCLUDED.value, at = EXCLUDED.at",
                    &[&ep, &a.name, &a.value, &a.at.0],
                )?;
            }
            Ok(())
        })
    }

    fn attributes(&self, endpoint: &str) -> Result<Vec<EndpointAttribute>> {
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            tx.rows(
                "SELECT name, value, at FROM endpoint_attribute WHERE endpoint_id = $1
                 ORDER BY name",
                &[&ep],
            )?
            .iter()
            .map(|r| {
                Ok(EndpointAttribute {
                    name: r.try_get(0)?,
                    value: r.try_get(1)?,
                    at: UnixTime(r.try_get(2)?),
                })
            })
            .collect()
        })
    }

    fn endpoints_with_attribute(&self, name: &str, value: &str, page: Page) -> Result<Vec<String>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            strings(
                tx,
                r#"SELECT e.identifier FROM endpoint_attribute a
                   JOIN endpoint e ON e.id = a.endpoint_id
                   WHERE a.name = $1 AND lower(a.value) = lower($2::text COLLATE "C")
                   ORDER BY e.identifier LIMIT $3 OFFSET $4"#,
                &[&name, &value, &l, &o],
            )
        })
    }

    fn endpoints_last_seen(&self, from: UnixTime, to: UnixTime, page: Page) -> Result<Vec<String>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            strings(
                tx,
                "SELECT identifier FROM endpoint WHERE last_seen >= $1 AND last_seen < $2
                 ORDER BY identifier LIMIT $3 OFFSET $4",
                &[&from.0, &to.0, &l, &o],
            )
        })
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
        self.write(|tx| {
            // The endpoint's row lock makes the check of `previous` and the insert one step
            // against evaluators on other managers.
            let ep: i64 = tx
                .opt(
                    "SELECT id FROM endpoint WHERE identifier = $1 FOR UPDATE",
                    &[&e.endpoint],
                )?
                .map(|r| r.try_get(0))
                .transpose()?
                .ok_or_else(|| crate::Error::UnknownEndpoint(e.endpoint.clone()))?;
            if current_id(tx, ep)? != e.previous {
                return Ok((StoreOutcome::Conflict, Vec::new()));
            }
            let id: i64 = tx
                .one(
                    "INSERT INTO evaluation (endpoint_id, at, guidance_revision, recommendation,
                         result, detail)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[
                        &ep,
                        &e.at.0,
                        &e.guidance_revision,
                        &i64::from(e.recommendation),
                        &i64::from(e.result),
                        &json,
                    ],
                )?
                .try_get(0)?;
            // Not current when an evaluation with a later time is already stored: this one
            // is history only.
            if current_id(tx, ep)? == Some(id) {
                tx.exec("DELETE FROM finding WHERE endpoint_id = $1", &[&ep])?;
                tx.exec(
                    "INSERT INTO finding (rule_id, endpoint_id)
                     SELECT DISTINCT unnest($1::text[]), $2::BIGINT ON CONFLICT DO NOTHING",
                    &[&e.findings, &ep],
                )?;
            }
            let mut published = Vec::new();
            for event in publish(id) {
                let event_id = events::append_in(tx, &self.limits, &event)?;
                published.push(event.stored(event_id));
            }
            Ok((StoreOutcome::Stored(id), published))
        })
    }

    fn evaluation(
        &self,
        endpoint: &str,
        as_of: Option<UnixTime>,
    ) -> Result<Option<StoredEvaluation>> {
        let until = as_of.map_or(i64::MAX, |t| t.0);
        let sql = format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluation v WHERE v.endpoint_id = $1 AND v.at <= $2
             ORDER BY v.at DESC, v.id DESC LIMIT 1"
        );
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            tx.opt(&sql, &[&ep, &until])?
                .map(|r| evaluation_row(endpoint, &r))
                .transpose()
        })
    }

    fn evaluations(&self, endpoint: &str, page: Page) -> Result<Vec<StoredEvaluation>> {
        let (l, o) = self.page(page);
        let sql = format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluation v WHERE v.endpoint_id = $1
             ORDER BY v.at DESC, v.id DESC LIMIT $2 OFFSET $3"
        );
        self.read(|tx| {
            let ep = endpoint_id(tx, endpoint)?;
            tx.rows(&sql, &[&ep, &l, &o])?
                .iter()
                .map(|r| evaluation_row(endpoint, r))
                .collect()
        })
    }

    fn endpoints_with_finding(&self, rule_id: &str, page: Page) -> Result<Vec<String>> {
        let (l, o) = self.page(page);
        self.read(|tx| {
            strings(
                tx,
                "SELECT e.identifier FROM finding f JOIN endpoint e ON e.id = f.endpoint_id
                 WHERE f.rule_id = $1 ORDER BY e.identifier LIMIT $2 OFFSET $3",
                &[&rule_id, &l, &o],
            )
        })
    }
}
