//! One AMI connection: a reader that runs actions in order, and a writer
//! that owns the socket and is the only one that can be slowed by the client.
//!
//! Never stalled: events reach the writer through the shared, bounded event
//! ring; responses through a small per-session queue. Every write has a
//! deadline (`writetimeout`). A client that stops reading is disconnected when
//! a write misses its deadline, or when it falls a whole ring behind; either
//! way nothing else waits for it, and memory stays bounded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, mpsc, watch};

use crate::message::{self, Read, Response};
use crate::render::AmiEvent;
use crate::server::Ami;

/// What the reader hands the writer.
pub enum Outbound {
    /// An action is running: write no event until its response, so the
    /// events it causes follow it, as in Asterisk.
    Hold,
    /// A response (ends a hold).
    Text(String),
    /// A last response, then close (Logoff, failed login).
    Close(String),
    /// `WaitEvent` on a connection: `response` now (ends a hold), then the
    /// events as they come, then `complete` as soon as one was written, the
    /// timeout passed (`None`: no timeout) or the client sent another action.
    WaitEvent {
        /// `Response: Success` ... `Waiting for Event completed.`
        response: String,
        /// `Event: WaitEventComplete`.
        complete: String,
        /// How long to wait for an event.
        timeout: Option<Duration>,
    },
}

impl Outbound {
    /// The text as written at once, for callers that have no connection
    /// (HTTP, the action queue): a `WaitEvent` answer there is immediate.
    pub fn into_text(self) -> String {
        match self {
            Outbound::Hold => String::new(),
            Outbound::Text(text) | Outbound::Close(text) => text,
            Outbound::WaitEvent {
                response, complete, ..
            } => response + &complete,
        }
    }
}

/// Per-session state that actions read and change.
#[derive(Debug, Default)]
pub struct State {
    /// The logged-in user.
    pub user: Option<String>,
    /// Its read classes.
    pub read: u32,
    /// Its write classes.
    pub write: u32,
    /// The pending MD5 challenge.
    pub challenge: Option<String>,
    /// Event filters (the user's `eventfilter`s, then `Filter` actions').
    pub filters: Vec<crate::filter::EventFilter>,
    /// The user's write timeout.
    pub write_timeout: Option<Duration>,
}

/// A connected client.
pub struct Session {
    /// A number for logs and `manager show connected`.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// Our address.
    pub local: SocketAddr,
    /// When it connected.
    pub since: Instant,
    /// The event classes it receives now (read classes ∩ `Events:`).
    pub mask: AtomicU32,
    /// Mutable state.
    pub state: Mutex<State>,
    /// Actions run.
    pub actions: AtomicU64,
    /// Set when the writer gave up on the client.
    pub dropped: AtomicBool,
    /// HTTP sessions only: the events since login, kept for `WaitEvent`
    /// (a place in the shared event ring, so waiting costs no memory).
    pub http_events: Option<tokio::sync::Mutex<broadcast::Receiver<Arc<AmiEvent>>>>,
}

impl Session {
    /// A session with this state; `http_events` for HTTP sessions.
    pub fn new(
        id: u64,
        peer: SocketAddr,
        local: SocketAddr,
        state: State,
        http_events: Option<broadcast::Receiver<Arc<AmiEvent>>>,
    ) -> Self {
        Self {
            id,
            peer,
            local,
            since: Instant::now(),
            mask: AtomicU32::new(0),
            state: Mutex::new(state),
            actions: AtomicU64::new(0),
            dropped: AtomicBool::new(false),
            http_events: http_events.map(tokio::sync::Mutex::new),
        }
    }

    /// Locks the state.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<String> {
        self.state().user.clone()
    }
}

/// Runs a connection (plain TCP or TLS) to its end.
pub async fn run<S>(stream: S, ami: Arc<Ami>, session: Arc<Session>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (read, mut write) = tokio::io::split(stream);
    if write.write_all(crate::BANNER.as_bytes()).await.is_err() {
        return;
    }
    let (out_tx, out_rx) = mpsc::channel::<Outbound>(64);
    let (closed_tx, mut closed_rx) = watch::channel(false);
    let events = ami.subscribe();
    let writer = tokio::spawn(write_loop(
        write,
        out_rx,
        events,
        Arc::clone(&ami),
        Arc::clone(&session),
        closed_tx,
    ));

    let mut reader = BufReader::new(read);
    loop {
        // Unauthenticated sessions must log in within authtimeout.
        let limit = session.user().is_none().then(|| ami.conf().auth_timeout);
        let read = async {
            match limit {
                Some(limit) => {
                    tokio::time::timeout(limit, message::read_message(&mut reader)).await
                }
                None => Ok(message::read_message(&mut reader).await),
            }
        };
        let next = tokio::select! {
            r = read => r,
            _ = closed_rx.changed() => break,
        };
        let message = match next {
            Err(_) => {
                tracing::info!(
                    verbose = 2,
                    "Manager session from {} did not log in in time; closed",
                    session.peer
                );
                break;
            }
            Ok(Err(_)) | Ok(Ok(Read::Closed)) => break,
            Ok(Ok(Read::Invalid(why))) => {
                if out_tx
                    .send(Outbound::Text(Response::error(None, why).finish()))
                    .await
                    .is_err()
                {
                    break;
                }
                continue;
            }
            Ok(Ok(Read::Message(m))) => m,
        };
        if out_tx.send(Outbound::Hold).await.is_err() {
            break;
        }
        session.actions.fetch_add(1, Ordering::Relaxed);
        let reply = crate::actions::dispatch(&ami, &session, message).await;
        let closing = matches!(reply, Outbound::Close(_));
        if out_tx.send(reply).await.is_err() || closing {
            break;
        }
    }
    drop(out_tx);
    let _ = writer.await;
    ami.forget(&session);
}

/// Largest batch written at once: what is already queued is coalesced into
/// one write, so a busy session costs one syscall per batch, not per message.
const BATCH: usize = 64 * 1024;

/// What the writer does after collecting a batch.
enum Next {
    Continue,
    CloseAfterWrite,
    Stop,
}

/// A `WaitEvent` in progress on a connection.
struct Waiting {
    complete: String,
    deadline: Option<tokio::time::Instant>,
    /// An event was written since the response.
    seen: bool,
}

/// What the writer keeps between batches.
struct Writer {
    buf: Vec<u8>,
    /// An action runs: no events until its response.
    holding: bool,
    waiting: Option<Waiting>,
}

impl Writer {
    /// Ends a `WaitEvent`: its `WaitEventComplete` goes out next.
    fn end_wait(&mut self) {
        if let Some(waiting) = self.waiting.take() {
            self.buf.extend_from_slice(waiting.complete.as_bytes());
        }
    }

    fn take_outbound(&mut self, out: Outbound) -> Next {
        // Whatever comes from the reader next (another action) ends a wait.
        self.end_wait();
        match out {
            Outbound::Hold => {
                self.holding = true;
                Next::Continue
            }
            Outbound::Text(text) => {
                self.holding = false;
                self.buf.extend_from_slice(text.as_bytes());
                Next::Continue
            }
            Outbound::Close(text) => {
                self.buf.extend_from_slice(text.as_bytes());
                Next::CloseAfterWrite
            }
            Outbound::WaitEvent {
                response,
                complete,
                timeout,
            } => {
                self.holding = false;
                self.buf.extend_from_slice(response.as_bytes());
                self.waiting = Some(Waiting {
                    complete,
                    deadline: timeout.map(|t| tokio::time::Instant::now() + t),
                    seen: false,
                });
                Next::Continue
            }
        }
    }

    fn take_event(&mut self, ami: &Ami, session: &Session, event: &AmiEvent) {
        if wants(ami, session, event) {
            self.buf.extend_from_slice(event.text.as_bytes());
            if let Some(waiting) = &mut self.waiting {
                waiting.seen = true;
            }
        }
    }

    /// When the current wait times out (never if there is none or it has
    /// no timeout).
    async fn wait_deadline(&self) {
        match self.waiting.as_ref().and_then(|w| w.deadline) {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut write: W,
    mut outbound: mpsc::Receiver<Outbound>,
    mut events: broadcast::Receiver<Arc<AmiEvent>>,
    ami: Arc<Ami>,
    session: Arc<Session>,
    closed: watch::Sender<bool>,
) {
    let mut w = Writer {
        buf: Vec::with_capacity(BATCH),
        holding: false,
        waiting: None,
    };
    loop {
        // Wait for the first thing to write; responses come before events.
        let mut next = tokio::select! {
            biased;
            out = outbound.recv() => match out {
                None => Next::Stop,
                Some(out) => w.take_outbound(out),
            },
            event = events.recv(), if !w.holding => match event {
                Ok(event) => {
                    w.take_event(&ami, &session, &event);
                    Next::Continue
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    give_up(&ami, &session, &format!("{missed} events behind"));
                    Next::Stop
                }
                Err(broadcast::error::RecvError::Closed) => Next::Stop,
            },
            () = w.wait_deadline(), if w.waiting.is_some() => {
                w.end_wait();
                Next::Continue
            }
        };
        // Then everything else already queued, in the same order rules.
        while matches!(next, Next::Continue) && w.buf.len() < BATCH {
            match outbound.try_recv() {
                Ok(out) => {
                    next = w.take_outbound(out);
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    next = Next::Stop;
                    break;
                }
                Err(mpsc::error::TryRecvError::Empty) if w.holding => break,
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            match events.try_recv() {
                Ok(event) => w.take_event(&ami, &session, &event),
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    give_up(&ami, &session, &format!("{missed} events behind"));
                    next = Next::Stop;
                }
                Err(_) => break,
            }
        }
        // A wait ends once the events queued so far are out.
        if w.waiting.as_ref().is_some_and(|wt| wt.seen) {
            w.end_wait();
        }
        if !w.buf.is_empty() {
            let limit = write_timeout(&session);
            if let Err(e) = deadline(&mut write, &w.buf, limit).await {
                if e.kind() == std::io::ErrorKind::TimedOut {
                    give_up(
                        &ami,
                        &session,
                        &format!("not reading (write timeout {limit:?})"),
                    );
                }
                break;
            }
            w.buf.clear();
        }
        if !matches!(next, Next::Continue) {
            break;
        }
    }
    let _ = write.shutdown().await;
    let _ = closed.send(true);
}

fn write_timeout(session: &Session) -> Duration {
    session
        .state()
        .write_timeout
        .unwrap_or(Duration::from_millis(100))
}

fn give_up(ami: &Ami, session: &Session, why: &str) {
    session.dropped.store(true, Ordering::Relaxed);
    ami.count_dropped();
    tracing::warn!(
        "Manager session {} ({}) from {} dropped: {why}. Raise writetimeout in manager.conf for slow clients.",
        session.id,
        session.user().unwrap_or_else(|| "not logged in".into()),
        session.peer
    );
}

async fn deadline<W: AsyncWrite + Unpin>(
    write: &mut W,
    bytes: &[u8],
    limit: Duration,
) -> std::io::Result<()> {
    match tokio::time::timeout(limit, write.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "write timeout",
        )),
    }
}

/// Whether the session receives this event: class in its mask, not disabled,
/// and through its filters (includes first, then excludes).
pub(crate) fn wants(ami: &Ami, session: &Session, event: &AmiEvent) -> bool {
    if session.mask.load(Ordering::Relaxed) & event.class == 0 {
        return false;
    }
    if ami.is_disabled(event.name) {
        return false;
    }
    crate::filter::passes(&session.state().filters, event)
}
