//! How a request Obelus originates leaves (what pjsip's transport manager
//! and Asterisk's transport selectors decide): an INVITE from `Dial`, a
//! qualify OPTIONS, an out-of-dialog MESSAGE, and whatever else the stack
//! sends first, through [`route_request`].
//!
//! In order:
//! 1. The transport: the URI's `transport=` parameter or `sips:` scheme;
//!    else the endpoint's `transport` (a `type=transport` section, whose
//!    protocol is then the only one used), or the one a contact saved
//!    with `symmetric_transport` ([`crate::symmetric`]); else RFC 3263
//!    lookups choose among the transports configured.
//! 2. A contact that registered over TCP, TLS or a WebSocket is reached
//!    down that connection while it is open (see [`crate::flows`]). A
//!    WebSocket contact has no other way: with its socket gone the request
//!    fails.
//! 3. Otherwise the RFC 3263 targets in turn: UDP leaves at once from the
//!    transport's socket (the rest of the list is the failover order); TCP
//!    and TLS reuse a connection open to the target or open one (TLS with
//!    the transport's `verify_server`, `ca_list_file`, `ca_list_path`),
//!    the next target tried when that fails.
//!
//! The result is a [`Route`]: where to write (the [`Reply`]), the Via to
//! put (transport and sent-by, public when the peer is outside
//! `local_net`), and whether the transport is reliable (no
//! retransmissions, RFC 3261 §17.1.1.2 and §17.1.2.2).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use obelus_core::channel::Cause;
use obelus_sip::Uri;
use obelus_sip::locate::{Options, Transport};
use obelus_sip::uri::Scheme;
use obelus_sorcery::Object;
use obelus_transport::tls::TlsConnector;
use obelus_transport::{Protocol, Reply, StreamTransport};
use tokio::net::UdpSocket;

use crate::session::nat::{self, Advertised};
use crate::stack::Shared;

/// The peer cannot be reached over any connection (ISDN cause 27,
/// "Destination out of order"; `Dial` reports CHANUNAVAIL).
pub(crate) const DESTINATION_OUT_OF_ORDER: Cause = Cause(27);

/// The transports requests can leave by: every UDP socket, every TCP, TLS
/// and WebSocket transport, and the TLS client configuration of each TLS
/// one.
#[derive(Default)]
pub(crate) struct Outbound {
    udp: Vec<(String, Arc<UdpSocket>)>,
    streams: Vec<StreamTransport>,
    /// By TLS transport name; the error says why none could be built.
    tls: HashMap<String, Result<TlsConnector, String>>,
}

impl Outbound {
    /// Adds a UDP transport's socket.
    pub(crate) fn add_udp(&mut self, name: &str, socket: Arc<UdpSocket>) {
        self.udp.push((name.to_owned(), socket));
    }

    /// Adds a TCP, TLS or WebSocket transport.
    pub(crate) fn add_stream(&mut self, stream: StreamTransport) {
        self.streams.push(stream);
    }

    /// Sets the TLS client configuration of TLS transport `name`.
    pub(crate) fn set_tls(&mut self, name: &str, client: Result<TlsConnector, String>) {
        self.tls.insert(name.to_owned(), client);
    }

    /// The protocol of transport `name`, if it runs.
    fn protocol_of(&self, name: &str) -> Option<Protocol> {
        if self.udp.iter().any(|(n, _)| n == name) {
            return Some(Protocol::Udp);
        }
        self.streams
            .iter()
            .find(|s| s.name() == name)
            .map(StreamTransport::protocol)
    }

    fn has(&self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Udp => !self.udp.is_empty(),
            _ => self.streams.iter().any(|s| s.protocol() == protocol),
        }
    }

    /// The UDP transport `preferred`, else the first.
    fn udp(&self, preferred: Option<&str>) -> Option<&(String, Arc<UdpSocket>)> {
        preferred
            .and_then(|p| self.udp.iter().find(|(n, _)| n == p))
            .or_else(|| self.udp.first())
    }

    /// The `protocol` transport `preferred`, else the first of that
    /// protocol.
    fn stream(&self, protocol: Protocol, preferred: Option<&str>) -> Option<&StreamTransport> {
        let of = |s: &&StreamTransport| s.protocol() == protocol;
        preferred
            .and_then(|p| self.streams.iter().filter(of).find(|s| s.name() == p))
            .or_else(|| self.streams.iter().find(of))
    }

    /// The address families requests can leave from.
    fn families(&self) -> (bool, bool) {
        let locals = self
            .udp
            .iter()
            .filter_map(|(_, s)| s.local_addr().ok())
            .chain(self.streams.iter().map(StreamTransport::local_addr));
        let (mut v4, mut v6) = (false, false);
        for local in locals {
            v4 |= local.is_ipv4();
            v6 |= local.is_ipv6();
        }
        (v4 || !v6, v6)
    }
}

/// How one request reaches its target.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// Where to write it (and what follows in its dialog).
    pub reply: Reply,
    /// The transport's protocol.
    pub protocol: Protocol,
    /// The `type=transport` section it leaves by.
    pub transport: Arc<str>,
    /// Via transport and sent-by (`TCP 192.0.2.1:5060`), as
    /// [`crate::session::dialog::Dialog::request`] takes it.
    pub via: String,
    /// No retransmissions (TCP, TLS, WebSocket).
    pub reliable: bool,
    /// The peer's address.
    pub peer: SocketAddr,
    /// Our address toward the peer (for SDP and local URIs).
    pub local: SocketAddr,
    /// Our public addresses toward the peer, when it is outside
    /// `local_net`.
    pub public: Advertised,
    /// `host:port` for Via and Contact (public or local).
    pub sip_host: String,
    /// The RFC 3263 targets after this one, in order (UDP; a stream route
    /// tried them already).
    pub alternates: Vec<SocketAddr>,
}

impl Route {
    /// A Contact URI for `user` here: `sip:user@host:port`, with the
    /// transport parameter for anything but UDP (so the peer's requests
    /// come back over the same kind of transport).
    pub(crate) fn contact(&self, user: &str) -> String {
        match self.protocol.uri_param() {
            None => format!("sip:{user}@{}", self.sip_host),
            Some(t) => format!("sip:{user}@{};transport={t}", self.sip_host),
        }
    }
}

/// Why a request cannot leave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RouteError {
    /// No transport of the kind the target needs is configured.
    #[error("{0}")]
    NoTransport(String),
    /// The target's host cannot be found (RFC 3263 lookups).
    #[error("{0}")]
    Unresolvable(String),
    /// No connection reaches the target: its WebSocket is closed, or
    /// connecting failed.
    #[error("{0}")]
    Unreachable(String),
}

impl RouteError {
    /// The hangup cause of a call that cannot be placed for this reason.
    pub(crate) fn cause(&self) -> Cause {
        match self {
            RouteError::NoTransport(_) => Cause::CHAN_NOT_IMPLEMENTED,
            RouteError::Unresolvable(_) => Cause::NO_ROUTE_DESTINATION,
            RouteError::Unreachable(_) => DESTINATION_OUT_OF_ORDER,
        }
    }
}

/// The transport the URI asks for (`transport=`, `sips:`); `None` when it
/// leaves the choice to the sender.
fn uri_protocol(uri: &Uri<'_>) -> Result<Option<Protocol>, RouteError> {
    let sips = uri.scheme() == Scheme::Sips;
    let Some(param) = uri.transport() else {
        return Ok(sips.then_some(Protocol::Tls));
    };
    match param.to_ascii_lowercase().as_str() {
        "udp" if !sips => Ok(Some(Protocol::Udp)),
        "tcp" if sips => Ok(Some(Protocol::Tls)),
        "tcp" => Ok(Some(Protocol::Tcp)),
        "tls" => Ok(Some(Protocol::Tls)),
        "ws" => Ok(Some(Protocol::Ws)),
        "wss" => Ok(Some(Protocol::Wss)),
        other => Err(RouteError::NoTransport(format!(
            "transport={other} is not supported"
        ))),
    }
}

fn locate_transport(protocol: Protocol) -> Option<Transport> {
    match protocol {
        Protocol::Udp => Some(Transport::Udp),
        Protocol::Tcp => Some(Transport::Tcp),
        Protocol::Tls => Some(Transport::Tls),
        Protocol::Ws | Protocol::Wss => None,
    }
}

fn protocol_of(transport: Transport) -> Protocol {
    match transport {
        Transport::Udp => Protocol::Udp,
        Transport::Tcp => Protocol::Tcp,
        Transport::Tls => Protocol::Tls,
    }
}

/// How a request to `uri` leaves, for `endpoint` (its `transport` option)
/// when known; see the module documentation. A TCP or TLS connection may
/// be opened here. Failures say what was tried, for the log line.
pub(crate) async fn route_request(
    shared: &Shared,
    uri: &str,
    endpoint: Option<&Object>,
) -> Result<Route, RouteError> {
    let transport = endpoint.and_then(|e| e.str("transport"));
    let owner = endpoint.map(|e| format!("endpoint '{}'", e.id()));
    route_by(
        shared,
        uri,
        transport,
        owner.as_deref().unwrap_or("endpoint"),
    )
    .await
}

/// [`route_request`] with the `transport` option of another object (an
/// outbound registration's); `owner` names it in the log line.
pub(crate) async fn route_by(
    shared: &Shared,
    uri: &str,
    transport: Option<&str>,
    owner: &str,
) -> Result<Route, RouteError> {
    route_avoiding(shared, uri, transport, owner, &[]).await
}

/// [`route_by`] leaving out the RFC 3263 targets in `avoid` (those that
/// already timed out or answered 503: RFC 3263 §4.3 failover of a
/// request that is sent again, as an outbound REGISTER is).
pub(crate) async fn route_avoiding(
    shared: &Shared,
    uri: &str,
    transport: Option<&str>,
    owner: &str,
    avoid: &[SocketAddr],
) -> Result<Route, RouteError> {
    let parsed = Uri::parse(uri).map_err(|e| RouteError::Unresolvable(format!("'{uri}': {e}")))?;
    let explicit = uri_protocol(&parsed)?;
    let outbound = &shared.outbound;
    let chosen = transport
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| crate::symmetric::saved_transport(&parsed));
    let bound = match chosen {
        Some(name) => match outbound.protocol_of(name) {
            Some(p) => Some((name, p)),
            None => {
                tracing::warn!(
                    "PJSIP {owner}: transport '{name}' is not running; choosing another"
                );
                None
            }
        },
        None => None,
    };
    // The URI wins over the endpoint's transport, as pjsip's does.
    let forced = explicit.or(bound.map(|(_, p)| p));
    let preferred =
        |protocol: Protocol| bound.filter(|(_, p)| *p == protocol).map(|(name, _)| name);
    if let Some(route) = by_flow(shared, uri, forced).await? {
        return Ok(route);
    }
    if forced.is_some_and(Protocol::is_websocket) {
        return Err(RouteError::Unreachable(format!(
            "'{uri}' is a WebSocket contact with no open connection (it must register again)"
        )));
    }
    if let Some(p) = forced
        && !outbound.has(p)
    {
        return Err(RouteError::NoTransport(format!(
            "no {} transport is configured to reach '{uri}'",
            p.as_str()
        )));
    }
    let (ipv4, ipv6) = outbound.families();
    let options = Options {
        transports: [Protocol::Udp, Protocol::Tcp, Protocol::Tls]
            .into_iter()
            .filter(|p| outbound.has(*p))
            .filter_map(locate_transport)
            .collect(),
        // A transport= of the URI is the locator's to read.
        forced: if explicit.is_some() {
            None
        } else {
            forced.and_then(locate_transport)
        },
        ipv4,
        ipv6,
    };
    if options.transports.is_empty() {
        return Err(RouteError::NoTransport(
            "no UDP, TCP or TLS transport is configured".to_owned(),
        ));
    }
    let mut targets = shared
        .resolver
        .locate(uri, &options)
        .await
        .map_err(RouteError::Unresolvable)?;
    targets.retain(|t| !avoid.contains(&t.addr));
    let mut failures = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let protocol = protocol_of(target.transport);
        if protocol == Protocol::Udp {
            let Some((name, socket)) = outbound.udp(preferred(protocol)) else {
                continue;
            };
            let Ok(local) = socket.local_addr() else {
                continue;
            };
            let reply = Reply::Udp {
                socket: Arc::clone(socket),
                peer: target.addr,
            };
            let alternates = targets[i + 1..]
                .iter()
                .filter(|t| t.transport == Transport::Udp)
                .map(|t| t.addr)
                .collect();
            let mut route = build(shared, reply, protocol, name, local, target.addr).await;
            route.alternates = alternates;
            return Ok(route);
        }
        let Some(stream) = outbound.stream(protocol, preferred(protocol)) else {
            continue;
        };
        let tls = match protocol {
            Protocol::Tls => match outbound.tls.get(stream.name()) {
                Some(Ok(connector)) => Some((connector, target.host.as_str())),
                Some(Err(why)) => {
                    failures.push(format!("{}: {why}", target.addr));
                    continue;
                }
                None => None,
            },
            _ => None,
        };
        match stream.connect(target.addr, tls).await {
            Ok(reply) => {
                let name = stream.name().to_owned();
                let local = stream.local_addr();
                return Ok(build(shared, reply, protocol, &name, local, target.addr).await);
            }
            Err(e) => {
                tracing::warn!(
                    "PJSIP: {} to '{uri}': {e}{}",
                    protocol.via_name(),
                    if i + 1 < targets.len() {
                        "; trying the next target"
                    } else {
                        ""
                    }
                );
                failures.push(e.to_string());
            }
        }
    }
    Err(RouteError::Unreachable(if failures.is_empty() {
        format!("no transport reaches '{uri}'")
    } else {
        failures.join("; ")
    }))
}

/// The route down the connection the contact at `uri` registered over,
/// while it is open. `Err` for a WebSocket contact whose socket is gone.
async fn by_flow(
    shared: &Shared,
    uri: &str,
    forced: Option<Protocol>,
) -> Result<Option<Route>, RouteError> {
    let Some(flow) = shared.flows.get(uri) else {
        return Ok(None);
    };
    // `transport=ws` names either WebSocket kind (RFC 7118 §5.2).
    if forced
        .is_some_and(|p| p != flow.protocol && !(p.is_websocket() && flow.protocol.is_websocket()))
    {
        return Ok(None);
    }
    let stream = shared
        .outbound
        .streams
        .iter()
        .find(|s| s.name() == &*flow.transport && s.protocol() == flow.protocol);
    match stream.and_then(|s| s.connection_to(flow.source)) {
        Some(reply) => {
            let local = stream.map_or(flow.source, StreamTransport::local_addr);
            Ok(Some(
                build(
                    shared,
                    reply,
                    flow.protocol,
                    &flow.transport,
                    local,
                    flow.source,
                )
                .await,
            ))
        }
        None if flow.protocol.is_websocket() => Err(RouteError::Unreachable(format!(
            "the WebSocket '{uri}' registered over (from {}) is closed",
            flow.source
        ))),
        None => Ok(None),
    }
}

/// The route to `peer`: our address toward it, the public ones
/// if it is outside the transport's `local_net`; no alternates (a UDP
/// route adds the rest of its targets).
async fn build(
    shared: &Shared,
    reply: Reply,
    protocol: Protocol,
    transport: &str,
    bound: SocketAddr,
    peer: SocketAddr,
) -> Route {
    let local = SocketAddr::new(crate::session::local_ip_for(bound.ip(), peer), bound.port());
    let public = match shared.sorcery.get() {
        Some(sorcery) => nat::advertised(&sorcery, transport, peer.ip(), bound.port()).await,
        None => Advertised::default(),
    };
    let sip_host = nat::sip_address(&public, local);
    Route {
        reply,
        protocol,
        transport: Arc::from(transport),
        via: format!("{} {sip_host}", protocol.via_name()),
        reliable: protocol.is_reliable(),
        peer,
        local,
        public,
        sip_host,
        alternates: Vec::new(),
    }
}

/// The TLS client configuration of TLS transport `t` (Asterisk's options):
/// `verify_server=no` (the default) accepts any certificate; `yes` checks
/// the chain against `ca_list_file` and the files of `ca_list_path`
/// (relative to the configuration directory `etc`), or the system's CA
/// bundle when neither is set, and the name the target was reached by.
pub(crate) fn tls_client(t: &Object, etc: &Path) -> Result<TlsConnector, String> {
    let verify = t.bool("verify_server").unwrap_or(false);
    let path = |option: &str| {
        t.str(option)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                let p = Path::new(v);
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    etc.join(p)
                }
            })
    };
    let mut files = path("ca_list_file").into_iter().collect::<Vec<_>>();
    let mut dirs = path("ca_list_path").into_iter().collect::<Vec<_>>();
    if verify && files.is_empty() && dirs.is_empty() {
        let bundle = Path::new(SYSTEM_CA_BUNDLE);
        if bundle.exists() {
            files.push(bundle.to_path_buf());
        } else {
            dirs.push(Path::new(SYSTEM_CA_DIR).to_path_buf());
        }
    }
    let files: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let dirs: Vec<&Path> = dirs.iter().map(|p| p.as_path()).collect();
    obelus_transport::tls::client_connector(&files, &dirs, verify, verify)
}

/// Debian's bundle of the system's trusted CAs.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The system's CA directory, where there is no bundle.
const SYSTEM_CA_DIR: &str = "/etc/ssl/certs";

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(uri: &str) -> Result<Option<Protocol>, RouteError> {
        uri_protocol(&Uri::parse(uri).unwrap())
    }

    /// RFC 3261 §19.1.1 / RFC 3263 §4.1: `transport=` names the transport,
    /// a SIPS URI means TLS (`transport=tcp` in a SIPS URI too).
    #[test]
    fn the_uri_names_its_transport() {
        assert_eq!(protocol("sip:a@192.0.2.1"), Ok(None));
        assert_eq!(
            protocol("sip:a@192.0.2.1;transport=TCP"),
            Ok(Some(Protocol::Tcp))
        );
        assert_eq!(
            protocol("sip:a@192.0.2.1;transport=tls"),
            Ok(Some(Protocol::Tls))
        );
        assert_eq!(
            protocol("sip:a@h.invalid;transport=ws"),
            Ok(Some(Protocol::Ws))
        );
        assert_eq!(
            protocol("sip:a@h.invalid;transport=wss"),
            Ok(Some(Protocol::Wss))
        );
        assert_eq!(protocol("sips:a@192.0.2.1"), Ok(Some(Protocol::Tls)));
        assert_eq!(
            protocol("sips:a@192.0.2.1;transport=tcp"),
            Ok(Some(Protocol::Tls))
        );
        assert!(matches!(
            protocol("sip:a@192.0.2.1;transport=sctp"),
            Err(RouteError::NoTransport(_))
        ));
    }

    #[test]
    fn contacts_say_their_transport_unless_udp() {
        let route = |protocol| Route {
            reply: Reply::Tcp(tokio::sync::mpsc::channel(1).0),
            protocol,
            transport: Arc::from("t"),
            via: String::new(),
            reliable: true,
            peer: "192.0.2.2:5060".parse().unwrap(),
            local: "192.0.2.1:5061".parse().unwrap(),
            public: Advertised::default(),
            sip_host: "192.0.2.1:5061".into(),
            alternates: Vec::new(),
        };
        assert_eq!(route(Protocol::Udp).contact("x"), "sip:x@192.0.2.1:5061");
        assert_eq!(
            route(Protocol::Tls).contact("x"),
            "sip:x@192.0.2.1:5061;transport=tls"
        );
        // RFC 7118 §5.2: secure or not, a WebSocket URI says `ws`.
        assert_eq!(
            route(Protocol::Wss).contact("x"),
            "sip:x@192.0.2.1:5061;transport=ws"
        );
    }

    /// Unknown CA files are named in the error; `verify_server=no` needs
    /// none.
    #[test]
    fn tls_clients_follow_verify_server() {
        let dir = std::env::temp_dir();
        let kind = Arc::new(crate::objects::transport::object_type().unwrap());
        let object = |options: &[(&str, &str)]| {
            let mut o = kind.new_object("t");
            for (k, v) in options {
                o.set(k, v).unwrap();
            }
            o
        };
        assert!(tls_client(&object(&[("protocol", "tls")]), &dir).is_ok());
        let err = tls_client(
            &object(&[
                ("verify_server", "yes"),
                ("ca_list_file", "/nonexistent/ca.pem"),
            ]),
            &dir,
        )
        .err()
        .expect("refused");
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
