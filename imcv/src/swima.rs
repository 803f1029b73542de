//! SWIMA (RFC 8412) as plugins: [`SwimaImc`] answers a validator's requests from a
//! `swima::Collector`; [`SwimaImv`] mirrors an endpoint's inventory with a `swima::Validator`
//! and reports it through a [`SwimaSink`]; a [`SwimaPolicy`] turns it into a recommendation.
//!
//! Both send their attributes in PA-TNC messages of type IETF/SWIMA, exclusively to the
//! peer that asked, and cut an attribute larger than the peer accepts into TCG IF-M segments
//! (the verifier proposes the segmentation contract with its first request).

mod imc;
mod imv;
mod policy;

pub use imc::{SOURCE_ID, SwimaImc, SwimaImcConfig, SwimaImcHandle};
pub use imv::{SoftwareChange, SwimaImv, SwimaImvConfig, SwimaSink};
pub use policy::{DenyList, DenyRule, SoftwareName, SwimaPolicy, software_name};

use nea_wire::VendorId;

/// Attribute types a SWIMA plugin processes: SWIMA (IETF 13–21), the RFC 5792 set and the
/// TCG segmentation set (for [`pa_tnc::receive`]'s NOSKIP rule).
pub(crate) fn supported(vendor: VendorId, kind: u32) -> bool {
    pa_tnc::is_known(vendor, kind) || swima::SwimaAttribute::is_swima(vendor, kind)
}
