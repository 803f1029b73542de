//! The OS posture collector plugin.

use if_imc::{Imc, ImcConnection, ImcInit, ImcMessage, MessageType, TncError};
use pa_tnc::{
    Attribute, AttributeRequest, AttributeType, IetfAttribute, InstalledPackages, Limits,
    PaAttribute,
};

use super::{OsPosture, OsSource};
use crate::common::{Received, receive, send_attributes};

/// The OS posture collector as an [`Imc`]: sends the endpoint's product information,
/// versions, operational status, forwarding and factory-default-password state at the start
/// of every handshake, and answers Attribute Requests (the package list only on request).
/// Malformed messages get a PA-TNC Error.
///
/// ```
/// use imcv::os::{LinuxSource, OsImc};
///
/// let mut broker = if_imc::Broker::new(if_imc::BrokerConfig::default());
/// broker.add_imc("os", Box::new(OsImc::new(LinuxSource::new()))).unwrap();
/// ```
pub struct OsImc {
    source: Box<dyn OsSource>,
    limits: Limits,
    posture: OsPosture,
}

impl core::fmt::Debug for OsImc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OsImc")
            .field("posture", &self.posture)
            .finish_non_exhaustive()
    }
}

impl OsImc {
    /// A collector reading from `source`.
    pub fn new(source: impl OsSource + 'static) -> Self {
        Self {
            source: Box::new(source),
            limits: Limits::default(),
            posture: OsPosture::default(),
        }
    }

    fn answer(&self, req: &AttributeRequest) -> Vec<Attribute> {
        let p = &self.posture;
        let mut out = Vec::new();
        for (vendor, kind) in req.entries() {
            if *vendor != nea_wire::VendorId::IETF {
                continue;
            }
            let a = match AttributeType(*kind) {
                AttributeType::PRODUCT_INFORMATION => {
                    p.product.as_ref().map(PaAttribute::to_attribute)
                }
                AttributeType::NUMERIC_VERSION => {
                    p.numeric_version.as_ref().map(PaAttribute::to_attribute)
                }
                AttributeType::STRING_VERSION => {
                    p.string_version.as_ref().map(PaAttribute::to_attribute)
                }
                AttributeType::OPERATIONAL_STATUS => {
                    p.operational_status.as_ref().map(PaAttribute::to_attribute)
                }
                AttributeType::FORWARDING_ENABLED => {
                    p.forwarding.as_ref().map(PaAttribute::to_attribute)
                }
                AttributeType::FACTORY_DEFAULT_PASSWORD_ENABLED => p
                    .factory_default_password
                    .as_ref()
                    .map(PaAttribute::to_attribute),
                AttributeType::INSTALLED_PACKAGES => p.packages.as_ref().and_then(|pk| {
                    InstalledPackages::new(pk.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                        .map(|x| x.to_attribute())
                }),
                _ => None,
            };
            out.extend(a);
        }
        out
    }
}

impl Imc for OsImc {
    fn initialize(&mut self, init: &mut ImcInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&[MessageType::OPERATING_SYSTEM]);
        Ok(())
    }

    fn begin_handshake(&mut self, conn: &mut ImcConnection<'_>) -> Result<(), TncError> {
        self.posture = match self.source.collect() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "OS posture not collected");
                OsPosture::default()
            }
        };
        let attrs = self.posture.summary_attributes();
        if let Err(e) = send_attributes(conn, None, MessageType::OPERATING_SYSTEM, attrs) {
            tracing::warn!(error = %e, "OS posture not sent");
        }
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImcConnection<'_>,
        m: &ImcMessage,
    ) -> Result<(), TncError> {
        let mut out = Vec::new();
        match receive(m.body.clone(), &self.limits, pa_tnc::is_known) {
            Received::Process(message) => {
                for a in &message.attributes {
                    match IetfAttribute::decode(a) {
                        Some(Ok(IetfAttribute::AttributeRequest(req))) => {
                            out.extend(self.answer(&req));
                        }
                        Some(Err(e)) => {
                            out.push(pa_tnc::value_error_reply(&message, 0, e).to_attribute());
                        }
                        _ => {}
                    }
                }
            }
            Received::Reject(error) => out.push(error),
            Received::Drop => {}
        }
        let to = Some(m.source.get()).filter(|_| !m.source.is_any());
        if let Err(e) = send_attributes(conn, to, MessageType::OPERATING_SYSTEM, out) {
            tracing::warn!(error = %e, "OS posture answer not sent");
        }
        Ok(())
    }
}
