//! `LinuxSource` on fixture files: what it reads, and that malformed or huge files are
//! bounded and never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use imcv::os::{LinuxSource, OsError, OsSource};
use pa_tnc::{ForwardingEnabled, OperationalStatus};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A scratch directory removed at the end, also when the test fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let d = std::env::temp_dir().join(format!("imcv-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fixtures() -> LinuxSource {
    LinuxSource::new()
        .with_os_release(data("os-release"))
        .with_ip_forward(data("ip_forward"))
        .with_dpkg_status(data("dpkg-status"))
}

#[test]
fn reads_os_release_sysctl_and_dpkg_status() {
    let p = fixtures().collect().unwrap();
    let product = p.product.unwrap();
    assert_eq!(product.name.as_str(), "Debian GNU/Linux");
    assert_eq!((product.vendor.get(), product.product_id), (0, 0));
    let n = p.numeric_version.unwrap();
    assert_eq!((n.major, n.minor, n.build), (12, 0, 0));
    assert_eq!(p.string_version.unwrap().product_version.as_str(), "12");
    assert_eq!(
        p.operational_status.unwrap().status,
        OperationalStatus::STATUS_OPERATIONAL
    );
    assert_eq!(p.forwarding, Some(ForwardingEnabled::ENABLED));
    assert_eq!(p.factory_default_password, None);
    assert_eq!(
        p.packages.unwrap(),
        vec![
            ("bash".to_owned(), "5.2.15-2+b7".to_owned()),
            ("libssl3".to_owned(), "3.0.15-1~deb12u1".to_owned()),
            ("openssl".to_owned(), "3.0.15-1~deb12u1".to_owned()),
        ]
    );
}

#[test]
fn missing_files_leave_their_attributes_out() {
    let s = Scratch::new("missing");
    let mut src = LinuxSource::new()
        .with_os_release(s.0.join("no-os-release"))
        .with_ip_forward(s.0.join("no-ip-forward"))
        .with_dpkg_status(s.0.join("no-status"));
    src.factory_default_password = Some(false);
    let p = src.collect().unwrap();
    assert_eq!(p.product, None);
    assert_eq!(p.forwarding, None);
    assert_eq!(p.packages, None);
    assert_eq!(
        p.factory_default_password,
        Some(pa_tnc::FactoryDefaultPasswordEnabled::NO)
    );
}

#[test]
fn malformed_files_do_not_panic() {
    let s = Scratch::new("malformed");
    let garbage: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut src = LinuxSource::new()
        .with_os_release(s.file("os-release", &garbage))
        .with_ip_forward(s.file("ip_forward", b"yes please\n"))
        .with_dpkg_status(s.file(
            "status",
            b"Package:\nStatus: install ok installed\nVersion: 1\n\nPackage: x\n\n\n\xff\xfe\n\nVersion: 2\n",
        ));
    let p = src.collect().unwrap();
    assert_eq!(p.forwarding, Some(ForwardingEnabled::UNKNOWN));
    assert_eq!(p.packages, Some(Vec::new()));
    // Odd but valid lines: an unterminated quote and a version with no digits.
    let mut src = src.with_os_release(s.file("os-release2", b"NAME=\"Odd\nVERSION_ID=rolling\n"));
    let p = src.collect().unwrap();
    assert_eq!(p.product.unwrap().name.as_str(), "\"Odd");
    assert_eq!(p.numeric_version, None);
    assert_eq!(
        p.string_version.unwrap().product_version.as_str(),
        "rolling"
    );
}

#[test]
fn a_huge_file_is_refused_after_reading_at_most_the_bound() {
    let s = Scratch::new("huge");
    let stanza = "Package: p\nStatus: install ok installed\nVersion: 1\n\n";
    let huge = stanza.repeat(70_000);
    let mut src = fixtures()
        .with_dpkg_status(s.file("status", huge.as_bytes()))
        .with_max_file_size(1024 * 1024);
    match src.collect() {
        Err(OsError::TooLarge { path, limit }) => {
            assert!(path.ends_with("status"));
            assert_eq!(limit, 1024 * 1024);
        }
        other => panic!("{other:?}"),
    }
    // Under the bound it is read, and the package count stays within RFC 5792's 16 bits.
    let mut src = src.with_max_file_size(8 * 1024 * 1024);
    let n = src.collect().unwrap().packages.unwrap().len();
    assert_eq!(n, 65_535);
}

#[test]
fn a_directory_is_an_io_error() {
    let s = Scratch::new("dir");
    let mut src = fixtures().with_os_release(s.0.clone());
    assert!(matches!(src.collect(), Err(OsError::Io { .. })));
}
