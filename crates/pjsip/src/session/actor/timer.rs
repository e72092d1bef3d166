//! Session timers (RFC 4028) on a call, as res_pjsip_session with pjsip's
//! timer module does them: the headers our INVITEs, refreshes and 2xx
//! carry, 422 retries, refreshes when we are the refresher (UPDATE when the
//! peer allows it, else re-INVITE with our SDP), and the BYE when the
//! session expires without one.

use std::time::{Duration, Instant};

use obelus_core::channel::Cause;
use obelus_sip::session_timer::{Agreement, PeerTimer, TimerAction};
use obelus_sip::{Headers, Method, Request, RequestBuilder, Response, ResponseBuilder};

use super::{Actor, Kind, Phase};
use crate::session::incoming::{allows_update, session_timer};
use crate::stack::{ALLOW, Origin};

/// A refresh that crossed the peer's offer (491) is tried again after a
/// random 2.1-4 s (RFC 3261 §14.1).
fn glare_delay() -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 1900);
    Duration::from_millis(2100 + u64::from(jitter))
}

impl Actor {
    /// `Supported` of our INVITEs, refreshes and 2xx.
    pub(super) fn supported(&self) -> &'static str {
        if self.timer.supported() {
            "replaces, timer"
        } else {
            "replaces"
        }
    }

    /// Adds `Session-Expires`, `Min-SE` (and `Require: timer` when the
    /// endpoint requires timers) to an INVITE or UPDATE of ours.
    pub(super) fn with_timer_headers(&self, b: RequestBuilder) -> RequestBuilder {
        self.timer
            .request_headers()
            .into_iter()
            .fold(b, |b, (name, value)| b.header(name, value))
    }

    /// Notes whether the peer's `Allow` (when it sends one) lists UPDATE.
    fn note_allow(&mut self, h: &Headers) {
        if let Some(update) = allows_update(h) {
            self.peer_allows_update = update;
        }
    }

    /// A 2xx to our INVITE or refresh: its `Session-Expires` sets the
    /// interval and the refresher.
    pub(super) fn timer_on_success(&mut self, response: &Response) {
        self.note_allow(response.headers());
        let peer = PeerTimer::from_headers(response.headers()).unwrap_or_else(|e| {
            tracing::warn!(
                "{}: malformed {} in a 2xx; no session timer",
                self.channel.name(),
                e.name
            );
            PeerTimer::default()
        });
        self.timer.on_success(&peer, Instant::now());
        if let Some(interval) = self.timer.interval() {
            tracing::debug!(
                "{}: session timer {interval} s, refresher {:?}",
                self.channel.name(),
                self.timer.refresher()
            );
        }
    }

    /// The peer's re-INVITE or UPDATE: what our 2xx agrees to, or the
    /// response that refuses it (400, 420, 421, 422).
    pub(super) fn timer_on_request(
        &mut self,
        req: &Request,
        origin: &Origin,
    ) -> Result<Option<Agreement>, Box<ResponseBuilder>> {
        self.note_allow(req.headers());
        session_timer(&mut self.timer, req, origin)
    }

    /// A 422 to our first INVITE: sends it again with the larger interval
    /// the peer asks for; false when there is nothing to retry.
    pub(super) fn retry_invite(&mut self, response: &Response) -> bool {
        let min_se = response.headers().min_se().ok().flatten();
        if !self.timer.on_too_small(min_se) {
            return false;
        }
        tracing::info!(
            verbose = 3,
            "{}: session interval too small for the peer; asking for {} s",
            self.channel.name(),
            min_se.unwrap_or_default()
        );
        // The new INVITE starts the dialog afresh (no To tag yet).
        self.dialog.remote_tag.clear();
        self.start_invite(None).is_ok()
    }

    /// Runs what the session timer has due: a refresh, or the end.
    pub(super) async fn on_session_timer(&mut self, now: Instant) {
        if self.phase != Phase::Confirmed {
            self.timer.stop();
            return;
        }
        match self.timer.handle_timeout(now) {
            Some(TimerAction::Refresh) => self.send_refresh(),
            Some(TimerAction::Expire) => self.expire().await,
            None => {}
        }
    }

    /// A session refresh: UPDATE without a body when the peer allows it,
    /// else a re-INVITE offering our current SDP (a new version).
    fn send_refresh(&mut self) {
        let method = if self.peer_allows_update {
            Method::Update
        } else {
            Method::Invite
        };
        let b = self
            .dialog
            .request(method.clone(), &self.via, None)
            .header("Allow", ALLOW)
            .header("Supported", self.supported());
        let b = self.with_timer_headers(b);
        let b = if method == Method::Invite {
            self.sdp_version += 1;
            b.body("application/sdp", self.sdp())
        } else {
            b
        };
        match b.build() {
            Ok(request) => {
                tracing::debug!(
                    "{}: refreshing the session ({})",
                    self.channel.name(),
                    method.as_str()
                );
                self.start_client(request, Kind::Refresh);
            }
            Err(e) => tracing::warn!("{}: refresh not built: {e}", self.channel.name()),
        }
    }

    /// The answer to one of our refreshes.
    pub(super) async fn on_refresh_response(&mut self, response: Response) {
        let status = response.status();
        if status.is_provisional() {
            return;
        }
        let cseq = response.headers().cseq();
        let (seq, invite) = (cseq.seq, cseq.method == Method::Invite);
        if status.is_success() {
            if invite {
                self.send_ack(seq).await;
                if !response.body().is_empty() && !self.apply_answer(response.body()) {
                    tracing::warn!(
                        "{}: the answer to our refresh is unusable; media unchanged",
                        self.channel.name()
                    );
                }
            }
            self.timer_on_success(&response);
            return;
        }
        let code = status.as_u16();
        match code {
            422 if self
                .timer
                .on_too_small(response.headers().min_se().ok().flatten()) =>
            {
                self.send_refresh();
            }
            491 => self.timer.retry_refresh(Instant::now() + glare_delay()),
            // RFC 3261 §12.2.1.2: the dialog is gone at the peer.
            408 | 481 => {
                tracing::info!(
                    verbose = 3,
                    "{}: session refresh answered {code}; hanging up",
                    self.channel.name()
                );
                self.send_bye().await;
                self.phase = Phase::Ended;
                self.channel.request_hangup(Cause::from_sip(code));
            }
            _ => tracing::warn!(
                "{}: session refresh answered {code} {}; the session ends at its expiry",
                self.channel.name(),
                response.reason()
            ),
        }
    }

    /// No refresh before the session expired (RFC 4028 §10): BYE, and the
    /// channel hangs up with the cause Asterisk gives (pjsip ends the
    /// session with 408: "No user responding").
    async fn expire(&mut self) {
        tracing::warn!(
            "{}: session timer expired without a refresh; hanging up",
            self.channel.name()
        );
        self.send_bye().await;
        self.phase = Phase::Ended;
        self.channel.request_hangup(Cause::from_sip(408));
    }
}
