//! The SWIMA verifier's sink: the posture repository, written through the [`Writer`] thread.
//!
//! The verifier asks endpoints for software identifiers only; full tags are requested (RFC
//! 8412 targeted request) for the identifiers the repository holds no tag for yet.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use imcv::swima::{SoftwareChange, SwimaSink};
use nea_wire::{Text, VendorId};
use posture_repository::{
    DataModel, EventAction, EventBatch, Inventory, Page, Record, ReportedTag, Repository,
    SoftwareEvent,
};
use swima::{DataModelType, MirrorChange, MirrorRecord, SoftwareId, ValidatorState};

use super::Metrics;
use super::writer::{Job, Writer};
use crate::clock;

/// Stores what the SWIMA verifier learns in a [`Repository`]: reads directly, writes through
/// the writer thread.
pub struct RepoSink {
    repo: Arc<dyn Repository>,
    writer: Arc<Writer>,
    metrics: Arc<Metrics>,
}

impl RepoSink {
    /// A sink reading `repo`, writing through `writer`, counting errors into `metrics`.
    pub fn new(repo: Arc<dyn Repository>, writer: Arc<Writer>, metrics: Arc<Metrics>) -> Self {
        Self {
            repo,
            writer,
            metrics,
        }
    }

    fn failed(&self, endpoint: &str, what: &str, e: &posture_repository::Error) {
        self.metrics.errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(endpoint, error = %e, "repository: {what} failed");
    }
}

fn data_model(m: &MirrorRecord) -> DataModel {
    DataModel {
        pen: m.id.data_model.pen.get(),
        kind: m.id.data_model.kind,
    }
}

fn record(m: &MirrorRecord) -> Record {
    Record {
        software_identifier: m.id.software_identifier.as_str().to_owned(),
        data_model: data_model(m),
        source_id: m.id.source_id,
        record_id: m.id.record_id,
        locator: m.id.locator.as_str().to_owned(),
        tag: m.record.as_ref().map(|b| b.to_vec()),
    }
}

impl SwimaSink for RepoSink {
    fn load_state(&mut self, endpoint: &str) -> Option<ValidatorState> {
        self.writer.wait_idle(endpoint);
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
        self.writer.submit(Job::Inventory {
            endpoint: endpoint.to_owned(),
            inventory: inv,
        });
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
        self.writer.submit(Job::Events {
            endpoint: endpoint.to_owned(),
            batch,
        });
    }

    fn unknown_tags(&mut self, endpoint: &str, ids: &[Text]) -> Vec<Text> {
        let ids: Vec<String> = ids.iter().map(|t| t.as_str().to_owned()).collect();
        match self.repo.missing_tags(&ids) {
            Ok(missing) => {
                self.metrics
                    .tags_requested
                    .fetch_add(missing.len() as u64, Ordering::Relaxed);
                missing.into_iter().map(Text::from).collect()
            }
            Err(e) => {
                self.failed(endpoint, "looking up held tags", &e);
                Vec::new()
            }
        }
    }

    fn tags(&mut self, endpoint: &str, records: &[MirrorRecord]) {
        let tags: Vec<ReportedTag> = records
            .iter()
            .filter_map(|m| {
                Some(ReportedTag {
                    software_identifier: m.id.software_identifier.as_str().to_owned(),
                    data_model: data_model(m),
                    content: m.record.as_ref()?.to_vec(),
                })
            })
            .collect();
        if !tags.is_empty() {
            self.writer.submit(Job::Tags {
                endpoint: endpoint.to_owned(),
                tags,
                at: clock::now(),
            });
        }
    }
}
