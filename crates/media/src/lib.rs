//! # obelus-media: the media plane
//!
//! RTP streams, codecs and transcoding, tones, sound files, RFC 4733 DTMF
//! and conference mixing, for the channel driver (`obelus-pjsip`) and the
//! bridges and applications above it. Layer: **media**, below `core`; it
//! knows nothing of SIP: the channel driver turns SDP into
//! [`StreamParams`] and reacts to [`StreamEvent`]s.
//!
//! ## Design
//!
//! Media stays off the signalling path (architecture principle 3).
//! [`MediaEngine::start`] spawns a few OS worker threads (`RtpConfig::workers`);
//! each owns an epoll set holding its streams' RTP and RTCP sockets plus an
//! eventfd doorbell. The handles the signalling side holds ([`Stream`],
//! [`Mixer`]) only queue commands on a channel and ring the doorbell; a
//! worker applies commands between packet batches, so packet processing
//! never takes a lock and signalling never waits on media.
//!
//! - **Batching.** A readable socket is drained with `recvmmsg` into
//!   preallocated buffers; outgoing datagrams are queued and flushed with
//!   one `sendmmsg` per socket run. Nothing allocates per packet: codec
//!   state, resamplers and re-framing FIFOs live in the stream, working
//!   buffers in the worker.
//! - **Locality.** Streams that exchange audio (a [`MediaEngine::link`]
//!   pair, a [`Mixer`]'s participants) are migrated onto one worker, which
//!   relays between them with plain `&mut` access.
//! - **Relay.** Equal codec and ptime: the payload is forwarded as is, under
//!   the outgoing leg's own SSRC with sequence numbers and timestamps mapped
//!   so each leg sees one continuous stream. Otherwise each direction is
//!   decoded, resampled (8 <-> 16 kHz half-band FIR) and re-encoded in the
//!   other leg's packet size. Telephone-events are relayed with the other
//!   leg's payload type.
//! - **Ticks.** Every 20 ms (the epoll timeout aims at the next tick) a
//!   worker runs playback ([`AudioSource`]: [`ToneSource`],
//!   [`SoundSource`]), DTMF sending (RFC 4733 events or in-band tones),
//!   DTMF timeouts and mixing (sum-minus-self at 16 kHz, one encoding per
//!   codec for the silent). Streams asked to detect in-band DTMF decode
//!   what they receive and run it through [`dtmf_detect`].
//! - **Statistics.** Each stream counts what it receives (loss from
//!   sequence numbers, RFC 3550 jitter, SSRCs, octets), reads the remote's
//!   RTCP reports and, for SIP calls, sends its own every 5 s; the worker
//!   publishes the figures in atomics that [`Stream::rtp_stats`] reads.
//! - **Snooping.** [`snoop::SpySink`] taps a stream's two directions into
//!   a lock-free [`pipe`]; [`Stream::whisper`] mixes a pipe's audio back
//!   into one or both directions (ARI snoop channels).
//! - **Generators.** Beside its playback a stream has one generator slot
//!   ([`Stream::generate`]: music on hold, [`Silence`]) that plays when
//!   nothing else does and, as in Asterisk, is ended by a playback; a
//!   mixer has one too, heard by every participant. Muting a stream
//!   ([`Stream::mute`]) drops the audio it receives, sends, or both.
//! - **Safety.** Strict RTP drops packets from anyone but the learned or
//!   configured remote; malformed input is counted, never a panic; events
//!   go out on a bounded channel and are dropped and counted when it is full.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use obelus_media::{Codec, MediaEngine, RtpConfig, StreamParams, ToneSource};
//!
//! let engine = MediaEngine::start(RtpConfig { port_start: 42000, port_end: 43000, ..RtpConfig::default() })?;
//! let caller = engine.open(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
//! let callee = engine.open(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
//! // From the SDP offer and answer:
//! caller.configure(StreamParams { remote: Some("127.0.0.1:4000".parse()?), ..StreamParams::new(Codec::Ulaw) });
//! callee.configure(StreamParams { remote: Some("127.0.0.1:4002".parse()?), ..StreamParams::new(Codec::G722) });
//! let mut events = caller.take_events().expect("first call");
//! engine.link(&caller, &callee)?; // relayed both ways, transcoded per direction
//! caller.play(Box::new(ToneSource::named("ring", 8000)?)); // ringback instead of the callee
//! # drop(events.try_recv());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The building blocks are usable on their own: [`Codec`], [`Encoder`],
//! [`Decoder`], [`Transcoder`], [`Resampler`], [`rtp`], [`rtcp`], [`dtmf`],
//! [`dtmf_detect`] (in-band DTMF), [`talk_detect`] and [`tone_detect`]
//! (`TALK_DETECT`, `TONE_DETECT`), [`tone`],
//! [`sound`], [`mixer`], [`moh`] (music on hold playlists and their
//! per-channel generator).

pub mod analysis;
pub mod audio;
pub mod codec;
pub mod dtmf;
pub mod dtmf_detect;
mod engine;
pub mod error;
pub mod g711;
pub mod mixer;
pub mod moh;
pub mod pipe;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod snoop;
pub mod sound;
pub mod talk_detect;
pub mod tone;
pub mod tone_detect;
pub mod transcode;

pub use audio::{AudioSink, AudioSource, ControlledSource, MonitorSink, PlaybackControl, Silence};
pub use codec::{Codec, Decoder, Encoder};
pub use engine::{
    EngineStats, MediaEngine, Mixer, MuteDirection, RtpConfig, RtpStats, Stream, StreamEvent,
    StreamParams, StreamStats,
};
pub use error::{MediaError, RtpError};
pub use resample::Resampler;
pub use sound::{SoundSource, WavWriter};
pub use tone::ToneSource;
pub use transcode::Transcoder;
