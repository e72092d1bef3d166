//! RFC 4733 telephone-events: the payload format, a receiver that turns a
//! packet stream into one begin and one end per key press, and a sender that
//! produces the packet sequence for one digit.
//!
//! Both state machines are sans-IO: the receiver is fed packets and the
//! current time in milliseconds, the sender is polled once per tick, so they
//! are tested without sockets or clocks.

use crate::error::RtpError;

/// The payload of one telephone-event packet (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (§3.2: 0-9, 10 `*`, 11 `#`, 12-15 `A`-`D`, 16 flash).
    pub event: u8,
    /// E bit: the event has ended.
    pub end: bool,
    /// Power level as a positive number of −dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Payload length of one event.
    pub const LEN: usize = 4;

    /// Reads the first four bytes of a payload. The R bit is ignored as §2.3
    /// requires; trailing bytes (RFC 2198 redundancy is not negotiated) too.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, RtpError> {
        let [event, flags, d0, d1, ..] = *payload else {
            return Err(RtpError::TooShort);
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// Writes the four payload bytes into `out`.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtpError> {
        let Some(o) = out.get_mut(..Self::LEN) else {
            return Err(RtpError::BufferTooSmall);
        };
        o[0] = self.event;
        o[1] = (u8::from(self.end) << 7) | (self.volume & 0x3F);
        o[2..4].copy_from_slice(&self.duration.to_be_bytes());
        Ok(Self::LEN)
    }

    /// The payload as an array, for building a packet in place.
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// The RFC 4733 §3.2 event code of a DTMF key (`0-9`, `*`, `#`, `A-D`).
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        c @ '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        c @ 'A'..='D' => Some(c as u8 - b'A' + 12),
        _ => None,
    }
}

/// The DTMF key of an RFC 4733 §3.2 event code, `None` for non-DTMF events.
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// What one received packet (or a timeout) means for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DtmfOutput {
    /// A previous key press ended: digit and duration in milliseconds.
    pub ended: Option<(char, u32)>,
    /// A new key press began.
    pub began: Option<char>,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    timestamp: u32,
    digit: char,
    duration: u16,
    last_seen_ms: u64,
}

/// Turns telephone-event packets into exactly one begin and one end per key
/// press: the three retransmitted end packets (§2.5.1.4) are reported once,
/// an event whose start was lost begins and ends on its first end packet, and
/// one whose end was lost ends on the next event or after a silence of
/// `timeout_ms` ([`DtmfReceiver::poll_timeout`]).
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    clock_rate: u32,
    timeout_ms: u64,
    current: Option<Current>,
    /// Timestamp of the last event that ended, to drop its retransmissions.
    last_ended: Option<u32>,
}

impl DtmfReceiver {
    /// Default silence after which an event without end packets is closed.
    pub const DEFAULT_TIMEOUT_MS: u64 = 1000;

    /// A receiver for events timed in `clock_rate` units (the RTP clock of
    /// the negotiated telephone-event, 8000 for narrowband and G.722).
    pub fn new(clock_rate: u32) -> DtmfReceiver {
        DtmfReceiver {
            clock_rate: clock_rate.max(1),
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            current: None,
            last_ended: None,
        }
    }

    /// Changes the timeout after which an unfinished event is ended.
    pub fn with_timeout_ms(mut self, timeout_ms: u64) -> DtmfReceiver {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Whether a key press is in progress.
    pub fn in_progress(&self) -> bool {
        self.current.is_some()
    }

    fn ms(&self, duration: u16) -> u32 {
        (u64::from(duration) * 1000 / u64::from(self.clock_rate)) as u32
    }

    /// Feeds one packet: its RTP timestamp, its payload and the current time.
    pub fn on_packet(&mut self, timestamp: u32, ev: &TelephoneEvent, now_ms: u64) -> DtmfOutput {
        let mut out = DtmfOutput::default();
        let Some(digit) = event_to_digit(ev.event) else {
            return out;
        };
        if self.last_ended == Some(timestamp) {
            // Retransmitted end, or a late update of an event already closed.
            return out;
        }
        match self.current {
            Some(cur) if cur.timestamp == timestamp => {
                let mut cur = cur;
                cur.duration = cur.duration.max(ev.duration);
                cur.last_seen_ms = now_ms;
                if ev.end {
                    out.ended = Some((cur.digit, self.ms(cur.duration)));
                    self.current = None;
                    self.last_ended = Some(timestamp);
                } else {
                    self.current = Some(cur);
                }
                return out;
            }
            Some(cur) => {
                // A packet of an older event than the current one is late:
                // drop it. A newer one means the current end was lost.
                if (timestamp.wrapping_sub(cur.timestamp) as i32) < 0 {
                    return out;
                }
                out.ended = Some((cur.digit, self.ms(cur.duration)));
                self.last_ended = Some(cur.timestamp);
                self.current = None;
            }
            None => {}
        }
        out.began = Some(digit);
        if ev.end {
            // Start lost: the event is already over.
            out.ended = match out.ended {
                // Cannot report two ends at once; the older one wins and the
                // new short event is reported as begin only, then closed on
                // its next retransmission.
                Some(prev) => {
                    self.current = Some(Current {
                        timestamp,
                        digit,
                        duration: ev.duration,
                        last_seen_ms: now_ms,
                    });
                    Some(prev)
                }
                None => {
                    self.last_ended = Some(timestamp);
                    Some((digit, self.ms(ev.duration)))
                }
            };
        } else {
            self.current = Some(Current {
                timestamp,
                digit,
                duration: ev.duration,
                last_seen_ms: now_ms,
            });
        }
        out
    }

    /// Ends the current event if no packet arrived for the timeout; call it
    /// on every tick.
    pub fn poll_timeout(&mut self, now_ms: u64) -> Option<(char, u32)> {
        let cur = self.current?;
        if now_ms.saturating_sub(cur.last_seen_ms) < self.timeout_ms {
            return None;
        }
        self.current = None;
        self.last_ended = Some(cur.timestamp);
        Some((cur.digit, self.ms(cur.duration)))
    }
}

/// One packet the sender wants on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Set on the first packet of the event (RFC 4733 §2.5.1.1).
    pub marker: bool,
    /// The payload.
    pub event: TelephoneEvent,
}

/// Produces the RFC 4733 §2.5.1 packet sequence of one key press: a first
/// packet with the marker bit, an update every tick with a growing duration,
/// then the end packet three times (§2.5.1.4). All share one RTP timestamp,
/// the caller's timestamp at the start.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    event: u8,
    volume: u8,
    step: u32,
    total: u32,
    elapsed: u32,
    ends_sent: bool,
    started: bool,
    buf: [DtmfPacket; 3],
}

impl DtmfSender {
    /// Default power level: −10 dBm0, as Asterisk sends.
    pub const DEFAULT_VOLUME: u8 = 10;

    /// A sender for `digit` lasting `duration_ms`, with `clock_rate` RTP
    /// units per second and one update per `tick_ms`. `None` for a character
    /// that is not a DTMF key. The duration is clamped to what fits in the
    /// 16-bit field and to at least one tick.
    pub fn new(digit: char, duration_ms: u32, clock_rate: u32, tick_ms: u32) -> Option<DtmfSender> {
        let event = digit_to_event(digit)?;
        let step = (clock_rate * tick_ms.max(1) / 1000).max(1);
        let total = ((u64::from(duration_ms) * u64::from(clock_rate) / 1000) as u32)
            .clamp(step, u32::from(u16::MAX));
        let blank = DtmfPacket {
            marker: false,
            event: TelephoneEvent {
                event,
                end: false,
                volume: 0,
                duration: 0,
            },
        };
        Some(DtmfSender {
            event,
            volume: Self::DEFAULT_VOLUME,
            step,
            total,
            elapsed: 0,
            ends_sent: false,
            started: false,
            buf: [blank; 3],
        })
    }

    /// Total duration of the event in RTP units: the caller advances its
    /// media timestamp by this much once the event is over.
    pub fn total_duration(&self) -> u32 {
        self.total
    }

    /// Whether all packets, including the three ends, have been produced.
    pub fn finished(&self) -> bool {
        self.ends_sent
    }

    /// The packets for the current tick: one update, or the three end
    /// packets on the last tick, or nothing once finished.
    pub fn tick(&mut self) -> &[DtmfPacket] {
        if self.ends_sent {
            return &[];
        }
        self.elapsed = (self.elapsed + self.step).min(self.total);
        let ev = TelephoneEvent {
            event: self.event,
            end: false,
            volume: self.volume,
            duration: self.elapsed as u16,
        };
        let marker = !self.started;
        self.started = true;
        if self.elapsed >= self.total {
            self.ends_sent = true;
            let end = DtmfPacket {
                marker,
                event: TelephoneEvent { end: true, ..ev },
            };
            self.buf = [
                end,
                DtmfPacket {
                    marker: false,
                    ..end
                },
                DtmfPacket {
                    marker: false,
                    ..end
                },
            ];
            &self.buf[..3]
        } else {
            self.buf[0] = DtmfPacket { marker, event: ev };
            &self.buf[..1]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_bytes() {
        // RFC 4733 §2.3: event 5, E=1, R=0, volume 10, duration 800 (100 ms at 8 kHz).
        let bytes = [0x05, 0x8A, 0x03, 0x20];
        let ev = TelephoneEvent::parse(&bytes).unwrap();
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(ev.to_bytes(), bytes);
        let mut out = [0u8; 4];
        assert_eq!(ev.write(&mut out), Ok(4));
        assert_eq!(out, bytes);
        // The R bit (0x40) is ignored on receipt.
        let r = TelephoneEvent::parse(&[0x0B, 0x4A, 0x00, 0xA0]).unwrap();
        assert_eq!(
            r,
            TelephoneEvent {
                event: 11,
                end: false,
                volume: 10,
                duration: 160
            }
        );
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), Err(RtpError::TooShort));
        assert_eq!(ev.write(&mut out[..3]), Err(RtpError::BufferTooSmall));
    }

    #[test]
    fn event_codes() {
        // RFC 4733 §3.2, Table 7.
        let keys = "0123456789*#ABCD";
        for (code, key) in keys.chars().enumerate() {
            assert_eq!(digit_to_event(key), Some(code as u8));
            assert_eq!(event_to_digit(code as u8), Some(key));
        }
        assert_eq!(digit_to_event('a'), Some(12));
        assert_eq!(digit_to_event('E'), None);
        assert_eq!(event_to_digit(16), None);
    }

    fn ev(event: u8, end: bool, duration: u16) -> TelephoneEvent {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
    }

    #[test]
    fn one_begin_and_one_end_per_press() {
        let mut r = DtmfReceiver::new(8000);
        let ts = 1000;
        assert_eq!(r.on_packet(ts, &ev(1, false, 160), 0).began, Some('1'));
        assert_eq!(
            r.on_packet(ts, &ev(1, false, 320), 20),
            DtmfOutput::default()
        );
        assert_eq!(
            r.on_packet(ts, &ev(1, false, 480), 40),
            DtmfOutput::default()
        );
        let end = r.on_packet(ts, &ev(1, true, 800), 60);
        assert_eq!(end.ended, Some(('1', 100)));
        assert_eq!(end.began, None);
        // The two retransmitted ends are ignored.
        assert_eq!(
            r.on_packet(ts, &ev(1, true, 800), 60),
            DtmfOutput::default()
        );
        assert_eq!(
            r.on_packet(ts, &ev(1, true, 800), 61),
            DtmfOutput::default()
        );
        assert!(!r.in_progress());
    }

    #[test]
    fn lost_start_and_lost_end() {
        let mut r = DtmfReceiver::new(8000);
        // Only end packets arrive: begin and end together.
        let out = r.on_packet(500, &ev(10, true, 400), 0);
        assert_eq!(
            out,
            DtmfOutput {
                ended: Some(('*', 50)),
                began: Some('*')
            }
        );
        // A new event arrives while another is running: the old one ends.
        assert_eq!(r.on_packet(2000, &ev(2, false, 160), 100).began, Some('2'));
        let out = r.on_packet(4000, &ev(3, false, 160), 200);
        assert_eq!(
            out,
            DtmfOutput {
                ended: Some(('2', 20)),
                began: Some('3')
            }
        );
        // Late packet of the old event is dropped.
        assert_eq!(
            r.on_packet(2000, &ev(2, false, 320), 210),
            DtmfOutput::default()
        );
        // Silence: the timeout closes it.
        assert_eq!(r.poll_timeout(500), None);
        assert_eq!(r.poll_timeout(1200), Some(('3', 20)));
        assert_eq!(r.poll_timeout(5000), None);
        // Its end packets arriving later are not reported again.
        assert_eq!(
            r.on_packet(4000, &ev(3, true, 800), 5000),
            DtmfOutput::default()
        );
    }

    #[test]
    fn non_dtmf_events_are_ignored() {
        let mut r = DtmfReceiver::new(8000);
        assert_eq!(
            r.on_packet(1, &ev(16, false, 160), 0),
            DtmfOutput::default()
        );
    }

    #[test]
    fn sender_sequence() {
        // 100 ms at 8 kHz with 20 ms ticks: 4 updates then 3 ends, RFC 4733 §2.5.1.
        let mut s = DtmfSender::new('5', 100, 8000, 20).unwrap();
        let mut seen = Vec::new();
        while !s.finished() {
            seen.extend_from_slice(s.tick());
        }
        assert_eq!(seen.len(), 7);
        assert!(seen[0].marker);
        assert!(seen[1..].iter().all(|p| !p.marker));
        let durations: Vec<u16> = seen.iter().map(|p| p.event.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        assert!(seen[..4].iter().all(|p| !p.event.end));
        assert!(seen[4..].iter().all(|p| p.event.end && p.event.event == 5));
        assert!(s.tick().is_empty());
        assert_eq!(s.total_duration(), 800);
        assert!(DtmfSender::new('x', 100, 8000, 20).is_none());
    }

    #[test]
    fn sender_feeds_receiver() {
        let mut s = DtmfSender::new('#', 240, 8000, 20).unwrap();
        let mut r = DtmfReceiver::new(8000);
        let mut begins = 0;
        let mut ends = Vec::new();
        let mut t = 0;
        while !s.finished() {
            for p in s.tick() {
                let o = r.on_packet(77, &p.event, t);
                begins += usize::from(o.began.is_some());
                ends.extend(o.ended);
            }
            t += 20;
        }
        assert_eq!(begins, 1);
        assert_eq!(ends, [('#', 240)]);
    }

    proptest::proptest! {
        /// Random telephone-event payloads and packet orders never panic, and
        /// every reported end belongs to a reported begin.
        #[test]
        fn random_streams_are_safe(
            packets in proptest::collection::vec(
                (0u32..6, proptest::collection::vec(proptest::num::u8::ANY, 0..8), 0u64..50),
                0..200,
            )
        ) {
            let mut r = DtmfReceiver::new(8000);
            let (mut begins, mut ends) = (0usize, 0usize);
            let mut now = 0;
            for (ts, payload, dt) in packets {
                now += dt;
                if let Ok(ev) = TelephoneEvent::parse(&payload) {
                    let out = r.on_packet(ts * 800, &ev, now);
                    begins += usize::from(out.began.is_some());
                    ends += usize::from(out.ended.is_some());
                }
                ends += usize::from(r.poll_timeout(now).is_some());
                proptest::prop_assert!(ends <= begins);
                proptest::prop_assert!(begins <= ends + 1);
            }
        }
    }
}
