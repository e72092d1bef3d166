//! The task driving one registration: its [`Machine`] woken by timers and
//! commands, its REGISTERs sent ([`super::attempt`]), the CRLF keep-alives
//! of its RFC 5626 flow, and what happens reported as log lines,
//! `Registry` events and the snapshot the console and AMI read.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use obelus_core::events::Event;
use tokio::sync::mpsc;

use super::attempt::{self, Flow};
use super::config::Config;
use super::machine::{Action, Machine, RetryKind, Status, Verdict};
use super::request::Requests;
use crate::stack::Shared;

/// An RFC 5626 §4.4.1 keep-alive ping.
const PING: &[u8] = b"\r\n\r\n";

/// What the console and AMI ask of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// `pjsip send register`.
    Register,
    /// `pjsip send unregister`.
    Unregister,
    /// Removed or changed by a reload: unregister and end.
    Stop,
}

/// What a registration looks like from outside, updated by its task.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The status.
    pub status: Status,
    /// When the binding expires (while registered).
    pub expires_at: Option<SystemTime>,
    /// When the next REGISTER goes out, if scheduled.
    pub next_at: Option<SystemTime>,
    /// The status code of the last answer (0: none yet or no response).
    pub last_code: u16,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            status: Status::Unregistered,
            expires_at: None,
            next_at: None,
            last_code: 0,
        }
    }
}

/// A draw in `0..max` seconds (`max_random_initial_delay`).
fn initial_delay(max: u32) -> Duration {
    if max == 0 {
        return Duration::ZERO;
    }
    let mut b = [0u8; 4];
    rand::fill(&mut b[..]);
    Duration::from_secs(u64::from(u32::from_le_bytes(b) % max))
}

fn wall(at: Option<Instant>, now: Instant) -> Option<SystemTime> {
    at.map(|t| SystemTime::now() + t.saturating_duration_since(now))
}

/// Runs a registration until it is stopped and its un-REGISTER is done.
/// `previous` is the task of the same registration before a reload
/// changed it: its un-REGISTER goes first.
pub(crate) async fn run(
    shared: Weak<Shared>,
    config: Config,
    mut requests: Requests,
    snapshot: Arc<Mutex<Snapshot>>,
    mut commands: mpsc::Receiver<Command>,
    previous: Option<tokio::task::JoinHandle<()>>,
) {
    if let Some(previous) = previous {
        let _ = previous.await;
    }
    let mut machine = Machine::new(
        config.policy,
        Instant::now(),
        initial_delay(config.max_random_initial_delay),
    );
    let mut last_code = 0;
    // The flow a 2xx set up, and when it is next pinged.
    let mut flow: Option<(Flow, Instant)> = None;
    loop {
        while let Some(action) = machine.poll_action() {
            match action {
                Action::Send { expires } => {
                    let sent = attempt::register(&shared, &config, &mut requests, expires).await;
                    last_code = sent.code;
                    flow = sent.flow.map(|f| {
                        let next = Instant::now() + f.every;
                        (f, next)
                    });
                    machine.handle_outcome(sent.outcome, Instant::now());
                }
                Action::Report { status, verdict } => report(&shared, &config, status, verdict),
            }
        }
        let now = Instant::now();
        if let Ok(mut s) = snapshot.lock() {
            *s = Snapshot {
                status: machine.status(),
                expires_at: wall(machine.expires_at(), now),
                next_at: wall(machine.poll_timeout(), now),
                last_code,
            };
        }
        if machine.is_stopped() {
            break;
        }
        let wake = machine.poll_timeout();
        let ping = flow.as_ref().map(|(_, at)| *at);
        tokio::select! {
            command = commands.recv() => {
                let now = Instant::now();
                match command {
                    Some(Command::Register) => machine.register_now(now),
                    Some(Command::Unregister) => machine.unregister(now),
                    Some(Command::Stop) | None => machine.stop(),
                }
            }
            () = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            } => machine.handle_timeout(Instant::now()),
            () = async {
                match ping {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some((f, at)) = &mut flow {
                    if f.reply.send(Bytes::from_static(PING)).await.is_ok() {
                        *at = Instant::now() + f.every;
                    } else {
                        tracing::warn!(
                            "PJSIP outbound registration '{}': the flow to '{}' failed (keep-alive not sent); registering again",
                            config.id,
                            config.server_uri
                        );
                        flow = None;
                        machine.flow_failed();
                    }
                }
            }
        }
    }
}

/// Logs an answer as Asterisk words it, and publishes the `Registry`
/// event.
fn report(shared: &Weak<Shared>, config: &Config, status: Status, verdict: Verdict) {
    let (server, client) = (&config.server_uri, &config.client_uri);
    let mut cause = None;
    match verdict {
        Verdict::Registered(secs) => tracing::info!(
            verbose = 3,
            "Outbound registration '{}' to '{server}' with client '{client}' successful (expires in {secs} s)",
            config.id
        ),
        Verdict::Unregistered => tracing::info!(
            verbose = 3,
            "Outbound unregistration '{}' from '{server}' with client '{client}' done",
            config.id
        ),
        Verdict::Retry { code, kind, after } => {
            cause = (code != 0).then(|| code.to_string());
            match kind {
                RetryKind::NoResponse => tracing::warn!(
                    "No response received from '{server}' on registration attempt to '{client}', retrying in '{after}' seconds"
                ),
                RetryKind::Temporal | RetryKind::RetryAfter => tracing::warn!(
                    "Temporal response '{code}' received from '{server}' on registration attempt to '{client}', retrying in '{after}' seconds"
                ),
                RetryKind::Forbidden => tracing::warn!(
                    "403 Forbidden fatal response received from '{server}' on registration attempt to '{client}', retrying in '{after}' seconds"
                ),
                RetryKind::Fatal => tracing::warn!(
                    "'{code}' fatal response received from '{server}' on registration attempt to '{client}', retrying in '{after}' seconds"
                ),
            }
        }
        Verdict::GaveUp { code, max_retries } => {
            cause = (code != 0).then(|| code.to_string());
            if max_retries {
                tracing::warn!(
                    "Maximum retries reached when attempting outbound registration to '{server}' with client '{client}', stopping registration attempt"
                );
            } else if code == 0 {
                tracing::warn!(
                    "Fatal registration attempt to '{client}', stopping outbound registration"
                );
            } else {
                tracing::warn!(
                    "Fatal response '{code}' received from '{server}' on registration attempt to '{client}', stopping outbound registration"
                );
            }
        }
    }
    if let Some(shared) = shared.upgrade() {
        shared.core.events.publish(Event::Registry {
            channel_type: "PJSIP",
            username: client.clone(),
            domain: server.clone(),
            status: status.as_str(),
            cause,
        });
    }
}
