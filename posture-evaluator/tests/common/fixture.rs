//! Shared fixtures: an in-memory repository, endpoints, trusted tags for software metadata.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use posture_evaluator::{Rule, Store};
use posture_repository::*;

pub fn memory() -> SqliteRepository {
    SqliteRepository::open_in_memory(SqliteConfig::default()).unwrap()
}

pub fn connect(repo: &(impl Store + ?Sized), ep: &str, at: i64) -> i64 {
    repo.session_started(&NewSession {
        endpoint: ep.into(),
        cert_fingerprint: None,
        manager_instance: "m1".into(),
        peer_address: "127.0.0.1:40000".into(),
        at: UnixTime(at),
    })
    .unwrap()
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

/// A package: (name, version, vendor, regid); its identifier is `regid__name-version`.
#[derive(Clone, Debug)]
pub struct Pkg {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub regid: String,
}

impl Pkg {
    pub fn new(name: &str, version: &str, vendor: &str) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            vendor: vendor.into(),
            regid: format!("{}.example", vendor.to_ascii_lowercase()),
        }
    }
    pub fn tag_id(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
    pub fn id(&self) -> String {
        format!("{}__{}", self.regid, self.tag_id())
    }
    pub fn tag(&self) -> Vec<u8> {
        swid(
            &self.name,
            &self.version,
            &self.vendor,
            &self.regid,
            &self.tag_id(),
        )
    }
}

/// Imports the packages' tags as trusted (gives the software its metadata).
pub fn import(repo: &(impl Store + ?Sized), pkgs: &[Pkg]) {
    let mut it = pkgs.iter().map(|p| (p.id(), p.tag()));
    let r = repo.import_tags(&mut it, UnixTime(1)).unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
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

pub fn inventory(repo: &(impl Store + ?Sized), ep: &str, at: i64, ids: &[String]) {
    repo.apply_inventory(
        ep,
        &Inventory {
            epoch: 7,
            last_eid: 0,
            received_at: UnixTime(at),
            records: ids
                .iter()
                .enumerate()
                .map(|(i, id)| rec(id, u32::try_from(i).unwrap()))
                .collect(),
        },
    )
    .unwrap();
}

/// Applies install/remove events; returns the changed identifiers.
pub fn events(
    repo: &(impl Store + ?Sized),
    ep: &str,
    at: i64,
    changes: &[(EventAction, String)],
) -> Vec<String> {
    let state = repo.swima_state(ep).unwrap().unwrap();
    let events = changes
        .iter()
        .enumerate()
        .map(|(i, (action, id))| SoftwareEvent {
            eid: state.last_eid + 1 + u32::try_from(i).unwrap(),
            timestamp: UnixTime(at),
            action: *action,
            record: rec(id, 1_000 + u32::try_from(i).unwrap()),
        })
        .collect::<Vec<_>>();
    let last = state.last_eid + u32::try_from(events.len()).unwrap();
    repo.apply_events(
        ep,
        &EventBatch {
            epoch: state.epoch,
            last_eid: last,
            received_at: UnixTime(at),
            events,
        },
    )
    .unwrap();
    changes.iter().map(|(_, id)| id.clone()).collect()
}

pub fn rule(json: &str) -> Rule {
    Rule::from_json(json).unwrap()
}

pub fn software_rule(id: &str, matcher: &str, rec: &str) -> Rule {
    rule(&format!(
        r#"{{"id":"{id}","severity":"major","recommendation":"{rec}","when":{{"software":{matcher}}}}}"#
    ))
}

/// A PostgreSQL repository in a schema of its own (dropped on drop) in the database at
/// `NEA_TEST_POSTGRES_URL`.
#[cfg(feature = "postgres")]
pub struct PgRepo {
    pub repo: PostgresRepository,
    schema: String,
}

#[cfg(feature = "postgres")]
impl PgRepo {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let schema = format!(
            "eval_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        pg_client()
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .unwrap();
        let base = pg_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let repo = PostgresRepository::open(&PostgresConfig::new(url)).unwrap();
        Self { repo, schema }
    }
}

#[cfg(feature = "postgres")]
impl Drop for PgRepo {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

#[cfg(feature = "postgres")]
fn pg_url() -> String {
    std::env::var("NEA_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("NEA_TEST_POSTGRES_URL is not set: run scripts/test.sh, or scripts/postgres-up.sh and export the URL it prints")
    })
}

#[cfg(feature = "postgres")]
fn pg_client() -> postgres::Client {
    postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap()
}
