//! Integration tests against a real NETCONF server: Debian's yuma123 `netconfd` with
//! `netconfd-module-ietf-system`, behind OpenSSH's `netconf` subsystem and a mutual-TLS shim,
//! on 127.0.0.1, as started by `scripts/netconfd-up.sh`.
//!
//! Every test here is `#[ignore]`d, so a plain `cargo test` on a machine without the server
//! reports them as ignored; `scripts/test.sh` starts the server, runs them with `--ignored` and
//! stops it. They find the server through the env file that script writes
//! (`$NETCONF_ENV_FILE`, default `/tmp/nea-netconfd-8830/env`) and FAIL when it is missing.
//! Never send `system-restart`, `system-shutdown` or `set-current-datetime` here, and never
//! commit `/system/hostname`: yuma123 acts on the host (see scripts/netconfd-up.sh).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use tokio::sync::{Mutex, MutexGuard};

use netconf_client::framing::Framing;
use netconf_client::ietf_system::{NS_SYSTEM, SystemPosture};
use netconf_client::ssh::{self, HostKeyPolicy, SshAuth, SshConfig, SshTransport};
use netconf_client::tokio::{Client, ClientError};
use netconf_client::{
    Commit, Config, Datastore, EditConfig, ErrorTag, ErrorType, Filter, Operation, ReplyContent,
    WithDefaults, tls,
};

fn env() -> &'static HashMap<String, String> {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = std::env::var("NETCONF_ENV_FILE")
            .unwrap_or_else(|_| "/tmp/nea-netconfd-8830/env".to_owned());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "NETCONF test server env file {path} unreadable ({e}): run scripts/netconfd-up.sh"
            )
        });
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
}

fn var(k: &str) -> String {
    env()
        .get(k)
        .cloned()
        .unwrap_or_else(|| panic!("{k} missing from env file"))
}

/// Every test holds this while it talks to the server: netconfd (single-threaded) has been
/// seen to leave a session hanging before its hello when two SSH sessions open at once, and the
/// datastore/lock tests must not interleave anyway.
static LOCK: Mutex<()> = Mutex::const_new(());

/// Serialises an async test (see [`LOCK`]).
async fn serial() -> MutexGuard<'static, ()> {
    LOCK.lock().await
}

/// Serialises a blocking (non-async) test (see [`LOCK`]).
fn serial_blocking() -> MutexGuard<'static, ()> {
    LOCK.blocking_lock()
}

fn ssh_cfg(auth: SshAuth, host_keys: HostKeyPolicy) -> SshConfig {
    SshConfig::new(
        var("NETCONF_HOST"),
        var("NETCONF_PORT").parse().unwrap(),
        var("NETCONF_USER"),
        auth,
        host_keys,
    )
}

fn known_hosts() -> HostKeyPolicy {
    HostKeyPolicy::KnownHosts(var("NETCONF_KNOWN_HOSTS").into())
}

async fn connect() -> Client<SshTransport> {
    let cfg = ssh_cfg(SshAuth::Password(var("NETCONF_PASSWORD")), known_hosts());
    // A hung hello must fail the test, not hang the suite.
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        ssh::connect(&cfg, Config::default()),
    )
    .await
    .expect("no NETCONF hello within 60 s")
    .unwrap()
}

fn sys_subtree(inner: &str) -> Filter {
    Filter::Subtree(format!("<system xmlns=\"{NS_SYSTEM}\">{inner}</system>"))
}

fn sys_xpath(select: &str) -> Filter {
    Filter::XPath {
        select: select.to_owned(),
        namespaces: vec![("sys".to_owned(), NS_SYSTEM.to_owned())],
    }
}

async fn location(c: &mut Client<SshTransport>, ds: Datastore) -> Option<String> {
    let d = c
        .get_config(ds, Some(sys_subtree("<location/>")))
        .await
        .unwrap();
    SystemPosture::from_data(&d).unwrap().location
}

fn set_location(v: &str) -> EditConfig {
    EditConfig::new(
        Datastore::Candidate,
        format!("<system xmlns=\"{NS_SYSTEM}\"><location>{v}</location></system>"),
    )
}

fn rpc_error(e: ClientError) -> netconf_client::RpcError {
    match e {
        ClientError::Rpc(e) => *e,
        other => panic!("expected rpc-error, got {other}"),
    }
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn hello_base11_switches_to_chunked() {
    let _g = serial().await;
    let c = connect().await;
    assert!(c.session_id() > 0);
    assert!(c.capabilities().base11());
    assert!(c.capabilities().candidate());
    assert_eq!(c.session().framing(), Framing::Chunked);
    // a base:1.0-only client stays on end-of-message framing
    let cfg = ssh_cfg(SshAuth::Password(var("NETCONF_PASSWORD")), known_hosts());
    let mut c10 = ssh::connect(&cfg, Config::default().with_base10_only())
        .await
        .unwrap();
    assert_eq!(c10.session().framing(), Framing::EndOfMessage);
    let d = c10.get(Some(sys_subtree("<hostname/>"))).await.unwrap();
    assert_eq!(
        SystemPosture::from_data(&d).unwrap().hostname.as_deref(),
        Some("nc-interop-1")
    );
    c10.close().await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn get_ietf_system_state_and_config_with_filters() {
    let _g = serial().await;
    let mut c = connect().await;
    // state, subtree filter
    let d = c
        .get(Some(Filter::Subtree(format!(
            "<system-state xmlns=\"{NS_SYSTEM}\"/>"
        ))))
        .await
        .unwrap();
    let p = SystemPosture::from_data(&d).unwrap();
    assert!(p.clock.current_datetime.is_some(), "{}", d.as_str());
    // config via <get>, XPath filter
    let d = c.get(Some(sys_xpath("/sys:system"))).await.unwrap();
    let p = SystemPosture::from_data(&d).unwrap();
    assert_eq!(p.hostname.as_deref(), Some("nc-interop-1"));
    assert_eq!(p.ntp.unwrap().servers[0].name, "ntp1");
    // get-config running, subtree and XPath
    let d = c
        .get_config(Datastore::Running, Some(sys_subtree("<contact/>")))
        .await
        .unwrap();
    let p = SystemPosture::from_data(&d).unwrap();
    assert_eq!(p.contact.as_deref(), Some("interop-lab@example.net"));
    assert_eq!(p.hostname, None, "subtree filter selects only contact");
    let d = c
        .get_config(
            Datastore::Running,
            Some(sys_xpath("/sys:system/sys:dns-resolver")),
        )
        .await
        .unwrap();
    let p = SystemPosture::from_data(&d).unwrap();
    assert_eq!(p.dns_resolver.unwrap().search, ["example.net"]);
    assert_eq!(p.hostname, None);
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn several_rpcs_in_flight() {
    let _g = serial().await;
    let mut c = connect().await;
    let a = c
        .send(&Operation::get(Some(sys_subtree("<hostname/>"))))
        .await
        .unwrap();
    let b = c
        .send(&Operation::get(Some(sys_subtree("<contact/>"))))
        .await
        .unwrap();
    let d = c
        .send(&Operation::get(Some(sys_subtree("<location/>"))))
        .await
        .unwrap();
    assert_eq!(c.session().in_flight(), 3);
    // collect out of order
    let rd = c.wait_reply(d).await.unwrap();
    let ra = c.wait_reply(a).await.unwrap();
    let rb = c.wait_reply(b).await.unwrap();
    assert!(ra.data().unwrap().as_str().contains("<hostname>"));
    assert!(rb.data().unwrap().as_str().contains("<contact>"));
    assert!(rd.data().unwrap().as_str().contains("<location>"));
    assert_eq!(c.session().in_flight(), 0);
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn edit_config_commit_discard_confirmed_cancel() {
    let _g = serial().await;
    let mut c = connect().await;
    let orig = location(&mut c, Datastore::Running).await.unwrap();

    // edit-config + commit on candidate
    c.edit_config(set_location("rack-2")).await.unwrap();
    assert_eq!(
        location(&mut c, Datastore::Candidate).await.as_deref(),
        Some("rack-2")
    );
    assert_eq!(
        location(&mut c, Datastore::Running).await.as_deref(),
        Some(orig.as_str())
    );
    c.commit(Commit::default()).await.unwrap();
    assert_eq!(
        location(&mut c, Datastore::Running).await.as_deref(),
        Some("rack-2")
    );

    // discard-changes
    c.edit_config(set_location("rack-3")).await.unwrap();
    c.discard_changes().await.unwrap();
    assert_eq!(
        location(&mut c, Datastore::Candidate).await.as_deref(),
        Some("rack-2")
    );

    // confirmed-commit, then cancel-commit reverts running
    c.edit_config(set_location("rack-4")).await.unwrap();
    c.commit(Commit {
        confirmed: true,
        confirm_timeout: Some(120),
        ..Commit::default()
    })
    .await
    .unwrap();
    assert_eq!(
        location(&mut c, Datastore::Running).await.as_deref(),
        Some("rack-4")
    );
    c.cancel_commit(None).await.unwrap();
    assert_eq!(
        location(&mut c, Datastore::Running).await.as_deref(),
        Some("rack-2")
    );

    // every edit-config option the server accepts
    let mut e = set_location(&orig);
    e.default_operation = Some(netconf_client::DefaultOperation::Merge);
    e.test_option = Some(netconf_client::TestOption::TestThenSet);
    e.error_option = Some(netconf_client::ErrorOption::RollbackOnError);
    c.edit_config(e).await.unwrap();
    c.validate(Datastore::Candidate).await.unwrap();
    // validate is not followed by commit here: netconfd's validate→commit applies nothing
    c.discard_changes().await.unwrap();
    c.edit_config(set_location(&orig)).await.unwrap();
    c.commit(Commit::default()).await.unwrap();
    assert_eq!(location(&mut c, Datastore::Running).await, Some(orig));
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn lock_unlock_and_lock_denied() {
    let _g = serial().await;
    let mut a = connect().await;
    let mut b = connect().await;
    a.lock(Datastore::Candidate).await.unwrap();
    let e = rpc_error(b.lock(Datastore::Candidate).await.unwrap_err());
    assert_eq!(e.tag, ErrorTag::LockDenied);
    assert_eq!(e.error_type, Some(ErrorType::Protocol));
    assert_eq!(e.info.unwrap().session_id, Some(a.session_id()));
    a.unlock(Datastore::Candidate).await.unwrap();
    b.lock(Datastore::Candidate).await.unwrap();
    b.unlock(Datastore::Candidate).await.unwrap();
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn copy_config_running_to_candidate() {
    let _g = serial().await;
    let mut c = connect().await;
    c.edit_config(set_location("copy-me-away")).await.unwrap();
    c.copy_config(Datastore::Candidate, Datastore::Running)
        .await
        .unwrap();
    let running = location(&mut c, Datastore::Running).await;
    assert_eq!(location(&mut c, Datastore::Candidate).await, running);
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn get_schema_ietf_system() {
    let _g = serial().await; // the access-denied test denies get-schema for a moment
    let mut c = connect().await;
    let text = c
        .get_schema("ietf-system", Some("2014-08-06"), Some("yang"))
        .await
        .unwrap();
    assert!(
        text.contains("module ietf-system"),
        "{}",
        &text[..text.len().min(200)]
    );
    let e = rpc_error(
        c.get_schema("no-such-module-x", None, None)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.error_type, Some(ErrorType::Protocol));
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn with_defaults_modes() {
    let _g = serial().await;
    let mut c = connect().await;
    assert!(c.capabilities().with_defaults_basic_mode().is_some());
    let ntp = || {
        Filter::Subtree(
            "<nacm xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-acm\"><enable-external-groups/></nacm>"
                .into(),
        )
    };
    let all = c
        .get_with_defaults(Some(ntp()), WithDefaults::ReportAll)
        .await
        .unwrap();
    let trim = c
        .get_with_defaults(Some(ntp()), WithDefaults::Trim)
        .await
        .unwrap();
    // nacm enable-external-groups defaults to true and is not configured: reported with
    // report-all, left out with trim
    let leaf = "<enable-external-groups>true</enable-external-groups>";
    assert!(all.as_str().contains(leaf), "{}", all.as_str());
    assert!(!trim.as_str().contains(leaf), "{}", trim.as_str());
    let tagged = c
        .get_with_defaults(Some(ntp()), WithDefaults::ReportAllTagged)
        .await
        .unwrap();
    assert!(
        tagged.as_str().contains("default=\"true\""),
        "{}",
        tagged.as_str()
    );
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn rpc_errors_invalid_value_unknown_element_access_denied() {
    let _g = serial().await;
    let mut c = connect().await;
    let e = rpc_error(
        c.edit_config(EditConfig::new(
            Datastore::Candidate,
            format!(
                "<system xmlns=\"{NS_SYSTEM}\"><clock><timezone-utc-offset>9999</timezone-utc-offset></clock></system>"
            ),
        ))
        .await
        .unwrap_err(),
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(e.app_tag.as_deref(), Some("not-in-range"));
    assert!(e.path.unwrap().ends_with("timezone-utc-offset"));
    assert_eq!(e.message_lang.as_deref(), Some("en"));

    let e = rpc_error(
        c.edit_config(EditConfig::new(
            Datastore::Candidate,
            format!("<system xmlns=\"{NS_SYSTEM}\"><no-such-leaf>1</no-such-leaf></system>"),
        ))
        .await
        .unwrap_err(),
    );
    assert_eq!(e.tag, ErrorTag::UnknownElement);
    assert!(
        e.info
            .unwrap()
            .bad_element
            .unwrap()
            .ends_with("no-such-leaf")
    );

    let e = rpc_error(
        c.request(&Operation::Raw(
            "<no-such-rpc xmlns=\"urn:example:x\"/>".into(),
        ))
        .await
        .unwrap_err(),
    );
    assert!(
        matches!(
            e.tag,
            ErrorTag::UnknownElement | ErrorTag::OperationNotSupported | ErrorTag::UnknownNamespace
        ),
        "{e}"
    );
    c.discard_changes().await.unwrap();

    // access-denied: NACM rules deny the harmless <get-schema> RPC. yuma123 appends new rules
    // (ignores yang:insert), so permit-rest is taken out while the deny rules are in (the
    // *-default leaves permit meanwhile; the three guard rules stay), then put back last.
    // As in scripts/netconfd-up.sh: yuma123 2.13 denies with a matching rpc rule lacking
    // "exec" (the "-yuma" rule); the "exec"/deny rule is the standard form.
    const NACM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
    const NC: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
    let rule = |name: &str, ops: &str| {
        format!(
            "<rule><name>{name}</name><module-name>ietf-netconf-monitoring</module-name>\
             <rpc-name>get-schema</rpc-name><access-operations>{ops}</access-operations>\
             <action>deny</action></rule>"
        )
    };
    let deny = format!(
        "<nacm xmlns=\"{NACM}\" xmlns:nc=\"{NC}\"><rule-list><name>interop-guard</name>\
         <rule nc:operation=\"delete\"><name>permit-rest</name></rule>{}{}</rule-list></nacm>",
        rule("test-deny-get-schema-yuma", "read"),
        rule("test-deny-get-schema", "exec"),
    );
    let restore = format!(
        "<nacm xmlns=\"{NACM}\" xmlns:nc=\"{NC}\"><rule-list><name>interop-guard</name>\
         <rule nc:operation=\"delete\"><name>test-deny-get-schema-yuma</name></rule>\
         <rule nc:operation=\"delete\"><name>test-deny-get-schema</name></rule>\
         <rule><name>permit-rest</name><module-name>*</module-name>\
         <access-operations>*</access-operations><action>permit</action></rule>\
         </rule-list></nacm>"
    );
    c.edit_config(EditConfig::new(Datastore::Candidate, deny))
        .await
        .unwrap();
    c.commit(Commit::default()).await.unwrap();
    let denied = c.get_schema("ietf-system", None, None).await;
    c.edit_config(EditConfig::new(Datastore::Candidate, restore))
        .await
        .unwrap();
    c.commit(Commit::default()).await.unwrap();
    let e = rpc_error(denied.unwrap_err());
    assert_eq!(e.tag, ErrorTag::AccessDenied, "{e}");
    assert!(c.get_schema("ietf-system", None, None).await.is_ok());
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn kill_session_and_close_session() {
    let _g = serial().await;
    let mut victim = connect().await;
    let mut killer = connect().await;
    killer.kill_session(victim.session_id()).await.unwrap();
    let r = victim.get(Some(sys_subtree("<hostname/>"))).await;
    assert!(
        matches!(r, Err(ClientError::Closed(_) | ClientError::Io(_))),
        "{r:?}"
    );
    // killing one's own session is an error (RFC 6241 §7.9)
    let own = killer.session_id();
    let e = rpc_error(killer.kill_session(own).await.unwrap_err());
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    killer.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn create_subscription_and_config_change_notification() {
    let _g = serial().await;
    let mut sub = connect().await;
    assert!(sub.capabilities().notification());
    sub.create_subscription(None, None).await.unwrap();
    let mut w = connect().await;
    let orig = location(&mut w, Datastore::Running).await.unwrap();
    w.edit_config(set_location("notified")).await.unwrap();
    w.commit(Commit::default()).await.unwrap();
    w.edit_config(set_location(&orig)).await.unwrap();
    w.commit(Commit::default()).await.unwrap();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let n = sub.next_notification().await.unwrap();
            seen.push(n.event_name.clone());
            if n.event_name == "netconf-config-change" {
                return n;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no config-change notification; saw {seen:?}"));
    assert!(!found.event_time.is_empty());
    assert!(
        std::str::from_utf8(&found.content)
            .unwrap()
            .contains("location")
    );
    w.close().await.unwrap();
    sub.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn tls_transport_mutual_x509() {
    let _g = serial().await;
    let cfg = tls::TlsConfig::new(
        var("NETCONF_HOST"),
        var("NETCONF_TLS_PORT").parse().unwrap(),
        var("NETCONF_TLS_CA"),
        var("NETCONF_TLS_CERT"),
        var("NETCONF_TLS_KEY"),
    );
    let mut c = tls::connect(&cfg, Config::default()).await.unwrap();
    assert_eq!(c.session().framing(), Framing::Chunked);
    let d = c.get(Some(sys_subtree("<hostname/>"))).await.unwrap();
    assert_eq!(
        SystemPosture::from_data(&d).unwrap().hostname.as_deref(),
        Some("nc-interop-1")
    );
    c.close().await.unwrap();
    // a CA that did not sign the server certificate is refused
    let mut bad = cfg.clone();
    bad.ca = var("NETCONF_TLS_CERT").into();
    let e = tls::connect(&bad, Config::default()).await.unwrap_err();
    assert!(matches!(e, ClientError::Tls(_)), "{e}");
}

#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn public_key_auth_and_host_key_checking() {
    let _g = serial().await;
    let key = SshAuth::KeyFile {
        path: var("NETCONF_SSH_KEY").into(),
        passphrase: None,
    };
    let c = ssh::connect(&ssh_cfg(key.clone(), known_hosts()), Config::default())
        .await
        .unwrap();
    assert!(c.session_id() > 0);
    c.close().await.unwrap();

    let dir = std::env::temp_dir().join(format!("nc-kh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // unknown host: refused by default ...
    let empty: PathBuf = dir.join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let e = ssh::connect(
        &ssh_cfg(key.clone(), HostKeyPolicy::KnownHosts(empty.clone())),
        Config::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ClientError::HostKey(_)), "{e}");
    // ... accepted only when the caller opts in
    let c = ssh::connect(
        &ssh_cfg(key.clone(), HostKeyPolicy::AcceptUnknown(Some(empty))),
        Config::default(),
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    // a changed key is refused even with the opt-in
    let real = std::fs::read_to_string(var("NETCONF_KNOWN_HOSTS")).unwrap();
    let host = real.split_whitespace().next().unwrap();
    let changed = dir.join("changed_known_hosts");
    std::fs::write(
        &changed,
        format!("{host} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"),
    )
    .unwrap();
    let e = ssh::connect(
        &ssh_cfg(key.clone(), HostKeyPolicy::AcceptUnknown(Some(changed))),
        Config::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ClientError::HostKey(_)), "{e}");
    // wrong password
    let e = ssh::connect(
        &ssh_cfg(SshAuth::Password("wrong".into()), known_hosts()),
        Config::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ClientError::Auth(_)), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
fn blocking_wrapper() {
    let _g = serial_blocking();
    let cfg = ssh_cfg(SshAuth::Password(var("NETCONF_PASSWORD")), known_hosts());
    let mut c = ssh::connect_blocking(&cfg, Config::default()).unwrap();
    let d = c.get(Some(sys_subtree("<hostname/>"))).unwrap();
    assert!(d.as_str().contains("nc-interop-1"));
    let r = c
        .rpc(&Operation::get_config(
            Datastore::Running,
            Some(sys_subtree("<contact/>")),
        ))
        .unwrap();
    assert!(matches!(r.content, ReplyContent::Data(_)));
    c.close().unwrap();
}

#[test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
fn blocking_wrapper_over_tls() {
    let _g = serial_blocking();
    let cfg = tls::TlsConfig::new(
        var("NETCONF_HOST"),
        var("NETCONF_TLS_PORT").parse().unwrap(),
        var("NETCONF_TLS_CA"),
        var("NETCONF_TLS_CERT"),
        var("NETCONF_TLS_KEY"),
    );
    let mut c = tls::connect_blocking(&cfg, Config::default()).unwrap();
    let d = c
        .get_config(Datastore::Running, Some(sys_subtree("<location/>")))
        .unwrap();
    assert!(d.as_str().contains("<location>"));
    c.close().unwrap();
}

/// Streaming `<get>`: the reply is walked while it arrives, never held whole.
#[tokio::test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
async fn streaming_get_ietf_system() {
    let _g = serial().await;
    let mut c = connect().await;
    // the whole of ietf-system (state and config) without a filter on leaves
    let mut path = Vec::<String>::new();
    let mut hostname = None;
    let mut elements = 0usize;
    let high_water = c
        .get_streaming(Some(sys_subtree("")), |ev, depth| match ev {
            netconf_client::XmlEvent::Start { namespace, name } => {
                assert_eq!(depth, path.len() + 1);
                elements += 1;
                path.push(format!("{namespace} {name}"));
            }
            netconf_client::XmlEvent::Text(t) => {
                let sys = format!("{NS_SYSTEM} system");
                let host = format!("{NS_SYSTEM} hostname");
                if path == [sys, host] {
                    hostname = Some(t.trim().to_owned());
                }
            }
            netconf_client::XmlEvent::End => {
                assert_eq!(depth, path.len());
                path.pop();
            }
        })
        .await
        .unwrap();
    assert!(path.is_empty());
    assert_eq!(hostname.as_deref(), Some("nc-interop-1"));
    assert!(elements > 5, "{elements} elements");
    assert!(high_water > 0 && high_water < 256 * 1024, "{high_water}");
    // an rpc-error arrives as ClientError::Rpc; the session goes on
    let bad = Operation::Raw("<no-such-rpc xmlns=\"urn:example:x\"/>".into());
    let e = c.rpc_streaming(&bad, |_, _| {}).await.unwrap_err();
    assert!(matches!(e, ClientError::Rpc(_)), "{e:?}");
    // the whole-message API still works on the same session
    let d = c.get(Some(sys_subtree("<hostname/>"))).await.unwrap();
    assert!(d.as_str().contains("nc-interop-1"));
    c.close().await.unwrap();
}

#[test]
#[ignore = "needs the NETCONF test server: scripts/test.sh runs it"]
fn streaming_get_blocking() {
    let _g = serial_blocking();
    let cfg = ssh_cfg(SshAuth::Password(var("NETCONF_PASSWORD")), known_hosts());
    let mut c = ssh::connect_blocking(&cfg, Config::default()).unwrap();
    let mut in_hostname = false;
    let mut hostname = String::new();
    c.get_streaming(Some(sys_subtree("<hostname/>")), |ev, depth| match ev {
        netconf_client::XmlEvent::Start { name, .. } => {
            in_hostname = name == "hostname" && depth == 2
        }
        netconf_client::XmlEvent::Text(t) if in_hostname => hostname.push_str(t),
        _ => in_hostname = false,
    })
    .unwrap();
    assert_eq!(hostname.trim(), "nc-interop-1");
    c.close().unwrap();
}
