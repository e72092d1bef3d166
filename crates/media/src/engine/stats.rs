//! RTP statistics of one stream, as ARI's `rtp_statistics` and RTCP
//! reports give them: packet and octet counts, loss from sequence numbers
//! (RFC 3550 A.1, A.3), interarrival jitter (A.8), and what the remote's
//! RTCP reports say about how it receives us (loss, jitter, round trip).
//!
//! The worker owns the figures ([`RxStats`], [`RemoteStats`]) and updates
//! them with plain arithmetic per packet; every tick it copies them into
//! [`SharedStats`], atomics a handle reads on request, so neither side
//! ever waits for the other and nothing allocates.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::rtcp::{ReportBlock, SenderInfo};

/// Sequence jump (either way) beyond which a packet starts a new run
/// rather than counting as loss or reordering (RFC 3550 A.1 `MAX_DROPOUT`
/// and `MAX_MISORDER`).
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;

/// Running minimum, maximum, mean and standard deviation of a series
/// (Welford's method: one pass, no history).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Summary {
    count: u64,
    min: f64,
    max: f64,
    mean: f64,
    m2: f64,
}

impl Summary {
    pub(crate) fn add(&mut self, x: f64) {
        self.count += 1;
        if self.count == 1 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// `[min, max, mean, standard deviation]`; zeros before any value.
    pub(crate) fn figures(&self) -> [f64; 4] {
        if self.count == 0 {
            return [0.0; 4];
        }
        let stdev = (self.m2 / self.count as f64).sqrt();
        [self.min, self.max, self.mean, stdev]
    }
}

/// What a stream receives from its remote: RFC 3550's per-source state.
#[derive(Debug, Clone, Default)]
pub(crate) struct RxStats {
    ssrc: Option<u32>,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: Option<u16>,
    received: u64,
    octets: u64,
    /// Relative transit time of the previous packet, in timestamp units.
    transit: Option<u32>,
    /// Interarrival jitter estimate, in timestamp units.
    jitter: f64,
    clock: u32,
    jitter_summary: Summary,
    /// Counts at the previous report, for the per-interval loss.
    expected_prior: u64,
    received_prior: u64,
    loss_summary: Summary,
    /// Middle NTP bits of the remote's last SR and when it arrived (µs).
    last_sr: Option<(u32, u64)>,
}

impl RxStats {
    fn restart(&mut self, ssrc: u32, seq: u16) {
        let clock = self.clock;
        *self = RxStats {
            ssrc: Some(ssrc),
            base_seq: u32::from(seq),
            max_seq: seq,
            clock,
            ..RxStats::default()
        };
    }

    /// Counts one RTP packet of `payload_len` bytes that arrived at
    /// `arrival_us` (µs on any steady clock) for a codec whose RTP clock
    /// runs at `clock` Hz. Returns false for a packet that was not counted
    /// (a jump in sequence numbers waiting for confirmation).
    pub(crate) fn on_packet(
        &mut self,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        payload_len: usize,
        arrival_us: u64,
        clock: u32,
    ) -> bool {
        if self.ssrc != Some(ssrc) || self.clock != clock {
            self.clock = clock;
            self.restart(ssrc, seq);
        } else {
            let delta = seq.wrapping_sub(self.max_seq);
            if delta == 0 {
                // A duplicate: counted (RFC 3550 counts it too), no news.
            } else if delta < MAX_DROPOUT {
                if seq < self.max_seq {
                    self.cycles = self.cycles.wrapping_add(1 << 16);
                }
                self.max_seq = seq;
                self.bad_seq = None;
            } else if delta <= u16::MAX - MAX_MISORDER {
                // A big jump: the source restarted, or this is a stray.
                // Two packets in sequence confirm a restart.
                if self.bad_seq == Some(seq) {
                    self.restart(ssrc, seq);
                } else {
                    self.bad_seq = Some(seq.wrapping_add(1));
                    return false;
                }
            }
        }
        self.received += 1;
        self.octets += payload_len as u64;
        // A.8: D(i-1,i) from the change in relative transit time.
        let arrival = (u128::from(arrival_us) * u128::from(clock) / 1_000_000) as u32;
        let transit = arrival.wrapping_sub(timestamp);
        if let Some(previous) = self.transit {
            let d = f64::from(transit.wrapping_sub(previous) as i32).abs();
            self.jitter += (d - self.jitter) / 16.0;
            self.jitter_summary.add(self.jitter_seconds());
        }
        self.transit = Some(transit);
        true
    }

    /// The jitter estimate in seconds.
    fn jitter_seconds(&self) -> f64 {
        if self.clock == 0 {
            0.0
        } else {
            self.jitter / f64::from(self.clock)
        }
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> u64 {
        if self.ssrc.is_none() {
            return 0;
        }
        u64::from(self.extended_max().wrapping_sub(self.base_seq)) + 1
    }

    /// Packets lost since reception began: expected less received (RFC
    /// 3550 A.3), so duplicates offset losses; never negative here.
    pub(crate) fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Notes an SR from the remote, for the LSR/DLSR of our next report.
    pub(crate) fn on_sender_report(&mut self, info: &SenderInfo, arrival_us: u64) {
        self.last_sr = Some((crate::rtcp::ntp_middle(info.ntp), arrival_us));
    }

    /// The report block about the remote for our next RTCP report (none
    /// before it has sent anything), closing a loss interval.
    pub(crate) fn report_block(&mut self, now_us: u64) -> Option<ReportBlock> {
        let ssrc = self.ssrc?;
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        let lost_interval = expected_interval.saturating_sub(received_interval);
        self.expected_prior = expected;
        self.received_prior = self.received;
        self.loss_summary.add(lost_interval as f64);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => {
                let delay = now_us.saturating_sub(at).saturating_mul(65536) / 1_000_000;
                (lsr, u32::try_from(delay).unwrap_or(u32::MAX))
            }
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: i32::try_from(self.lost()).unwrap_or(i32::MAX),
            highest_seq: self.extended_max(),
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        })
    }
}

/// What the remote's RTCP reports say about how it receives us.
#[derive(Debug, Clone, Default)]
pub(crate) struct RemoteStats {
    /// The last report's cumulative loss.
    lost: u64,
    /// The last report's jitter, in seconds.
    jitter: f64,
    jitter_summary: Summary,
    loss_summary: Summary,
    /// The last round trip time, in seconds.
    rtt: f64,
    rtt_summary: Summary,
    /// The previous report's cumulative loss, for the per-report loss.
    lost_prior: u64,
}

impl RemoteStats {
    /// A report block about our stream, with our RTP clock rate and the
    /// round trip it gave (if any).
    pub(crate) fn on_block(&mut self, block: &ReportBlock, clock: u32, rtt: Option<f64>) {
        self.lost = u64::try_from(block.cumulative_lost).unwrap_or(0);
        self.loss_summary
            .add(self.lost.saturating_sub(self.lost_prior) as f64);
        self.lost_prior = self.lost;
        self.jitter = f64::from(block.jitter) / f64::from(clock.max(1));
        self.jitter_summary.add(self.jitter);
        if let Some(rtt) = rtt {
            self.rtt = rtt;
            self.rtt_summary.add(rtt);
        }
    }
}

/// The statistics of one stream (ARI's `RTPstat`). Jitter and round trip
/// times are in seconds; the `normdev` figures are means.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RtpStats {
    /// RTP packets sent.
    pub txcount: u64,
    /// RTP packets received from the remote and accepted.
    pub rxcount: u64,
    /// Jitter of what we send, as the remote's last RTCP report gave it.
    pub txjitter: f64,
    /// Interarrival jitter of what we receive (RFC 3550 A.8).
    pub rxjitter: f64,
    /// Largest jitter the remote reported.
    pub remote_maxjitter: f64,
    /// Smallest jitter the remote reported.
    pub remote_minjitter: f64,
    /// Mean of the jitter the remote reported.
    pub remote_normdevjitter: f64,
    /// Standard deviation of the jitter the remote reported.
    pub remote_stdevjitter: f64,
    /// Largest receive jitter measured here.
    pub local_maxjitter: f64,
    /// Smallest receive jitter measured here.
    pub local_minjitter: f64,
    /// Mean receive jitter measured here.
    pub local_normdevjitter: f64,
    /// Standard deviation of the receive jitter measured here.
    pub local_stdevjitter: f64,
    /// Packets of ours the remote reported lost (cumulative).
    pub txploss: u64,
    /// Packets of the remote's lost on the way here (cumulative, from
    /// sequence numbers).
    pub rxploss: u64,
    /// Largest loss between two reports of the remote.
    pub remote_maxrxploss: f64,
    /// Smallest loss between two reports of the remote.
    pub remote_minrxploss: f64,
    /// Mean loss between two reports of the remote.
    pub remote_normdevrxploss: f64,
    /// Standard deviation of the loss between two reports of the remote.
    pub remote_stdevrxploss: f64,
    /// Largest loss here between two of our reports.
    pub local_maxrxploss: f64,
    /// Smallest loss here between two of our reports.
    pub local_minrxploss: f64,
    /// Mean loss here between two of our reports.
    pub local_normdevrxploss: f64,
    /// Standard deviation of the loss here between two of our reports.
    pub local_stdevrxploss: f64,
    /// The last round trip time (from the remote's reports on our SRs).
    pub rtt: f64,
    /// Largest round trip time.
    pub maxrtt: f64,
    /// Smallest round trip time.
    pub minrtt: f64,
    /// Mean round trip time.
    pub normdevrtt: f64,
    /// Standard deviation of the round trip time.
    pub stdevrtt: f64,
    /// Our SSRC.
    pub local_ssrc: u32,
    /// The remote's SSRC (0 before it sent anything).
    pub remote_ssrc: u32,
    /// Payload octets sent.
    pub txoctetcount: u64,
    /// Payload octets received.
    pub rxoctetcount: u64,
}

/// Number of `f64` figures kept in [`SharedStats`].
const FIGURES: usize = 23;

/// The figures a handle reads: copied from the worker's state every tick
/// (the counts the send path keeps are updated per packet).
#[derive(Default)]
pub(crate) struct SharedStats {
    pub(crate) tx_octets: AtomicU64,
    rx_count: AtomicU64,
    rx_octets: AtomicU64,
    rx_lost: AtomicU64,
    tx_lost: AtomicU64,
    /// Local SSRC in the low 32 bits, the remote's above.
    ssrcs: AtomicU64,
    /// `f64` bits, in the order of [`RtpStats`]' floating-point fields.
    figures: [AtomicU64; FIGURES],
}

impl SharedStats {
    /// Copies the worker's figures.
    pub(crate) fn publish(&self, local_ssrc: u32, rx: &RxStats, remote: &RemoteStats) {
        let r = Ordering::Relaxed;
        self.rx_count.store(rx.received, r);
        self.rx_octets.store(rx.octets, r);
        self.rx_lost.store(rx.lost(), r);
        self.tx_lost.store(remote.lost, r);
        let remote_ssrc = rx.ssrc.unwrap_or(0);
        self.ssrcs
            .store(u64::from(remote_ssrc) << 32 | u64::from(local_ssrc), r);
        let [lj_min, lj_max, lj_mean, lj_dev] = rx.jitter_summary.figures();
        let [rj_min, rj_max, rj_mean, rj_dev] = remote.jitter_summary.figures();
        let [ll_min, ll_max, ll_mean, ll_dev] = rx.loss_summary.figures();
        let [rl_min, rl_max, rl_mean, rl_dev] = remote.loss_summary.figures();
        let [rtt_min, rtt_max, rtt_mean, rtt_dev] = remote.rtt_summary.figures();
        let values: [f64; FIGURES] = [
            remote.jitter,
            rx.jitter_seconds(),
            rj_max,
            rj_min,
            rj_mean,
            rj_dev,
            lj_max,
            lj_min,
            lj_mean,
            lj_dev,
            rl_max,
            rl_min,
            rl_mean,
            rl_dev,
            ll_max,
            ll_min,
            ll_mean,
            ll_dev,
            remote.rtt,
            rtt_max,
            rtt_min,
            rtt_mean,
            rtt_dev,
        ];
        for (slot, value) in self.figures.iter().zip(values) {
            slot.store(value.to_bits(), r);
        }
    }

    /// The figures as last published, with the send counts kept per packet.
    pub(crate) fn read(&self, txcount: u64) -> RtpStats {
        let r = Ordering::Relaxed;
        let f: [f64; FIGURES] = std::array::from_fn(|i| f64::from_bits(self.figures[i].load(r)));
        let ssrcs = self.ssrcs.load(r);
        RtpStats {
            txcount,
            rxcount: self.rx_count.load(r),
            txjitter: f[0],
            rxjitter: f[1],
            remote_maxjitter: f[2],
            remote_minjitter: f[3],
            remote_normdevjitter: f[4],
            remote_stdevjitter: f[5],
            local_maxjitter: f[6],
            local_minjitter: f[7],
            local_normdevjitter: f[8],
            local_stdevjitter: f[9],
            txploss: self.tx_lost.load(r),
            rxploss: self.rx_lost.load(r),
            remote_maxrxploss: f[10],
            remote_minrxploss: f[11],
            remote_normdevrxploss: f[12],
            remote_stdevrxploss: f[13],
            local_maxrxploss: f[14],
            local_minrxploss: f[15],
            local_normdevrxploss: f[16],
            local_stdevrxploss: f[17],
            rtt: f[18],
            maxrtt: f[19],
            minrtt: f[20],
            normdevrtt: f[21],
            stdevrtt: f[22],
            local_ssrc: ssrcs as u32,
            remote_ssrc: (ssrcs >> 32) as u32,
            txoctetcount: self.tx_octets.load(r),
            rxoctetcount: self.rx_octets.load(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOCK: u32 = 8000;

    /// Feeds packets `seqs` sent every 20 ms (160 timestamp units), each
    /// arriving at its send time plus `delay_us(i)`.
    fn feed(rx: &mut RxStats, seqs: &[u16], delay_us: impl Fn(usize) -> u64) {
        for (i, &seq) in seqs.iter().enumerate() {
            let ts = u32::from(seq).wrapping_mul(160);
            let sent_us = u64::from(seq) * 20_000;
            rx.on_packet(0xABCD, seq, ts, 160, sent_us + delay_us(i), CLOCK);
        }
    }

    #[test]
    fn steady_packets_have_no_jitter_and_no_loss() {
        let mut rx = RxStats::default();
        let seqs: Vec<u16> = (0..100).collect();
        feed(&mut rx, &seqs, |_| 5_000);
        assert_eq!(rx.received, 100);
        assert_eq!(rx.octets, 16_000);
        assert_eq!(rx.lost(), 0);
        assert!(rx.jitter_seconds().abs() < 1e-9, "{}", rx.jitter);
    }

    #[test]
    fn jitter_converges_as_rfc_3550_a8_says() {
        // Every other packet 10 ms late: |D| is 80 timestamp units for
        // every packet after the first, and J -> 80.
        let mut rx = RxStats::default();
        let seqs: Vec<u16> = (0..400).collect();
        feed(&mut rx, &seqs, |i| if i % 2 == 1 { 10_000 } else { 0 });
        assert!((rx.jitter - 80.0).abs() < 0.5, "{}", rx.jitter);
        assert!((rx.jitter_seconds() - 0.010).abs() < 1e-4);
        // The first step is 80/16 = 5 units.
        let mut one = RxStats::default();
        feed(&mut one, &[0, 1], |i| if i == 1 { 10_000 } else { 0 });
        assert!((one.jitter - 5.0).abs() < 1e-9, "{}", one.jitter);
        let [min, max, ..] = rx.jitter_summary.figures();
        assert!(min < max && max <= 0.010 + 1e-9);
    }

    #[test]
    fn loss_counts_gaps_across_the_sequence_wrap() {
        let mut rx = RxStats::default();
        // 65530..65535, then 0..9 with 3 and 4 missing, 2 duplicated, and
        // 7 arriving late (after 8).
        let seqs: Vec<u16> = (65530..=65535).chain([0, 1, 2, 2, 5, 6, 8, 7, 9]).collect();
        feed(&mut rx, &seqs, |_| 0);
        assert_eq!(rx.expected(), 16);
        assert_eq!(rx.received, 15);
        assert_eq!(rx.extended_max(), (1 << 16) + 9);
        // 3 and 4 are lost, and the duplicate offsets one of them.
        assert_eq!(rx.lost(), 1);
    }

    #[test]
    fn a_restart_needs_two_packets_in_sequence() {
        let mut rx = RxStats::default();
        feed(&mut rx, &[10, 11, 12], |_| 0);
        // A stray far away is not counted...
        assert!(!rx.on_packet(0xABCD, 40_000, 0, 160, 0, CLOCK));
        assert_eq!(rx.received, 3);
        // ...the next one in sequence confirms a new run.
        assert!(rx.on_packet(0xABCD, 40_001, 160, 160, 20_000, CLOCK));
        assert_eq!((rx.received, rx.lost()), (1, 0));
        // A new SSRC starts over at once.
        assert!(rx.on_packet(0x1111, 5, 0, 160, 40_000, CLOCK));
        assert_eq!((rx.ssrc, rx.received), (Some(0x1111), 1));
    }

    #[test]
    fn report_blocks_close_loss_intervals() {
        let mut rx = RxStats::default();
        assert!(rx.report_block(0).is_none());
        let seqs: Vec<u16> = (0..100).filter(|s| s % 10 != 0 || *s == 0).collect();
        feed(&mut rx, &seqs, |_| 0);
        let block = rx.report_block(0).expect("block");
        assert_eq!(block.ssrc, 0xABCD);
        assert_eq!(block.cumulative_lost, 9);
        assert_eq!(block.highest_seq, 99);
        // 9 of 100: 23/256.
        assert_eq!(block.fraction_lost, 23);
        // Nothing new: the next interval lost nothing.
        assert_eq!(rx.report_block(0).expect("block").fraction_lost, 0);
        let [min, max, mean, _] = rx.loss_summary.figures();
        assert_eq!((min, max, mean), (0.0, 9.0, 4.5));
        // An SR from the remote is echoed with the time we held it.
        let info = SenderInfo {
            ntp: 0x0000_1234_5678_0000,
            ..SenderInfo::default()
        };
        rx.on_sender_report(&info, 1_000_000);
        let block = rx.report_block(1_500_000).expect("block");
        assert_eq!(block.last_sr, 0x1234_5678);
        assert_eq!(block.delay_since_last_sr, 0x8000);
    }

    #[test]
    fn shared_figures_read_back() {
        let mut rx = RxStats::default();
        feed(&mut rx, &[0, 1, 3], |_| 0);
        let mut remote = RemoteStats::default();
        let block = ReportBlock {
            cumulative_lost: 4,
            jitter: 80,
            ..ReportBlock::default()
        };
        remote.on_block(&block, CLOCK, Some(0.25));
        remote.on_block(&block, CLOCK, Some(0.75));
        let shared = SharedStats::default();
        shared.publish(0x5555, &rx, &remote);
        let s = shared.read(42);
        assert_eq!((s.txcount, s.rxcount, s.rxploss, s.txploss), (42, 3, 1, 4));
        assert_eq!((s.local_ssrc, s.remote_ssrc), (0x5555, 0xABCD));
        assert_eq!(s.rxoctetcount, 480);
        assert!((s.txjitter - 0.01).abs() < 1e-12);
        assert_eq!(
            (s.rtt, s.minrtt, s.maxrtt, s.normdevrtt),
            (0.75, 0.25, 0.75, 0.5)
        );
        assert!((s.stdevrtt - 0.25).abs() < 1e-12);
        assert_eq!((s.remote_maxrxploss, s.remote_minrxploss), (4.0, 0.0));
    }
}
