//! `Milliwatt([options])` (`app_milliwatt.c`): answers and sends a test
//! tone until the caller hangs up, for measuring a line's level and loss:
//! 1004 Hz at Asterisk's milliwatt level, or with option `o` the old
//! 1000 Hz digital milliwatt (a repeated 8-byte µ-law pattern).

use async_trait::async_trait;
use obelus_core::channel::ChannelState;
use obelus_media::AudioSource;
use obelus_media::g711::ulaw_to_linear;

use crate::media::{answer, play_source, stream};
use crate::options::Flags;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Milliwatt`.
pub struct Milliwatt;

/// Peak amplitude Asterisk plays the 1004 Hz tone at
/// (`ast_playtones_start(chan, 23255, "1004/1000", 0)`).
const AMPLITUDE: f64 = 23255.0;
/// The digital milliwatt: one period of 1 kHz at 8 kHz, in µ-law.
const DIGITAL_MILLIWATT: [u8; 8] = [0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e];

/// The tone, generated for ever.
struct Tone {
    /// `None` for the 1004 Hz sine, else the digital milliwatt period.
    pattern: Option<[i16; 8]>,
    /// Samples generated so far (the phase).
    n: u64,
}

impl AudioSource for Tone {
    fn sample_rate(&self) -> u32 {
        8000
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        let len = out.len().min(160);
        for o in &mut out[..len] {
            *o = match &self.pattern {
                Some(p) => p[(self.n % 8) as usize],
                None => {
                    // The phase of 1004 Hz repeats every 2000 samples.
                    let t = (self.n % 2000) as f64;
                    let w = 2.0 * std::f64::consts::PI * 1004.0 / 8000.0;
                    (AMPLITUDE * (w * t).sin()).round() as i16
                }
            };
            self.n += 1;
        }
        len
    }
}

#[async_trait]
impl Application for Milliwatt {
    fn name(&self) -> &'static str {
        "Milliwatt"
    }

    fn synopsis(&self) -> &'static str {
        "Generates a 0 dBm0 tone at 1004 Hz (or the old 1000 Hz digital milliwatt)."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let flags = Flags::parse(args);
        if pbx.channel.state() != ChannelState::Up {
            answer(pbx).await?;
        }
        let pattern = flags
            .has('o')
            .then(|| DIGITAL_MILLIWATT.map(ulaw_to_linear));
        let Some(stream) = stream(pbx) else {
            tracing::warn!(
                "{}: no media stream for the milliwatt tone",
                pbx.channel.name()
            );
            loop {
                pbx.control.recv().await?;
            }
        };
        loop {
            // The tone never ends by itself; only someone else's playback
            // on the stream can stop it, and then it starts again.
            let tone = Box::new(Tone { pattern, n: 0 });
            play_source(pbx, &stream, tone, None, |_| false).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use obelus_core::channel::Cause;
    use obelus_media::analysis::{goertzel_power, signal_power};

    use super::*;
    use crate::pbx::{Pbx, run};
    use crate::testing::executor;
    use crate::testing::media::{media_channel, share};

    #[test]
    fn the_tones_are_at_their_frequencies() {
        let mut frame = [0i16; 160 * 10];
        for (pattern, hz) in [
            (None, 1004.0),
            (Some(DIGITAL_MILLIWATT.map(ulaw_to_linear)), 1000.0),
        ] {
            let mut t = Tone { pattern, n: 0 };
            for chunk in frame.chunks_mut(160) {
                assert_eq!(t.read_frame(chunk), 160);
            }
            let share = goertzel_power(&frame, 8000, hz) / signal_power(&frame);
            assert!(share > 0.9, "{hz} Hz: {share}");
        }
    }

    #[tokio::test]
    async fn sends_1004_hz_until_hangup() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Milliwatt()\n");
        let (channel, driver, peer) = media_channel(&core, "default", "1").await;
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        let mut heard = Vec::new();
        while heard.len() < 8000 {
            heard.extend(peer.recv_audio(Duration::from_secs(5)).await.unwrap());
        }
        assert!(share(&heard, 1004.0) > 0.9, "{}", share(&heard, 1004.0));
        channel.request_hangup(Cause::NORMAL_CLEARING);
        task.await.unwrap();
        assert_eq!(driver.log(), vec!["answer", "hangup 16"]);
    }
}
