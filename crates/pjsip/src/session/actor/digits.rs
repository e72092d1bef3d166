//! DTMF on a call: a key from the channel goes out the way the call agreed
//! (RFC 4733 events, tones in the audio, or SIP INFO), and INFO keys from
//! the peer reach the channel the way RFC 4733 and in-band ones do (as
//! media stream events: DTMF begin and end events, a `Control::Dtmf`
//! frame).

use obelus_media::StreamEvent;
use obelus_sip::transaction::TransactionKey;
use obelus_sip::{Method, Request, StatusCode};

use super::{Actor, Kind, Phase};
use crate::session::dtmf::{DtmfPath, InfoDtmf, info_body, parse_info};
use crate::stack::{Origin, answer, built};

impl Actor {
    /// Sends a key for `duration_ms`.
    pub(super) fn send_digit(&mut self, digit: char, duration_ms: u32) {
        match self.dtmf_path {
            DtmfPath::Rfc4733 => {
                if let Some(media) = self.media.get() {
                    media.send_dtmf(digit, duration_ms);
                }
            }
            DtmfPath::Inband => {
                if let Some(media) = self.media.get() {
                    media.send_dtmf_inband(digit, duration_ms);
                }
            }
            DtmfPath::Info => self.send_info(digit, duration_ms),
            DtmfPath::None => {}
        }
    }

    /// An INFO with an `application/dtmf-relay` body (as Asterisk sends).
    fn send_info(&mut self, digit: char, duration_ms: u32) {
        if self.phase != Phase::Confirmed {
            return;
        }
        let request = self
            .dialog
            .request(Method::Info, &self.via, None)
            .body("application/dtmf-relay", info_body(digit, duration_ms))
            .build();
        match request {
            Ok(info) => self.start_client(info, Kind::Info),
            Err(e) => tracing::warn!("{}: INFO not built: {e}", self.channel.name()),
        }
    }

    /// An INFO from the peer. DTMF keys are taken whatever the endpoint's
    /// `dtmf_mode` (as res_pjsip_dtmf_info does); 200, or 500 for a DTMF
    /// body without a valid key.
    pub(super) async fn on_info(&mut self, req: &Request, key: &TransactionKey, origin: &Origin) {
        let essence = req
            .headers()
            .content_type()
            .ok()
            .flatten()
            .map(|t| format!("{}/{}", t.ty(), t.subtype()));
        let status = match essence.and_then(|t| parse_info(&t, req.body())) {
            Some(InfoDtmf::Digit(digit, duration_ms)) => {
                // As a key from the media stream: begin, then end.
                self.on_media(StreamEvent::DtmfBegin { digit });
                self.on_media(StreamEvent::Dtmf { digit, duration_ms });
                StatusCode::OK
            }
            Some(InfoDtmf::Flash) => {
                tracing::debug!("{}: hook flash by INFO ignored", self.channel.name());
                StatusCode::OK
            }
            Some(InfoDtmf::Invalid) => {
                tracing::error!(
                    "{}: Invalid DTMF event signal in INFO message.",
                    self.channel.name()
                );
                StatusCode::SERVER_INTERNAL_ERROR
            }
            Some(InfoDtmf::Empty) | None => StatusCode::OK,
        };
        if let Some(r) = built(answer(req, origin, status)) {
            self.respond(key, r).await;
        }
    }
}
