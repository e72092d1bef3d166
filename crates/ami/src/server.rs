//! [`Ami`]: the listener, the sessions, the event fan-out, login throttling.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use obelus_core::Core;
use obelus_core::events::Event;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::bridges::BridgeView;
use crate::config::ManagerConf;
use crate::hints::HintWatch;
use crate::peers::PeerWatch;
use crate::render::{AmiEvent, RenderOptions};
use crate::session::{Session, State};

/// Events kept for sessions that are behind; one further behind is dropped.
const EVENT_RING: usize = 8192;

/// How long a TLS client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Failed logins from one address within [`FAILURE_WINDOW`] after which new
/// connections from it are refused until the window passes.
const MAX_FAILURES: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The manager interface's shared state.
pub struct Ami {
    /// The daemon's core.
    pub core: Arc<Core>,
    conf: RwLock<Arc<ManagerConf>>,
    events: broadcast::Sender<Arc<AmiEvent>>,
    render: RwLock<RenderOptions>,
    sessions: Mutex<Vec<Arc<Session>>>,
    next_id: AtomicU64,
    unauthenticated: AtomicUsize,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    dropped: AtomicU64,
    /// Events rendered since start.
    pub rendered: AtomicU64,
    /// The live bridges (`BridgeList`, `BridgeInfo`).
    pub bridges: BridgeView,
    /// Hint states, for `ExtensionStatus` events.
    hints: HintWatch,
    /// Endpoint reachability, for `PeerStatus`.
    peers: PeerWatch,
}

impl Ami {
    /// A manager for this configuration; no listener yet.
    pub fn new(core: Arc<Core>, conf: ManagerConf) -> Arc<Self> {
        let render = RenderOptions {
            timestamp: conf.timestamp_events,
            system_name: core.settings.options.system_name.clone(),
        };
        Arc::new(Self {
            core,
            conf: RwLock::new(Arc::new(conf)),
            events: broadcast::Sender::new(EVENT_RING),
            render: RwLock::new(render),
            sessions: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            unauthenticated: AtomicUsize::new(0),
            failures: Mutex::new(HashMap::new()),
            dropped: AtomicU64::new(0),
            rendered: AtomicU64::new(0),
            bridges: BridgeView::default(),
            hints: HintWatch::default(),
            peers: PeerWatch::default(),
        })
    }

    /// The configuration in force.
    pub fn conf(&self) -> Arc<ManagerConf> {
        Arc::clone(&self.conf.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts a new configuration in force (reload). Sessions keep their login.
    pub fn set_conf(&self, conf: ManagerConf) {
        self.render
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .timestamp = conf.timestamp_events;
        *self.conf.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(conf);
    }

    /// How events are rendered now.
    pub fn render_options(&self) -> RenderOptions {
        self.render
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A subscription to rendered events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AmiEvent>> {
        self.events.subscribe()
    }

    /// Whether `disabledevents` names this event.
    pub fn is_disabled(&self, name: &str) -> bool {
        self.conf()
            .disabled_events
            .iter()
            .any(|d| d.eq_ignore_ascii_case(name))
    }

    /// Renders every bus event once, as it is published, into the ring all
    /// sessions read: no AMI event is ever skipped; a session that falls a
    /// whole ring behind is disconnected instead.
    pub fn attach_to_bus(self: &Arc<Self>) {
        self.hints.prime(&self.core);
        let ami = Arc::downgrade(self);
        self.core.events.add_tap(Box::new(move |event| {
            let Some(ami) = ami.upgrade() else { return };
            if let Event::Bridge(bridge) = event.as_ref() {
                ami.bridges.apply(bridge);
            }
            // With no session to read them, events are not rendered (the
            // most costly part of an event under call load); the state
            // kept for later sessions (bridges, hints, peers) still follows.
            let options = (ami.events.receiver_count() > 0).then(|| ami.render_options());
            if let Some(options) = &options
                && let Some(rendered) = crate::render::render(event, options)
            {
                ami.send(rendered);
            }
            // A device change may change hints: ExtensionStatus follows
            // the DeviceStateChange that caused it.
            if let Event::DeviceState { device, .. } = event.as_ref() {
                for change in ami.hints.device_changed(&ami.core, device) {
                    if let Some(options) = &options {
                        ami.send(crate::render::extension_status(&change, options));
                    }
                }
            }
            // PeerStatus follows the ContactStatus that changed the endpoint.
            if let Event::ContactStatus {
                uri,
                status,
                endpoint,
                ..
            } = event.as_ref()
                && let Some(change) = ami.peers.contact(endpoint, uri, status)
                && let Some(options) = &options
            {
                ami.send(crate::render::peer_status(&change, options));
            }
        }));
    }

    fn send(&self, event: AmiEvent) {
        self.rendered.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(Arc::new(event));
    }

    /// Accepts connections until the listener fails or `stop` fires; with an
    /// acceptor, each connection first completes a TLS handshake.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::error!("AMI listener failed: {e}");
                        return;
                    }
                },
                _ = stop.changed() => return,
            };
            if self.throttled(peer.ip()) {
                tracing::warn!(
                    "Manager connection from {peer} refused: too many failed logins from this address"
                );
                continue;
            }
            let conf = self.conf();
            if self.unauthenticated.load(Ordering::Relaxed) >= conf.auth_limit {
                tracing::warn!(
                    "Manager connection from {peer} refused: authlimit ({}) unauthenticated sessions reached",
                    conf.auth_limit
                );
                continue;
            }
            let local = stream.local_addr().unwrap_or(peer);
            let session = Arc::new(Session::new(
                self.next_id.fetch_add(1, Ordering::Relaxed),
                peer,
                local,
                State::default(),
                None,
            ));
            self.unauthenticated.fetch_add(1, Ordering::Relaxed);
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Arc::clone(&session));
            let _ = stream.set_nodelay(true);
            let ami = Arc::clone(&self);
            match tls.clone() {
                None => {
                    tokio::spawn(crate::session::run(stream, ami, session));
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            Ok(Ok(tls)) => {
                                crate::session::run(tls, Arc::clone(&ami), session).await
                            }
                            Ok(Err(e)) => {
                                tracing::info!(
                                    verbose = 2,
                                    "Manager TLS handshake with {peer} failed: {e}"
                                );
                                ami.forget(&session);
                            }
                            Err(_) => {
                                tracing::info!(
                                    verbose = 2,
                                    "Manager TLS handshake with {peer} timed out"
                                );
                                ami.forget(&session);
                            }
                        }
                    });
                }
            }
        }
    }

    /// A session logged in: it no longer counts against `authlimit`.
    pub fn logged_in(&self) {
        self.unauthenticated.fetch_sub(1, Ordering::Relaxed);
    }

    /// A session ended.
    pub fn forget(&self, session: &Arc<Session>) {
        if session.user().is_none() {
            self.unauthenticated.fetch_sub(1, Ordering::Relaxed);
        }
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|s| !Arc::ptr_eq(s, session));
    }

    /// Every connected session.
    pub fn sessions(&self) -> Vec<Arc<Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records a failed login from an address.
    pub fn failed_login(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        failures.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
        let entry = failures.entry(ip).or_insert((0, now));
        entry.0 += 1;
    }

    fn throttled(&self, ip: IpAddr) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.get(&ip).is_some_and(|(count, since)| {
            *count >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW
        })
    }

    /// Counts a session dropped for not reading.
    pub fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Sessions dropped for not reading since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The address to bind.
    pub fn bind_address(&self) -> SocketAddr {
        let conf = self.conf();
        SocketAddr::new(conf.bind_addr, conf.port)
    }
}
