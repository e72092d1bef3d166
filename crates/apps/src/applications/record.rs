//! `Record(file.format[,silence[,maxduration[,options]]])` (`app_record.c`):
//! records what the caller says into a file, after a beep, until `#`
//! (`*` with option `t`), `silence` seconds of silence, `maxduration`
//! seconds, or the hangup. A relative name is under
//! `<astdatadir>/sounds/`, as in Asterisk; `%d` in the name becomes the
//! first number that makes it new.
//!
//! Formats: `wav` (8 kHz) and `wav16` (16 kHz), PCM16 mono; others are an
//! error (`RECORD_STATUS=ERROR`). Options: `a` appends to an existing
//! recording, `n` records without answering, `s` does nothing on a channel
//! that is not answered (`SKIP`), `q` skips the beep, `t` ends on `*`
//! instead of `#`, `x` ignores the keys, `y` ends on any key, `o` ends on
//! `0` (`OPERATOR`), `k` keeps the file when the caller hangs up (it is
//! deleted otherwise). Ending on a key drops the last 250 ms (the key's
//! sound); ending on silence keeps one second of it.
//!
//! Sets `RECORDED_FILE` (the name without extension) and `RECORD_STATUS`:
//! `DTMF`, `OPERATOR`, `SILENCE`, `TIMEOUT`, `HANGUP`, `SKIP` or `ERROR`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::{Cause, ChannelState, Control, HungUp};
use obelus_dialplan::args::standard_args;
use obelus_media::{AudioSink, WavWriter};
use tokio::sync::{Notify, oneshot};

use crate::media::{answer, play_file, stream};
use crate::options::Flags;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};
use crate::sounds::sounds_dir;

/// `Record`.
pub struct Record;

/// `dsp.conf` `silencethreshold`: a 20 ms frame whose mean absolute sample
/// is below this is silence (`ast_dsp_silence`).
const SILENCE_THRESHOLD: u64 = 256;
/// What ending on a key cuts from the end (the key's own sound).
const KEY_TRIM_MS: u32 = 250;
/// The most audio held back to be able to cut it (a minute).
const MAX_HOLD_MS: u32 = 60_000;
/// How long to wait for the media thread to close the file.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// The highest `%d` number tried.
const MAX_COUNTER: u32 = 1_000_000;

/// Why the recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Key,
    Operator,
    Silence,
    Timeout,
    HungUp(Cause),
}

/// The recording sink: writes to the wav file through a delay line, so
/// that the end (a key's sound, a long silence) can be cut when it
/// finishes, and watches for silence.
struct Recording {
    writer: WavWriter,
    rate: u32,
    /// The latest samples, not yet written.
    tail: VecDeque<i16>,
    /// How many samples `tail` holds back.
    hold: usize,
    /// Samples to drop from the end when finishing, set by the application
    /// before it stops the recording.
    trim: Arc<AtomicUsize>,
    silence: Option<Silence>,
    /// Tells the application the file is closed, or why writing failed.
    done: Option<oneshot::Sender<Result<(), String>>>,
    error: Option<String>,
}

/// Counts trailing silence and rings once when it reaches the limit.
struct Silence {
    limit_ms: u64,
    silent_ms: u64,
    notify: Arc<Notify>,
    rung: bool,
}

/// Writes to the file unless an earlier write failed; the first error is
/// kept for the application (a sink cannot return it).
fn write_samples(writer: &mut WavWriter, error: &mut Option<String>, samples: &[i16]) {
    if error.is_none()
        && let Err(e) = writer.write_samples(samples)
    {
        tracing::warn!("Problem writing frame: {e}");
        *error = Some(e.to_string());
    }
}

impl Recording {
    fn close(&mut self) {
        let keep = self
            .tail
            .len()
            .saturating_sub(self.trim.load(Ordering::Acquire));
        self.tail.truncate(keep);
        let rest = self.tail.make_contiguous();
        write_samples(&mut self.writer, &mut self.error, rest);
        self.tail.clear();
        if let Err(e) = self.writer.close() {
            self.error.get_or_insert(e.to_string());
        }
        if let Some(done) = self.done.take() {
            let _ = done.send(self.error.clone().map_or(Ok(()), Err));
        }
    }
}

impl AudioSink for Recording {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write_frame(&mut self, samples: &[i16]) {
        if let Some(s) = self.silence.as_mut()
            && !samples.is_empty()
        {
            let sum: u64 = samples.iter().map(|x| u64::from(x.unsigned_abs())).sum();
            if sum / samples.len() as u64 >= SILENCE_THRESHOLD {
                s.silent_ms = 0;
            } else {
                s.silent_ms += samples.len() as u64 * 1000 / u64::from(self.rate);
                if s.silent_ms > s.limit_ms && !s.rung {
                    s.rung = true;
                    s.notify.notify_one();
                }
            }
        }
        self.tail.extend(samples);
        let excess = self.tail.len().saturating_sub(self.hold);
        if excess > 0 {
            let (a, b) = self.tail.as_slices();
            let first = excess.min(a.len());
            write_samples(&mut self.writer, &mut self.error, &a[..first]);
            write_samples(&mut self.writer, &mut self.error, &b[..excess - first]);
            self.tail.drain(..excess);
        }
    }

    fn finish(&mut self) {
        if self.done.is_some() {
            self.close();
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The file a recording name stands for: absolute, or under `sounds/`.
fn recording_path(data_dir: &Path, name: &str, ext: &str) -> PathBuf {
    let base = if name.starts_with('/') {
        PathBuf::from(name)
    } else {
        sounds_dir(data_dir).join(name)
    };
    let mut s = base.into_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Replaces each `%d` with the first number from 0 that names no existing
/// file (`FLAG_HAS_PERCENT`).
fn unique_name(data_dir: &Path, name: &str, ext: &str) -> String {
    if !name.contains("%d") {
        return name.to_owned();
    }
    let mut n = 0;
    loop {
        let candidate = name.replace("%d", &n.to_string());
        if n >= MAX_COUNTER || !recording_path(data_dir, &candidate, ext).exists() {
            return candidate;
        }
        n += 1;
    }
}

/// Creates the file (and its directory) and the sink. With `append`, an
/// existing recording's audio is written first.
fn open(
    path: &Path,
    rate: u32,
    append: bool,
    silence_ms: u64,
    trim: Arc<AtomicUsize>,
    notify: Arc<Notify>,
    done: oneshot::Sender<Result<(), String>>,
) -> Result<Recording, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let before = if append && path.exists() {
        let sound = crate::sounds::read(path).map_err(|e| format!("cannot append: {e}"))?;
        if sound.rate != rate {
            return Err(format!("cannot append: the file is at {} Hz", sound.rate));
        }
        Some(sound)
    } else {
        None
    };
    let mut writer = WavWriter::create(path, rate).map_err(|e| e.to_string())?;
    if let Some(sound) = before {
        writer
            .write_samples(&sound.samples)
            .map_err(|e| e.to_string())?;
    }
    let per_ms = rate as usize / 1000;
    let hold_ms = (KEY_TRIM_MS as u64)
        .max(silence_ms.saturating_sub(1000))
        .min(u64::from(MAX_HOLD_MS));
    Ok(Recording {
        writer,
        rate,
        tail: VecDeque::new(),
        hold: hold_ms as usize * per_ms,
        trim,
        silence: (silence_ms > 0).then_some(Silence {
            limit_ms: silence_ms,
            silent_ms: 0,
            notify,
            rung: false,
        }),
        done: Some(done),
        error: None,
    })
}

/// A whole number of seconds (`%30d`, at least 0) in ms; 0 (none) when
/// absent or invalid.
fn seconds(arg: Option<&String>, what: &str) -> u64 {
    let Some(text) = arg.map(|a| a.trim()).filter(|a| !a.is_empty()) else {
        return 0;
    };
    let digits: String = text
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
        .map(|(_, c)| c)
        .collect();
    match digits.parse::<i64>() {
        Ok(s) if s >= 0 => u64::try_from(s).unwrap_or(0).saturating_mul(1000),
        _ => {
            tracing::warn!("'{text}' is not a valid {what}");
            0
        }
    }
}

#[async_trait]
impl Application for Record {
    fn name(&self) -> &'static str {
        "Record"
    }

    fn synopsis(&self) -> &'static str {
        "Record to a file."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let Some(target) = args.first().map(|a| a.trim()).filter(|a| !a.is_empty()) else {
            tracing::warn!("Record requires an argument (filename)");
            pbx.set("RECORD_STATUS", "ERROR");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        };
        let Some((name, format)) = target.rsplit_once('.').or_else(|| target.split_once(':'))
        else {
            tracing::warn!("No extension specified to filename!");
            pbx.set("RECORD_STATUS", "ERROR");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        };
        let silence_ms = seconds(args.get(1), "silence duration");
        let max_ms = seconds(args.get(2), "maximum duration");
        let flags = Flags::parse(args.get(3).map_or("", String::as_str));
        let terminator = if flags.has('x') {
            None
        } else if flags.has('t') {
            Some('*')
        } else {
            Some('#')
        };
        let data_dir = pbx.core().settings.dirs.data.clone();
        let name = unique_name(&data_dir, name, format);
        pbx.set("RECORDED_FILE", &name);
        let rate = match format.to_ascii_lowercase().as_str() {
            "wav" => 8000,
            "wav16" => 16000,
            _ => {
                tracing::warn!(
                    "Could not create file {name}.{format}: Obelus records only the wav and wav16 formats"
                );
                pbx.set("RECORD_STATUS", "ERROR");
                return Ok(());
            }
        };
        if pbx.channel.state() != ChannelState::Up {
            if flags.has('s') {
                pbx.set("RECORD_STATUS", "SKIP");
                return Ok(());
            }
            if !flags.has('n') {
                answer(pbx).await?;
            }
        }
        let Some(stream) = stream(pbx) else {
            tracing::warn!("{}: no media stream to record", pbx.channel.name());
            pbx.set("RECORD_STATUS", "ERROR");
            return Ok(());
        };
        if !flags.has('q') {
            let language = pbx.channel.language();
            if let Err(e) = play_file(pbx, Some(&stream), "beep", &language, |_| false).await {
                pbx.set("RECORD_STATUS", "HANGUP");
                return Err(e);
            }
        }
        let path = recording_path(&data_dir, &name, format);
        let trim = Arc::new(AtomicUsize::new(0));
        let silence = Arc::new(Notify::new());
        let (done_tx, done_rx) = oneshot::channel();
        let opened = {
            let (path, trim, silence) = (path.clone(), Arc::clone(&trim), Arc::clone(&silence));
            let append = flags.has('a');
            tokio::task::spawn_blocking(move || {
                open(&path, rate, append, silence_ms, trim, silence, done_tx)
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
        };
        let sink = match opened {
            Ok(sink) => sink,
            Err(e) => {
                tracing::warn!("Could not create file {}: {e}", path.display());
                pbx.set("RECORD_STATUS", "ERROR");
                return Ok(());
            }
        };
        stream.record(Box::new(sink));
        tracing::info!(
            verbose = 3,
            "<{}> Recording to '{}'",
            pbx.channel.name(),
            path.display()
        );
        let deadline =
            (max_ms > 0).then(|| tokio::time::Instant::now() + Duration::from_millis(max_ms));
        let end = loop {
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = pbx.control.recv() => match frame {
                    Err(HungUp(cause)) => break End::HungUp(cause),
                    Ok(Control::Dtmf { digit, .. }) => {
                        if digit == '0' && flags.has('o') {
                            break End::Operator;
                        }
                        if Some(digit) == terminator || flags.has('y') {
                            break End::Key;
                        }
                    }
                    Ok(_) => {}
                },
                () = timeout => break End::Timeout,
                () = silence.notified() => break End::Silence,
            }
        };
        let per_ms = rate as usize / 1000;
        let trim_ms = match end {
            End::Key | End::Operator => u64::from(KEY_TRIM_MS),
            End::Silence => silence_ms.saturating_sub(1000),
            End::Timeout | End::HungUp(_) => 0,
        };
        trim.store(trim_ms as usize * per_ms, Ordering::Release);
        stream.stop_record();
        let closed = match tokio::time::timeout(CLOSE_WAIT, done_rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Ok(()),
            Err(_) => Err("the media thread did not close it in time".to_owned()),
        };
        if let Err(e) = &closed {
            tracing::warn!("Recording {}: {e}", path.display());
        }
        let status = match end {
            _ if closed.is_err() => "ERROR",
            End::Key => "DTMF",
            End::Operator => "OPERATOR",
            End::Silence => "SILENCE",
            End::Timeout => "TIMEOUT",
            End::HungUp(_) => "HANGUP",
        };
        pbx.set("RECORD_STATUS", status);
        if let End::HungUp(cause) = end {
            if !flags.has('k') {
                let _ = std::fs::remove_file(&path);
            }
            return Err(AppError::HungUp(cause));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use obelus_core::channel::{Cause, Channel};

    use super::*;
    use crate::pbx::{Pbx, run};
    use crate::testing::media::{FRAME, install_sound, media_channel, share, tone};
    use crate::testing::{executor, run_call};

    /// Waits (a bounded number of times) until Record has created `path`.
    async fn created(path: &Path) {
        for _ in 0..500 {
            if path.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{} was never created", path.display());
    }

    fn status(channel: &Channel) -> (String, String) {
        (
            channel.var("RECORD_STATUS").unwrap_or_default(),
            channel.var("RECORDED_FILE").unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn records_what_the_caller_sends_until_hash() {
        let (core, executor, dir) =
            executor("[default]\nexten => 1,1,Record(rec/test.wav)\n same => n,Set(AFTER=1)\n");
        install_sound(&core, "beep", &tone(1000.0, 800));
        let (channel, driver, mut peer) = media_channel(&core, "default", "1").await;
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        // The beep comes first.
        let beep = peer.recv_audio(Duration::from_secs(5)).await.unwrap();
        assert!(share(&beep, 1000.0) > 0.8);
        let path = dir.path().join("sounds/rec/test.wav");
        created(&path).await;
        peer.send_audio(&tone(440.0, FRAME * 40)).await;
        peer.send_dtmf('#').await;
        task.await.unwrap();
        assert_eq!(status(&channel), ("DTMF".into(), "rec/test".into()));
        assert_eq!(channel.var("AFTER").as_deref(), Some("1"));
        assert_eq!(driver.log(), vec!["answer", "hangup 16"]);
        let recorded = crate::sounds::read(&path).unwrap();
        assert_eq!(recorded.rate, 8000);
        // 800 ms sent, less what came before the sink was in place and the
        // 250 ms cut for the key.
        let n = recorded.samples.len();
        assert!((1600..=FRAME * 40 - 2000).contains(&n), "{n} samples");
        assert!(share(&recorded.samples, 440.0) > 0.8);
    }

    #[tokio::test]
    async fn stops_at_maxduration_and_numbers_the_file() {
        let (core, executor, dir) =
            executor("[default]\nexten => 1,1,Record(/${DIR}/take%d.wav16,,1,q)\n");
        let taken = dir.path().join("take0.wav16");
        std::fs::write(&taken, b"").unwrap();
        let (channel, _, _peer) = media_channel(&core, "default", "1").await;
        channel.set_var("DIR", dir.path().to_str().unwrap().trim_start_matches('/'));
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        let name = format!("{}/take1", dir.path().display());
        assert_eq!(status(&channel), ("TIMEOUT".into(), name.clone()));
        let recorded = crate::sounds::read(Path::new(&format!("{name}.wav16"))).unwrap();
        assert_eq!(recorded.rate, 16000);
    }

    #[tokio::test]
    async fn ends_on_silence() {
        let (core, executor, dir) = executor("[default]\nexten => 1,1,Record(quiet.wav,1,,q)\n");
        let (channel, _, mut peer) = media_channel(&core, "default", "1").await;
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        created(&dir.path().join("sounds/quiet.wav")).await;
        peer.send_audio(&tone(440.0, FRAME * 20)).await;
        let mut silence = 0;
        while !task.is_finished() && silence < 500 {
            peer.send_audio(&[0; FRAME]).await;
            silence += 1;
        }
        task.await.unwrap();
        assert_eq!(status(&channel).0, "SILENCE");
        assert!(silence > 50, "a second of silence first: {silence} frames");
    }

    #[tokio::test]
    async fn a_hangup_deletes_the_file_unless_k() {
        for (options, kept) in [("q", false), ("qk", true)] {
            let (core, executor, dir) = executor(&format!(
                "[default]\nexten => 1,1,Record(gone.wav,,,{options})\n"
            ));
            let (channel, _, _peer) = media_channel(&core, "default", "1").await;
            let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
            let path = dir.path().join("sounds/gone.wav");
            created(&path).await;
            channel.request_hangup(Cause::NORMAL_CLEARING);
            task.await.unwrap();
            assert_eq!(status(&channel).0, "HANGUP");
            assert_eq!(path.exists(), kept, "{options}");
        }
    }

    #[tokio::test]
    async fn append_keeps_what_was_there() {
        let (core, executor, dir) =
            executor("[default]\nexten => 1,1,Answer()\n same => n,Record(more.wav,,1,aq)\n");
        let path = dir.path().join("sounds/more.wav");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        obelus_media::sound::write_wav(&path, 8000, &[7; 400]).unwrap();
        let (channel, _, _peer) = media_channel(&core, "default", "1").await;
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        let recorded = crate::sounds::read(&path).unwrap();
        assert!(recorded.samples.len() >= 400);
        assert!(recorded.samples[..400].iter().all(|&s| s == 7));
    }

    #[tokio::test]
    async fn unsupported_formats_and_skips() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,Record(x.gsm)\n same => n,Set(A=${RECORD_STATUS})\n same => n,Record(x.wav,,,s)\n same => n,Set(B=${RECORD_STATUS})\n same => n,Record(noformat)\n same => n,Set(C=1)\n",
        );
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("A").as_deref(), Some("ERROR"));
        assert_eq!(channel.var("B").as_deref(), Some("SKIP"));
        assert_eq!(channel.var("C"), None, "no format ends the call");
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[test]
    fn percent_d_takes_the_first_free_number() {
        let dir = tempfile::tempdir().unwrap();
        let sounds = sounds_dir(dir.path());
        std::fs::create_dir_all(&sounds).unwrap();
        assert_eq!(unique_name(dir.path(), "msg%d", "wav"), "msg0");
        std::fs::write(sounds.join("msg0.wav"), b"").unwrap();
        std::fs::write(sounds.join("msg1.wav"), b"").unwrap();
        assert_eq!(unique_name(dir.path(), "msg%d", "wav"), "msg2");
        assert_eq!(unique_name(dir.path(), "msg%d", "wav16"), "msg0");
        assert_eq!(unique_name(dir.path(), "plain", "wav"), "plain");
    }

    #[test]
    fn the_sink_cuts_the_end_it_is_told_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.wav");
        let trim = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = oneshot::channel();
        let mut sink = open(&path, 8000, false, 0, Arc::clone(&trim), Arc::default(), tx).unwrap();
        for i in 0..20 {
            sink.write_frame(&[i as i16; 160]);
        }
        trim.store(2000, Ordering::Release);
        sink.finish();
        assert_eq!(rx.try_recv().unwrap(), Ok(()));
        let s = crate::sounds::read(&path).unwrap();
        assert_eq!(s.samples.len(), 20 * 160 - 2000);
        assert_eq!(s.samples[0], 0);
        assert_eq!(*s.samples.last().unwrap(), 7);
    }
}
