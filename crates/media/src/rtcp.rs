//! RTCP sender and receiver reports (RFC 3550 §6.4) and SDES CNAME
//! (§6.5), read and written in place.
//!
//! Only what call statistics need: a compound packet is walked for SR and
//! RR packets, whose report blocks say how a remote receives us (loss,
//! jitter, and the LSR/DLSR pair that gives the round trip time); the
//! sender info of an SR is kept so our own reports can echo it. Building
//! writes one SR or RR with at most one report block, followed by an SDES
//! CNAME chunk, as RFC 3550 §6.1 asks of every compound packet. Nothing
//! allocates; malformed input ends the walk, never a panic.

use std::time::{SystemTime, UNIX_EPOCH};

/// RTCP packet type of a sender report.
pub const PT_SR: u8 = 200;
/// RTCP packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// RTCP packet type of source descriptions.
pub const PT_SDES: u8 = 202;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// One reception report block (RFC 3550 §6.4.1): how the sender of the
/// report receives the source `ssrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since reception began (24-bit signed).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from
    /// `ssrc` (0: none yet).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// Length of a report block on the wire.
    pub const LEN: usize = 24;

    fn parse(b: &[u8]) -> ReportBlock {
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        // Sign-extend the 24-bit count.
        let lost = (word(4) << 8) as i32 >> 8;
        ReportBlock {
            ssrc: word(0),
            fraction_lost: b[4],
            cumulative_lost: lost,
            highest_seq: word(8),
            jitter: word(12),
            last_sr: word(16),
            delay_since_last_sr: word(20),
        }
    }

    fn write(&self, out: &mut [u8]) {
        let lost = (self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0x00FF_FFFF;
        out[0..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4..8].copy_from_slice(&(u32::from(self.fraction_lost) << 24 | lost).to_be_bytes());
        out[8..12].copy_from_slice(&self.highest_seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        out[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        out[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// The sender info of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// NTP timestamp of the report: seconds since 1900 in the high 32
    /// bits, the fraction in the low 32.
    pub ntp: u64,
    /// The RTP timestamp matching `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent since the sender started.
    pub packet_count: u32,
    /// Payload octets sent since the sender started.
    pub octet_count: u32,
}

/// What one SR or RR of a compound packet said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report<'a> {
    /// The source that sent the report.
    pub ssrc: u32,
    /// The sender info, for an SR.
    pub sender: Option<SenderInfo>,
    /// The report blocks, still encoded; see [`Report::blocks`].
    blocks: &'a [u8],
}

impl<'a> Report<'a> {
    /// The reception report blocks.
    pub fn blocks(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        self.blocks
            .chunks_exact(ReportBlock::LEN)
            .map(ReportBlock::parse)
    }
}

/// Walks the packets of a compound RTCP datagram and returns its SRs and
/// RRs in order. A packet whose header is malformed (not version 2, a
/// length past the end, report blocks that do not fit) ends the walk.
pub fn reports(buf: &[u8]) -> impl Iterator<Item = Report<'_>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        loop {
            if rest.len() < 8 || rest[0] >> 6 != 2 {
                return None;
            }
            let count = usize::from(rest[0] & 0x1F);
            let pt = rest[1];
            let len = 4 * (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1);
            let Some(packet) = rest.get(..len) else {
                rest = &[];
                return None;
            };
            rest = &rest[len..];
            let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
            let (sender, start) = match pt {
                PT_SR if packet.len() >= 28 => {
                    let w = |i: usize| {
                        u32::from_be_bytes([packet[i], packet[i + 1], packet[i + 2], packet[i + 3]])
                    };
                    let info = SenderInfo {
                        ntp: u64::from(w(8)) << 32 | u64::from(w(12)),
                        rtp_timestamp: w(16),
                        packet_count: w(20),
                        octet_count: w(24),
                    };
                    (Some(info), 28)
                }
                PT_RR => (None, 8),
                _ => continue,
            };
            let Some(blocks) = packet.get(start..start + count * ReportBlock::LEN) else {
                rest = &[];
                return None;
            };
            return Some(Report {
                ssrc,
                sender,
                blocks,
            });
        }
    })
}

/// Writes a compound packet: an SR (when `sender` is given) or an RR from
/// `ssrc`, with `block` if any, then an SDES with `cname`. Returns its
/// length, or 0 when `out` is too small.
pub fn write_report(
    ssrc: u32,
    sender: Option<&SenderInfo>,
    block: Option<&ReportBlock>,
    cname: &[u8],
    out: &mut [u8],
) -> usize {
    let cname = &cname[..cname.len().min(255)];
    let head = if sender.is_some() { 28 } else { 8 };
    let report_len = head + block.map_or(0, |_| ReportBlock::LEN);
    // SDES: header, SSRC, CNAME item (type, length, text), END, padding
    // to a 32-bit boundary.
    let sdes_len = (8 + 2 + cname.len() + 1).div_ceil(4) * 4;
    let total = report_len + sdes_len;
    let Some(out) = out.get_mut(..total) else {
        return 0;
    };
    out.fill(0);
    out[0] = 0x80 | u8::from(block.is_some());
    out[1] = if sender.is_some() { PT_SR } else { PT_RR };
    out[2..4].copy_from_slice(&((report_len / 4 - 1) as u16).to_be_bytes());
    out[4..8].copy_from_slice(&ssrc.to_be_bytes());
    if let Some(s) = sender {
        out[8..16].copy_from_slice(&s.ntp.to_be_bytes());
        out[16..20].copy_from_slice(&s.rtp_timestamp.to_be_bytes());
        out[20..24].copy_from_slice(&s.packet_count.to_be_bytes());
        out[24..28].copy_from_slice(&s.octet_count.to_be_bytes());
    }
    if let Some(b) = block {
        b.write(&mut out[head..report_len]);
    }
    let sdes = &mut out[report_len..];
    sdes[0] = 0x81;
    sdes[1] = PT_SDES;
    sdes[2..4].copy_from_slice(&((sdes_len / 4 - 1) as u16).to_be_bytes());
    sdes[4..8].copy_from_slice(&ssrc.to_be_bytes());
    sdes[8] = 1; // CNAME
    sdes[9] = cname.len() as u8;
    sdes[10..10 + cname.len()].copy_from_slice(cname);
    total
}

/// The wall clock as a 64-bit NTP timestamp.
pub fn ntp_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// The middle 32 bits of an NTP timestamp (the LSR of a report block):
/// seconds and fraction in 1/65536 s.
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// The round trip time a report block gives (RFC 3550 §6.4.1): the time
/// `now_middle` the block arrived, less the delay the remote held our SR
/// and the time we sent it. `None` when the block echoes no SR, or the
/// figures are inconsistent (clocks, a forged block).
pub fn round_trip(block: &ReportBlock, now_middle: u32) -> Option<f64> {
    if block.last_sr == 0 {
        return None;
    }
    let rtt = now_middle
        .wrapping_sub(block.last_sr)
        .wrapping_sub(block.delay_since_last_sr);
    // More than a minute is a wrapped (negative) value, not a round trip.
    (rtt < 60 << 16).then(|| f64::from(rtt) / 65536.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sr_with_a_block_and_cname_round_trips() {
        let sender = SenderInfo {
            ntp: 0xE000_0001_8000_0000,
            rtp_timestamp: 160_000,
            packet_count: 1000,
            octet_count: 160_000,
        };
        let block = ReportBlock {
            ssrc: 0x1234_5678,
            fraction_lost: 25,
            cumulative_lost: -3,
            highest_seq: 0x0001_0010,
            jitter: 80,
            last_sr: 0xABCD_0000,
            delay_since_last_sr: 0x0002_0000,
        };
        let mut buf = [0u8; 200];
        let n = write_report(
            0xDEAD_BEEF,
            Some(&sender),
            Some(&block),
            b"obelus",
            &mut buf,
        );
        // SR with one block: 7 + 6 words; SDES: 2 words, then the CNAME
        // item (2 + 6 bytes) and its end, padded to 3 words.
        assert_eq!(n, 52 + 20);
        assert_eq!(n % 4, 0);
        assert_eq!(&buf[..2], &[0x81, 200]);
        let all: Vec<Report<'_>> = reports(&buf[..n]).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].ssrc, 0xDEAD_BEEF);
        assert_eq!(all[0].sender, Some(sender));
        assert_eq!(all[0].blocks().collect::<Vec<_>>(), vec![block]);
    }

    #[test]
    fn an_rr_without_blocks_and_garbage_after_it() {
        let mut buf = [0u8; 100];
        let n = write_report(7, None, None, b"x", &mut buf);
        let all: Vec<Report<'_>> = reports(&buf[..n]).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].sender, None);
        assert_eq!(all[0].blocks().count(), 0);
        // A length past the end stops the walk without a panic.
        let bad = [0x81, 201, 0x00, 0x20, 0, 0, 0, 1];
        assert_eq!(reports(&bad).count(), 0);
        assert_eq!(reports(&[0x81]).count(), 0);
        assert_eq!(write_report(7, None, None, b"x", &mut [0u8; 8]), 0);
    }

    #[test]
    fn round_trip_time_from_lsr_and_dlsr() {
        // RFC 3550 §6.4.1's example: A = 0xb710:8000 (46864.500 s),
        // DLSR = 5.250 s, LSR = 0xb705:2000 (46853.125 s): 6.125 s.
        let block = ReportBlock {
            last_sr: 0xB705_2000,
            delay_since_last_sr: 0x0005_4000,
            ..ReportBlock::default()
        };
        assert_eq!(round_trip(&block, 0xB710_8000), Some(6.125));
        assert_eq!(round_trip(&ReportBlock::default(), 0xB710_8000), None);
        assert_eq!(ntp_middle(0x1122_3344_5566_7788), 0x3344_5566);
    }

    proptest::proptest! {
        /// Network input: any bytes give reports or nothing, never a panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            for r in reports(&bytes) {
                let _ = r.blocks().count();
            }
        }
    }
}
