//! `TONE_DETECT(freq[,duration_ms[,options]])=` and `${TONE_DETECT(rx|tx)}`
//! (`res_tonedetect.c`): listens for a tone of one frequency on the
//! channel and counts how often it was heard; each detection publishes ARI
//! `ChannelToneDetected`.
//!
//! `duration_ms` is the tone's minimum length (500 by default). Options:
//! `d(db)` the decibels the tone must stand above the rest of the signal
//! (16), `g(context,exten,priority)` where the channel goes once a tone is
//! received, `h(...)` once one is transmitted, `n(times)` the detections
//! needed before going (1), `r` received audio only, `t` transmitted audio
//! only (with no options at all: received only; with options but neither:
//! both), `e` remove the detector once it has gone, `x` remove it now.
//! Detection otherwise goes on (and `g`/`h` fire again on later tones)
//! until removed. Reading gives the detections so far in one direction.
//! Setting it again replaces the detector and keeps the counts. Call
//! progress matching (`a`, `b`, `c`, `p`) and squelching (`s`) are not
//! supported: a warning says so and a frequency is required.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Weak};

use obelus_core::channel::Channel;
use obelus_core::events::ChannelEventKind;
use obelus_dialplan::args::standard_args;
use obelus_dialplan::{FunctionError, Target};
use obelus_media::tone_detect::{DEFAULT_DB, DEFAULT_DURATION_MS, ToneDetector};

use crate::detect::{self, Analyzer, Attached, PerChannel};
use crate::options::Flags;
use crate::pbx::Executor;
use crate::registry::{Function, FunctionContext};

/// Which side of the channel's audio a tone was heard on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Received from the channel's party (Asterisk's read direction).
    Rx,
    /// Transmitted to it (the write direction).
    Tx,
}

/// Detections so far, per side (kept when the detector is replaced).
#[derive(Debug, Default)]
struct Counts {
    rx: AtomicU32,
    tx: AtomicU32,
}

impl Counts {
    fn of(&self, side: Side) -> &AtomicU32 {
        match side {
            Side::Rx => &self.rx,
            Side::Tx => &self.tx,
        }
    }
}

/// A channel's tone detector.
struct Active {
    attached: Attached,
    counts: Arc<Counts>,
}

/// Channels with a tone detector, by uniqueid.
static ACTIVE: LazyLock<PerChannel<Active>> = LazyLock::new(PerChannel::default);

/// A `g()`/`h()` destination, completed from where the channel was when
/// the detector was set; the priority may be a label.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Destination {
    context: String,
    exten: String,
    priority: String,
}

/// What `TONE_DETECT(...)=` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    freq: u32,
    duration_ms: u32,
    db: u32,
    rx: bool,
    tx: bool,
    hits_required: u32,
    goto_rx: Option<Destination>,
    goto_tx: Option<Destination>,
    end_after_goto: bool,
}

/// What a write does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    Set(Settings),
    Remove,
}

/// The detectors on the media thread, one per side listened to.
struct Listener {
    rate: u32,
    rx: Option<ToneDetector>,
    tx: Option<ToneDetector>,
}

impl Analyzer for Listener {
    type Finding = Side;

    fn rate(&self) -> u32 {
        self.rate
    }

    fn analyze(&mut self, received: &[i16], sent: &[i16], report: &mut dyn FnMut(Side)) {
        for (detector, audio, side) in [
            (&mut self.rx, received, Side::Rx),
            (&mut self.tx, sent, Side::Tx),
        ] {
            if let Some(d) = detector {
                for _ in 0..d.process(audio) {
                    report(side);
                }
            }
        }
    }
}

/// `TONE_DETECT`.
pub struct ToneDetect;

impl Function for ToneDetect {
    fn name(&self) -> &'static str {
        "TONE_DETECT"
    }

    fn synopsis(&self) -> &'static str {
        "Asynchronously detects a tone"
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let Some(channel) = cx.channel else {
            return Err(failed("No channel was provided to TONE_DETECT function."));
        };
        let side = if args.contains('t') {
            Side::Tx
        } else if args.contains('r') {
            Side::Rx
        } else {
            return Err(failed(format!("Invalid direction: {args}")));
        };
        ACTIVE
            .with(channel.uniqueid(), |a| {
                a.counts.of(side).load(Ordering::Relaxed).to_string()
            })
            .ok_or_else(|| failed("TONE_DETECT is not enabled on this channel"))
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        _value: &str,
    ) -> Result<(), FunctionError> {
        let Some(channel) = cx.channel else {
            return Err(failed("No channel was provided to TONE_DETECT function."));
        };
        let (context, exten, _) = channel.location();
        match parse(args, &context, &exten)? {
            Request::Remove => remove(channel),
            Request::Set(settings) => {
                let executor = cx.core.service::<Executor>();
                set(channel, settings, executor)
            }
        }
    }
}

fn failed(message: impl Into<String>) -> FunctionError {
    FunctionError::Failed(message.into())
}

/// A whole number of at least 1.
fn positive(text: &str, what: &str) -> Result<u32, FunctionError> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(failed(format!("Invalid {what}: {text}"))),
    }
}

/// Reads the arguments; `context` and `exten` complete short destinations.
fn parse(args: &str, context: &str, exten: &str) -> Result<Request, FunctionError> {
    let args = standard_args(args);
    let arg = |i: usize| args.get(i).map_or("", |a| a.trim());
    let options = arg(2);
    let flags = Flags::parse(options);
    if flags.has('x') {
        return Ok(Request::Remove);
    }
    let freqs = arg(0);
    if freqs.is_empty() {
        return Err(failed("No frequency specified"));
    }
    let mut parts = freqs.split('+');
    let first = parts.next().unwrap_or_default();
    match parts.count() {
        0 => {}
        1 => return Err(failed("Sorry, currently only 1 frequency is supported")),
        _ => {
            return Err(failed(format!(
                "Only up to 2 frequencies may be specified: {freqs}"
            )));
        }
    }
    let freq: i64 = first
        .trim()
        .parse()
        .map_err(|_| failed(format!("Frequency must be an integer: {first}")))?;
    if freq < 0 {
        return Err(failed(format!("Sorry, no negative frequencies: {freq}")));
    }
    let unsupported: String = ['a', 'b', 'c', 'p', 's']
        .into_iter()
        .filter(|&c| flags.has(c))
        .collect();
    if !unsupported.is_empty() {
        tracing::warn!(
            "TONE_DETECT: options '{unsupported}' (call progress tones, squelch) are not supported and are ignored"
        );
    }
    if freq == 0 {
        return Err(failed(
            "TONE_DETECT: a frequency is required (signal detection alone, options a, b, c and p, is not supported)",
        ));
    }
    let freq = u32::try_from(freq).map_err(|_| failed(format!("Invalid frequency: {freq}")))?;
    let duration_ms = match arg(1) {
        "" => DEFAULT_DURATION_MS,
        d => positive(d, "duration")?,
    };
    let number = |flag: char, what: &str, default: u32| match flags.arg(flag) {
        Some(text) if !text.trim().is_empty() => positive(text, what),
        _ => Ok(default),
    };
    let db = number('d', "decibel level", DEFAULT_DB)?;
    let hits_required = number('n', "number hits required", 1)?;
    let destination = |flag: char| {
        flags
            .arg(flag)
            .filter(|d| !d.trim().is_empty())
            .map(|d| destination(d, context, exten))
    };
    let (rx, tx) = if options.is_empty() || flags.has('r') {
        (true, false)
    } else if flags.has('t') {
        (false, true)
    } else {
        (true, true)
    };
    Ok(Request::Set(Settings {
        freq,
        duration_ms,
        db,
        rx,
        tx,
        hits_required,
        goto_rx: destination('g'),
        goto_tx: destination('h'),
        end_after_goto: flags.has('e'),
    }))
}

/// `[[context,]exten,]priority`, completed from the channel's location.
fn destination(text: &str, context: &str, exten: &str) -> Destination {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let (c, e, p) = match parts.as_slice() {
        [p] => ("", "", *p),
        [e, p] => ("", *e, *p),
        [c, e, p, ..] => (*c, *e, *p),
        [] => ("", "", ""),
    };
    let or = |given: &str, current: &str| {
        if given.is_empty() {
            current.to_owned()
        } else {
            given.to_owned()
        }
    };
    Destination {
        context: or(c, context),
        exten: or(e, exten),
        priority: or(p, "1"),
    }
}

/// Starts (or replaces) the channel's tone detector.
fn set(
    channel: &Arc<Channel>,
    settings: Settings,
    executor: Option<Arc<Executor>>,
) -> Result<(), FunctionError> {
    let Some(stream) = channel.driver().media() else {
        return Err(failed(format!(
            "TONE_DETECT: {} has no media stream to listen to",
            channel.name()
        )));
    };
    // 16 kHz only for tones 8 kHz audio cannot carry.
    let rate = if settings.freq < 3800 { 8000 } else { 16000 };
    let detector = || ToneDetector::new(rate, settings.freq, settings.duration_ms, settings.db);
    let new = |wanted: bool| wanted.then(detector).transpose();
    let listener = Listener {
        rate,
        rx: new(settings.rx).map_err(|e| failed(format!("TONE_DETECT: {e}")))?,
        tx: new(settings.tx).map_err(|e| failed(format!("TONE_DETECT: {e}")))?,
    };
    let uniqueid = channel.uniqueid().to_owned();
    let counts = ACTIVE
        .with(&uniqueid, |a| Arc::clone(&a.counts))
        .unwrap_or_default();
    let (attached, mut findings) = detect::attach(&stream, listener);
    let (generation, replaced) = ACTIVE.insert(
        &uniqueid,
        Active {
            attached,
            counts: Arc::clone(&counts),
        },
    );
    if let Some(old) = replaced {
        old.attached.detach();
    }
    tracing::debug!(
        "TONE_DETECT on {}: listening for {} Hz, {} ms, {} dB",
        channel.name(),
        settings.freq,
        settings.duration_ms,
        settings.db
    );
    let weak: Weak<Channel> = Arc::downgrade(channel);
    tokio::spawn(async move {
        while let Some(side) = findings.recv().await {
            let Some(channel) = weak.upgrade() else {
                break;
            };
            let count = counts.of(side).fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(
                "TONE_DETECT on {}: hit #{count} ({side:?}), {} needed",
                channel.name(),
                settings.hits_required
            );
            channel.announce(ChannelEventKind::ToneDetected);
            let goto = match side {
                Side::Rx => settings.goto_rx.as_ref(),
                Side::Tx => settings.goto_tx.as_ref(),
            };
            if count < settings.hits_required {
                continue;
            }
            if let Some(goto) = goto {
                jump(&channel, goto, executor.as_deref()).await;
                if settings.end_after_goto {
                    if let Some(active) = ACTIVE.remove_if(&uniqueid, generation) {
                        active.attached.detach();
                    }
                    break;
                }
            }
        }
        ACTIVE.remove_if(&uniqueid, generation);
    });
    Ok(())
}

/// Sends the channel to `goto` (Asterisk's async goto): whatever it runs
/// is interrupted and its dialplan goes on there.
async fn jump(channel: &Channel, goto: &Destination, executor: Option<&Executor>) {
    let priority = match goto.priority.parse::<i32>() {
        Ok(n) => Some(n),
        Err(_) => match executor {
            Some(executor) => {
                let caller = channel.caller().number;
                let caller = (!caller.is_empty()).then_some(caller.as_str());
                executor
                    .step(
                        &goto.context,
                        &goto.exten,
                        Target::Label(&goto.priority),
                        caller,
                    )
                    .await
                    .ok()
                    .map(|step| step.priority)
            }
            None => None,
        },
    };
    match priority {
        Some(priority) => channel.redirect(&goto.context, &goto.exten, priority),
        None => tracing::warn!(
            "TONE_DETECT on {}: priority '{}' of {},{} must be a number > 0, or valid label",
            channel.name(),
            goto.priority,
            goto.context,
            goto.exten
        ),
    }
}

/// Removes the channel's tone detector.
fn remove(channel: &Channel) -> Result<(), FunctionError> {
    let Some(active) = ACTIVE.remove(channel.uniqueid()) else {
        return Err(failed(format!(
            "Cannot remove TONE_DETECT from {}: TONE_DETECT not currently enabled",
            channel.name()
        )));
    };
    active.attached.detach();
    Ok(())
}

#[cfg(test)]
mod tests;
