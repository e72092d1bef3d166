//! A stream's generator (Asterisk's channel generator: music on hold, the
//! silence generator) and muting.
//!
//! The generator is a second audio source under the playback: it plays
//! whenever no playback or DTMF does, replacing linked or mixed audio, and
//! a new playback ends it, as Asterisk's file streaming deactivates the
//! channel's generator. Muting drops whole directions of a stream's audio
//! on the spot; DTMF events pass.

use super::{Scratch, Slot, StreamState};
use crate::audio::AudioSource;
use crate::engine::io::SendQueue;
use crate::engine::stream::MuteDirection;

impl StreamState {
    /// Makes `src` the generator, replacing any.
    pub(in crate::engine) fn generate(&mut self, id: u64, src: Box<dyn AudioSource>) {
        self.generator = Some(self.source(id, src));
    }

    /// Ends the generator if it is still generator `id`.
    pub(in crate::engine) fn stop_generator(&mut self, id: u64) {
        if self.generator.as_ref().is_some_and(|g| g.id == id) {
            self.generator = None;
            self.out.producer = super::Producer::None;
        }
    }

    /// Mutes or unmutes the directions `direction` covers.
    pub(in crate::engine) fn set_mute(&mut self, direction: MuteDirection, on: bool) {
        if direction.incoming() {
            self.mute_in = on;
        }
        if direction.outgoing() {
            self.mute_out = on;
            // Unmuted audio starts a new talk spurt, its timestamps counting
            // the muted time.
            self.out.producer = super::Producer::None;
        }
    }

    /// The generator's part of the tick, when no playback runs.
    pub(super) fn tick_generator(&mut self, q: &mut SendQueue, scratch: &mut Scratch, now_ms: u64) {
        self.tick_source(Slot::Generator, q, scratch, now_ms);
    }

    /// Received audio while incoming audio is muted: only in-band DTMF
    /// detection still hears it.
    pub(super) fn detect_muted(&mut self, payload: &[u8], scratch: &mut Scratch) {
        if self.detects_inband() {
            let n = self.decoder.decode(payload, &mut scratch.pcm);
            self.detect_inband(&scratch.pcm[..n], &mut scratch.resampled);
        }
    }
}
