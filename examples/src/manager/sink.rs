//! The SWIMA verifier's sink: the posture repository.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use imcv::swima::{SoftwareChange, SwimaSink};
use nea_wire::{Text, VendorId};
use posture_repository::{
    DataModel, EventAction, EventBatch, Inventory, Page, Record, Repository, SoftwareEvent,
};
use swima::{DataModelType, MirrorChange, MirrorRecord, SoftwareId, ValidatorState};

use super::Metrics;
use crate::clock;

/// Stores what the SWIMA verifier learns in a [`Repository`].
pub struct RepoSink {
    repo: Arc<dyn Repository>,
    metrics: Arc<Metrics>,
}

impl RepoSink {
    /// A sink over `repo`, counting into `metrics`.
    pub fn new(repo: Arc<dyn Repository>, metrics: Arc<Metrics>) -> Self {
        Self { repo, metrics }
    }

    fn failed(&self, endpoint: &str, what: &str, e: &posture_repository::Error) {
        self.metrics.errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(endpoint, error = %e, "repository: {what} failed");
    }
}

fn record(m: &MirrorRecord) -> Record {
    Record {
        software_identifier: m.id.software_identifier.as_str().to_owned(),
        data_model: DataModel {
            pen: m.id.data_model.pen.get(),
            kind: m.id.data_model.kind,
        },
        source_id: m.id.source_id,
        record_id: m.id.record_id,
        locator: m.id.locator.as_str().to_owned(),
        tag: m.record.as_ref().map(|b| b.to_vec()),
    }
}

impl SwimaSink for RepoSink {
    fn load_state(&mut self, endpoint: &str) -> Option<ValidatorState> {
        let state = match self.repo.swima_state(endpoint) {
            Ok(s) => s?,
            Err(e) => {
                self.failed(endpoint, "loading the SWIMA state", &e);
                return None;
            }
        };
        let mut mirror = Vec::new();
        let mut page = Page::first(self.repo.limits().max_page);
        loop {
            let rows = match self.repo.installed(endpoint, page) {
                Ok(r) => r,
                Err(e) => {
                    self.failed(endpoint, "loading the inventory", &e);
                    return None;
                }
            };
            let n = rows.len();
            mirror.extend(rows.into_iter().map(|s| MirrorRecord {
                id: SoftwareId {
                    record_id: s.record_id,
                    data_model: DataModelType {
                        pen: VendorId::new(s.data_model.pen).unwrap_or(VendorId::RESERVED),
                        kind: s.data_model.kind,
                    },
                    source_id: s.source_id,
                    software_identifier: Text::from(s.software_identifier),
                    locator: Text::from(s.locator),
                },
                record: None,
            }));
            if n < page.limit as usize {
                break;
            }
            page = page.next();
        }
        Some(ValidatorState {
            epoch: state.epoch,
            last_eid: state.last_eid,
            mirror,
        })
    }

    fn inventory(&mut self, endpoint: &str, records: &[MirrorRecord], epoch: u32, last_eid: u32) {
        let inv = Inventory {
            epoch,
            last_eid,
            received_at: clock::now(),
            records: records.iter().map(record).collect(),
        };
        match self.repo.apply_inventory(endpoint, &inv) {
            Ok(s) => {
                self.metrics
                    .records
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                tracing::info!(
                    endpoint,
                    records = records.len(),
                    changes = s.changes,
                    epoch,
                    last_eid,
                    "inventory stored"
                );
            }
            Err(e) => self.failed(endpoint, "storing an inventory", &e),
        }
    }

    fn events(&mut self, endpoint: &str, changes: &[SoftwareChange], epoch: u32, last_eid: u32) {
        let received_at = clock::now();
        let events = changes
            .iter()
            .map(|c| {
                let (action, r) = match &c.change {
                    MirrorChange::Added(r) => (EventAction::Install, r),
                    MirrorChange::Removed(r) => (EventAction::Remove, r),
                    MirrorChange::Altered { new, .. } => (EventAction::Alter, new),
                };
                SoftwareEvent {
                    eid: c.eid,
                    timestamp: c
                        .timestamp
                        .as_ref()
                        .and_then(|t| clock::parse_rfc3339(t.as_str()))
                        .unwrap_or(received_at),
                    action,
                    record: record(r),
                }
            })
            .collect();
        let batch = EventBatch {
            epoch,
            last_eid,
            received_at,
            events,
        };
        match self.repo.apply_events(endpoint, &batch) {
            Ok(s) => {
                self.metrics
                    .records
                    .fetch_add(changes.len() as u64, Ordering::Relaxed);
                tracing::info!(
                    endpoint,
                    changes = s.changes,
                    duplicates = s.duplicates,
                    last_eid,
                    "events stored"
                );
            }
            Err(e) => self.failed(endpoint, "storing events", &e),
        }
    }
}
