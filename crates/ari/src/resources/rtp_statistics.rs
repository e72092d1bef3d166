//! `GET /channels/{channelId}/rtp_statistics`: the `RTPstat` model of a
//! channel's RTP stream.

use obelus_media::RtpStats;
use serde::Serialize;

use super::ok;
use crate::error::{AriError, AriResult};
use crate::params::Params;
use crate::state::Ari;

/// Channel technologies with RTP (Asterisk's RTP glue); others are 403.
const RTP_TECHNOLOGIES: &[&str] = &["PJSIP", "UnicastRTP"];

/// The `RTPstat` model: every figure, as Asterisk always sends them all.
#[derive(Debug, Serialize)]
struct RtpStat<'a> {
    txcount: u64,
    rxcount: u64,
    txjitter: f64,
    rxjitter: f64,
    remote_maxjitter: f64,
    remote_minjitter: f64,
    remote_normdevjitter: f64,
    remote_stdevjitter: f64,
    local_maxjitter: f64,
    local_minjitter: f64,
    local_normdevjitter: f64,
    local_stdevjitter: f64,
    txploss: u64,
    rxploss: u64,
    remote_maxrxploss: f64,
    remote_minrxploss: f64,
    remote_normdevrxploss: f64,
    remote_stdevrxploss: f64,
    local_maxrxploss: f64,
    local_minrxploss: f64,
    local_normdevrxploss: f64,
    local_stdevrxploss: f64,
    rtt: f64,
    maxrtt: f64,
    minrtt: f64,
    normdevrtt: f64,
    stdevrtt: f64,
    local_ssrc: u32,
    remote_ssrc: u32,
    txoctetcount: u64,
    rxoctetcount: u64,
    channel_uniqueid: &'a str,
}

impl<'a> RtpStat<'a> {
    fn new(s: &RtpStats, channel_uniqueid: &'a str) -> RtpStat<'a> {
        RtpStat {
            txcount: s.txcount,
            rxcount: s.rxcount,
            txjitter: s.txjitter,
            rxjitter: s.rxjitter,
            remote_maxjitter: s.remote_maxjitter,
            remote_minjitter: s.remote_minjitter,
            remote_normdevjitter: s.remote_normdevjitter,
            remote_stdevjitter: s.remote_stdevjitter,
            local_maxjitter: s.local_maxjitter,
            local_minjitter: s.local_minjitter,
            local_normdevjitter: s.local_normdevjitter,
            local_stdevjitter: s.local_stdevjitter,
            txploss: s.txploss,
            rxploss: s.rxploss,
            remote_maxrxploss: s.remote_maxrxploss,
            remote_minrxploss: s.remote_minrxploss,
            remote_normdevrxploss: s.remote_normdevrxploss,
            remote_stdevrxploss: s.remote_stdevrxploss,
            local_maxrxploss: s.local_maxrxploss,
            local_minrxploss: s.local_minrxploss,
            local_normdevrxploss: s.local_normdevrxploss,
            local_stdevrxploss: s.local_stdevrxploss,
            rtt: s.rtt,
            maxrtt: s.maxrtt,
            minrtt: s.minrtt,
            normdevrtt: s.normdevrtt,
            stdevrtt: s.stdevrtt,
            local_ssrc: s.local_ssrc,
            remote_ssrc: s.remote_ssrc,
            txoctetcount: s.txoctetcount,
            rxoctetcount: s.rxoctetcount,
            channel_uniqueid,
        }
    }
}

/// `GET /channels/{id}/rtp_statistics`: 404 for an unknown channel or
/// one without a stream yet, 403 for a technology without RTP (Local,
/// Snoop), as Asterisk answers.
pub(super) fn rtp_statistics(ari: &Ari, p: &Params) -> AriResult {
    let channel = ari
        .find_channel(p.path("channelId"))
        .ok_or_else(AriError::channel_not_found)?;
    if !RTP_TECHNOLOGIES.contains(&channel.tech()) {
        return Err(AriError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Unsupported channel type",
        ));
    }
    let stream = channel
        .driver()
        .media()
        .ok_or_else(|| AriError::not_found("RTP info not found"))?;
    let id = ari.channel_id(channel.uniqueid());
    ok(ari, &RtpStat::new(&stream.rtp_stats(), &id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_is_an_rtpstat_of_the_served_model() {
        let stats = RtpStats {
            txcount: 250,
            rxcount: 249,
            rxjitter: 0.002,
            local_ssrc: 7,
            ..RtpStats::default()
        };
        let value = serde_json::to_value(RtpStat::new(&stats, "1795343125.27")).unwrap();
        let problems = crate::json::conformance::problems("RTPstat", &value);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
