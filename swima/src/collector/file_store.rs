//! A [`LogStore`] in one append-only file (feature `fs`).
//!
//! ```text
//! "SWIMALOG" | version (1) = 1 | EID Epoch (4)
//! frames: kind (1: 'B' base record, 'E' event) | length (4) | Software Events event encoding
//! ```
//!
//! Base records are stored as events with EID 0. A frame cut short by a crash is dropped (the
//! change it recorded was never reported, and the next scan finds it again); any other damage
//! makes [`LogStore::load`] fail, and the collector starts a new epoch (RFC 8412 §3.7.6).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use nea_wire::Reader;
use pa_tnc::DateTime20;

use super::log::{LogState, LogStore};
use crate::{Action, Error, Event, SoftwareRecord};

const MAGIC: &[u8; 8] = b"SWIMALOG";
const VERSION: u8 = 1;

/// The event log in a file; a restart with the same path keeps the epoch and EIDs.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    file: Option<File>,
}

fn io(e: std::io::Error) -> Error {
    Error::Store(e.to_string())
}

fn frame(kind: u8, e: &Event<SoftwareRecord>, out: &mut BytesMut) {
    out.extend_from_slice(&[kind]);
    let len = u32::try_from(e.encoded_len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    e.write(out);
}

impl FileStore {
    /// A store at `path` (created on first write).
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            file: None,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parse(buf: Bytes) -> Result<(LogState, usize), Error> {
        let bad = |_| Error::Store("corrupt event log".into());
        let mut r = Reader::new(buf, 0);
        if r.bytes::<8>().map_err(bad)? != *MAGIC || r.u8().map_err(bad)? != VERSION {
            return Err(Error::Store("not a SWIMA event log".into()));
        }
        let mut state = LogState {
            epoch: r.u32().map_err(bad)?,
            ..LogState::default()
        };
        let mut good = r.offset();
        while !r.is_empty() {
            let Ok(kind) = r.u8() else { break };
            let Ok(len) = r.u32() else { break };
            let Ok(len) = usize::try_from(len) else { break };
            let Ok(mut body) = r.sub(len) else { break };
            let e = Event::<SoftwareRecord>::read(&mut body).map_err(bad)?;
            body.finish().map_err(bad)?;
            match kind {
                b'B' => state.base.push(e.item),
                b'E' => state.events.push(e),
                _ => return Err(Error::Store("corrupt event log".into())),
            }
            good = r.offset();
        }
        Ok((state, good))
    }

    fn open_append(&mut self) -> Result<&mut File, Error> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(io)?;
            self.file = Some(f);
        }
        self.file
            .as_mut()
            .ok_or_else(|| Error::Store("log file not open".into()))
    }
}

impl LogStore for FileStore {
    fn load(&mut self) -> Result<Option<LogState>, Error> {
        let buf = match fs::read(&self.path) {
            Ok(b) => Bytes::from(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let total = buf.len();
        let (state, good) = Self::parse(buf)?;
        if good != total {
            // A torn final frame: rewrite the file without it.
            self.reset(&state)?;
        }
        Ok(Some(state))
    }

    fn append(&mut self, _epoch: u32, event: &Event<SoftwareRecord>) -> Result<(), Error> {
        let mut buf = BytesMut::with_capacity(5 + event.encoded_len());
        frame(b'E', event, &mut buf);
        let f = self.open_append()?;
        f.write_all(&buf).map_err(io)
    }

    fn flush(&mut self) -> Result<(), Error> {
        match &mut self.file {
            Some(f) => f.sync_data().map_err(io),
            None => Ok(()),
        }
    }

    fn reset(&mut self, state: &LogState) -> Result<(), Error> {
        self.file = None;
        let mut buf = BytesMut::new();
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&[VERSION]);
        buf.extend_from_slice(&state.epoch.to_be_bytes());
        for r in &state.base {
            let e = Event {
                eid: 0,
                timestamp: DateTime20::UNKNOWN,
                action: Action::CREATION,
                item: r.clone(),
            };
            frame(b'B', &e, &mut buf);
        }
        for e in &state.events {
            frame(b'E', e, &mut buf);
        }
        // Write a new file and rename it over the old one, so a crash leaves one or the other.
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = File::create(&tmp).map_err(io)?;
            f.write_all(&buf).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        fs::rename(&tmp, &self.path).map_err(io)
    }
}
