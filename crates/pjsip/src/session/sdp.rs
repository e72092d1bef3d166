//! SDP offer/answer for audio (RFC 3264) between a peer's session
//! description and an endpoint's codecs (`allow`/`disallow`).
//!
//! Pure functions: what the peer offers or answers ([`RemoteAudio`]), the
//! codec both sides can use ([`negotiate`]), and our own description
//! ([`render`]).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use obelus_media::Codec;
use obelus_sip::sdp::{Direction, SessionDescription};

/// Our payload type for RFC 4733 telephone events in offers (Asterisk's).
pub const DTMF_PT: u8 = 101;

/// Why a session description cannot be used (the call gets 488).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpProblem {
    /// The body is not SDP.
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// No usable RTP audio stream.
    #[error("no RTP/AVP audio stream")]
    NoAudio,
    /// The stream has no usable connection address.
    #[error("no usable connection address for the audio stream")]
    NoAddress,
    /// None of the offered formats is allowed on the endpoint.
    #[error("no codec in common (endpoint allows {allowed}; offered {offered})")]
    NoCommonCodec {
        /// What the endpoint allows.
        allowed: String,
        /// What was offered.
        offered: String,
    },
}

/// The audio part of a peer's session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAudio {
    /// Where to send RTP.
    pub addr: SocketAddr,
    /// Formats we understand, in the peer's order of preference.
    pub formats: Vec<(u8, Codec)>,
    /// Every format as written (for messages).
    pub offered: Vec<String>,
    /// The telephone-event payload type, if offered.
    pub dtmf_pt: Option<u8>,
    /// `a=ptime`.
    pub ptime: Option<u32>,
    /// The effective direction.
    pub direction: Direction,
}

/// Reads the first RTP audio stream of `body`.
pub fn remote_audio(body: &[u8]) -> Result<RemoteAudio, SdpProblem> {
    let sdp = SessionDescription::parse(body).map_err(|e| SdpProblem::Malformed(e.to_string()))?;
    let (index, media) = sdp
        .media
        .iter()
        .enumerate()
        .find(|(_, m)| {
            m.kind == "audio" && m.port != 0 && (m.proto == "RTP/AVP" || m.proto == "RTP/AVPF")
        })
        .ok_or(SdpProblem::NoAudio)?;
    let connection = sdp.connection_for(index).ok_or(SdpProblem::NoAddress)?;
    let host = connection.address.split('/').next().unwrap_or_default();
    let ip: IpAddr = host.parse().map_err(|_| SdpProblem::NoAddress)?;
    let mut formats = Vec::new();
    let mut offered = Vec::new();
    let mut dtmf_pt = None;
    for pt in media.payload_types() {
        let Some(map) = &pt.rtpmap else {
            offered.push(pt.pt.to_string());
            continue;
        };
        offered.push(format!("{}/{}", map.encoding, map.clock_rate));
        if map.encoding.eq_ignore_ascii_case("telephone-event") {
            if map.clock_rate == 8000 && dtmf_pt.is_none() {
                dtmf_pt = Some(pt.pt);
            }
        } else if let Some(codec) = Codec::from_rtpmap(&map.encoding, map.clock_rate) {
            formats.push((pt.pt, codec));
        }
    }
    Ok(RemoteAudio {
        addr: SocketAddr::new(ip, media.port),
        formats,
        offered,
        dtmf_pt,
        ptime: media.ptime(),
        direction: sdp.direction(index),
    })
}

/// The format to use: the first the peer lists that the endpoint allows
/// (RFC 3264 §6.1: the answerer keeps the offer's payload type).
pub fn negotiate(remote: &RemoteAudio, allowed: &[Codec]) -> Result<(u8, Codec), SdpProblem> {
    remote
        .formats
        .iter()
        .copied()
        .find(|(_, c)| allowed.contains(c))
        .ok_or_else(|| SdpProblem::NoCommonCodec {
            allowed: allowed
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(","),
            offered: remote.offered.join(","),
        })
}

/// The codecs of an endpoint's `allow` list (sorcery has already applied
/// `disallow`), in its order; names Obelus cannot transcode are skipped.
pub fn codecs<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Codec> {
    let mut out = Vec::new();
    for codec in names.into_iter().filter_map(Codec::from_name) {
        if !out.contains(&codec) {
            out.push(codec);
        }
    }
    out
}

/// Our side of the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAudio {
    /// Where we receive RTP (the address peers can reach).
    pub addr: SocketAddr,
    /// Formats, in preference order.
    pub formats: Vec<(u8, Codec)>,
    /// Telephone-event payload type, when DTMF goes in RTP.
    pub dtmf_pt: Option<u8>,
    /// Packetisation time in ms.
    pub ptime: u32,
    /// Direction.
    pub direction: Direction,
}

/// The formats of an offer: every allowed codec on its static payload type.
pub fn offer_formats(allowed: &[Codec]) -> Vec<(u8, Codec)> {
    allowed
        .iter()
        .filter_map(|c| c.static_payload_type().map(|pt| (pt, *c)))
        .collect()
}

/// Our session description (`o=` with `session_id` and `version`, which
/// must grow with every change, RFC 3264 §8, and our `origin` address).
/// The stream's address is `local.addr`: ours, or another phone's when
/// the media goes direct.
pub fn render(session_id: u64, version: u64, origin: IpAddr, local: &LocalAudio) -> String {
    let family = |ip: IpAddr| if ip.is_ipv6() { "IP6" } else { "IP4" };
    let ip = local.addr.ip();
    let mut s = String::with_capacity(320);
    let _ = write!(
        s,
        "v=0\r\no=- {session_id} {version} IN {} {origin}\r\ns=Obelus\r\nc=IN {} {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP",
        family(origin),
        family(ip),
        local.addr.port()
    );
    for (pt, _) in &local.formats {
        let _ = write!(s, " {pt}");
    }
    if let Some(pt) = local.dtmf_pt {
        let _ = write!(s, " {pt}");
    }
    s.push_str("\r\n");
    for (pt, codec) in &local.formats {
        let _ = write!(
            s,
            "a=rtpmap:{pt} {}/{}\r\n",
            codec.encoding_name(),
            codec.rtp_clock_rate()
        );
    }
    if let Some(pt) = local.dtmf_pt {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let _ = write!(
        s,
        "a=ptime:{}\r\na=maxptime:150\r\na={}\r\n",
        local.ptime,
        local.direction.as_str()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &[u8] = b"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 9 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n";

    #[test]
    fn reads_the_audio_stream_of_an_offer() {
        let remote = remote_audio(OFFER).unwrap();
        assert_eq!(remote.addr, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(remote.formats, vec![(9, Codec::G722), (0, Codec::Ulaw)]);
        assert_eq!(remote.dtmf_pt, Some(101));
        assert_eq!(remote.direction, Direction::SendRecv);
    }

    /// RFC 3264 §6.1: the answer uses a format of the offer, with its
    /// payload type; the offerer's preference wins among allowed ones.
    #[test]
    fn the_first_offered_allowed_codec_wins() {
        let remote = remote_audio(OFFER).unwrap();
        assert_eq!(
            negotiate(&remote, &[Codec::Ulaw, Codec::G722]),
            Ok((9, Codec::G722))
        );
        assert_eq!(negotiate(&remote, &[Codec::Ulaw]), Ok((0, Codec::Ulaw)));
        assert!(matches!(
            negotiate(&remote, &[Codec::Alaw]),
            Err(SdpProblem::NoCommonCodec { .. })
        ));
    }

    #[test]
    fn bad_offers_are_refused_with_a_reason() {
        assert!(matches!(
            remote_audio(b"garbage"),
            Err(SdpProblem::Malformed(_))
        ));
        let video_only = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n";
        assert_eq!(remote_audio(video_only), Err(SdpProblem::NoAudio));
        let no_c = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
        assert_eq!(remote_audio(no_c), Err(SdpProblem::NoAddress));
    }

    #[test]
    fn endpoint_codecs_keep_order_and_skip_unknown() {
        assert_eq!(
            codecs(["g722", "opus", "ulaw", "g722"]),
            vec![Codec::G722, Codec::Ulaw]
        );
    }

    #[test]
    fn our_description_parses_back() {
        let local = LocalAudio {
            addr: "192.0.2.1:10000".parse().unwrap(),
            formats: offer_formats(&[Codec::G722, Codec::Ulaw]),
            dtmf_pt: Some(DTMF_PT),
            ptime: 20,
            direction: Direction::SendRecv,
        };
        let text = render(7, 1, local.addr.ip(), &local);
        let back = remote_audio(text.as_bytes()).unwrap();
        assert_eq!(back.addr, local.addr);
        assert_eq!(back.formats, local.formats);
        assert_eq!(back.dtmf_pt, Some(DTMF_PT));
        // Direct media: the stream at another phone, the origin ours.
        let direct = LocalAudio {
            addr: "198.51.100.9:4000".parse().unwrap(),
            ..local.clone()
        };
        let text = render(7, 2, local.addr.ip(), &direct);
        assert!(text.contains("o=- 7 2 IN IP4 192.0.2.1\r\n"), "{text}");
        assert!(text.contains("c=IN IP4 198.51.100.9\r\n"), "{text}");
        assert!(text.contains("m=audio 4000 RTP/AVP"), "{text}");
    }
}
