//! `manager.conf`: the listener and the users.

use std::net::IpAddr;
use std::time::Duration;

use obelus_conf::Config;
use obelus_core::acl::Acl;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::parse_bool;

use crate::classes;
use crate::filter::EventFilter;

/// One `[user]` section.
#[derive(Debug, Clone)]
pub struct User {
    /// The section name: the login name.
    pub name: String,
    /// `secret` (never logged).
    pub secret: String,
    /// `read`: event classes it may receive.
    pub read: u32,
    /// `write`: action classes it may run.
    pub write: u32,
    /// `permit`/`deny`.
    pub acl: Acl,
    /// `writetimeout`: how long a write may wait before the session is dropped.
    pub write_timeout: Duration,
    /// `eventfilter` lines, legacy and advanced (see [`crate::filter`]).
    pub event_filters: Vec<EventFilter>,
    /// `allowmultiplelogin` for this user.
    pub allow_multiple_login: Option<bool>,
}

/// `[general]` and the users.
#[derive(Debug, Clone)]
pub struct ManagerConf {
    /// `enabled`.
    pub enabled: bool,
    /// `port`.
    pub port: u16,
    /// `bindaddr`.
    pub bind_addr: IpAddr,
    /// `timestampevents`.
    pub timestamp_events: bool,
    /// `allowmultiplelogin`.
    pub allow_multiple_login: bool,
    /// `displayconnects`.
    pub display_connects: bool,
    /// `authtimeout`.
    pub auth_timeout: Duration,
    /// `authlimit`.
    pub auth_limit: usize,
    /// `disabledevents`: event names nobody receives.
    pub disabled_events: Vec<String>,
    /// `webenabled`.
    pub web_enabled: bool,
    /// `tlsenable`.
    pub tls_enable: bool,
    /// `tlsbindaddr` (default port 5039).
    pub tls_bind: std::net::SocketAddr,
    /// `tlscertfile` (relative names are in the configuration directory).
    pub tls_cert_file: String,
    /// `tlsprivatekey` (defaults to the certificate file, as in Asterisk).
    pub tls_private_key: String,
    /// The users.
    pub users: Vec<User>,
}

impl Default for ManagerConf {
    fn default() -> Self {
        Self {
            enabled: false,
            port: 5038,
            bind_addr: IpAddr::from([0, 0, 0, 0]),
            timestamp_events: false,
            allow_multiple_login: true,
            display_connects: true,
            auth_timeout: Duration::from_secs(30),
            auth_limit: 50,
            disabled_events: Vec::new(),
            web_enabled: false,
            tls_enable: false,
            tls_bind: std::net::SocketAddr::from(([0, 0, 0, 0], 5039)),
            tls_cert_file: "asterisk.pem".to_owned(),
            tls_private_key: String::new(),
            users: Vec::new(),
        }
    }
}

/// Asterisk's default and minimum `writetimeout`.
const MIN_WRITE_TIMEOUT: Duration = Duration::from_millis(100);

/// `ip[:port]`, `[ipv6]:port` or `ipv6`.
fn parse_bind(value: &str, default_port: u16) -> Option<std::net::SocketAddr> {
    if let Ok(addr) = value.parse() {
        return Some(addr);
    }
    let ip: IpAddr = value
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    Some(std::net::SocketAddr::new(ip, default_port))
}

impl ManagerConf {
    /// Reads the file; problems name file and line.
    pub fn from_config(config: &Config) -> (Self, Vec<Diagnostic>) {
        let mut conf = Self::default();
        let mut problems = Vec::new();
        for category in config.categories() {
            if category.name.eq_ignore_ascii_case("general") {
                for var in category.variables() {
                    let v = var.value.trim();
                    let flag = |problems: &mut Vec<Diagnostic>| {
                        parse_bool(v).unwrap_or_else(|| {
                            problems.push(Diagnostic::error_at(
                                &var.location,
                                &var.name,
                                format!("expected yes or no, got '{v}'"),
                            ));
                            false
                        })
                    };
                    match var.name.to_ascii_lowercase().as_str() {
                        "enabled" => conf.enabled = flag(&mut problems),
                        "webenabled" => conf.web_enabled = flag(&mut problems),
                        "tlsenable" => conf.tls_enable = flag(&mut problems),
                        "tlscertfile" => conf.tls_cert_file = v.to_owned(),
                        "tlsprivatekey" => conf.tls_private_key = v.to_owned(),
                        "tlsbindaddr" => match parse_bind(v, 5039) {
                            Some(addr) => conf.tls_bind = addr,
                            None => problems.push(Diagnostic::error_at(
                                &var.location,
                                "tlsbindaddr",
                                format!("expected an address such as 0.0.0.0:5039, got '{v}'"),
                            )),
                        },
                        "timestampevents" => conf.timestamp_events = flag(&mut problems),
                        "allowmultiplelogin" => conf.allow_multiple_login = flag(&mut problems),
                        "displayconnects" => conf.display_connects = flag(&mut problems),
                        "port" => match v.parse() {
                            Ok(p) => conf.port = p,
                            Err(_) => problems.push(Diagnostic::error_at(
                                &var.location,
                                "port",
                                format!("expected a port number, got '{v}'"),
                            )),
                        },
                        "bindaddr" => match v.parse() {
                            Ok(a) => conf.bind_addr = a,
                            Err(_) => problems.push(Diagnostic::error_at(
                                &var.location,
                                "bindaddr",
                                format!("expected an IP address, got '{v}'"),
                            )),
                        },
                        "authtimeout" => match v.parse::<u64>() {
                            Ok(s) if s > 0 => conf.auth_timeout = Duration::from_secs(s),
                            _ => problems.push(Diagnostic::error_at(
                                &var.location,
                                "authtimeout",
                                format!("expected seconds, got '{v}'"),
                            )),
                        },
                        "authlimit" => match v.parse() {
                            Ok(n) => conf.auth_limit = n,
                            Err(_) => problems.push(Diagnostic::error_at(
                                &var.location,
                                "authlimit",
                                format!("expected a number, got '{v}'"),
                            )),
                        },
                        "disabledevents" => {
                            conf.disabled_events = v
                                .split(',')
                                .map(|s| s.trim().to_owned())
                                .filter(|s| !s.is_empty())
                                .collect()
                        }
                        _ => {}
                    }
                }
                continue;
            }
            let mut user = User {
                name: category.name.clone(),
                secret: String::new(),
                read: 0,
                write: 0,
                acl: Acl::default(),
                write_timeout: MIN_WRITE_TIMEOUT,
                event_filters: Vec::new(),
                allow_multiple_login: None,
            };
            for var in category.variables() {
                let v = var.value.trim();
                // Advanced filters carry case-sensitive criteria in the name.
                if let Some(filter) = EventFilter::from_conf(&var.name, v) {
                    match filter {
                        Ok(f) => user.event_filters.push(f),
                        Err(e) => problems.push(Diagnostic::error_at(
                            &var.location,
                            &var.name,
                            e.to_string(),
                        )),
                    }
                    continue;
                }
                match var.name.to_ascii_lowercase().as_str() {
                    "secret" => user.secret = v.to_owned(),
                    "read" | "write" => match classes::parse(v) {
                        Ok(bits) if var.name.eq_ignore_ascii_case("read") => user.read = bits,
                        Ok(bits) => user.write = bits,
                        Err(bad) => problems.push(Diagnostic::error_at(
                            &var.location,
                            &var.name,
                            format!("unknown permission class '{bad}'"),
                        )),
                    },
                    "permit" | "deny" => {
                        if let Err(e) = user.acl.add(var.name.eq_ignore_ascii_case("permit"), v) {
                            problems.push(Diagnostic::error_at(
                                &var.location,
                                &var.name,
                                e.to_string(),
                            ));
                        }
                    }
                    "writetimeout" => match v.parse::<u64>() {
                        Ok(ms) if ms >= 100 => user.write_timeout = Duration::from_millis(ms),
                        _ => problems.push(Diagnostic::warning_at(
                            &var.location,
                            "writetimeout",
                            format!("expected milliseconds >= 100, got '{v}'; using 100"),
                        )),
                    },
                    "allowmultiplelogin" => user.allow_multiple_login = parse_bool(v),
                    _ => {}
                }
            }
            if user.secret.is_empty() {
                problems.push(Diagnostic::warning_at(
                    &category.location,
                    "secret",
                    format!("user '{}' has no secret and cannot log in", user.name),
                ));
            }
            conf.users.push(user);
        }
        (conf, problems)
    }

    /// A user by login name (case-sensitive, as Asterisk).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_general_and_users() {
        let config = obelus_conf::parse_str(
            "manager.conf",
            "[general]\nenabled=yes\nport=5038\nbindaddr=127.0.0.1\n\n[admin]\nsecret=s3cret\nread=system,call\nwrite=all\ndeny=0.0.0.0/0.0.0.0\npermit=127.0.0.1/255.255.255.255\nwritetimeout=50\n",
        )
        .unwrap();
        let (conf, problems) = ManagerConf::from_config(&config);
        assert!(conf.enabled);
        assert_eq!(conf.bind_addr, IpAddr::from([127, 0, 0, 1]));
        let admin = conf.user("admin").unwrap();
        assert_eq!(admin.read, classes::SYSTEM | classes::CALL);
        assert_eq!(admin.write, classes::ALL);
        assert!(admin.acl.allows("127.0.0.1".parse().unwrap()));
        assert!(!admin.acl.allows("10.0.0.1".parse().unwrap()));
        assert_eq!(problems.len(), 1, "writetimeout below 100 is reported");
        assert_eq!(
            problems[0].to_string(),
            "manager.conf:12: warning: option 'writetimeout': expected milliseconds >= 100, got '50'; using 100"
        );
    }
}
