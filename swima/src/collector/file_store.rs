//! A [`LogStore`] in one append-only file (feature `fs`).
//!
//! ```text
//! header: "SWIMALOG" | version (1) = 2 | EID Epoch (4) | CRC-32 of the 13 bytes before (4)
//! frame:  kind (1: 'B' base record, 'E' event) | length (4) | CRC-32 of the body (4)
//!         | CRC-32 of the 9 bytes before (4) | body: Software Events event encoding
//! ```
//!
//! Base records are stored as events with EID 0. Loading reads one frame at a time (each at
//! most [`FileStore::with_max_frame`] bytes, never more than the file still holds) and checks
//! both checksums:
//!
//! - damage that nothing valid follows is a **torn tail** (a crash during an append; the
//!   change it recorded was never reported, because the collector reports only after
//!   [`LogStore::flush`]): it is cut off and the log continues (RFC 8412 §3.7.1: no EID is
//!   reused, since the cut events were never visible);
//! - damage with a valid frame after it is **corruption**: events inside the log are lost, so
//!   keeping the epoch would leave a gap or reuse EIDs. [`LogStore::load`] fails with
//!   [`Error::CorruptLog`], the damaged file is kept with the extension `.corrupt`, and the collector
//!   starts a new epoch (RFC 8412 §3.7.6), which tells every SWIMA-PV its mirror is invalid.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use nea_wire::Reader;
use pa_tnc::DateTime20;

use super::log::{LogState, LogStore};
use crate::{Action, Error, Event, SoftwareRecord};

const MAGIC: &[u8; 8] = b"SWIMALOG";
const VERSION: u8 = 2;
const FILE_HEADER: usize = 17;
const FRAME_HEADER: usize = 13;
/// Default largest frame body: a collector's default attribute limit (16 MiB) plus room.
const DEFAULT_MAX_FRAME: usize = 32 * 1024 * 1024;
/// How much of the file a damage scan reads at once.
const SCAN_CHUNK: usize = 64 * 1024;

/// What the last [`LogStore::load`] of a [`FileStore`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LoadReport {
    /// Complete frames read (base records and events).
    pub frames: usize,
    /// Bytes of a torn tail cut off the end of the file (0: none).
    pub cut_tail: u64,
    /// Offset of damage inside the log (the load failed and the epoch must change).
    pub corrupt_at: Option<u64>,
}

/// The event log in a file; a restart with the same path keeps the epoch and EIDs.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    file: Option<File>,
    max_frame: usize,
    report: LoadReport,
}

fn io(e: std::io::Error) -> Error {
    Error::Store(e.to_string())
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) lookup table.
#[allow(clippy::indexing_slicing)] // i < 256, checked at compile time
const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i: u32 = 0;
    while i < 256 {
        let mut c = i;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i as usize] = c;
        i += 1;
    }
    t
};

/// CRC-32 of `data` (the checksum of zlib, PNG and Ethernet).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in data {
        let i = usize::from(crc.to_le_bytes()[0] ^ b);
        crc = CRC_TABLE.get(i).copied().unwrap_or(0) ^ (crc >> 8);
    }
    !crc
}

fn frame(kind: u8, e: &Event<SoftwareRecord>, out: &mut BytesMut) {
    let mut body = BytesMut::with_capacity(e.encoded_len());
    e.write(&mut body);
    let mut header = [0u8; FRAME_HEADER];
    header[0] = kind;
    header[1..5].copy_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
    header[5..9].copy_from_slice(&crc32(&body).to_be_bytes());
    let hc = crc32(&header[..9]);
    header[9..].copy_from_slice(&hc.to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&body);
}

/// A frame header whose own checksum holds: (kind, body length, body checksum).
fn frame_header(h: &[u8; FRAME_HEADER]) -> Option<(u8, u32, u32)> {
    let [kind, l0, l1, l2, l3, c0, c1, c2, c3, h0, h1, h2, h3] = *h;
    if crc32(&h[..9]) != u32::from_be_bytes([h0, h1, h2, h3]) || !matches!(kind, b'B' | b'E') {
        return None;
    }
    Some((
        kind,
        u32::from_be_bytes([l0, l1, l2, l3]),
        u32::from_be_bytes([c0, c1, c2, c3]),
    ))
}

/// What reading one frame at an offset gave.
enum Read1 {
    Frame(u8, Bytes),
    /// The file ends inside this frame.
    Truncated,
    /// A checksum or kind is wrong.
    Damaged,
    /// A valid frame longer than the configured limit.
    TooLong(usize),
}

impl FileStore {
    /// A store at `path` (created on first write).
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            file: None,
            max_frame: DEFAULT_MAX_FRAME,
            report: LoadReport::default(),
        }
    }

    /// The store with another limit on one frame's body (one event with its record; default
    /// 32 MiB). Loading a log with a longer frame fails (and the collector starts a new
    /// epoch) instead of allocating it.
    #[must_use]
    pub fn with_max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the last [`LogStore::load`] found (torn tail cut, damage offset).
    pub fn last_load(&self) -> LoadReport {
        self.report
    }

    /// Reads the frame at the reader's position; `left` is what the file holds from there.
    fn read_frame(&self, r: &mut impl Read, left: u64) -> Result<Read1, Error> {
        if left < FRAME_HEADER as u64 {
            return Ok(Read1::Truncated);
        }
        let mut h = [0u8; FRAME_HEADER];
        r.read_exact(&mut h).map_err(io)?;
        let Some((kind, len, crc)) = frame_header(&h) else {
            return Ok(Read1::Damaged);
        };
        let Ok(len) = usize::try_from(len) else {
            return Ok(Read1::Damaged);
        };
        if len > self.max_frame {
            return Ok(Read1::TooLong(len));
        }
        if (len as u64) > left - FRAME_HEADER as u64 {
            return Ok(Read1::Truncated);
        }
        // Bounded by `max_frame` and by what the file holds.
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).map_err(io)?;
        if crc32(&body) != crc {
            return Ok(Read1::Damaged);
        }
        Ok(Read1::Frame(kind, Bytes::from(body)))
    }

    /// Whether a complete, valid frame starts anywhere in `from..total`: tells damage inside
    /// the log from a torn tail. Reads the rest of the file in bounded chunks.
    fn valid_frame_after(&self, file: &mut File, from: u64, total: u64) -> Result<bool, Error> {
        let mut pos = from;
        let mut buf = vec![0u8; SCAN_CHUNK + FRAME_HEADER];
        while pos.saturating_add(FRAME_HEADER as u64) <= total {
            let want = usize::try_from((total - pos).min(buf.len() as u64)).unwrap_or(0);
            file.seek(SeekFrom::Start(pos)).map_err(io)?;
            let chunk = buf.get_mut(..want).unwrap_or_default();
            file.read_exact(chunk).map_err(io)?;
            for (i, w) in chunk.windows(FRAME_HEADER).enumerate() {
                let Ok(h) = <&[u8; FRAME_HEADER]>::try_from(w) else {
                    continue;
                };
                if frame_header(h).is_none() {
                    continue;
                }
                let at = pos + i as u64;
                let mut f = file.try_clone().map_err(io)?;
                f.seek(SeekFrom::Start(at)).map_err(io)?;
                if let Read1::Frame(..) = self.read_frame(&mut f, total - at)? {
                    return Ok(true);
                }
            }
            // The next chunk starts where the last complete window could not.
            pos += (want.saturating_sub(FRAME_HEADER - 1)).max(1) as u64;
        }
        Ok(false)
    }

    fn parse(&mut self, mut file: File) -> Result<(LogState, Option<u64>), Error> {
        let total = file.metadata().map_err(io)?.len();
        let not_log = || Error::Store("not a SWIMA event log (version 2)".into());
        let mut r = BufReader::new(file.try_clone().map_err(io)?);
        let mut h = [0u8; FILE_HEADER];
        r.read_exact(&mut h).map_err(|_| not_log())?;
        let mut hr = Reader::new(Bytes::copy_from_slice(&h), 0);
        let bad = |_| not_log();
        if hr.bytes::<8>().map_err(bad)? != *MAGIC || hr.u8().map_err(bad)? != VERSION {
            return Err(not_log());
        }
        let epoch = hr.u32().map_err(bad)?;
        if crc32(&h[..13]) != hr.u32().map_err(bad)? {
            return Err(Error::CorruptLog { offset: 0 });
        }
        let mut state = LogState {
            epoch,
            ..LogState::default()
        };
        let mut pos = FILE_HEADER as u64;
        while pos < total {
            let damaged = match self.read_frame(&mut r, total - pos)? {
                Read1::Truncated => false,
                Read1::Damaged => true,
                Read1::TooLong(len) => {
                    return Err(Error::TooLong {
                        field: "event log frame",
                        len,
                        max: self.max_frame,
                    });
                }
                Read1::Frame(kind, body) => {
                    let len = body.len();
                    let mut br = Reader::new(body, 0);
                    match Event::<SoftwareRecord>::read(&mut br).and_then(|e| {
                        br.finish()?;
                        Ok(e)
                    }) {
                        Ok(e) if kind == b'B' => state.base.push(e.item),
                        Ok(e) => state.events.push(e),
                        // A checksum over bytes that do not decode: written wrong, not torn.
                        Err(_) => return Err(Error::CorruptLog { offset: pos }),
                    }
                    self.report.frames += 1;
                    pos += (FRAME_HEADER + len) as u64;
                    continue;
                }
            };
            if damaged && self.valid_frame_after(&mut file, pos + 1, total)? {
                return Err(Error::CorruptLog { offset: pos });
            }
            return Ok((state, Some(pos)));
        }
        Ok((state, None))
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
        self.report = LoadReport::default();
        self.file = None;
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        match self.parse(file) {
            Ok((state, None)) => Ok(Some(state)),
            Ok((state, Some(good))) => {
                // A torn tail: cut it off (nothing after it was ever reported).
                let f = OpenOptions::new()
                    .write(true)
                    .open(&self.path)
                    .map_err(io)?;
                let total = f.metadata().map_err(io)?.len();
                f.set_len(good).map_err(io)?;
                f.sync_all().map_err(io)?;
                self.report.cut_tail = total - good;
                Ok(Some(state))
            }
            Err(e) => {
                if let Error::CorruptLog { offset } = e {
                    self.report.corrupt_at = Some(offset);
                    // Kept for inspection; the collector writes a new log of a new epoch.
                    fs::rename(&self.path, self.path.with_extension("corrupt")).map_err(io)?;
                }
                Err(e)
            }
        }
    }

    fn append(&mut self, _epoch: u32, event: &Event<SoftwareRecord>) -> Result<(), Error> {
        let mut buf = BytesMut::with_capacity(FRAME_HEADER + event.encoded_len());
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
        // Write a new file and rename it over the old one, so a crash leaves one or the other.
        let tmp = self.path.with_extension("tmp");
        {
            let mut w = BufWriter::new(File::create(&tmp).map_err(io)?);
            let mut h = BytesMut::with_capacity(FILE_HEADER);
            h.extend_from_slice(MAGIC);
            h.extend_from_slice(&[VERSION]);
            h.extend_from_slice(&state.epoch.to_be_bytes());
            let c = crc32(&h);
            h.extend_from_slice(&c.to_be_bytes());
            w.write_all(&h).map_err(io)?;
            let mut buf = BytesMut::new();
            let mut put = |kind: u8, e: &Event<SoftwareRecord>| {
                buf.clear();
                frame(kind, e, &mut buf);
                w.write_all(&buf).map_err(io)
            };
            for r in &state.base {
                let e = Event {
                    eid: 0,
                    timestamp: DateTime20::UNKNOWN,
                    action: Action::CREATION,
                    item: r.clone(),
                };
                put(b'B', &e)?;
            }
            for e in &state.events {
                put(b'E', e)?;
            }
            let f = w.into_inner().map_err(|e| io(e.into_error()))?;
            f.sync_all().map_err(io)?;
        }
        fs::rename(&tmp, &self.path).map_err(io)?;
        // Make the rename itself durable (best effort: not every platform opens directories).
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
