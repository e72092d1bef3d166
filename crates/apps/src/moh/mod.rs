//! Music on hold (`res_musiconhold.so`): the classes of
//! `musiconhold.conf`, starting and stopping music on a channel, and the
//! console commands `moh show classes`, `moh show files`, `moh reload`.
//!
//! [`MusicOnHold`] is the service every user of music on hold goes
//! through (`core.service::<MusicOnHold>()`): the dialplan applications
//! (`MusicOnHold`, `StartMusicOnHold`, `StopMusicOnHold`, `Dial(...,m)`),
//! `CHANNEL(musicclass)`, the SIP channel driver when the other party of a
//! bridge puts the call on hold, and ARI (`startMoh`, `stopMoh`,
//! `startSilence`, `stopSilence`). Music plays as the generator of the
//! channel's media stream ([`obelus_media::moh::MohSource`]), so the media
//! threads loop the class's songs, already decoded, for each channel on
//! its own, and a channel that goes back on hold resumes where it left off.
//!
//! Per channel the service keeps `CHANNEL(musicclass)`, what plays now
//! and where each channel is in the last class it heard; the entry goes
//! when the channel hangs up. Starting and stopping publish
//! `MusicOnHoldStart` (with `Class`) and `MusicOnHoldStop` on the bus, as
//! Asterisk's AMI events.

mod classes;
mod cli;
pub mod config;
mod module;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

use obelus_core::channel::Channel;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::events::{ChannelEventKind, Event};
use obelus_core::settings::Settings;
use obelus_media::moh::{Cursor, MohSource};
use obelus_media::{Silence, Stream};

pub use classes::Class;
use config::MohConfig;
pub use module::MusicOnHoldModule;

/// Why music on hold did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MohError {
    /// No class of that name, and no `default` class to fall back on.
    #[error("no music on hold class '{0}' (and no 'default' class)")]
    NoClass(String),
    /// The channel has no media stream to play on (or has hung up).
    #[error("channel {0} has no media stream")]
    NoMedia(String),
}

/// The classes in force, replaced whole by a reload.
#[derive(Debug, Default)]
struct Classes {
    prefer_channel_class: bool,
    list: Vec<Arc<Class>>,
}

impl Classes {
    fn get(&self, name: &str) -> Option<&Arc<Class>> {
        self.list.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A generator running on a channel's stream.
#[derive(Debug)]
struct Running {
    stream: Weak<Stream>,
    id: u64,
}

impl Running {
    fn stop(&self) {
        if let Some(stream) = self.stream.upgrade() {
            stream.stop_generator(self.id);
        }
    }
}

/// What the service knows about one channel.
#[derive(Debug, Default)]
struct ChannelMusic {
    /// `CHANNEL(musicclass)`.
    musicclass: String,
    /// The class playing now and its generator.
    playing: Option<(String, Running)>,
    /// Where the channel is in the class it last heard.
    resume: Option<(String, Arc<Cursor>)>,
    /// ARI's silence generator.
    silence: Option<Running>,
}

/// The music on hold service; see the module documentation.
pub struct MusicOnHold {
    data_dir: PathBuf,
    classes: RwLock<Arc<Classes>>,
    channels: Mutex<HashMap<String, ChannelMusic>>,
}

impl MusicOnHold {
    /// A service with no classes yet, finding relative directories under
    /// `data_dir` (astdatadir).
    pub fn new(data_dir: PathBuf) -> Arc<MusicOnHold> {
        Arc::new(MusicOnHold {
            data_dir,
            classes: RwLock::new(Arc::new(Classes::default())),
            channels: Mutex::new(HashMap::new()),
        })
    }

    fn channels(&self) -> MutexGuard<'_, HashMap<String, ChannelMusic>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current(&self) -> Arc<Classes> {
        Arc::clone(&self.classes.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads `musiconhold.conf` and loads every class (reading and decoding
    /// their files; call it on a blocking thread). With an error in the
    /// file nothing changes and the diagnostics say why; otherwise the new
    /// classes replace the old ones (channels on hold keep hearing what
    /// they heard) and the warnings are returned.
    pub fn load(&self, settings: &Settings) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        let (config, mut problems) = MohConfig::load(settings);
        if problems.iter().any(Diagnostic::is_error) {
            return Err(problems);
        }
        self.apply(&config, &mut problems);
        Ok(problems)
    }

    /// Loads the classes of `config`, adding the warnings to `problems`.
    fn apply(&self, config: &MohConfig, problems: &mut Vec<Diagnostic>) {
        let mut list = Vec::new();
        for class_config in &config.classes {
            let (class, warnings) = classes::load(class_config, &self.data_dir);
            for warning in warnings {
                problems.push(Diagnostic::file(
                    obelus_core::diagnostic::Severity::Warning,
                    config::FILE,
                    warning,
                ));
            }
            list.push(Arc::new(class));
        }
        let classes = Arc::new(Classes {
            prefer_channel_class: config.prefer_channel_class,
            list,
        });
        *self.classes.write().unwrap_or_else(|e| e.into_inner()) = classes;
    }

    /// The classes, in configuration order.
    pub fn classes(&self) -> Vec<Arc<Class>> {
        self.current().list.clone()
    }

    /// The class `name`, if configured.
    pub fn class(&self, name: &str) -> Option<Arc<Class>> {
        self.current().get(name).cloned()
    }

    /// The class a start asking for `requested` plays on a channel whose
    /// `CHANNEL(musicclass)` is `musicclass` (Asterisk's order): the
    /// channel's class first when `preferchannelclass` is on, then the one
    /// asked for, then the channel's class, then `default`. Names of
    /// classes that do not exist are passed over.
    fn choose(&self, musicclass: &str, requested: Option<&str>) -> Result<Arc<Class>, MohError> {
        let classes = self.current();
        let named = |name: &str| (!name.is_empty()).then(|| classes.get(name)).flatten();
        let requested = requested.unwrap_or("");
        let found = if classes.prefer_channel_class {
            named(musicclass).or_else(|| named(requested))
        } else {
            named(requested).or_else(|| named(musicclass))
        };
        found
            .or_else(|| named("default"))
            .cloned()
            .ok_or_else(|| MohError::NoClass(requested.to_owned()))
    }

    /// The class `requested` (or `default`) as a bridge plays it: a new
    /// generator from the first song (ARI `POST /bridges/{id}/moh`).
    pub fn bridge_source(&self, requested: Option<&str>) -> Result<(String, MohSource), MohError> {
        let class = self.choose("", requested)?;
        let source = MohSource::new(Arc::clone(&class.playlist), Cursor::new());
        Ok((class.name.clone(), source))
    }

    /// Starts music on hold on `channel` (`ast_moh_start`): the class is
    /// chosen from `requested` and `CHANNEL(musicclass)` (see
    /// [`MusicOnHold::choose`]); what already plays is replaced. Returns
    /// the class that plays.
    pub fn start(
        &self,
        channel: &Arc<Channel>,
        requested: Option<&str>,
    ) -> Result<String, MohError> {
        let musicclass = self.musicclass(channel);
        self.play(channel, &musicclass, requested)
    }

    /// Starts music on hold as `Dial(...,m(class))` does: the class given
    /// is taken as the channel's own for this start, so it beats
    /// `CHANNEL(musicclass)`; without one, as [`MusicOnHold::start`].
    pub fn start_preferring(
        &self,
        channel: &Arc<Channel>,
        class: Option<&str>,
    ) -> Result<String, MohError> {
        let musicclass = class.map_or_else(|| self.musicclass(channel), str::to_owned);
        self.play(channel, &musicclass, class)
    }

    fn play(
        &self,
        channel: &Arc<Channel>,
        musicclass: &str,
        requested: Option<&str>,
    ) -> Result<String, MohError> {
        let class = self.choose(musicclass, requested)?;
        let stream = media(channel)?;
        {
            let mut all = self.channels();
            let state = all.entry(channel.uniqueid().to_owned()).or_default();
            if let Some((_, running)) = state.playing.take() {
                running.stop();
            }
            let cursor = match &state.resume {
                Some((name, cursor)) if *name == class.name => Arc::clone(cursor),
                _ => Cursor::new(),
            };
            state.resume = Some((class.name.clone(), Arc::clone(&cursor)));
            let source = MohSource::new(Arc::clone(&class.playlist), cursor);
            let id = stream.generate(Box::new(source));
            state.playing = Some((
                class.name.clone(),
                Running {
                    stream: Arc::downgrade(&stream),
                    id,
                },
            ));
        }
        tracing::info!(
            verbose = 3,
            "Started music on hold, class '{}', on channel '{}'",
            class.name,
            channel.name()
        );
        channel.announce(ChannelEventKind::MusicOnHoldStart {
            class: class.name.clone(),
        });
        Ok(class.name.clone())
    }

    /// Stops music on hold on `channel` (`ast_moh_stop`); false when none
    /// was playing.
    pub fn stop(&self, channel: &Channel) -> bool {
        let running = self
            .channels()
            .get_mut(channel.uniqueid())
            .and_then(|s| s.playing.take());
        let Some((_, running)) = running else {
            return false;
        };
        running.stop();
        tracing::info!(verbose = 3, "Stopped music on hold on {}", channel.name());
        channel.announce(ChannelEventKind::MusicOnHoldStop);
        true
    }

    /// The class playing on `channel`, if music on hold is on.
    pub fn playing(&self, channel: &Channel) -> Option<String> {
        self.channels()
            .get(channel.uniqueid())
            .and_then(|s| s.playing.as_ref().map(|(class, _)| class.clone()))
    }

    /// `CHANNEL(musicclass)`; empty when unset.
    pub fn musicclass(&self, channel: &Channel) -> String {
        self.channels()
            .get(channel.uniqueid())
            .map(|s| s.musicclass.clone())
            .unwrap_or_default()
    }

    /// Sets `CHANNEL(musicclass)`.
    pub fn set_musicclass(&self, channel: &Channel, class: &str) {
        if channel.is_hung_up() {
            return;
        }
        self.channels()
            .entry(channel.uniqueid().to_owned())
            .or_default()
            .musicclass = class.to_owned();
    }

    /// Starts silence on `channel` (ARI `startSilence`, Asterisk's silence
    /// generator), replacing what its generator played.
    pub fn start_silence(&self, channel: &Channel) -> Result<(), MohError> {
        let stream = media(channel)?;
        let id = stream.generate(Box::new(Silence));
        self.channels()
            .entry(channel.uniqueid().to_owned())
            .or_default()
            .silence = Some(Running {
            stream: Arc::downgrade(&stream),
            id,
        });
        Ok(())
    }

    /// Stops the silence started by [`MusicOnHold::start_silence`].
    pub fn stop_silence(&self, channel: &Channel) {
        let running = self
            .channels()
            .get_mut(channel.uniqueid())
            .and_then(|s| s.silence.take());
        if let Some(running) = running {
            running.stop();
        }
    }

    /// Forgets a channel that hung up.
    fn forget(&self, uniqueid: &str) {
        self.channels().remove(uniqueid);
    }

    /// Channels the service holds state for (for tests and leaks).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.channels().len()
    }
}

/// The channel's media stream; none once the channel has hung up (its
/// state is forgotten then, and must not be made again).
fn media(channel: &Channel) -> Result<Arc<Stream>, MohError> {
    channel
        .driver()
        .media()
        .filter(|_| !channel.is_hung_up())
        .ok_or_else(|| MohError::NoMedia(channel.name().to_owned()))
}

/// Installs the service's cleanup: a channel's state goes when it hangs up.
fn forget_on_hangup(core: &obelus_core::Core, moh: &Arc<MusicOnHold>) {
    let moh = Arc::downgrade(moh);
    core.events.add_tap(Box::new(move |event| {
        if let Event::Channel(e) = event.as_ref()
            && matches!(e.kind, ChannelEventKind::Hangup { .. })
            && let Some(moh) = moh.upgrade()
        {
            moh.forget(&e.channel.uniqueid);
        }
    }));
}

/// `ast_moh_start` for callers that only have the core: starts music on
/// hold on `channel` if the module is loaded; a failure is logged.
pub fn start(core: &obelus_core::Core, channel: &Arc<Channel>, requested: Option<&str>) -> bool {
    let Some(moh) = core.service::<MusicOnHold>() else {
        tracing::warn!(
            "{}: no music on hold: res_musiconhold.so is not loaded",
            channel.name()
        );
        return false;
    };
    match moh.start(channel, requested) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("Unable to start music on hold on {}: {e}", channel.name());
            false
        }
    }
}

/// `ast_moh_stop` for callers that only have the core.
pub fn stop(core: &obelus_core::Core, channel: &Channel) -> bool {
    core.service::<MusicOnHold>()
        .is_some_and(|moh| moh.stop(channel))
}

#[cfg(test)]
mod tests;
