//! Capability URIs (RFC 6241 §8) and the YANG module parameters of RFC 6020 §5.6.4.
//!
//! ```text
//! urn:ietf:params:netconf:capability:candidate:1.0
//! urn:ietf:params:xml:ns:yang:ietf-system?module=ietf-system&revision=2014-08-06
//!                                        &features=ntp,radius&deviations=my-dev
//! ```

/// RFC 6241 §8.1 / RFC 6242: base protocol 1.0 (end-of-message framing).
pub const BASE_1_0: &str = "urn:ietf:params:netconf:base:1.0";
/// RFC 6241 §8.1 / RFC 6242: base protocol 1.1 (chunked framing).
pub const BASE_1_1: &str = "urn:ietf:params:netconf:base:1.1";
/// RFC 6241 §8.2.
pub const WRITABLE_RUNNING: &str = "urn:ietf:params:netconf:capability:writable-running:1.0";
/// RFC 6241 §8.3.
pub const CANDIDATE: &str = "urn:ietf:params:netconf:capability:candidate:1.0";
/// RFC 6241 §8.4 (1.1 adds `<persist>` and `<cancel-commit>`).
pub const CONFIRMED_COMMIT_1_1: &str = "urn:ietf:params:netconf:capability:confirmed-commit:1.1";
/// RFC 6241 §8.5.
pub const ROLLBACK_ON_ERROR: &str = "urn:ietf:params:netconf:capability:rollback-on-error:1.0";
/// RFC 6241 §8.6.
pub const VALIDATE_1_1: &str = "urn:ietf:params:netconf:capability:validate:1.1";
/// RFC 6241 §8.7.
pub const STARTUP: &str = "urn:ietf:params:netconf:capability:startup:1.0";
/// RFC 6241 §8.8 (carries a `scheme` parameter).
pub const URL: &str = "urn:ietf:params:netconf:capability:url:1.0";
/// RFC 6241 §8.9.
pub const XPATH: &str = "urn:ietf:params:netconf:capability:xpath:1.0";
/// RFC 5277 §3.1.
pub const NOTIFICATION: &str = "urn:ietf:params:netconf:capability:notification:1.0";
/// RFC 5277 §6.
pub const INTERLEAVE: &str = "urn:ietf:params:netconf:capability:interleave:1.0";
/// RFC 6243 §4 (carries `basic-mode` and `also-supported`).
pub const WITH_DEFAULTS: &str = "urn:ietf:params:netconf:capability:with-defaults:1.0";
/// RFC 6022: the ietf-netconf-monitoring module (get-schema).
pub const MONITORING_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
/// RFC 8526: the ietf-netconf-nmda module (get-data, edit-data).
pub const NMDA_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda";

/// One capability URI with its query parameters split out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    uri: String,
    base_len: usize,
    /// `module=` (RFC 6020 §5.6.4).
    pub module: Option<String>,
    /// `revision=`.
    pub revision: Option<String>,
    /// `features=` (comma-separated list).
    pub features: Vec<String>,
    /// `deviations=` (comma-separated list).
    pub deviations: Vec<String>,
}

impl Capability {
    /// Parses a capability URI. Never fails: unknown parameters stay in [`Self::param`].
    #[must_use]
    pub fn parse(uri: &str) -> Self {
        let uri = uri.trim().to_owned();
        let base_len = uri.find('?').unwrap_or(uri.len());
        let mut cap = Self {
            base_len,
            module: None,
            revision: None,
            features: Vec::new(),
            deviations: Vec::new(),
            uri,
        };
        let mut module = None;
        let mut revision = None;
        let mut features = Vec::new();
        let mut deviations = Vec::new();
        for (k, v) in cap.params() {
            match k {
                "module" => module = Some(percent_decode(v)),
                "revision" => revision = Some(percent_decode(v)),
                "features" => features = split_list(v),
                "deviations" => deviations = split_list(v),
                _ => {}
            }
        }
        cap.module = module;
        cap.revision = revision;
        cap.features = features;
        cap.deviations = deviations;
        cap
    }

    /// The whole URI as announced.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The URI without its `?query`.
    #[must_use]
    pub fn base(&self) -> &str {
        self.uri.get(..self.base_len).unwrap_or(&self.uri)
    }

    /// Query parameters as `(name, raw value)` pairs, in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.uri
            .get(self.base_len..)
            .and_then(|q| q.strip_prefix('?'))
            .unwrap_or("")
            .split(['&', ';'])
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }

    /// The raw value of query parameter `name` (percent-decoded).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| percent_decode(v))
    }
}

fn split_list(v: &str) -> Vec<String> {
    percent_decode(v)
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| (*x as char).to_digit(16)),
                b.get(i + 2).and_then(|x| (*x as char).to_digit(16)),
            )
            && let Ok(v) = u8::try_from(h * 16 + l)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The capabilities a peer announced in its `<hello>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(Vec<Capability>);

impl Capabilities {
    /// Builds the set from URIs.
    pub fn from_uris<'a>(uris: impl IntoIterator<Item = &'a str>) -> Self {
        Self(uris.into_iter().map(Capability::parse).collect())
    }

    pub(crate) fn push(&mut self, c: Capability) {
        self.0.push(c);
    }

    /// Number of capabilities.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none was announced.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All capabilities, in announced order.
    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter()
    }

    /// The capability whose URI without query is `base`.
    #[must_use]
    pub fn find(&self, base: &str) -> Option<&Capability> {
        self.0.iter().find(|c| c.base() == base)
    }

    /// Whether a capability whose URI without query is `base` was announced.
    #[must_use]
    pub fn has(&self, base: &str) -> bool {
        self.find(base).is_some()
    }

    /// The capability announcing YANG module `module`, if any.
    #[must_use]
    pub fn module(&self, module: &str) -> Option<&Capability> {
        self.0.iter().find(|c| c.module.as_deref() == Some(module))
    }

    /// base:1.1 announced.
    #[must_use]
    pub fn base11(&self) -> bool {
        self.has(BASE_1_1)
    }

    /// :candidate announced.
    #[must_use]
    pub fn candidate(&self) -> bool {
        self.has(CANDIDATE)
    }

    /// :writable-running announced.
    #[must_use]
    pub fn writable_running(&self) -> bool {
        self.has(WRITABLE_RUNNING)
    }

    /// :startup announced.
    #[must_use]
    pub fn startup(&self) -> bool {
        self.has(STARTUP)
    }

    /// :confirmed-commit (1.0 or 1.1) announced.
    #[must_use]
    pub fn confirmed_commit(&self) -> bool {
        self.0.iter().any(|c| {
            c.base()
                .starts_with("urn:ietf:params:netconf:capability:confirmed-commit:")
        })
    }

    /// :validate (1.0 or 1.1) announced.
    #[must_use]
    pub fn validate(&self) -> bool {
        self.0.iter().any(|c| {
            c.base()
                .starts_with("urn:ietf:params:netconf:capability:validate:")
        })
    }

    /// :xpath announced.
    #[must_use]
    pub fn xpath(&self) -> bool {
        self.has(XPATH)
    }

    /// :notification (RFC 5277) announced.
    #[must_use]
    pub fn notification(&self) -> bool {
        self.has(NOTIFICATION)
    }

    /// :interleave (RFC 5277 §6) announced.
    #[must_use]
    pub fn interleave(&self) -> bool {
        self.has(INTERLEAVE)
    }

    /// :with-defaults basic-mode (RFC 6243 §4.3), if announced.
    #[must_use]
    pub fn with_defaults_basic_mode(&self) -> Option<String> {
        self.find(WITH_DEFAULTS)?.param("basic-mode")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_params() {
        let c = Capability::parse(
            "urn:ietf:params:xml:ns:yang:ietf-system?module=ietf-system&revision=2014-08-06&features=ntp,radius,authentication&deviations=x-dev",
        );
        assert_eq!(c.base(), "urn:ietf:params:xml:ns:yang:ietf-system");
        assert_eq!(c.module.as_deref(), Some("ietf-system"));
        assert_eq!(c.revision.as_deref(), Some("2014-08-06"));
        assert_eq!(c.features, ["ntp", "radius", "authentication"]);
        assert_eq!(c.deviations, ["x-dev"]);
    }

    #[test]
    fn plain_and_params() {
        let c = Capability::parse(
            " urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all,trim ",
        );
        assert_eq!(c.base(), WITH_DEFAULTS);
        assert_eq!(c.param("basic-mode").as_deref(), Some("explicit"));
        assert_eq!(c.module, None);
        let c = Capability::parse("urn:x?module=a%2Db");
        assert_eq!(c.module.as_deref(), Some("a-b"));
        let caps = Capabilities::from_uris([BASE_1_0, BASE_1_1, CANDIDATE]);
        assert!(caps.base11() && caps.candidate() && !caps.startup());
    }
}
