//! Session timers (RFC 4028), sans-IO: what to put in INVITE, UPDATE and
//! their 2xx, what to refuse (420, 421, 422), who refreshes, and when to
//! refresh or give the session up.
//!
//! The user agent feeds it what the peer's requests and 2xx say
//! ([`PeerTimer`]) and the current time; it asks [`SessionTimer::poll_timeout`]
//! when to wake and gets a [`TimerAction`] from
//! [`SessionTimer::handle_timeout`]: send a refresh (re-INVITE, or UPDATE
//! when the peer allows it) or end the session with BYE.
//!
//! Timing (RFC 4028 §10): the refresher refreshes at half the interval; the
//! session is over, for the side waiting for a refresh and for a refresher
//! whose refreshes fail, at the interval minus the lesser of 32 seconds and
//! a third of it.

use std::time::{Duration, Instant};

use crate::error::HeaderError;
use crate::header::Refresher;
use crate::message::Headers;
use crate::status::StatusCode;

/// The smallest Min-SE RFC 4028 §4 allows.
pub const MIN_SE_FLOOR: u32 = 90;

/// How many 422 answers in a row we follow before giving up.
const MAX_TOO_SMALL: u8 = 2;

/// How an endpoint uses session timers (Asterisk's `timers` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerMode {
    /// `no`: not supported; a request that requires them gets 420.
    No,
    /// `yes` (the default): supported; used when the peer asks for them in
    /// a request or answers ours with one.
    Yes,
    /// `required`: the peer must support them (421 otherwise), and our
    /// INVITEs carry `Require: timer`.
    Required,
    /// `always` (or `forced`): used even when the peer does not ask, with
    /// ourselves refreshing.
    Always,
}

impl TimerMode {
    /// Reads an option value: `no`/`yes` (and the other Asterisk booleans),
    /// `required`, `always`, `forced`.
    pub fn parse(value: &str) -> Option<TimerMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "no" | "false" | "0" | "off" | "n" | "f" => Some(TimerMode::No),
            "yes" | "true" | "1" | "on" | "y" | "t" => Some(TimerMode::Yes),
            "required" => Some(TimerMode::Required),
            "always" | "forced" => Some(TimerMode::Always),
            _ => None,
        }
    }
}

/// An endpoint's timer options: `timers`, `timers_min_se`,
/// `timers_sess_expires`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerSettings {
    /// `timers`.
    pub mode: TimerMode,
    /// `timers_min_se`: the shortest interval we accept.
    pub min_se: u32,
    /// `timers_sess_expires`: the interval we ask for.
    pub sess_expires: u32,
}

impl Default for TimerSettings {
    fn default() -> Self {
        TimerSettings {
            mode: TimerMode::Yes,
            min_se: MIN_SE_FLOOR,
            sess_expires: 1800,
        }
    }
}

/// Which user agent refreshes the session, seen from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We do.
    Local,
    /// The peer does.
    Remote,
}

/// What a peer's INVITE, UPDATE or 2xx says about session timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerTimer {
    /// `Session-Expires`: the interval and the `refresher` parameter.
    pub session_expires: Option<(u32, Option<Refresher>)>,
    /// `Min-SE`.
    pub min_se: Option<u32>,
    /// `timer` is in `Supported` or `Require`.
    pub supported: bool,
    /// `timer` is in `Require`.
    pub required: bool,
}

impl PeerTimer {
    /// Reads the timer headers of a message; a malformed `Session-Expires`
    /// or `Min-SE` is an error (the request deserves a 400).
    pub fn from_headers(h: &Headers) -> Result<PeerTimer, HeaderError> {
        let tagged = |values: crate::Values<'_>| {
            values
                .map(str::trim)
                .any(|t| t.eq_ignore_ascii_case("timer"))
        };
        let required = tagged(h.require());
        Ok(PeerTimer {
            session_expires: h.session_expires()?.map(|se| (se.delta(), se.refresher())),
            min_se: h.min_se()?,
            supported: required || tagged(h.supported()),
            required,
        })
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It requires timers and we do not support them: 420 with
    /// `Unsupported: timer`.
    Unsupported,
    /// We require timers and the peer does not support them: 421 with
    /// `Require: timer`.
    Required,
    /// The interval is below our minimum: 422 with our `Min-SE`
    /// (RFC 4028 §9).
    TooSmall {
        /// Our minimum.
        min_se: u32,
    },
}

impl Refusal {
    /// The response status.
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::Unsupported => StatusCode::BAD_EXTENSION,
            Refusal::Required => StatusCode::EXTENSION_REQUIRED,
            Refusal::TooSmall { .. } => StatusCode::SESSION_INTERVAL_TOO_SMALL,
        }
    }

    /// The header the response must carry.
    pub fn header(self) -> (&'static str, String) {
        match self {
            Refusal::Unsupported => ("Unsupported", "timer".to_owned()),
            Refusal::Required => ("Require", "timer".to_owned()),
            Refusal::TooSmall { min_se } => ("Min-SE", min_se.to_string()),
        }
    }
}

/// The timer agreed in a transaction where we answer the peer's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// The session interval in seconds.
    pub interval: u32,
    /// Who refreshes.
    pub refresher: Side,
    /// Whether the 2xx carries `Require: timer` (only when the peer
    /// supports timers, RFC 4028 §9).
    pub require: bool,
}

impl Agreement {
    /// The headers of our 2xx: `Session-Expires` with the refresher named
    /// as a role of this transaction (the peer is its UAC), and
    /// `Require: timer` when the peer supports it.
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        let role = match self.refresher {
            Side::Remote => Refresher::Uac,
            Side::Local => Refresher::Uas,
        };
        let mut out = vec![(
            "Session-Expires",
            format!("{};refresher={}", self.interval, role.as_str()),
        )];
        if self.require {
            out.push(("Require", "timer".to_owned()));
        }
        out
    }
}

/// What the timer asks of the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    /// Send a session refresh now.
    Refresh,
    /// No refresh in time: end the session (BYE).
    Expire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Active {
    interval: u32,
    refresher: Side,
    started: Instant,
    next: Instant,
    due: TimerAction,
}

/// The session timer of one dialog.
#[derive(Debug, Clone)]
pub struct SessionTimer {
    settings: TimerSettings,
    /// The `Session-Expires` and `Min-SE` our next request asks for (a 422
    /// raises them).
    ask_se: u32,
    ask_min_se: u32,
    too_small: u8,
    active: Option<Active>,
}

/// When the side that does not refresh gives up, after the last refresh.
fn expiry(interval: u32) -> Duration {
    let margin = (interval / 3).min(32);
    Duration::from_secs(u64::from(interval - margin))
}

impl SessionTimer {
    /// A timer for an endpoint's settings; the minimum is raised to the
    /// RFC floor and the interval to the minimum.
    pub fn new(settings: TimerSettings) -> SessionTimer {
        let min_se = settings.min_se.max(MIN_SE_FLOOR);
        let sess_expires = settings.sess_expires.max(min_se);
        SessionTimer {
            settings: TimerSettings {
                min_se,
                sess_expires,
                ..settings
            },
            ask_se: sess_expires,
            ask_min_se: min_se,
            too_small: 0,
            active: None,
        }
    }

    /// The mode.
    pub fn mode(&self) -> TimerMode {
        self.settings.mode
    }

    /// Whether we list `timer` in `Supported`.
    pub fn supported(&self) -> bool {
        self.settings.mode != TimerMode::No
    }

    /// The running interval, if a timer runs.
    pub fn interval(&self) -> Option<u32> {
        self.active.map(|a| a.interval)
    }

    /// Who refreshes, if a timer runs.
    pub fn refresher(&self) -> Option<Side> {
        self.active.map(|a| a.refresher)
    }

    /// The timer headers of an INVITE or UPDATE we send: the interval
    /// running (naming ourselves or the peer as refresher, in this
    /// transaction's roles) or the one we ask for, our `Min-SE`, and
    /// `Require: timer` in `required` mode.
    pub fn request_headers(&self) -> Vec<(&'static str, String)> {
        if self.settings.mode == TimerMode::No {
            return Vec::new();
        }
        let se = match self.active {
            Some(a) => {
                let role = match a.refresher {
                    Side::Local => Refresher::Uac,
                    Side::Remote => Refresher::Uas,
                };
                format!("{};refresher={}", a.interval, role.as_str())
            }
            None => self.ask_se.to_string(),
        };
        let mut out = vec![
            ("Session-Expires", se),
            ("Min-SE", self.ask_min_se.to_string()),
        ];
        if self.settings.mode == TimerMode::Required {
            out.push(("Require", "timer".to_owned()));
        }
        out
    }

    /// A request from the peer (the first INVITE, a re-INVITE or an
    /// UPDATE): refuse it, or say what our 2xx agrees to (`None`: no timer,
    /// and a running one stops when the 2xx goes out). Nothing changes
    /// until [`SessionTimer::start`].
    pub fn on_request(&mut self, peer: &PeerTimer) -> Result<Option<Agreement>, Refusal> {
        let s = self.settings;
        if s.mode == TimerMode::No {
            return if peer.required {
                Err(Refusal::Unsupported)
            } else {
                Ok(None)
            };
        }
        if s.mode == TimerMode::Required && !peer.supported {
            return Err(Refusal::Required);
        }
        if let Some(min) = peer.min_se {
            self.ask_min_se = self.ask_min_se.max(min);
        }
        let (interval, named) = match peer.session_expires {
            Some((se, _)) if se < s.min_se && peer.supported => {
                return Err(Refusal::TooSmall { min_se: s.min_se });
            }
            // A peer without timer support cannot follow a 422 (a proxy
            // asked for the timer): raise the interval instead (§9).
            Some((se, named)) => (se.max(s.min_se), named),
            None if s.mode == TimerMode::Always => {
                (s.sess_expires.max(peer.min_se.unwrap_or(0)), None)
            }
            None => return Ok(None),
        };
        let refresher = match (peer.supported, named) {
            (false, _) | (true, Some(Refresher::Uas)) => Side::Local,
            (true, Some(Refresher::Uac) | None) => Side::Remote,
        };
        Ok(Some(Agreement {
            interval,
            refresher,
            require: peer.supported,
        }))
    }

    /// Our 2xx to the peer's request went out: runs the agreed timer from
    /// `now`, or stops the timer.
    pub fn start(&mut self, agreement: Option<Agreement>, now: Instant) {
        self.active = agreement.map(|a| self.run(a.interval, a.refresher, now));
    }

    fn run(&self, interval: u32, refresher: Side, now: Instant) -> Active {
        let (next, due) = match refresher {
            Side::Local => (
                now + Duration::from_millis(u64::from(interval) * 500),
                TimerAction::Refresh,
            ),
            Side::Remote => (now + expiry(interval), TimerAction::Expire),
        };
        Active {
            interval,
            refresher,
            started: now,
            next,
            due,
        }
    }

    /// A 2xx to our INVITE or UPDATE: the peer's `Session-Expires` sets the
    /// interval and refresher (its `uac` is us); without one the session
    /// has no timer (RFC 4028 §7.2), unless ours is `always`, in which case
    /// we refresh with the interval we asked for.
    pub fn on_success(&mut self, peer: &PeerTimer, now: Instant) {
        self.too_small = 0;
        if self.settings.mode == TimerMode::No {
            self.active = None;
            return;
        }
        self.active = match peer.session_expires {
            Some((se, named)) => {
                let refresher = match named {
                    Some(Refresher::Uas) => Side::Remote,
                    Some(Refresher::Uac) | None => Side::Local,
                };
                Some(self.run(se, refresher, now))
            }
            None if self.settings.mode == TimerMode::Always => {
                let interval = self.active.map_or(self.ask_se, |a| a.interval);
                Some(self.run(interval, Side::Local, now))
            }
            None => None,
        };
    }

    /// A 422 to our request with the peer's `Min-SE`: whether to send the
    /// request again (with the larger interval, RFC 4028 §7.4 and §8); not
    /// when the 422 asks for nothing larger or keeps coming.
    pub fn on_too_small(&mut self, min_se: Option<u32>) -> bool {
        let Some(min) = min_se else {
            return false;
        };
        let asked = self.active.map_or(self.ask_se, |a| a.interval);
        if self.too_small >= MAX_TOO_SMALL || min <= asked.min(self.ask_min_se) {
            return false;
        }
        self.too_small += 1;
        self.ask_min_se = self.ask_min_se.max(min);
        self.ask_se = self.ask_se.max(min);
        if let Some(a) = self.active.as_mut() {
            a.interval = a.interval.max(min);
        }
        true
    }

    /// Our refresh could not go through yet (491 Request Pending): try
    /// again at `at`, unless that is past the session's end.
    pub fn retry_refresh(&mut self, at: Instant) {
        if let Some(a) = self.active.as_mut()
            && a.refresher == Side::Local
            && at < a.started + expiry(a.interval)
        {
            a.next = at;
            a.due = TimerAction::Refresh;
        }
    }

    /// Stops the timer (the session ended).
    pub fn stop(&mut self) {
        self.active = None;
    }

    /// When [`SessionTimer::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.active.map(|a| a.next)
    }

    /// What is due at `now`, if anything. After a refresh is asked for,
    /// the session ends at its expiry unless a 2xx to the refresh
    /// ([`SessionTimer::on_success`]) restarts the timer.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<TimerAction> {
        let a = self.active.as_mut()?;
        if now < a.next {
            return None;
        }
        match a.due {
            TimerAction::Refresh => {
                a.due = TimerAction::Expire;
                a.next = a.started + expiry(a.interval);
                Some(TimerAction::Refresh)
            }
            TimerAction::Expire => {
                self.active = None;
                Some(TimerAction::Expire)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Request;

    fn settings(mode: TimerMode) -> TimerSettings {
        TimerSettings {
            mode,
            ..TimerSettings::default()
        }
    }

    fn peer(se: Option<(u32, Option<Refresher>)>, supported: bool) -> PeerTimer {
        PeerTimer {
            session_expires: se,
            min_se: None,
            supported,
            required: false,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn options_parse_like_asterisk() {
        assert_eq!(TimerMode::parse("yes"), Some(TimerMode::Yes));
        assert_eq!(TimerMode::parse("No"), Some(TimerMode::No));
        assert_eq!(TimerMode::parse("required"), Some(TimerMode::Required));
        assert_eq!(TimerMode::parse("always"), Some(TimerMode::Always));
        assert_eq!(TimerMode::parse("forced"), Some(TimerMode::Always));
        assert_eq!(TimerMode::parse("sometimes"), None);
    }

    #[test]
    fn reads_the_headers_of_a_request() {
        let req = Request::parse(
            &b"INVITE sip:600@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\nSupported: replaces, timer\r\n\
x: 90;refresher=uas\r\nMin-SE: 90\r\nContent-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        let p = PeerTimer::from_headers(req.headers()).unwrap();
        assert_eq!(p.session_expires, Some((90, Some(Refresher::Uas))));
        assert_eq!(p.min_se, Some(90));
        assert!(p.supported && !p.required);
        let bad = Request::parse(
            &b"INVITE sip:600@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\nRequire: timer\r\nSession-Expires: soon\r\nContent-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        assert!(PeerTimer::from_headers(bad.headers()).is_err());
    }

    /// RFC 4028 §9: the UAS takes the UAC's choice of refresher; with
    /// `refresher=uas` we refresh at half the interval, and if no refresh
    /// succeeds the session ends at 90 - 30 = 60 s.
    #[test]
    fn uas_named_refresher_refreshes_at_half_the_interval() {
        let mut t = SessionTimer::new(settings(TimerMode::Yes));
        let agreed = t
            .on_request(&peer(Some((90, Some(Refresher::Uas))), true))
            .unwrap()
            .unwrap();
        assert_eq!(
            agreed,
            Agreement {
                interval: 90,
                refresher: Side::Local,
                require: true
            }
        );
        assert_eq!(
            agreed.response_headers(),
            vec![
                ("Session-Expires", "90;refresher=uas".to_owned()),
                ("Require", "timer".to_owned())
            ]
        );
        assert_eq!(t.poll_timeout(), None, "nothing runs before the 2xx");
        let t0 = Instant::now();
        t.start(Some(agreed), t0);
        assert_eq!(t.poll_timeout(), Some(t0 + secs(45)));
        assert_eq!(t.handle_timeout(t0 + secs(44)), None);
        assert_eq!(t.handle_timeout(t0 + secs(45)), Some(TimerAction::Refresh));
        // The refresh (a request we send) names us as its UAC.
        assert_eq!(
            t.request_headers()[0],
            ("Session-Expires", "90;refresher=uac".to_owned())
        );
        assert_eq!(t.poll_timeout(), Some(t0 + secs(60)));
        // Its 2xx restarts the timer.
        let t1 = t0 + secs(46);
        t.on_success(&peer(Some((90, Some(Refresher::Uac))), true), t1);
        assert_eq!(t.poll_timeout(), Some(t1 + secs(45)));
        // A refresh that never succeeds: the session ends at expiry.
        assert_eq!(t.handle_timeout(t1 + secs(45)), Some(TimerAction::Refresh));
        assert_eq!(t.handle_timeout(t1 + secs(59)), None);
        assert_eq!(t.handle_timeout(t1 + secs(60)), Some(TimerAction::Expire));
        assert_eq!(t.poll_timeout(), None);
    }

    /// §10: the side that does not refresh sends BYE at the interval minus
    /// min(32 s, a third); each refresh from the peer starts it again.
    #[test]
    fn peer_refresher_that_goes_quiet_expires_the_session() {
        let mut t = SessionTimer::new(settings(TimerMode::Yes));
        let agreed = t
            .on_request(&peer(Some((90, Some(Refresher::Uac))), true))
            .unwrap();
        assert_eq!(agreed.map(|a| a.refresher), Some(Side::Remote));
        let t0 = Instant::now();
        t.start(agreed, t0);
        assert_eq!(t.poll_timeout(), Some(t0 + secs(60)));
        // A refresh re-INVITE from the peer, answered at t0 + 40.
        let again = t
            .on_request(&peer(Some((90, Some(Refresher::Uac))), true))
            .unwrap();
        t.start(again, t0 + secs(40));
        assert_eq!(t.handle_timeout(t0 + secs(60)), None);
        assert_eq!(t.handle_timeout(t0 + secs(100)), Some(TimerAction::Expire));
        // Long intervals keep a 32 s margin.
        let mut long = SessionTimer::new(settings(TimerMode::Yes));
        let agreed = long.on_request(&peer(Some((1800, None)), true)).unwrap();
        long.start(agreed, t0);
        assert_eq!(long.poll_timeout(), Some(t0 + secs(1768)));
    }

    /// §9: too small an interval from a peer that supports timers gets 422
    /// with our Min-SE; from one that does not, it is raised and we refresh.
    #[test]
    fn small_intervals_are_refused_or_raised() {
        let mut t = SessionTimer::new(TimerSettings {
            min_se: 120,
            ..settings(TimerMode::Yes)
        });
        let refusal = t.on_request(&peer(Some((90, None)), true)).unwrap_err();
        assert_eq!(refusal, Refusal::TooSmall { min_se: 120 });
        assert_eq!(refusal.status().as_u16(), 422);
        assert_eq!(refusal.header(), ("Min-SE", "120".to_owned()));
        let raised = t.on_request(&peer(Some((90, None)), false)).unwrap();
        assert_eq!(
            raised,
            Some(Agreement {
                interval: 120,
                refresher: Side::Local,
                require: false
            })
        );
    }

    #[test]
    fn modes_decide_what_is_refused_and_what_runs() {
        // timers=no: Require: timer gets 420; a mere offer is ignored.
        let mut no = SessionTimer::new(settings(TimerMode::No));
        let required = PeerTimer {
            required: true,
            ..peer(Some((1800, None)), true)
        };
        let refusal = no.on_request(&required).unwrap_err();
        assert_eq!(refusal.status().as_u16(), 420);
        assert_eq!(refusal.header(), ("Unsupported", "timer".to_owned()));
        assert_eq!(no.on_request(&peer(Some((1800, None)), true)), Ok(None));
        assert!(no.request_headers().is_empty());
        assert!(!no.supported());
        // timers=required: a peer without support gets 421.
        let mut req = SessionTimer::new(settings(TimerMode::Required));
        assert_eq!(
            req.on_request(&peer(None, false))
                .unwrap_err()
                .status()
                .as_u16(),
            421
        );
        assert!(
            req.request_headers()
                .contains(&("Require", "timer".to_owned()))
        );
        // timers=yes: no Session-Expires, no timer.
        let mut yes = SessionTimer::new(settings(TimerMode::Yes));
        assert_eq!(yes.on_request(&peer(None, true)), Ok(None));
        // timers=always: our interval, and we refresh for a peer without support.
        let mut always = SessionTimer::new(settings(TimerMode::Always));
        assert_eq!(
            always.on_request(&peer(None, false)),
            Ok(Some(Agreement {
                interval: 1800,
                refresher: Side::Local,
                require: false
            }))
        );
        assert_eq!(
            always
                .on_request(&peer(None, true))
                .unwrap()
                .map(|a| a.refresher),
            Some(Side::Remote)
        );
    }

    /// The UAC side: the INVITE asks for our interval and Min-SE; a 422
    /// raises both once per larger Min-SE; the 2xx decides the refresher.
    #[test]
    fn uac_asks_follows_422_and_takes_the_answer() {
        let mut t = SessionTimer::new(TimerSettings {
            sess_expires: 120,
            ..settings(TimerMode::Yes)
        });
        assert_eq!(
            t.request_headers(),
            vec![
                ("Session-Expires", "120".to_owned()),
                ("Min-SE", "90".to_owned())
            ]
        );
        assert!(t.on_too_small(Some(300)));
        assert_eq!(
            t.request_headers(),
            vec![
                ("Session-Expires", "300".to_owned()),
                ("Min-SE", "300".to_owned())
            ]
        );
        assert!(!t.on_too_small(Some(300)), "nothing larger asked");
        assert!(!t.on_too_small(None));
        let t0 = Instant::now();
        t.on_success(&peer(Some((300, Some(Refresher::Uas))), true), t0);
        assert_eq!(t.refresher(), Some(Side::Remote));
        assert_eq!(t.poll_timeout(), Some(t0 + secs(268)));
        t.on_success(&peer(Some((300, None)), true), t0);
        assert_eq!(t.refresher(), Some(Side::Local));
        // §7.2: a 2xx without Session-Expires turns the timer off...
        t.on_success(&peer(None, false), t0);
        assert_eq!(t.interval(), None);
        // ... unless we always use one.
        let mut always = SessionTimer::new(settings(TimerMode::Always));
        always.on_success(&peer(None, false), t0);
        assert_eq!(
            (always.interval(), always.refresher()),
            (Some(1800), Some(Side::Local))
        );
    }

    #[test]
    fn a_pending_refresh_is_retried_before_the_end() {
        let mut t = SessionTimer::new(settings(TimerMode::Yes));
        let t0 = Instant::now();
        let agreed = t.on_request(&peer(Some((90, Some(Refresher::Uas))), true));
        t.start(agreed.unwrap(), t0);
        assert_eq!(t.handle_timeout(t0 + secs(45)), Some(TimerAction::Refresh));
        t.retry_refresh(t0 + secs(48));
        assert_eq!(t.handle_timeout(t0 + secs(48)), Some(TimerAction::Refresh));
        t.retry_refresh(t0 + secs(70));
        assert_eq!(t.poll_timeout(), Some(t0 + secs(60)), "too late to retry");
        t.stop();
        assert_eq!(t.handle_timeout(t0 + secs(500)), None);
    }
}
