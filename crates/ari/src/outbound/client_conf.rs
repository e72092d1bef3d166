//! `websocket_client.conf`: where and how Obelus connects when it is the
//! WebSocket client (Asterisk 20.15/21.10/22.5+, shared there with
//! chan_websocket; here ARI outbound WebSockets use it).
//!
//! ```text
//! [ari_persistent]
//! type = websocket_client
//! uri = ws://appserver.example.net:8765/ari
//! protocols = ari
//! username = some_user
//! password = some_password
//! connection_type = persistent      ; or per_call_config
//! connection_timeout = 500          ; ms
//! reconnect_interval = 500          ; ms
//! reconnect_attempts = 4
//! tls_enabled = no                  ; yes, or a wss:// uri: TLS
//! ca_list_file = /etc/ssl/certs/ca-certificates.crt
//! verify_server_cert = yes
//! verify_server_hostname = yes
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use obelus_conf::Config;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::{Settings, parse_bool};

/// The configuration file.
pub const FILE: &str = "websocket_client.conf";

/// When the connection is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionType {
    /// At start, kept open, re-opened when it drops.
    Persistent,
    /// One per call, when `Stasis()` names an application of it.
    PerCall,
}

impl ConnectionType {
    /// As `ari show outbound-websockets` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Persistent => "persistent",
            ConnectionType::PerCall => "per_call_config",
        }
    }
}

/// One `type = websocket_client` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The section name.
    pub id: String,
    /// `uri`: `ws://host[:port][/path]`.
    pub uri: String,
    /// `protocols`: the subprotocols offered (`ari`).
    pub protocols: String,
    /// `username` for HTTP Basic authentication, if any.
    pub username: String,
    /// `password` (never logged).
    pub password: String,
    /// `connection_type`.
    pub connection_type: ConnectionType,
    /// `connection_timeout`: how long one attempt may take.
    pub connection_timeout: Duration,
    /// `reconnect_interval`: the pause between attempts.
    pub reconnect_interval: Duration,
    /// `reconnect_attempts`: attempts before a per-call connection gives up.
    pub reconnect_attempts: u32,
    /// `tls_enabled` (or a `wss://` uri): TLS over the connection.
    pub tls_enabled: bool,
    /// `ca_list_file`: the PEM CAs a server's certificate must chain to.
    pub ca_list_file: PathBuf,
    /// `verify_server_cert`.
    pub verify_server_cert: bool,
    /// `verify_server_hostname`.
    pub verify_server_hostname: bool,
}

/// Where Debian keeps the system's CAs: the default `ca_list_file`.
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Every client, by id.
pub type Clients = BTreeMap<String, Client>;

/// Reads `websocket_client.conf`; a missing file is no clients.
pub fn read(settings: &Settings) -> (Clients, Vec<Diagnostic>) {
    match settings.load_conf(FILE) {
        Ok(config) => from_config(&config),
        Err(e) if e.is_not_found() => (Clients::new(), Vec::new()),
        Err(e) => (Clients::new(), Diagnostic::from_conf_errors(&e)),
    }
}

/// Reads a parsed file; problems name file and line.
pub fn from_config(config: &Config) -> (Clients, Vec<Diagnostic>) {
    let mut clients = Clients::new();
    let mut problems = Vec::new();
    for category in config.categories() {
        match category.get("type").map(str::trim) {
            Some(t) if t.eq_ignore_ascii_case("websocket_client") => {}
            other => {
                problems.push(Diagnostic::warning_at(
                    &category.location,
                    "type",
                    format!(
                        "section '{}' has type '{}' (expected websocket_client); ignored",
                        category.name,
                        other.unwrap_or("")
                    ),
                ));
                continue;
            }
        }
        let mut client = Client {
            id: category.name.clone(),
            uri: String::new(),
            protocols: String::new(),
            username: String::new(),
            password: String::new(),
            connection_type: ConnectionType::Persistent,
            connection_timeout: Duration::from_millis(500),
            reconnect_interval: Duration::from_millis(500),
            reconnect_attempts: 4,
            tls_enabled: false,
            ca_list_file: PathBuf::from(SYSTEM_CAS),
            verify_server_cert: true,
            verify_server_hostname: true,
        };
        let mut ok = true;
        for var in category.variables() {
            let v = var.value.trim();
            let mut bad = |what: &str| {
                problems.push(Diagnostic::error_at(
                    &var.location,
                    &var.name,
                    format!("expected {what}, got '{v}'"),
                ));
                ok = false;
            };
            let millis = |v: &str| v.parse::<u64>().ok().map(Duration::from_millis);
            match var.name.to_ascii_lowercase().as_str() {
                "type" => {}
                "uri" => client.uri = v.to_owned(),
                "protocols" => client.protocols = v.to_owned(),
                "username" => client.username = v.to_owned(),
                "password" => client.password = v.to_owned(),
                "connection_type" => match v.to_ascii_lowercase().as_str() {
                    "persistent" => client.connection_type = ConnectionType::Persistent,
                    "per_call_config" => client.connection_type = ConnectionType::PerCall,
                    _ => bad("persistent or per_call_config"),
                },
                "connection_timeout" => match millis(v) {
                    Some(d) if !d.is_zero() => client.connection_timeout = d,
                    _ => bad("a number of milliseconds"),
                },
                "reconnect_interval" => match millis(v) {
                    Some(d) if !d.is_zero() => client.reconnect_interval = d,
                    _ => bad("a number of milliseconds"),
                },
                "reconnect_attempts" => match v.parse() {
                    Ok(n) => client.reconnect_attempts = n,
                    Err(_) => bad("a number"),
                },
                "tls_enabled" => match parse_bool(v) {
                    Some(b) => client.tls_enabled = b,
                    None => bad("yes or no"),
                },
                "ca_list_file" => client.ca_list_file = PathBuf::from(v),
                "verify_server_cert" => match parse_bool(v) {
                    Some(b) => client.verify_server_cert = b,
                    None => bad("yes or no"),
                },
                "verify_server_hostname" => match parse_bool(v) {
                    Some(b) => client.verify_server_hostname = b,
                    None => bad("yes or no"),
                },
                "ca_list_path" | "cert_file" | "priv_key_file" => {
                    problems.push(Diagnostic::warning_at(
                        &var.location,
                        &var.name,
                        "not supported (no client certificates; CAs come from ca_list_file); ignored",
                    ));
                }
                other => problems.push(Diagnostic::warning_at(
                    &var.location,
                    other,
                    "unknown option for a websocket_client",
                )),
            }
        }
        let scheme_ok = client.uri.starts_with("ws://") || client.uri.starts_with("wss://");
        if !scheme_ok {
            problems.push(Diagnostic::error_at(
                &category.location,
                "uri",
                format!(
                    "websocket_client '{}' needs a ws:// or wss:// uri, got '{}'",
                    client.id, client.uri
                ),
            ));
            ok = false;
        }
        if client.uri.starts_with("wss://") {
            client.tls_enabled = true;
        }
        if ok {
            clients.insert(client.id.clone(), client);
        }
    }
    (clients, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Clients, Vec<Diagnostic>) {
        let config = obelus_conf::parse_str(FILE, text).expect("parses");
        from_config(&config)
    }

    #[test]
    fn options_and_defaults() {
        let (clients, problems) = parse(
            "[app]\ntype=websocket_client\nuri=ws://127.0.0.1:8765/x\nprotocols=ari\n\
             username=u\npassword=p\nreconnect_interval=250\n\
             [pc]\ntype=websocket_client\nuri=ws://h\nconnection_type=per_call_config\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let app = &clients["app"];
        assert_eq!(app.uri, "ws://127.0.0.1:8765/x");
        assert_eq!(app.connection_type, ConnectionType::Persistent);
        assert_eq!(app.reconnect_interval, Duration::from_millis(250));
        assert_eq!(app.connection_timeout, Duration::from_millis(500));
        assert_eq!(app.reconnect_attempts, 4);
        assert_eq!(clients["pc"].connection_type, ConnectionType::PerCall);
    }

    #[test]
    fn bad_values_are_errors_naming_the_line_and_wss_means_tls() {
        let (clients, problems) = parse(
            "[a]\ntype=websocket_client\nuri=http://x\n\
             [b]\ntype=websocket_client\nuri=wss://x\nverify_server_hostname=no\n\
             [c]\ntype=websocket_client\nuri=ws://x\nconnection_timeout=soon\n",
        );
        assert_eq!(clients.keys().collect::<Vec<_>>(), ["b"]);
        let b = &clients["b"];
        assert!(b.tls_enabled && b.verify_server_cert && !b.verify_server_hostname);
        assert_eq!(b.ca_list_file, PathBuf::from(SYSTEM_CAS));
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems.iter().filter(|p| p.is_error()).count(),
            2,
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("websocket_client.conf:11")),
            "{text:?}"
        );
    }
}
