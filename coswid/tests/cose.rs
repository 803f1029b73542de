//! COSE_Sign1 signing and verification (RFC 9393 §7, RFC 9052).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use coswid::CoseError;
use coswid::cose::{Algorithm, SigningKey, VerifyingKey, sign1, verify};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/coswid/rfc9393-cddl-derived")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap()
}

fn key(name: &str) -> VerifyingKey {
    VerifyingKey::from_spki_pem(&std::fs::read_to_string(data(&format!("keys/{name}"))).unwrap())
        .unwrap()
}

#[test]
fn generated_keys_sign_and_verify_and_tampering_is_rejected() {
    let payload = read("valid/minimal.cbor");
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let (k, _) = SigningKey::generate(alg).unwrap();
        let signed = sign1(&payload, &k, Some(b"kid")).unwrap();
        let vk = k.verifying_key();
        assert_eq!(verify(&signed, &vk).unwrap(), &payload[..]);
        // flip one byte of the payload (inside the software-name)
        let pos = signed.windows(7).position(|w| w == b"Minimal").unwrap();
        let mut bad = signed.clone();
        bad[pos] ^= 0x20;
        assert_eq!(verify(&bad, &vk), Err(CoseError::BadSignature));
        // another key of the same algorithm
        let (other, _) = SigningKey::generate(alg).unwrap();
        assert_eq!(
            verify(&signed, &other.verifying_key()),
            Err(CoseError::BadSignature)
        );
    }
}

#[test]
fn signing_refuses_an_invalid_payload() {
    let (k, _) = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let bad = read("invalid/missing-entity.cbor");
    assert!(matches!(sign1(&bad, &k, None), Err(CoseError::Payload(_))));
}

#[test]
fn corpus_signed_vectors() {
    let es = key("es256-test-key.pub.pem");
    let ed = key("ed25519-test-key.pub.pem");
    let minimal = read("valid/minimal.cbor");
    assert_eq!(
        verify(&read("signed/sign1-es256.cbor"), &es).unwrap(),
        &minimal[..]
    );
    assert_eq!(
        verify(&read("signed/sign1-eddsa.cbor"), &ed).unwrap(),
        &minimal[..]
    );
    assert_eq!(
        verify(&read("signed/tagged-sign1-es256.cbor"), &es).unwrap(),
        &minimal[..]
    );
    assert_eq!(
        verify(&read("signed/sign-es256-one-signer.cbor"), &es).unwrap(),
        &minimal[..]
    );
    assert_eq!(
        verify(&read("signed/invalid-sign1-tampered-payload.cbor"), &es),
        Err(CoseError::BadSignature)
    );
    assert_eq!(
        verify(&read("signed/invalid-sign1-missing-content-type.cbor"), &es),
        Err(CoseError::ContentType)
    );
    // wrong algorithm for the key
    assert_eq!(
        verify(&read("signed/sign1-eddsa.cbor"), &es),
        Err(CoseError::Algorithm)
    );
}

#[test]
fn corpus_private_keys_load_and_sign() {
    let payload = read("valid/minimal.cbor");
    for (sk, pk) in [
        ("es256-test-key.pem", "es256-test-key.pub.pem"),
        ("ed25519-test-key.pem", "ed25519-test-key.pub.pem"),
    ] {
        let k = SigningKey::from_pkcs8_pem(
            &std::fs::read_to_string(data(&format!("keys/{sk}"))).unwrap(),
        )
        .unwrap();
        assert_eq!(k.verifying_key(), key(pk));
        let signed = sign1(&payload, &k, None).unwrap();
        verify(&signed, &key(pk)).unwrap();
    }
    // EdDSA is deterministic: our signature equals the corpus one byte for byte (same kid)
    let k = SigningKey::from_pkcs8_pem(
        &std::fs::read_to_string(data("keys/ed25519-test-key.pem")).unwrap(),
    )
    .unwrap();
    let corpus = read("signed/sign1-eddsa.cbor");
    let ours = sign1(&payload, &k, Some(b"ed25519-test-key")).unwrap();
    assert_eq!(ours.len(), corpus.len());
    assert_eq!(ours[ours.len() - 64..], corpus[corpus.len() - 64..]);
}

#[test]
fn garbage_never_panics() {
    let es = key("es256-test-key.pub.pem");
    let signed = read("signed/sign1-es256.cbor");
    for i in 0..signed.len() {
        assert!(verify(&signed[..i], &es).is_err());
    }
}
