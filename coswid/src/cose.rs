//! Signed CoSWID (RFC 9393 §7): COSE_Sign1 (RFC 9052 §4.2) signing and verification with ring,
//! ES256 (ECDSA P-256, SHA-256, `r || s`) and EdDSA (Ed25519). COSE_Sign (tag 98) with
//! one or more signers is verified too.
//!
//! ```text
//! signed-coswid = #6.18([ protected: bstr .cbor { 1 => alg, 3 => "application/swid+cbor" },
//!                         unprotected: { ? 4 => kid }, payload: bstr .cbor coswid,
//!                         signature: bstr ])     ; optionally inside #6.1398229316
//! Sig_structure1 = [ "Signature1", protected, external_aad: h'', payload ]
//! ```

use minicbor::Decoder;
use minicbor::data::Type;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::cbor::{COSWID_TAG, enc};
use crate::error::CoseError;
use crate::model::ConciseSwidTag;

/// COSE content type of a CoSWID payload (RFC 9393 §7).
pub const CONTENT_TYPE: &str = "application/swid+cbor";

/// A COSE signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ES256 (COSE -7).
    Es256,
    /// EdDSA with Ed25519 (COSE -8).
    EdDsa,
}

impl Algorithm {
    /// COSE algorithm id.
    pub fn id(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::EdDsa => -8,
        }
    }
    fn from_id(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Self::Es256),
            -8 => Some(Self::EdDsa),
            _ => None,
        }
    }
}

/// A private key for signing.
#[derive(Debug)]
pub enum SigningKey {
    /// ECDSA P-256.
    Es256(EcdsaKeyPair),
    /// Ed25519.
    Ed25519(Ed25519KeyPair),
}

/// A public key for verification: the raw key (P-256 uncompressed point, or 32 Ed25519 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    /// The algorithm.
    pub alg: Algorithm,
    /// The raw public key.
    pub key: Vec<u8>,
}

const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const ED25519_SPKI_PREFIX: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl VerifyingKey {
    /// From a DER SubjectPublicKeyInfo of a P-256 or Ed25519 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CoseError> {
        if let Some(k) = der.strip_prefix(P256_SPKI_PREFIX) {
            return Ok(Self {
                alg: Algorithm::Es256,
                key: k.to_vec(),
            });
        }
        if let Some(k) = der.strip_prefix(ED25519_SPKI_PREFIX) {
            return Ok(Self {
                alg: Algorithm::EdDsa,
                key: k.to_vec(),
            });
        }
        Err(CoseError::Key)
    }
    /// From a PEM `PUBLIC KEY` block.
    pub fn from_spki_pem(pem: &str) -> Result<Self, CoseError> {
        Self::from_spki_der(&pem_der(pem).ok_or(CoseError::Key)?)
    }
}

/// The DER inside the first PEM block.
pub fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    crate::swid::from_base64(&body)
}

impl SigningKey {
    /// From a PKCS#8 DER private key; the algorithm is taken from the key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CoseError> {
        let rng = SystemRandom::new();
        if let Ok(k) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
        {
            return Ok(Self::Es256(k));
        }
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map(Self::Ed25519)
            .map_err(|_| CoseError::Key)
    }
    /// From a PEM `PRIVATE KEY` (PKCS#8) block.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CoseError> {
        Self::from_pkcs8(&pem_der(pem).ok_or(CoseError::Key)?)
    }
    /// Generate a fresh key; returns it with its PKCS#8 DER.
    pub fn generate(alg: Algorithm) -> Result<(Self, Vec<u8>), CoseError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            Algorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            Algorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng),
        }
        .map_err(|_| CoseError::Key)?;
        let der = pkcs8.as_ref().to_vec();
        Ok((Self::from_pkcs8(&der)?, der))
    }
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Es256(_) => Algorithm::Es256,
            Self::Ed25519(_) => Algorithm::EdDsa,
        }
    }
    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        let key = match self {
            Self::Es256(k) => k.public_key().as_ref().to_vec(),
            Self::Ed25519(k) => k.public_key().as_ref().to_vec(),
        };
        VerifyingKey {
            alg: self.algorithm(),
            key,
        }
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CoseError> {
        match self {
            Self::Es256(k) => k
                .sign(&SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CoseError::Key),
            Self::Ed25519(k) => Ok(k.sign(msg).as_ref().to_vec()),
        }
    }
}

fn sig_structure(
    context: &str,
    body_protected: &[u8],
    sign_protected: Option<&[u8]>,
    payload: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(payload.len().saturating_add(64));
    enc::array(&mut m, if sign_protected.is_some() { 5 } else { 4 });
    enc::text(&mut m, context);
    enc::bytes(&mut m, body_protected);
    if let Some(sp) = sign_protected {
        enc::bytes(&mut m, sp);
    }
    enc::bytes(&mut m, &[]);
    enc::bytes(&mut m, payload);
    m
}

/// Sign an encoded CoSWID (`payload`, checked to decode strictly) as a tagged COSE_Sign1
/// (`18([...])`), with `kid` in the unprotected header when given.
pub fn sign1(payload: &[u8], key: &SigningKey, kid: Option<&[u8]>) -> Result<Vec<u8>, CoseError> {
    ConciseSwidTag::decode(payload).map_err(CoseError::Payload)?;
    let mut protected = Vec::new();
    enc::map(&mut protected, 2);
    enc::int(&mut protected, 1);
    enc::int(&mut protected, key.algorithm().id());
    enc::int(&mut protected, 3);
    enc::text(&mut protected, CONTENT_TYPE);
    let sig = key.sign(&sig_structure("Signature1", &protected, None, payload))?;
    let mut out = Vec::with_capacity(payload.len().saturating_add(128));
    enc::tag(&mut out, 18);
    enc::array(&mut out, 4);
    enc::bytes(&mut out, &protected);
    match kid {
        Some(k) => {
            enc::map(&mut out, 1);
            enc::int(&mut out, 4);
            enc::bytes(&mut out, k);
        }
        None => enc::map(&mut out, 0),
    }
    enc::bytes(&mut out, payload);
    enc::bytes(&mut out, &sig);
    Ok(out)
}

fn m(_: minicbor::decode::Error) -> CoseError {
    CoseError::Malformed("bad cbor")
}

/// Protected header: (alg, has the CoSWID content type).
fn protected_header(bytes: &[u8]) -> Result<(Option<i64>, bool), CoseError> {
    if bytes.is_empty() {
        return Ok((None, false));
    }
    let mut d = Decoder::new(bytes);
    let n = d
        .map()
        .map_err(m)?
        .ok_or(CoseError::Malformed("indefinite protected header"))?;
    let (mut alg, mut ct) = (None, false);
    for _ in 0..n {
        let label = match d.datatype().map_err(m)? {
            Type::String => {
                d.str().map_err(m)?;
                None
            }
            _ => Some(d.i64().map_err(m)?),
        };
        match label {
            Some(1) => alg = Some(d.i64().map_err(m)?),
            Some(3) if d.datatype().map_err(m)? == Type::String => {
                ct = d.str().map_err(m)? == CONTENT_TYPE
            }
            _ => d.skip().map_err(m)?,
        }
    }
    if d.position() != bytes.len() {
        return Err(CoseError::Malformed("trailing bytes in protected header"));
    }
    Ok((alg, ct))
}

fn check(key: &VerifyingKey, alg: Option<i64>, msg: &[u8], sig: &[u8]) -> Result<(), CoseError> {
    if alg.and_then(Algorithm::from_id) != Some(key.alg) {
        return Err(CoseError::Algorithm);
    }
    let ring_alg: &dyn signature::VerificationAlgorithm = match key.alg {
        Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::EdDsa => &signature::ED25519,
    };
    UnparsedPublicKey::new(ring_alg, &key.key)
        .verify(msg, sig)
        .map_err(|_| CoseError::BadSignature)
}

/// The payload of a signed CoSWID (tag 18 or 98, optionally inside tag 1398229316) **without**
/// verifying anything: for inspection only.
pub fn unverified_payload(signed: &[u8]) -> Result<&[u8], CoseError> {
    let mut d = Decoder::new(signed);
    let mut t = d.tag().map_err(m)?.as_u64();
    if t == COSWID_TAG {
        t = d.tag().map_err(m)?.as_u64();
    }
    if t != 18 && t != 98 {
        return Err(CoseError::Malformed(
            "not COSE_Sign1 (18) or COSE_Sign (98)",
        ));
    }
    if d.array().map_err(m)? != Some(4) {
        return Err(CoseError::Malformed("not a 4-element array"));
    }
    d.skip().map_err(m)?;
    d.skip().map_err(m)?;
    d.bytes().map_err(m)
}

/// Is `input` (by its leading CBOR tags) a COSE_Sign1 / COSE_Sign structure?
pub fn is_signed(input: &[u8]) -> bool {
    let mut d = Decoder::new(input);
    let mut t = d.tag().ok().map(|t| t.as_u64());
    if t == Some(COSWID_TAG) {
        t = d.tag().ok().map(|t| t.as_u64());
    }
    matches!(t, Some(18 | 98))
}

/// Most COSE_Signature entries [`verify`] examines in a COSE_Sign: each costs a copy of the
/// payload and a signature check, so the count from the wire is bounded.
pub const MAX_SIGNERS: u64 = 16;

/// Verify a signed CoSWID (COSE_Sign1 tag 18, or COSE_Sign tag 98 where any signer with `key`'s
/// algorithm may match; optionally inside tag 1398229316) and return the payload bytes, which
/// must hold a CoSWID that decodes strictly. RFC 9393 §7: the protected header MUST carry
/// content type `application/swid+cbor`.
pub fn verify<'a>(signed: &'a [u8], key: &VerifyingKey) -> Result<&'a [u8], CoseError> {
    let mut d = Decoder::new(signed);
    let mut t = d.tag().map_err(m)?.as_u64();
    if t == COSWID_TAG {
        t = d.tag().map_err(m)?.as_u64();
    }
    if t != 18 && t != 98 {
        return Err(CoseError::Malformed(
            "not COSE_Sign1 (18) or COSE_Sign (98)",
        ));
    }
    if d.array().map_err(m)? != Some(4) {
        return Err(CoseError::Malformed("not a 4-element array"));
    }
    let protected = d.bytes().map_err(m)?;
    d.skip().map_err(m)?; // unprotected
    let payload = d.bytes().map_err(m)?;
    let (alg, ct) = protected_header(protected)?;
    if !ct {
        return Err(CoseError::ContentType);
    }
    if t == 18 {
        let sig = d.bytes().map_err(m)?;
        if d.position() != signed.len() {
            return Err(CoseError::Malformed("trailing bytes"));
        }
        check(
            key,
            alg,
            &sig_structure("Signature1", protected, None, payload),
            sig,
        )?;
    } else {
        let n = d
            .array()
            .map_err(m)?
            .ok_or(CoseError::Malformed("indefinite signatures"))?;
        // Each signer costs a copy of the payload and a signature check.
        if n > MAX_SIGNERS {
            return Err(CoseError::Malformed("more than MAX_SIGNERS signatures"));
        }
        let mut result = Err(CoseError::BadSignature);
        for _ in 0..n {
            if d.array().map_err(m)? != Some(3) {
                return Err(CoseError::Malformed(
                    "COSE_Signature is not a 3-element array",
                ));
            }
            let sp = d.bytes().map_err(m)?;
            d.skip().map_err(m)?;
            let sig = d.bytes().map_err(m)?;
            let (salg, _) = protected_header(sp)?;
            if result.is_err() {
                result = check(
                    key,
                    salg,
                    &sig_structure("Signature", protected, Some(sp), payload),
                    sig,
                );
            }
        }
        if d.position() != signed.len() {
            return Err(CoseError::Malformed("trailing bytes"));
        }
        result?;
    }
    ConciseSwidTag::decode(payload).map_err(CoseError::Payload)?;
    Ok(payload)
}
