//! Native RTP bridging (Asterisk's RTP glue, `direct_media`): what a
//! channel's far end receives, so that a bridge can tell the other party
//! to send its RTP there instead of through this server.

use std::net::SocketAddr;

use obelus_media::Codec;

/// Where and how a channel's far end takes RTP, as its session description
/// says: the address, the negotiated format with the payload type the far
/// end expects, and its telephone-event payload type. A bridge gives one
/// party's `NativeRtp` to the other party's driver
/// ([`super::Driver::direct_media`]), whose offer then carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeRtp {
    /// The far end's RTP address (`c=`/`m=`).
    pub addr: SocketAddr,
    /// The audio format agreed with the far end.
    pub codec: Codec,
    /// The payload type the far end expects `codec` on.
    pub payload_type: u8,
    /// The far end's telephone-event payload type, if it takes RFC 4733.
    pub dtmf_payload_type: Option<u8>,
    /// The packetisation time agreed with the far end, in ms.
    pub ptime_ms: u32,
}
