//! What the applications that use a channel's audio share: its media
//! stream, playing a sound to its end or to a key press, waiting for DTMF,
//! and collecting an extension digit by digit the way Asterisk's executor
//! does after `Background` or `WaitExten`.
//!
//! Playbacks run on the media threads; the end of one arrives in the
//! channel's mailbox as `Control::PlaybackFinished` with the id
//! `Stream::play` returned (the channel driver forwards the stream's
//! events), and DTMF as `Control::Dtmf`.

use std::sync::Arc;
use std::time::Duration;

use obelus_core::channel::{Cause, Control};
use obelus_dialplan::Target;
use obelus_media::sound::Sound;
use obelus_media::{AudioSource, SoundSource, Stream};

use crate::pbx::{Pbx, SystemClock};
use crate::registry::AppError;
use crate::sounds;

/// How long the executor waits for the first digit of an extension
/// (Asterisk's `rtimeoutms`, `TIMEOUT(response)`).
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it waits for each further digit (`dtimeoutms`,
/// `TIMEOUT(digit)`).
pub(crate) const DIGIT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest extension collected (`AST_MAX_EXTENSION`).
const MAX_EXTEN: usize = 80;
/// How long past a sound's own length a playback is waited for before it
/// counts as finished: the end event can be lost when the mailbox is full.
const FINISH_GRACE: Duration = Duration::from_secs(2);

/// The channel's media stream; `None` for a channel without audio (a
/// channel whose media is not negotiated yet).
pub(crate) fn stream(pbx: &Pbx) -> Option<Arc<Stream>> {
    pbx.channel.driver().media()
}

/// Answers the channel as `Answer()` does; a failure ends the call with
/// the driver's cause.
pub(crate) async fn answer(pbx: &Pbx) -> Result<(), AppError> {
    pbx.channel.answer().await.map_err(|cause| {
        tracing::warn!("{}: answer failed: {}", pbx.channel.name(), cause.text());
        AppError::Hangup(if cause == Cause::NOT_DEFINED {
            Cause::FAILURE
        } else {
            cause
        })
    })
}

/// How a playback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Played {
    /// It ran to its end (or was stopped by someone else).
    Finished,
    /// A key the caller allowed stopped it.
    Digit(char),
    /// There was nothing to play: no such file, or no media stream. The
    /// warning is already logged.
    Missing,
}

/// Plays `source` and waits until it ends, `interrupt` accepts a DTMF
/// key, or `limit` passes; other frames are dropped, as Asterisk's
/// `ast_waitstream` drops them. A hangup stops the playback.
pub(crate) async fn play_source(
    pbx: &mut Pbx,
    stream: &Stream,
    source: Box<dyn AudioSource>,
    limit: Option<Duration>,
    interrupt: impl Fn(char) -> bool,
) -> Result<Played, AppError> {
    let id = stream.play(source);
    let ends = |frame: &Control| match frame {
        Control::PlaybackFinished { id: done, .. } => *done == id,
        Control::Dtmf { digit, .. } => interrupt(*digit),
        _ => false,
    };
    let frame = match limit {
        Some(limit) => pbx.control.wait(limit, ends).await,
        None => loop {
            match pbx.control.recv().await {
                Ok(frame) if ends(&frame) => break Ok(Some(frame)),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        },
    };
    match frame {
        Err(hungup) => {
            stream.stop_playback();
            Err(hungup.into())
        }
        Ok(Some(Control::Dtmf { digit, .. })) => {
            stream.stop_playback();
            Ok(Played::Digit(digit))
        }
        Ok(Some(_)) => Ok(Played::Finished),
        Ok(None) => {
            tracing::debug!(
                "{}: playback {id} outlived its length; taken as finished",
                pbx.channel.name()
            );
            stream.stop_playback();
            Ok(Played::Finished)
        }
    }
}

/// Plays a decoded sound (see [`play_source`]).
pub(crate) async fn play_sound(
    pbx: &mut Pbx,
    stream: &Stream,
    sound: Sound,
    interrupt: impl Fn(char) -> bool,
) -> Result<Played, AppError> {
    let rate = u64::from(sound.rate.max(1));
    let length = Duration::from_millis(sound.samples.len() as u64 * 1000 / rate);
    let source = Box::new(SoundSource::new(sound));
    play_source(pbx, stream, source, Some(length + FINISH_GRACE), interrupt).await
}

/// Finds the sound file `name` for `language` ([`sounds::find`]) and plays
/// it; a missing file or a missing stream is a warning and
/// [`Played::Missing`].
pub(crate) async fn play_file(
    pbx: &mut Pbx,
    stream: Option<&Stream>,
    name: &str,
    language: &str,
    interrupt: impl Fn(char) -> bool,
) -> Result<Played, AppError> {
    let Some(stream) = stream else {
        tracing::warn!("{}: no media stream to play {name} on", pbx.channel.name());
        return Ok(Played::Missing);
    };
    let data_dir = pbx.core().settings.dirs.data.clone();
    match sounds::load(&data_dir, name, language).await {
        Ok(found) => {
            tracing::info!(
                verbose = 3,
                "<{}> Playing '{}' (language '{language}')",
                pbx.channel.name(),
                found.path.display()
            );
            play_sound(pbx, stream, found.sound, interrupt).await
        }
        Err(missing) => {
            tracing::warn!("{}: {missing}", pbx.channel.name());
            Ok(Played::Missing)
        }
    }
}

/// Waits up to `timeout` for a DTMF key (`ast_waitfordigit`); other
/// frames are dropped.
pub(crate) async fn wait_digit(pbx: &mut Pbx, timeout: Duration) -> Result<Option<char>, AppError> {
    let frame = pbx
        .control
        .wait(timeout, |f| matches!(f, Control::Dtmf { .. }))
        .await?;
    Ok(match frame {
        Some(Control::Dtmf { digit, .. }) => Some(digit),
        _ => None,
    })
}

/// The caller number for pattern matching, if any.
fn caller(pbx: &Pbx) -> Option<String> {
    Some(pbx.channel.caller().number).filter(|n| !n.is_empty())
}

/// Whether more digits could still select an extension of `context`
/// (`ast_matchmore_extension`).
pub(crate) fn match_more(pbx: &Pbx, context: &str, exten: &str) -> bool {
    let caller = caller(pbx);
    pbx.executor
        .dialplan()
        .match_more(context, exten, 1, caller.as_deref(), &SystemClock)
}

/// Whether `exten` exists in `context` with `priority` (switches
/// included).
pub(crate) async fn priority_exists(pbx: &Pbx, context: &str, exten: &str, priority: i32) -> bool {
    let caller = caller(pbx);
    pbx.executor
        .step(
            context,
            exten,
            Target::Priority(priority),
            caller.as_deref(),
        )
        .await
        .is_ok()
}

/// Collects an extension starting with `exten` (`collect_digits`): while
/// a longer extension of `context` could still match, waits up to
/// [`DIGIT_TIMEOUT`] for each further digit.
pub(crate) async fn collect_extension(
    pbx: &mut Pbx,
    context: &str,
    mut exten: String,
) -> Result<String, AppError> {
    while exten.len() < MAX_EXTEN && match_more(pbx, context, &exten) {
        match wait_digit(pbx, DIGIT_TIMEOUT).await? {
            Some(d) => exten.push(d),
            None => break,
        }
    }
    Ok(exten)
}

/// Collects the extension the caller started with `first` and continues
/// there at priority 1. An extension that does not exist is left to the
/// executor, which sends the channel to `i` (with `INVALID_EXTEN`) or `e`,
/// or hangs up, as Asterisk does.
pub(crate) async fn goto_dialed(pbx: &mut Pbx, context: &str, first: char) -> Result<(), AppError> {
    let exten = collect_extension(pbx, context, first.to_string()).await?;
    tracing::info!(
        verbose = 3,
        "{}: caller dialed '{exten}' in context '{context}'",
        pbx.channel.name()
    );
    pbx.jump(context, &exten, "1").await
}

/// `ast_app_parse_timelen`: a number with an optional unit (`ms`, `s`,
/// `m`/`min`, `h`); `default_unit_ms` when none. `None` when it is not a
/// non-negative number.
pub(crate) fn parse_timelen(text: &str, default_unit_ms: f64) -> Option<Duration> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value: f64 = text.get(..end)?.parse().ok()?;
    let factor = match text.get(end..)?.trim().to_ascii_lowercase().as_str() {
        "" => default_unit_ms,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    let ms = value * factor;
    // A year at most: beyond that it is "for ever" in practice.
    (ms.is_finite() && ms >= 0.0).then(|| Duration::from_millis(ms.min(3.2e10) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_lengths() {
        assert_eq!(parse_timelen("5", 1000.0), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_timelen("0.25", 1000.0),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_timelen("300ms", 1000.0),
            Some(Duration::from_millis(300))
        );
        assert_eq!(parse_timelen("2 m", 1000.0), Some(Duration::from_secs(120)));
        assert_eq!(parse_timelen("-1", 1000.0), None);
        assert_eq!(parse_timelen("ten", 1000.0), None);
        assert_eq!(parse_timelen("", 1000.0), None);
    }
}
