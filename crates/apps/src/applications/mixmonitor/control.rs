//! Starting, stopping and muting MixMonitors, for the applications and the
//! AMI actions alike, and the list of the ones running (what Asterisk keeps
//! as `mixmonitor` datastores on the channel).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use obelus_core::channel::Channel;
use obelus_core::events::ChannelEventKind;
use obelus_media::Stream;
use obelus_media::sound::Sound;
use tokio::sync::watch;

use super::beep;
use super::files::resolve;
use super::options::Options;
use super::recorder::{self, Controls, Copies, Job};
use super::voicemail::CallInfo;
use crate::pbx::Executor;
use crate::recording::{self, Format, Output, split_extension};

/// How long a stop waits for the files to be complete.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A MixMonitor's arguments: the application's three, or the AMI action's
/// `File`, `Options` and `Command` headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// `filename.ext`; relative names go under `<astspooldir>/monitor/`.
    /// May be empty when `r()` or `t()` names a file.
    pub file: &'a str,
    /// The option letters.
    pub options: &'a str,
    /// Run when the recording is over (`^{X}` stands for `${X}`, expanded
    /// now); only where `live_dangerously` allows commands.
    pub command: &'a str,
}

/// A recording that started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Its MixMonitorID (`StopMixMonitor(id)`, AMI `MixMonitorID`).
    pub id: String,
    /// The variable `i(var)` stored the id in, if given: AMI answers with
    /// `MixMonitorID` only then, as Asterisk does.
    pub id_variable: Option<String>,
}

/// Why a MixMonitor did not start (the application then ends the call,
/// the AMI action answers with an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// No arguments at all.
    #[error("MixMonitor requires an argument (filename or ,t(filename) and/or r(filename)")]
    NoArguments,
    /// Options, but no file to write.
    #[error("MixMonitor requires an argument (filename)")]
    NoFile,
    /// The channel has no audio to record.
    #[error("{0}: no media stream to record")]
    NoMedia(String),
    /// The recording thread could not start.
    #[error("cannot start the MixMonitor thread: {0}")]
    Thread(String),
}

/// Which audio `MixMonitorMute` silences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Read from the channel: what its party says.
    Read,
    /// Written to the channel: what its party hears.
    Write,
    /// Both.
    Both,
}

impl Direction {
    /// `read`, `write` or `both`, in any case.
    pub fn parse(text: &str) -> Option<Direction> {
        match text.trim().to_ascii_lowercase().as_str() {
            "read" => Some(Direction::Read),
            "write" => Some(Direction::Write),
            "both" => Some(Direction::Both),
            _ => None,
        }
    }
}

/// A running MixMonitor as the controls see it.
struct Active {
    id: String,
    /// The recording's file, for messages.
    file: String,
    stream: Weak<Stream>,
    media_id: u64,
    controls: Arc<Controls>,
    done: watch::Receiver<bool>,
    /// `P`: the beep to play when the recording is stopped.
    beep_stop: Option<Sound>,
}

/// Running MixMonitors by channel uniqueid, oldest first. Uniqueids are
/// unique in the process, so one list serves every core.
static ACTIVE: LazyLock<Mutex<HashMap<String, Vec<Active>>>> = LazyLock::new(Mutex::default);

fn active() -> std::sync::MutexGuard<'static, HashMap<String, Vec<Active>>> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes a channel's MixMonitor out of the list: `id`, or the latest one
/// started (the first datastore Asterisk finds).
fn take(uniqueid: &str, id: Option<&str>) -> Option<Active> {
    let mut all = active();
    let list = all.get_mut(uniqueid)?;
    let index = match id {
        Some(id) => list.iter().position(|a| a.id == id)?,
        None => list.len().checked_sub(1)?,
    };
    let entry = list.remove(index);
    if list.is_empty() {
        all.remove(uniqueid);
    }
    Some(entry)
}

/// A new MixMonitorID, shaped like the pointer Asterisk prints (`0x...`).
fn new_id() -> String {
    static NEXT: LazyLock<std::sync::atomic::AtomicU64> = LazyLock::new(|| {
        std::sync::atomic::AtomicU64::new(0x5500_0000_0000 + (rand::random::<u32>() as u64) * 0x100)
    });
    format!("0x{:x}", NEXT.fetch_add(0x40, Ordering::Relaxed))
}

/// The files of a recording, opened (failures are logged and the file is
/// left out, as Asterisk leaves out a file it cannot open), and the rate
/// to record at: the highest of their formats'. With `interleaved` the
/// first (main) file is stereo.
fn open_outputs(
    names: [Option<String>; 3],
    append: bool,
    interleaved: bool,
) -> (u32, [Option<Output>; 3]) {
    let rate = names
        .iter()
        .flatten()
        .filter_map(|n| Format::from_extension(split_extension(n).1))
        .map(Format::rate)
        .fold(8000, u32::max);
    let mut index = 0;
    let outputs = names.map(|name| {
        let main = index == 0;
        index += 1;
        let name = name?;
        let opened = if main && interleaved {
            Output::open_stereo(&name, append, rate)
        } else {
            Output::open(&name, append, rate)
        };
        match opened {
            Ok(output) => Some(output),
            Err(e) => {
                tracing::error!("Cannot open {name}: {e}");
                None
            }
        }
    });
    (rate, outputs)
}

/// The command to run after the recording, if commands may run here.
pub(super) fn post_process(
    executor: &Executor,
    channel: &Arc<Channel>,
    command: &str,
) -> Option<String> {
    if command.trim().is_empty() {
        return None;
    }
    if !executor.core.settings.options.live_dangerously {
        tracing::warn!(
            "MixMonitor on {}: the command '{command}' will not run after the recording: commands run on the host only with live_dangerously = yes in the [options] section of asterisk.conf",
            channel.name()
        );
        return None;
    }
    let command = command.replace("^{", "${");
    Some(executor.substitute(Some(channel), &command))
}

/// The `beep` prompt in the channel's language, when an option wants it;
/// a missing prompt is a warning and no beeps.
async fn load_beep(executor: &Executor, channel: &Channel, options: &Options) -> Option<Sound> {
    if !options.beep_start && !options.beep_stop && options.beep_interval.is_none() {
        return None;
    }
    let data_dir = &executor.core.settings.dirs.data;
    match crate::sounds::load(data_dir, "beep", &channel.language()).await {
        Ok(found) => Some(found.sound),
        Err(missing) => {
            tracing::warn!("MixMonitor on {}: no beep: {missing}", channel.name());
            None
        }
    }
}

/// Starts recording `channel` (`MixMonitor(file,options,command)`): sets
/// `MIXMONITOR_FILENAME` (and the `i()` variable), beeps with `p` (and
/// returns after the beep), attaches to the channel's media stream and
/// publishes `MixMonitorStart`. The recording runs until [`stop`] or the
/// hangup, beeping every interval with `B`.
pub async fn start(
    executor: &Arc<Executor>,
    channel: &Arc<Channel>,
    request: &Request<'_>,
) -> Result<Started, StartError> {
    if request.file.trim().is_empty()
        && request.options.trim().is_empty()
        && request.command.trim().is_empty()
    {
        return Err(StartError::NoArguments);
    }
    let options = Options::parse(request.options);
    let file = request.file.trim();
    if options.read_file.is_none() && options.write_file.is_none() && file.is_empty() {
        return Err(StartError::NoFile);
    }
    let spool = executor.core.settings.dirs.spool.clone();
    let side_file = |name: &Option<String>| match name.as_deref() {
        Some("") => {
            tracing::warn!("No file name was provided for a file save option.");
            None
        }
        Some(name) => Some(resolve(&spool, name)),
        None => None,
    };
    let read_name = side_file(&options.read_file);
    let write_name = side_file(&options.write_file);
    let filename = if file.is_empty() {
        String::new()
    } else {
        resolve(&spool, file)
    };
    executor.set(Some(channel), "MIXMONITOR_FILENAME", &filename);
    let Some(stream) = channel.driver().media() else {
        return Err(StartError::NoMedia(channel.name().to_owned()));
    };
    let command = post_process(executor, channel, request.command);
    let names = [
        (!filename.is_empty()).then(|| filename.clone()),
        read_name,
        write_name,
    ];
    let (append, interleaved) = (options.append, options.interleaved);
    let opened =
        tokio::task::spawn_blocking(move || open_outputs(names, append, interleaved)).await;
    let (rate, [mixed, read, write]) = opened.map_err(|e| StartError::Thread(e.to_string()))?;
    let copies = (!options.recipients.is_empty()).then(|| Copies {
        spool: spool.clone(),
        recipients: options.recipients.clone(),
        call: CallInfo::of(channel, options.real_callerid),
    });
    let beep_sound = load_beep(executor, channel, &options).await;
    if options.beep_start
        && let Some(sound) = &beep_sound
    {
        beep::play(&stream, sound).await;
    }

    let id = new_id();
    let controls = Arc::new(Controls::default());
    let (done_tx, done_rx) = watch::channel(false);
    let (tap, frames, dropped) = recording::tap(rate);
    let media_id = stream.monitor(Box::new(tap));
    let uniqueid = channel.uniqueid().to_owned();
    active().entry(uniqueid.clone()).or_default().push(Active {
        id: id.clone(),
        file: filename.clone(),
        stream: Arc::downgrade(&stream),
        media_id,
        controls: Arc::clone(&controls),
        done: done_rx.clone(),
        beep_stop: beep_sound.clone().filter(|_| options.beep_stop),
    });
    let job = Job {
        name: channel.name().to_owned(),
        channel: Arc::clone(channel),
        stream: Arc::downgrade(&stream),
        media_id,
        mixed,
        interleaved,
        read,
        write,
        read_volume: options.read_volume,
        write_volume: options.write_volume,
        bridged_only: options.bridged,
        no_sync: options.no_sync,
        controls,
        command,
        copies,
        delete: options.delete,
        done: done_tx,
    };
    let finished_id = id.clone();
    let finished_channel = uniqueid.clone();
    let spawned = recorder::spawn(job, frames, dropped, move || {
        let _ = take(&finished_channel, Some(&finished_id));
    });
    if let Err(e) = spawned {
        stream.stop_monitor(media_id);
        let _ = take(&uniqueid, Some(&id));
        return Err(StartError::Thread(e.to_string()));
    }
    if let (Some(interval), Some(sound)) = (options.beep_interval, beep_sound) {
        beep::spawn_periodic(Arc::downgrade(&stream), sound, interval, done_rx);
    }
    if let Some(var) = &options.id_variable {
        executor.set(Some(channel), var, &id);
    }
    channel.announce(ChannelEventKind::MixMonitorStart);
    Ok(Started {
        id,
        id_variable: options.id_variable,
    })
}

/// Stops a MixMonitor of `channel`: `id`, or the latest one started.
/// Beeps with `P` (and returns after the beep), waits (a few seconds at
/// most) until its files are complete, then publishes `MixMonitorStop`.
/// False when there was none to stop.
pub async fn stop(channel: &Channel, id: Option<&str>) -> bool {
    let id = id.map(str::trim).filter(|i| !i.is_empty());
    let Some(mut entry) = take(channel.uniqueid(), id) else {
        return false;
    };
    if let Some(stream) = entry.stream.upgrade() {
        stream.stop_monitor(entry.media_id);
        if let Some(sound) = entry.beep_stop.take()
            && !channel.is_hung_up()
        {
            beep::play(&stream, &sound).await;
        }
    }
    let closed = tokio::time::timeout(CLOSE_WAIT, entry.done.wait_for(|done| *done)).await;
    if !matches!(closed, Ok(Ok(_))) {
        tracing::warn!(
            "MixMonitor {} on {}: the recording did not close in time",
            entry.file,
            channel.name()
        );
    }
    channel.announce(ChannelEventKind::MixMonitorStop);
    true
}

/// Mutes or unmutes one direction (or both) of the oldest MixMonitor of
/// `channel`, as `ast_audiohook_set_mute` finds it, and publishes
/// `MixMonitorMute` with `direction` as given. False when there is none.
pub fn mute(channel: &Channel, direction: &str, muted: bool) -> bool {
    let Some(which) = Direction::parse(direction) else {
        return false;
    };
    {
        let all = active();
        let Some(first) = all.get(channel.uniqueid()).and_then(|l| l.first()) else {
            return false;
        };
        let c = &first.controls;
        if matches!(which, Direction::Read | Direction::Both) {
            c.mute_read.store(muted, Ordering::Relaxed);
        }
        if matches!(which, Direction::Write | Direction::Both) {
            c.mute_write.store(muted, Ordering::Relaxed);
        }
    }
    channel.announce(ChannelEventKind::MixMonitorMute {
        direction: direction.trim().to_owned(),
        muted,
    });
    true
}

/// The MixMonitorIDs running on a channel, oldest first.
pub fn running(channel: &Channel) -> Vec<String> {
    active()
        .get(channel.uniqueid())
        .map(|l| l.iter().map(|a| a.id.clone()).collect())
        .unwrap_or_default()
}
