//! Direct media on a call, as chan_pjsip does it for a native RTP bridge:
//! the peer's media published for the bridge, offers (re-INVITE, or UPDATE
//! with `direct_media_method=update`) that point the peer at another
//! phone's RTP address or back at ours, and their answers.

use std::time::Instant;

use obelus_core::channel::{Cause, Control, NativeRtp};
use obelus_media::StreamParams;
use obelus_sip::{Method, Response};

use super::{Actor, Kind, Phase};
use crate::session::sdp::LocalAudio;
use crate::stack::ALLOW;

impl Actor {
    /// Publishes the peer's media, as `params` now has it, for a native
    /// RTP bridge (none when the endpoint does not allow direct media).
    /// A bridge that sends the other party's RTP straight to the peer
    /// hears when its address or format changed (a new offer of the peer).
    pub(super) fn publish_native(&mut self, params: &StreamParams) {
        let native = params
            .remote
            .filter(|_| self.direct.allows(&self.dialog.remote_target, self.source))
            .map(|addr| NativeRtp {
                addr,
                codec: params.codec,
                payload_type: params.payload_type,
                dtmf_payload_type: params.dtmf_payload_type,
                ptime_ms: params.ptime_ms,
            });
        let before = self.native.set(native);
        let moved = match (before, native) {
            (Some(b), Some(n)) => b.addr != n.addr || b.codec != n.codec,
            _ => false,
        };
        if moved && self.channel.bridge().is_some() {
            self.channel.queue(Control::MediaUpdate);
        }
    }

    /// Our audio as our descriptions carry it: ours, or the other phone's
    /// address and payload types while the media goes direct.
    pub(super) fn advertised_audio(&self) -> LocalAudio {
        match self.redirect.advertised() {
            None => self.local.clone(),
            Some(target) => LocalAudio {
                addr: target.addr,
                formats: vec![(target.payload_type, target.codec)],
                dtmf_pt: target
                    .dtmf_payload_type
                    .filter(|_| self.local.dtmf_pt.is_some()),
                ptime: target.ptime_ms,
                direction: self.local.direction,
            },
        }
    }

    /// Sends the offer that moves the peer's media where the bridge wants
    /// it, once the call is answered and no other offer or ACK is awaited
    /// in either direction (RFC 3261 §14.1). A proper in-dialog request:
    /// the next CSeq, the route set, our Contact, a new SDP version.
    pub(super) fn offer_direct_media(&mut self) {
        if self.ack_due.is_some_and(|due| Instant::now() >= due) {
            self.ack_due = None;
        }
        if self.phase != Phase::Confirmed || self.ack_due.is_some() || self.offer_pending() {
            return;
        }
        let Some(target) = self.redirect.next_offer() else {
            return;
        };
        let method = self.direct.method.clone();
        self.sdp_version += 1;
        let body = self.sdp();
        let b = self
            .dialog
            .request(method.clone(), &self.via, None)
            .header("Allow", ALLOW)
            .header("Supported", self.supported());
        let b = self.with_timer_headers(b).body("application/sdp", body);
        match b.build() {
            Ok(request) => {
                tracing::debug!(
                    "{}: {} to send media to {}",
                    self.channel.name(),
                    method.as_str(),
                    target.map_or_else(|| "us".to_owned(), |t| t.addr.to_string())
                );
                self.start_client(request, Kind::Media);
            }
            Err(e) => {
                tracing::warn!("{}: direct media offer not built: {e}", self.channel.name());
                self.redirect.answered(false);
            }
        }
    }

    /// The answer to a direct media offer of ours: a 2xx moves the peer
    /// (its SDP is applied, the session timer refreshed, RTCP reports
    /// stop while the media goes direct); anything else leaves the media
    /// where it was, and 408/481 (the dialog is gone) end the call.
    pub(super) async fn on_media_response(&mut self, response: Response) {
        let status = response.status();
        if status.is_provisional() {
            return;
        }
        let cseq = response.headers().cseq();
        if status.is_success() {
            if cseq.method == Method::Invite {
                self.send_ack(cseq.seq).await;
            }
            self.redirect.answered(true);
            if !response.body().is_empty() && !self.apply_answer(response.body()) {
                tracing::warn!(
                    "{}: the answer to our direct media offer is unusable",
                    self.channel.name()
                );
            }
            self.report_rtcp();
            self.timer_on_success(&response);
            tracing::debug!(
                "{}: media now goes to {}",
                self.channel.name(),
                self.redirect
                    .advertised()
                    .map_or_else(|| "us".to_owned(), |t| t.addr.to_string())
            );
            return;
        }
        let code = status.as_u16();
        self.redirect.answered(false);
        tracing::warn!(
            "{}: direct media {} answered {code} {}; media stays {}",
            self.channel.name(),
            cseq.method.as_str(),
            response.reason(),
            if self.redirect.advertised().is_some() {
                "direct"
            } else {
                "anchored"
            }
        );
        // RFC 3261 §12.2.1.2: the dialog is gone at the peer.
        if matches!(code, 408 | 481) && self.phase == Phase::Confirmed {
            self.send_bye().await;
            self.phase = Phase::Ended;
            self.channel.request_hangup(Cause::from_sip(code));
        }
    }

    /// Sends RTCP reports to the peer only while its media comes to us.
    fn report_rtcp(&mut self) {
        let rtcp = self.redirect.advertised().is_none();
        let (Some(params), Some(media)) = (self.params.as_mut(), self.media.get()) else {
            return;
        };
        if params.rtcp != rtcp {
            params.rtcp = rtcp;
            media.configure(params.clone());
        }
    }
}
