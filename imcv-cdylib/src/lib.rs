#![doc = include_str!("../README.md")]

use imcv::Verdict;
use imcv::os::{LinuxSource, OsImc, OsImv, OsPolicy, OsPosture};
use imcv::swima::{SoftwareChange, SwimaImc, SwimaImcConfig, SwimaImv, SwimaImvConfig, SwimaSink};
use swima::{Collector, CollectorConfig, MemoryStore, MirrorRecord};

/// Where the exported verifiers report: the log (`tracing`; the host's process decides
/// where it goes). A deployment with a repository builds its own `cdylib` with
/// [`if_imv::export_imv!`] and its own sink.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSink;

impl imcv::os::OsSink for LogSink {
    fn posture(&mut self, endpoint: &str, posture: &OsPosture, verdict: &Verdict) {
        tracing::info!(endpoint, ?posture, ?verdict, "OS posture");
    }
}

impl SwimaSink for LogSink {
    fn inventory(&mut self, endpoint: &str, records: &[MirrorRecord], epoch: u32, last_eid: u32) {
        tracing::info!(
            endpoint,
            records = records.len(),
            epoch,
            last_eid,
            "SWIMA inventory"
        );
    }

    fn events(&mut self, endpoint: &str, changes: &[SoftwareChange], epoch: u32, last_eid: u32) {
        tracing::info!(
            endpoint,
            changes = changes.len(),
            epoch,
            last_eid,
            "SWIMA events"
        );
    }
}

/// The OS collector over this machine's `/etc/os-release`, IP forwarding and dpkg status.
pub fn os_imc() -> OsImc {
    OsImc::new(LinuxSource::new())
}

/// The OS verifier with the default policy.
pub fn os_imv() -> OsImv<LogSink> {
    OsImv::new(LogSink, OsPolicy::default())
}

/// The SWIMA collector over an in-memory event log, epoch 1, with no inventory source: it
/// answers requests with what its collector holds (an embedder with a tag directory builds
/// its own with `swima::tags::TagDirSource` and [`if_imc::export_imc!`]).
pub fn swima_imc() -> Result<SwimaImc<MemoryStore>, if_imc::TncError> {
    let collector = Collector::open(CollectorConfig::default(), MemoryStore::new(), 1)
        .map_err(|_| if_imc::TncError::Other("cannot open the SWIMA event log"))?;
    Ok(SwimaImc::new(collector, None, SwimaImcConfig::default()))
}

/// The SWIMA verifier (default limits) reporting to the log.
pub fn swima_imv() -> SwimaImv<LogSink> {
    SwimaImv::new(LogSink, SwimaImvConfig::default())
}
