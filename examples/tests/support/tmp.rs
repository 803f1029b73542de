//! A temporary directory removed when dropped (also when the test fails).

use std::path::PathBuf;

/// The directory; removed on drop.
pub(crate) struct Tmp(pub(crate) PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory `nea-NAME-PID-NANOS` in the system temp dir.
pub(crate) fn tmp(name: &str) -> Tmp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let p = std::env::temp_dir().join(format!("nea-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    Tmp(p)
}
