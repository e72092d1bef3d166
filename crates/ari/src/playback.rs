//! Playbacks: `POST /channels/{id}/play` and `/bridges/{id}/play`, their
//! `Playback` objects and events.
//!
//! A playback walks its list of media URIs (`sound:`, `recording:`,
//! `tone:`, `digits:`, `characters:`, `number:`); each URI becomes one or
//! more parts (`digits:12` is two sound files) played one after another on
//! the media stream of each target channel. Sound files are read and
//! decoded off the media threads before a part starts. On a channel,
//! playbacks queue behind each other as Asterisk's do; on a bridge, a
//! playback is heard by every member at once.
//!
//! Progress comes back through the channels' mailboxes
//! (`PlaybackFinished`), read by the Stasis task of each channel, which
//! calls [`Playbacks::on_finished`].
//!
//! `POST /playbacks/{id}/control` pauses, resumes, restarts or moves a
//! playing playback by `skipms` ([`Playbacks::control`]): every part plays
//! under a [`PlaybackControl`] of its channel, which the media thread obeys
//! on its next tick. A paused playback plays silence and reports `paused`;
//! resuming it reports `PlaybackStarted` again, as Asterisk does.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use obelus_core::channel::Channel;
use obelus_media::sound::Sound;
use obelus_media::{
    AudioSource, ControlledSource, PlaybackControl, SoundSource, Stream, ToneSource,
};

use crate::apps::Interest;
use crate::error::AriError;
use crate::json::{self, Payload};
use crate::state::Ari;

/// The sample rate tones are generated at.
const TONE_RATE: u32 = 8000;

/// What `POST /playbacks/{id}/control` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Start the current media over.
    Restart,
    /// Pause.
    Pause,
    /// Resume.
    Unpause,
    /// Go back `skipms`.
    Reverse,
    /// Go forward `skipms`.
    Forward,
}

impl Operation {
    /// The `operation` parameter's value.
    pub(crate) fn parse(text: &str) -> Option<Operation> {
        Some(match text {
            "restart" => Operation::Restart,
            "pause" => Operation::Pause,
            "unpause" => Operation::Unpause,
            "reverse" => Operation::Reverse,
            "forward" => Operation::Forward,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Operation::Restart => "restart",
            Operation::Pause => "pause",
            Operation::Unpause => "unpause",
            Operation::Reverse => "reverse",
            Operation::Forward => "forward",
        }
    }
}

/// What a playback plays on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A channel, by uniqueid.
    Channel(String),
    /// A bridge, by id.
    Bridge(String),
}

/// One piece of audio.
#[derive(Debug, Clone)]
enum Part {
    Sound(Sound),
    Tone(String),
}

impl Part {
    fn source(&self) -> Option<Box<dyn AudioSource>> {
        match self {
            Part::Sound(sound) => Some(Box::new(SoundSource::new(sound.clone()))),
            Part::Tone(spec) => ToneSource::named(spec, TONE_RATE)
                .ok()
                .map(|t| Box::new(t) as Box<dyn AudioSource>),
        }
    }
}

/// A channel hearing a playback.
struct Member {
    uniqueid: String,
    stream: Arc<Stream>,
    play_id: u64,
    rest: VecDeque<Part>,
    /// Pause, restart and moves, for whichever part is playing.
    control: Arc<PlaybackControl>,
}

struct Entry {
    id: String,
    media: Vec<String>,
    index: usize,
    language: String,
    target: Target,
    target_uri: String,
    state: &'static str,
    members: Vec<Member>,
    stopped: bool,
    /// How far `reverse` and `forward` move, in ms.
    skip_ms: i64,
}

impl Entry {
    fn json(&self) -> json::Playback {
        json::Playback {
            id: self.id.clone(),
            media_uri: self.media.get(self.index).cloned().unwrap_or_default(),
            next_media_uri: self.media.get(self.index + 1).cloned(),
            target_uri: self.target_uri.clone(),
            language: self.language.clone(),
            state: self.state,
        }
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// The playback playing on each channel, and those waiting after it.
    channels: HashMap<String, VecDeque<String>>,
}

/// Every playback not yet finished.
#[derive(Default)]
pub(crate) struct Playbacks {
    inner: Mutex<Inner>,
}

/// What to tell applications about a playback (or a recording) that
/// changed, once the lock is released.
pub(crate) struct Notice {
    pub(crate) payload: Payload,
    pub(crate) target: Target,
}

/// Sends each notice to the applications following its channel or bridge.
pub(crate) fn notify(ari: &Ari, notices: Vec<Notice>) {
    for notice in notices {
        let (channels, bridges) = match &notice.target {
            Target::Channel(c) => (vec![c.as_str()], Vec::new()),
            Target::Bridge(b) => (Vec::new(), vec![b.as_str()]),
        };
        ari.dispatch(
            &notice.payload,
            &Interest {
                channels: &channels,
                bridges: &bridges,
                ..Interest::default()
            },
        );
    }
}

impl Playbacks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a queued playback; 409 if the id is taken. `reverse` and
    /// `forward` will move it by `skip_ms`.
    pub(crate) fn create(
        &self,
        id: String,
        media: Vec<String>,
        language: String,
        target: (Target, String),
        skip_ms: i64,
    ) -> Result<json::Playback, AriError> {
        let (target, target_uri) = target;
        let mut inner = self.lock();
        if inner.entries.contains_key(&id) {
            return Err(AriError::conflict(format!("Playback {id} already exists")));
        }
        let entry = Entry {
            id: id.clone(),
            media,
            index: 0,
            language,
            target,
            target_uri,
            state: "queued",
            members: Vec::new(),
            stopped: false,
            skip_ms,
        };
        let json = entry.json();
        inner.entries.insert(id, entry);
        Ok(json)
    }

    /// The playback as `GET /playbacks/{id}` shows it.
    pub(crate) fn get(&self, id: &str) -> Option<json::Playback> {
        self.lock().entries.get(id).map(Entry::json)
    }

    /// Forgets a playback that could not be queued.
    pub(crate) fn discard(&self, id: &str) {
        self.lock().entries.remove(id);
    }

    /// Starts `id` on a channel, or queues it behind the channel's current
    /// playback. Runs on the channel's Stasis task.
    pub(crate) async fn play_on_channel(&self, ari: &Arc<Ari>, channel: &Arc<Channel>, id: &str) {
        let start = {
            let mut inner = self.lock();
            let queue = inner
                .channels
                .entry(channel.uniqueid().to_owned())
                .or_default();
            queue.push_back(id.to_owned());
            queue.len() == 1
        };
        if start {
            self.start(ari, id, vec![Arc::clone(channel)]).await;
        }
    }

    /// Starts `id` on every member of a bridge at once.
    pub(crate) async fn play_on_bridge(
        &self,
        ari: &Arc<Ari>,
        id: &str,
        members: Vec<Arc<Channel>>,
    ) {
        self.start(ari, id, members).await;
    }

    /// Plays the current media URI of `id` on `channels`.
    async fn start(&self, ari: &Arc<Ari>, id: &str, channels: Vec<Arc<Channel>>) {
        let Some((uri, language, first)) = self.lock().entries.get(id).map(|e| {
            (
                e.media.get(e.index).cloned().unwrap_or_default(),
                e.language.clone(),
                e.index == 0,
            )
        }) else {
            return;
        };
        let resolved = resolve(ari, &uri, &language).await;
        let (notices, next) = self.begin(id, first, &uri, resolved, &channels);
        notify(ari, notices);
        if let (Some(next_id), Some(channel)) = (next, channels.first()) {
            Box::pin(self.start(ari, &next_id, vec![Arc::clone(channel)])).await;
        }
    }

    /// Starts the resolved parts on each channel's stream; a playback
    /// stopped meanwhile, or with nothing to play, finishes at once.
    /// Returns what to announce and the playback queued next.
    fn begin(
        &self,
        id: &str,
        first: bool,
        uri: &str,
        resolved: Result<Vec<Part>, String>,
        channels: &[Arc<Channel>],
    ) -> (Vec<Notice>, Option<String>) {
        let mut notices = Vec::new();
        let mut inner = self.lock();
        let Some(entry) = inner.entries.get_mut(id) else {
            return (notices, None);
        };
        if entry.stopped {
            let next = finish(&mut inner, id, "done", &mut notices);
            return (notices, next);
        }
        entry.state = if first { "playing" } else { "continuing" };
        let json = entry.json();
        notices.push(Notice {
            payload: if first {
                Payload::PlaybackStarted { playback: json }
            } else {
                Payload::PlaybackContinuing { playback: json }
            },
            target: entry.target.clone(),
        });
        entry.state = "playing";
        match resolved {
            Ok(parts) => {
                for channel in channels {
                    let Some(stream) = channel.driver().media() else {
                        tracing::warn!("{}: no media stream to play {uri} on", channel.name());
                        continue;
                    };
                    let mut rest: VecDeque<Part> = parts.iter().cloned().collect();
                    let control = Arc::new(PlaybackControl::default());
                    if let Some(play_id) = play_next(&stream, &mut rest, &control) {
                        entry.members.push(Member {
                            uniqueid: channel.uniqueid().to_owned(),
                            stream,
                            play_id,
                            rest,
                            control,
                        });
                    }
                }
            }
            Err(reason) => tracing::warn!("ARI playback {id}: {reason}"),
        }
        let next = if entry.members.is_empty() {
            finish(&mut inner, id, "failed", &mut notices)
        } else {
            None
        };
        (notices, next)
    }

    /// A playback on a channel's stream ended (the channel's mailbox said
    /// so). Plays the next part, the next URI, or finishes.
    pub(crate) async fn on_finished(
        &self,
        ari: &Arc<Ari>,
        channel: &Arc<Channel>,
        play_id: u64,
        completed: bool,
    ) {
        let mut notices = Vec::new();
        let mut next_uri = None;
        let mut next_queued = None;
        {
            let mut inner = self.lock();
            let found = inner.entries.iter_mut().find_map(|(id, e)| {
                e.members
                    .iter()
                    .position(|m| m.uniqueid == channel.uniqueid() && m.play_id == play_id)
                    .map(|i| (id.clone(), i))
            });
            let Some((id, index)) = found else {
                return;
            };
            let Some(entry) = inner.entries.get_mut(&id) else {
                return;
            };
            let member = &mut entry.members[index];
            if completed
                && !entry.stopped
                && let Some(play_id) = play_next(&member.stream, &mut member.rest, &member.control)
            {
                member.play_id = play_id;
                return;
            }
            entry.members.remove(index);
            if !entry.members.is_empty() {
                return;
            }
            if completed && !entry.stopped && entry.index + 1 < entry.media.len() {
                entry.index += 1;
                next_uri = Some((id, entry.target.clone()));
            } else {
                next_queued = finish(&mut inner, &id, "done", &mut notices);
            }
        }
        notify(ari, notices);
        if let Some((id, target)) = next_uri {
            let channels = self.channels_of(ari, &target, channel);
            self.start(ari, &id, channels).await;
        }
        if let Some(id) = next_queued {
            self.start(ari, &id, vec![Arc::clone(channel)]).await;
        }
    }

    /// The channels a playback's next URI plays on.
    fn channels_of(
        &self,
        ari: &Ari,
        target: &Target,
        fallback: &Arc<Channel>,
    ) -> Vec<Arc<Channel>> {
        match target {
            Target::Channel(_) => vec![Arc::clone(fallback)],
            Target::Bridge(id) => ari
                .bridges
                .members(id)
                .iter()
                .filter_map(|c| ari.core.channels.find(c))
                .collect(),
        }
    }

    /// `DELETE /playbacks/{id}`: stops it (finished as `done`).
    pub(crate) fn stop(&self, ari: &Arc<Ari>, id: &str) -> Result<(), AriError> {
        let mut notices = Vec::new();
        {
            let mut inner = self.lock();
            let entry = inner
                .entries
                .get_mut(id)
                .ok_or_else(|| AriError::not_found("Playback not found"))?;
            entry.stopped = true;
            for member in &mut entry.members {
                member.rest.clear();
                member.stream.stop_playback();
            }
            let idle = entry.members.is_empty();
            let target = entry.target.clone();
            // Waiting behind another playback: it never plays. (The one at
            // the front is being started; its start sees `stopped`.)
            let waiting = idle
                && match &target {
                    Target::Channel(uniqueid) => inner
                        .channels
                        .get(uniqueid)
                        .is_some_and(|q| q.front().is_some_and(|f| f != id)),
                    Target::Bridge(_) => false,
                };
            if waiting {
                finish(&mut inner, id, "done", &mut notices);
            }
        }
        notify(ari, notices);
        Ok(())
    }

    /// `POST /playbacks/{id}/control`: 404 without such a playback, 409
    /// when its state does not allow the operation (Asterisk's table:
    /// a queued playback may only be restarted, a paused one only resumed,
    /// resuming a playing one changes nothing).
    pub(crate) fn control(&self, ari: &Ari, id: &str, op: Operation) -> Result<(), AriError> {
        let notice = {
            let mut inner = self.lock();
            let entry = inner
                .entries
                .get_mut(id)
                .ok_or_else(|| AriError::not_found("Playback not found"))?;
            let refused = || AriError::conflict(format!("Can only {} playing media", op.name()));
            match (entry.state, op) {
                ("paused", Operation::Unpause) => {
                    entry.state = "playing";
                    for m in &entry.members {
                        m.control.set_paused(false);
                    }
                    Some(Notice {
                        payload: Payload::PlaybackStarted {
                            playback: entry.json(),
                        },
                        target: entry.target.clone(),
                    })
                }
                ("queued", Operation::Restart) | ("paused", Operation::Pause) => None,
                ("queued" | "paused", _) => return Err(refused()),
                (_, Operation::Unpause) => None,
                (_, Operation::Pause) => {
                    entry.state = "paused";
                    for m in &entry.members {
                        m.control.set_paused(true);
                    }
                    None
                }
                (_, Operation::Restart) => {
                    for m in &entry.members {
                        m.control.restart();
                    }
                    None
                }
                (_, Operation::Reverse | Operation::Forward) => {
                    let ms = if op == Operation::Reverse {
                        -entry.skip_ms
                    } else {
                        entry.skip_ms
                    };
                    for m in &entry.members {
                        m.control.skip(ms);
                    }
                    None
                }
            }
        };
        notify(ari, notice.into_iter().collect());
        Ok(())
    }

    /// A channel left Stasis: its playbacks end as failed, and it stops
    /// hearing bridge playbacks.
    pub(crate) fn channel_gone(&self, ari: &Arc<Ari>, uniqueid: &str) {
        let mut notices = Vec::new();
        {
            let mut inner = self.lock();
            let queued = inner.channels.remove(uniqueid).unwrap_or_default();
            for id in queued {
                finish(&mut inner, &id, "failed", &mut notices);
            }
            let emptied: Vec<String> = inner
                .entries
                .values_mut()
                .filter_map(|e| {
                    let before = e.members.len();
                    e.members.retain(|m| m.uniqueid != uniqueid);
                    (before > 0 && e.members.is_empty()).then(|| e.id.clone())
                })
                .collect();
            for id in emptied {
                finish(&mut inner, &id, "done", &mut notices);
            }
        }
        notify(ari, notices);
    }
}

/// Starts the next part on a stream, under `control`; `None` when none
/// is left.
fn play_next(
    stream: &Stream,
    rest: &mut VecDeque<Part>,
    control: &Arc<PlaybackControl>,
) -> Option<u64> {
    while let Some(part) = rest.pop_front() {
        if let Some(source) = part.source() {
            let controlled = ControlledSource::new(source, Arc::clone(control));
            return Some(stream.play(Box::new(controlled)));
        }
    }
    None
}

/// Removes a finished playback and says so; on a channel, returns the
/// playback queued next, to be started on that channel.
fn finish(
    inner: &mut Inner,
    id: &str,
    state: &'static str,
    notices: &mut Vec<Notice>,
) -> Option<String> {
    let mut entry = inner.entries.remove(id)?;
    entry.state = state;
    notices.push(Notice {
        payload: Payload::PlaybackFinished {
            playback: entry.json(),
        },
        target: entry.target.clone(),
    });
    let Target::Channel(uniqueid) = &entry.target else {
        return None;
    };
    let queue = inner.channels.get_mut(uniqueid)?;
    if queue.front().is_some_and(|front| front == id) {
        queue.pop_front();
    } else {
        queue.retain(|q| q != id);
        return None;
    }
    let next = queue.front().cloned();
    if next.is_none() {
        inner.channels.remove(uniqueid);
    }
    next
}

/// The file names a media URI plays, or a tone.
async fn resolve(ari: &Ari, uri: &str, language: &str) -> Result<Vec<Part>, String> {
    let (scheme, rest) = uri
        .split_once(':')
        .ok_or_else(|| format!("media URI '{uri}' has no scheme"))?;
    let names = match scheme {
        "sound" => vec![rest.to_owned()],
        "recording" => {
            let dir = crate::recording::dir(ari);
            let name = crate::recording::find(&dir, rest)
                .ok_or_else(|| format!("recording '{rest}' not found"))?;
            vec![name.path.display().to_string()]
        }
        "digits" => rest.chars().filter_map(say_char).collect(),
        "characters" => rest.chars().filter_map(say_char).collect(),
        "number" => say_number(rest)?,
        "tone" => {
            let spec = rest.split(';').next().unwrap_or_default().to_owned();
            ToneSource::named(&spec, TONE_RATE).map_err(|e| e.to_string())?;
            return Ok(vec![Part::Tone(spec)]);
        }
        other => return Err(format!("unknown media scheme '{other}'")),
    };
    if names.is_empty() {
        return Err(format!("nothing to play in '{uri}'"));
    }
    let data = ari.core.settings.dirs.data.clone();
    let mut parts = Vec::with_capacity(names.len());
    for name in names {
        let found = obelus_apps::sounds::load(&data, &name, language)
            .await
            .map_err(|e| e.to_string())?;
        parts.push(Part::Sound(found.sound));
    }
    Ok(parts)
}

/// The prompt saying one character (`say_character_str`).
fn say_char(c: char) -> Option<String> {
    let name = match c.to_ascii_lowercase() {
        d @ '0'..='9' => format!("digits/{d}"),
        l @ 'a'..='z' => format!("letters/{l}"),
        '*' => "digits/star".to_owned(),
        '#' => "digits/pound".to_owned(),
        '-' => "letters/dash".to_owned(),
        ' ' => "letters/space".to_owned(),
        '.' => "letters/dot".to_owned(),
        '@' => "letters/at".to_owned(),
        '$' => "letters/dollar".to_owned(),
        '!' => "letters/exclaimation-point".to_owned(),
        '+' => "letters/plus".to_owned(),
        '=' => "letters/equals".to_owned(),
        '/' => "letters/slash".to_owned(),
        _ => return None,
    };
    Some(name)
}

/// The prompts saying a number in English (`ast_say_number_full_en`).
fn say_number(text: &str) -> Result<Vec<String>, String> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    let mut out = Vec::new();
    if n < 0 {
        out.push("digits/minus".to_owned());
    }
    let n = n.unsigned_abs();
    if n == 0 {
        out.push("digits/0".to_owned());
    } else {
        say_positive(n, &mut out);
    }
    Ok(out)
}

fn say_positive(n: u64, out: &mut Vec<String>) {
    for (unit, name) in [
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1000, "thousand"),
    ] {
        if n >= unit {
            say_positive(n / unit, out);
            out.push(format!("digits/{name}"));
            let rest = n % unit;
            if rest > 0 {
                say_positive(rest, out);
            }
            return;
        }
    }
    if n >= 100 {
        out.push(format!("digits/{}", n / 100));
        out.push("digits/hundred".to_owned());
        if !n.is_multiple_of(100) {
            say_positive(n % 100, out);
        }
    } else if n >= 20 {
        out.push(format!("digits/{}", n / 10 * 10));
        if !n.is_multiple_of(10) {
            out.push(format!("digits/{}", n % 10));
        }
    } else {
        out.push(format!("digits/{n}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_said_in_english() {
        assert_eq!(say_number("0").expect("n"), vec!["digits/0"]);
        assert_eq!(say_number("15").expect("n"), vec!["digits/15"]);
        assert_eq!(say_number("42").expect("n"), vec!["digits/40", "digits/2"]);
        assert_eq!(
            say_number("-1205").expect("n"),
            vec![
                "digits/minus",
                "digits/1",
                "digits/thousand",
                "digits/2",
                "digits/hundred",
                "digits/5"
            ]
        );
        assert!(say_number("x").is_err());
    }

    #[test]
    fn characters_map_to_prompts() {
        let said: Vec<String> = "a1*#".chars().filter_map(say_char).collect();
        assert_eq!(
            said,
            vec!["letters/a", "digits/1", "digits/star", "digits/pound"]
        );
        assert_eq!(say_char('~'), None);
    }
}
