//! Shared test fixtures: temporary folders, a repository with endpoints, records and tags.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use posture_repository::*;

/// A folder removed on drop (also when the test fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "posture-repo-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn db(&self) -> PathBuf {
        self.0.join("repo.sqlite")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn memory() -> SqliteRepository {
    SqliteRepository::open_in_memory(SqliteConfig::default()).unwrap()
}

pub fn connect(repo: &dyn Repository, ep: &str, at: i64) -> i64 {
    repo.session_started(&NewSession {
        endpoint: ep.into(),
        cert_fingerprint: Some(fingerprint(ep.as_bytes())),
        manager_instance: "m1".into(),
        peer_address: "127.0.0.1:40000".into(),
        at: UnixTime(at),
    })
    .unwrap()
}

pub fn rec(id: &str, record_id: u32) -> Record {
    Record {
        software_identifier: id.into(),
        data_model: DataModel::SWID_2015,
        source_id: 0,
        record_id,
        locator: String::new(),
        tag: None,
    }
}

pub fn with_tag(mut r: Record, tag: Vec<u8>) -> Record {
    r.tag = Some(tag);
    r
}

pub fn inventory(epoch: u32, last_eid: u32, at: i64, records: Vec<Record>) -> Inventory {
    Inventory {
        epoch,
        last_eid,
        received_at: UnixTime(at),
        records,
    }
}

pub fn event(eid: u32, action: EventAction, r: Record) -> SoftwareEvent {
    SoftwareEvent {
        eid,
        timestamp: UnixTime(1_000 + i64::from(eid)),
        action,
        record: r,
    }
}

pub fn batch(epoch: u32, last_eid: u32, at: i64, events: Vec<SoftwareEvent>) -> EventBatch {
    EventBatch {
        epoch,
        last_eid,
        received_at: UnixTime(at),
        events,
    }
}

/// A SWID XML tag; its software identifier is `{regid}__{tag_id}`.
pub fn swid(name: &str, version: &str, vendor: &str, regid: &str, tag_id: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" name="{name}" version="{version}" tagId="{tag_id}">
  <Entity name="{vendor}" regid="{regid}" role="tagCreator softwareCreator"/>
</SoftwareIdentity>
"#
    )
    .into_bytes()
}

pub fn ids(v: &[InstalledSoftware]) -> Vec<&str> {
    v.iter().map(|s| s.software_identifier.as_str()).collect()
}

pub const ALL: Page = Page {
    offset: 0,
    limit: 10_000,
};

/// An in-memory repository with other limits.
pub fn limited(limits: Limits) -> SqliteRepository {
    SqliteRepository::open_in_memory(SqliteConfig {
        limits,
        ..SqliteConfig::default()
    })
    .unwrap()
}
