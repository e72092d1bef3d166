//! The life of one outbound registration, sans-IO: when to send a
//! REGISTER (or an un-REGISTER), and what each answer means, as
//! res_pjsip_outbound_registration decides it. Time is a parameter; the
//! task around it sends what [`Machine::poll_action`] asks for and feeds
//! the outcome back.
//!
//! - A 2xx registers; the refresh goes out before the granted expiry (see
//!   [`refresh_after`]); a 2xx granting nothing (no binding of ours) means
//!   unregistered.
//! - Retry-After schedules the next attempt then.
//! - Temporary failures (408, 500, 502, 503, 504, 6xx, and 401/407 when
//!   `auth_rejection_permanent=no`; no response counts as 408) are retried
//!   every `retry_interval` up to `max_retries` times, then given up.
//! - A 403 is retried after `forbidden_retry_interval`, any other failure
//!   after `fatal_retry_interval`, when set and retries are left;
//!   otherwise the registration is rejected for good (until `pjsip send
//!   register` or a reload).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Where a registration stands (Asterisk's client state status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not registered (yet, or any more).
    Unregistered,
    /// Registered with the server.
    Registered,
    /// Refused; another attempt is scheduled.
    RejectedTemporary,
    /// Refused; no attempt until asked again.
    RejectedPermanent,
    /// Being removed: the un-REGISTER is on its way.
    Stopping,
    /// Removed.
    Stopped,
}

impl Status {
    /// The word `pjsip show registrations`, AMI and the `Registry` event
    /// use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unregistered => "Unregistered",
            Status::Registered => "Registered",
            Status::RejectedTemporary | Status::RejectedPermanent => "Rejected",
            Status::Stopping | Status::Stopped => "Stopped",
        }
    }
}

/// The registration's retry options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `expiration`: the Expires asked for (seconds).
    pub expiration: u32,
    /// `retry_interval` (seconds; 0 turns temporary retries off).
    pub retry_interval: u32,
    /// `max_retries`.
    pub max_retries: u32,
    /// `forbidden_retry_interval` (seconds; 0: a 403 is final).
    pub forbidden_retry_interval: u32,
    /// `fatal_retry_interval` (seconds; 0: other failures are final).
    pub fatal_retry_interval: u32,
    /// `auth_rejection_permanent`: a 401/407 that could not be answered is
    /// final rather than temporary.
    pub auth_rejection_permanent: bool,
}

/// What came of a REGISTER (after any digest retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A final response.
    Response {
        /// Its status code.
        code: u16,
        /// For a 2xx: the expiry granted to our contact (its `expires`
        /// parameter, else the Expires header); `None` when the response
        /// says nothing, so the one asked for stands.
        granted: Option<u32>,
        /// Retry-After (seconds), if the server set one.
        retry_after: Option<u32>,
    },
    /// No final response (transaction timeout, or nowhere to send it).
    NoResponse,
}

/// Why an attempt is repeated later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// The server said when (Retry-After).
    RetryAfter,
    /// A temporary failure (`retry_interval`).
    Temporal,
    /// No response at all (`retry_interval`).
    NoResponse,
    /// 403 (`forbidden_retry_interval`).
    Forbidden,
    /// Another failure (`fatal_retry_interval`).
    Fatal,
}

/// What the last answer meant, for the log and the `Registry` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Registered for this many seconds.
    Registered(u32),
    /// The binding is gone (un-REGISTER answered, or nothing granted).
    Unregistered,
    /// Failed with `code` (0: no response); another attempt in `after`.
    Retry {
        /// The status code, 0 for no response.
        code: u16,
        /// Why it is retried.
        kind: RetryKind,
        /// Seconds until the next attempt.
        after: u32,
    },
    /// Failed with `code` (0: no response); no further attempt.
    GaveUp {
        /// The status code, 0 for no response.
        code: u16,
        /// Because `max_retries` temporary failures were reached.
        max_retries: bool,
    },
}

/// What the task has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send a REGISTER with this Expires (0 removes our binding).
    Send {
        /// The Expires value.
        expires: u32,
    },
    /// An answer was handled: log it and publish the `Registry` event.
    Report {
        /// The status now.
        status: Status,
        /// What the answer meant.
        verdict: Verdict,
    },
}

/// What to do once the REGISTER in flight is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Continue,
    Register,
    Unregister,
    Stop,
}

/// The REGISTER in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flight {
    Register,
    Unregister,
}

/// Seconds before the granted expiry the refresh goes out: Asterisk's 10
/// (`REREGISTER_BUFFER_TIME`), but never more than half the expiry, so a
/// server granting a few seconds is not asked again in a tight loop.
pub fn refresh_after(granted: u32) -> u32 {
    granted.saturating_sub(10).max(granted / 2)
}

/// One registration's state machine.
#[derive(Debug)]
pub struct Machine {
    policy: Policy,
    status: Status,
    retries: u32,
    due: Option<Instant>,
    flight: Option<Flight>,
    then: Then,
    expires_at: Option<Instant>,
    actions: VecDeque<Action>,
}

impl Machine {
    /// A registration whose first REGISTER goes out at `now + delay`
    /// (`max_random_initial_delay` spreads a reload's registrations).
    pub fn new(policy: Policy, now: Instant, delay: Duration) -> Machine {
        Machine {
            policy,
            status: Status::Unregistered,
            retries: 0,
            due: Some(now + delay),
            flight: None,
            then: Then::Continue,
            expires_at: None,
            actions: VecDeque::new(),
        }
    }

    /// The status now.
    pub fn status(&self) -> Status {
        self.status
    }

    /// When the binding expires, while registered.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// Temporary failures in a row so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// When the next REGISTER is due (none while one is in flight).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due.filter(|_| self.flight.is_none())
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// True once removed and nothing is left to send.
    pub fn is_stopped(&self) -> bool {
        self.status == Status::Stopped && self.flight.is_none()
    }

    /// Sends the REGISTER that has fallen due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.flight.is_none() && self.due.is_some_and(|d| d <= now) {
            self.send_register();
        }
    }

    fn send_register(&mut self) {
        self.due = None;
        self.flight = Some(Flight::Register);
        self.actions.push_back(Action::Send {
            expires: self.policy.expiration,
        });
    }

    fn send_unregister(&mut self) {
        self.due = None;
        self.flight = Some(Flight::Unregister);
        self.actions.push_back(Action::Send { expires: 0 });
    }

    /// `pjsip send register`: unregisters if registered, then registers
    /// at once with the retry count reset.
    pub fn register_now(&mut self, now: Instant) {
        let _ = now;
        self.retries = 0;
        if self.status == Status::Stopping || self.status == Status::Stopped {
            return;
        }
        if self.flight.is_some() {
            self.then = Then::Register;
        } else if self.status == Status::Registered {
            self.then = Then::Register;
            self.send_unregister();
        } else {
            self.send_register();
        }
    }

    /// `pjsip send unregister`: removes our binding (if registered) and
    /// schedules nothing more until [`Machine::register_now`].
    pub fn unregister(&mut self, now: Instant) {
        let _ = now;
        if self.status == Status::Stopping || self.status == Status::Stopped {
            return;
        }
        self.due = None;
        if self.flight.is_some() {
            self.then = Then::Unregister;
        } else if self.status == Status::Registered {
            self.then = Then::Continue;
            self.send_unregister();
        } else {
            self.status = Status::Unregistered;
        }
    }

    /// The flow the registration lives on failed (RFC 5626 §4.4.1: a
    /// keep-alive could not be written): register again at once (over a
    /// new connection). Nothing while not registered or a REGISTER is on
    /// its way.
    pub fn flow_failed(&mut self) {
        if self.status == Status::Registered && self.flight.is_none() {
            self.send_register();
        }
    }

    /// The registration is removed (reload): unregister if registered,
    /// then stop for good.
    pub fn stop(&mut self) {
        if self.status == Status::Stopped {
            return;
        }
        self.due = None;
        let registered = self.status == Status::Registered;
        self.status = Status::Stopping;
        if self.flight.is_some() {
            self.then = Then::Stop;
        } else if registered {
            self.then = Then::Stop;
            self.send_unregister();
        } else {
            self.status = Status::Stopped;
        }
    }

    /// The answer to the REGISTER in flight.
    pub fn handle_outcome(&mut self, outcome: Outcome, now: Instant) {
        let Some(flight) = self.flight.take() else {
            return;
        };
        match flight {
            Flight::Unregister => {
                self.expires_at = None;
                self.status = Status::Unregistered;
                self.report(Verdict::Unregistered);
            }
            Flight::Register => self.registered(outcome, now),
        }
        match std::mem::replace(&mut self.then, Then::Continue) {
            Then::Continue => {}
            Then::Register => {
                self.retries = 0;
                if self.status == Status::Registered {
                    self.then = Then::Register;
                    self.send_unregister();
                } else {
                    self.send_register();
                }
            }
            Then::Unregister => {
                self.due = None;
                if self.status == Status::Registered {
                    self.send_unregister();
                }
            }
            Then::Stop => {
                self.due = None;
                if self.status == Status::Registered {
                    self.status = Status::Stopping;
                    self.then = Then::Stop;
                    self.send_unregister();
                } else {
                    self.status = Status::Stopped;
                }
            }
        }
    }

    fn report(&mut self, verdict: Verdict) {
        self.actions.push_back(Action::Report {
            status: self.status,
            verdict,
        });
    }

    fn schedule(&mut self, now: Instant, secs: u32) {
        self.due = Some(now + Duration::from_secs(u64::from(secs)));
    }

    fn registered(&mut self, outcome: Outcome, now: Instant) {
        let (code, granted, retry_after) = match outcome {
            Outcome::Response {
                code,
                granted,
                retry_after,
            } => (code, granted, retry_after),
            Outcome::NoResponse => (0, None, None),
        };
        if (200..300).contains(&code) {
            let granted = granted.unwrap_or(self.policy.expiration);
            self.retries = 0;
            if granted == 0 {
                self.expires_at = None;
                self.status = Status::Unregistered;
                self.report(Verdict::Unregistered);
                return;
            }
            self.status = Status::Registered;
            self.expires_at = Some(now + Duration::from_secs(u64::from(granted)));
            self.schedule(now, refresh_after(granted));
            self.report(Verdict::Registered(granted));
            return;
        }
        self.expires_at = None;
        if let Some(after) = retry_after.filter(|a| *a > 0) {
            self.status = Status::RejectedTemporary;
            self.schedule(now, after);
            self.report(Verdict::Retry {
                code,
                kind: RetryKind::RetryAfter,
                after,
            });
            return;
        }
        let p = self.policy;
        if p.retry_interval > 0 && self.is_temporal(code) {
            if self.retries >= p.max_retries {
                self.status = Status::RejectedPermanent;
                self.report(Verdict::GaveUp {
                    code,
                    max_retries: true,
                });
            } else {
                self.retries += 1;
                self.status = Status::RejectedTemporary;
                self.schedule(now, p.retry_interval);
                let kind = if code == 0 {
                    RetryKind::NoResponse
                } else {
                    RetryKind::Temporal
                };
                self.report(Verdict::Retry {
                    code,
                    kind,
                    after: p.retry_interval,
                });
            }
            return;
        }
        let later = if code == 403 && p.forbidden_retry_interval > 0 {
            Some((RetryKind::Forbidden, p.forbidden_retry_interval))
        } else if p.fatal_retry_interval > 0 {
            Some((RetryKind::Fatal, p.fatal_retry_interval))
        } else {
            None
        };
        match later {
            Some((kind, after)) if self.retries < p.max_retries => {
                self.retries += 1;
                self.status = Status::RejectedTemporary;
                self.schedule(now, after);
                self.report(Verdict::Retry { code, kind, after });
            }
            _ => {
                self.status = Status::RejectedPermanent;
                self.report(Verdict::GaveUp {
                    code,
                    max_retries: false,
                });
            }
        }
    }

    /// Asterisk's (and pjsua's) temporary failures; no response is a 408.
    fn is_temporal(&self, code: u16) -> bool {
        matches!(code, 0 | 408 | 500 | 502 | 503 | 504 | 600..=699)
            || (matches!(code, 401 | 407) && !self.policy.auth_rejection_permanent)
    }
}

#[cfg(test)]
mod tests;
