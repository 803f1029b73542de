//! The OS posture verifier plugin.

use std::collections::HashMap;

use if_imv::{
    ActionRecommendation, ConnectionId, ConnectionState, EvaluationResult, ImcId, Imv,
    ImvConnection, ImvInit, ImvMessage, MessageType, TncError,
};
use nea_wire::VendorId;
use pa_tnc::{
    AttributeRequest, AttributeType, FactoryDefaultPasswordEnabled, ForwardingEnabled,
    IetfAttribute, Limits, PaAttribute,
};

use super::OsPosture;
use crate::Verdict;
use crate::common::{Received, endpoint_id, receive, send_attributes};
use crate::swima::DenyRule;

/// Where an [`OsImv`] reports each endpoint's posture and verdict (the manager's
/// repository). `()` ignores them.
pub trait OsSink: Send {
    /// The posture `endpoint` reported in this handshake and what the policy concluded.
    fn posture(&mut self, endpoint: &str, posture: &OsPosture, verdict: &Verdict);
}

impl OsSink for () {
    fn posture(&mut self, _: &str, _: &OsPosture, _: &Verdict) {}
}

/// The OS verifier's policy, most restrictive rule first: a denied package version → no
/// access; IP forwarding enabled → isolate; a factory default password → isolate; no OS
/// information at all → no recommendation; else allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsPolicy {
    /// Isolate an endpoint that forwards IP packets.
    pub isolate_forwarding: bool,
    /// Isolate an endpoint with a factory default password enabled.
    pub isolate_default_password: bool,
    /// Packages (name, versions) that deny access (the package list is asked for when any
    /// rule is set).
    pub deny_packages: Vec<DenyRule>,
}

impl Default for OsPolicy {
    fn default() -> Self {
        Self {
            isolate_forwarding: true,
            isolate_default_password: true,
            deny_packages: Vec::new(),
        }
    }
}

impl OsPolicy {
    /// The verdict on `p`.
    pub fn evaluate(&self, p: &OsPosture) -> Verdict {
        if *p == OsPosture::default() {
            return Verdict::with(
                ActionRecommendation::NoRecommendation,
                EvaluationResult::DontKnow,
                "no operating system information was received",
            );
        }
        for (name, version) in p.packages.iter().flatten() {
            if self
                .deny_packages
                .iter()
                .any(|r| r.matches(name, Some(version)))
            {
                return Verdict::with(
                    ActionRecommendation::NoAccess,
                    EvaluationResult::NonCompliantMajor,
                    format!("package {name} version {version} is not allowed"),
                );
            }
        }
        if self.isolate_forwarding && p.forwarding == Some(ForwardingEnabled::ENABLED) {
            return Verdict::with(
                ActionRecommendation::Isolate,
                EvaluationResult::NonCompliantMinor,
                "IP forwarding is enabled",
            );
        }
        if self.isolate_default_password
            && p.factory_default_password == Some(FactoryDefaultPasswordEnabled::YES)
        {
            return Verdict::with(
                ActionRecommendation::Isolate,
                EvaluationResult::NonCompliantMinor,
                "a factory default password is enabled",
            );
        }
        Verdict::allow()
    }

    /// The attribute types this policy needs (Product Information to know an OS answered).
    fn needed(&self) -> Vec<AttributeType> {
        let mut t = vec![AttributeType::PRODUCT_INFORMATION];
        if self.isolate_forwarding {
            t.push(AttributeType::FORWARDING_ENABLED);
        }
        if self.isolate_default_password {
            t.push(AttributeType::FACTORY_DEFAULT_PASSWORD_ENABLED);
        }
        if !self.deny_packages.is_empty() {
            t.push(AttributeType::INSTALLED_PACKAGES);
        }
        t
    }
}

#[derive(Default)]
struct Conn {
    endpoint: String,
    posture: OsPosture,
    imc: Option<ImcId>,
    asked: bool,
}

/// The OS posture verifier as an [`Imv`]: collects what the endpoint's OS collector sends,
/// asks (Attribute Request) for what the [`OsPolicy`] needs and is missing (the package list
/// when a package rule is set), recommends per the policy with an English reason string,
/// and reports to the [`OsSink`].
///
/// ```
/// use imcv::os::{OsImv, OsPolicy};
/// use imcv::swima::DenyRule;
///
/// let policy = OsPolicy {
///     deny_packages: vec![DenyRule::new("openssl", &["1.1.1n-0+deb11u3"])],
///     ..OsPolicy::default()
/// };
/// let mut broker = if_imv::Broker::new(if_imv::BrokerConfig::default());
/// broker.add_imv("os", Box::new(OsImv::new((), policy))).unwrap();
/// ```
pub struct OsImv<K: OsSink> {
    sink: K,
    policy: OsPolicy,
    limits: Limits,
    /// Boxed: the table keeps spare slots, each the size of its value.
    conns: HashMap<ConnectionId, Box<Conn>>,
}

impl<K: OsSink> core::fmt::Debug for OsImv<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OsImv")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<K: OsSink> OsImv<K> {
    /// A verifier applying `policy` and reporting to `sink`.
    pub fn new(sink: K, policy: OsPolicy) -> Self {
        Self {
            sink,
            policy,
            limits: Limits::default(),
            conns: HashMap::new(),
        }
    }

    /// The sink.
    pub fn sink(&self) -> &K {
        &self.sink
    }
}

fn missing(p: &OsPosture, t: AttributeType) -> bool {
    match t {
        AttributeType::PRODUCT_INFORMATION => p.product.is_none(),
        AttributeType::FORWARDING_ENABLED => p.forwarding.is_none(),
        AttributeType::FACTORY_DEFAULT_PASSWORD_ENABLED => p.factory_default_password.is_none(),
        AttributeType::INSTALLED_PACKAGES => p.packages.is_none(),
        _ => false,
    }
}

impl<K: OsSink + 'static> Imv for OsImv<K> {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::OPERATING_SYSTEM]);
        Ok(())
    }

    fn notify_connection_change(
        &mut self,
        conn: &mut ImvConnection<'_>,
        state: ConnectionState,
    ) -> Result<(), TncError> {
        match state {
            ConnectionState::Create => {
                let endpoint = endpoint_id(conn);
                self.conns.insert(
                    conn.id(),
                    Box::new(Conn {
                        endpoint,
                        ..Conn::default()
                    }),
                );
            }
            // Each handshake judges what it receives.
            ConnectionState::Handshake => {
                if let Some(c) = self.conns.get_mut(&conn.id()) {
                    c.posture = OsPosture::default();
                    c.asked = false;
                }
            }
            ConnectionState::Delete => {
                self.conns.remove(&conn.id());
            }
            _ => {}
        }
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        let Some(c) = self.conns.get_mut(&conn.id()) else {
            return Ok(());
        };
        if !m.source.is_any() {
            c.imc = Some(m.source);
        }
        let mut out = Vec::new();
        match receive(m.body.clone(), &self.limits, pa_tnc::is_known) {
            Received::Process(message) => {
                for a in &message.attributes {
                    match IetfAttribute::decode(a) {
                        Some(Ok(x)) => {
                            c.posture.absorb(x);
                        }
                        Some(Err(e)) => {
                            out.push(pa_tnc::value_error_reply(&message, 0, e).to_attribute());
                        }
                        None => {}
                    }
                }
            }
            Received::Reject(error) => out.push(error),
            Received::Drop => {}
        }
        let to = c.imc.map(ImcId::get);
        if let Err(e) = send_attributes(conn, to, MessageType::OPERATING_SYSTEM, out) {
            tracing::debug!(error = %e, "PA-TNC error not sent");
        }
        Ok(())
    }

    fn batch_ending(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let Some(c) = self.conns.get_mut(&conn.id()) else {
            return Ok(());
        };
        if c.asked {
            return Ok(());
        }
        c.asked = true;
        let wanted: Vec<(VendorId, u32)> = self
            .policy
            .needed()
            .into_iter()
            .filter(|t| missing(&c.posture, *t))
            .map(|t| (VendorId::IETF, t.0))
            .collect();
        if let Some(req) = AttributeRequest::new(wanted) {
            let to = c.imc.map(ImcId::get);
            send_attributes(
                conn,
                to,
                MessageType::OPERATING_SYSTEM,
                vec![req.to_attribute()],
            )?;
        }
        Ok(())
    }

    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        let Some(c) = self.conns.get(&conn.id()) else {
            return Ok(());
        };
        let verdict = self.policy.evaluate(&c.posture);
        self.sink.posture(&c.endpoint, &c.posture, &verdict);
        verdict.provide(conn);
        Ok(())
    }
}
