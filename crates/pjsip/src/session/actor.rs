//! The session task: one per call leg, owning the dialog, the INVITE
//! transaction's answers, client transactions (INVITE, CANCEL, BYE) and the
//! media stream's parameters. Session timers live in [`timer`], DTMF
//! sending and SIP INFO in [`digits`], direct media offers in [`direct`].

mod auth;
mod digits;
mod direct;
mod failover;
mod reroute;
mod timer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use obelus_core::channel::{
    Cause, Channel, ChannelState, Control, Indication, NativeRtp, TransferRequest, TransferState,
};
use obelus_core::events::{BlindTransferEvent, ChannelEventKind, Event, TransferResult};
use obelus_media::{Codec, StreamEvent, StreamParams};
use obelus_sip::sdp::Direction;
use obelus_sip::session_timer::{Agreement, SessionTimer};
use obelus_sip::transaction::{ClientTransaction, Event as TxnEvent, TimerConfig, TransactionKey};
use obelus_sip::{Method, Request, Response, StatusCode};
use obelus_transport::Reply;
use tokio::sync::{mpsc, oneshot};

use super::dialog::Dialog;
use super::direct::{DirectSettings, Redirect, SharedNative};
use super::dtmf::{DtmfMode, DtmfPath, SharedPath};
use super::handle::MediaSlot;
use super::sdp::{self, LocalAudio, RemoteAudio};
use crate::stack::{Origin, Shared, answer, built};

/// RFC 3261 timers for 2xx retransmission (§13.3.1.4).
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);

/// What reaches a session.
pub(crate) enum Input {
    /// An in-dialog request; `key` is its server transaction (none for ACK).
    Request {
        req: Box<Request>,
        key: Option<TransactionKey>,
        origin: Origin,
    },
    /// The pending INVITE was cancelled (the CANCEL is already answered).
    Cancel,
    /// From the channel core.
    Command(Command),
}

/// What the channel core asks.
pub(crate) enum Command {
    Call(oneshot::Sender<Result<(), Cause>>),
    Answer(oneshot::Sender<Result<(), Cause>>),
    Indicate(Indication),
    Hangup(Cause, oneshot::Sender<()>),
    /// Send a DTMF key for this long (ms) the way the call agreed.
    Digit(char, u32),
    /// Send the call elsewhere (an endpoint name or a SIP URI): 302 while
    /// an inbound call rings, REFER once it is answered.
    Transfer(String, oneshot::Sender<Result<(), Cause>>),
    /// Report how the transfer the peer asked for goes (NOTIFY).
    TransferProgress(TransferState, oneshot::Sender<Result<(), Cause>>),
    /// Point the peer's media at another phone, or back at us (`None`).
    DirectMedia(Option<NativeRtp>),
}

/// Which side of the INVITE we are.
pub(crate) enum Role {
    /// We received the INVITE.
    Uas {
        invite: Request,
        key: TransactionKey,
    },
    /// We send the INVITE (kept for CANCEL once sent).
    Uac { invite: Option<Request> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// INVITE sent or received, no final response yet.
    Early,
    /// A 2xx was sent or received.
    Confirmed,
    /// Over: BYE, CANCEL or a failure.
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invite,
    Bye,
    /// A session refresh (re-INVITE or UPDATE) of ours.
    Refresh,
    /// A DTMF INFO of ours.
    Info,
    /// A REFER of ours (a transfer of the answered call).
    Refer,
    /// A re-INVITE or UPDATE of ours moving the peer's media (direct
    /// media, or back to us).
    Media,
    Other,
}

struct ClientTxn {
    key: TransactionKey,
    txn: ClientTransaction,
    kind: Kind,
}

struct OkResend {
    bytes: Bytes,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

/// Everything a session needs at its start.
pub(crate) struct Setup {
    pub shared: Arc<Shared>,
    pub channel: Arc<Channel>,
    pub dialog: Dialog,
    pub reply: Reply,
    /// The `type=transport` section the dialog's requests leave by.
    pub transport: Arc<str>,
    pub via: String,
    pub reliable: bool,
    pub media: MediaSlot,
    pub local: LocalAudio,
    pub allowed: Vec<Codec>,
    pub symmetric: bool,
    pub role: Role,
    pub inbox: mpsc::Receiver<Input>,
    /// The peer's offer (UAS) that `local` answers.
    pub remote: Option<RemoteAudio>,
    /// The endpoint's session timer (`timers`, `timers_min_se`,
    /// `timers_sess_expires`).
    pub timer: SessionTimer,
    /// What our 2xx to the peer's INVITE agrees to (UAS).
    pub agreement: Option<Agreement>,
    /// The peer's `Allow` lists UPDATE (refreshes then use it).
    pub peer_allows_update: bool,
    /// The endpoint's `dtmf_mode`.
    pub dtmf: DtmfMode,
    /// Where the agreed DTMF path is published for the channel driver.
    pub dtmf_path: SharedPath,
    /// `PJSIP_TRANSFER_HANDLING()` is `ari-only` (set on the channel).
    pub transfer_ari: Arc<AtomicBool>,
    /// Where our INVITE goes next when the current target does not answer
    /// (the rest of the RFC 3263 target list; UAC only).
    pub alternates: Vec<std::net::SocketAddr>,
    /// What the endpoint says about the peer's REFERs.
    pub transfers: Transfers,
    /// The endpoint's direct media options.
    pub direct: DirectSettings,
    /// Where the peer's media is published for a native RTP bridge.
    pub native: SharedNative,
    /// Where the peer's SIP comes from (for `disable_direct_media_on_nat`),
    /// when known.
    pub source: Option<std::net::IpAddr>,
    /// The endpoint's `outbound_auth`: what answers the peer's challenges
    /// to our requests.
    pub outbound_auth: Vec<String>,
}

/// An endpoint's transfer options, for the peer's REFERs.
#[derive(Debug, Clone)]
pub(crate) struct Transfers {
    /// `allow_transfer` (603 Declined when off).
    pub allowed: bool,
    /// The endpoint's `context`: where a blind transfer's target is
    /// looked up unless the channel sets `TRANSFER_CONTEXT`.
    pub context: String,
}

pub(crate) struct Actor {
    shared: Arc<Shared>,
    channel: Arc<Channel>,
    dialog: Dialog,
    reply: Reply,
    transport: Arc<str>,
    via: String,
    reliable: bool,
    media: MediaSlot,
    media_events: Option<mpsc::Receiver<StreamEvent>>,
    local: LocalAudio,
    sdp_id: u64,
    sdp_version: u64,
    allowed: Vec<Codec>,
    symmetric: bool,
    role: Role,
    phase: Phase,
    held: bool,
    inbox: mpsc::Receiver<Input>,
    responses: mpsc::UnboundedReceiver<Response>,
    responses_tx: mpsc::UnboundedSender<Response>,
    client: Vec<ClientTxn>,
    registered: Vec<TransactionKey>,
    ok_resend: Option<OkResend>,
    timer: SessionTimer,
    agreement: Option<Agreement>,
    peer_allows_update: bool,
    dtmf: DtmfMode,
    dtmf_path: DtmfPath,
    /// `dtmf_path` as the channel driver sees it.
    dtmf_shared: SharedPath,
    transfer_ari: Arc<AtomicBool>,
    /// A REFER of the peer's was handed to the channel's application (or
    /// its bridge) and its NOTIFY subscription waits for news.
    refer_pending: bool,
    /// The RFC 3263 targets not tried yet, in order.
    alternates: Vec<std::net::SocketAddr>,
    transfers: Transfers,
    direct: DirectSettings,
    /// Where our offers point the peer's media.
    redirect: Redirect,
    native: SharedNative,
    source: Option<std::net::IpAddr>,
    /// The media parameters last given to the stream.
    params: Option<StreamParams>,
    /// Until when our 2xx to the peer's INVITE or re-INVITE waits for its
    /// ACK: no offer of ours may start before (RFC 3261 §14.1), nor wait
    /// past 64*T1 for an ACK that was lost.
    ack_due: Option<Instant>,
    outbound_auth: Vec<String>,
    /// Answers challenges to our requests (one chain per call).
    digest: obelus_sip::digest::client::DigestClient,
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Actor {
    pub(crate) fn new(setup: Setup) -> Actor {
        let (responses_tx, responses) = mpsc::unbounded_channel();
        let media_events = setup.media.get().and_then(|m| m.take_events());
        let mut actor = Actor {
            shared: setup.shared,
            channel: setup.channel,
            dialog: setup.dialog,
            reply: setup.reply,
            transport: setup.transport,
            via: setup.via,
            reliable: setup.reliable,
            media: setup.media,
            media_events,
            local: setup.local,
            sdp_id: unix_secs(),
            sdp_version: 1,
            allowed: setup.allowed,
            symmetric: setup.symmetric,
            role: setup.role,
            phase: Phase::Early,
            held: false,
            inbox: setup.inbox,
            responses,
            responses_tx,
            client: Vec::new(),
            registered: Vec::new(),
            ok_resend: None,
            timer: setup.timer,
            agreement: setup.agreement,
            peer_allows_update: setup.peer_allows_update,
            dtmf: setup.dtmf,
            // Until the answer says otherwise, what our offer proposes.
            dtmf_path: setup.dtmf.path(setup.dtmf.offers_rfc4733()),
            dtmf_shared: setup.dtmf_path,
            transfer_ari: setup.transfer_ari,
            refer_pending: false,
            alternates: setup.alternates,
            transfers: setup.transfers,
            direct: setup.direct,
            redirect: Redirect::default(),
            native: setup.native,
            source: setup.source,
            params: None,
            ack_due: None,
            outbound_auth: setup.outbound_auth,
            digest: obelus_sip::digest::client::DigestClient::new(),
        };
        actor.dtmf_shared.set(actor.dtmf_path);
        if let Some(remote) = &setup.remote {
            actor.configure_media(remote);
        }
        actor
    }

    fn configure_media(&mut self, remote: &RemoteAudio) {
        let Some((pt, codec)) = self.local.formats.first().copied() else {
            return;
        };
        let telephone_event = remote.dtmf_pt.filter(|_| self.local.dtmf_pt.is_some());
        self.dtmf_path = self.dtmf.path(telephone_event.is_some());
        self.dtmf_shared.set(self.dtmf_path);
        let ptime = remote.ptime.unwrap_or(self.local.ptime).clamp(10, 60);
        let params = StreamParams {
            remote: Some(remote.addr),
            codec,
            payload_type: pt,
            dtmf_payload_type: telephone_event,
            ptime_ms: ptime,
            symmetric: self.symmetric,
            // No reports to a peer whose media goes to another phone.
            rtcp: self.redirect.advertised().is_none(),
        };
        self.publish_native(&params);
        let Some(media) = self.media.get() else {
            return;
        };
        media.configure(params.clone());
        media.detect_inband_dtmf(self.dtmf_path == DtmfPath::Inband);
        self.params = Some(params);
    }

    /// Our session description as it stands: our own media address, or
    /// the other phone's while the media goes direct.
    fn sdp(&mut self) -> Vec<u8> {
        let audio = self.advertised_audio();
        sdp::render(self.sdp_id, self.sdp_version, self.local.addr.ip(), &audio).into_bytes()
    }

    /// Runs until the call is over on the wire and the channel has let go.
    pub(crate) async fn run(mut self) {
        loop {
            self.offer_direct_media();
            self.flush().await;
            if self.phase == Phase::Ended {
                // The call is over; what remains is answering
                // retransmissions, which needs no ports.
                self.media.release();
                self.media_events = None;
                if self.client.is_empty() {
                    break;
                }
            }
            let wake = self.next_wake();
            tokio::select! {
                input = self.inbox.recv() => match input {
                    Some(input) => self.on_input(input).await,
                    // The channel is gone: end the call on the wire.
                    None => {
                        if self.phase != Phase::Ended {
                            self.end(Cause::NORMAL_CLEARING).await;
                        } else {
                            break;
                        }
                    }
                },
                Some(response) = self.responses.recv() => self.on_response(response).await,
                Some(event) = async {
                    match self.media_events.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => self.on_media(event),
                () = tokio::time::sleep_until(wake.into()) => self.on_timer().await,
            }
        }
        self.shared
            .sessions
            .remove(&self.dialog.call_id, &self.dialog.local_tag);
        if let Role::Uas { invite, .. } = &self.role {
            self.shared.sessions.remove_pending(invite);
        }
        // Keys stay routed to the session until it ends, so that a
        // retransmitted 2xx finds it after its transaction is over.
        for key in &self.registered {
            self.shared.pending.unregister(key);
        }
    }

    fn next_wake(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let mut wake = far;
        for c in &self.client {
            if let Some(t) = c.txn.poll_timeout() {
                wake = wake.min(t);
            }
        }
        if let Some(r) = &self.ok_resend {
            wake = wake.min(r.next).min(r.give_up);
        }
        if let Some(t) = self.timer.poll_timeout() {
            wake = wake.min(t);
        }
        if let Some(t) = self.ack_due {
            wake = wake.min(t);
        }
        wake
    }

    /// Sends what the client transactions queued and handles their events.
    /// Handling an event may start a transaction (a BYE, an INVITE again
    /// after 422, a refresh): its request goes out in the next round.
    async fn flush(&mut self) {
        loop {
            let mut out = Vec::new();
            let mut events = Vec::new();
            for c in &mut self.client {
                while let Some(bytes) = c.txn.poll_transmit() {
                    out.push((c.kind, c.key.clone(), bytes));
                }
                while let Some(e) = c.txn.poll_event() {
                    events.push((c.kind, c.key.clone(), e));
                }
            }
            if out.is_empty() && events.is_empty() {
                break;
            }
            for (kind, key, bytes) in out {
                if let Err(e) = self.reply.send(bytes).await {
                    tracing::debug!("{}: send failed: {e}", self.channel.name());
                    if kind == Kind::Invite {
                        self.invite_unsent(&key, &e);
                    }
                }
            }
            self.on_txn_events(events).await;
        }
        self.client
            .retain(|c| c.txn.state() != obelus_sip::transaction::State::Terminated);
    }

    async fn on_txn_events(&mut self, events: Vec<(Kind, TransactionKey, TxnEvent)>) {
        for (kind, key, event) in events {
            match event {
                TxnEvent::Response(r) => {
                    if matches!(r.status().as_u16(), 401 | 407)
                        && self.answer_challenge(kind, &key, &r).await
                    {
                        continue;
                    }
                    self.on_txn_response(kind, r).await;
                }
                TxnEvent::Timeout => {
                    if kind == Kind::Invite && self.fail_over("no answer to INVITE") {
                        self.forget(&key);
                        continue;
                    }
                    if kind == Kind::Invite && self.phase == Phase::Early {
                        tracing::info!("{}: no answer to INVITE (timeout)", self.channel.name());
                        self.phase = Phase::Ended;
                        self.channel.request_hangup(Cause::NO_USER_RESPONSE);
                    }
                    self.forget(&key);
                }
                _ => {}
            }
        }
    }

    fn forget(&mut self, key: &TransactionKey) {
        self.client.retain(|c| &c.key != key);
    }

    async fn send(&self, bytes: Bytes) {
        if let Err(e) = self.reply.send(bytes).await {
            tracing::debug!("{}: send failed: {e}", self.channel.name());
        }
    }

    fn start_client(&mut self, request: Request, kind: Kind) {
        let Some(key) = TransactionKey::for_client_request(&request) else {
            return;
        };
        match ClientTransaction::new(
            request,
            self.reliable,
            TimerConfig::default(),
            Instant::now(),
        ) {
            Ok(txn) => {
                self.shared
                    .pending
                    .register(key.clone(), self.responses_tx.clone());
                self.registered.push(key.clone());
                self.client.push(ClientTxn { key, txn, kind });
            }
            Err(e) => tracing::warn!("{}: request not sent: {e}", self.channel.name()),
        }
    }

    async fn on_response(&mut self, response: Response) {
        let Some(key) = TransactionKey::for_response(&response) else {
            return;
        };
        // A retransmitted 2xx after the INVITE transaction ended: the ACK
        // was lost; send it again (RFC 3261 §13.2.2.4).
        if !self.client.iter().any(|c| c.key == key) {
            if response.status().is_success()
                && response.headers().cseq().method == Method::Invite
                && self.phase == Phase::Confirmed
            {
                self.send_ack(response.headers().cseq().seq).await;
            }
            return;
        }
        let now = Instant::now();
        for c in &mut self.client {
            if c.key == key {
                let _ = c.txn.handle_response(response.clone(), now);
            }
        }
    }

    async fn send_ack(&mut self, cseq: u32) {
        match self
            .dialog
            .request(Method::Ack, &self.via, Some(cseq))
            .build()
        {
            Ok(ack) => self.send(ack.to_bytes()).await,
            Err(e) => tracing::warn!("{}: ACK not built: {e}", self.channel.name()),
        }
    }

    async fn on_txn_response(&mut self, kind: Kind, response: Response) {
        let status = response.status();
        match kind {
            Kind::Invite => self.on_invite_response(response).await,
            Kind::Refresh => self.on_refresh_response(response).await,
            Kind::Media => self.on_media_response(response).await,
            Kind::Info => {
                if status.is_final() && !status.is_success() {
                    tracing::debug!(
                        "{}: DTMF INFO answered {}",
                        self.channel.name(),
                        status.as_u16()
                    );
                }
            }
            Kind::Refer => {
                if status.is_final() && !status.is_success() {
                    tracing::warn!(
                        "{}: transfer refused ({} {})",
                        self.channel.name(),
                        status.as_u16(),
                        response.reason()
                    );
                }
            }
            Kind::Bye | Kind::Other => {
                if status.is_final() && kind == Kind::Bye {
                    tracing::debug!("{}: BYE answered {}", self.channel.name(), status.as_u16());
                }
            }
        }
    }

    async fn on_invite_response(&mut self, response: Response) {
        let status = response.status();
        let code = status.as_u16();
        if status.is_provisional() {
            if code == 100 {
                return;
            }
            self.dialog.confirm(&response);
            if code == 180 || code == 181 || code == 182 {
                self.channel.set_state(ChannelState::Ringing);
                self.channel.queue(Control::Ringing);
            } else {
                if !response.body().is_empty() {
                    self.apply_answer(response.body());
                }
                self.channel.queue(Control::Progress);
            }
            return;
        }
        if status.is_success() {
            if self.phase == Phase::Ended {
                // Answered after we gave up: acknowledge and hang up.
                self.dialog.confirm(&response);
                self.send_ack(response.headers().cseq().seq).await;
                self.send_bye().await;
                return;
            }
            self.dialog.confirm(&response);
            self.send_ack(response.headers().cseq().seq).await;
            self.timer_on_success(&response);
            if !self.apply_answer(response.body()) {
                self.phase = Phase::Confirmed;
                self.channel
                    .set_hangup_cause(Cause::BEARERCAPABILITY_NOTAVAIL);
                self.end(Cause::BEARERCAPABILITY_NOTAVAIL).await;
                self.channel
                    .request_hangup(Cause::BEARERCAPABILITY_NOTAVAIL);
                return;
            }
            self.phase = Phase::Confirmed;
            self.channel.set_state(ChannelState::Up);
            self.channel.queue(Control::Answer);
            return;
        }
        if code == 422 && self.phase == Phase::Early && self.retry_invite(&response) {
            return;
        }
        // As Asterisk does: a 503 sends the INVITE to the next target.
        if code == 503 && self.fail_over("503 Service Unavailable") {
            return;
        }
        // 3xx-6xx: the attempt failed.
        let cause = Cause::from_sip(code);
        tracing::info!(
            verbose = 3,
            "{}: call failed with {code} {} ({})",
            self.channel.name(),
            response.reason(),
            cause.text()
        );
        self.phase = Phase::Ended;
        match code {
            486 | 600 => self.channel.queue(Control::Busy),
            503 => self.channel.queue(Control::Congestion),
            _ => {}
        }
        self.channel.request_hangup(cause);
    }

    /// Applies a peer's SDP answer; false if unusable.
    fn apply_answer(&mut self, body: &[u8]) -> bool {
        let remote = match sdp::remote_audio(body) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("{}: unusable SDP answer: {e}", self.channel.name());
                return false;
            }
        };
        match sdp::negotiate(&remote, &self.allowed) {
            Ok(format) => {
                self.local.formats = vec![format];
                if remote.dtmf_pt.is_none() {
                    self.local.dtmf_pt = None;
                } else if self.local.dtmf_pt.is_some() {
                    self.local.dtmf_pt = remote.dtmf_pt;
                }
                self.configure_media(&remote);
                true
            }
            Err(e) => {
                tracing::warn!("{}: {e}", self.channel.name());
                false
            }
        }
    }

    fn on_media(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::DtmfBegin { digit } => {
                self.channel.announce(ChannelEventKind::DtmfBegin {
                    digit,
                    direction: "Received",
                });
            }
            StreamEvent::Dtmf { digit, duration_ms } => {
                self.channel.announce(ChannelEventKind::DtmfEnd {
                    digit,
                    duration_ms,
                    direction: "Received",
                });
                self.channel.queue(Control::Dtmf { digit, duration_ms });
            }
            StreamEvent::PlaybackFinished { id, completed } => {
                self.channel
                    .queue(Control::PlaybackFinished { id, completed });
            }
            StreamEvent::RemoteLearned(addr) => {
                tracing::debug!("{}: RTP from {addr}", self.channel.name());
            }
        }
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        for c in &mut self.client {
            if c.txn.poll_timeout().is_some_and(|t| t <= now) {
                c.txn.handle_timeout(now);
            }
        }
        let mut resend = None;
        let mut give_up = false;
        if let Some(r) = &mut self.ok_resend {
            if r.give_up <= now {
                give_up = true;
            } else if r.next <= now {
                resend = Some(r.bytes.clone());
                r.interval = (r.interval * 2).min(T2);
                r.next = now + r.interval;
            }
        }
        if let Some(bytes) = resend {
            self.send(bytes).await;
        }
        if give_up {
            // RFC 3261 §13.3.1.4: no ACK within 64*T1 — end the session.
            self.ok_resend = None;
            tracing::warn!("{}: no ACK for 200 OK; hanging up", self.channel.name());
            self.send_bye().await;
            self.phase = Phase::Ended;
            self.channel.request_hangup(Cause::RECOVERY_ON_TIMER_EXPIRE);
        }
        self.on_session_timer(now).await;
    }

    async fn on_input(&mut self, input: Input) {
        match input {
            Input::Command(Command::Call(done)) => {
                let result = self.send_invite();
                let _ = done.send(result);
            }
            Input::Command(Command::Answer(done)) => {
                let result = self.answer().await;
                let _ = done.send(result);
            }
            Input::Command(Command::Indicate(indication)) => self.indicate(indication).await,
            Input::Command(Command::Hangup(cause, done)) => {
                // The channel may go as soon as the BYE, CANCEL or final
                // response is on its way; the task finishes the transaction.
                self.end(cause).await;
                self.flush().await;
                let _ = done.send(());
            }
            Input::Command(Command::Digit(digit, duration_ms)) => {
                self.send_digit(digit, duration_ms);
            }
            Input::Command(Command::Transfer(target, done)) => {
                let result = self.transfer(&target).await;
                let _ = done.send(result);
            }
            Input::Command(Command::TransferProgress(state, done)) => {
                let result = self.transfer_progress(state);
                let _ = done.send(result);
            }
            Input::Command(Command::DirectMedia(target)) => self.redirect.want(target),
            Input::Cancel => self.cancelled().await,
            Input::Request { req, key, origin } => self.in_dialog(*req, key, origin).await,
        }
    }

    fn send_invite(&mut self) -> Result<(), Cause> {
        let Role::Uac { invite, .. } = &self.role else {
            return Err(Cause::FAILURE);
        };
        if invite.is_some() {
            return Ok(());
        }
        self.start_invite(Some(1))
    }

    /// Sends our INVITE with its offer: the first (CSeq 1), or the next
    /// CSeq when a 422 asked for a longer session interval.
    fn start_invite(&mut self, cseq: Option<u32>) -> Result<(), Cause> {
        let body = sdp::render(
            self.sdp_id,
            self.sdp_version,
            self.local.addr.ip(),
            &self.local,
        );
        let caller = self.channel.connected();
        let request = self
            .dialog
            .request(Method::Invite, &self.via, cseq)
            .header("Allow", crate::stack::ALLOW)
            .header("Supported", self.supported());
        let request = self
            .with_timer_headers(request)
            .body("application/sdp", body.into_bytes());
        let request = if caller.name.is_empty() {
            request
        } else {
            request.header(
                "P-Asserted-Identity",
                format!("\"{}\" <sip:{}@obelus>", caller.name, caller.number),
            )
        };
        let request = match request.build() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("{}: INVITE not built: {e}", self.channel.name());
                return Err(Cause::FAILURE);
            }
        };
        if let Role::Uac { invite } = &mut self.role {
            *invite = Some(request.clone());
        }
        self.start_client(request, Kind::Invite);
        Ok(())
    }

    async fn respond(&self, key: &TransactionKey, response: Response) {
        self.shared.send_in_txn(key, &response).await;
    }

    fn contact_headers(&self, b: obelus_sip::ResponseBuilder) -> obelus_sip::ResponseBuilder {
        b.header("Contact", self.dialog.local_contact.clone())
            .header("Allow", crate::stack::ALLOW)
    }

    async fn answer(&mut self) -> Result<(), Cause> {
        let Role::Uas { invite, key } = &self.role else {
            return Err(Cause::FAILURE);
        };
        if self.phase != Phase::Early {
            return Ok(());
        }
        let (invite, key) = (invite.clone(), key.clone());
        let body = self.sdp();
        let b = response_to(&invite, StatusCode::OK, &self.dialog.local_tag);
        let b = self
            .contact_headers(b)
            .header("Supported", self.supported());
        let agreement = self.agreement.take();
        let b = agreement
            .iter()
            .flat_map(Agreement::response_headers)
            .fold(b, |b, (name, value)| b.header(name, value))
            .body("application/sdp", body);
        let Some(ok) = built(b) else {
            return Err(Cause::FAILURE);
        };
        let bytes = ok.to_bytes();
        self.respond(&key, ok).await;
        self.timer.start(agreement, Instant::now());
        self.shared.sessions.remove_pending(&invite);
        self.phase = Phase::Confirmed;
        self.ack_due = Some(Instant::now() + 64 * T1);
        if !self.reliable {
            let now = Instant::now();
            self.ok_resend = Some(OkResend {
                bytes,
                next: now + T1,
                interval: T1,
                give_up: now + 64 * T1,
            });
        }
        Ok(())
    }

    async fn indicate(&mut self, indication: Indication) {
        // Hold asked of this channel (the other party of its bridge put the
        // call on hold, or ARI `hold`): it hears music on hold until unhold,
        // as chan_pjsip does.
        match indication {
            Indication::Hold => {
                obelus_apps::moh::start(&self.shared.core, &self.channel, None);
                return;
            }
            Indication::Unhold => {
                obelus_apps::moh::stop(&self.shared.core, &self.channel);
                return;
            }
            _ => {}
        }
        let Role::Uas { invite, key } = &self.role else {
            return;
        };
        if self.phase != Phase::Early {
            return;
        }
        let (invite, key) = (invite.clone(), key.clone());
        let tag = self.dialog.local_tag.clone();
        match indication {
            Indication::Ringing => {
                let b = self.contact_headers(response_to(&invite, StatusCode::RINGING, &tag));
                if let Some(r) = built(b) {
                    self.respond(&key, r).await;
                }
            }
            Indication::Progress => {
                let body = self.sdp();
                let b = self
                    .contact_headers(response_to(&invite, StatusCode::SESSION_PROGRESS, &tag))
                    .body("application/sdp", body);
                if let Some(r) = built(b) {
                    self.respond(&key, r).await;
                }
            }
            Indication::Busy => self.reject(Cause::USER_BUSY).await,
            Indication::Congestion => self.reject(Cause::CONGESTION).await,
            // Handled above, in any phase.
            Indication::Hold | Indication::Unhold => {}
        }
    }

    /// Ends an unanswered inbound call with the response for `cause`.
    async fn reject(&mut self, cause: Cause) {
        let Role::Uas { invite, key } = &self.role else {
            return;
        };
        let (invite, key) = (invite.clone(), key.clone());
        let status = StatusCode::new(cause.to_sip()).unwrap_or(StatusCode::DECLINE);
        if let Some(r) = built(response_to(&invite, status, &self.dialog.local_tag)) {
            self.respond(&key, r).await;
        }
        self.shared.sessions.remove_pending(&invite);
        self.phase = Phase::Ended;
    }

    /// Ends the call on the wire for the channel's hangup.
    async fn end(&mut self, cause: Cause) {
        match self.phase {
            Phase::Ended => {}
            Phase::Confirmed => {
                self.send_bye().await;
                self.phase = Phase::Ended;
            }
            Phase::Early => match &self.role {
                Role::Uas { .. } => self.reject(cause).await,
                Role::Uac { invite, .. } => {
                    if let Some(invite) = invite.clone() {
                        self.send_cancel(&invite);
                    }
                    self.phase = Phase::Ended;
                }
            },
        }
    }

    async fn send_bye(&mut self) {
        self.ok_resend = None;
        self.timer.stop();
        if !self.reroute_if_closed("BYE").await {
            return;
        }
        match self.dialog.request(Method::Bye, &self.via, None).build() {
            Ok(bye) => self.start_client(bye, Kind::Bye),
            Err(e) => tracing::warn!("{}: BYE not built: {e}", self.channel.name()),
        }
    }

    /// CANCEL (RFC 3261 §9.1): the INVITE's Request-URI, Call-ID, From, To,
    /// CSeq number and top Via.
    fn send_cancel(&mut self, invite: &Request) {
        let h = invite.headers();
        let mut b = obelus_sip::RequestBuilder::new(Method::Cancel, invite.uri_str());
        if let Some(via) = h.get(obelus_sip::HeaderName::Via) {
            let top = obelus_sip::parse::split_list(via).next().unwrap_or(via);
            b = b.header("Via", top);
        }
        for name in [
            obelus_sip::HeaderName::From,
            obelus_sip::HeaderName::To,
            obelus_sip::HeaderName::CallId,
        ] {
            if let Some(v) = h.get(name) {
                b = b.header(name.as_str(), v);
            }
        }
        for route in h.get_all(obelus_sip::HeaderName::Route) {
            b = b.header("Route", route);
        }
        b = b
            .header("CSeq", format!("{} CANCEL", h.cseq().seq))
            .header("Max-Forwards", "70");
        match b.build() {
            Ok(cancel) => self.start_client(cancel, Kind::Other),
            Err(e) => tracing::warn!("{}: CANCEL not built: {e}", self.channel.name()),
        }
    }

    async fn cancelled(&mut self) {
        let Role::Uas { invite, key } = &self.role else {
            return;
        };
        if self.phase != Phase::Early {
            return;
        }
        let (invite, key) = (invite.clone(), key.clone());
        if let Some(r) = built(response_to(
            &invite,
            StatusCode::REQUEST_TERMINATED,
            &self.dialog.local_tag,
        )) {
            self.respond(&key, r).await;
        }
        self.shared.sessions.remove_pending(&invite);
        self.phase = Phase::Ended;
        tracing::info!(verbose = 3, "{}: caller cancelled", self.channel.name());
        self.channel.request_hangup(Cause::NORMAL_CLEARING);
    }

    async fn in_dialog(&mut self, req: Request, key: Option<TransactionKey>, origin: Origin) {
        let method = req.method().clone();
        if method == Method::Ack {
            self.ok_resend = None;
            self.ack_due = None;
            return;
        }
        let Some(key) = key else {
            return;
        };
        if !self.dialog.accept_remote_cseq(req.headers().cseq().seq) {
            let b = answer(&req, &origin, StatusCode::SERVER_INTERNAL_ERROR)
                .reason("CSeq out of order");
            if let Some(r) = built(b) {
                self.respond(&key, r).await;
            }
            return;
        }
        match method {
            Method::Bye => {
                if let Some(r) = built(answer(&req, &origin, StatusCode::OK)) {
                    self.respond(&key, r).await;
                }
                tracing::info!(verbose = 3, "{}: remote hung up (BYE)", self.channel.name());
                self.ok_resend = None;
                self.phase = Phase::Ended;
                self.channel.request_hangup(Cause::NORMAL_CLEARING);
            }
            Method::Invite | Method::Update => self.reoffer(&req, &key, &origin).await,
            Method::Info => self.on_info(&req, &key, &origin).await,
            Method::Notify => self.on_notify(&req, &key, &origin).await,
            Method::Refer => self.on_refer(&req, &key, &origin).await,
            Method::Message => {
                let endpoint = crate::messaging::endpoint_of(&self.channel);
                let b = crate::messaging::take(&self.shared, &req, &origin, endpoint);
                if let Some(r) = built(b) {
                    self.respond(&key, r).await;
                }
            }
            Method::Options => {
                let b = self.contact_headers(answer(&req, &origin, StatusCode::OK));
                if let Some(r) = built(b) {
                    self.respond(&key, r).await;
                }
            }
            _ => {
                let b = answer(&req, &origin, StatusCode::NOT_IMPLEMENTED)
                    .header("Allow", crate::stack::ALLOW);
                if let Some(r) = built(b) {
                    self.respond(&key, r).await;
                }
            }
        }
    }

    /// Where a transfer goes: a SIP URI as it is, an endpoint name (with
    /// or without `PJSIP/`) at its contact.
    async fn transfer_target(&self, target: &str) -> Option<String> {
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        if target.starts_with("sip:") || target.starts_with("sips:") {
            return Some(target.to_owned());
        }
        let name = target.strip_prefix("PJSIP/").unwrap_or(target);
        let sorcery = self.shared.sorcery.get()?;
        let endpoint = sorcery.retrieve_by_id("endpoint", name).await.ok()??;
        super::tech::contact_uri(&sorcery, &endpoint, None).await
    }

    /// Asterisk's `ast_transfer` for PJSIP: an inbound call still ringing
    /// gets 302 with the target as Contact (and the channel ends); an
    /// answered call gets a REFER, and ends once the far end reports the
    /// transfer done.
    async fn transfer(&mut self, target: &str) -> Result<(), Cause> {
        let Some(uri) = self.transfer_target(target).await else {
            tracing::warn!(
                "{}: not transferring to '{target}': no such endpoint or no contact",
                self.channel.name()
            );
            return Err(Cause::NO_ROUTE_DESTINATION);
        };
        match (&self.role, self.phase) {
            (Role::Uas { invite, key }, Phase::Early) => {
                let (invite, key) = (invite.clone(), key.clone());
                let b = response_to(
                    &invite,
                    StatusCode::MOVED_TEMPORARILY,
                    &self.dialog.local_tag,
                )
                .header("Contact", format!("<{uri}>"));
                let Some(r) = built(b) else {
                    return Err(Cause::FAILURE);
                };
                self.respond(&key, r).await;
                self.shared.sessions.remove_pending(&invite);
                self.phase = Phase::Ended;
                tracing::info!(verbose = 3, "{}: redirected to {uri}", self.channel.name());
                self.channel.request_hangup(Cause::NORMAL_CLEARING);
                Ok(())
            }
            (_, Phase::Confirmed) => {
                let referred_by = self.dialog.local_uri.clone();
                let refer = self
                    .dialog
                    .request(Method::Refer, &self.via, None)
                    .header("Refer-To", format!("<{uri}>"))
                    .header("Referred-By", referred_by)
                    .build();
                match refer {
                    Ok(refer) => {
                        self.start_client(refer, Kind::Refer);
                        tracing::info!(
                            verbose = 3,
                            "{}: transferring to {uri}",
                            self.channel.name()
                        );
                        Ok(())
                    }
                    Err(e) => {
                        tracing::warn!("{}: REFER not built: {e}", self.channel.name());
                        Err(Cause::FAILURE)
                    }
                }
            }
            _ => Err(Cause::CHAN_NOT_IMPLEMENTED),
        }
    }

    /// A NOTIFY of the transfer our REFER started (RFC 3515): its
    /// `message/sipfrag` body is the status of the transferee's call; a
    /// final 2xx means the transfer is done and this call ends.
    async fn on_notify(&mut self, req: &Request, key: &TransactionKey, origin: &Origin) {
        let refer = req
            .headers()
            .get_all_raw("Event")
            .chain(req.headers().get_all_raw("o"))
            .any(|e| e.trim().to_ascii_lowercase().starts_with("refer"));
        let b = if refer {
            answer(req, origin, StatusCode::OK)
        } else {
            // RFC 6665 §8.3.1: 489 for an event package we did not ask for.
            let bad_event = StatusCode::new(489).unwrap_or(StatusCode::BAD_REQUEST);
            answer(req, origin, bad_event).reason("Bad Event")
        };
        if let Some(r) = built(b) {
            self.respond(key, r).await;
        }
        if !refer {
            return;
        }
        let frag = String::from_utf8_lossy(req.body());
        let code = frag
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse::<u16>().ok());
        match code {
            Some(200..=299) if self.phase == Phase::Confirmed => {
                tracing::info!(
                    verbose = 3,
                    "{}: transfer completed; hanging up",
                    self.channel.name()
                );
                self.send_bye().await;
                self.phase = Phase::Ended;
                self.channel.request_hangup(Cause::NORMAL_CLEARING);
            }
            Some(code @ 300..) => {
                tracing::warn!("{}: transfer failed ({code})", self.channel.name())
            }
            _ => {}
        }
    }

    /// A REFER from the peer (RFC 3515), on an answered call: accepted
    /// (202, NOTIFY `100 Trying`), then with `PJSIP_TRANSFER_HANDLING()`
    /// set to `ari-only` handed to the channel's application, which
    /// reports progress; otherwise, as res_pjsip_refer does, a blind
    /// transfer's target is looked up in `TRANSFER_CONTEXT` or the
    /// endpoint's `context` (a final NOTIFY `404` if it does not exist,
    /// `503` if the channel is in no bridge), an attended transfer's
    /// Replaces must name another call of this server (`503` if not), and
    /// the request goes to the channel's bridge, which carries it out and
    /// reports `200 OK` (or `503`).
    /// Refused with 501 before the call is answered, 603 when the
    /// endpoint's `allow_transfer` is off.
    async fn on_refer(&mut self, req: &Request, key: &TransactionKey, origin: &Origin) {
        let ari = self.transfer_ari.load(Ordering::Relaxed);
        let refusal = if self.phase != Phase::Confirmed {
            Some(
                answer(req, origin, StatusCode::NOT_IMPLEMENTED)
                    .header("Allow", crate::stack::ALLOW),
            )
        } else if !ari && !self.transfers.allowed {
            Some(answer(req, origin, StatusCode::DECLINE))
        } else {
            None
        };
        if let Some(b) = refusal {
            if let Some(r) = built(b) {
                self.respond(key, r).await;
            }
            return;
        }
        let refer_to = req
            .headers()
            .get_all_raw("Refer-To")
            .chain(req.headers().get_all_raw("r"))
            .next()
            .map(super::dialog::bare_uri);
        let Some(mut request) = refer_to.as_deref().and_then(transfer_request) else {
            let b = answer(req, origin, StatusCode::BAD_REQUEST).reason("Missing Refer-To");
            if let Some(r) = built(b) {
                self.respond(key, r).await;
            }
            return;
        };
        let b = self.contact_headers(answer(req, origin, StatusCode::ACCEPTED));
        if let Some(r) = built(b) {
            self.respond(key, r).await;
        }
        self.send_notify("SIP/2.0 100 Trying", false);
        if ari {
            self.refer_pending = true;
            tracing::info!(
                verbose = 3,
                "{}: transfer requested; handed to the ARI application",
                self.channel.name()
            );
            self.channel.queue(Control::Transfer(request));
            return;
        }
        let context = self
            .channel
            .var("TRANSFER_CONTEXT")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.transfers.context.clone());
        if let Some(call_id) = &request.replaces {
            let Some(replaced) = self.replaced_channel(call_id) else {
                tracing::warn!(
                    "{}: attended transfer refused: no call '{call_id}' to replace",
                    self.channel.name()
                );
                self.send_notify("SIP/2.0 503 Service Unavailable", true);
                return;
            };
            request.replaced_channel = Some(replaced);
        }
        if let Some(exten) = request.destination.as_deref()
            && !self.target_exists(&context, exten).await
        {
            tracing::error!(
                "Channel '{}' attempted blind transfer to '{exten}@{context}' but target does not exist",
                self.channel.name()
            );
            self.send_notify("SIP/2.0 404 Not Found", true);
            return;
        }
        if self.channel.bridge().is_none() {
            tracing::warn!(
                "{}: transfer refused: the channel is in no bridge",
                self.channel.name()
            );
            if let Some(exten) = &request.destination {
                self.shared
                    .core
                    .events
                    .publish(Event::BlindTransfer(BlindTransferEvent {
                        result: TransferResult::Invalid,
                        transferer: Arc::new(self.channel.snapshot()),
                        transferee: None,
                        bridge: None,
                        is_external: true,
                        context: context.clone(),
                        exten: exten.clone(),
                    }));
            }
            self.send_notify("SIP/2.0 503 Service Unavailable", true);
            return;
        }
        request.context = Some(context);
        self.refer_pending = true;
        self.channel.queue(Control::Transfer(request));
    }

    /// The uniqueid of this server's other SIP channel whose dialog has
    /// SIP Call-ID `call_id` (the call a REFER's Replaces names).
    fn replaced_channel(&self, call_id: &str) -> Option<String> {
        self.shared
            .core
            .channels
            .all()
            .into_iter()
            .filter(|c| c.uniqueid() != self.channel.uniqueid())
            .find(|c| c.driver().info("pjsip,call-id").as_deref() == Some(call_id))
            .map(|c| c.uniqueid().to_owned())
    }

    /// Whether `exten` exists in `context` for a transfer.
    async fn target_exists(&self, context: &str, exten: &str) -> bool {
        match self.shared.core.channels.pbx() {
            Some(pbx) => pbx.exists(context, exten, None).await,
            None => false,
        }
    }

    /// A NOTIFY of the peer's REFER subscription with a sipfrag status.
    fn send_notify(&mut self, frag: &str, last: bool) {
        let state = if last {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let notify = self
            .dialog
            .request(Method::Notify, &self.via, None)
            .header("Event", "refer")
            .header("Subscription-State", state)
            .body(
                "message/sipfrag;version=2.0",
                format!("{frag}\r\n").into_bytes(),
            )
            .build();
        match notify {
            Ok(notify) => self.start_client(notify, Kind::Other),
            Err(e) => tracing::warn!("{}: NOTIFY not built: {e}", self.channel.name()),
        }
    }

    /// ARI's `transfer_progress`: the news for the peer's REFER; an error
    /// when none is pending.
    fn transfer_progress(&mut self, state: TransferState) -> Result<(), Cause> {
        if !self.refer_pending || self.phase != Phase::Confirmed {
            return Err(Cause::CHAN_NOT_IMPLEMENTED);
        }
        let (frag, last) = match state {
            TransferState::Progress => ("SIP/2.0 180 Ringing", false),
            TransferState::Answered => ("SIP/2.0 200 OK", true),
            TransferState::Unavailable => ("SIP/2.0 503 Service Unavailable", true),
            TransferState::Declined => ("SIP/2.0 603 Declined", true),
        };
        self.send_notify(frag, last);
        if last {
            self.refer_pending = false;
        }
        Ok(())
    }

    /// A re-INVITE or UPDATE from the peer: a session refresh (RFC 4028)
    /// and/or a new offer (hold, resume, new address or codec). A
    /// re-INVITE without SDP gets our current description as its offer; an
    /// UPDATE without SDP gets no body (RFC 3311 §5.2).
    async fn reoffer(&mut self, req: &Request, key: &TransactionKey, origin: &Origin) {
        let update = *req.method() == Method::Update;
        if self.glare(update, !req.body().is_empty()) {
            // RFC 3261 §14.2, RFC 3311 §5.2: our own offer is in flight.
            if let Some(r) = built(answer(req, origin, StatusCode::REQUEST_PENDING)) {
                self.respond(key, r).await;
            }
            return;
        }
        let agreement = match self.timer_on_request(req, origin) {
            Ok(agreement) => agreement,
            Err(refusal) => {
                if let Some(r) = built(*refusal) {
                    self.respond(key, r).await;
                }
                return;
            }
        };
        if !req.body().is_empty() {
            let remote = match sdp::remote_audio(req.body()) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("{}: re-offer refused: {e}", self.channel.name());
                    if let Some(r) = built(answer(req, origin, StatusCode::NOT_ACCEPTABLE_HERE)) {
                        self.respond(key, r).await;
                    }
                    return;
                }
            };
            match sdp::negotiate(&remote, &self.allowed) {
                Ok(format) => {
                    self.local.formats = vec![format];
                    self.configure_media(&remote);
                }
                Err(e) => {
                    tracing::warn!("{}: re-offer refused: {e}", self.channel.name());
                    if let Some(r) = built(answer(req, origin, StatusCode::NOT_ACCEPTABLE_HERE)) {
                        self.respond(key, r).await;
                    }
                    return;
                }
            }
            let hold = matches!(remote.direction, Direction::SendOnly | Direction::Inactive);
            self.local.direction = match remote.direction {
                Direction::SendOnly => Direction::RecvOnly,
                Direction::RecvOnly => Direction::SendOnly,
                Direction::Inactive => Direction::Inactive,
                Direction::SendRecv => Direction::SendRecv,
            };
            if hold != self.held {
                self.held = hold;
                let (control, kind) = if hold {
                    (Control::Hold, ChannelEventKind::Hold)
                } else {
                    (Control::Unhold, ChannelEventKind::Unhold)
                };
                self.channel.announce(kind);
                self.channel.queue(control);
            }
            self.sdp_version += 1;
        }
        let b = self
            .contact_headers(answer(req, origin, StatusCode::OK))
            .header("Supported", self.supported());
        let b = agreement
            .iter()
            .flat_map(Agreement::response_headers)
            .fold(b, |b, (name, value)| b.header(name, value));
        let b = if update && req.body().is_empty() {
            b
        } else {
            b.body("application/sdp", self.sdp())
        };
        if let Some(r) = built(b) {
            self.respond(key, r).await;
            if !update {
                self.ack_due = Some(Instant::now() + 64 * T1);
            }
        }
        self.timer.start(agreement, Instant::now());
    }

    /// Whether a peer's re-INVITE (or UPDATE with an offer) crosses an
    /// offer of ours still waiting for its answer.
    fn glare(&self, update: bool, offer: bool) -> bool {
        (!update || offer) && self.offer_pending()
    }

    /// Whether a re-INVITE of ours, or an UPDATE of ours with an offer,
    /// waits for its final response.
    fn offer_pending(&self) -> bool {
        use obelus_sip::transaction::State;
        self.client.iter().any(|c| {
            let offer = match c.kind {
                Kind::Refresh => c.txn.request().method() == &Method::Invite,
                Kind::Media => true,
                _ => false,
            };
            offer
                && matches!(
                    c.txn.state(),
                    State::Calling | State::Trying | State::Proceeding
                )
        })
    }
}

/// What a Refer-To URI asks for: the user part for a blind transfer, the
/// call to replace (its Call-ID, with `to-tag`/`from-tag`) for an attended
/// one (`sip:102@host?Replaces=id%40host%3Bto-tag%3Da%3Bfrom-tag%3Db`).
fn transfer_request(uri: &str) -> Option<TransferRequest> {
    if uri.trim().is_empty() {
        return None;
    }
    let (address, headers) = uri.split_once('?').unwrap_or((uri, ""));
    let rest = address.split_once(':').map_or(address, |(_, r)| r);
    let destination = rest
        .split_once('@')
        .map(|(user, _)| user.split(';').next().unwrap_or(user).to_owned())
        .filter(|u| !u.is_empty());
    let replaces = headers
        .split('&')
        .filter_map(|h| h.split_once('='))
        .find(|(name, _)| name.eq_ignore_ascii_case("Replaces"))
        .map(|(_, value)| percent_decode(value));
    let (replaces, params) = match replaces {
        Some(value) => {
            let mut parts = value.split(';');
            let call_id = parts.next().unwrap_or_default().trim().to_owned();
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            (Some(call_id), params)
        }
        None => (None, Vec::new()),
    };
    Some(TransferRequest {
        destination: destination.filter(|_| replaces.is_none()),
        replaces,
        params,
        context: None,
        replaced_channel: None,
    })
}

/// `%40` -> `@`; a malformed escape stays as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response to a received INVITE with our To tag.
pub(crate) fn response_to(
    invite: &Request,
    status: StatusCode,
    tag: &str,
) -> obelus_sip::ResponseBuilder {
    let b = Response::for_request(invite, status).header("Server", "Obelus");
    match invite.headers().to_tag() {
        Ok(None) => b.to_tag(tag),
        _ => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_to_targets() {
        let blind = transfer_request("sip:104@192.0.2.1;transport=udp").expect("blind");
        assert_eq!(blind.destination.as_deref(), Some("104"));
        assert_eq!(blind.replaces, None);
        let attended = transfer_request(
            "sip:102@192.0.2.1?Replaces=abc%40192.0.2.9%3Bto-tag%3Dt1%3Bfrom-tag%3Df1",
        )
        .expect("attended");
        assert_eq!(attended.destination, None);
        assert_eq!(attended.replaces.as_deref(), Some("abc@192.0.2.9"));
        assert_eq!(
            attended.params,
            vec![
                ("to-tag".to_owned(), "t1".to_owned()),
                ("from-tag".to_owned(), "f1".to_owned())
            ]
        );
        assert!(transfer_request("").is_none());
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
