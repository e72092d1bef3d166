//! The SIP message logger (`pjsip set logger on|off|host X`): every message
//! received or sent, in Asterisk's format, as a verbose log line. Off costs
//! one atomic load per message.

use std::net::{IpAddr, SocketAddr};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Protocol;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Empty: every host; otherwise only these.
static HOSTS: RwLock<Vec<IpAddr>> = RwLock::new(Vec::new());

/// `pjsip set logger on` / `off`.
pub fn set(on: bool) {
    HOSTS.write().unwrap_or_else(|e| e.into_inner()).clear();
    ENABLED.store(on, Ordering::Relaxed);
}

/// `pjsip set logger host X`: log only messages to and from these hosts.
pub fn add_host(host: IpAddr) {
    HOSTS.write().unwrap_or_else(|e| e.into_inner()).push(host);
    ENABLED.store(true, Ordering::Relaxed);
}

fn wants(peer: IpAddr) -> bool {
    if !ENABLED.load(Ordering::Relaxed) {
        return false;
    }
    let hosts = HOSTS.read().unwrap_or_else(|e| e.into_inner());
    hosts.is_empty() || hosts.contains(&peer)
}

fn log(direction: &str, preposition: &str, protocol: Protocol, peer: SocketAddr, bytes: &[u8]) {
    if !wants(peer.ip()) {
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    let kind = if text.starts_with("SIP/2.0 ") {
        "response"
    } else {
        "request"
    };
    tracing::info!(
        verbose = 0,
        "<--- {direction} SIP {kind} ({} bytes) {preposition} {}:{peer} --->\n{}",
        bytes.len(),
        protocol.via_name(),
        text.trim_end()
    );
}

/// A message arrived from `peer`.
pub fn received(protocol: Protocol, peer: SocketAddr, bytes: &[u8]) {
    log("Received", "from", protocol, peer, bytes);
}

/// A message is being sent to `peer`.
pub fn transmitted(protocol: Protocol, peer: SocketAddr, bytes: &[u8]) {
    log("Transmitting", "to", protocol, peer, bytes);
}
