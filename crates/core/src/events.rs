//! The event bus: every state change is a typed event, published once; AMI,
//! ARI, CDR and the console are subscribers that render it their own way.
//!
//! Bounded: the bus is a ring of the last [`CAPACITY`] events shared by all
//! subscribers. A subscriber that falls that far behind loses events and is
//! told how many (`RecvError::Lagged`); publishing never waits for anyone.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use tokio::sync::broadcast;

/// How many events the bus keeps for subscribers that are behind.
pub const CAPACITY: usize = 16_384;

/// A security event (Asterisk's security framework): authentication results
/// and refused requests, from any service (AMI, PJSIP, ARI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// What happened.
    pub kind: SecurityKind,
    /// The service: `AMI`, `PJSIP`, `ARI`.
    pub service: &'static str,
    /// The account named by the request.
    pub account: String,
    /// An identifier of the session or dialog.
    pub session_id: String,
    /// Our address.
    pub local: SocketAddr,
    /// The peer's address.
    pub remote: SocketAddr,
    /// `TCP`, `UDP`, `TLS`, `WS`.
    pub transport: &'static str,
    /// Event-specific fields (`Challenge`, `ACLName`, `RequestType` ...).
    pub extra: Vec<(&'static str, String)>,
    /// When it happened.
    pub time: SystemTime,
}

/// The kinds of security event, with Asterisk's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityKind {
    /// Authentication succeeded.
    SuccessfulAuth,
    /// A known account gave a wrong password.
    InvalidPassword,
    /// The account does not exist.
    InvalidAccountId,
    /// An ACL refused the source address.
    FailedAcl,
    /// A challenge was sent.
    ChallengeSent,
    /// A request was malformed.
    RequestBadFormat,
    /// A request was not allowed (permissions).
    RequestNotAllowed,
    /// The account is already logged in and may not log in twice.
    SessionLimit,
}

impl SecurityKind {
    /// The event name on the wire (`SuccessfulAuth`, `FailedACL`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::SuccessfulAuth => "SuccessfulAuth",
            Self::InvalidPassword => "InvalidPassword",
            Self::InvalidAccountId => "InvalidAccountID",
            Self::FailedAcl => "FailedACL",
            Self::ChallengeSent => "ChallengeSent",
            Self::RequestBadFormat => "RequestBadFormat",
            Self::RequestNotAllowed => "RequestNotAllowed",
            Self::SessionLimit => "SessionLimit",
        }
    }

    /// Asterisk's severity of the event.
    pub fn severity(self) -> &'static str {
        match self {
            Self::SuccessfulAuth | Self::ChallengeSent => "Informational",
            _ => "Error",
        }
    }
}

/// Everything that happens, as the core and modules announce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start-up is complete (and, per AMI session, right after login).
    FullyBooted {
        /// Seconds since start.
        uptime: u64,
        /// Seconds since the last reload.
        last_reload: u64,
    },
    /// A module was reloaded.
    Reload {
        /// The module.
        module: String,
        /// Asterisk's reload status code (2 = success).
        status: u8,
    },
    /// The daemon is stopping.
    Shutdown {
        /// Whether calls ended cleanly.
        clean: bool,
    },
    /// A security event.
    Security(SecurityEvent),
    /// A SIP contact was created, refreshed, removed, or changed reachability.
    ContactStatus {
        /// The contact URI.
        uri: String,
        /// `Created`, `Updated`, `Removed`, `Reachable`, `Unreachable`, `Unknown`.
        status: &'static str,
        /// The AOR it belongs to.
        aor: String,
        /// The endpoint that registered it.
        endpoint: String,
        /// The last qualify round trip, if measured.
        roundtrip_usec: Option<u64>,
    },
    /// A user-defined event (AMI `UserEvent`, dialplan `UserEvent()`).
    User {
        /// The `UserEvent` name.
        name: String,
        /// Its headers, in order.
        headers: Vec<(String, String)>,
    },
}

/// A function called for every event as it is published, on the publisher's
/// thread. For interfaces that must never miss an event (AMI renders each one
/// into its own ring here): it must be quick and must not block.
pub type Tap = Box<dyn Fn(&Arc<Event>) + Send + Sync>;

/// The bus.
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
    taps: RwLock<Vec<Tap>>,
    published: AtomicU64,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::Sender::new(CAPACITY),
            taps: RwLock::new(Vec::new()),
            published: AtomicU64::new(0),
        }
    }
}

impl EventBus {
    /// Publishes an event to every tap and every current subscriber; never blocks.
    pub fn publish(&self, event: Event) {
        self.published.fetch_add(1, Ordering::Relaxed);
        let event = Arc::new(event);
        for tap in self.taps.read().unwrap_or_else(|e| e.into_inner()).iter() {
            tap(&event);
        }
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.tx.send(event);
    }

    /// Adds a tap: called for every later event, in publish order.
    pub fn add_tap(&self, tap: Tap) {
        self.taps
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(tap);
    }

    /// A new subscription, starting with the next event.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Events published since start.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }
}
