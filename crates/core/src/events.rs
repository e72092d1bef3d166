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

use crate::channel::{Cause, ChannelSnapshot};

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

/// A channel event: the channel as it was, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEvent {
    /// The channel after the change.
    pub channel: Arc<ChannelSnapshot>,
    /// The change.
    pub kind: ChannelEventKind,
}

/// What happened to a channel (AMI event names in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEventKind {
    /// Created (`Newchannel`).
    New,
    /// Its state changed (`Newstate`).
    State,
    /// The dialplan runs an application (`Newexten`).
    Exten {
        /// The application.
        application: String,
        /// Its arguments.
        data: String,
    },
    /// A variable was set (`VarSet`).
    VarSet {
        /// Its name.
        variable: String,
        /// Its value.
        value: String,
    },
    /// Someone asked it to hang up (`SoftHangupRequest`/`HangupRequest`).
    HangupRequest {
        /// The cause given.
        cause: Cause,
        /// Whether it was a soft request (from the system, not the far end).
        soft: bool,
    },
    /// It hung up (`Hangup`); the last event of a channel.
    Hangup {
        /// Why.
        cause: Cause,
    },
    /// A DTMF digit started (`DTMFBegin`).
    DtmfBegin {
        /// The digit.
        digit: char,
        /// `Received` or `Sent`.
        direction: &'static str,
    },
    /// A DTMF digit ended (`DTMFEnd`).
    DtmfEnd {
        /// The digit.
        digit: char,
        /// How long, in milliseconds.
        duration_ms: u32,
        /// `Received` or `Sent`.
        direction: &'static str,
    },
    /// This channel started dialing `dest` (`DialBegin`).
    DialBegin {
        /// The channel being called.
        dest: Arc<ChannelSnapshot>,
        /// The dial string for it (`PJSIP/102`).
        dialstring: String,
    },
    /// Progress of a dial (`DialState`: `RINGING`, `PROCEEDING`, `PROGRESS`).
    DialState {
        /// The channel being called.
        dest: Arc<ChannelSnapshot>,
        /// The progress.
        status: String,
    },
    /// A dial attempt ended (`DialEnd`).
    DialEnd {
        /// The channel that was called.
        dest: Arc<ChannelSnapshot>,
        /// `ANSWER`, `BUSY`, `NOANSWER`, `CANCEL`, `CONGESTION`, `CHANUNAVAIL`.
        status: String,
    },
    /// The caller identity changed (`NewCallerid`).
    CallerId,
    /// The connected-line identity changed (`NewConnectedLine`).
    ConnectedLine,
    /// The far end put the call on hold (`Hold`).
    Hold,
    /// The far end resumed (`Unhold`).
    Unhold,
    /// Music on hold started on the channel (`MusicOnHoldStart`).
    MusicOnHoldStart {
        /// The class playing.
        class: String,
    },
    /// Music on hold stopped on the channel (`MusicOnHoldStop`).
    MusicOnHoldStop,
    /// A MixMonitor recording of the channel started (`MixMonitorStart`).
    MixMonitorStart,
    /// A MixMonitor recording of the channel was stopped (`MixMonitorStop`).
    MixMonitorStop,
    /// A MixMonitor recording of the channel was muted or unmuted
    /// (`MixMonitorMute`).
    MixMonitorMute {
        /// `read`, `write` or `both`, as asked.
        direction: String,
        /// Muted (true) or unmuted.
        muted: bool,
    },
    /// `TALK_DETECT` heard the channel's party start talking
    /// (`ChannelTalkingStart`; ARI `ChannelTalkingStarted`).
    TalkingStart,
    /// `TALK_DETECT` heard the party stop talking (`ChannelTalkingStop`;
    /// ARI `ChannelTalkingFinished`).
    TalkingStop {
        /// How long the party talked, in ms.
        duration_ms: u64,
    },
    /// `TONE_DETECT` heard its tone on the channel (ARI
    /// `ChannelToneDetected`; Asterisk has no AMI event for it).
    ToneDetected,
}

/// A bridge as it was when an event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeSnapshot {
    /// The bridge id (a UUID).
    pub id: String,
    /// `basic` (two-party, from Dial) or `mixing`.
    pub kind: String,
    /// `simple_bridge`, `native_rtp`, `softmix`.
    pub technology: String,
    /// Who created it (`Dial`, an ARI application).
    pub creator: String,
    /// Its name, if given.
    pub name: String,
    /// How many channels are in it.
    pub num_channels: usize,
}

/// A bridge event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeEvent {
    /// The bridge after the change.
    pub bridge: Arc<BridgeSnapshot>,
    /// The change.
    pub kind: BridgeEventKind,
}

/// What happened to a bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeEventKind {
    /// Created (`BridgeCreate`).
    Create,
    /// A channel entered (`BridgeEnter`).
    Enter(Arc<ChannelSnapshot>),
    /// A channel left (`BridgeLeave`).
    Leave(Arc<ChannelSnapshot>),
    /// Destroyed (`BridgeDestroy`).
    Destroy,
}

/// How a transfer attempt ended (Asterisk's `ast_transfer_result`, with
/// its wire names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferResult {
    /// The transfer failed on the way.
    Fail,
    /// The request made no sense here (the channel is in no bridge).
    Invalid,
    /// The channel may not transfer.
    NotPermitted,
    /// Done.
    Success,
}

impl TransferResult {
    /// `Fail`, `Invalid`, `Not Permitted`, `Success` (AMI and ARI alike).
    pub fn name(self) -> &'static str {
        match self {
            Self::Fail => "Fail",
            Self::Invalid => "Invalid",
            Self::NotPermitted => "Not Permitted",
            Self::Success => "Success",
        }
    }
}

/// A blind transfer (AMI `BlindTransfer`, ARI `BridgeBlindTransfer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindTransferEvent {
    /// How it went.
    pub result: TransferResult,
    /// The channel that asked for the transfer.
    pub transferer: Arc<ChannelSnapshot>,
    /// The channel sent to the new extension, if there was one.
    pub transferee: Option<Arc<ChannelSnapshot>>,
    /// The bridge the transferer was in, if any.
    pub bridge: Option<Arc<BridgeSnapshot>>,
    /// Whether the request came from outside (a SIP REFER) rather than a
    /// feature code keyed in the bridge.
    pub is_external: bool,
    /// Where the transferee goes: the context...
    pub context: String,
    /// ...and the extension.
    pub exten: String,
}

/// An attended transfer (AMI `AttendedTransfer`, ARI
/// `BridgeAttendedTransfer`): the transferer had two calls, one with the
/// transferee and one with the target, and joined those two parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendedTransferEvent {
    /// How it went.
    pub result: TransferResult,
    /// The transferer's call with the transferee.
    pub first_leg: Arc<ChannelSnapshot>,
    /// The bridge of that call.
    pub first_bridge: Option<Arc<BridgeSnapshot>>,
    /// The transferer's call with the target.
    pub second_leg: Arc<ChannelSnapshot>,
    /// The bridge of that call.
    pub second_bridge: Option<Arc<BridgeSnapshot>>,
    /// The party transferred.
    pub transferee: Option<Arc<ChannelSnapshot>>,
    /// The party it was transferred to.
    pub target: Option<Arc<ChannelSnapshot>>,
    /// Whether the request came from outside (a SIP REFER).
    pub is_external: bool,
    /// The bridge the two parties meet in (`DestType: Bridge`).
    pub dest_bridge: String,
}

/// What happened to a parked call (`res_parking`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParkingEventKind {
    /// It was parked (`ParkedCall`).
    Parked,
    /// Its `parkingtime` ran out (`ParkedCallTimeOut`).
    TimeOut,
    /// It hung up while parked (`ParkedCallGiveUp`).
    GiveUp,
    /// `retriever` took it out (`UnParkedCall`).
    Unparked {
        /// Who retrieved it (`ParkedCall()`).
        retriever: Arc<ChannelSnapshot>,
    },
}

/// A parked call's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkingEvent {
    /// What happened.
    pub kind: ParkingEventKind,
    /// The parked channel.
    pub parkee: Arc<ChannelSnapshot>,
    /// Who parked it, if that channel still exists.
    pub parker: Option<Arc<ChannelSnapshot>>,
    /// The parker's device (`PJSIP/alice`), where a timeout returns it.
    pub parker_dial_string: String,
    /// The lot's name.
    pub lot: String,
    /// The slot (parking space).
    pub space: u32,
    /// `parkingtime` in seconds (0: never times out).
    pub timeout: u64,
    /// Seconds parked so far.
    pub duration: u64,
}

/// How an asynchronous originate ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginateResponse {
    /// The ActionID of the request, echoed.
    pub action_id: Option<String>,
    /// Whether the channel answered.
    pub success: bool,
    /// The dial string or the channel name.
    pub channel: String,
    /// Dialplan destination, if any.
    pub context: String,
    /// Dialplan destination, if any.
    pub exten: String,
    /// Application destination, if any.
    pub application: String,
    /// Its arguments.
    pub data: String,
    /// Asterisk's reason code (4 answered, 5 busy, 8 congestion, 3 no answer, 0 failure).
    pub reason: u8,
    /// The uniqueid of the channel, when one was created.
    pub uniqueid: String,
    /// Caller id number presented.
    pub caller_number: String,
    /// Caller id name presented.
    pub caller_name: String,
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
    /// An outbound registration was answered (AMI `Registry`).
    Registry {
        /// The channel driver (`PJSIP`).
        channel_type: &'static str,
        /// The registration's `client_uri`.
        username: String,
        /// Its `server_uri`.
        domain: String,
        /// `Registered`, `Unregistered`, `Rejected`, `Stopped`.
        status: &'static str,
        /// Why, for a rejection (`403 Forbidden`); AMI shows `Cause` only
        /// when set.
        cause: Option<String>,
    },
    /// Something happened to a channel.
    Channel(ChannelEvent),
    /// Something happened to a bridge.
    Bridge(BridgeEvent),
    /// A blind transfer was attempted.
    BlindTransfer(BlindTransferEvent),
    /// An attended transfer was carried out.
    AttendedTransfer(AttendedTransferEvent),
    /// A call was parked, timed out, gave up or was retrieved.
    Parking(ParkingEvent),
    /// A device's state changed (`PJSIP/101` became `INUSE`).
    DeviceState {
        /// `PJSIP/101`.
        device: String,
        /// `NOT_INUSE`, `INUSE`, `BUSY`, `RINGING`, `RINGINUSE`, `ONHOLD`,
        /// `UNAVAILABLE`, `INVALID`, `UNKNOWN`.
        state: &'static str,
    },
    /// The outcome of an asynchronous originate (AMI `OriginateResponse`).
    OriginateResponse(OriginateResponse),
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
