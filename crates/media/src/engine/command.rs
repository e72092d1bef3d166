//! Commands from handles to workers, and between workers.

use std::sync::Arc;

use super::media::StreamState;
use super::stream::{MuteDirection, StreamParams, StreamShared};
use crate::audio::{AudioSink, AudioSource, MonitorSink};
use crate::pipe::PipeReader;
use crate::snoop::SnoopDirection;

/// One unit of work for a worker, processed between packet batches.
pub(crate) enum Command {
    /// Take ownership of a stream (new, or migrating in), then run the
    /// commands for it that were still waiting at its previous worker.
    Adopt(Box<StreamState>, Vec<(Arc<StreamShared>, StreamCmd)>),
    /// Act on a stream; routed to whichever worker holds it.
    Stream(Arc<StreamShared>, StreamCmd),
    /// Create an empty mixer with this id.
    MixerCreate(u64),
    /// Remove a mixer; its participants go back to being unbridged.
    MixerDestroy(u64),
    /// Attach a sink recording the mix: mixer id, recording id, sink.
    MixerRecord(u64, u64, Box<dyn AudioSink>),
    /// Detach and finish a mix recording: mixer id, recording id.
    MixerStopRecord(u64, u64),
    /// Set (or, with `None`, end) a mixer's generator, heard by everyone.
    MixerGenerate(u64, Option<Box<dyn AudioSource>>),
    /// Leave the loop.
    Stop,
}

pub(crate) enum StreamCmd {
    Remove,
    Configure(StreamParams),
    Link(Arc<StreamShared>),
    Unlink,
    Play(u64, Box<dyn AudioSource>),
    StopPlayback,
    /// Start a generator (music on hold, silence) with this id.
    Generate(u64, Box<dyn AudioSource>),
    /// End the generator with this id, if it is still the one running.
    StopGenerator(u64),
    /// Mute (or unmute) what the stream receives and/or what it sends.
    Mute(MuteDirection, bool),
    Record(Box<dyn AudioSink>),
    StopRecord,
    Monitor(u64, Box<dyn MonitorSink>),
    StopMonitor(u64),
    /// Mix a pipe's audio (at the given rate) into one or both directions.
    Whisper(u64, SnoopDirection, PipeReader, u32),
    StopWhisper(u64),
    Echo(bool),
    /// Forward received telephone-events to the linked stream, or not.
    DtmfRelay(bool),
    SendDtmf(char, u32),
    /// Detect DTMF tones in the received audio, or stop.
    InbandDetect(bool),
    /// Play a DTMF key as its tone pair.
    SendInbandDtmf(char, u32),
    /// Hand the stream over to another worker.
    Migrate(usize),
    MixerAdd(u64),
    MixerRemove(u64),
}
