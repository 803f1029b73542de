//! The RFC 7317 `ietf-system` posture of a network device, read over NETCONF and written as
//! RFC 7951 JSON: shared by `netconf-get --ietf-system` and the manager's device polling.

use netconf_client::Filter;
use netconf_client::ietf_system::{NS_SYSTEM, SystemPosture};
use netconf_client::tokio::{Client, ClientError};
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncWrite};

/// The subtree filter selecting `/system` and `/system-state`.
#[must_use]
pub fn system_filter() -> Filter {
    Filter::Subtree(format!(
        "<system xmlns=\"{NS_SYSTEM}\"/><system-state xmlns=\"{NS_SYSTEM}\"/>"
    ))
}

/// One `<get>` of `/system` and `/system-state` (read only), parsed.
pub async fn read_posture<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Client<S>,
) -> Result<SystemPosture, ClientError> {
    let data = c.get(Some(system_filter())).await?;
    SystemPosture::from_data(&data).map_err(ClientError::Decode)
}

/// RFC 7951 JSON of the RFC 7317 posture, built with serde: the two top-level containers
/// `ietf-system:system` (config) and `ietf-system:system-state` (state), YANG node names,
/// absent leaves omitted, integers of up to 32 bits as numbers, identities as `module:name`.
/// Password hashes are never printed.
mod rfc7951 {
    use netconf_client::ietf_system as sys;
    use serde::Serialize;

    #[derive(Serialize)]
    pub(crate) struct Document<'a> {
        #[serde(rename = "ietf-system:system")]
        system: System<'a>,
        #[serde(rename = "ietf-system:system-state")]
        state: SystemState<'a>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct System<'a> {
        contact: Option<&'a str>,
        hostname: Option<&'a str>,
        location: Option<&'a str>,
        clock: ClockConfig<'a>,
        ntp: Option<Ntp<'a>>,
        dns_resolver: Option<DnsResolver<'a>>,
        authentication: Option<Authentication<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct ClockConfig<'a> {
        timezone_name: Option<&'a str>,
        timezone_utc_offset: Option<i16>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct Ntp<'a> {
        enabled: Option<bool>,
        server: Vec<NtpServer<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct NtpServer<'a> {
        name: &'a str,
        /// `choice transport`, case `udp`.
        udp: Transport<'a>,
        association_type: Option<&'a str>,
        iburst: Option<bool>,
        prefer: Option<bool>,
    }

    #[derive(Serialize)]
    struct Transport<'a> {
        address: Option<&'a str>,
        port: Option<u16>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct DnsResolver<'a> {
        search: Vec<&'a str>,
        server: Vec<DnsServer<'a>>,
        options: DnsOptions,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct DnsServer<'a> {
        name: &'a str,
        /// `choice transport`, case `udp-and-tcp`.
        udp_and_tcp: Transport<'a>,
    }

    #[derive(Serialize)]
    struct DnsOptions {
        timeout: Option<u8>,
        attempts: Option<u8>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct Authentication<'a> {
        user_authentication_order: Vec<String>,
        user: Vec<User<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct User<'a> {
        name: &'a str,
        authorized_key: Vec<AuthorizedKey<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct AuthorizedKey<'a> {
        name: &'a str,
        algorithm: Option<&'a str>,
        key_data: Option<&'a str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct SystemState<'a> {
        platform: Platform<'a>,
        clock: ClockState<'a>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct Platform<'a> {
        os_name: Option<&'a str>,
        os_release: Option<&'a str>,
        os_version: Option<&'a str>,
        machine: Option<&'a str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct ClockState<'a> {
        current_datetime: Option<&'a str>,
        boot_datetime: Option<&'a str>,
    }

    /// An identity of ietf-system as RFC 7951 writes it (`module:identity`), whatever XML
    /// prefix the server used; other values unchanged.
    fn identity(v: &str) -> String {
        let local = v.rsplit_once(':').map_or(v, |(_, l)| l);
        match local {
            "local-users" | "radius" => format!("ietf-system:{local}"),
            _ => v.to_owned(),
        }
    }

    fn s(o: &Option<String>) -> Option<&str> {
        o.as_deref()
    }

    pub(crate) fn document(p: &sys::SystemPosture) -> Document<'_> {
        Document {
            system: System {
                contact: s(&p.contact),
                hostname: s(&p.hostname),
                location: s(&p.location),
                clock: ClockConfig {
                    timezone_name: s(&p.clock.timezone_name),
                    timezone_utc_offset: p.clock.timezone_utc_offset,
                },
                ntp: p.ntp.as_ref().map(|n| Ntp {
                    enabled: n.enabled,
                    server: n
                        .servers
                        .iter()
                        .map(|v| NtpServer {
                            name: &v.name,
                            udp: Transport {
                                address: s(&v.address),
                                port: v.port,
                            },
                            association_type: s(&v.association_type),
                            iburst: v.iburst,
                            prefer: v.prefer,
                        })
                        .collect(),
                }),
                dns_resolver: p.dns_resolver.as_ref().map(|d| DnsResolver {
                    search: d.search.iter().map(String::as_str).collect(),
                    server: d
                        .servers
                        .iter()
                        .map(|v| DnsServer {
                            name: &v.name,
                            udp_and_tcp: Transport {
                                address: s(&v.address),
                                port: v.port,
                            },
                        })
                        .collect(),
                    options: DnsOptions {
                        timeout: d.timeout,
                        attempts: d.attempts,
                    },
                }),
                authentication: p.authentication.as_ref().map(|a| Authentication {
                    user_authentication_order: a
                        .user_authentication_order
                        .iter()
                        .map(|v| identity(v))
                        .collect(),
                    user: a
                        .users
                        .iter()
                        .map(|u| User {
                            name: &u.name,
                            authorized_key: u
                                .authorized_keys
                                .iter()
                                .map(|k| AuthorizedKey {
                                    name: &k.name,
                                    algorithm: s(&k.algorithm),
                                    key_data: s(&k.key_data),
                                })
                                .collect(),
                        })
                        .collect(),
                }),
            },
            state: SystemState {
                platform: Platform {
                    os_name: s(&p.platform.os_name),
                    os_release: s(&p.platform.os_release),
                    os_version: s(&p.platform.os_version),
                    machine: s(&p.platform.machine),
                },
                clock: ClockState {
                    current_datetime: s(&p.clock.current_datetime),
                    boot_datetime: s(&p.clock.boot_datetime),
                },
            },
        }
    }
}

/// The posture as RFC 7951 JSON (the shape described above): what `netconf-get --ietf-system --json`
/// prints and what `tnc-manager` stores for a network device.
#[must_use]
pub fn posture_json(p: &SystemPosture) -> Value {
    serde_json::to_value(rfc7951::document(p))
        .ok()
        .and_then(prune)
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// Drops what RFC 7951 leaves out: absent leaves (`null`), and containers and lists left
/// with nothing in them.
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let m: Map<String, Value> = m
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        Value::Array(a) => {
            let a: Vec<Value> = a.into_iter().filter_map(prune).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        other => Some(other),
    }
}
