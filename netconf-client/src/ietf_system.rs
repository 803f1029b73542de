//! A typed view of RFC 7317 `ietf-system` data (`/system` config and `/system-state`),
//! parsed with the streaming reader from a `<data>` reply: the posture a manager stores.
//!
//! ```text
//! system        contact hostname location clock{timezone-name|timezone-utc-offset}
//!               ntp{enabled server*{name udp{address port} association-type iburst prefer}}
//!               dns-resolver{search* server*{name udp-and-tcp{address port}} options{timeout attempts}}
//!               authentication{user-authentication-order* user*{name password authorized-key*}}
//! system-state  platform{os-name os-release os-version machine}
//!               clock{current-datetime boot-datetime}
//! ```
//! Absent leaves stay `None`; servers differ in what they fill in.

use crate::error::DecodeError;
use crate::wire::reply::Data;
use crate::xml::{DataReader, XmlEvent};

/// The ietf-system namespace (RFC 7317 §6).
pub const NS_SYSTEM: &str = "urn:ietf:params:xml:ns:yang:ietf-system";

/// `/system/clock` and `/system-state/clock`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clock {
    /// `timezone-name`.
    pub timezone_name: Option<String>,
    /// `timezone-utc-offset` (minutes).
    pub timezone_utc_offset: Option<i16>,
    /// `current-datetime` (state).
    pub current_datetime: Option<String>,
    /// `boot-datetime` (state).
    pub boot_datetime: Option<String>,
}

/// `/system-state/platform`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Platform {
    /// `os-name`.
    pub os_name: Option<String>,
    /// `os-release`.
    pub os_release: Option<String>,
    /// `os-version`.
    pub os_version: Option<String>,
    /// `machine`.
    pub machine: Option<String>,
}

/// `/system/ntp/server` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NtpServer {
    /// `name` (list key).
    pub name: String,
    /// `udp/address`.
    pub address: Option<String>,
    /// `udp/port`.
    pub port: Option<u16>,
    /// `association-type`.
    pub association_type: Option<String>,
    /// `iburst`.
    pub iburst: Option<bool>,
    /// `prefer`.
    pub prefer: Option<bool>,
}

/// `/system/ntp`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ntp {
    /// `enabled`.
    pub enabled: Option<bool>,
    /// `server` list.
    pub servers: Vec<NtpServer>,
}

/// `/system/dns-resolver/server` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsServer {
    /// `name`.
    pub name: String,
    /// `udp-and-tcp/address`.
    pub address: Option<String>,
    /// `udp-and-tcp/port`.
    pub port: Option<u16>,
}

/// `/system/dns-resolver`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsResolver {
    /// `search` list.
    pub search: Vec<String>,
    /// `server` list.
    pub servers: Vec<DnsServer>,
    /// `options/timeout` (seconds).
    pub timeout: Option<u8>,
    /// `options/attempts`.
    pub attempts: Option<u8>,
}

/// `/system/authentication/user/authorized-key` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizedKey {
    /// `name`.
    pub name: String,
    /// `algorithm`.
    pub algorithm: Option<String>,
    /// `key-data` (base64).
    pub key_data: Option<String>,
}

/// `/system/authentication/user` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// `name`.
    pub name: String,
    /// `password` (crypt hash as the server reports it).
    pub password: Option<String>,
    /// `authorized-key` list.
    pub authorized_keys: Vec<AuthorizedKey>,
}

/// `/system/authentication`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authentication {
    /// `user-authentication-order` (identity names).
    pub user_authentication_order: Vec<String>,
    /// `user` list.
    pub users: Vec<User>,
}

/// The RFC 7317 posture of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemPosture {
    /// `/system/contact`.
    pub contact: Option<String>,
    /// `/system/hostname`.
    pub hostname: Option<String>,
    /// `/system/location`.
    pub location: Option<String>,
    /// Both clock containers, merged.
    pub clock: Clock,
    /// `/system-state/platform`.
    pub platform: Platform,
    /// `/system/ntp`.
    pub ntp: Option<Ntp>,
    /// `/system/dns-resolver`.
    pub dns_resolver: Option<DnsResolver>,
    /// `/system/authentication`.
    pub authentication: Option<Authentication>,
}

fn set<T: std::str::FromStr>(slot: &mut Option<T>, text: &str) {
    if let Ok(v) = text.trim().parse() {
        *slot = Some(v);
    }
}

impl SystemPosture {
    /// Parses the `<data>` of a `<get>`/`<get-config>` reply, merging into `self`, so the state
    /// and config replies can be combined.
    pub fn merge_data(&mut self, data: &Data) -> Result<(), DecodeError> {
        self.merge_reader(&mut data.reader()?)
    }

    /// Parses a `<data>` reply into a new posture.
    pub fn from_data(data: &Data) -> Result<Self, DecodeError> {
        let mut p = Self::default();
        p.merge_data(data)?;
        Ok(p)
    }

    /// Merges what `r` yields (a walk over `<system>`/`<system-state>` elements).
    pub fn merge_reader(&mut self, r: &mut DataReader<'_>) -> Result<(), DecodeError> {
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        // depth at which a foreign-namespace subtree started (skipped)
        let mut foreign: Option<usize> = None;
        while let Some(ev) = r.next_event()? {
            match ev {
                XmlEvent::Start { namespace, name } => {
                    if foreign.is_some() {
                        path.push(String::new());
                        continue;
                    }
                    let inside = !path.is_empty();
                    if namespace != NS_SYSTEM && (inside || !namespace.is_empty()) {
                        foreign = Some(path.len());
                        path.push(String::new());
                        continue;
                    }
                    path.push(name.to_owned());
                    text.clear();
                    self.start(&path);
                }
                XmlEvent::Text(t) => {
                    if foreign.is_none() {
                        text.push_str(t);
                    }
                }
                XmlEvent::End => {
                    if foreign.is_none() {
                        self.leaf(&path, &text);
                    }
                    text.clear();
                    path.pop();
                    if foreign.is_some_and(|d| path.len() <= d) {
                        foreign = None;
                    }
                }
            }
        }
        Ok(())
    }

    fn start(&mut self, path: &[String]) {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["system", "ntp"] => {
                self.ntp.get_or_insert_with(Ntp::default);
            }
            ["system", "ntp", "server"] => {
                self.ntp
                    .get_or_insert_with(Ntp::default)
                    .servers
                    .push(NtpServer::default());
            }
            ["system", "dns-resolver"] => {
                self.dns_resolver.get_or_insert_with(DnsResolver::default);
            }
            ["system", "dns-resolver", "server"] => self
                .dns_resolver
                .get_or_insert_with(DnsResolver::default)
                .servers
                .push(DnsServer::default()),
            ["system", "authentication"] => {
                self.authentication
                    .get_or_insert_with(Authentication::default);
            }
            ["system", "authentication", "user"] => self
                .authentication
                .get_or_insert_with(Authentication::default)
                .users
                .push(User::default()),
            ["system", "authentication", "user", "authorized-key"] => {
                if let Some(u) = self.user() {
                    u.authorized_keys.push(AuthorizedKey::default());
                }
            }
            _ => {}
        }
    }

    fn user(&mut self) -> Option<&mut User> {
        self.authentication.as_mut()?.users.last_mut()
    }

    fn leaf(&mut self, path: &[String], t: &str) {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let s = || Some(t.trim().to_owned());
        match p.as_slice() {
            ["system", "contact"] => self.contact = Some(t.to_owned()),
            ["system", "hostname"] => self.hostname = s(),
            ["system", "location"] => self.location = Some(t.to_owned()),
            ["system", "clock", "timezone-name"] => self.clock.timezone_name = s(),
            ["system", "clock", "timezone-utc-offset"] => {
                set(&mut self.clock.timezone_utc_offset, t);
            }
            ["system-state", "clock", "current-datetime"] => self.clock.current_datetime = s(),
            ["system-state", "clock", "boot-datetime"] => self.clock.boot_datetime = s(),
            ["system-state", "platform", "os-name"] => self.platform.os_name = s(),
            ["system-state", "platform", "os-release"] => self.platform.os_release = s(),
            ["system-state", "platform", "os-version"] => self.platform.os_version = s(),
            ["system-state", "platform", "machine"] => self.platform.machine = s(),
            ["system", "ntp", "enabled"] => {
                if let Some(n) = self.ntp.as_mut() {
                    set(&mut n.enabled, t);
                }
            }
            ["system", "ntp", "server", rest @ ..] => {
                let Some(e) = self.ntp.as_mut().and_then(|n| n.servers.last_mut()) else {
                    return;
                };
                match rest {
                    ["name"] => e.name = t.trim().to_owned(),
                    ["udp", "address"] => e.address = s(),
                    ["udp", "port"] => set(&mut e.port, t),
                    ["association-type"] => e.association_type = s(),
                    ["iburst"] => set(&mut e.iburst, t),
                    ["prefer"] => set(&mut e.prefer, t),
                    _ => {}
                }
            }
            ["system", "dns-resolver", rest @ ..] => {
                let Some(d) = self.dns_resolver.as_mut() else {
                    return;
                };
                match rest {
                    ["search"] => d.search.push(t.trim().to_owned()),
                    ["options", "timeout"] => set(&mut d.timeout, t),
                    ["options", "attempts"] => set(&mut d.attempts, t),
                    ["server", rest @ ..] => {
                        let Some(e) = d.servers.last_mut() else {
                            return;
                        };
                        match rest {
                            ["name"] => e.name = t.trim().to_owned(),
                            ["udp-and-tcp", "address"] => e.address = s(),
                            ["udp-and-tcp", "port"] => set(&mut e.port, t),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            ["system", "authentication", "user-authentication-order"] => {
                if let Some(a) = self.authentication.as_mut() {
                    a.user_authentication_order.push(t.trim().to_owned());
                }
            }
            ["system", "authentication", "user", rest @ ..] => {
                let Some(u) = self.user() else { return };
                match rest {
                    ["name"] => u.name = t.trim().to_owned(),
                    ["password"] => u.password = s(),
                    ["authorized-key", k] => {
                        let Some(key) = u.authorized_keys.last_mut() else {
                            return;
                        };
                        match *k {
                            "name" => key.name = t.trim().to_owned(),
                            "algorithm" => key.algorithm = s(),
                            "key-data" => key.key_data = s(),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}
