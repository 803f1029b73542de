//! The agent's configuration: a `FileStore` event log and a `TagDirSource` over a tag
//! directory (feature `fs`). A restarted agent keeps its epoch and EIDs, so a manager that
//! resumes from its stored state gets exactly the events it missed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use if_imv::ArIdentity;
use imcv::swima::{SoftwareChange, SwimaImc, SwimaImcConfig, SwimaImv, SwimaImvConfig, SwimaSink};
use pa_tnc::DateTime20;
use swima::tags::TagDirSource;
use swima::{Collector, CollectorConfig, FileStore, MirrorChange, MirrorRecord, ValidatorState};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn swid(name: &str) -> String {
    format!(
        "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" \
         name=\"{name}\" version=\"1.0\" tagId=\"{name}-1.0\">\
         <Entity name=\"Example\" regid=\"example.com\" role=\"tagCreator\"/></SoftwareIdentity>"
    )
}

#[derive(Default)]
struct Seen {
    inventories: Vec<usize>,
    events: Vec<Vec<u32>>,
    state: Option<ValidatorState>,
}

#[derive(Clone, Default)]
struct Repo(Arc<Mutex<Seen>>);

impl SwimaSink for Repo {
    fn load_state(&mut self, _: &str) -> Option<ValidatorState> {
        self.0.lock().unwrap().state.clone()
    }
    fn inventory(&mut self, _: &str, records: &[MirrorRecord], epoch: u32, last_eid: u32) {
        let mut s = self.0.lock().unwrap();
        s.inventories.push(records.len());
        s.state = Some(ValidatorState {
            epoch,
            last_eid,
            mirror: records.to_vec(),
        });
    }
    fn events(&mut self, _: &str, changes: &[SoftwareChange], epoch: u32, last_eid: u32) {
        let mut s = self.0.lock().unwrap();
        s.events.push(changes.iter().map(|c| c.eid).collect());
        let st = s.state.get_or_insert_with(ValidatorState::default);
        for c in changes {
            match &c.change {
                MirrorChange::Added(r) => st.mirror.push(r.clone()),
                MirrorChange::Removed(r) => st.mirror.retain(|m| m.id != r.id),
                MirrorChange::Altered { old, new } => {
                    st.mirror.retain(|m| m.id != old.id);
                    st.mirror.push(new.clone());
                }
            }
        }
        st.epoch = epoch;
        st.last_eid = last_eid;
    }
}

/// One assessment of a new connection between a fresh agent broker and a fresh manager.
fn assess(imc: SwimaImc<FileStore>, repo: &Repo) {
    let mut client = if_imc::Broker::new(if_imc::BrokerConfig::default());
    client.add_imc("swima", Box::new(imc)).unwrap();
    let mut server = if_imv::Broker::new(if_imv::BrokerConfig::default());
    server
        .add_imv(
            "swima",
            Box::new(SwimaImv::new(repo.clone(), SwimaImvConfig::default())),
        )
        .unwrap();
    let mut c = client.connect(if_imc::ConnectionConfig::default());
    let mut s = server.accept(if_imv::ConnectionConfig {
        ar_identities: vec![ArIdentity::password_user("laptop-7")],
        ..Default::default()
    });
    client.begin_handshake(&mut c).unwrap();
    for _ in 0..1000 {
        let mut moved = false;
        while let Some(b) = c.poll_transmit() {
            server.handle_batch(&mut s, b);
            moved = true;
        }
        while let Some(b) = s.poll_transmit() {
            client.handle_batch(&mut c, b);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    let d = c.decision().expect("decided");
    assert_eq!(d.state, if_imc::ConnectionState::AccessAllowed);
}

fn agent(dir: &std::path::Path, log: &std::path::Path, epoch: u32) -> SwimaImc<FileStore> {
    let collector =
        Collector::open(CollectorConfig::default(), FileStore::new(log), epoch).unwrap();
    let imc = SwimaImc::new(
        collector,
        Some(Box::new(TagDirSource::new([dir]))),
        SwimaImcConfig::default(),
    );
    imc.handle()
        .refresh(&DateTime20::new("2026-12-04T16:00:00Z").unwrap())
        .unwrap();
    imc
}

#[test]
fn a_restarted_agent_continues_its_eids_and_the_manager_gets_what_it_missed() {
    let root = std::env::temp_dir().join(format!("imcv-agent-{}", std::process::id()));
    let _scratch = Scratch(root.clone());
    let tags = root.join("swidtag");
    std::fs::create_dir_all(&tags).unwrap();
    for n in ["alpha", "beta", "gamma"] {
        std::fs::write(tags.join(format!("{n}.swidtag")), swid(n)).unwrap();
    }
    let log = root.join("swima.log");
    let repo = Repo::default();

    // First run: the full inventory of the tag directory.
    let imc = agent(&tags, &log, 0xaaaa);
    let handle = imc.handle();
    assert_eq!((handle.epoch(), handle.last_eid()), (0xaaaa, 0));
    assert_eq!(handle.with_collector(|c| c.inventory().count()), 3);
    assert_eq!(
        handle.with_collector(|c| c
            .inventory()
            .map(|r| r.id.software_identifier.to_string())
            .min()),
        Some("example.com__alpha-1.0".to_owned())
    );
    assert_eq!(
        handle.with_collector(|c| c.inventory().next().unwrap().id.data_model),
        swima::DataModelType::SWID_2015
    );
    assess(imc, &repo);
    assert_eq!(repo.0.lock().unwrap().inventories, vec![3]);

    // Offline: one install is recorded, then the agent stops.
    std::fs::write(tags.join("delta.swidtag"), swid("delta")).unwrap();
    assert_eq!(
        handle
            .refresh(&DateTime20::new("2026-12-04T16:05:00Z").unwrap())
            .unwrap(),
        1
    );
    drop(handle);

    // Restart: the log is reloaded (same epoch; the fresh epoch offered is not used), a
    // removal while it was down becomes EID 2.
    std::fs::remove_file(tags.join("beta.swidtag")).unwrap();
    let imc = agent(&tags, &log, 0xbbbb);
    let handle = imc.handle();
    assert_eq!((handle.epoch(), handle.last_eid()), (0xaaaa, 2));
    assess(imc, &repo);
    let s = repo.0.lock().unwrap();
    assert_eq!(s.inventories, vec![3], "no second full inventory");
    assert_eq!(s.events.last().unwrap(), &vec![1, 2]);
    let st = s.state.as_ref().unwrap();
    assert_eq!((st.epoch, st.last_eid, st.mirror.len()), (0xaaaa, 2, 3));
}
