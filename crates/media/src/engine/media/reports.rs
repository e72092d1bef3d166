//! A stream's RTP statistics and RTCP: counting received packets, taking
//! in the remote's reports, sending ours every [`RTCP_INTERVAL_MS`], and
//! publishing the figures for [`crate::Stream::rtp_stats`].

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

use super::StreamState;
use crate::codec::Codec;
use crate::engine::io::SendQueue;
use crate::engine::stats::{RemoteStats, RxStats};
use crate::rtcp::{self, SenderInfo};
use crate::rtp::RtpHeader;

/// Time between two RTCP reports (Asterisk's default `rtcpinterval`).
const RTCP_INTERVAL_MS: u64 = 5000;

/// A stream's statistics state, owned by its worker.
pub(in crate::engine) struct Reports {
    rx: RxStats,
    remote: RemoteStats,
    /// Something changed since the figures were last published.
    dirty: bool,
    /// When the next RTCP report is due (engine ms); 0 until the first
    /// tick with a remote.
    next_report_ms: u64,
    /// Packets sent when the last report went out: an SR only if more.
    sent_at_report: u64,
    cname: [u8; 32],
    cname_len: usize,
}

impl Reports {
    pub(in crate::engine) fn new(stream_id: u64) -> Reports {
        let mut cname = [0u8; 32];
        let mut cursor = std::io::Cursor::new(&mut cname[..]);
        // 32 bytes hold "obelus-" and 16 hex digits.
        let _ = write!(cursor, "obelus-{stream_id:x}");
        let cname_len = cursor.position() as usize;
        Reports {
            rx: RxStats::default(),
            remote: RemoteStats::default(),
            dirty: true,
            next_report_ms: 0,
            sent_at_report: 0,
            cname,
            cname_len,
        }
    }
}

impl StreamState {
    fn clock(&self) -> u32 {
        self.codec().map_or(8000, Codec::rtp_clock_rate)
    }

    /// Counts an accepted RTP packet (audio or telephone-event).
    pub(super) fn count_received(&mut self, h: &RtpHeader, payload_len: usize, now_us: u64) {
        let clock = self.clock();
        let r = &mut self.reports;
        if r.rx
            .on_packet(h.ssrc, h.sequence, h.timestamp, payload_len, now_us, clock)
        {
            r.dirty = true;
        }
    }

    /// Takes in an RTCP compound packet from the remote: its SRs (echoed
    /// in our next report) and its report blocks about us.
    pub(in crate::engine) fn on_rtcp(&mut self, data: &[u8], now_us: u64) {
        let clock = self.clock();
        let ours = self.out.ssrc;
        let now_middle = rtcp::ntp_middle(rtcp::ntp_now());
        let r = &mut self.reports;
        for report in rtcp::reports(data) {
            if let Some(sender) = report.sender {
                r.rx.on_sender_report(&sender, now_us);
            }
            for block in report.blocks().filter(|b| b.ssrc == ours) {
                let rtt = rtcp::round_trip(&block, now_middle);
                r.remote.on_block(&block, clock, rtt);
            }
            r.dirty = true;
        }
    }

    /// The tick's part: publish the figures if they changed, and send a
    /// report when one is due.
    pub(in crate::engine) fn tick_reports(&mut self, q: &mut SendQueue, now_ms: u64, now_us: u64) {
        if self.reports.dirty {
            self.reports.dirty = false;
            self.shared
                .stats
                .publish(self.out.ssrc, &self.reports.rx, &self.reports.remote);
        }
        if !self.params.as_ref().is_some_and(|p| p.rtcp) {
            return;
        }
        let Some(dest) = self
            .send_to
            .filter(|d| d.port() != 0 && d.port() != u16::MAX)
        else {
            return;
        };
        if self.reports.next_report_ms == 0 {
            self.reports.next_report_ms = now_ms + RTCP_INTERVAL_MS;
            return;
        }
        if now_ms < self.reports.next_report_ms {
            return;
        }
        self.reports.next_report_ms = now_ms + RTCP_INTERVAL_MS;
        self.send_report(q, SocketAddr::new(dest.ip(), dest.port() + 1), now_us);
    }

    fn send_report(&mut self, q: &mut SendQueue, dest: SocketAddr, now_us: u64) {
        let counters = &self.shared.counters;
        let sent = counters.packets_tx.load(Ordering::Relaxed);
        let sender = (sent > self.reports.sent_at_report).then(|| SenderInfo {
            ntp: rtcp::ntp_now(),
            rtp_timestamp: self.out.last_ts,
            packet_count: sent as u32,
            octet_count: self.shared.stats.tx_octets.load(Ordering::Relaxed) as u32,
        });
        self.reports.sent_at_report = sent;
        let block = self.reports.rx.report_block(now_us);
        self.reports.dirty = true;
        let cname = &self.reports.cname[..self.reports.cname_len];
        let buf = q.slot();
        let len = rtcp::write_report(
            self.out.ssrc,
            sender.as_ref(),
            block.as_ref(),
            cname,
            &mut buf[..],
        );
        if len > 0 {
            q.commit(self.shared.rtcp.as_raw_fd(), dest, len);
        }
    }
}
