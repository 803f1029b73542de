//! Operating-system posture (RFC 5792 §4.2): [`OsImc`] reports the endpoint's product
//! information, versions, operational status, IP forwarding, factory default password and
//! installed packages from an [`OsSource`] ([`LinuxSource`] reads os-release, sysctl and the
//! dpkg database); [`OsImv`] applies a small [`OsPolicy`] and hands what it saw to an
//! [`OsSink`].

mod imc;
mod imv;
mod source;

pub use imc::OsImc;
pub use imv::{OsImv, OsPolicy, OsSink};
pub use source::{LinuxSource, OsError, OsSource};

use pa_tnc::{
    Attribute, FactoryDefaultPasswordEnabled, ForwardingEnabled, IetfAttribute, NumericVersion,
    OperationalStatus, PaAttribute, ProductInformation, StringVersion,
};

/// An endpoint's OS posture: what an [`OsSource`] collects and what an [`OsImv`] received
/// (every field optional: a collector may not know, a client may not send).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsPosture {
    /// Product Information (§4.2.2).
    pub product: Option<ProductInformation>,
    /// Numeric Version (§4.2.3).
    pub numeric_version: Option<NumericVersion>,
    /// String Version (§4.2.4).
    pub string_version: Option<StringVersion>,
    /// Operational Status (§4.2.5).
    pub operational_status: Option<OperationalStatus>,
    /// Forwarding Enabled (§4.2.11).
    pub forwarding: Option<ForwardingEnabled>,
    /// Factory Default Password Enabled (§4.2.12).
    pub factory_default_password: Option<FactoryDefaultPasswordEnabled>,
    /// Installed Packages (§4.2.7): (name, version).
    pub packages: Option<Vec<(String, String)>>,
}

impl OsPosture {
    /// The attributes sent at the start of a handshake: everything but the package list,
    /// which goes only to a verifier that asks for it.
    pub(crate) fn summary_attributes(&self) -> Vec<Attribute> {
        let mut out = Vec::new();
        if let Some(x) = &self.product {
            out.push(x.to_attribute());
        }
        if let Some(x) = &self.numeric_version {
            out.push(x.to_attribute());
        }
        if let Some(x) = &self.string_version {
            out.push(x.to_attribute());
        }
        if let Some(x) = &self.operational_status {
            out.push(x.to_attribute());
        }
        if let Some(x) = &self.forwarding {
            out.push(x.to_attribute());
        }
        if let Some(x) = &self.factory_default_password {
            out.push(x.to_attribute());
        }
        out
    }

    /// Takes in one received attribute; false if it is not an OS posture attribute.
    pub(crate) fn absorb(&mut self, a: IetfAttribute) -> bool {
        match a {
            IetfAttribute::ProductInformation(x) => self.product = Some(x),
            IetfAttribute::NumericVersion(x) => self.numeric_version = Some(x),
            IetfAttribute::StringVersion(x) => self.string_version = Some(x),
            IetfAttribute::OperationalStatus(x) => self.operational_status = Some(x),
            IetfAttribute::ForwardingEnabled(x) => self.forwarding = Some(x),
            IetfAttribute::FactoryDefaultPasswordEnabled(x) => {
                self.factory_default_password = Some(x);
            }
            IetfAttribute::InstalledPackages(p) => {
                self.packages = Some(
                    p.packages()
                        .iter()
                        .map(|(n, v)| (n.as_str().to_owned(), v.as_str().to_owned()))
                        .collect(),
                );
            }
            _ => return false,
        }
        true
    }
}
