//! The IF-IMC 1.3 C binary interface (feature `ffi`): the C types and constants, the
//! `tnc_config` file, loading C collectors into the [`crate::Broker`] ([`CImc`],
//! [`load_imcs`]) and exporting a Rust [`crate::Imc`] as a C plugin ([`crate::export_imc!`]).
//!
//! `TNC_UInt32` is C `unsigned long` (64 bits on LP64 Linux): every scalar, list element and
//! out-pointer here is [`c_ulong`]. This module and its siblings are the only places of the
//! crate where `unsafe` is allowed; every block states why it is sound.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_ulong, c_void};
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use nea_wire::VendorId;
use tnc_if::core::PluginHandle;
use tnc_if::{AttributeId, ConnectionId, MessageType, ResultCode, RetryReason, TncError};

#[doc(hidden)]
pub use crate::ffi_export::{
    CallParts, ExportCore, ExportSide, Exported, ExportedImc, HostFns, ImcSide, MAX_CONNECTIONS,
    MAX_RECEIVED, map_id, received,
};
pub use crate::ffi_host::{CImc, PendingRetry, drain_pending_retries, load_imcs};
#[doc(hidden)]
pub use crate::ffi_plugin::{
    CMessage, CPlugin, HostSide, Target, bind_function, callback as side_callback, check_call,
    reserve_function,
};

/// `TNC_UInt32` and every type defined as it (`TNC_IMCID`, `TNC_Result`, ...).
pub type TncUInt32 = c_ulong;
/// `TNC_Result`.
pub type TncResult = c_ulong;
/// `TNC_BufferReference`.
pub type TncBuffer = *mut u8;

/// `TNC_MESSAGE_FLAGS_EXCLUSIVE`, the only message flag defined.
pub const MESSAGE_FLAGS_EXCLUSIVE: TncUInt32 = 0x8000_0000;
/// `TNC_CONNECTIONID_ANY`.
pub const CONNECTIONID_ANY: TncUInt32 = 0xffff_ffff;
/// Most message types one `ReportMessageTypes[Long]` call may register (longer lists are
/// refused with INVALID_PARAMETER before they are read).
pub const MAX_REPORTED_TYPES: usize = 4096;
/// Largest attribute value `SetAttribute` reads.
pub const MAX_SET_ATTRIBUTE: usize = 65_536;
/// Longest function name the bind function reads.
pub const MAX_FUNCTION_NAME: usize = 128;

/// `TNC_TNCC_BindFunctionPointer` / `TNC_TNCS_BindFunctionPointer`.
pub type BindFunction = unsafe extern "C" fn(
    id: TncUInt32,
    function_name: *const c_char,
    out: *mut *mut c_void,
) -> TncResult;

/// The `TNC_Result` for `r`.
pub fn result_code(r: Result<(), TncError>) -> TncResult {
    match r {
        Ok(()) => 0,
        Err(e) => c_ulong::from(e.code().0),
    }
}

/// The error a C function's result stands for (`Ok` for SUCCESS).
pub fn check(code: TncResult) -> Result<(), TncError> {
    let code = u32::try_from(code).map_or(ResultCode(u32::MAX), ResultCode);
    TncError::from_code(code).map_or(Ok(()), Err)
}

/// A C `TNC_UInt32` as a 32-bit value (larger values are invalid parameters).
pub fn u32_of(v: TncUInt32, what: &'static str) -> Result<u32, TncError> {
    u32::try_from(v).map_err(|_| TncError::InvalidParameter(what))
}

/// A C value widened to 64 bits (`unsigned long` is 32 bits on some platforms).
#[allow(clippy::useless_conversion)]
pub fn wide(v: TncUInt32) -> u64 {
    u64::from(v)
}

/// A C plugin ID as the 16-bit ID PB-PA carries.
pub fn id_of(v: TncUInt32) -> Result<u16, TncError> {
    u16::try_from(v).map_err(|_| TncError::InvalidParameter("ID beyond 16 bits"))
}

/// Reads the function name a plugin passes to the bind function (at most
/// [`MAX_FUNCTION_NAME`] bytes, NUL-terminated).
///
/// # Safety
/// `name` is NULL or points to a NUL-terminated string (or at least `MAX_FUNCTION_NAME`
/// readable bytes).
pub unsafe fn function_name(name: *const c_char) -> Option<String> {
    if name.is_null() {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..MAX_FUNCTION_NAME {
        // SAFETY: the caller promises a NUL-terminated string; we stop at its NUL and never
        // read past MAX_FUNCTION_NAME bytes.
        let b = unsafe { *name.add(i) }.cast_unsigned();
        if b == 0 {
            return String::from_utf8(out).ok();
        }
        out.push(b);
    }
    None
}

/// Copies a buffer a plugin passes (`len` bytes at `ptr`) after checking `len` against `max`
/// — a length larger than the limit is refused *before* anything is read.
///
/// # Safety
/// When `ptr` is not NULL and `len <= max`, `ptr` must point to `len` readable bytes (the
/// interface's contract for every buffer argument).
pub unsafe fn read_buffer(ptr: *const u8, len: TncUInt32, max: usize) -> Result<Bytes, TncError> {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > max {
        return Err(TncError::ExceededMaxMessageSize { size: len, max });
    }
    if len == 0 {
        return Ok(Bytes::new());
    }
    if ptr.is_null() {
        return Err(TncError::InvalidParameter(
            "NULL buffer with a non-zero length",
        ));
    }
    // SAFETY: non-NULL and, by the caller's contract, `len` readable bytes; copied at once so
    // nothing keeps the borrowed pointer.
    Ok(Bytes::copy_from_slice(unsafe {
        std::slice::from_raw_parts(ptr, len)
    }))
}

/// Writes `v` through an out-pointer (NULL is an invalid parameter).
///
/// # Safety
/// `out` is NULL or valid for one write.
pub unsafe fn write_out(out: *mut TncUInt32, v: TncUInt32) -> Result<(), TncError> {
    if out.is_null() {
        return Err(TncError::InvalidParameter("NULL out-pointer"));
    }
    // SAFETY: non-NULL and valid for a write per the caller's contract.
    unsafe { out.write(v) };
    Ok(())
}

/// `GetAttribute`'s copy-out contract (as strongSwan's hosts behave): the full length goes to
/// `*out_len`; a NULL or too small buffer gets INVALID_PARAMETER and no copy.
///
/// # Safety
/// `buffer` is NULL or valid for `buffer_len` bytes of writes; `out_len` NULL or valid.
pub unsafe fn copy_attribute(
    value: &[u8],
    buffer_len: TncUInt32,
    buffer: *mut u8,
    out_len: *mut TncUInt32,
) -> Result<(), TncError> {
    let full = c_ulong::try_from(value.len()).unwrap_or(c_ulong::MAX);
    // SAFETY: forwarded caller contract.
    unsafe { write_out(out_len, full) }?;
    let room = usize::try_from(buffer_len).unwrap_or(usize::MAX);
    if buffer.is_null() || room < value.len() {
        return Err(TncError::InvalidParameter(
            "attribute buffer missing or too small (length in *pOutValueLength)",
        ));
    }
    // SAFETY: `buffer` is valid for `buffer_len >= value.len()` bytes and cannot overlap our
    // own `value` (the plugin never sees it).
    unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), buffer, value.len()) };
    Ok(())
}

/// Reads a short type list (`ReportMessageTypes`).
///
/// # Safety
/// `types` is NULL or points to `count` elements (checked against [`MAX_REPORTED_TYPES`]
/// before anything is read).
pub unsafe fn read_short_types(
    types: *const TncUInt32,
    count: TncUInt32,
) -> Result<Vec<MessageType>, TncError> {
    // SAFETY: forwarded caller contract.
    let raw = unsafe { read_list(types, count) }?;
    raw.into_iter()
        .map(|t| u32_of(t, "short message type beyond 32 bits").map(MessageType::from_short))
        .collect()
}

/// Reads the parallel vendor and subtype lists of `ReportMessageTypesLong`.
///
/// # Safety
/// Each pointer is NULL or points to `count` elements.
pub unsafe fn read_long_types(
    vendors: *const TncUInt32,
    subtypes: *const TncUInt32,
    count: TncUInt32,
) -> Result<Vec<MessageType>, TncError> {
    // SAFETY: forwarded caller contract.
    let v = unsafe { read_list(vendors, count) }?;
    // SAFETY: as above.
    let s = unsafe { read_list(subtypes, count) }?;
    v.into_iter().zip(s).map(|(v, s)| long_type(v, s)).collect()
}

/// A short message type from a C value (bits above 32 are ignored: the type is then
/// refused by the routing as unknown).
pub fn short_type(t: TncUInt32) -> MessageType {
    MessageType::from_short(u32::try_from(t).unwrap_or(u32::MAX))
}

/// A long message type from C values.
pub fn long_type(vendor: TncUInt32, subtype: TncUInt32) -> Result<MessageType, TncError> {
    let vendor = u32_of(vendor, "vendor ID beyond 24 bits")?;
    if vendor > 0x00ff_ffff {
        return Err(TncError::InvalidParameter("vendor ID beyond 24 bits"));
    }
    Ok(MessageType::new(
        VendorId::from_u24(vendor),
        u32_of(subtype, "subtype beyond 32 bits")?,
    ))
}

unsafe fn read_list(p: *const TncUInt32, count: TncUInt32) -> Result<Vec<TncUInt32>, TncError> {
    let n = usize::try_from(count).unwrap_or(usize::MAX);
    if n > MAX_REPORTED_TYPES {
        return Err(TncError::InvalidParameter("too many message types"));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(TncError::InvalidParameter(
            "NULL type list with a non-zero count",
        ));
    }
    // SAFETY: non-NULL, `n` elements per the caller's contract, `n` bounded above; copied out.
    Ok(unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
}

/// Send flags: only EXCLUSIVE is defined; others are invalid.
pub fn exclusive_flag(flags: TncUInt32) -> Result<bool, TncError> {
    if flags & !MESSAGE_FLAGS_EXCLUSIVE != 0 {
        return Err(TncError::InvalidParameter("undefined message flags"));
    }
    Ok(flags == MESSAGE_FLAGS_EXCLUSIVE)
}

/// What every side's `SendMessage[Long]` callback does once it has the plugin's handle:
/// checks the caller's ID (primary or additional) and the connection, refuses a length over
/// the connection's limit before reading, then sends.
///
/// # Safety
/// `message` is NULL or points to `len` readable bytes.
#[allow(clippy::too_many_arguments)]
pub unsafe fn handle_send(
    h: &mut PluginHandle<'_>,
    id: TncUInt32,
    connection: TncUInt32,
    flags: TncUInt32,
    message: *const u8,
    len: TncUInt32,
    t: MessageType,
    destination: TncUInt32,
) -> Result<(), TncError> {
    let source = owned_id(h, id)?;
    same_connection(h, connection)?;
    let exclusive = exclusive_flag(flags)?;
    let destination = id_of(destination)?;
    let max = h.conn.max_body(h.config);
    // SAFETY: forwarded caller contract; the length is checked against `max` first.
    let body = unsafe { read_buffer(message, len, max) }?;
    h.send(exclusive, Some(source), destination, t, body)
}

/// The plugin ID a callback names, if it is the handle's plugin's (primary or additional).
pub fn owned_id(h: &PluginHandle<'_>, id: TncUInt32) -> Result<u16, TncError> {
    let id = id_of(id)?;
    if !h.entry.owns(id) {
        return Err(TncError::InvalidParameter(
            "the ID is not the calling plugin's own",
        ));
    }
    Ok(id)
}

/// Whether the callback names the handle's connection (or ANY, where allowed).
pub fn same_connection(h: &PluginHandle<'_>, connection: TncUInt32) -> Result<(), TncError> {
    if u32::try_from(connection).ok() != Some(h.conn.id.0) {
        return Err(TncError::InvalidParameter("unknown connection ID"));
    }
    Ok(())
}

/// `RequestHandshakeRetry` inside a call (connection ID may be ANY = this one).
pub fn handle_retry(
    h: &mut PluginHandle<'_>,
    id: TncUInt32,
    connection: TncUInt32,
    reason: TncUInt32,
) -> Result<(), TncError> {
    owned_id(h, id)?;
    if connection != CONNECTIONID_ANY {
        same_connection(h, connection)?;
    }
    h.request_retry(RetryReason::try_from(wide(reason))?)
}

/// `GetAttribute` inside a call.
///
/// # Safety
/// As [`copy_attribute`].
pub unsafe fn handle_get_attribute(
    h: &PluginHandle<'_>,
    id: TncUInt32,
    connection: TncUInt32,
    attribute: TncUInt32,
    buffer_len: TncUInt32,
    buffer: *mut u8,
    out_len: *mut TncUInt32,
) -> Result<(), TncError> {
    owned_id(h, id)?;
    same_connection(h, connection)?;
    let value = h.get_attribute(AttributeId(u32_of(attribute, "attribute ID")?))?;
    // SAFETY: forwarded caller contract.
    unsafe { copy_attribute(&value, buffer_len, buffer, out_len) }
}

/// The connection a callback outside any call names (ANY allowed).
pub fn connection_of(v: TncUInt32) -> Result<ConnectionId, TncError> {
    Ok(ConnectionId(u32_of(v, "connection ID beyond 32 bits")?))
}

/// Runs a callback body, turning a panic into FATAL (a panic must not cross into C).
pub fn guard(f: impl FnOnce() -> Result<(), TncError>) -> TncResult {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => result_code(r),
        Err(_) => {
            tracing::error!("panic inside a TNC callback; answering TNC_RESULT_FATAL");
            result_code(Err(TncError::Fatal))
        }
    }
}

/// Writes `f` (or NULL) to a bind function's out-pointer and answers: a known name gets
/// SUCCESS, an unknown one INVALID_PARAMETER with NULL written (strongSwan's host; its
/// plugins call some functions without a NULL check).
///
/// # Safety
/// `out` is NULL or valid for one pointer write; `name` as [`function_name`].
pub unsafe fn bind(
    name: *const c_char,
    out: *mut *mut c_void,
    lookup: impl FnOnce(&str) -> Option<*mut c_void>,
) -> TncResult {
    if out.is_null() {
        return result_code(Err(TncError::InvalidParameter("NULL out-pointer")));
    }
    // SAFETY: forwarded caller contract.
    let f = unsafe { function_name(name) }.and_then(|n| lookup(&n));
    // SAFETY: `out` is non-NULL and valid for a write per the contract.
    unsafe { out.write(f.unwrap_or(std::ptr::null_mut())) };
    match f {
        Some(_) => 0,
        None => result_code(Err(TncError::InvalidParameter("unknown function name"))),
    }
}

/// Which handle a call into a C plugin lends it (see [`with_current`]).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleKind {
    /// `&mut ImcInit`.
    ImcInit,
    /// `&mut ImcConnection`.
    ImcConnection,
    /// `&mut ImvInit`.
    ImvInit,
    /// `&mut ImvConnection`.
    ImvConnection,
}

/// The handle of the call into a C plugin in progress on this thread, type-erased.
#[doc(hidden)]
pub type Current = (HandleKind, std::ptr::NonNull<()>);

thread_local! {
    static CURRENT: std::cell::Cell<Option<Current>> = const { std::cell::Cell::new(None) };
}

struct Restore(Option<Current>);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.set(self.0);
    }
}

/// Runs `f` (a call into a C plugin) with `cur` as this thread's current handle, restoring
/// the previous one afterwards. `cur` must point to a `&mut` handle of the kind it names that
/// the caller does not touch until `f` returns.
#[doc(hidden)]
pub fn with_current<R>(cur: Current, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(CURRENT.replace(Some(cur)));
    f()
}

/// Runs a host callback body: the current handle is taken out of the thread-local while it
/// runs (so a nested callback sees none and no second `&mut` can exist), a panic becomes
/// FATAL, the result becomes a `TNC_Result`.
#[doc(hidden)]
pub fn callback(f: impl FnOnce(Option<Current>) -> Result<(), TncError>) -> TncResult {
    guard(|| {
        let cur = CURRENT.take();
        let _restore = Restore(cur);
        f(cur)
    })
}

/// Which kind of plugin a `tnc_config` line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginKind {
    /// `IMC "name" path`.
    Imc,
    /// `IMV "name" path`.
    Imv,
}

/// One plugin of a `tnc_config` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    /// IMC or IMV.
    pub kind: PluginKind,
    /// The quoted name.
    pub name: String,
    /// The shared object.
    pub path: PathBuf,
    /// The 1-based line it is on.
    pub line: usize,
}

/// A `tnc_config` error, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tnc_config line {line}: {message}")]
pub struct ConfigError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: &'static str,
}

/// A parsed `tnc_config` (the UNIX binding's `/etc/tnc_config`): one `IMC "name" path` or
/// `IMV "name" path` per line, `#` comment lines and blank lines ignored, other keywords (e.g.
/// jTNC's `JAVA-IMC`) skipped. The name is in double quotes (it may contain spaces, not
/// quotes); the path is one token (strongSwan ends it at the first blank); anything after it
/// other than a `#` comment is an error.
///
/// ```
/// use if_imc::ffi::{PluginKind, TncConfig};
/// let c = TncConfig::parse("# plugins\nIMC \"OS\" /usr/lib/imc-os.so\nIMV \"SWIMA\"\t/usr/lib/imv-swima.so # ok\n").unwrap();
/// assert_eq!(c.entries.len(), 2);
/// assert_eq!((c.entries[1].kind, c.entries[1].name.as_str()), (PluginKind::Imv, "SWIMA"));
/// assert_eq!(TncConfig::parse("IMC \"x /a.so\n").unwrap_err().line, 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TncConfig {
    /// The plugins in file order.
    pub entries: Vec<ConfigEntry>,
}

impl TncConfig {
    /// Parses the text of a `tnc_config` file.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message| ConfigError { line, message };
            let l = raw.trim_start();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (keyword, rest) = l.split_once([' ', '\t']).unwrap_or((l, ""));
            let kind = match keyword {
                "IMC" => PluginKind::Imc,
                "IMV" => PluginKind::Imv,
                _ => continue,
            };
            let rest = rest.trim_start();
            let rest = rest
                .strip_prefix('"')
                .ok_or(err("the plugin name must be in double quotes"))?;
            let (name, rest) = rest
                .split_once('"')
                .ok_or(err("the plugin name has no closing quote"))?;
            if name.is_empty() {
                return Err(err("empty plugin name"));
            }
            if !rest.starts_with([' ', '\t']) {
                return Err(err("blank expected between the name and the path"));
            }
            let rest = rest.trim_start();
            let (path, tail) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(err("the plugin path is missing"));
            }
            let tail = tail.trim();
            if !tail.is_empty() && !tail.starts_with('#') {
                return Err(err("unexpected text after the path"));
            }
            entries.push(ConfigEntry {
                kind,
                name: name.to_owned(),
                path: PathBuf::from(path),
                line,
            });
        }
        Ok(Self { entries })
    }

    /// Reads and parses a file.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|e| LoadError::Config {
            path: path.to_owned(),
            error: e,
        })
    }

    /// The entries of one kind.
    pub fn of(&self, kind: PluginKind) -> impl Iterator<Item = &ConfigEntry> {
        self.entries.iter().filter(move |e| e.kind == kind)
    }
}

/// Why a C plugin could not be hosted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read or opened as a shared object.
    #[error("{}: cannot load: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// A mandatory function is not exported.
    #[error("{}: mandatory symbol {symbol} missing", path.display())]
    MissingSymbol {
        /// The file.
        path: PathBuf,
        /// The function.
        symbol: String,
    },
    /// The `tnc_config` file is malformed.
    #[error("{}: {error}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Where and what.
        error: ConfigError,
    },
    /// The plugin refused to initialize (e.g. NO_COMMON_VERSION) or the broker had no ID.
    #[error("{}: {message}", path.display())]
    Initialize {
        /// The file.
        path: PathBuf,
        /// The broker's error.
        message: String,
    },
}

/// An open shared object (`RTLD_NOW | RTLD_GLOBAL`: plugins such as strongSwan's load their
/// own plugins that resolve symbols from the global scope). Closed (`dlclose`) on drop.
pub struct SharedLibrary {
    path: PathBuf,
    lib: libloading::os::unix::Library,
}

impl fmt::Debug for SharedLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLibrary")
            .field("path", &self.path)
            .finish()
    }
}

impl SharedLibrary {
    /// Opens `path`; the error names the file and the loader's reason.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        use libloading::os::unix::{RTLD_GLOBAL, RTLD_NOW};
        let flags = RTLD_NOW | RTLD_GLOBAL;
        // Opening a library runs its initializers; loading a plugin named in the
        // administrator's tnc_config is the whole point of this interface.
        // SAFETY: the host trusts the configured plugin code, as strongSwan and wpa_supplicant do.
        let lib = unsafe { libloading::os::unix::Library::open(Some(path), flags) };
        let lib = lib.map_err(|e| LoadError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_owned(),
            lib,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The function `name` as type `F` (`None` if not exported).
    ///
    /// # Safety
    /// `F` must be the function's true C signature, and the value must not be used after
    /// this library is dropped.
    pub unsafe fn get<F: Copy>(&self, name: &str) -> Option<F> {
        // SAFETY: the caller guarantees the signature; the pointer is copied out and stays
        // valid as long as `self` (callers keep the Library next to it).
        unsafe { self.lib.get::<F>(name.as_bytes()) }
            .ok()
            .map(|s| *s)
    }

    /// As [`SharedLibrary::get`] for a mandatory function (the error names file and symbol).
    ///
    /// # Safety
    /// As [`SharedLibrary::get`].
    pub unsafe fn require<F: Copy>(&self, name: &str) -> Result<F, LoadError> {
        // SAFETY: forwarded caller contract.
        unsafe { self.get(name) }.ok_or_else(|| LoadError::MissingSymbol {
            path: self.path.clone(),
            symbol: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tnc_config_lines_quotes_comments_and_errors() {
        let c = TncConfig::parse(
            "# comment\n\n  IMC \"OS collector\"  /a/imc-os.so\nJAVA-IMC \"j\" C x.jar\nIMV \"S\"\t/b.so   # trailing\n",
        )
        .unwrap();
        assert_eq!(
            c.entries,
            vec![
                ConfigEntry {
                    kind: PluginKind::Imc,
                    name: "OS collector".into(),
                    path: "/a/imc-os.so".into(),
                    line: 3
                },
                ConfigEntry {
                    kind: PluginKind::Imv,
                    name: "S".into(),
                    path: "/b.so".into(),
                    line: 5
                },
            ]
        );
        let e = |t: &str| TncConfig::parse(t).unwrap_err();
        assert_eq!(e("\nIMC OS /a.so").line, 2);
        assert_eq!(
            e("IMC \"OS /a.so").message,
            "the plugin name has no closing quote"
        );
        assert_eq!(
            e("IMV \"OS\"").message,
            "blank expected between the name and the path"
        );
        assert_eq!(e("IMV \"OS\" ").message, "the plugin path is missing");
        assert_eq!(e("\n\nIMC \"OS\" /a.so extra").line, 3);
        assert_eq!(e("IMC \"\" /a.so").message, "empty plugin name");
    }

    #[test]
    fn buffers_are_checked_before_reading() {
        let data = [1u8, 2, 3];
        // SAFETY: a valid 3-byte buffer.
        let b = unsafe { read_buffer(data.as_ptr(), 3, 10) }.unwrap();
        assert_eq!(&b[..], &data);
        // A length lie larger than the limit is refused without reading.
        // SAFETY: rejected before any read.
        let e = unsafe { read_buffer(data.as_ptr(), c_ulong::MAX, 10) }.unwrap_err();
        assert!(matches!(
            e,
            TncError::ExceededMaxMessageSize { max: 10, .. }
        ));
        // SAFETY: NULL is checked.
        let e = unsafe { read_buffer(std::ptr::null(), 2, 10) }.unwrap_err();
        assert!(matches!(e, TncError::InvalidParameter(_)));
        let mut out = [0u8; 2];
        let mut len: c_ulong = 0;
        // SAFETY: valid buffers.
        let r = unsafe { copy_attribute(b"abc", 2, out.as_mut_ptr(), &raw mut len) };
        assert!(r.is_err());
        assert_eq!(len, 3);
        assert_eq!(out, [0, 0]);
        // SAFETY: too many types refused before reading.
        assert!(unsafe { read_short_types(std::ptr::null(), 1 << 40) }.is_err());
        assert_eq!(
            check(6),
            Err(TncError::InvalidParameter("reported by the callee"))
        );
        assert_eq!(result_code(Err(TncError::Fatal)), 10);
    }

    #[test]
    fn a_panicking_callback_answers_fatal_and_nested_callbacks_see_no_handle() {
        // A panic in a callback body becomes FATAL instead of unwinding into C.
        assert_eq!(guard(|| panic!("bug in a callback")), 10);
        assert_eq!(guard(|| Err(TncError::CantRetry("x"))), 4);
        // Outside any call there is no handle; inside one, a nested callback sees none
        // either (the handle is out of the thread-local while a callback runs).
        let mut x = 0u8;
        let cur = (
            HandleKind::ImcConnection,
            std::ptr::NonNull::from(&mut x).cast(),
        );
        let seen = with_current(cur, || {
            callback(|c| {
                assert!(c.is_some());
                let inner = callback(|c| match c {
                    None => Ok(()),
                    Some(_) => Err(TncError::Fatal),
                });
                assert_eq!(inner, 0);
                Ok(())
            })
        });
        assert_eq!(seen, 0);
        assert_eq!(
            callback(|c| if c.is_none() {
                Ok(())
            } else {
                Err(TncError::Fatal)
            }),
            0
        );
    }
}
