//! Snoop channels (`res_stasis_snoop`): `Snoop/<id>-<n>` channels whose
//! audio is what a snooped channel says and/or hears (`spy`), and whose
//! own audio is whispered into that channel (`whisper`).
//!
//! A snoop channel's media stream is one of a loopback pair, as a Local
//! channel's is, so it bridges, plays and records like any channel. The
//! other stream of the pair ("the feed") plays the spied audio toward it
//! and records what it sends, which becomes the whisper. Spied audio comes
//! from the snooped stream's monitor taps; both directions cross between
//! media workers through lock-free audio pipes, so the snooped call and
//! its snoop never wait for each other. The snoop hangs up when the
//! snooped channel does.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_core::channel::{
    Cause, Channel, ChannelInit, ChannelState, Driver, Indication, Party, next_sequence,
};
use obelus_core::events::{ChannelEventKind, Event};
use obelus_media::pipe::{PipeSink, PipeSource, audio_pipe};
use obelus_media::snoop::{SnoopDirection, SpySink};
use obelus_media::{Codec, MediaEngine, MediaError, Stream, StreamParams};
use tokio::sync::broadcast::error::RecvError;

use crate::state::Ari;

/// The rate of the audio in the pipes and on the loopback pair.
const RATE: u32 = 16000;
/// Pipe capacity: one second of audio.
const PIPE: usize = RATE as usize;

/// What to snoop on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SnoopSpec {
    /// The directions heard on the snoop channel.
    pub(crate) spy: Option<SnoopDirection>,
    /// The directions the snoop channel's audio goes into.
    pub(crate) whisper: Option<SnoopDirection>,
}

/// The taps on the snooped stream, undone when the snoop hangs up.
struct Taps {
    target: Arc<Stream>,
    monitor: Option<u64>,
    whisper: Option<u64>,
}

/// The driver of a snoop channel.
struct SnoopDriver {
    media: Arc<Stream>,
    feed: Arc<Stream>,
    taps: Mutex<Option<Taps>>,
}

#[async_trait]
impl Driver for SnoopDriver {
    async fn call(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        Err(Cause::CHAN_NOT_IMPLEMENTED)
    }

    async fn answer(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        Ok(())
    }

    async fn indicate(&self, _channel: &Arc<Channel>, _indication: Indication) {}

    async fn hangup(&self, _channel: &Arc<Channel>, _cause: Cause) {
        let taps = self.taps.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(taps) = taps {
            if let Some(id) = taps.monitor {
                taps.target.stop_monitor(id);
            }
            if let Some(id) = taps.whisper {
                taps.target.stop_whisper(id);
            }
        }
        self.feed.stop_playback();
        self.feed.stop_record();
    }

    async fn send_digit(&self, _channel: &Arc<Channel>, _digit: char, _duration_ms: u32) {}

    fn media(&self) -> Option<Arc<Stream>> {
        Some(Arc::clone(&self.media))
    }
}

/// Why a snoop channel could not be made.
#[derive(Debug)]
pub(crate) enum SnoopError {
    /// The snooped channel has no media stream (yet).
    NoMedia,
    /// The media engine is not running or has no ports.
    Media(MediaError),
}

/// Two loopback streams carrying 16 kHz linear audio to each other.
fn loopback(engine: &MediaEngine) -> Result<(Stream, Stream), MediaError> {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (a, b) = (engine.open(ip)?, engine.open(ip)?);
    for (s, to) in [(&a, &b), (&b, &a)] {
        s.configure(StreamParams {
            remote: Some(to.local_addr()),
            dtmf_payload_type: None,
            ..StreamParams::new(Codec::Slin16)
        });
    }
    Ok((a, b))
}

/// Creates the snoop channel on `target` (not yet in any application):
/// named after `target_id`, the id clients know the target by.
pub(crate) fn create(
    ari: &Ari,
    target: &Arc<Channel>,
    target_id: &str,
    spec: SnoopSpec,
) -> Result<Arc<Channel>, SnoopError> {
    let stream = target.driver().media().ok_or(SnoopError::NoMedia)?;
    let engine = ari
        .core
        .service::<MediaEngine>()
        .ok_or(SnoopError::Media(MediaError::Stopped))?;
    let (media, feed) = loopback(&engine).map_err(SnoopError::Media)?;
    let mut taps = Taps {
        target: Arc::clone(&stream),
        monitor: None,
        whisper: None,
    };
    if let Some(direction) = spec.spy {
        let (writer, reader) = audio_pipe(PIPE);
        taps.monitor = Some(stream.monitor(Box::new(SpySink::new(direction, writer, RATE))));
        feed.play(Box::new(PipeSource::new(reader, RATE)));
    }
    if let Some(direction) = spec.whisper {
        let (writer, reader) = audio_pipe(PIPE);
        feed.record(Box::new(PipeSink::new(writer, RATE)));
        taps.whisper = Some(stream.whisper(direction, reader, RATE));
    }
    let driver = SnoopDriver {
        media: Arc::new(media),
        feed: Arc::new(feed),
        taps: Mutex::new(Some(taps)),
    };
    let init = ChannelInit {
        tech: "Snoop",
        resource: target_id.to_owned(),
        state: ChannelState::Up,
        caller: Party::default(),
        context: "default".to_owned(),
        exten: "s".to_owned(),
        language: target.language(),
        accountcode: target.accountcode(),
    };
    let name = format!("Snoop/{target_id}-{:08x}", next_sequence());
    Ok(Channel::create_named(
        &ari.core.channels,
        name,
        init,
        Arc::new(driver),
        None,
    ))
}

/// Hangs `snoop` up once `target` has hung up; returns when either ends
/// (the caller aborts it when the snoop ends first).
pub(crate) async fn follow_target(ari: Arc<Ari>, target: Arc<Channel>, snoop: Arc<Channel>) {
    let mut events = ari.core.events.subscribe();
    drop(ari);
    loop {
        if target.is_hung_up() {
            break;
        }
        match events.recv().await {
            Ok(event) => {
                if let Event::Channel(e) = event.as_ref()
                    && matches!(e.kind, ChannelEventKind::Hangup { .. })
                    && e.channel.uniqueid == target.uniqueid()
                {
                    break;
                }
            }
            // Behind: the loop looks at the channel itself.
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
    snoop.request_hangup(Cause::NORMAL_CLEARING);
}
