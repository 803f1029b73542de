//! TLS to PostgreSQL against the real test server (profile §8.2.4): scripts/postgres-up.sh
//! gives the role `nea_tls`, which the server admits over TLS only, and a CA of its own.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "common/fixture.rs"]
mod fixture;

use posture_repository::*;

/// `NEA_TEST_POSTGRES_TLS_URL`: the `nea_tls` URL with `sslrootcert=` the server's CA.
fn tls_url() -> String {
    std::env::var("NEA_TEST_POSTGRES_TLS_URL").unwrap_or_else(|_| {
        panic!("NEA_TEST_POSTGRES_TLS_URL is not set: run scripts/test.sh (it reads /tmp/nea-postgres-55432/tls-url)")
    })
}

fn err(url: &str) -> Error {
    match open(url, Limits::default()) {
        Ok(_) => panic!("{url} opened"),
        Err(e) => e,
    }
}

#[test]
#[ignore = "needs PostgreSQL with TLS: NEA_TEST_POSTGRES_TLS_URL and --ignored (scripts/test.sh)"]
fn a_verified_tls_connection_works_and_the_server_refuses_plain() {
    // A schema of this test's own (made over the plain test URL), which nea_tls may use.
    let schema = fixture::pg::Schema::new();
    schema
        .client()
        .batch_execute(&format!(
            "GRANT USAGE, CREATE ON SCHEMA {0} TO nea_tls",
            schema.0
        ))
        .unwrap();
    let url = format!("{}&options=-c%20search_path%3D{}", tls_url(), schema.0);
    // Verified TLS: the server lets `nea_tls` in over TLS only, so this working proves it.
    let repo = open(&url, Limits::default()).unwrap();
    assert!(repo.verify_history().unwrap().is_intact());
    let s = repo
        .session_started(&NewSession {
            endpoint: "tls-ep".into(),
            cert_fingerprint: None,
            manager_instance: "m-tls".into(),
            peer_address: "127.0.0.1:1".into(),
            at: UnixTime(1),
        })
        .unwrap();
    repo.session_ended(s, UnixTime(2), Some("allow")).unwrap();

    // Without the CA the loopback connection is plain, and the server refuses it.
    let (base, _) = url.split_once('?').unwrap();
    drop(repo);
    let e = err(base).to_string();
    assert!(e.contains("nea_tls") || e.contains("pg_hba"), "{e}");

    // Another CA: the server's certificate does not verify.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let path = std::env::temp_dir().join(format!("nea-other-ca-{}.pem", std::process::id()));
    std::fs::write(&path, other.cert.pem()).unwrap();
    let e = err(&format!("{base}?sslrootcert={}", path.display()));
    let _ = std::fs::remove_file(&path);
    assert!(matches!(e, Error::Postgres(_)), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}
