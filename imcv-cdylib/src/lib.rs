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

/// The environment variable naming the SWID/CoSWID tag directories the exported SWIMA
/// collector scans (separated by `:`); without it, `/usr/share/swidtags`.
pub const TAG_DIRS_ENV: &str = "NEA_SWIMA_TAG_DIRS";

/// The SWIMA collector over an in-memory event log (a new epoch, from the clock, at every
/// load) and the tag directories of [`TAG_DIRS_ENV`], scanned once when the host
/// loads the plugin. A deployment that needs events to survive restarts builds its own with
/// `swima::FileStore` and [`if_imc::export_imc!`].
pub fn swima_imc() -> Result<SwimaImc<MemoryStore>, if_imc::TncError> {
    let dirs = std::env::var(TAG_DIRS_ENV).unwrap_or_else(|_| "/usr/share/swidtags".to_owned());
    swima_imc_over(&dirs)
}

/// [`swima_imc`] over the tag directories `dirs` (separated by `:`).
pub fn swima_imc_over(dirs: &str) -> Result<SwimaImc<MemoryStore>, if_imc::TncError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // The epoch only has to differ between loads (RFC 8412 §3.7.1): the low 32 bits of the
    // load time in seconds, never 0.
    let epoch = u32::try_from(now & 0xffff_ffff).unwrap_or(1).max(1);
    let collector = Collector::open(CollectorConfig::default(), MemoryStore::new(), epoch)
        .map_err(|_| if_imc::TncError::Other("cannot open the SWIMA event log"))?;
    let source = swima::tags::TagDirSource::new(dirs.split(':').filter(|d| !d.is_empty()));
    let imc = SwimaImc::new(collector, Some(Box::new(source)), SwimaImcConfig::default());
    let at = pa_tnc::DateTime20::from_unix_seconds(i64::try_from(now).unwrap_or(0))
        .unwrap_or(pa_tnc::DateTime20::UNKNOWN);
    if let Err(e) = imc.handle().refresh(&at) {
        tracing::warn!(error = %e, dirs, "SWIMA tag directories could not be scanned");
    }
    Ok(imc)
}

/// The SWIMA verifier (default limits) reporting to the log.
pub fn swima_imv() -> SwimaImv<LogSink> {
    SwimaImv::new(LogSink, SwimaImvConfig::default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_exported_swima_collector_scans_its_tag_directories() {
        let tags = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/samples/tags");
        let files = std::fs::read_dir(tags).map_or(0, |d| d.flatten().count());
        assert!(files >= 8);
        let imc = super::swima_imc_over(&format!("/nonexistent:{tags}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let records = imc.handle().with_collector(|c| c.inventory().count());
        assert_eq!(records, files);
        // No directory at all: an empty inventory, no failure (the host still loads it).
        let empty = super::swima_imc_over("/nonexistent").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(empty.handle().with_collector(|c| c.inventory().count()), 0);
    }
}
