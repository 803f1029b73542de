//! posture-repository benchmarks (`posture_repository/<op>/<case>`) on a WAL file in the
//! temporary folder: ingest of software records (a 1,000-record initial inventory of a new
//! endpoint; a 1,000-event batch of installs), and the Appendix C.2 vulnerable-software query
//! over 10,000 endpoints × 100 records (2,000 distinct packages with tags).
//!
//! The machine is shared, so each ingest bench also has a `_cpu` twin whose time is the
//! bench thread's CPU time (`/proc/thread-self/schedstat`; SQLite works on the calling
//! thread, and with WAL + `synchronous=NORMAL` a commit does not wait for the disk), i.e.
//! what the ingest costs rather than how long it waited for a core.
//!
//! Under `cargo test --benches` (no `--bench` argument) the fleet is 100 endpoints, so the
//! one-shot check stays quick.
//!
//! With `NEA_BENCH_POSTGRES_URL` set (e.g. the URL `scripts/postgres-up.sh` prints), the
//! ingest benches also run on PostgreSQL (`posture_repository/postgres_ingest/…`, wall time
//! only: the work happens in the server process). Their endpoints are named after the
//! process id, so runs do not meet each other's rows.

// A bench whose setup or calls fail has nothing to measure: it stops with the reason.
#![allow(clippy::expect_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nea_benches::cpu_timed;
use posture_repository::version::VersionRange;
use posture_repository::{
    DataModel, EventAction, EventBatch, Inventory, NewSession, Page, PostgresConfig,
    PostgresRepository, Record, Repository, SoftwareEvent, SoftwareQuery, SqliteConfig,
    SqliteRepository, UnixTime,
};
use std::hint::black_box;
use std::path::PathBuf;

const PACKAGES: usize = 2_000;

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("posture-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create scratch folder");
        Self(p)
    }
    fn open(&self) -> SqliteRepository {
        SqliteRepository::open(self.0.join("repo.sqlite"), SqliteConfig::default())
            .expect("open repository")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn package_id(p: usize) -> String {
    format!("strongswan.org__Debian_12-x86_64-package-{p:05}")
}

fn record(p: usize, record_id: u32) -> Record {
    Record {
        software_identifier: package_id(p),
        data_model: DataModel::SWID_2015,
        source_id: 0,
        record_id,
        locator: String::new(),
        tag: None,
    }
}

fn tag(p: usize) -> Vec<u8> {
    // Package p at version 1.(p % 20).0: a fifth of the packages are "vulnerable" below 1.4.
    format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"package-{p:05}\" version=\"1.{}.0\" tagId=\"Debian_12-x86_64-package-{p:05}\">\
         <Entity name=\"strongSwan Project\" regid=\"strongswan.org\" role=\"tagCreator\"/>\
         </SoftwareIdentity>",
        p % 20
    )
    .into_bytes()
}

fn inventory(records: Vec<Record>) -> Inventory {
    Inventory {
        epoch: 1,
        last_eid: 0,
        received_at: UnixTime(2),
        records,
    }
}

fn connect(repo: &dyn Repository, ep: &str) {
    repo.session_started(&NewSession {
        endpoint: ep.into(),
        cert_fingerprint: None,
        manager_instance: "bench".into(),
        peer_address: "127.0.0.1:1".into(),
        at: UnixTime(1),
    })
    .expect("session");
}

fn ingest(c: &mut Criterion) {
    let scratch = Scratch::new("ingest");
    ingest_on(c, "posture_repository/ingest", &scratch.open(), true);
}

fn postgres_ingest(c: &mut Criterion) {
    let Ok(url) = std::env::var("NEA_BENCH_POSTGRES_URL") else {
        return;
    };
    let repo = PostgresRepository::open(&PostgresConfig::new(url)).expect("open PostgreSQL");
    ingest_on(c, "posture_repository/postgres_ingest", &repo, false);
}

/// The ingest benches on `repo`; `cpu` adds the thread-CPU twins (meaningful where the work
/// happens on the calling thread).
fn ingest_on(c: &mut Criterion, group: &str, repo: &dyn Repository, cpu: bool) {
    let run = std::process::id();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1_000));
    let mut n = 0_usize;
    let mut new_endpoint = || {
        n += 1;
        let ep = format!("endpoint-{run}-{n:06}");
        connect(repo, &ep);
        let records = (0..1_000)
            .map(|i| record((n * 7 + i) % (PACKAGES * 10), u32::try_from(i).unwrap_or(0)))
            .collect();
        (ep, inventory(records))
    };
    let ingest_inventory =
        |(ep, inv): (String, Inventory)| repo.apply_inventory(&ep, &inv).expect("ingest");
    g.bench_function("inventory_1000", |b| {
        b.iter_batched(&mut new_endpoint, ingest_inventory, BatchSize::PerIteration);
    });
    if cpu {
        g.bench_function("inventory_1000_cpu", |b| {
            b.iter_custom(|iters| cpu_timed(iters, &mut new_endpoint, ingest_inventory));
        });
    }
    let events_ep = format!("events-{run}");
    connect(repo, &events_ep);
    repo.apply_inventory(&events_ep, &inventory(Vec::new()))
        .expect("inventory");
    let mut eid = 0_u32;
    let mut next_batch = || {
        let events: Vec<SoftwareEvent> = (0..1_000_u32)
            .map(|i| {
                eid += 1;
                SoftwareEvent {
                    eid,
                    timestamp: UnixTime(3),
                    action: EventAction::Install,
                    record: record(usize::try_from(eid).unwrap_or(0), i),
                }
            })
            .collect();
        EventBatch {
            epoch: 1,
            last_eid: eid,
            received_at: UnixTime(3),
            events,
        }
    };
    let ingest_events = |batch: EventBatch| repo.apply_events(&events_ep, &batch).expect("events");
    g.bench_function("events_1000", |b| {
        b.iter_batched(&mut next_batch, ingest_events, BatchSize::PerIteration);
    });
    if cpu {
        g.bench_function("events_1000_cpu", |b| {
            b.iter_custom(|iters| cpu_timed(iters, &mut next_batch, ingest_events));
        });
    }
    g.finish();
}

fn vulnerable_query(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let endpoints = if full { 10_000 } else { 100 };
    let scratch = Scratch::new("query");
    let repo = scratch.open();
    let tags: Vec<(String, Vec<u8>)> = (0..PACKAGES).map(|p| (package_id(p), tag(p))).collect();
    repo.import_tags(&mut tags.into_iter(), UnixTime(1))
        .expect("tags");
    for e in 0..endpoints {
        let ep = format!("endpoint-{e:05}");
        connect(&repo, &ep);
        // 100 packages per endpoint, spread over the 2,000.
        let records = (0..100)
            .map(|i| record((e * 13 + i * 19) % PACKAGES, u32::try_from(i).unwrap_or(0)))
            .collect();
        repo.apply_inventory(&ep, &inventory(records))
            .expect("fleet");
    }
    let mut g = c.benchmark_group("posture_repository/query");
    // One package (on ~500 of 10,000 endpoints), below a fixed version: the C.2 question.
    let one = SoftwareQuery {
        name: Some("package-00042".into()),
        vendor: None,
        versions: VersionRange::below("1.5"),
    };
    g.bench_function(format!("vulnerable_one_package_{endpoints}x100"), |b| {
        b.iter(|| black_box(repo.find_software(&one, Page::first(1_000)).expect("query")));
    });
    // A vendor-wide range: every strongSwan-tagged package below 1.1 (a tenth of all
    // records), first page of 1,000.
    let wide = SoftwareQuery {
        name: None,
        vendor: Some("strongswan.org".into()),
        versions: VersionRange::below("1.1"),
    };
    g.bench_function(format!("vulnerable_vendor_range_{endpoints}x100"), |b| {
        b.iter(|| {
            black_box(
                repo.find_software(&wide, Page::first(1_000))
                    .expect("query"),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, ingest, postgres_ingest, vulnerable_query);
criterion_main!(benches);
