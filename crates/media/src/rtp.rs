//! RTP packet headers (RFC 3550 §5.1), read and written in place.
//!
//! Parsing borrows the payload from the receive buffer; building writes a
//! 12-byte header (no CSRC, no extension, no padding: what a relay emits)
//! into a caller buffer. Nothing allocates and malformed input is an
//! [`RtpError`], never a panic.

use crate::error::RtpError;

/// The fields of a fixed RTP header that a relay reads or rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// M bit: start of a talk spurt, or first packet of a DTMF event.
    pub marker: bool,
    /// PT, 0-127.
    pub payload_type: u8,
    /// Sequence number, wraps at 65535.
    pub sequence: u16,
    /// Media timestamp in the codec's RTP clock.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

impl RtpHeader {
    /// Length of the fixed header without CSRCs.
    pub const LEN: usize = 12;

    /// Writes the fixed header (V=2, P=0, X=0, CC=0) into `out`.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtpError> {
        let Some(h) = out.get_mut(..Self::LEN) else {
            return Err(RtpError::BufferTooSmall);
        };
        h[0] = 0x80;
        h[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        h[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        h[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        h[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Ok(Self::LEN)
    }
}

/// A parsed RTP packet borrowing its payload from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header fields.
    pub header: RtpHeader,
    /// Number of CSRC identifiers that were skipped.
    pub csrc_count: u8,
    /// The header extension (RFC 3550 §5.3.1): profile-defined id and data.
    pub extension: Option<(u16, &'a [u8])>,
    /// The payload, with any padding removed.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses one datagram. Checks, per RFC 3550 §5.1 and §5.3.1: at least
    /// 12 bytes, version 2, room for the CSRC list and the extension, and a
    /// padding count that is non-zero and fits in the payload.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if buf.len() < RtpHeader::LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = buf[0] & 0x20 != 0;
        let has_ext = buf[0] & 0x10 != 0;
        let csrc_count = buf[0] & 0x0F;
        let header = RtpHeader {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        };
        let mut pos = RtpHeader::LEN + 4 * usize::from(csrc_count);
        if buf.len() < pos {
            return Err(RtpError::TooShort);
        }
        let mut extension = None;
        if has_ext {
            let Some(eh) = buf.get(pos..pos + 4) else {
                return Err(RtpError::TooShort);
            };
            let profile = u16::from_be_bytes([eh[0], eh[1]]);
            let words = usize::from(u16::from_be_bytes([eh[2], eh[3]]));
            let start = pos + 4;
            let end = start + 4 * words;
            let Some(data) = buf.get(start..end) else {
                return Err(RtpError::TooShort);
            };
            extension = Some((profile, data));
            pos = end;
        }
        let mut payload = &buf[pos..];
        if padding {
            let Some(&count) = payload.last() else {
                return Err(RtpError::BadPadding);
            };
            let count = usize::from(count);
            if count == 0 || count > payload.len() {
                return Err(RtpError::BadPadding);
            }
            payload = &payload[..payload.len() - count];
        }
        Ok(RtpPacket {
            header,
            csrc_count,
            extension,
            payload,
        })
    }
}

/// Writes a header followed by `payload` into `out`; returns the length.
pub fn build_packet(header: &RtpHeader, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpError> {
    let total = RtpHeader::LEN + payload.len();
    if out.len() < total {
        return Err(RtpError::BufferTooSmall);
    }
    header.write(out)?;
    out[RtpHeader::LEN..total].copy_from_slice(payload);
    Ok(total)
}

/// Whether a datagram that arrived on an RTP port is really RTCP (rtcp-mux):
/// RFC 5761 §4 tells them apart by the second byte, where RTCP packet types
/// 192-223 fall and RTP payload types (with the marker bit) do not.
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] >> 6 == 2 && (192..=223).contains(&buf[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3550 §5.1: V=2, P=0, X=0, CC=0, M=1, PT=0, seq=0x1234,
    // ts=0x00000A00, SSRC=0xDEADBEEF, then four payload bytes.
    const PCMU: [u8; 16] = [
        0x80, 0x80, 0x12, 0x34, 0x00, 0x00, 0x0A, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFE, 0x7F,
        0x00,
    ];

    #[test]
    fn parses_fixed_header() {
        let p = RtpPacket::parse(&PCMU).unwrap();
        assert_eq!(
            p.header,
            RtpHeader {
                marker: true,
                payload_type: 0,
                sequence: 0x1234,
                timestamp: 0xA00,
                ssrc: 0xDEADBEEF
            }
        );
        assert_eq!(p.payload, &[0xFF, 0xFE, 0x7F, 0x00]);
        assert_eq!(p.csrc_count, 0);
        assert_eq!(p.extension, None);
    }

    #[test]
    fn builds_the_same_bytes() {
        let p = RtpPacket::parse(&PCMU).unwrap();
        let mut out = [0u8; 32];
        let n = build_packet(&p.header, p.payload, &mut out).unwrap();
        assert_eq!(&out[..n], &PCMU);
        assert_eq!(
            build_packet(&p.header, p.payload, &mut out[..15]),
            Err(RtpError::BufferTooSmall)
        );
    }

    #[test]
    fn skips_csrcs_and_extension_and_padding() {
        // RFC 3550 §5.1 CC=1, §5.3.1 extension of one word, §5.1 P with 2 bytes.
        let pkt = [
            0xB1, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
            0x01, // header, V=2 P X CC=1
            0x00, 0x00, 0x00, 0x02, // CSRC
            0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00, // one-byte extension, 1 word
            0xD5, 0xD5, 0x00, 0x02, // payload + 2 bytes padding
        ];
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.header.payload_type, 8);
        assert_eq!(p.csrc_count, 1);
        assert_eq!(p.extension, Some((0xBEDE, &[0x10, 0xAA, 0x00, 0x00][..])));
        assert_eq!(p.payload, &[0xD5, 0xD5]);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(RtpPacket::parse(&PCMU[..11]), Err(RtpError::TooShort));
        let mut v1 = PCMU;
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::BadVersion(1)));
        let mut cc = PCMU;
        cc[0] = 0x85; // 5 CSRCs announced, 4 bytes present
        assert_eq!(RtpPacket::parse(&cc), Err(RtpError::TooShort));
        let mut ext = PCMU;
        ext[0] = 0x90;
        ext[14] = 0x00;
        ext[15] = 0x05; // extension of 5 words
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::TooShort));
        let mut pad = PCMU;
        pad[0] = 0xA0;
        pad[15] = 0x00; // padding count 0
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding));
        pad[15] = 0x09; // more padding than payload
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding));
    }

    #[test]
    fn tells_rtcp_from_rtp() {
        // RFC 5761 §4: a receiver report (PT 201) and a sender report (200).
        assert!(is_rtcp(&[0x81, 0xC9, 0x00, 0x07]));
        assert!(is_rtcp(&[0x80, 0xC8, 0x00, 0x06]));
        assert!(!is_rtcp(&PCMU));
        assert!(!is_rtcp(&[0x80, 0x65])); // PT 101 (telephone-event)
    }

    proptest::proptest! {
        /// Network input: any bytes parse to a packet or an error, never a
        /// panic, and a parsed payload always lies inside the datagram.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1600)) {
            if let Ok(p) = RtpPacket::parse(&bytes) {
                proptest::prop_assert!(p.payload.len() + RtpHeader::LEN <= bytes.len());
            }
            let _ = is_rtcp(&bytes);
        }

        /// RFC 3550 §5.1 fields survive build then parse.
        #[test]
        fn build_parse_round_trip(
            marker: bool,
            pt in 0u8..128,
            sequence: u16,
            timestamp: u32,
            ssrc: u32,
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
        ) {
            let h = RtpHeader { marker, payload_type: pt, sequence, timestamp, ssrc };
            let mut buf = [0u8; 512];
            let n = build_packet(&h, &payload, &mut buf).unwrap();
            let p = RtpPacket::parse(&buf[..n]).unwrap();
            proptest::prop_assert_eq!(p.header, h);
            proptest::prop_assert_eq!(p.payload, &payload[..]);
        }
    }
}
