//! The operations a client sends inside `<rpc>` (RFC 6241 §7, RFC 5277, RFC 6022, RFC 6243,
//! RFC 8526, RFC 8639/8640), encoded as XML.
//!
//! ```text
//! <rpc message-id="N" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
//!   <get-config><source><running/></source><filter type="subtree">…</filter></get-config>
//! </rpc>
//! ```
//! Caller-supplied XML (filters, config, raw RPCs) is inserted verbatim; strings are escaped.

use std::fmt::Write as _;

use crate::xml::escape;

/// RFC 6243 with-defaults namespace.
pub const NS_WITH_DEFAULTS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults";
/// RFC 6022 monitoring namespace (get-schema).
pub const NS_MONITORING: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
/// RFC 8526 NMDA namespace (get-data, edit-data).
pub const NS_NMDA: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda";
/// RFC 8342 datastores namespace (datastore identities).
pub const NS_DATASTORES: &str = "urn:ietf:params:xml:ns:yang:ietf-datastores";
/// RFC 8639 subscribed-notifications namespace.
pub const NS_SUBSCRIBED: &str = "urn:ietf:params:xml:ns:yang:ietf-subscribed-notifications";

/// A configuration datastore (RFC 6241 §5.1) used as source or target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datastore {
    /// `<running/>`.
    Running,
    /// `<candidate/>` (:candidate).
    Candidate,
    /// `<startup/>` (:startup).
    Startup,
    /// `<url>…</url>` (:url).
    Url(String),
    /// An inline `<config>…</config>` (source of copy-config and validate only): raw XML.
    Config(String),
}

impl Datastore {
    fn write(&self, s: &mut String) {
        match self {
            Self::Running => s.push_str("<running/>"),
            Self::Candidate => s.push_str("<candidate/>"),
            Self::Startup => s.push_str("<startup/>"),
            Self::Url(u) => {
                let _ = write!(s, "<url>{}</url>", escape(u));
            }
            Self::Config(c) => {
                let _ = write!(s, "<config>{c}</config>");
            }
        }
    }
}

/// A `<filter>` (RFC 6241 §6 subtree, §8.9 XPath).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Subtree filter: raw XML of the filter content.
    Subtree(String),
    /// XPath filter (:xpath) with the namespace prefixes the expression uses.
    XPath {
        /// The `select` expression.
        select: String,
        /// `(prefix, namespace URI)` declarations put on `<filter>`.
        namespaces: Vec<(String, String)>,
    },
}

impl Filter {
    /// An XPath filter without prefixes.
    #[must_use]
    pub fn xpath(select: impl Into<String>) -> Self {
        Self::XPath {
            select: select.into(),
            namespaces: Vec::new(),
        }
    }

    fn write(&self, s: &mut String, elem: &str, ns_attr: &str) {
        match self {
            Self::Subtree(x) => {
                let _ = write!(s, "<{elem}{ns_attr} type=\"subtree\">{x}</{elem}>");
            }
            Self::XPath { select, namespaces } => {
                let _ = write!(s, "<{elem}{ns_attr} type=\"xpath\"");
                for (p, u) in namespaces {
                    let _ = write!(s, " xmlns:{}=\"{}\"", escape(p), escape(u));
                }
                let _ = write!(s, " select=\"{}\"/>", escape(select));
            }
        }
    }
}

/// RFC 6243 `<with-defaults>` retrieval mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithDefaults {
    /// `report-all`.
    ReportAll,
    /// `report-all-tagged`.
    ReportAllTagged,
    /// `trim`.
    Trim,
    /// `explicit`.
    Explicit,
}

impl WithDefaults {
    fn as_str(self) -> &'static str {
        match self {
            Self::ReportAll => "report-all",
            Self::ReportAllTagged => "report-all-tagged",
            Self::Trim => "trim",
            Self::Explicit => "explicit",
        }
    }

    fn write(self, s: &mut String, ns: &str) {
        let _ = write!(
            s,
            "<with-defaults xmlns=\"{ns}\">{}</with-defaults>",
            self.as_str()
        );
    }
}

/// edit-config `<default-operation>` (RFC 6241 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultOperation {
    /// `merge` (the server's default).
    Merge,
    /// `replace`.
    Replace,
    /// `none`.
    None,
}

impl DefaultOperation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Replace => "replace",
            Self::None => "none",
        }
    }
}

/// edit-config `<test-option>` (:validate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOption {
    /// `test-then-set`.
    TestThenSet,
    /// `set`.
    Set,
    /// `test-only` (:validate:1.1).
    TestOnly,
}

/// edit-config `<error-option>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorOption {
    /// `stop-on-error`.
    StopOnError,
    /// `continue-on-error`.
    ContinueOnError,
    /// `rollback-on-error` (:rollback-on-error).
    RollbackOnError,
}

/// `<edit-config>` (RFC 6241 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditConfig {
    /// Target datastore.
    pub target: Datastore,
    /// Raw XML of the `<config>` content, or `Url` to load it from.
    pub config: EditContent,
    /// `<default-operation>`.
    pub default_operation: Option<DefaultOperation>,
    /// `<test-option>`.
    pub test_option: Option<TestOption>,
    /// `<error-option>`.
    pub error_option: Option<ErrorOption>,
}

/// The edit content of edit-config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditContent {
    /// `<config>` with this raw XML content.
    Config(String),
    /// `<url>` (:url).
    Url(String),
}

impl EditConfig {
    /// An edit of `target` with the given raw `<config>` content and server defaults.
    #[must_use]
    pub fn new(target: Datastore, config: impl Into<String>) -> Self {
        Self {
            target,
            config: EditContent::Config(config.into()),
            default_operation: None,
            test_option: None,
            error_option: None,
        }
    }
}

/// `<commit>` (RFC 6241 §8.3.4.1, §8.4.5.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commit {
    /// `<confirmed/>`.
    pub confirmed: bool,
    /// `<confirm-timeout>` seconds (default 600 on the server).
    pub confirm_timeout: Option<u32>,
    /// `<persist>` (:confirmed-commit:1.1).
    pub persist: Option<String>,
    /// `<persist-id>` confirming a persistent confirmed commit.
    pub persist_id: Option<String>,
}

/// An RFC 8342 datastore identity for get-data / edit-data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NmdaDatastore {
    /// `ds:running`.
    Running,
    /// `ds:candidate`.
    Candidate,
    /// `ds:startup`.
    Startup,
    /// `ds:intended`.
    Intended,
    /// `ds:operational`.
    Operational,
}

impl NmdaDatastore {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Running => "ds:running",
            Self::Candidate => "ds:candidate",
            Self::Startup => "ds:startup",
            Self::Intended => "ds:intended",
            Self::Operational => "ds:operational",
        }
    }
}

/// `<get-data>` (RFC 8526 §3.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetData {
    /// `<datastore>`.
    pub datastore: NmdaDatastore,
    /// `<subtree-filter>` or `<xpath-filter>`.
    pub filter: Option<Filter>,
    /// `<config-filter>`.
    pub config_filter: Option<bool>,
    /// `<max-depth>` (`None`: unbounded).
    pub max_depth: Option<u16>,
    /// `<with-origin/>`.
    pub with_origin: bool,
    /// `<with-defaults>`.
    pub with_defaults: Option<WithDefaults>,
}

impl GetData {
    /// A get-data of a whole datastore.
    #[must_use]
    pub fn new(datastore: NmdaDatastore) -> Self {
        Self {
            datastore,
            filter: None,
            config_filter: None,
            max_depth: None,
            with_origin: false,
            with_defaults: None,
        }
    }
}

/// `<establish-subscription>` (RFC 8639 §2.4.2) to an event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstablishSubscription {
    /// `<stream>` name (e.g. `NETCONF`).
    pub stream: String,
    /// `<stream-subtree-filter>` / `<stream-xpath-filter>`.
    pub filter: Option<Filter>,
    /// `<replay-start-time>`.
    pub replay_start_time: Option<String>,
    /// `<stop-time>`.
    pub stop_time: Option<String>,
}

/// One NETCONF operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// `<get>` (RFC 6241 §7.7).
    Get {
        /// Filter.
        filter: Option<Filter>,
        /// RFC 6243 mode.
        with_defaults: Option<WithDefaults>,
    },
    /// `<get-config>` (§7.1).
    GetConfig {
        /// Source datastore.
        source: Datastore,
        /// Filter.
        filter: Option<Filter>,
        /// RFC 6243 mode.
        with_defaults: Option<WithDefaults>,
    },
    /// `<edit-config>` (§7.2).
    EditConfig(EditConfig),
    /// `<copy-config>` (§7.3).
    CopyConfig {
        /// Target.
        target: Datastore,
        /// Source (a datastore, URL or inline config).
        source: Datastore,
    },
    /// `<delete-config>` (§7.4).
    DeleteConfig {
        /// Target (not running).
        target: Datastore,
    },
    /// `<lock>` (§7.5).
    Lock {
        /// Target.
        target: Datastore,
    },
    /// `<unlock>` (§7.6).
    Unlock {
        /// Target.
        target: Datastore,
    },
    /// `<close-session>` (§7.8).
    CloseSession,
    /// `<kill-session>` (§7.9).
    KillSession {
        /// The session to end.
        session_id: u32,
    },
    /// `<commit>` (§8.3.4.1, confirmed §8.4.5.1).
    Commit(Commit),
    /// `<cancel-commit>` (§8.4.4.1).
    CancelCommit {
        /// `<persist-id>`.
        persist_id: Option<String>,
    },
    /// `<discard-changes>` (§8.3.4.2).
    DiscardChanges,
    /// `<validate>` (§8.6.4.1).
    Validate {
        /// Source.
        source: Datastore,
    },
    /// `<get-schema>` (RFC 6022 §3.1).
    GetSchema {
        /// `<identifier>` (module name).
        identifier: String,
        /// `<version>` (revision).
        version: Option<String>,
        /// `<format>` (e.g. `yang`).
        format: Option<String>,
    },
    /// `<get-data>` (RFC 8526).
    GetData(GetData),
    /// `<edit-data>` (RFC 8526 §3.1.2).
    EditData {
        /// Datastore.
        datastore: NmdaDatastore,
        /// `<default-operation>`.
        default_operation: Option<DefaultOperation>,
        /// Raw XML of the `<config>` content.
        config: String,
    },
    /// `<create-subscription>` (RFC 5277 §2.1.1).
    CreateSubscription {
        /// `<stream>` (default `NETCONF`).
        stream: Option<String>,
        /// `<filter>`.
        filter: Option<Filter>,
        /// `<startTime>` (replay).
        start_time: Option<String>,
        /// `<stopTime>`.
        stop_time: Option<String>,
    },
    /// `<establish-subscription>` (RFC 8639 §2.4.2, over NETCONF per RFC 8640).
    EstablishSubscription(EstablishSubscription),
    /// `<modify-subscription>` (RFC 8639 §2.4.3).
    ModifySubscription {
        /// Subscription id.
        id: u32,
        /// New filter.
        filter: Option<Filter>,
        /// New `<stop-time>`.
        stop_time: Option<String>,
    },
    /// `<delete-subscription>` (RFC 8639 §2.4.4).
    DeleteSubscription {
        /// Subscription id.
        id: u32,
    },
    /// `<kill-subscription>` (RFC 8639 §2.4.4).
    KillSubscription {
        /// Subscription id.
        id: u32,
    },
    /// Any other RPC: raw XML put inside `<rpc>` (one well-formed element).
    Raw(String),
}

fn opt_filter(s: &mut String, f: Option<&Filter>) {
    if let Some(f) = f {
        f.write(s, "filter", "");
    }
}

fn leaf(s: &mut String, name: &str, v: &str) {
    let _ = write!(s, "<{name}>{}</{name}>", escape(v));
}

impl Operation {
    /// `<get>` with an optional filter.
    #[must_use]
    pub fn get(filter: Option<Filter>) -> Self {
        Self::Get {
            filter,
            with_defaults: None,
        }
    }

    /// `<get-config>` of `source` with an optional filter.
    #[must_use]
    pub fn get_config(source: Datastore, filter: Option<Filter>) -> Self {
        Self::GetConfig {
            source,
            filter,
            with_defaults: None,
        }
    }

    /// The operation's element name (for logs and errors).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Get { .. } => "get",
            Self::GetConfig { .. } => "get-config",
            Self::EditConfig(_) => "edit-config",
            Self::CopyConfig { .. } => "copy-config",
            Self::DeleteConfig { .. } => "delete-config",
            Self::Lock { .. } => "lock",
            Self::Unlock { .. } => "unlock",
            Self::CloseSession => "close-session",
            Self::KillSession { .. } => "kill-session",
            Self::Commit(_) => "commit",
            Self::CancelCommit { .. } => "cancel-commit",
            Self::DiscardChanges => "discard-changes",
            Self::Validate { .. } => "validate",
            Self::GetSchema { .. } => "get-schema",
            Self::GetData(_) => "get-data",
            Self::EditData { .. } => "edit-data",
            Self::CreateSubscription { .. } => "create-subscription",
            Self::EstablishSubscription(_) => "establish-subscription",
            Self::ModifySubscription { .. } => "modify-subscription",
            Self::DeleteSubscription { .. } => "delete-subscription",
            Self::KillSubscription { .. } => "kill-subscription",
            Self::Raw(_) => "rpc",
        }
    }

    /// Appends the operation element (the content of `<rpc>`).
    pub fn write(&self, s: &mut String) {
        match self {
            Self::Get {
                filter,
                with_defaults,
            } => {
                s.push_str("<get>");
                opt_filter(s, filter.as_ref());
                if let Some(w) = with_defaults {
                    w.write(s, NS_WITH_DEFAULTS);
                }
                s.push_str("</get>");
            }
            Self::GetConfig {
                source,
                filter,
                with_defaults,
            } => {
                s.push_str("<get-config><source>");
                source.write(s);
                s.push_str("</source>");
                opt_filter(s, filter.as_ref());
                if let Some(w) = with_defaults {
                    w.write(s, NS_WITH_DEFAULTS);
                }
                s.push_str("</get-config>");
            }
            Self::EditConfig(e) => {
                s.push_str("<edit-config><target>");
                e.target.write(s);
                s.push_str("</target>");
                if let Some(d) = e.default_operation {
                    leaf(s, "default-operation", d.as_str());
                }
                if let Some(t) = e.test_option {
                    let v = match t {
                        TestOption::TestThenSet => "test-then-set",
                        TestOption::Set => "set",
                        TestOption::TestOnly => "test-only",
                    };
                    leaf(s, "test-option", v);
                }
                if let Some(o) = e.error_option {
                    let v = match o {
                        ErrorOption::StopOnError => "stop-on-error",
                        ErrorOption::ContinueOnError => "continue-on-error",
                        ErrorOption::RollbackOnError => "rollback-on-error",
                    };
                    leaf(s, "error-option", v);
                }
                match &e.config {
                    EditContent::Config(c) => {
                        let _ = write!(s, "<config>{c}</config>");
                    }
                    EditContent::Url(u) => leaf(s, "url", u),
                }
                s.push_str("</edit-config>");
            }
            Self::CopyConfig { target, source } => {
                s.push_str("<copy-config><target>");
                target.write(s);
                s.push_str("</target><source>");
                source.write(s);
                s.push_str("</source></copy-config>");
            }
            Self::DeleteConfig { target } => {
                s.push_str("<delete-config><target>");
                target.write(s);
                s.push_str("</target></delete-config>");
            }
            Self::Lock { target } => {
                s.push_str("<lock><target>");
                target.write(s);
                s.push_str("</target></lock>");
            }
            Self::Unlock { target } => {
                s.push_str("<unlock><target>");
                target.write(s);
                s.push_str("</target></unlock>");
            }
            Self::CloseSession => s.push_str("<close-session/>"),
            Self::KillSession { session_id } => {
                let _ = write!(
                    s,
                    "<kill-session><session-id>{session_id}</session-id></kill-session>"
                );
            }
            Self::Commit(c) => {
                s.push_str("<commit>");
                if c.confirmed {
                    s.push_str("<confirmed/>");
                }
                if let Some(t) = c.confirm_timeout {
                    let _ = write!(s, "<confirm-timeout>{t}</confirm-timeout>");
                }
                if let Some(p) = &c.persist {
                    leaf(s, "persist", p);
                }
                if let Some(p) = &c.persist_id {
                    leaf(s, "persist-id", p);
                }
                s.push_str("</commit>");
            }
            Self::CancelCommit { persist_id } => match persist_id {
                Some(p) => {
                    s.push_str("<cancel-commit>");
                    leaf(s, "persist-id", p);
                    s.push_str("</cancel-commit>");
                }
                None => s.push_str("<cancel-commit/>"),
            },
            Self::DiscardChanges => s.push_str("<discard-changes/>"),
            Self::Validate { source } => {
                s.push_str("<validate><source>");
                source.write(s);
                s.push_str("</source></validate>");
            }
            Self::GetSchema {
                identifier,
                version,
                format,
            } => {
                let _ = write!(s, "<get-schema xmlns=\"{NS_MONITORING}\">");
                leaf(s, "identifier", identifier);
                if let Some(v) = version {
                    leaf(s, "version", v);
                }
                if let Some(f) = format {
                    leaf(s, "format", f);
                }
                s.push_str("</get-schema>");
            }
            Self::GetData(g) => {
                let _ = write!(
                    s,
                    "<get-data xmlns=\"{NS_NMDA}\" xmlns:ds=\"{NS_DATASTORES}\"><datastore>{}</datastore>",
                    g.datastore.as_str()
                );
                match &g.filter {
                    Some(Filter::Subtree(x)) => {
                        let _ = write!(s, "<subtree-filter>{x}</subtree-filter>");
                    }
                    Some(Filter::XPath { select, namespaces }) => {
                        s.push_str("<xpath-filter");
                        for (p, u) in namespaces {
                            let _ = write!(s, " xmlns:{}=\"{}\"", escape(p), escape(u));
                        }
                        let _ = write!(s, ">{}</xpath-filter>", escape(select));
                    }
                    None => {}
                }
                if let Some(c) = g.config_filter {
                    let _ = write!(s, "<config-filter>{c}</config-filter>");
                }
                if let Some(d) = g.max_depth {
                    let _ = write!(s, "<max-depth>{d}</max-depth>");
                }
                if g.with_origin {
                    s.push_str("<with-origin/>");
                }
                if let Some(w) = g.with_defaults {
                    w.write(s, NS_WITH_DEFAULTS);
                }
                s.push_str("</get-data>");
            }
            Self::EditData {
                datastore,
                default_operation,
                config,
            } => {
                let _ = write!(
                    s,
                    "<edit-data xmlns=\"{NS_NMDA}\" xmlns:ds=\"{NS_DATASTORES}\"><datastore>{}</datastore>",
                    datastore.as_str()
                );
                if let Some(d) = default_operation {
                    leaf(s, "default-operation", d.as_str());
                }
                let _ = write!(s, "<config>{config}</config></edit-data>");
            }
            Self::CreateSubscription {
                stream,
                filter,
                start_time,
                stop_time,
            } => {
                let _ = write!(
                    s,
                    "<create-subscription xmlns=\"{}\">",
                    crate::xml::NS_NOTIFICATION
                );
                if let Some(v) = stream {
                    leaf(s, "stream", v);
                }
                opt_filter(s, filter.as_ref());
                if let Some(v) = start_time {
                    leaf(s, "startTime", v);
                }
                if let Some(v) = stop_time {
                    leaf(s, "stopTime", v);
                }
                s.push_str("</create-subscription>");
            }
            Self::EstablishSubscription(e) => {
                let _ = write!(s, "<establish-subscription xmlns=\"{NS_SUBSCRIBED}\">");
                leaf(s, "stream", &e.stream);
                sn_filter(s, e.filter.as_ref());
                if let Some(v) = &e.replay_start_time {
                    leaf(s, "replay-start-time", v);
                }
                if let Some(v) = &e.stop_time {
                    leaf(s, "stop-time", v);
                }
                s.push_str("</establish-subscription>");
            }
            Self::ModifySubscription {
                id,
                filter,
                stop_time,
            } => {
                let _ = write!(
                    s,
                    "<modify-subscription xmlns=\"{NS_SUBSCRIBED}\"><id>{id}</id>"
                );
                sn_filter(s, filter.as_ref());
                if let Some(v) = stop_time {
                    leaf(s, "stop-time", v);
                }
                s.push_str("</modify-subscription>");
            }
            Self::DeleteSubscription { id } => {
                let _ = write!(
                    s,
                    "<delete-subscription xmlns=\"{NS_SUBSCRIBED}\"><id>{id}</id></delete-subscription>"
                );
            }
            Self::KillSubscription { id } => {
                let _ = write!(
                    s,
                    "<kill-subscription xmlns=\"{NS_SUBSCRIBED}\"><id>{id}</id></kill-subscription>"
                );
            }
            Self::Raw(x) => s.push_str(x),
        }
    }
}

/// RFC 8639 §2.4.2: `stream-subtree-filter` (anydata) or `stream-xpath-filter` (yang:xpath1.0).
fn sn_filter(s: &mut String, f: Option<&Filter>) {
    match f {
        Some(Filter::Subtree(x)) => {
            let _ = write!(s, "<stream-subtree-filter>{x}</stream-subtree-filter>");
        }
        Some(Filter::XPath { select, namespaces }) => {
            s.push_str("<stream-xpath-filter");
            for (p, u) in namespaces {
                let _ = write!(s, " xmlns:{}=\"{}\"", escape(p), escape(u));
            }
            let _ = write!(s, ">{}</stream-xpath-filter>", escape(select));
        }
        None => {}
    }
}

/// The whole `<rpc>` message for `op` with `message_id`.
#[must_use]
pub fn rpc(message_id: u64, op: &Operation) -> String {
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rpc message-id=\"{message_id}\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">"
    );
    op.write(&mut s);
    s.push_str("</rpc>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(op: &Operation) -> String {
        let mut s = String::new();
        op.write(&mut s);
        s
    }

    #[test]
    fn edit_config_all_options() {
        let mut e = EditConfig::new(Datastore::Candidate, "<x/>");
        e.default_operation = Some(DefaultOperation::None);
        e.test_option = Some(TestOption::TestOnly);
        e.error_option = Some(ErrorOption::RollbackOnError);
        assert_eq!(
            enc(&Operation::EditConfig(e)),
            "<edit-config><target><candidate/></target><default-operation>none</default-operation><test-option>test-only</test-option><error-option>rollback-on-error</error-option><config><x/></config></edit-config>"
        );
    }

    #[test]
    fn filters_escape() {
        let op = Operation::get(Some(Filter::XPath {
            select: "/sys:system[name='a&b']".into(),
            namespaces: vec![(
                "sys".into(),
                "urn:ietf:params:xml:ns:yang:ietf-system".into(),
            )],
        }));
        assert_eq!(
            enc(&op),
            "<get><filter type=\"xpath\" xmlns:sys=\"urn:ietf:params:xml:ns:yang:ietf-system\" select=\"/sys:system[name=&apos;a&amp;b&apos;]\"/></get>"
        );
        let op = Operation::Commit(Commit {
            confirmed: true,
            confirm_timeout: Some(30),
            persist: Some("p<1>".into()),
            persist_id: None,
        });
        assert_eq!(
            enc(&op),
            "<commit><confirmed/><confirm-timeout>30</confirm-timeout><persist>p&lt;1&gt;</persist></commit>"
        );
    }
}
