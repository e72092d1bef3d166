//! Recordings: `POST /channels/{id}/record` and `/bridges/{id}/record`
//! make live recordings (`/recordings/live/{name}`), which end as stored
//! recordings (`/recordings/stored/{name}`), files under
//! `<astspooldir>/recording/` ([`stored`]).
//!
//! A channel recording takes what the channel's party says, as
//! `ast_play_and_record` reads it: a tap on the receiving side of the
//! channel's media stream (the monitor taps MixMonitor uses, so both can
//! run at once). It is started by the channel's Stasis task, which answers
//! the channel if needed and plays the beep first. A bridge recording
//! takes the bridge's mix from its mixer. Either way a thread
//! ([`writer`]) writes the file and reports how the recording ended.
//!
//! A recording is `queued` until its file is open and the tap attached,
//! then `recording` (and `paused` at will); it ends `done`, `failed` or
//! `canceled` and leaves the list of live recordings. Applications
//! subscribed to the channel or bridge get `RecordingStarted` (also when a
//! pause ends), then `RecordingFinished` or `RecordingFailed`.

mod stored;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use obelus_apps::pbx::Pbx;
use obelus_apps::recording::{Format, Output};
use obelus_core::channel::{Channel, ChannelState, Control as Frame, HungUp};
use obelus_media::{Mixer, SoundSource, Stream};

pub(crate) use stored::{Stored, copy, delete, find, list};

use crate::error::AriError;
use crate::json::{self, Payload};
use crate::params::Params;
use crate::playback::{Notice, Target, notify};
use crate::state::Ari;
use writer::{End, Outcome, Shared};

/// How long `stop` and `cancel` wait for the file to be complete.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// How long past its length a beep may take to end.
const BEEP_SLACK: Duration = Duration::from_secs(2);

/// Where recordings are stored.
pub(crate) fn dir(ari: &Ari) -> std::path::PathBuf {
    stored::dir(&ari.core.settings.dirs.spool)
}

/// What to do when a file of the recording's name exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfExists {
    /// Refuse (409).
    Fail,
    /// Replace it.
    Overwrite,
    /// Record at its end.
    Append,
}

/// Which DTMF key ends a channel recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TerminateOn {
    /// None.
    Never,
    /// Any key.
    Any,
    /// This key.
    Key(char),
}

impl TerminateOn {
    fn matches(self, digit: char) -> bool {
        match self {
            TerminateOn::Never => false,
            TerminateOn::Any => true,
            TerminateOn::Key(key) => key == digit,
        }
    }
}

/// The parameters of a `record` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The name (`sub/dir/name`).
    pub(crate) name: String,
    /// The format (the file's extension).
    pub(crate) format: String,
    /// `maxDurationSeconds`; 0 for none.
    pub(crate) max_duration: u64,
    /// `maxSilenceSeconds`; 0 for none.
    pub(crate) max_silence: u64,
    /// `ifExists`.
    pub(crate) if_exists: IfExists,
    /// `beep`.
    pub(crate) beep: bool,
    /// `terminateOn`.
    pub(crate) terminate_on: TerminateOn,
}

impl Options {
    /// Reads the parameters of `record` (channels and bridges alike):
    /// 400 for a name that leaves the recordings directory or a bad value,
    /// 422 for a format Obelus cannot write (Asterisk's wording).
    pub(crate) fn from_params(p: &Params) -> Result<Options, AriError> {
        let name = p.require("name", "Recording name is required")?.to_owned();
        let format = p
            .require("format", "Recording format is required")?
            .to_owned();
        let seconds = |param: &str| -> Result<u64, AriError> {
            let value = p.int(param).unwrap_or(0);
            u64::try_from(value)
                .map_err(|_| AriError::bad_request(format!("{param} cannot be negative")))
        };
        let max_duration = seconds("maxDurationSeconds")?;
        let max_silence = seconds("maxSilenceSeconds")?;
        let if_exists = match p.string("ifExists").unwrap_or("fail") {
            "fail" => IfExists::Fail,
            "overwrite" => IfExists::Overwrite,
            "append" => IfExists::Append,
            _ => return Err(AriError::bad_request("ifExists invalid")),
        };
        let terminate_on = match p.string("terminateOn").unwrap_or("none") {
            "none" => TerminateOn::Never,
            "any" => TerminateOn::Any,
            "*" => TerminateOn::Key('*'),
            "#" => TerminateOn::Key('#'),
            _ => return Err(AriError::bad_request("terminateOn invalid")),
        };
        if Format::from_extension(&format).is_none() {
            return Err(AriError::unprocessable(
                "specified format is unknown on this system",
            ));
        }
        if stored::relative(&name).is_none() {
            return Err(AriError::bad_request("Recording name invalid"));
        }
        Ok(Options {
            name,
            format,
            max_duration,
            max_silence,
            if_exists,
            beep: p.bool("beep").unwrap_or(false),
            terminate_on,
        })
    }
}

/// Where a live recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Queued,
    Recording,
    Paused,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Recording => "recording",
            State::Paused => "paused",
        }
    }
}

/// One live recording.
struct Live {
    options: Options,
    target: Target,
    target_uri: String,
    state: State,
    /// Its start is under way: stopping it goes through the writer.
    claimed: bool,
    shared: Arc<Shared>,
}

impl Live {
    fn json(&self, state: &'static str) -> json::LiveRecording {
        json::LiveRecording {
            name: self.options.name.clone(),
            format: self.options.format.clone(),
            state,
            target_uri: self.target_uri.clone(),
            duration: None,
            talking_duration: None,
            silence_duration: None,
            cause: None,
        }
    }
}

/// What a REST `record` asks to record.
enum Source {
    Stream(Arc<Stream>),
    Mixer(Arc<Mixer>),
}

/// A control operation on a live recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `POST .../pause`.
    Pause,
    /// `DELETE .../pause`.
    Unpause,
    /// `POST .../mute`.
    Mute,
    /// `DELETE .../mute`.
    Unmute,
}

/// The live recordings, by name.
#[derive(Default)]
pub(crate) struct Recordings {
    map: Mutex<HashMap<String, Live>>,
}

impl Recordings {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a queued recording: 409 when one of that name is live, or
    /// when its file exists and `ifExists` is `fail`.
    pub(crate) fn create(
        &self,
        ari: &Ari,
        options: Options,
        target: Target,
        target_uri: String,
    ) -> Result<json::LiveRecording, AriError> {
        let exists = || {
            AriError::conflict(format!(
                "Recording '{}' already exists and can not be overwritten",
                options.name
            ))
        };
        let file = stored::file(&dir(ari), &options.name, &options.format)
            .ok_or_else(|| AriError::bad_request("Recording name invalid"))?;
        let mut map = self.lock();
        if map.contains_key(&options.name) {
            return Err(exists());
        }
        if options.if_exists == IfExists::Fail && file.exists() {
            return Err(exists());
        }
        let live = Live {
            options,
            target,
            target_uri,
            state: State::Queued,
            claimed: false,
            shared: Arc::default(),
        };
        let json = live.json(live.state.name());
        map.insert(live.options.name.clone(), live);
        Ok(json)
    }

    /// Forgets a recording that could not be queued.
    pub(crate) fn discard(&self, name: &str) {
        self.lock().remove(name);
    }

    /// The live recording `name` as `GET /recordings/live/{name}` shows it.
    pub(crate) fn get(&self, name: &str) -> Option<json::LiveRecording> {
        self.lock().get(name).map(|l| l.json(l.state.name()))
    }

    /// Whether a channel is being recorded (it may not join a bridge).
    pub(crate) fn is_recording(&self, uniqueid: &str) -> bool {
        self.lock()
            .values()
            .any(|l| matches!(&l.target, Target::Channel(c) if c == uniqueid))
    }

    /// Takes a queued recording for its start; `None` when it was
    /// canceled meanwhile.
    fn claim(&self, name: &str) -> Option<(Options, Arc<Shared>)> {
        let mut map = self.lock();
        let live = map.get_mut(name)?;
        live.claimed = true;
        Some((live.options.clone(), Arc::clone(&live.shared)))
    }

    /// The file is open and the tap attached: `recording`.
    fn started(&self, ari: &Ari, name: &str) {
        let notice = {
            let mut map = self.lock();
            let Some(live) = map.get_mut(name) else {
                return;
            };
            live.state = State::Recording;
            Notice {
                payload: Payload::RecordingStarted {
                    recording: live.json(live.state.name()),
                },
                target: live.target.clone(),
            }
        };
        notify(ari, vec![notice]);
    }

    /// The recording could not be made: `RecordingFailed` with `cause`.
    fn fail(&self, ari: &Ari, name: &str, cause: &str) {
        tracing::warn!("Recording '{name}' failed: {cause}");
        let Some(live) = self.lock().remove(name) else {
            return;
        };
        let mut recording = live.json("failed");
        recording.cause = Some(cause.to_owned());
        notify(
            ari,
            vec![Notice {
                payload: Payload::RecordingFailed { recording },
                target: live.target,
            }],
        );
        // Only now: whoever waits for the end (the channel leaving Stasis)
        // goes on after the event.
        live.shared.set_done();
    }

    /// The writer ended: the recording leaves the list, with its event.
    fn finished(&self, ari: &Ari, name: &str, outcome: Outcome) {
        let Some(live) = self.lock().remove(name) else {
            return;
        };
        let state = match (&outcome.end, &outcome.error) {
            (End::Canceled, _) => "canceled",
            (End::Done, Some(_)) => "failed",
            (End::Done, None) => "done",
        };
        let mut recording = live.json(state);
        recording.duration = Some(outcome.seconds);
        if live.options.max_silence > 0 {
            recording.talking_duration = Some(outcome.talking);
            recording.silence_duration = Some(outcome.seconds.saturating_sub(outcome.talking));
        }
        let payload = match outcome.error {
            Some(cause) => {
                recording.cause = Some(cause);
                Payload::RecordingFailed { recording }
            }
            None => Payload::RecordingFinished { recording },
        };
        notify(
            ari,
            vec![Notice {
                payload,
                target: live.target,
            }],
        );
        // After the event, so that `StasisEnd` follows it.
        live.shared.set_done();
    }

    /// `POST .../stop` (the file is kept) and `DELETE` (`cancel`: it is
    /// deleted). Answers once the file is complete (or gone), so a client
    /// may fetch it at once; a recording still queued simply never starts.
    pub(crate) async fn stop(&self, ari: &Ari, name: &str, cancel: bool) -> Result<(), AriError> {
        let mut done = {
            let mut map = self.lock();
            let live = map
                .get(name)
                .ok_or_else(|| AriError::not_found("Recording not found"))?;
            if live.claimed {
                live.shared.stop(cancel);
                live.shared.done()
            } else {
                let Some(live) = map.remove(name) else {
                    return Ok(());
                };
                drop(map);
                notify(
                    ari,
                    vec![Notice {
                        payload: Payload::RecordingFinished {
                            recording: live.json("canceled"),
                        },
                        target: live.target,
                    }],
                );
                live.shared.set_done();
                return Ok(());
            }
        };
        if tokio::time::timeout(CLOSE_WAIT, done.wait_for(|d| *d))
            .await
            .is_err()
        {
            tracing::warn!("Recording '{name}' did not end in time");
        }
        Ok(())
    }

    /// Pause, unpause, mute, unmute: 404 without such a recording, 409
    /// while it is not recording yet.
    pub(crate) fn control(&self, ari: &Ari, name: &str, op: Operation) -> Result<(), AriError> {
        let notice = {
            let mut map = self.lock();
            let live = map
                .get_mut(name)
                .ok_or_else(|| AriError::not_found("Recording not found"))?;
            match (live.state, op) {
                (State::Queued, _) => {
                    return Err(AriError::conflict("Recording not in session"));
                }
                (State::Recording, Operation::Pause) => {
                    live.state = State::Paused;
                    live.shared.set_paused(true);
                    None
                }
                (State::Paused, Operation::Unpause) => {
                    live.state = State::Recording;
                    live.shared.set_paused(false);
                    Some(Notice {
                        payload: Payload::RecordingStarted {
                            recording: live.json(live.state.name()),
                        },
                        target: live.target.clone(),
                    })
                }
                (_, Operation::Pause | Operation::Unpause) => None,
                (_, Operation::Mute | Operation::Unmute) => {
                    live.shared.set_muted(op == Operation::Mute);
                    None
                }
            }
        };
        notify(ari, notice.into_iter().collect());
        Ok(())
    }

    /// A DTMF key on a channel: recordings that end on it stop.
    pub(crate) fn dtmf(&self, uniqueid: &str, digit: char) {
        for live in self.lock().values() {
            if matches!(&live.target, Target::Channel(c) if c == uniqueid)
                && live.state != State::Queued
                && live.options.terminate_on.matches(digit)
            {
                live.shared.stop(false);
            }
        }
    }

    /// A channel left Stasis, or a bridge is being destroyed: its
    /// recordings stop, and are complete when this returns, so their
    /// events come first (as in Asterisk, where a channel's recording ends
    /// before it leaves); those never started fail with `why`.
    pub(crate) async fn target_gone(&self, ari: &Ari, target: &Target, why: &str) {
        let (running, unstarted) = {
            let map = self.lock();
            let mut running = Vec::new();
            let mut unstarted = Vec::new();
            for (name, live) in map.iter().filter(|(_, l)| l.target == *target) {
                if live.claimed {
                    live.shared.stop(false);
                    running.push((name.clone(), live.shared.done()));
                } else {
                    unstarted.push(name.clone());
                }
            }
            (running, unstarted)
        };
        for name in unstarted {
            self.fail(ari, &name, why);
        }
        for (name, mut done) in running {
            if tokio::time::timeout(CLOSE_WAIT, done.wait_for(|d| *d))
                .await
                .is_err()
            {
                tracing::warn!("Recording '{name}' did not end in time");
            }
        }
    }
}

/// `/ari/recordings/live/<name>`, the name URI-encoded (`/` included).
pub(crate) fn location(name: &str) -> String {
    let mut out = String::from("/ari/recordings/live/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Starts recording `name` on a channel, on the channel's Stasis task:
/// refuses a bridged channel, answers it if needed, plays the beep if
/// asked, then attaches the recording. Frames that arrive meanwhile are
/// left in `frames` for the task to handle.
pub(crate) async fn start_on_channel(
    ari: &Arc<Ari>,
    pbx: &mut Pbx,
    name: &str,
    frames: &mut Vec<Frame>,
) -> Result<(), HungUp> {
    let Some((options, shared)) = ari.recordings.claim(name) else {
        return Ok(());
    };
    let channel = Arc::clone(&pbx.channel);
    if channel.bridge().is_some() {
        ari.recordings
            .fail(ari, name, "Cannot record channel while in bridge");
        return Ok(());
    }
    if channel.state() != ChannelState::Up && channel.answer().await.is_err() {
        ari.recordings.fail(ari, name, "Failed to answer channel");
        return Ok(());
    }
    let Some(stream) = channel.driver().media() else {
        ari.recordings
            .fail(ari, name, "Channel has no media to record");
        return Ok(());
    };
    if options.beep {
        let beeped = beep_channel(ari, pbx, &stream, frames).await;
        if let Err(hungup) = beeped {
            ari.recordings.fail(ari, name, "Channel hung up");
            return Err(hungup);
        }
    }
    attach(ari, &options, shared, Source::Stream(stream)).await;
    Ok(())
}

/// Plays the beep on a channel and waits for its end.
async fn beep_channel(
    ari: &Ari,
    pbx: &mut Pbx,
    stream: &Stream,
    frames: &mut Vec<Frame>,
) -> Result<(), HungUp> {
    let Some((sound, length)) = beep(ari, &pbx.channel).await else {
        return Ok(());
    };
    let id = stream.play(Box::new(SoundSource::new(sound)));
    pbx.control
        .wait(length + BEEP_SLACK, |frame| match frame {
            Frame::PlaybackFinished { id: ended, .. } if *ended == id => true,
            other => {
                frames.push(other.clone());
                false
            }
        })
        .await
        .map(|_| ())
}

/// The beep prompt in the channel's language, and its length.
async fn beep(ari: &Ari, channel: &Channel) -> Option<(obelus_media::sound::Sound, Duration)> {
    let data = &ari.core.settings.dirs.data;
    match obelus_apps::sounds::load(data, "beep", &channel.language()).await {
        Ok(found) => {
            let sound = found.sound;
            let ms = sound.samples.len() as u64 * 1000 / u64::from(sound.rate.max(1));
            Some((sound, Duration::from_millis(ms)))
        }
        Err(missing) => {
            tracing::warn!("{}: {missing}", channel.name());
            None
        }
    }
}

/// Starts recording `name` on an ARI bridge's mix, in the background: the
/// members hear the beep first if asked. A bridge that does not mix (a
/// holding bridge) cannot be recorded.
pub(crate) fn start_on_bridge(ari: &Arc<Ari>, name: String, bridge: String) {
    let ari = Arc::clone(ari);
    tokio::spawn(async move {
        let Some((options, shared)) = ari.recordings.claim(&name) else {
            return;
        };
        let Some(mixer) = ari.bridges.mixer(&bridge) else {
            ari.recordings
                .fail(&ari, &name, "Bridge does not mix media to record");
            return;
        };
        if options.beep {
            let members: Vec<Arc<Channel>> = ari
                .bridges
                .members(&bridge)
                .iter()
                .filter_map(|c| ari.core.channels.find(c))
                .collect();
            if let Some(first) = members.first()
                && let Some((sound, length)) = beep(&ari, first).await
            {
                for stream in members.iter().filter_map(|c| c.driver().media()) {
                    stream.play(Box::new(SoundSource::new(sound.clone())));
                }
                tokio::time::sleep(length).await;
            }
        }
        attach(&ari, &options, shared, Source::Mixer(mixer)).await;
    });
}

/// Opens the file, attaches a tap to the source and starts the writer.
async fn attach(ari: &Arc<Ari>, options: &Options, shared: Arc<Shared>, source: Source) {
    let name = options.name.as_str();
    let Some(format) = Format::from_extension(&options.format) else {
        ari.recordings.fail(ari, name, "Unknown format");
        return;
    };
    let Some(path) = stored::file(&dir(ari), name, &options.format) else {
        ari.recordings.fail(ari, name, "Recording name invalid");
        return;
    };
    let rate = format.rate();
    let append = options.if_exists == IfExists::Append;
    let opened = tokio::task::spawn_blocking(move || {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        Output::open(&path.to_string_lossy(), append, rate)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r.map_err(|e| e.to_string()));
    let output = match opened {
        Ok(output) => output,
        Err(e) => {
            ari.recordings
                .fail(ari, name, &format!("Could not open the file: {e}"));
            return;
        }
    };
    let (tap, frames, dropped) = obelus_apps::recording::tap(rate);
    let detach: Box<dyn FnOnce() + Send> = match source {
        Source::Stream(stream) => {
            let id = stream.monitor(Box::new(tap));
            let stream = Arc::downgrade(&stream);
            Box::new(move || {
                if let Some(stream) = stream.upgrade() {
                    stream.stop_monitor(id);
                }
            })
        }
        Source::Mixer(mixer) => {
            let id = mixer.record(Box::new(tap));
            let mixer = Arc::downgrade(&mixer);
            Box::new(move || {
                if let Some(mixer) = mixer.upgrade() {
                    mixer.stop_record(id);
                }
            })
        }
    };
    ari.recordings.started(ari, name);
    let job = writer::Job {
        name: name.to_owned(),
        output,
        rate,
        frames,
        dropped,
        shared,
        max_duration: (options.max_duration > 0).then(|| Duration::from_secs(options.max_duration)),
        max_silence_ms: options.max_silence.saturating_mul(1000),
        detach,
    };
    let weak = Arc::downgrade(ari);
    let finished_name = name.to_owned();
    let spawned = writer::spawn(job, move |outcome| {
        if let Some(ari) = weak.upgrade() {
            ari.recordings.finished(&ari, &finished_name, outcome);
        }
    });
    if let Err(e) = spawned {
        ari.recordings.fail(
            ari,
            name,
            &format!("Cannot start the recording thread: {e}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_encode_the_name() {
        assert_eq!(location("a b/c"), "/ari/recordings/live/a%20b%2Fc");
        assert_eq!(location("take-1.x_y~"), "/ari/recordings/live/take-1.x_y~");
    }

    #[test]
    fn terminate_keys() {
        assert!(TerminateOn::Any.matches('5'));
        assert!(TerminateOn::Key('#').matches('#'));
        assert!(!TerminateOn::Key('#').matches('*'));
        assert!(!TerminateOn::Never.matches('#'));
    }
}
