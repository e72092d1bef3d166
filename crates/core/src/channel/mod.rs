//! Channels: one call leg each, as Asterisk has them.
//!
//! A [`Channel`] is shared (`Arc`) between its technology driver (the SIP
//! session, a Local channel) and whoever runs it (the dialplan executor, a
//! Dial, an ARI application). Its public state sits behind a small lock
//! that is only held to read or change a field, never across an await; each
//! change is published on the event bus as a [`ChannelEvent`].
//!
//! The driver tells the channel's owner what happened on the wire
//! (ringing, answer, DTMF, hangup) through the channel's bounded mailbox
//! ([`Control`]), read by one task at a time through [`ControlReceiver`]. A
//! hangup request is never lost to a full mailbox: it is a flag that the
//! receiver checks first.
//!
//! The owner acts on the wire through the [`Driver`] trait (answer,
//! indicate, hang up, send DTMF) and bridges or plays media through the
//! driver's media stream.

mod cause;
mod native;
mod registry;
mod snapshot;
mod state;
mod vars;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::sync::{Notify, mpsc};

pub use cause::Cause;
pub use native::NativeRtp;
pub use registry::{Channels, Pbx, Technology};
pub use snapshot::{ChannelSnapshot, Party};
pub use state::ChannelState;
pub use vars::{Inherit, Variables, split_mark};

use crate::events::{ChannelEvent, ChannelEventKind, Event, EventBus};

/// Frames a driver queues in a channel's mailbox at once, before it waits.
const MAILBOX: usize = 64;

/// What a driver reports to the channel's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The far end is being alerted (SIP 180).
    Ringing,
    /// Call progress with early media (SIP 183).
    Progress,
    /// The far end answered.
    Answer,
    /// The far end is busy (SIP 486).
    Busy,
    /// The network is congested (SIP 503).
    Congestion,
    /// A DTMF digit ended (RFC 4733, SIP INFO or in-band).
    Dtmf {
        /// `0-9 * # A-D`.
        digit: char,
        /// How long it was pressed.
        duration_ms: u32,
    },
    /// A playback on the channel's media stream ended.
    PlaybackFinished {
        /// The id the media stream gave the playback.
        id: u64,
        /// Whether it ran to its end (not stopped or replaced).
        completed: bool,
    },
    /// The far end put the call on hold.
    Hold,
    /// The far end took the call off hold.
    Unhold,
    /// The far end asks for the call to be transferred (SIP REFER). With
    /// `PJSIP_TRANSFER_HANDLING()` = `ari-only` the channel's ARI
    /// application handles it; otherwise the two-party bridge the channel
    /// is in sends the other party to the target. Either reports progress
    /// with [`Driver::transfer_progress`].
    Transfer(TransferRequest),
    /// Another bridge asks the one this channel is in to give up the
    /// channel's peer, for an attended transfer that replaces this channel
    /// (SIP REFER with Replaces); see [`crate::bridge::Handover`].
    Handover(crate::bridge::Handover),
    /// Another bridge offers the one this channel is in a party to take
    /// this channel's place (an attended transfer replacing this channel,
    /// which is that bridge's callee); see [`crate::bridge::Adoption`].
    Adopt(crate::bridge::Adoption),
    /// The far end's media address or format changed (a new offer):
    /// a bridge whose parties send RTP to each other directly points the
    /// other party at the new [`Driver::native_rtp`] (Asterisk's
    /// `UPDATE_RTP_PEER`).
    MediaUpdate,
}

/// A transfer the far end asked for (SIP REFER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// The user part of the target, for a blind transfer (`104`).
    pub destination: Option<String>,
    /// The call to replace, for an attended transfer (its SIP Call-ID).
    pub replaces: Option<String>,
    /// Other parameters of the request (`from-tag`, `to-tag`).
    pub params: Vec<(String, String)>,
    /// The dialplan context `destination` was found in, when the driver
    /// checked it before accepting a blind transfer it carries out itself
    /// (`TRANSFER_CONTEXT`, else the endpoint's `context`).
    pub context: Option<String>,
    /// The uniqueid of the channel `replaces` names, when the driver found
    /// it (an attended transfer it carries out itself).
    pub replaced_channel: Option<String>,
}

/// How a transfer handed to an application goes (ARI's
/// `transfer_progress` states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferState {
    /// The new call is being set up (`channel_progress`).
    Progress,
    /// The new call was answered (`channel_answered`).
    Answered,
    /// The target cannot be reached (`channel_unavailable`).
    Unavailable,
    /// The target declined (`channel_declined`).
    Declined,
}

/// How a channel carries DTMF on the wire, once its media is agreed. A
/// bridge asks both sides: when they carry digits the same way inside the
/// media (RFC 4733 events, which the media relay forwards, or tones in the
/// audio) a digit has already crossed with the media; otherwise the bridge
/// hands it to the other side's driver to send its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfTransport {
    /// RFC 4733 telephone-events in RTP.
    Rfc4733,
    /// Tones in the audio.
    Inband,
    /// SIP INFO requests.
    Info,
    /// Not carried (or the technology has no wire of its own, like Local).
    None,
}

/// What the owner asks a driver to signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indication {
    /// Alerting (`Ringing()`: SIP 180).
    Ringing,
    /// Progress with early media (`Progress()`: SIP 183).
    Progress,
    /// Busy (`Busy()`).
    Busy,
    /// Congestion (`Congestion()`).
    Congestion,
    /// On hold.
    Hold,
    /// Off hold.
    Unhold,
}

/// The technology side of a channel: what the owner can make it do on the
/// wire. Calls go to the driver's own task (a SIP session), so they may wait.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Places an outbound call (the driver sends INVITE); progress arrives as
    /// [`Control`] frames. An error is the cause of an immediate failure.
    async fn call(&self, channel: &Arc<Channel>) -> Result<(), Cause>;
    /// Answers an inbound call.
    async fn answer(&self, channel: &Arc<Channel>) -> Result<(), Cause>;
    /// Signals a condition to the far end.
    async fn indicate(&self, channel: &Arc<Channel>, indication: Indication);
    /// Ends the call on the wire with `cause` (BYE, CANCEL or a rejecting
    /// response). Called once, by [`Channel::hangup`].
    async fn hangup(&self, channel: &Arc<Channel>, cause: Cause);
    /// Sends a DTMF digit to the far end.
    async fn send_digit(&self, channel: &Arc<Channel>, digit: char, duration_ms: u32);
    /// How digits travel on this channel's wire (see [`DtmfTransport`]).
    fn dtmf_transport(&self) -> DtmfTransport {
        DtmfTransport::None
    }
    /// Sends the call elsewhere, as Asterisk's `ast_transfer`: `target` is
    /// a resource of the channel's technology (for PJSIP an endpoint name,
    /// reached at its contact, or a SIP URI). An unanswered inbound SIP call
    /// is redirected (302), an answered one transferred (REFER); either way
    /// the channel ends once the far end goes. An error is the cause of an
    /// immediate failure (unknown target, no transfer in this state).
    async fn transfer(&self, channel: &Arc<Channel>, target: &str) -> Result<(), Cause> {
        let _ = (channel, target);
        Err(Cause::CHAN_NOT_IMPLEMENTED)
    }
    /// Tells the far end how the transfer it asked for goes (a NOTIFY for
    /// SIP); an error when no transfer is waiting for news.
    async fn transfer_progress(
        &self,
        channel: &Arc<Channel>,
        state: TransferState,
    ) -> Result<(), Cause> {
        let _ = (channel, state);
        Err(Cause::CHAN_NOT_IMPLEMENTED)
    }
    /// Sets a technology option a dialplan function writes
    /// (`PJSIP_TRANSFER_HANDLING()`); false if the driver has no such
    /// option or refuses the value.
    fn set_option(&self, key: &str, value: &str) -> bool {
        let _ = (key, value);
        false
    }
    /// The media stream (RTP) carrying the channel's audio, once negotiated.
    fn media(&self) -> Option<Arc<obelus_media::Stream>> {
        None
    }
    /// Where the far end takes RTP, when the channel lets a bridge send
    /// it media from its peer directly (PJSIP `direct_media=yes`, no NAT
    /// in the way when `disable_direct_media_on_nat` is set); `None` keeps
    /// the media on this server. See [`crate::bridge`]'s native RTP.
    fn native_rtp(&self) -> Option<NativeRtp> {
        None
    }
    /// Tells the far end to send its RTP to `peer` (another channel's far
    /// end, in a native RTP bridge), or with `None` back to this server's
    /// media stream. Nothing happens when the far end already sends there;
    /// a refusal on the wire leaves media on this server (logged by the
    /// driver). Returns once the request is queued, not answered.
    async fn direct_media(&self, channel: &Arc<Channel>, peer: Option<NativeRtp>) {
        let _ = (channel, peer);
    }
    /// Technology-specific values for `CHANNEL(...)` and friends
    /// (`rtp,dest`, `pjsip,call-id`, a SIP header); `None` if unknown.
    fn info(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }
}

/// Where a new channel starts and who it is.
#[derive(Debug, Clone)]
pub struct ChannelInit {
    /// The technology (`PJSIP`).
    pub tech: &'static str,
    /// The resource the name is built from (`101` gives `PJSIP/101-0000000a`).
    pub resource: String,
    /// Initial state (`Ring` inbound, `Down` outbound).
    pub state: ChannelState,
    /// Caller identity.
    pub caller: Party,
    /// Dialplan context.
    pub context: String,
    /// Extension.
    pub exten: String,
    /// `CHANNEL(language)`; empty means `en`.
    pub language: String,
    /// `CHANNEL(accountcode)`.
    pub accountcode: String,
}

/// Mutable public state; see [`ChannelSnapshot`] for the fields.
#[derive(Debug)]
struct Data {
    shown: Shown,
    /// The snapshot of `shown` last published, until `shown` changes:
    /// events that change nothing in it (`VarSet`, dial progress) share
    /// one snapshot instead of copying every field again.
    published: Option<Arc<ChannelSnapshot>>,
    vars: Variables,
    hangup_cause: Cause,
    answered: Option<SystemTime>,
}

/// What a [`ChannelSnapshot`] shows of a channel's mutable state.
#[derive(Debug)]
struct Shown {
    state: ChannelState,
    caller: Party,
    connected: Party,
    language: String,
    accountcode: String,
    context: String,
    exten: String,
    priority: i32,
    application: String,
    data: String,
    bridge_id: Option<String>,
    linkedid: String,
}

impl Data {
    /// The shown state, to change it: the cached snapshot goes.
    fn shown_mut(&mut self) -> &mut Shown {
        self.published = None;
        &mut self.shown
    }
}

/// One call leg.
pub struct Channel {
    name: String,
    uniqueid: String,
    tech: &'static str,
    created: SystemTime,
    data: Mutex<Data>,
    driver: Arc<dyn Driver>,
    bus: Arc<EventBus>,
    mailbox: mpsc::Sender<Control>,
    receiver: Mutex<Option<mpsc::Receiver<Control>>>,
    soft_hangup: Mutex<Option<Cause>>,
    redirect: Mutex<Option<(String, String, i32)>>,
    hangup_notify: Notify,
    hung_up: AtomicBool,
    /// Set once `Hangup` is published; held while publishing, so that an
    /// event raised from another task (a hangup request racing the
    /// channel's own end) never reaches the bus after `Hangup`.
    ended: Mutex<bool>,
    registry: std::sync::Weak<Channels>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("name", &self.name).finish()
    }
}

/// The next channel sequence number (the 8 hex digits of a name).
static NAME_SEQ: AtomicU32 = AtomicU32::new(0);
/// The next uniqueid counter.
static ID_SEQ: AtomicU64 = AtomicU64::new(0);

/// The next channel sequence number: the 8 hex digits of channel names.
pub fn next_sequence() -> u32 {
    NAME_SEQ.fetch_add(1, Ordering::Relaxed)
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Channel {
    /// Creates a channel, registers it and publishes `Newchannel`. With a
    /// `requestor` (Dial, Originate), the new channel joins its linkedid and
    /// inherits its `_`/`__` variables.
    pub fn create(
        channels: &Arc<Channels>,
        init: ChannelInit,
        driver: Arc<dyn Driver>,
        requestor: Option<&Arc<Channel>>,
    ) -> Arc<Channel> {
        let name = format!("{}/{}-{:08x}", init.tech, init.resource, next_sequence());
        Self::create_named(channels, name, init, driver, requestor)
    }

    /// As [`Channel::create`], with a name chosen by the technology (the two
    /// halves of a Local channel share one sequence number: `;1` and `;2`).
    pub fn create_named(
        channels: &Arc<Channels>,
        name: String,
        init: ChannelInit,
        driver: Arc<dyn Driver>,
        requestor: Option<&Arc<Channel>>,
    ) -> Arc<Channel> {
        let uniqueid = format!("{}.{}", unix_secs(), ID_SEQ.fetch_add(1, Ordering::Relaxed));
        let (linkedid, vars) = match requestor {
            Some(r) => {
                let d = r.lock();
                (d.shown.linkedid.clone(), d.vars.inherited())
            }
            None => (uniqueid.clone(), Variables::default()),
        };
        let (tx, rx) = mpsc::channel(MAILBOX);
        let language = if init.language.is_empty() {
            "en".to_owned()
        } else {
            init.language
        };
        let channel = Arc::new(Channel {
            name,
            uniqueid,
            tech: init.tech,
            created: SystemTime::now(),
            data: Mutex::new(Data {
                shown: Shown {
                    state: init.state,
                    caller: init.caller,
                    connected: Party::default(),
                    language,
                    accountcode: init.accountcode,
                    context: init.context,
                    exten: init.exten,
                    priority: 1,
                    application: String::new(),
                    data: String::new(),
                    bridge_id: None,
                    linkedid,
                },
                published: None,
                vars,
                hangup_cause: Cause::NOT_DEFINED,
                answered: None,
            }),
            driver,
            bus: Arc::clone(channels.bus()),
            mailbox: tx,
            receiver: Mutex::new(Some(rx)),
            soft_hangup: Mutex::new(None),
            redirect: Mutex::new(None),
            hangup_notify: Notify::new(),
            hung_up: AtomicBool::new(false),
            ended: Mutex::new(false),
            registry: Arc::downgrade(channels),
        });
        channels.insert(&channel);
        channel.publish(ChannelEventKind::New);
        channel
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `PJSIP/101-00000001`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The uniqueid (`1795343112.25`).
    pub fn uniqueid(&self) -> &str {
        &self.uniqueid
    }

    /// The technology (`PJSIP`).
    pub fn tech(&self) -> &'static str {
        self.tech
    }

    /// The registry the channel lives in (for technologies that start the
    /// dialplan on a channel they created, like Local).
    pub fn channels(&self) -> Option<Arc<Channels>> {
        self.registry.upgrade()
    }

    /// The driver, to act on the wire.
    pub fn driver(&self) -> &Arc<dyn Driver> {
        &self.driver
    }

    /// The state now.
    pub fn state(&self) -> ChannelState {
        self.lock().shown.state
    }

    /// The channel's public state now.
    pub fn snapshot(&self) -> ChannelSnapshot {
        self.snapshot_of(&self.lock().shown)
    }

    fn snapshot_of(&self, d: &Shown) -> ChannelSnapshot {
        ChannelSnapshot {
            name: self.name.clone(),
            uniqueid: self.uniqueid.clone(),
            linkedid: d.linkedid.clone(),
            state: d.state,
            caller: d.caller.clone(),
            connected: d.connected.clone(),
            language: d.language.clone(),
            accountcode: d.accountcode.clone(),
            context: d.context.clone(),
            exten: d.exten.clone(),
            priority: d.priority,
            application: d.application.clone(),
            data: d.data.clone(),
            bridge_id: d.bridge_id.clone(),
            created: self.created,
        }
    }

    fn publish(&self, kind: ChannelEventKind) {
        let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        if *ended {
            return;
        }
        *ended = matches!(kind, ChannelEventKind::Hangup { .. });
        let channel = {
            let mut d = self.lock();
            match &d.published {
                Some(snapshot) => Arc::clone(snapshot),
                None => {
                    let snapshot = Arc::new(self.snapshot_of(&d.shown));
                    d.published = Some(Arc::clone(&snapshot));
                    snapshot
                }
            }
        };
        self.bus
            .publish(Event::Channel(ChannelEvent { channel, kind }));
    }

    /// Publishes an event about this channel (DTMF, dial progress) that the
    /// channel core does not raise itself.
    pub fn announce(&self, kind: ChannelEventKind) {
        self.publish(kind);
    }

    /// Changes the state; publishes `Newstate` if it changed.
    pub fn set_state(&self, state: ChannelState) {
        let old = {
            let mut d = self.lock();
            let old = d.shown.state;
            d.shown_mut().state = state;
            if state == ChannelState::Up && d.answered.is_none() {
                d.answered = Some(SystemTime::now());
            }
            old
        };
        if old != state {
            self.publish(ChannelEventKind::State);
            if let Some(registry) = self.registry.upgrade() {
                registry.devices().channel_changed(
                    &self.bus,
                    crate::devicestate::device_of(&self.name),
                    &self.uniqueid,
                    Some(state),
                );
            }
        }
    }

    /// When the channel was answered.
    pub fn answered_at(&self) -> Option<SystemTime> {
        self.lock().answered
    }

    /// When the channel was created.
    pub fn created(&self) -> SystemTime {
        self.created
    }

    /// Answers (if not already up) through the driver.
    pub async fn answer(self: &Arc<Self>) -> Result<(), Cause> {
        if self.state() == ChannelState::Up {
            return Ok(());
        }
        self.driver.answer(self).await?;
        self.set_state(ChannelState::Up);
        Ok(())
    }

    /// The dialplan location `(context, exten, priority)`.
    pub fn location(&self) -> (String, String, i32) {
        let d = self.lock();
        (
            d.shown.context.clone(),
            d.shown.exten.clone(),
            d.shown.priority,
        )
    }

    /// Moves the channel in the dialplan (no event: `Newexten` comes with the
    /// application that runs there).
    pub fn set_location(&self, context: &str, exten: &str, priority: i32) {
        let mut d = self.lock();
        d.shown_mut().context = context.to_owned();
        d.shown_mut().exten = exten.to_owned();
        d.shown_mut().priority = priority;
    }

    /// Records the application about to run and publishes `Newexten`.
    pub fn set_application(&self, application: &str, data: &str) {
        {
            let mut d = self.lock();
            d.shown_mut().application = application.to_owned();
            d.shown_mut().data = data.to_owned();
        }
        self.publish(ChannelEventKind::Exten {
            application: application.to_owned(),
            data: data.to_owned(),
        });
    }

    /// A channel variable.
    pub fn var(&self, name: &str) -> Option<String> {
        self.lock().vars.get(name).map(str::to_owned)
    }

    /// Sets a channel variable (an inheritance mark `_`/`__` is kept) and
    /// publishes `VarSet`.
    pub fn set_var(&self, name: &str, value: &str) {
        self.lock().vars.set(name, value);
        self.publish(ChannelEventKind::VarSet {
            variable: name.to_owned(),
            value: value.to_owned(),
        });
    }

    /// Deletes a channel variable.
    pub fn remove_var(&self, name: &str) {
        self.lock().vars.remove(name);
    }

    /// Every variable, `(name, value)`.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.lock()
            .vars
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// Caller identity.
    pub fn caller(&self) -> Party {
        self.lock().shown.caller.clone()
    }

    /// Changes the caller identity; publishes `NewCallerid` if it changed.
    pub fn set_caller(&self, caller: Party) {
        let changed = {
            let mut d = self.lock();
            let changed = d.shown.caller != caller;
            d.shown_mut().caller = caller;
            changed
        };
        if changed {
            self.publish(ChannelEventKind::CallerId);
        }
    }

    /// Connected-line identity.
    pub fn connected(&self) -> Party {
        self.lock().shown.connected.clone()
    }

    /// Changes the connected-line identity (who the channel is talking
    /// to, or presented to the far end on an outbound call); publishes
    /// `NewConnectedLine` if it changed.
    pub fn set_connected(&self, connected: Party) {
        let changed = {
            let mut d = self.lock();
            let changed = d.shown.connected != connected;
            d.shown_mut().connected = connected;
            changed
        };
        if changed {
            self.publish(ChannelEventKind::ConnectedLine);
        }
    }

    /// `CHANNEL(language)`.
    pub fn language(&self) -> String {
        self.lock().shown.language.clone()
    }

    /// Sets `CHANNEL(language)`.
    pub fn set_language(&self, language: &str) {
        self.lock().shown_mut().language = language.to_owned();
    }

    /// `CHANNEL(accountcode)`.
    pub fn accountcode(&self) -> String {
        self.lock().shown.accountcode.clone()
    }

    /// Sets `CHANNEL(accountcode)`.
    pub fn set_accountcode(&self, code: &str) {
        self.lock().shown_mut().accountcode = code.to_owned();
    }

    /// The linkedid.
    pub fn linkedid(&self) -> String {
        self.lock().shown.linkedid.clone()
    }

    /// Records the bridge the channel is in (`None` when it leaves).
    pub fn set_bridge(&self, bridge_id: Option<String>) {
        self.lock().shown_mut().bridge_id = bridge_id;
    }

    /// The bridge the channel is in.
    pub fn bridge(&self) -> Option<String> {
        self.lock().shown.bridge_id.clone()
    }

    /// The cause recorded for the hangup (`HANGUPCAUSE`).
    pub fn hangup_cause(&self) -> Cause {
        self.lock().hangup_cause
    }

    /// Records the cause without hanging up (a driver learning why the far
    /// end left).
    pub fn set_hangup_cause(&self, cause: Cause) {
        self.lock().hangup_cause = cause;
    }

    /// Queues a frame for the owner. A full mailbox drops the frame (it is
    /// DTMF or progress; the owner is not reading): hangups go through
    /// [`Channel::request_hangup`], which cannot be lost.
    pub fn queue(&self, control: Control) {
        if let Err(e) = self.mailbox.try_send(control) {
            tracing::debug!("{}: control frame dropped: {e}", self.name);
        }
    }

    /// Asks whoever runs the channel to hang it up (`channel request
    /// hangup`, AMI `Hangup`, the far end's BYE). Publishes
    /// `SoftHangupRequest` the first time.
    pub fn request_hangup(&self, cause: Cause) {
        let first = {
            let mut pending = self.soft_hangup.lock().unwrap_or_else(|e| e.into_inner());
            let first = pending.is_none();
            if first {
                *pending = Some(cause);
            }
            first
        };
        if first {
            {
                let mut d = self.lock();
                if d.hangup_cause == Cause::NOT_DEFINED {
                    d.hangup_cause = cause;
                }
            }
            self.publish(ChannelEventKind::HangupRequest { cause, soft: true });
        }
        self.hangup_notify.notify_waiters();
        self.hangup_notify.notify_one();
    }

    /// Sends the channel elsewhere in the dialplan (AMI `Redirect`): what
    /// it is doing (an application, a bridge) is interrupted as by a hangup
    /// request, and its dialplan run continues at the new location.
    pub fn redirect(&self, context: &str, exten: &str, priority: i32) {
        *self.redirect.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((context.to_owned(), exten.to_owned(), priority));
        self.hangup_notify.notify_waiters();
        self.hangup_notify.notify_one();
    }

    /// Whether a redirect is waiting to be taken.
    pub fn redirect_pending(&self) -> bool {
        self.redirect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Takes the pending redirect `(context, exten, priority)`.
    pub fn take_redirect(&self) -> Option<(String, String, i32)> {
        self.redirect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The pending hangup request, if any.
    pub fn hangup_requested(&self) -> Option<Cause> {
        *self.soft_hangup.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the mailbox: the one task that runs the channel reads it. `None`
    /// if someone already holds it.
    pub fn take_control(self: &Arc<Self>) -> Option<ControlReceiver> {
        let rx = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        Some(ControlReceiver {
            channel: Arc::clone(self),
            rx,
        })
    }

    /// Hands the mailbox back (when a Dial leg is passed to another owner).
    pub fn return_control(&self, control: ControlReceiver) {
        *self.receiver.lock().unwrap_or_else(|e| e.into_inner()) = Some(control.rx);
    }

    /// Whether [`Channel::hangup`] has run.
    pub fn is_hung_up(&self) -> bool {
        self.hung_up.load(Ordering::SeqCst)
    }

    /// Hangs the channel up: the driver ends the call on the wire with
    /// `cause` (or the cause already recorded), `Hangup` is published and the
    /// channel leaves the registry. Only the first call does anything.
    pub async fn hangup(self: &Arc<Self>, cause: Cause) {
        if self.hung_up.swap(true, Ordering::SeqCst) {
            return;
        }
        let cause = {
            let mut d = self.lock();
            if d.hangup_cause == Cause::NOT_DEFINED {
                d.hangup_cause = cause;
            }
            d.hangup_cause
        };
        self.driver.hangup(self, cause).await;
        self.publish(ChannelEventKind::Hangup { cause });
        if let Some(registry) = self.registry.upgrade() {
            registry.remove(self);
        }
    }
}

/// The reading end of a channel's mailbox, held by the task that runs the
/// channel.
#[derive(Debug)]
pub struct ControlReceiver {
    channel: Arc<Channel>,
    rx: mpsc::Receiver<Control>,
}

/// Why a wait on a channel ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HungUp(pub Cause);

impl ControlReceiver {
    /// The channel.
    pub fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// Why the owner must stop what it is doing: a hangup request, or a
    /// redirect (reported as a normal hangup; the dialplan executor then
    /// takes the redirect and goes on).
    fn interrupted(&self) -> Option<HungUp> {
        if let Some(cause) = self.channel.hangup_requested() {
            return Some(HungUp(cause));
        }
        self.channel
            .redirect_pending()
            .then_some(HungUp(Cause::NORMAL_CLEARING))
    }

    /// The next frame; `Err` once a hangup (or a redirect) is requested,
    /// checked first so that it overtakes queued DTMF.
    pub async fn recv(&mut self) -> Result<Control, HungUp> {
        loop {
            if let Some(stop) = self.interrupted() {
                return Err(stop);
            }
            let notified = self.channel.hangup_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(stop) = self.interrupted() {
                return Err(stop);
            }
            let closed = tokio::select! {
                frame = self.rx.recv() => match frame {
                    Some(frame) => return Ok(frame),
                    None => true,
                },
                () = &mut notified => false,
            };
            if closed {
                // Every sender is gone: nothing can arrive but a hangup.
                notified.await;
            }
        }
    }

    /// Waits `duration`, passing frames to `on_frame`; ends early when a
    /// hangup is requested or `on_frame` returns `true`.
    pub async fn wait(
        &mut self,
        duration: Duration,
        mut on_frame: impl FnMut(&Control) -> bool,
    ) -> Result<Option<Control>, HungUp> {
        let deadline = tokio::time::Instant::now() + duration;
        loop {
            tokio::select! {
                frame = self.recv() => {
                    let frame = frame?;
                    if on_frame(&frame) {
                        return Ok(Some(frame));
                    }
                }
                () = tokio::time::sleep_until(deadline) => return Ok(None),
            }
        }
    }

    /// Waits `duration`, discarding frames; `Err` on hangup.
    pub async fn sleep(&mut self, duration: Duration) -> Result<(), HungUp> {
        self.wait(duration, |_| false).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBus;

    struct Quiet;

    #[async_trait::async_trait]
    impl Driver for Quiet {
        async fn call(&self, _: &Arc<Channel>) -> Result<(), Cause> {
            Ok(())
        }
        async fn answer(&self, _: &Arc<Channel>) -> Result<(), Cause> {
            Ok(())
        }
        async fn indicate(&self, _: &Arc<Channel>, _: Indication) {}
        async fn hangup(&self, _: &Arc<Channel>, _: Cause) {}
        async fn send_digit(&self, _: &Arc<Channel>, _: char, _: u32) {}
    }

    #[tokio::test]
    async fn nothing_is_published_about_a_channel_after_its_hangup() {
        let bus = Arc::new(EventBus::default());
        let mut events = bus.subscribe();
        let channels = Channels::new(Arc::clone(&bus));
        let init = ChannelInit {
            tech: "Test",
            resource: "a".into(),
            state: ChannelState::Ring,
            caller: Party::default(),
            context: "default".into(),
            exten: "s".into(),
            language: String::new(),
            accountcode: String::new(),
        };
        let channel = Channel::create(&channels, init, Arc::new(Quiet), None);
        channel.hangup(Cause::NORMAL_CLEARING).await;
        // Late requests from other tasks (AMI Hangup, the far end's BYE).
        channel.request_hangup(Cause::NORMAL_CLEARING);
        channel.set_state(ChannelState::Up);
        let mut kinds = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let Event::Channel(e) = event.as_ref() {
                kinds.push(format!("{:?}", e.kind));
            }
        }
        assert!(
            kinds.first().is_some_and(|k| k.starts_with("New")),
            "{kinds:?}"
        );
        assert!(
            kinds.last().is_some_and(|k| k.starts_with("Hangup {")),
            "{kinds:?}"
        );
    }
}
