//! Where OS posture comes from.

use std::io::Read;
use std::path::{Path, PathBuf};

use nea_wire::VendorId;
use pa_tnc::{
    DateTime20, FactoryDefaultPasswordEnabled, ForwardingEnabled, NumericVersion,
    OperationalStatus, ProductInformation, StringVersion,
};

use super::OsPosture;

/// Why an [`OsSource`] could not collect.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A file is larger than the configured bound (nothing beyond it was read).
    #[error("{path} is larger than the {limit}-byte limit")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bound.
        limit: u64,
    },
}

/// Collects the endpoint's OS posture (the embedder's own, or [`LinuxSource`]).
pub trait OsSource: Send {
    /// The posture now (called at the start of each handshake).
    fn collect(&mut self) -> Result<OsPosture, OsError>;
}

impl OsSource for OsPosture {
    /// A fixed posture (tests, or a posture the embedder computed).
    fn collect(&mut self) -> Result<OsPosture, OsError> {
        Ok(self.clone())
    }
}

/// OS posture of a Linux endpoint: `/etc/os-release` (product, versions),
/// `/proc/sys/net/ipv4/ip_forward` (forwarding) and `/var/lib/dpkg/status` (installed
/// packages). Paths are configurable (tests use fixture files) and every read is bounded by
/// [`LinuxSource::max_file_size`]. A missing file leaves its attributes out.
///
/// ```
/// use imcv::os::{LinuxSource, OsSource};
///
/// let dir = std::env::temp_dir().join(format!("imcv-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("os-release"), "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n").unwrap();
/// std::fs::write(dir.join("ip_forward"), "1\n").unwrap();
/// let mut src = LinuxSource::new()
///     .with_os_release(dir.join("os-release"))
///     .with_ip_forward(dir.join("ip_forward"))
///     .with_dpkg_status(dir.join("absent"));
/// let p = src.collect().unwrap();
/// assert_eq!(p.product.unwrap().name.as_str(), "Debian GNU/Linux");
/// assert_eq!(p.forwarding, Some(pa_tnc::ForwardingEnabled::ENABLED));
/// assert_eq!(p.packages, None);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxSource {
    /// os-release file.
    pub os_release: PathBuf,
    /// IPv4 forwarding sysctl.
    pub ip_forward: PathBuf,
    /// dpkg status database.
    pub dpkg_status: PathBuf,
    /// Largest file read (bytes); a larger one is an error.
    pub max_file_size: u64,
    /// Whether a factory default password is enabled, if the embedder knows (Linux has no
    /// standard place to read it from); `None` leaves the attribute out.
    pub factory_default_password: Option<bool>,
}

impl Default for LinuxSource {
    fn default() -> Self {
        Self::new()
    }
}

/// Most packages one Installed Packages attribute carries (RFC 5792 §4.2.7: 16-bit count).
const MAX_PACKAGES: usize = 65_535;

impl LinuxSource {
    /// The standard paths, files up to 32 MiB.
    pub fn new() -> Self {
        Self {
            os_release: "/etc/os-release".into(),
            ip_forward: "/proc/sys/net/ipv4/ip_forward".into(),
            dpkg_status: "/var/lib/dpkg/status".into(),
            max_file_size: 32 * 1024 * 1024,
            factory_default_password: None,
        }
    }

    /// Another os-release file.
    #[must_use]
    pub fn with_os_release(mut self, p: impl Into<PathBuf>) -> Self {
        self.os_release = p.into();
        self
    }

    /// Another forwarding sysctl file.
    #[must_use]
    pub fn with_ip_forward(mut self, p: impl Into<PathBuf>) -> Self {
        self.ip_forward = p.into();
        self
    }

    /// Another dpkg status file.
    #[must_use]
    pub fn with_dpkg_status(mut self, p: impl Into<PathBuf>) -> Self {
        self.dpkg_status = p.into();
        self
    }

    /// Another read bound.
    #[must_use]
    pub fn with_max_file_size(mut self, n: u64) -> Self {
        self.max_file_size = n;
        self
    }

    /// Reads `path` up to the bound; `None` if it does not exist.
    fn read(&self, path: &Path) -> Result<Option<String>, OsError> {
        let io = |source| OsError::Io {
            path: path.to_owned(),
            source,
        };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        // /proc files report size 0: read, never trust the metadata.
        let mut buf = Vec::new();
        file.take(self.max_file_size.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.len() as u64 > self.max_file_size {
            return Err(OsError::TooLarge {
                path: path.to_owned(),
                limit: self.max_file_size,
            });
        }
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }
}

impl OsSource for LinuxSource {
    fn collect(&mut self) -> Result<OsPosture, OsError> {
        let mut p = OsPosture::default();
        if let Some(text) = self.read(&self.os_release)? {
            os_release(&text, &mut p);
        }
        if let Some(text) = self.read(&self.ip_forward)? {
            p.forwarding = Some(match text.trim() {
                "0" => ForwardingEnabled::DISABLED,
                "1" => ForwardingEnabled::ENABLED,
                _ => ForwardingEnabled::UNKNOWN,
            });
        }
        if let Some(text) = self.read(&self.dpkg_status)? {
            p.packages = Some(dpkg_installed(&text));
        }
        p.factory_default_password = self.factory_default_password.map(|on| {
            if on {
                FactoryDefaultPasswordEnabled::YES
            } else {
                FactoryDefaultPasswordEnabled::NO
            }
        });
        Ok(p)
    }
}

/// One `KEY=value` line of os-release (os-release(5): shell-style quoting, `#` comments).
fn os_release_value(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let (k, v) = line.split_once('=')?;
    let v = v.trim();
    let unquoted = match (v.chars().next(), v.chars().last()) {
        (Some(q @ ('"' | '\'')), Some(e)) if q == e && v.len() >= 2 => {
            v.get(1..v.len() - 1).unwrap_or_default()
        }
        _ => v,
    };
    let mut out = String::with_capacity(unquoted.len());
    let mut esc = false;
    for c in unquoted.chars() {
        if esc || c != '\\' {
            out.push(c);
            esc = false;
        } else {
            esc = true;
        }
    }
    Some((k.trim(), out))
}

fn os_release(text: &str, p: &mut OsPosture) {
    let mut name = None;
    let mut pretty = None;
    let mut version_id = None;
    let mut version = None;
    let mut build = None;
    for (k, v) in text.lines().filter_map(os_release_value) {
        match k {
            "NAME" => name = Some(v),
            "PRETTY_NAME" => pretty = Some(v),
            "VERSION_ID" => version_id = Some(v),
            "VERSION" => version = Some(v),
            "BUILD_ID" => build = Some(v),
            _ => {}
        }
    }
    // RFC 5792 §4.2.2: vendor 0 and product ID 0 when no PEN applies.
    if let Some(n) = name
        .or(pretty)
        .filter(|n| !n.is_empty() && !n.contains('\0'))
    {
        p.product = Some(ProductInformation {
            vendor: VendorId::IETF,
            product_id: 0,
            name: n.into(),
        });
    }
    if let Some(v) = &version_id {
        let mut parts = v.split(['.', '-', '_']).map(|x| x.parse::<u32>().ok());
        let major = parts.next().flatten();
        if let Some(major) = major {
            p.numeric_version = Some(NumericVersion {
                major,
                minor: parts.next().flatten().unwrap_or(0),
                ..NumericVersion::default()
            });
        }
    }
    if let Some(v) = version_id.as_ref().or(version.as_ref()) {
        p.string_version = StringVersion::new(v, build.as_deref().unwrap_or(""), "");
    }
    if p.product.is_some() {
        p.operational_status = Some(OperationalStatus {
            status: OperationalStatus::STATUS_OPERATIONAL,
            result: 0,
            last_use: DateTime20::UNKNOWN,
        });
    }
}

/// The installed packages of a dpkg status database (deb-status(5)): stanzas whose Status
/// ends in `installed`; names and versions over 255 bytes (which RFC 5792 cannot carry) are
/// left out, as is anything past 65,535 packages.
fn dpkg_installed(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut name, mut version, mut installed) = (None, None, false);
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Status:") {
                installed = v.split_whitespace().last() == Some("installed");
            }
        }
        if let (Some(n), Some(v), true) = (name, version, installed)
            && !n.is_empty()
            && n.len() <= 255
            && v.len() <= 255
            && !n.contains('\0')
            && !v.contains('\0')
        {
            out.push((n.to_owned(), v.to_owned()));
            if out.len() == MAX_PACKAGES {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quoting() {
        assert_eq!(
            os_release_value("NAME=\"Debian \\\"GNU\\\"/Linux\""),
            Some(("NAME", "Debian \"GNU\"/Linux".to_owned()))
        );
        assert_eq!(os_release_value("ID=debian"), Some(("ID", "debian".into())));
        assert_eq!(os_release_value("X='a b'"), Some(("X", "a b".into())));
        assert_eq!(os_release_value("# NAME=x"), None);
        assert_eq!(os_release_value("garbage"), None);
        assert_eq!(os_release_value("Q=\""), Some(("Q", "\"".into())));
        let mut p = OsPosture::default();
        os_release(
            "NAME=Ubuntu\nVERSION_ID=\"22.04\"\nBUILD_ID=rolling\n",
            &mut p,
        );
        let n = p.numeric_version.unwrap();
        assert_eq!((n.major, n.minor), (22, 4));
        let s = p.string_version.unwrap();
        assert_eq!(s.product_version.as_str(), "22.04");
        assert_eq!(s.internal_build.as_str(), "rolling");
    }

    #[test]
    fn dpkg_stanzas() {
        let t = "Package: a\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n y\n\n\
                 Package: b\nStatus: deinstall ok config-files\nVersion: 2\n\n\
                 Package: c\nVersion: 3\nStatus: install ok installed\n";
        assert_eq!(
            dpkg_installed(t),
            vec![("a".into(), "1.0".into()), ("c".into(), "3".into())]
        );
        let long = format!(
            "Package: {}\nStatus: install ok installed\nVersion: 1\n",
            "x".repeat(256)
        );
        assert!(dpkg_installed(&long).is_empty());
    }
}
