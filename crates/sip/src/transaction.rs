//! SIP transactions (RFC 3261 §17, with the Accepted state of RFC 6026),
//! sans-IO: the four state machines are driven by explicit inputs and a
//! caller-supplied clock.
//!
//! The shape follows quinn-proto: feed messages with `handle_*`, feed time
//! with [`ClientTransaction::handle_timeout`], then drain
//! `poll_transmit()` (bytes to send to the peer), `poll_event()` (what the
//! transaction user must know) and `poll_timeout()` (when to call
//! `handle_timeout` next). Tests run timers A-M in virtual time.
//!
//! Matching a message to its transaction is the caller's job, with
//! [`TransactionKey`] (RFC 3261 §17.1.3, §17.2.3).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::ParseError;
use crate::header::HeaderName;
use crate::message::{Request, RequestBuilder, Response};
use crate::method::Method;
use crate::status::StatusCode;

/// Timer base values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE
    /// responses, 4 s by default.
    pub t2: Duration,
    /// Time a message may live in the network, 5 s by default.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// Transaction states (RFC 3261 §17; `Accepted` from RFC 6026 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// INVITE client: request sent, nothing received.
    Calling,
    /// Non-INVITE client or server: request sent / received, no response yet.
    Trying,
    /// A provisional response was received / sent.
    Proceeding,
    /// A final response was received / sent; absorbing retransmissions.
    Completed,
    /// INVITE: a 2xx was received / sent (RFC 6026).
    Accepted,
    /// INVITE server: the ACK arrived.
    Confirmed,
    /// Done: drop the transaction.
    Terminated,
}

/// What the transaction user must hear about.
#[derive(Debug, Clone)]
pub enum Event {
    /// A response for the TU (client): every provisional, the first final,
    /// and each 2xx to an INVITE (the TU acknowledges 2xx itself).
    Response(Response),
    /// An ACK for a 2xx that reached the INVITE server transaction in the
    /// Accepted state (RFC 6026 §7.1).
    Ack(Request),
    /// Timer B/F fired (no final response), or Timer H fired (no ACK).
    Timeout,
    /// The transaction reached Terminated.
    Terminated,
}

/// Why a transaction could not be created or fed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// A client transaction cannot be started for ACK (RFC 3261 §17.1).
    #[error("ACK does not create a client transaction")]
    AckRequest,
    /// A response was handed to a server transaction in a state where the
    /// TU may not send it (for example after the final response).
    #[error("response not allowed in state {0:?}")]
    NotAllowed(State),
    /// The ACK for a non-2xx final response could not be built.
    #[error("cannot build ACK: {0}")]
    Ack(#[from] ParseError),
}

/// One timer: next deadline and, for retransmission timers, the interval.
#[derive(Debug, Clone, Copy)]
struct Timer {
    at: Instant,
    interval: Duration,
}

#[derive(Debug, Default)]
struct Timers {
    /// A, E, G: retransmission.
    retransmit: Option<Timer>,
    /// B, F, H: give up.
    give_up: Option<Instant>,
    /// D, I, J, K, L, M: linger, then terminate.
    linger: Option<Instant>,
}

impl Timers {
    fn next(&self) -> Option<Instant> {
        [self.retransmit.map(|t| t.at), self.give_up, self.linger]
            .into_iter()
            .flatten()
            .min()
    }
}

#[derive(Debug)]
struct Core {
    state: State,
    reliable: bool,
    config: TimerConfig,
    timers: Timers,
    transmits: VecDeque<Bytes>,
    events: VecDeque<Event>,
}

impl Core {
    fn new(state: State, reliable: bool, config: TimerConfig) -> Core {
        Core {
            state,
            reliable,
            config,
            timers: Timers::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn terminate(&mut self) {
        if self.state != State::Terminated {
            self.state = State::Terminated;
            self.timers = Timers::default();
            self.events.push_back(Event::Terminated);
        }
    }

    /// Starts a linger timer, or terminates at once when its duration is zero
    /// (reliable transports, RFC 3261 §17.1.1.2...).
    fn linger(&mut self, now: Instant, d: Duration) {
        self.timers.retransmit = None;
        self.timers.give_up = None;
        if d.is_zero() {
            self.terminate();
        } else {
            self.timers.linger = Some(now + d);
        }
    }

    fn unreliable(&self, d: Duration) -> Duration {
        if self.reliable { Duration::ZERO } else { d }
    }
}

/// A client transaction (RFC 3261 §17.1): sends a request, retransmits it
/// over unreliable transports, and turns responses into TU events.
#[derive(Debug)]
pub struct ClientTransaction {
    core: Core,
    invite: bool,
    request: Request,
    wire: Bytes,
    ack: Option<Bytes>,
}

impl ClientTransaction {
    /// Starts the transaction at `now`: the request is queued for sending
    /// and Timers A/B (INVITE) or E/F (non-INVITE) start. `reliable` is true
    /// for TCP, TLS and WebSocket.
    pub fn new(
        request: Request,
        reliable: bool,
        config: TimerConfig,
        now: Instant,
    ) -> Result<Self, TransactionError> {
        let invite = match request.method() {
            Method::Ack => return Err(TransactionError::AckRequest),
            Method::Invite => true,
            _ => false,
        };
        let mut core = Core::new(
            if invite {
                State::Calling
            } else {
                State::Trying
            },
            reliable,
            config,
        );
        let wire = request.to_bytes();
        core.transmits.push_back(wire.clone());
        if !reliable {
            core.timers.retransmit = Some(Timer {
                at: now + config.t1,
                interval: config.t1,
            });
        }
        core.timers.give_up = Some(now + 64 * config.t1);
        Ok(ClientTransaction {
            core,
            invite,
            request,
            wire,
            ack: None,
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.core.state
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Feeds a response matched to this transaction.
    pub fn handle_response(
        &mut self,
        response: Response,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let code = response.status();
        let c = &mut self.core;
        match (self.invite, c.state) {
            (_, State::Terminated) => {}
            (true, State::Calling | State::Proceeding) => {
                if code.is_provisional() {
                    // §17.1.1.2: retransmissions stop, and Timer B only
                    // applies in Calling.
                    c.state = State::Proceeding;
                    c.timers.retransmit = None;
                    c.timers.give_up = None;
                    c.events.push_back(Event::Response(response));
                } else if code.is_success() {
                    // RFC 6026 §7.2: Accepted, Timer M absorbs nothing but
                    // lets 2xx retransmissions reach the TU.
                    c.state = State::Accepted;
                    c.events.push_back(Event::Response(response));
                    let m = 64 * c.config.t1;
                    c.linger(now, m);
                } else {
                    let ack = build_ack(&self.request, &response)?;
                    c.transmits.push_back(ack.clone());
                    self.ack = Some(ack);
                    c.state = State::Completed;
                    c.events.push_back(Event::Response(response));
                    let d = c.unreliable(Duration::from_secs(32));
                    c.linger(now, d);
                }
            }
            (true, State::Accepted) if code.is_success() => {
                c.events.push_back(Event::Response(response));
            }
            (true, State::Completed) => {
                // §17.1.1.2: a retransmitted final response gets the ACK again.
                if code.is_final()
                    && let Some(ack) = &self.ack
                {
                    c.transmits.push_back(ack.clone());
                }
            }
            (false, State::Trying | State::Proceeding) => {
                if code.is_provisional() {
                    c.state = State::Proceeding;
                } else {
                    c.state = State::Completed;
                    let k = c.unreliable(c.config.t4);
                    c.linger(now, k);
                }
                c.events.push_back(Event::Response(response));
            }
            _ => {}
        }
        Ok(())
    }

    /// Processes every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let c = &mut self.core;
        if let Some(t) = c.timers.retransmit
            && t.at <= now
        {
            c.transmits.push_back(self.wire.clone());
            let interval = if self.invite {
                t.interval * 2
            } else if c.state == State::Proceeding {
                c.config.t2
            } else {
                (t.interval * 2).min(c.config.t2)
            };
            c.timers.retransmit = Some(Timer {
                at: now + interval,
                interval,
            });
        }
        if c.timers.give_up.is_some_and(|t| t <= now) {
            c.events.push_back(Event::Timeout);
            c.terminate();
        }
        if c.timers.linger.is_some_and(|t| t <= now) {
            c.terminate();
        }
    }

    /// A transport error while sending: inform the TU and terminate
    /// (RFC 3261 §17.1.4).
    pub fn handle_transport_error(&mut self) {
        self.core.events.push_back(Event::Timeout);
        self.core.terminate();
    }

    /// Next bytes to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.core.transmits.pop_front()
    }

    /// Next event for the TU.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// When [`ClientTransaction::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.timers.next()
    }
}

/// Builds the ACK for a non-2xx final response (RFC 3261 §17.1.1.3).
fn build_ack(req: &Request, resp: &Response) -> Result<Bytes, ParseError> {
    let h = req.headers();
    let mut b = RequestBuilder::new(Method::Ack, req.uri_str());
    if let Some(v) = h.values(HeaderName::Via).next() {
        b = b.header("Via", v);
    }
    for r in h.get_all(HeaderName::Route) {
        b = b.header("Route", r);
    }
    b = b
        .header("Max-Forwards", "70")
        .header("From", h.get(HeaderName::From).unwrap_or(""))
        .header("To", resp.headers().get(HeaderName::To).unwrap_or(""))
        .header("Call-ID", h.call_id())
        .header("CSeq", format!("{} ACK", h.cseq().seq));
    b.build().map(|r| r.to_bytes())
}

/// A server transaction (RFC 3261 §17.2): absorbs request retransmissions,
/// sends and retransmits the TU's responses.
#[derive(Debug)]
pub struct ServerTransaction {
    core: Core,
    invite: bool,
    last_response: Option<Bytes>,
}

impl ServerTransaction {
    /// Creates the transaction for a received request (not ACK). For an
    /// INVITE a `100 Trying` is queued at once (RFC 3261 §17.2.1), so the
    /// TU may take its time.
    pub fn new(
        request: &Request,
        reliable: bool,
        config: TimerConfig,
    ) -> Result<Self, TransactionError> {
        let invite = match request.method() {
            Method::Ack => return Err(TransactionError::AckRequest),
            Method::Invite => true,
            _ => false,
        };
        let mut t = ServerTransaction {
            core: Core::new(
                if invite {
                    State::Proceeding
                } else {
                    State::Trying
                },
                reliable,
                config,
            ),
            invite,
            last_response: None,
        };
        if invite {
            let trying = Response::for_request(request, StatusCode::TRYING).build()?;
            let wire = trying.to_bytes();
            t.core.transmits.push_back(wire.clone());
            t.last_response = Some(wire);
        }
        Ok(t)
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.core.state
    }

    /// Feeds a request matched to this transaction: a retransmission, or
    /// the ACK of an INVITE transaction.
    pub fn handle_request(&mut self, request: Request, now: Instant) {
        let is_ack = request.method() == &Method::Ack;
        let c = &mut self.core;
        match c.state {
            State::Proceeding | State::Completed if !is_ack => {
                if let Some(r) = &self.last_response {
                    c.transmits.push_back(r.clone());
                }
            }
            State::Completed if is_ack && self.invite => {
                c.state = State::Confirmed;
                let i = c.unreliable(c.config.t4);
                c.linger(now, i);
            }
            State::Accepted if is_ack => c.events.push_back(Event::Ack(request)),
            _ => {}
        }
    }

    /// Sends a response from the TU.
    pub fn send_response(
        &mut self,
        response: &Response,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let code = response.status();
        let c = &mut self.core;
        let allowed = matches!(c.state, State::Trying | State::Proceeding);
        if !allowed {
            return Err(TransactionError::NotAllowed(c.state));
        }
        let wire = response.to_bytes();
        c.transmits.push_back(wire.clone());
        self.last_response = Some(wire);
        if code.is_provisional() {
            c.state = State::Proceeding;
        } else if self.invite && code.is_success() {
            // RFC 6026 §7.1: Accepted; the TU retransmits its 2xx.
            c.state = State::Accepted;
            let l = 64 * c.config.t1;
            c.linger(now, l);
        } else if self.invite {
            c.state = State::Completed;
            if !c.reliable {
                c.timers.retransmit = Some(Timer {
                    at: now + c.config.t1,
                    interval: c.config.t1,
                });
            }
            c.timers.give_up = Some(now + 64 * c.config.t1);
        } else {
            c.state = State::Completed;
            let j = c.unreliable(64 * c.config.t1);
            c.linger(now, j);
        }
        Ok(())
    }

    /// Processes every timer due at `now` (G, H, I, J, L).
    pub fn handle_timeout(&mut self, now: Instant) {
        let c = &mut self.core;
        if let Some(t) = c.timers.retransmit
            && t.at <= now
        {
            if let Some(r) = &self.last_response {
                c.transmits.push_back(r.clone());
            }
            let interval = (t.interval * 2).min(c.config.t2);
            c.timers.retransmit = Some(Timer {
                at: now + interval,
                interval,
            });
        }
        if c.timers.give_up.is_some_and(|t| t <= now) {
            c.events.push_back(Event::Timeout);
            c.terminate();
        }
        if c.timers.linger.is_some_and(|t| t <= now) {
            c.terminate();
        }
    }

    /// A transport error while sending: terminate (RFC 3261 §17.2.4).
    pub fn handle_transport_error(&mut self) {
        self.core.events.push_back(Event::Timeout);
        self.core.terminate();
    }

    /// Next bytes to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.core.transmits.pop_front()
    }

    /// Next event for the TU.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// When [`ServerTransaction::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.timers.next()
    }
}

/// Identifies a transaction: the top Via branch (with the RFC 3261 magic
/// cookie), the sent-by for server transactions, and the method (ACK and
/// CANCEL aside, RFC 3261 §17.1.3, §17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The branch parameter.
    pub branch: String,
    /// `host[:port]` of the top Via (server side; empty on the client side).
    pub sent_by: String,
    /// The method; ACK maps to INVITE so it finds its INVITE transaction.
    pub method: Method,
}

impl TransactionKey {
    /// Key of the server transaction a request belongs to; `None` without
    /// an RFC 3261 branch (RFC 2543 peers need the §17.2.3 fallback).
    pub fn for_request(req: &Request) -> Option<TransactionKey> {
        let via = req.headers().via().ok()?;
        let branch = via.branch().filter(|_| via.has_rfc3261_branch())?;
        let sent_by = match via.port() {
            Some(p) => format!("{}:{p}", via.host()),
            None => via.host().to_string(),
        };
        let method = match req.method() {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        Some(TransactionKey {
            branch: branch.to_owned(),
            sent_by: sent_by.to_ascii_lowercase(),
            method,
        })
    }

    /// Key of the client transaction a response belongs to: top Via branch
    /// and CSeq method (RFC 3261 §17.1.3).
    pub fn for_response(resp: &Response) -> Option<TransactionKey> {
        let via = resp.headers().via().ok()?;
        let branch = via.branch()?;
        Some(TransactionKey {
            branch: branch.to_owned(),
            sent_by: String::new(),
            method: resp.headers().cseq().method.clone(),
        })
    }

    /// Key of the client transaction created for `req` (the form
    /// [`TransactionKey::for_response`] finds).
    pub fn for_client_request(req: &Request) -> Option<TransactionKey> {
        let via = req.headers().via().ok()?;
        Some(TransactionKey {
            branch: via.branch()?.to_owned(),
            sent_by: String::new(),
            method: req.method().clone(),
        })
    }
}

#[cfg(test)]
mod tests;
