//! `Read(variable[,filename[&filename2...][,maxdigits[,options[,attempts[,timeout]]]]])`
//! (`app_read.c`): plays the prompts (the first key stops them) and reads
//! digits into `variable`, up to `maxdigits` (1-255; 255 when not given),
//! ended by `#` or a timeout. Timeouts follow `ast_app_getdata`: after
//! the last prompt, 10 s for the first key and 5 s between keys, or
//! `timeout` seconds for both; between prompts, 50 ms. With nothing
//! entered it tries again, `attempts` times in all.
//!
//! Options: `s` returns at once (`SKIPPED`) on a channel that is not
//! answered, `n` reads without answering, `i` plays `filename` as a tone
//! name (`dial`) instead of a file. Sets `READSTATUS`: `OK`, `TIMEOUT`,
//! `HANGUP`, `SKIPPED` or `ERROR` (no variable, or the last prompt could not
//! be played, as in Asterisk).

use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::ChannelState;
use obelus_dialplan::args::standard_args;
use obelus_media::{Stream, ToneSource};

use crate::functions::scan::scan_float;
use crate::media::{
    DIGIT_TIMEOUT, Played, RESPONSE_TIMEOUT, answer, play_file, stream, wait_digit,
};
use crate::options::Flags;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Read`.
pub struct Read;

/// The most digits read (the size of Asterisk's buffer).
const MAX_DIGITS: usize = 255;
/// The wait for a key after a prompt that is not the last.
const BETWEEN_PROMPTS: Duration = Duration::from_millis(50);

/// How one attempt ended (`enum ast_getdata_result`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum GetData {
    /// `#` or `maxdigits` reached.
    Complete(String),
    /// `#` as the first key.
    EmptyTerminated,
    /// No key in time; what was entered before.
    Timeout(String),
    /// The last prompt could not be played.
    Failed,
    /// The channel hung up; what was entered before.
    HungUp(AppError, String),
}

/// `ast_readstring`: digits until `#`, `max` of them, or a timeout
/// (`first_wait` for the first key, `wait` after), starting with a key
/// that stopped the prompt.
async fn read_string(
    pbx: &mut Pbx,
    mut pending: Option<char>,
    max: usize,
    first_wait: Duration,
    wait: Duration,
) -> GetData {
    let mut digits = String::new();
    let mut timeout = first_wait;
    loop {
        let d = match pending.take() {
            Some(d) => d,
            None => match wait_digit(pbx, timeout).await {
                Ok(Some(d)) => d,
                Ok(None) => return GetData::Timeout(digits),
                Err(e) => return GetData::HungUp(e, digits),
            },
        };
        if d == '#' {
            return if digits.is_empty() {
                GetData::EmptyTerminated
            } else {
                GetData::Complete(digits)
            };
        }
        digits.push(d);
        if digits.len() >= max {
            return GetData::Complete(digits);
        }
        timeout = wait;
    }
}

/// `ast_app_getdata`: each prompt in turn, reading after each until
/// something was entered.
async fn get_data(
    pbx: &mut Pbx,
    stream: Option<&Stream>,
    prompts: &[&str],
    max: usize,
    timeout: Option<Duration>,
) -> GetData {
    let language = pbx.channel.language();
    let mut result = GetData::Failed;
    for (i, prompt) in prompts.iter().enumerate() {
        let mut first = None;
        if !prompt.is_empty() {
            match play_file(pbx, stream, prompt, &language, |_| true).await {
                Ok(Played::Digit(d)) => first = Some(d),
                Ok(Played::Finished) => {}
                Ok(Played::Missing) => {
                    result = GetData::Failed;
                    continue;
                }
                Err(e) => return GetData::HungUp(e, String::new()),
            }
        }
        let (first_wait, wait) = if i + 1 == prompts.len() {
            timeout.map_or((RESPONSE_TIMEOUT, DIGIT_TIMEOUT), |t| (t, t))
        } else {
            (BETWEEN_PROMPTS, DIGIT_TIMEOUT)
        };
        result = read_string(pbx, first, max, first_wait, wait).await;
        match &result {
            GetData::EmptyTerminated | GetData::HungUp(..) => return result,
            GetData::Complete(d) | GetData::Timeout(d) if !d.is_empty() => return result,
            _ => {}
        }
    }
    result
}

/// Option `i`: a tone while waiting for keys; the first key stops it.
async fn read_with_tone(
    pbx: &mut Pbx,
    stream: Option<&Stream>,
    tone: ToneSource,
    max: usize,
    timeout: Duration,
) -> GetData {
    if let Some(s) = stream {
        s.play(Box::new(tone));
    }
    let mut digits = String::new();
    loop {
        let key = wait_digit(pbx, timeout).await;
        if let Some(s) = stream {
            s.stop_playback();
        }
        match key {
            Ok(Some('#')) => break GetData::Complete(std::mem::take(&mut digits)),
            Ok(Some(d)) => {
                digits.push(d);
                if digits.len() >= max {
                    break GetData::Complete(std::mem::take(&mut digits));
                }
            }
            Ok(None) => break GetData::Timeout(std::mem::take(&mut digits)),
            Err(e) => break GetData::HungUp(e, std::mem::take(&mut digits)),
        }
    }
}

#[async_trait]
impl Application for Read {
    fn name(&self) -> &'static str {
        "Read"
    }

    fn synopsis(&self) -> &'static str {
        "Read a variable."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        pbx.set("READSTATUS", "ERROR");
        let args = standard_args(args);
        let arg = |i: usize| args.get(i).map(|a| a.trim()).filter(|a| !a.is_empty());
        let Some(variable) = arg(0) else {
            tracing::warn!("Read requires an argument (variable)");
            return Ok(());
        };
        let prompt = arg(1).unwrap_or("");
        let max = match arg(2).and_then(|m| m.parse::<i64>().ok()) {
            Some(m) if (1..=MAX_DIGITS as i64).contains(&m) => {
                tracing::info!(verbose = 3, "Accepting a maximum of {m} digits.");
                m as usize
            }
            _ => MAX_DIGITS,
        };
        let flags = Flags::parse(arg(3).unwrap_or(""));
        let mut tries = arg(4)
            .and_then(|t| t.parse::<i64>().ok())
            .filter(|&t| t > 0)
            .unwrap_or(1);
        let timeout = arg(5)
            .and_then(scan_float)
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(|t| Duration::from_secs_f64(t.min(3.2e7)));
        let tone = if flags.has('i') && !prompt.is_empty() {
            obelus_media::tone::named_tone(prompt)
        } else {
            None
        };
        if pbx.channel.state() != ChannelState::Up {
            if flags.has('s') {
                pbx.set(variable, "");
                pbx.set("READSTATUS", "SKIPPED");
                return Ok(());
            }
            if !flags.has('n') {
                answer(pbx).await?;
            }
        }
        let stream = stream(pbx);
        let prompts: Vec<&str> = prompt.split('&').map(str::trim).collect();
        let mut status = "ERROR";
        while tries > 0 {
            let result = match tone.map(|t| ToneSource::new(t, 8000)) {
                Some(Ok(t)) => {
                    let timeout = timeout.unwrap_or(RESPONSE_TIMEOUT);
                    read_with_tone(pbx, stream.as_deref(), t, max, timeout).await
                }
                _ => get_data(pbx, stream.as_deref(), &prompts, max, timeout).await,
            };
            let digits = match result {
                GetData::Complete(d) => {
                    status = "OK";
                    d
                }
                GetData::EmptyTerminated => {
                    status = "OK";
                    String::new()
                }
                GetData::Timeout(d) => {
                    status = "TIMEOUT";
                    d
                }
                GetData::Failed => {
                    pbx.set(variable, "");
                    break;
                }
                GetData::HungUp(e, d) => {
                    pbx.set(variable, &d);
                    tracing::info!(verbose = 3, "User disconnected");
                    pbx.set("READSTATUS", "HANGUP");
                    return Err(e);
                }
            };
            pbx.set(variable, &digits);
            if digits.is_empty() {
                tries -= 1;
                if tries > 0 {
                    tracing::info!(
                        verbose = 3,
                        "User entered nothing, {tries} chance{} left",
                        if tries == 1 { "" } else { "s" }
                    );
                } else {
                    tracing::info!(verbose = 3, "User entered nothing.");
                }
            } else {
                tracing::info!(verbose = 3, "User entered '{digits}'");
                break;
            }
        }
        pbx.set("READSTATUS", status);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use obelus_core::channel::{Cause, Channel, Control};

    use crate::pbx::{Pbx, run};
    use crate::testing::media::{install_sound, media_channel, share, tone};
    use crate::testing::{channel, executor};

    /// Runs `Read(<args>)` on a channel with `keys` already pressed.
    async fn read(args: &str, keys: &str) -> Arc<Channel> {
        let (core, executor, _dir) = executor(&format!(
            "[default]\nexten => 1,1,Read({args})\n same => n,Set(AFTER=1)\n"
        ));
        let (channel, _) = channel(&core, "default", "1");
        for digit in keys.chars() {
            channel.queue(Control::Dtmf {
                digit,
                duration_ms: 100,
            });
        }
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(channel.var("AFTER").as_deref(), Some("1"));
        channel
    }

    fn result(channel: &Channel) -> (String, String) {
        (
            channel.var("NUM").unwrap_or_default(),
            channel.var("READSTATUS").unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn reads_until_hash() {
        let c = read("NUM,,4", "123#9").await;
        assert_eq!(result(&c), ("123".into(), "OK".into()));
    }

    #[tokio::test]
    async fn stops_at_maxdigits() {
        let c = read("NUM,,2", "123").await;
        assert_eq!(result(&c), ("12".into(), "OK".into()));
    }

    #[tokio::test]
    async fn hash_first_is_ok_and_empty() {
        let c = read("NUM", "#").await;
        assert_eq!(result(&c), (String::new(), "OK".into()));
    }

    #[tokio::test]
    async fn times_out_with_what_was_entered() {
        let c = read("NUM,,,,,0.05", "").await;
        assert_eq!(result(&c), (String::new(), "TIMEOUT".into()));
        let c = read("NUM,,,,,0.05", "4").await;
        assert_eq!(result(&c), ("4".into(), "TIMEOUT".into()));
    }

    #[tokio::test]
    async fn tries_again_when_nothing_was_entered() {
        // The first attempt ends on `#` with nothing; the second reads 7.
        let c = read("NUM,,,,2,0.05", "#7").await;
        assert_eq!(result(&c), ("7".into(), "TIMEOUT".into()));
        let c = read("NUM,,,,1,0.05", "#7").await;
        assert_eq!(result(&c), (String::new(), "OK".into()));
    }

    #[tokio::test]
    async fn s_skips_an_unanswered_channel() {
        let c = read("NUM,,,s", "1#").await;
        assert_eq!(result(&c), (String::new(), "SKIPPED".into()));
    }

    #[tokio::test]
    async fn without_a_variable_it_is_an_error() {
        let c = read(",beep", "").await;
        assert_eq!(c.var("READSTATUS").as_deref(), Some("ERROR"));
    }

    #[tokio::test]
    async fn a_last_prompt_that_cannot_play_is_an_error() {
        let c = read("NUM,nothere,,,,0.05", "1#").await;
        assert_eq!(result(&c), (String::new(), "ERROR".into()));
    }

    #[tokio::test]
    async fn the_first_key_stops_the_prompt() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Read(NUM,long&long,3)\n");
        install_sound(&core, "long", &tone(440.0, 8000 * 10));
        let (channel, driver, peer) = media_channel(&core, "default", "1").await;
        for digit in "456".chars() {
            channel.queue(Control::Dtmf {
                digit,
                duration_ms: 100,
            });
        }
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(result(&channel), ("456".into(), "OK".into()));
        assert_eq!(driver.log(), vec!["answer", "hangup 16"]);
        assert!(peer.drain_audio().await.len() < 8000 * 9);
    }

    #[tokio::test]
    async fn plays_the_prompt_then_waits() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Read(NUM,tone440,,,,0.1)\n");
        install_sound(&core, "tone440", &tone(440.0, 1600));
        let (channel, _, peer) = media_channel(&core, "default", "1").await;
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(result(&channel), (String::new(), "TIMEOUT".into()));
        let heard = peer.drain_audio().await;
        assert!(heard.len() >= 1600 && share(&heard, 440.0) > 0.8);
    }

    #[tokio::test]
    async fn i_plays_an_indication_tone() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Read(NUM,dial,,i,,0.4)\n");
        let (channel, _, peer) = media_channel(&core, "default", "1").await;
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(result(&channel), (String::new(), "TIMEOUT".into()));
        let heard = peer.drain_audio().await;
        assert!(share(&heard, 350.0) > 0.3 && share(&heard, 440.0) > 0.3);
    }

    #[tokio::test]
    async fn a_hangup_is_reported() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Read(NUM)\n");
        let (channel, _) = channel(&core, "default", "1");
        channel.queue(Control::Dtmf {
            digit: '3',
            duration_ms: 100,
        });
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        channel.request_hangup(Cause::NORMAL_CLEARING);
        task.await.unwrap();
        assert_eq!(result(&channel), ("3".into(), "HANGUP".into()));
    }
}
