//! The SIP stack glue: transports -> server transactions -> the SIP
//! applications (registrar, OPTIONS) -> responses.
//!
//! Every listener hands what it receives to the stack on its own receive
//! task ([`StackSink`]); each new request gets a server transaction (RFC
//! 3261 §17.2) that absorbs retransmissions, and its answer is computed
//! there too unless it has to wait, when it moves to a task of its own. A timer task fires the
//! transactions' timers as they fall due (a heap, see [`crate::txn_table`]),
//! and a pruning task deletes lapsed contacts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use obelus_core::Core;
use obelus_core::events::{Event, SecurityEvent, SecurityKind};
use obelus_sip::digest::Algorithm;
use obelus_sip::parse::split_list;
use obelus_sip::transaction::{ServerTransaction, TimerConfig, TransactionKey};
use obelus_sip::{
    HeaderName, Message, Method, Request, Response, ResponseBuilder, StatusCode, Via, new_tag,
};
use obelus_sorcery::{Sorcery, SorceryService};
use obelus_transport::{
    Incoming, Listener, Protocol, Reply, SharedSink, Sink, TransportConfig, parse_bind,
};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::auth::{Authenticator, Credential, DEFAULT_REALM, Verdict};
use crate::contacts::{self, Owner};
use crate::identify;
use crate::registrar::{self, AorPolicy, Outcome};
use crate::txn_table::{Txn, TxnTable, drain};

/// What the stack answers in `Allow`: the methods it implements.
pub const ALLOW: &str = "OPTIONS, REGISTER, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, MESSAGE";
/// Requests processed concurrently (registrar work waits on storage).
const MAX_IN_FLIGHT: usize = 1024;
/// Locks the registrar's AORs hash onto (see `Shared::register_locks`).
const REGISTER_LOCKS: usize = 64;
/// How often due transaction timers are fired (Timer G starts at 500 ms,
/// so 50 ms is a tenth of the shortest).
const TICK: Duration = Duration::from_millis(50);
/// How often lapsed contacts are pruned when `[global]` does not say
/// (Asterisk's `contact_expiration_check_interval` default, seconds).
const PRUNE_EVERY: u64 = 30;

/// The running SIP stack; [`SipStack::stop`] (or drop) closes the sockets
/// and ends its tasks.
#[derive(Debug)]
pub struct SipStack {
    listeners: Vec<Listener>,
    tasks: Vec<JoinHandle<()>>,
    registrations: Arc<crate::outbound_registration::OutboundRegistrations>,
}

impl SipStack {
    /// Each listener's name, protocol and bound address.
    pub fn listeners(&self) -> Vec<(String, Protocol, SocketAddr)> {
        self.listeners
            .iter()
            .map(|l| (l.config().name.clone(), l.config().protocol, l.local_addr()))
            .collect()
    }

    /// The outbound registrations sending from this stack.
    pub fn outbound_registrations(
        &self,
    ) -> Arc<crate::outbound_registration::OutboundRegistrations> {
        Arc::clone(&self.registrations)
    }

    /// Stops every listener and task.
    pub fn stop(&self) {
        for l in &self.listeners {
            l.stop();
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for SipStack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads the `type=transport` objects, binds them, and starts the stack.
/// A transport that cannot start is logged and skipped (as Asterisk does);
/// the error is only for a stack that cannot run at all.
pub async fn start_sip(core: &Arc<Core>, sorcery: Arc<SorceryService>) -> Result<SipStack, String> {
    let store = sorcery
        .get()
        .ok_or_else(|| "PJSIP sorcery is not built".to_owned())?;
    let mut configs = Vec::new();
    let mut websockets = Vec::new();
    let mut outbound = crate::route::Outbound::default();
    let mut symmetric = std::collections::HashSet::new();
    for t in store
        .retrieve_all("transport")
        .await
        .map_err(|e| format!("transports: {e}"))?
        .iter()
    {
        let proto = t.str("protocol").unwrap_or("udp");
        let Some(protocol) = Protocol::parse(proto) else {
            tracing::warn!(
                "PJSIP transport '{}': protocol {proto} is not supported yet; skipped",
                t.id()
            );
            continue;
        };
        if t.bool("symmetric_transport").unwrap_or(false) {
            symmetric.insert(t.id().to_owned());
        }
        if protocol.is_websocket() {
            // Served by the HTTP(S) server's /ws; bind is http.conf's.
            websockets.push((t.id().to_owned(), protocol));
            continue;
        }
        let bind = match parse_bind(t.str("bind").unwrap_or("")) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("PJSIP transport '{}': {e}; not started", t.id());
                continue;
            }
        };
        let acceptor = if protocol == Protocol::Tls {
            let client = crate::route::tls_client(t, &core.settings.dirs.etc);
            if let Err(e) = &client {
                tracing::error!(
                    "PJSIP transport '{}': {e}; it cannot connect out over TLS",
                    t.id()
                );
            }
            outbound.set_tls(t.id(), client);
            let path = |option: &str| {
                let p = std::path::Path::new(t.str(option).unwrap_or(""));
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    core.settings.dirs.etc.join(p)
                }
            };
            match obelus_transport::tls::acceptor(&path("cert_file"), &path("priv_key_file")) {
                Ok(acceptor) => Some(acceptor),
                Err(e) => {
                    tracing::error!(
                        "PJSIP transport '{}': {e}; not started (set cert_file and priv_key_file)",
                        t.id()
                    );
                    continue;
                }
            }
        } else {
            None
        };
        configs.push((
            TransportConfig {
                name: t.id().to_owned(),
                protocol,
                bind,
            },
            acceptor,
        ));
    }
    let sink = Arc::new(StackSink {
        shared: std::sync::OnceLock::new(),
    });
    let tx: SharedSink = Arc::clone(&sink) as SharedSink;
    serve_websockets(core, &websockets, &tx, &mut outbound);
    let mut listeners = Vec::new();
    for (config, acceptor) in configs {
        let name = config.name.clone();
        // As Asterisk: a transport that cannot bind is reported and left
        // out; the others run.
        let started = match acceptor {
            Some(acceptor) => Listener::start_tls(config, acceptor, tx.clone()).await,
            None => Listener::start(config, tx.clone()).await,
        };
        let listener = match started {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("PJSIP transport '{name}' could not be started: {e}");
                continue;
            }
        };
        tracing::info!(
            "PJSIP transport '{name}' listening on {} ({})",
            listener.local_addr(),
            listener.config().protocol.as_str()
        );
        if let Some(socket) = listener.udp_socket() {
            outbound.add_udp(&name, socket);
        }
        if let Some(stream) = listener.stream() {
            outbound.add_stream(stream);
        }
        listeners.push(listener);
    }
    let shared = Arc::new(Shared {
        core: Arc::clone(core),
        sorcery,
        auth: Authenticator::default(),
        txns: Mutex::new(TxnTable::default()),
        register_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
        busy: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        pending: Arc::new(crate::uac::Pending::default()),
        reg_server: core.settings.options.system_name.clone(),
        sessions: crate::session::Sessions::default(),
        registrations: Arc::default(),
        resolver: Arc::new(crate::resolver::Resolver::load(&core.settings)),
        outbound,
        symmetric,
        flows: crate::flows::Flows::default(),
    });
    // Until now the listeners' input was dropped (a UDP peer retransmits).
    let _ = sink.shared.set(Arc::clone(&shared));
    core.channels
        .register_technology(Arc::new(crate::session::tech::PjsipTechnology {
            shared: Arc::downgrade(&shared),
        }));
    core.messages
        .register_tech(Arc::new(crate::messaging::PjsipMessaging {
            shared: Arc::downgrade(&shared),
        }));
    let mut tasks = vec![tokio::spawn(timers(Arc::clone(&shared)))];
    // Qualify pings leave as any request of ours does (route.rs).
    tasks.push(crate::qualify::spawn(Arc::clone(&shared)));
    // `contact_expiration_check_interval`: 0 turns the check off.
    let every = store
        .retrieve_all("global")
        .await
        .ok()
        .and_then(|g| {
            g.first()
                .and_then(|o| o.str("contact_expiration_check_interval"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .unwrap_or(PRUNE_EVERY);
    if every > 0 {
        tasks.push(tokio::spawn(prune(
            Arc::clone(&shared),
            Duration::from_secs(every),
        )));
    }
    shared.registrations.attach(Arc::downgrade(&shared));
    Ok(SipStack {
        listeners,
        tasks,
        registrations: Arc::clone(&shared.registrations),
    })
}

/// Serves the first `protocol=ws` and the first `protocol=wss` transport
/// at `/ws` of the HTTP server (plain and secure), if there are any.
fn serve_websockets(
    core: &Core,
    websockets: &[(String, Protocol)],
    sink: &SharedSink,
    outbound: &mut crate::route::Outbound,
) {
    use obelus_transport::ws::WsTransport;
    if websockets.is_empty() {
        return;
    }
    let first = |kind: Protocol| {
        let mut of_kind = websockets.iter().filter(|(_, p)| *p == kind);
        let first = of_kind.next().map(|(name, _)| name.as_str());
        for (extra, _) in of_kind {
            tracing::warn!(
                "PJSIP transport '{extra}': protocol={} is served by '{}' already; ignored",
                kind.as_str(),
                first.unwrap_or_default()
            );
        }
        first
    };
    let (ws, wss) = (first(Protocol::Ws), first(Protocol::Wss));
    let Some(http) = core.service::<obelus_http::HttpService>() else {
        for (name, protocol) in websockets {
            tracing::error!(
                "PJSIP transport '{name}': protocol={} needs the HTTP server (http.conf: enabled = yes)",
                protocol.as_str()
            );
        }
        return;
    };
    let conf = http.conf();
    let https = http.https_address();
    if let Some(name) = wss
        && https.is_none()
    {
        tracing::error!(
            "PJSIP transport '{name}': protocol=wss needs the HTTPS server, which is not running \
             (http.conf: enabled = yes, tlsenable = yes, tlscertfile)"
        );
    }
    let plain = ws.map(|name| WsTransport {
        name,
        local: conf.bind,
    });
    let secure = wss.map(|name| WsTransport {
        name,
        local: https.unwrap_or(conf.tls.bind),
    });
    let (routes, handles) = obelus_transport::ws::routes(plain, secure, sink.clone());
    http.add(routes, &[("/ws", "SIP over WebSocket")]);
    for handle in handles {
        tracing::info!(
            "PJSIP transport '{}' serving SIP over {} on the HTTP{} server's /ws",
            handle.name(),
            if handle.protocol() == Protocol::Wss {
                "secure WebSocket"
            } else {
                "WebSocket"
            },
            if handle.protocol() == Protocol::Wss {
                "S"
            } else {
                ""
            }
        );
        outbound.add_stream(handle);
    }
}

/// What the stack's tasks share: configuration access, the transactions,
/// the sessions.
pub(crate) struct Shared {
    pub(crate) core: Arc<Core>,
    pub(crate) sorcery: Arc<SorceryService>,
    pub(crate) auth: Authenticator,
    txns: Mutex<TxnTable>,
    /// REGISTERs of one AOR are applied one at a time (read the bindings,
    /// decide, store), so two refreshes racing cannot both add a contact
    /// past `max_contacts`; AORs hash onto these locks, so registrations of
    /// different AORs rarely wait for each other.
    register_locks: [tokio::sync::Mutex<()>; REGISTER_LOCKS],
    reg_server: String,
    /// Client transactions (qualify pings, session requests) waiting for
    /// their responses.
    pub(crate) pending: Arc<crate::uac::Pending>,
    /// The call legs.
    pub(crate) sessions: crate::session::Sessions,
    /// The outbound registrations (res_pjsip_outbound_registration).
    pub(crate) registrations: Arc<crate::outbound_registration::OutboundRegistrations>,
    /// RFC 3263 lookups of the hosts requests are sent to.
    pub(crate) resolver: Arc<crate::resolver::Resolver>,
    /// Every transport requests of our own can leave by
    /// ([`crate::route::route_request`]).
    pub(crate) outbound: crate::route::Outbound,
    /// The transports with `symmetric_transport=yes`: contacts registered
    /// over them are reached back over them ([`crate::symmetric`]).
    pub(crate) symmetric: std::collections::HashSet<String>,
    /// The connections contacts registered over.
    pub(crate) flows: crate::flows::Flows,
    /// Bounds the requests being worked on at once; when all are taken the
    /// listeners drop (and count) what arrives, rather than spawning
    /// without limit.
    busy: Arc<Semaphore>,
}

/// Where a request came from, for answers, events and contacts.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) source: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) protocol: Protocol,
    /// The `type=transport` section it arrived on.
    pub(crate) transport: Arc<str>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn send_all(reply: &Reply, out: Vec<Bytes>) {
    for bytes in out {
        let Err(bytes) = reply.try_send(bytes) else {
            continue;
        };
        if let Err(e) = reply.send(bytes).await {
            tracing::debug!("SIP: send failed: {e}");
        }
    }
}

impl Shared {
    pub(crate) fn register_lock(&self, aor: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(aor);
        let slot = usize::try_from(hash % REGISTER_LOCKS as u64).unwrap_or(0);
        &self.register_locks[slot]
    }

    fn with_txn<R>(&self, key: &TransactionKey, f: impl FnOnce(&mut Txn) -> R) -> Option<R> {
        self.txns.lock().ok()?.with(key, f)
    }

    /// Sends a response through the server transaction `key` (which then
    /// retransmits it as RFC 3261 §17.2 says); false if the transaction is
    /// gone or in a state that cannot send it.
    pub(crate) async fn send_in_txn(&self, key: &TransactionKey, response: &Response) -> bool {
        let out = self.with_txn(key, |txn| {
            if let Err(e) = txn.t.send_response(response, Instant::now()) {
                tracing::debug!("SIP: response not sent: {e}");
                return None;
            }
            Some((drain(&mut txn.t), txn.reply.clone()))
        });
        match out.flatten() {
            Some((out, reply)) => {
                send_all(&reply, out).await;
                true
            }
            None => false,
        }
    }
}

/// The stack as the listeners' [`Sink`]: each message is handled on the
/// task that received it, and only work that has to wait (storage, a
/// session's mailbox, a full socket) moves to a task of its own.
struct StackSink {
    /// Set once the stack is built, just after the listeners bound.
    shared: std::sync::OnceLock<Arc<Shared>>,
}

impl Sink for StackSink {
    fn closed(&self, transport: &str, _protocol: Protocol, peer: SocketAddr) {
        let Some(shared) = self.shared.get() else {
            return;
        };
        let gone = shared.flows.closed(transport, peer);
        if !gone.is_empty() {
            tokio::spawn(crate::flows::remove_contacts(Arc::clone(shared), gone));
        }
    }

    fn deliver(&self, inc: Incoming) -> Result<(), Incoming> {
        let Some(shared) = self.shared.get().map(Arc::clone) else {
            return Err(inc);
        };
        if let Message::Response(resp) = inc.message {
            // Responses belong to client transactions (qualify pings,
            // sessions); one that matches none is dropped (RFC 3261 §18.1.2).
            shared.pending.deliver(resp);
            return Ok(());
        }
        // Bounds the requests being worked on at once: when all permits
        // are taken the request is dropped (and counted by the listener);
        // a UDP peer retransmits it.
        let Ok(permit) = Arc::clone(&shared.busy).try_acquire_owned() else {
            return Err(inc);
        };
        run_inline(async move {
            let _permit = permit;
            handle(&shared, inc).await;
        });
        Ok(())
    }
}

/// Polls `work` once here and now; only if it has to wait is it spawned as
/// a task. Most requests (a REGISTER challenge or refresh, OPTIONS, a
/// retransmission) complete in that first poll, which saves the two thread
/// hand-offs a queue and a spawned task cost per request.
fn run_inline(work: impl Future<Output = ()> + Send + 'static) {
    let mut work = Box::pin(work);
    // A future registers the waker of every poll; the spawned task polls it
    // again at once with its own, so the no-op waker of this first poll is
    // never the one that has to wake it.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if work.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(work);
    }
}

/// One request: absorbed by its transaction if a retransmission, else a new
/// server transaction and the application's answer.
async fn handle(shared: &Arc<Shared>, inc: Incoming) {
    let Message::Request(req) = inc.message else {
        return;
    };
    let origin = Origin {
        source: inc.source,
        local: inc.local,
        protocol: inc.protocol,
        transport: Arc::clone(&inc.transport),
    };
    let Some(key) = TransactionKey::for_request(&req) else {
        // No RFC 3261 branch: answer without a transaction.
        if req.method() != &Method::Ack
            && let Some(resp) = respond(shared, &req, &origin).await
        {
            send_all(&inc.reply, vec![resp.to_bytes()]).await;
        }
        return;
    };
    let now = Instant::now();
    let retransmit = shared.with_txn(&key, |txn| {
        txn.t.handle_request(req.clone(), now);
        (drain(&mut txn.t), txn.reply.clone())
    });
    if let Some((out, reply)) = retransmit {
        send_all(&reply, out).await;
        return;
    }
    if req.method() == &Method::Ack {
        // The ACK of a 2xx is its own transaction: it belongs to the
        // session (RFC 3261 §13.2.2.4); others are dropped.
        if let Some(tx) = shared.sessions.for_request(&req) {
            let _ = tx.try_send(crate::session::Input::Request {
                req: Box::new(req),
                key: None,
                origin,
            });
        }
        return;
    }
    let Ok(mut t) =
        ServerTransaction::new(&req, inc.protocol.is_reliable(), TimerConfig::default())
    else {
        return;
    };
    let first = drain(&mut t);
    if let Ok(mut table) = shared.txns.lock() {
        table.insert(key.clone(), Txn::new(t, inc.reply.clone()));
    }
    send_all(&inc.reply, first).await;
    let Some(req) = crate::session::route(shared, req, &key, &origin, inc.reply).await else {
        return;
    };
    let Some(resp) = respond(shared, &req, &origin).await else {
        // Silently dropped (throttled): forget the transaction.
        if let Ok(mut table) = shared.txns.lock() {
            table.remove(&key);
        }
        return;
    };
    let out = shared.with_txn(&key, |txn| {
        if let Err(e) = txn.t.send_response(&resp, Instant::now()) {
            tracing::debug!("SIP: response not sent: {e}");
        }
        (drain(&mut txn.t), txn.reply.clone())
    });
    if let Some((out, reply)) = out {
        send_all(&reply, out).await;
    }
}

async fn timers(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        let sends = match shared.txns.lock() {
            Ok(mut table) => table.expire(Instant::now()),
            Err(_) => Vec::new(),
        };
        for (reply, out) in sends {
            send_all(&reply, out).await;
        }
    }
}

async fn prune(shared: Arc<Shared>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Some(sorcery) = shared.sorcery.get() {
            let n = contacts::prune_expired(&sorcery, &shared.reg_server, unix_now()).await;
            if n > 0 {
                tracing::info!("PJSIP: removed {n} expired contact(s)");
            }
        }
    }
}

/// Starts a response to `req` (RFC 3261 §8.2.6): the Vias with the top one
/// stamped with `received`/`rport` (RFC 3261 §18.2.1, RFC 3581 §4), From,
/// To with a tag (§8.2.6.2), Call-ID, CSeq, and our Server.
pub(crate) fn answer(req: &Request, origin: &Origin, status: StatusCode) -> ResponseBuilder {
    let h = req.headers();
    let mut b = ResponseBuilder::new(status);
    let mut top = true;
    for line in h.get_all(HeaderName::Via) {
        for via in split_list(line) {
            let value = if top {
                stamp_via(via, origin.source)
            } else {
                via.to_owned()
            };
            top = false;
            b = b.header("Via", value);
        }
    }
    for n in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        if let Some(v) = h.get(n) {
            b = b.header(n.as_str(), v);
        }
    }
    let b = b.header("Server", "Obelus");
    match h.to_tag() {
        Ok(None) => b.to_tag(&new_tag()),
        _ => b,
    }
}

/// Adds `received` when the sent-by is not the packet's source address, and
/// fills a bare `rport` with the source port (RFC 3581 §4: then `received`
/// is always added).
fn stamp_via(via: &str, source: SocketAddr) -> String {
    let Ok(parsed) = Via::parse(via) else {
        return via.to_owned();
    };
    let rport = parsed.rport() == Some(None);
    let same_host = parsed.host().ip() == Some(source.ip());
    let mut out = String::with_capacity(via.len() + 40);
    for (i, part) in via.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        if i > 0 && rport && part.trim().eq_ignore_ascii_case("rport") {
            out.push_str(&format!("rport={}", source.port()));
        } else {
            out.push_str(part);
        }
    }
    if (rport || !same_host) && parsed.received().is_none() {
        out.push_str(&format!(";received={}", source.ip()));
    }
    out
}

/// An RFC 1123 date for the Date header (RFC 3261 §20.17), from UNIX
/// seconds.
fn http_date(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let weekday = DAYS
        .get(usize::try_from(days % 7).unwrap_or(0))
        .copied()
        .unwrap_or("Thu");
    let month_name = MONTHS
        .get(usize::try_from(month.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {day:02} {month_name} {year} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

pub(crate) fn built(b: ResponseBuilder) -> Option<Response> {
    match b.build() {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!("SIP: could not build a response: {e}");
            None
        }
    }
}

/// The application layer: the response to send, or `None` to stay silent.
async fn respond(shared: &Shared, req: &Request, origin: &Origin) -> Option<Response> {
    match req.method() {
        // RFC 3261 §11.2: what we can do.
        Method::Options => built(
            answer(req, origin, StatusCode::OK)
                .header("Allow", ALLOW)
                .header("Accept", "application/sdp")
                .header("Supported", ""),
        ),
        Method::Register => register(shared, req, origin).await,
        Method::Message => crate::messaging::incoming(shared, req, origin).await,
        // RFC 3261 §9.2: a CANCEL matching no transaction.
        Method::Cancel => built(answer(
            req,
            origin,
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
        )),
        // RFC 3261 §8.2.1: a method we do not implement.
        _ => built(answer(req, origin, StatusCode::NOT_IMPLEMENTED).header("Allow", ALLOW)),
    }
}

pub(crate) fn security(
    shared: &Shared,
    kind: SecurityKind,
    account: &str,
    req: &Request,
    origin: &Origin,
) {
    shared.core.events.publish(Event::Security(SecurityEvent {
        kind,
        service: "PJSIP",
        account: account.to_owned(),
        session_id: req.headers().call_id().to_owned(),
        local: origin.local,
        remote: origin.source,
        transport: origin.protocol.via_name(),
        extra: vec![("RequestType", req.method().as_str().to_owned())],
        time: SystemTime::now(),
    }));
}

async fn credentials(sorcery: &Sorcery, endpoint: &obelus_sorcery::Object) -> Vec<Credential> {
    let mut out = Vec::new();
    for id in endpoint.list("auth") {
        if let Ok(Some(auth)) = sorcery.retrieve_by_id("auth", id).await
            && let Some(c) = Credential::from_object(&auth)
        {
            out.push(c);
        }
    }
    out
}

/// Whether the endpoint's ACLs let `ip` in: its `deny`/`permit` lines
/// (separate lists on the object, so denies apply first and permits after,
/// which is what `deny=0.0.0.0/0` + `permit=<network>` means) and every
/// named ACL of `acl.conf` it lists in `option` (`acl`). `prefix` selects
/// the contact ACLs (`contact_`).
pub(crate) fn endpoint_allows(
    shared: &Shared,
    endpoint: &obelus_sorcery::Object,
    prefix: &str,
    ip: std::net::IpAddr,
) -> bool {
    let mut acl = obelus_core::acl::Acl::default();
    for (permit, option) in [(false, "deny"), (true, "permit")] {
        for entry in endpoint.list(&format!("{prefix}{option}")) {
            if let Err(e) = acl.add(permit, entry) {
                tracing::warn!("PJSIP endpoint '{}': {prefix}{option}: {e}", endpoint.id());
            }
        }
    }
    if !acl.allows(ip) {
        return false;
    }
    let named: Vec<String> = endpoint
        .str(&format!("{prefix}acl"))
        .filter(|v| !v.trim().is_empty())
        .map(|v| vec![v.to_owned()])
        .unwrap_or_default();
    if named.is_empty() {
        return true;
    }
    match shared.core.service::<obelus_core::acl::NamedAcls>() {
        Some(acls) => acls.allows(&named, ip),
        None => false,
    }
}

/// Digest authentication (RFC 7616) of a request from `endpoint` (`None`:
/// no such endpoint, challenged all the same so that unknown names cannot
/// be told from wrong passwords). `Ok` lets the request through; `Err`
/// carries the challenge to send (or `None` to stay silent).
pub(crate) async fn authenticate(
    shared: &Shared,
    sorcery: &Sorcery,
    req: &Request,
    origin: &Origin,
    endpoint: Option<&obelus_sorcery::Object>,
) -> Result<(), Option<Response>> {
    let ip = origin.source.ip();
    let now = unix_now();
    let method = req.method().as_str();
    let creds = match endpoint {
        Some(ep) => credentials(sorcery, ep).await,
        None => Vec::new(),
    };
    let from_user = identify::from_user(req).unwrap_or_default();
    if endpoint.is_some_and(|e| e.list("auth").is_empty()) {
        return Ok(());
    }
    let realm = creds.first().map_or(DEFAULT_REALM, |c| c.realm.as_str());
    let algorithms = creds
        .first()
        .map_or(&[Algorithm::Md5][..], |c| c.algorithms.as_slice());
    let challenge = |stale: bool| {
        let mut b = answer(req, origin, StatusCode::UNAUTHORIZED);
        for value in shared.auth.challenges(realm, algorithms, now, stale) {
            b = b.header("WWW-Authenticate", value);
        }
        built(b)
    };
    match shared.auth.verify(req, &creds, now) {
        Verdict::Accepted(user) => {
            security(shared, SecurityKind::SuccessfulAuth, &user, req, origin);
            Ok(())
        }
        Verdict::Challenge { stale } => {
            security(shared, SecurityKind::ChallengeSent, &from_user, req, origin);
            Err(challenge(stale))
        }
        Verdict::WrongPassword(user) => {
            tracing::info!(
                "PJSIP: {method} from '{from_user}' ({ip}) failed: wrong password for '{user}'"
            );
            shared.auth.record_failure(ip, Instant::now());
            security(shared, SecurityKind::InvalidPassword, &user, req, origin);
            Err(challenge(false))
        }
        Verdict::UnknownUser(user) => {
            tracing::info!(
                "PJSIP: {method} from '{from_user}' ({ip}) failed: no matching endpoint or auth for '{user}'"
            );
            shared.auth.record_failure(ip, Instant::now());
            security(shared, SecurityKind::InvalidAccountId, &user, req, origin);
            Err(challenge(false))
        }
    }
}

/// Lets an out-of-dialog request (REGISTER, MESSAGE) through to its
/// handler: not from a throttled source, identified, allowed by the
/// endpoint's ACL, and authenticated. `Err` is what to answer instead
/// (403, a challenge; `None`: drop it, or nothing identified).
pub(crate) async fn admit(
    shared: &Shared,
    sorcery: &Sorcery,
    req: &Request,
    origin: &Origin,
) -> Result<Arc<obelus_sorcery::Object>, Option<Response>> {
    let ip = origin.source.ip();
    if shared.auth.is_throttled(ip, Instant::now()) {
        tracing::debug!("PJSIP: {} from throttled {ip} dropped", req.method());
        return Err(None);
    }
    let endpoint = match crate::outbound_registration::line_endpoint(shared, sorcery, req).await {
        Some(endpoint) => Some(endpoint),
        None => identify::endpoint(sorcery, req, ip).await,
    };
    if let Some(ep) = &endpoint
        && !endpoint_allows(shared, ep, "", ip)
    {
        tracing::warn!(
            "PJSIP: {} for endpoint '{}' from {ip} refused by the endpoint's ACL (deny/permit)",
            req.method(),
            ep.id()
        );
        security(shared, SecurityKind::FailedAcl, ep.id(), req, origin);
        return Err(built(answer(req, origin, StatusCode::FORBIDDEN)));
    }
    authenticate(shared, sorcery, req, origin, endpoint.as_deref()).await?;
    endpoint.ok_or(None)
}

async fn register(shared: &Shared, req: &Request, origin: &Origin) -> Option<Response> {
    let Some(sorcery) = shared.sorcery.get() else {
        return built(answer(req, origin, StatusCode::SERVICE_UNAVAILABLE));
    };
    let now = unix_now();
    let endpoint = match admit(shared, &sorcery, req, origin).await {
        Ok(endpoint) => endpoint,
        Err(answer) => return answer,
    };
    let Some(aor_name) = identify::to_user(req) else {
        return built(answer(req, origin, StatusCode::NOT_FOUND));
    };
    let txp = shared
        .symmetric
        .contains(&*origin.transport)
        .then_some(&*origin.transport);
    let marked = crate::symmetric::contacts(req, txp);
    let req = marked.as_ref().unwrap_or(req);
    if !endpoint.list("aors").contains(&aor_name) {
        tracing::warn!(
            "PJSIP: AOR '{aor_name}' not found for endpoint '{}'",
            endpoint.id()
        );
        return built(answer(req, origin, StatusCode::NOT_FOUND));
    }
    let Ok(Some(aor)) = sorcery.retrieve_by_id("aor", &aor_name).await else {
        return built(answer(req, origin, StatusCode::NOT_FOUND));
    };
    let policy = AorPolicy::from_object(&aor);
    let _serial = shared.register_lock(&aor_name).lock().await;
    let existing = match contacts::bindings(&sorcery, &aor_name, now).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("PJSIP: contacts of AOR '{aor_name}': {e}");
            return built(answer(req, origin, StatusCode::SERVER_INTERNAL_ERROR));
        }
    };
    if let Ok(obelus_sip::ContactList::Addresses(list)) = req.headers().contacts() {
        for contact in &list {
            let ip = contact.uri().host().and_then(|h| {
                h.to_string()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .ok()
            });
            if let Some(ip) = ip
                && !endpoint_allows(shared, &endpoint, "contact_", ip)
            {
                tracing::warn!(
                    "PJSIP: contact {} of endpoint '{}' refused by its contact ACL",
                    contact.uri().as_str(),
                    endpoint.id()
                );
                security(shared, SecurityKind::FailedAcl, endpoint.id(), req, origin);
                return built(answer(req, origin, StatusCode::FORBIDDEN));
            }
        }
    }
    // A contact registered through a proxy (RFC 3327 Path) is reached
    // through it: its own address stays as the phone gave it.
    let proxied = policy.support_path && crate::path::of_register(req).is_some();
    let rewritten = (endpoint.bool("rewrite_contact").unwrap_or(false) && !proxied)
        .then(|| {
            // As Asterisk's: a secure WebSocket contact keeps its
            // `transport=ws` (RFC 7118 §5.2 has no `wss`).
            let keep = matches!(origin.protocol, Protocol::Udp | Protocol::Wss);
            let transport = (!keep).then(|| origin.protocol.via_name());
            registrar::rewrite_contacts(req, origin.source, transport)
        })
        .flatten();
    match registrar::register(rewritten.as_ref().unwrap_or(req), &policy, &existing, now) {
        Outcome::Reject {
            status,
            reason,
            min_expires,
            unsupported,
        } => {
            // A 420 naming no tag refuses a Path the phone did not consent
            // to (Asterisk's words).
            if status == StatusCode::BAD_EXTENSION && unsupported.is_none() {
                tracing::warn!(
                    "Invalid modifications made to REGISTER request from '{}' by intervening proxy",
                    endpoint.id()
                );
            }
            let mut b = answer(req, origin, status).reason(reason);
            if let Some(m) = min_expires {
                b = b.header("Min-Expires", m.to_string());
            }
            if let Some(tag) = unsupported {
                b = b.header("Unsupported", tag);
            }
            built(b)
        }
        Outcome::Accept {
            changes,
            bindings,
            path,
        } => {
            let owner = Owner {
                aor: &aor_name,
                endpoint: endpoint.id(),
                reg_server: &shared.reg_server,
            };
            let applied = match contacts::apply(&sorcery, owner, &changes).await {
                Ok(applied) => applied,
                Err(e) => {
                    tracing::error!("PJSIP: storing contacts of AOR '{aor_name}': {e}");
                    return built(answer(req, origin, StatusCode::SERVER_INTERNAL_ERROR));
                }
            };
            for contact in applied {
                shared
                    .core
                    .events
                    .publish(obelus_core::events::Event::ContactStatus {
                        uri: contact.uri,
                        status: contact.status,
                        aor: aor_name.clone(),
                        endpoint: endpoint.id().to_owned(),
                        roundtrip_usec: None,
                    });
            }
            for change in &changes {
                bind_flow(shared, &aor_name, change, origin, rewritten.is_some());
                match change {
                    registrar::Change::Upsert(b) => tracing::info!(
                        verbose = 3,
                        "Added/updated contact '{}' to AOR '{aor_name}' with expiration of {} seconds",
                        b.uri,
                        b.expiration_time.saturating_sub(now)
                    ),
                    registrar::Change::Remove(uri) => {
                        tracing::info!(verbose = 3, "Removed contact '{uri}' from AOR '{aor_name}'")
                    }
                }
            }
            let mut b = answer(req, origin, StatusCode::OK).header("Date", http_date(now));
            for value in registrar::contact_values(&bindings, now) {
                b = b.header("Contact", value);
            }
            // RFC 3327 §5.3, as res_pjsip_path answers: the path echoed.
            if policy.support_path {
                b = b.header("Supported", crate::path::TAG);
            }
            if let Some(path) = path {
                b = b.header("Path", path);
            }
            built(b)
        }
    }
}

/// Binds a contact the REGISTER added or refreshed to the connection it
/// came over (TCP, TLS, WebSocket), so requests reach it back there;
/// forgets the binding of one removed or registered over UDP. As Asterisk
/// (`ast_sip_will_uri_survive_restart`), a WebSocket contact, or one
/// `rewrite_contact` made the connection's source address, cannot outlive
/// the connection: it is removed when the connection closes.
fn bind_flow(
    shared: &Shared,
    aor: &str,
    change: &registrar::Change,
    origin: &Origin,
    rewritten: bool,
) {
    match change {
        registrar::Change::Upsert(b) if origin.protocol.is_reliable() => shared.flows.bind(
            aor,
            &b.uri,
            crate::flows::Flow {
                transport: Arc::clone(&origin.transport),
                protocol: origin.protocol,
                source: origin.source,
            },
            origin.protocol.is_websocket()
                || (rewritten && crate::flows::names(&b.uri, origin.source)),
        ),
        registrar::Change::Upsert(b) => shared.flows.unbind(aor, &b.uri),
        registrar::Change::Remove(uri) => shared.flows.unbind(aor, uri),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3581 §4: a bare rport is filled in and received added; RFC 3261
    /// §18.2.1: received when the sent-by differs from the source.
    #[test]
    fn top_via_gets_received_and_rport() {
        let src: SocketAddr = "192.0.2.9:40000".parse().unwrap();
        assert_eq!(
            stamp_via("SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1", src),
            "SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bK1;received=192.0.2.9"
        );
        assert_eq!(
            stamp_via("SIP/2.0/UDP 192.0.2.9:40000;branch=z9hG4bK1", src),
            "SIP/2.0/UDP 192.0.2.9:40000;branch=z9hG4bK1"
        );
        assert_eq!(
            stamp_via("SIP/2.0/TCP host.example;branch=z9hG4bK1", src),
            "SIP/2.0/TCP host.example;branch=z9hG4bK1;received=192.0.2.9"
        );
    }

    #[test]
    fn date_is_rfc1123() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // RFC 3261 §20.17's example date.
        assert_eq!(http_date(1_289_690_940), "Sat, 13 Nov 2010 23:29:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
