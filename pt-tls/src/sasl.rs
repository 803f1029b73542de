//! The SASL mechanism framework (RFC 6876 §3.8, RFC 4422) and PLAIN (RFC 4616) on both sides.
//!
//! A mechanism is a factory ([`ClientMechanism`], [`ServerMechanism`]) shared through the
//! [`crate::Config`]; each authentication run gets a fresh conversation object holding that
//! run's state. Mechanism data never goes to a log.

use core::fmt;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use crate::wire::MechanismName;

/// A client conversation gave up (the session answers with PT-TLS Error SASL Mechanism Error,
/// RFC 6876 §3.8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sasl client mechanism aborted the exchange")]
pub struct SaslAbort;

/// A SASL mechanism the NEA Client can run.
pub trait ClientMechanism: Send + Sync {
    /// The mechanism's registered name.
    fn name(&self) -> MechanismName;
    /// Starts one authentication run.
    fn start(&self) -> Box<dyn ClientConversation>;
}

/// The client side of one SASL authentication run.
pub trait ClientConversation: Send {
    /// The Optional Initial Mechanism Response sent with the selection (empty: none).
    fn initial_response(&mut self) -> Bytes;
    /// Answers a server challenge (SASL Authentication Data) with the next response.
    fn step(&mut self, challenge: &[u8]) -> Result<Bytes, SaslAbort>;
    /// Checks the additional data of a Success result (RFC 4422 §3.6); default accepts.
    fn finish(&mut self, additional: &[u8]) -> Result<(), SaslAbort> {
        let _ = additional;
        Ok(())
    }
}

/// What a server mechanism may know about the connection.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct SaslContext<'a> {
    /// The TLS client certificate (DER), if the client presented one.
    pub peer_certificate: Option<&'a [u8]>,
}

impl<'a> SaslContext<'a> {
    /// A context with the peer's certificate.
    pub fn new(peer_certificate: Option<&'a [u8]>) -> Self {
        Self { peer_certificate }
    }
}

/// A SASL mechanism the NEA Server can offer.
pub trait ServerMechanism: Send + Sync {
    /// The mechanism's registered name.
    fn name(&self) -> MechanismName;
    /// Whether to offer it on this connection (default: always).
    fn available(&self, ctx: &SaslContext<'_>) -> bool {
        let _ = ctx;
        true
    }
    /// Starts one authentication run.
    fn start(&self, ctx: &SaslContext<'_>) -> Box<dyn ServerConversation>;
}

/// What a server conversation decided after a client message.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerStep {
    /// Send this challenge (SASL Authentication Data) and wait for the next response.
    Challenge(Bytes),
    /// Authenticated as `identity`; `additional` goes in the Success result (may be empty).
    Success {
        /// The authenticated identity (authcid).
        identity: String,
        /// RFC 4422 additional data with success.
        additional: Bytes,
    },
    /// Bad identity or credentials (Result Code Failure).
    Failure,
    /// The mechanism could not process the exchange (Result Code Mechanism Failure).
    MechanismFailure,
    /// Give up the exchange (Result Code Abort).
    Abort,
}

impl fmt::Debug for ServerStep {
    // Challenges are mechanism data: their bytes are never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Challenge(c) => write!(f, "Challenge(<{} bytes>)", c.len()),
            Self::Success { identity, .. } => write!(f, "Success({identity:?})"),
            Self::Failure => f.write_str("Failure"),
            Self::MechanismFailure => f.write_str("MechanismFailure"),
            Self::Abort => f.write_str("Abort"),
        }
    }
}

/// The server side of one SASL authentication run.
pub trait ServerConversation: Send {
    /// Handles the client's next message: the initial response of the selection (`None` when
    /// the selection carried none), then each SASL Authentication Data.
    fn step(&mut self, response: Option<&[u8]>) -> ServerStep;
}

/// Checks PLAIN credentials (RFC 4616) on the server.
pub trait CredentialCheck: Send + Sync {
    /// Whether `authcid`/`password` are valid and `authcid` may act as `authzid` (empty when
    /// absent; PT-TLS uses no authorization identity, RFC 6876 §3.8.5.2).
    fn check_plain(&self, authzid: &str, authcid: &str, password: &str) -> bool;
}

/// PLAIN (RFC 4616) on the client: `[authzid] NUL authcid NUL passwd`, authzid empty.
#[derive(Clone)]
pub struct PlainClient {
    authcid: String,
    password: String,
}

impl PlainClient {
    /// Credentials for PLAIN; `None` if either holds a NUL or is over 255 bytes (RFC 4616 §2).
    pub fn new(authcid: &str, password: &str) -> Option<Self> {
        let ok = |s: &str| !s.is_empty() && s.len() <= 255 && !s.contains('\0');
        (ok(authcid) && ok(password)).then(|| Self {
            authcid: authcid.to_owned(),
            password: password.to_owned(),
        })
    }

    fn message(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(2 + self.authcid.len() + self.password.len());
        // RFC 6876 §3.8.5.2: no authorization identity.
        out.put_u8(0);
        out.put_slice(self.authcid.as_bytes());
        out.put_u8(0);
        out.put_slice(self.password.as_bytes());
        out.freeze()
    }
}

impl fmt::Debug for PlainClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainClient")
            .field("authcid", &self.authcid)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl ClientMechanism for PlainClient {
    fn name(&self) -> MechanismName {
        MechanismName::PLAIN
    }

    fn start(&self) -> Box<dyn ClientConversation> {
        Box::new(PlainClientRun {
            message: Some(self.message()),
        })
    }
}

struct PlainClientRun {
    message: Option<Bytes>,
}

impl ClientConversation for PlainClientRun {
    fn initial_response(&mut self) -> Bytes {
        self.message.take().unwrap_or_default()
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Bytes, SaslAbort> {
        // RFC 4616 §2: the server sends an empty challenge when no initial response came; PLAIN
        // has a single message, so anything else is a protocol error.
        match (challenge.is_empty(), self.message.take()) {
            (true, Some(m)) => Ok(m),
            _ => Err(SaslAbort),
        }
    }
}

/// PLAIN (RFC 4616) on the server, checking credentials with a [`CredentialCheck`].
#[derive(Clone)]
pub struct PlainServer {
    check: Arc<dyn CredentialCheck>,
}

impl PlainServer {
    /// PLAIN backed by `check`.
    pub fn new(check: Arc<dyn CredentialCheck>) -> Self {
        Self { check }
    }
}

impl fmt::Debug for PlainServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainServer")
    }
}

impl ServerMechanism for PlainServer {
    fn name(&self) -> MechanismName {
        MechanismName::PLAIN
    }

    fn start(&self, _ctx: &SaslContext<'_>) -> Box<dyn ServerConversation> {
        Box::new(PlainServerRun {
            check: Arc::clone(&self.check),
            challenged: false,
        })
    }
}

struct PlainServerRun {
    check: Arc<dyn CredentialCheck>,
    challenged: bool,
}

/// Splits a PLAIN message into (authzid, authcid, passwd); `None` if malformed (RFC 4616 §2:
/// exactly two NULs, authcid and passwd non-empty, UTF-8, each at most 255 bytes).
fn parse_plain(msg: &[u8]) -> Option<(&str, &str, &str)> {
    let mut parts = msg.split(|b| *b == 0);
    let (authzid, authcid, passwd) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || authcid.is_empty() || passwd.is_empty() {
        return None;
    }
    if [authzid, authcid, passwd].iter().any(|p| p.len() > 255) {
        return None;
    }
    Some((
        core::str::from_utf8(authzid).ok()?,
        core::str::from_utf8(authcid).ok()?,
        core::str::from_utf8(passwd).ok()?,
    ))
}

impl ServerConversation for PlainServerRun {
    fn step(&mut self, response: Option<&[u8]>) -> ServerStep {
        let msg = match response {
            Some(m) if !m.is_empty() => m,
            _ if !self.challenged => {
                // No initial response: solicit it with an empty challenge (RFC 4616 §2).
                self.challenged = true;
                return ServerStep::Challenge(Bytes::new());
            }
            _ => return ServerStep::Failure,
        };
        match parse_plain(msg) {
            None => ServerStep::Failure,
            Some((authzid, authcid, passwd)) => {
                if self.check.check_plain(authzid, authcid, passwd) {
                    ServerStep::Success {
                        identity: authcid.to_owned(),
                        additional: Bytes::new(),
                    }
                } else {
                    ServerStep::Failure
                }
            }
        }
    }
}

/// Checks a TLS client certificate for EXTERNAL (RFC 4422 Appendix A) on the server.
pub trait CertificateCheck: Send + Sync {
    /// The identity the certificate (DER, already validated by TLS) authenticates, if it may
    /// act as `authzid` (empty: as itself); `None` refuses.
    fn check_certificate(&self, certificate: &[u8], authzid: &str) -> Option<String>;
}

/// EXTERNAL (RFC 4422 Appendix A) on the server: the TLS client certificate authenticates the
/// client (RFC 6876 §3.8.1: MUST be provided when both ends authenticated in TLS). Offered only
/// on connections with a client certificate.
#[derive(Clone)]
pub struct ExternalServer {
    check: Arc<dyn CertificateCheck>,
}

impl ExternalServer {
    /// EXTERNAL backed by `check`.
    pub fn new(check: Arc<dyn CertificateCheck>) -> Self {
        Self { check }
    }
}

impl fmt::Debug for ExternalServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalServer")
    }
}

impl ServerMechanism for ExternalServer {
    fn name(&self) -> MechanismName {
        MechanismName::EXTERNAL
    }

    fn available(&self, ctx: &SaslContext<'_>) -> bool {
        ctx.peer_certificate.is_some()
    }

    fn start(&self, ctx: &SaslContext<'_>) -> Box<dyn ServerConversation> {
        Box::new(ExternalServerRun {
            check: Arc::clone(&self.check),
            certificate: ctx.peer_certificate.map(Bytes::copy_from_slice),
        })
    }
}

struct ExternalServerRun {
    check: Arc<dyn CertificateCheck>,
    certificate: Option<Bytes>,
}

impl ServerConversation for ExternalServerRun {
    fn step(&mut self, response: Option<&[u8]>) -> ServerStep {
        // The client's only message is the authorization identity (empty or absent: none).
        let Ok(authzid) = core::str::from_utf8(response.unwrap_or_default()) else {
            return ServerStep::Failure;
        };
        let identity = self
            .certificate
            .as_ref()
            .and_then(|c| self.check.check_certificate(c, authzid));
        match identity {
            Some(identity) => ServerStep::Success {
                identity,
                additional: Bytes::new(),
            },
            None => ServerStep::Failure,
        }
    }
}

/// EXTERNAL (RFC 4422 Appendix A) on the client: no authorization identity (RFC 6876
/// §3.8.5.2), the TLS client certificate does the rest.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExternalClient;

impl ClientMechanism for ExternalClient {
    fn name(&self) -> MechanismName {
        MechanismName::EXTERNAL
    }

    fn start(&self) -> Box<dyn ClientConversation> {
        Box::new(ExternalClientRun { answered: false })
    }
}

struct ExternalClientRun {
    answered: bool,
}

impl ClientConversation for ExternalClientRun {
    fn initial_response(&mut self) -> Bytes {
        Bytes::new()
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Bytes, SaslAbort> {
        // An empty challenge asks for the (empty) authorization identity, once.
        if challenge.is_empty() && !self.answered {
            self.answered = true;
            Ok(Bytes::new())
        } else {
            Err(SaslAbort)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Alice;
    impl CredentialCheck for Alice {
        fn check_plain(&self, authzid: &str, authcid: &str, password: &str) -> bool {
            authzid.is_empty() && authcid == "alice" && password == "s3cret"
        }
    }

    #[test]
    fn plain_client_message() {
        let c = PlainClient::new("alice", "s3cret").unwrap();
        let mut run = c.start();
        assert_eq!(&run.initial_response()[..], b"\0alice\0s3cret");
        assert_eq!(run.step(b""), Err(SaslAbort));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(PlainClient::new("a\0b", "x").is_none());
        assert!(PlainClient::new("a", &"x".repeat(256)).is_none());
        // PLAIN has one message: a challenge after the initial response aborts.
        let mut run = c.start();
        let _ = run.initial_response();
        assert_eq!(run.step(b""), Err(SaslAbort));
        let mut run = c.start();
        assert_eq!(run.finish(b""), Ok(()));
    }

    #[test]
    fn plain_server() {
        let s = PlainServer::new(Arc::new(Alice));
        let ctx = SaslContext::default();
        assert!(s.available(&ctx));
        let ok = s.start(&ctx).step(Some(b"\0alice\0s3cret"));
        assert_eq!(
            ok,
            ServerStep::Success {
                identity: "alice".into(),
                additional: Bytes::new()
            }
        );
        assert_eq!(
            s.start(&ctx).step(Some(b"\0alice\0wrong")),
            ServerStep::Failure
        );
        assert_eq!(
            s.start(&ctx).step(Some(b"alice\0s3cret")),
            ServerStep::Failure
        );
        assert_eq!(
            s.start(&ctx).step(Some(b"\0alice\0s3cret\0")),
            ServerStep::Failure
        );
        assert_eq!(s.start(&ctx).step(Some(b"\0\0s3cret")), ServerStep::Failure);
        assert_eq!(
            s.start(&ctx).step(Some(b"\0alice\0\xff")),
            ServerStep::Failure
        );
        let mut run = s.start(&ctx);
        assert_eq!(run.step(None), ServerStep::Challenge(Bytes::new()));
        assert!(matches!(
            run.step(Some(b"\0alice\0s3cret")),
            ServerStep::Success { .. }
        ));
        let mut run = s.start(&ctx);
        let _ = run.step(None);
        assert_eq!(run.step(Some(b"")), ServerStep::Failure);
        assert_eq!(
            format!("{:?}", ServerStep::Challenge(Bytes::from_static(b"pw"))),
            "Challenge(<2 bytes>)"
        );
    }

    struct Machine;
    impl CertificateCheck for Machine {
        fn check_certificate(&self, certificate: &[u8], authzid: &str) -> Option<String> {
            (certificate == b"DER" && authzid.is_empty()).then(|| "machine".to_owned())
        }
    }

    #[test]
    fn external() {
        let s = ExternalServer::new(Arc::new(Machine));
        assert!(!s.available(&SaslContext::default()));
        let ctx = SaslContext::new(Some(b"DER"));
        assert!(s.available(&ctx));
        assert!(
            matches!(s.start(&ctx).step(None), ServerStep::Success { identity, .. } if identity == "machine")
        );
        assert_eq!(s.start(&ctx).step(Some(b"root")), ServerStep::Failure);
        assert_eq!(s.start(&ctx).step(Some(b"\xff")), ServerStep::Failure);
        let other = SaslContext::new(Some(b"OTHER"));
        assert_eq!(s.start(&other).step(None), ServerStep::Failure);
        assert_eq!(
            s.start(&SaslContext::default()).step(None),
            ServerStep::Failure
        );
        let mut c = ExternalClient.start();
        assert!(c.initial_response().is_empty());
        assert_eq!(c.step(b""), Ok(Bytes::new()));
        assert_eq!(c.step(b""), Err(SaslAbort));
        assert_eq!(ExternalClient.name(), MechanismName::EXTERNAL);
    }
}
