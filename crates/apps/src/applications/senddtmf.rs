//! `SendDTMF(digits[,timeout_ms[,duration_ms[,channel]]])`: sends DTMF
//! digits to the far end (`app_senddtmf.c`, `ast_dtmf_stream`): a 100 ms
//! pause first, then each digit followed by the inter-digit pause (default
//! 250 ms); `w` pauses half a second, `W` a second. Digits last at least
//! 100 ms. With `channel`, the digits go to that channel instead.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::Channel;
use obelus_dialplan::args::standard_args;

use crate::functions::scan::scan_float;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `SendDTMF`.
pub struct SendDtmf;

/// Default pause after each digit, in ms.
const DEFAULT_BETWEEN: u64 = 250;
/// Shortest digit, in ms (`AST_DEFAULT_EMULATE_DTMF_DURATION`).
const MIN_DURATION: u32 = 100;
/// Longest pause or digit a caller may ask for (a minute).
const MAX_MS: f64 = 60_000.0;

/// `ast_app_parse_timelen` in milliseconds: a number with an optional unit
/// (`ms`, `s`, `m`, `h`; milliseconds when none).
fn time_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let value = scan_float(text)?;
    let unit = text
        .trim_start_matches(|c: char| c.is_ascii_digit() || "+-.".contains(c))
        .trim()
        .to_ascii_lowercase();
    let factor = match unit.as_str() {
        "" | "ms" => 1.0,
        "s" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some((value * factor).clamp(0.0, MAX_MS))
}

async fn pause(pbx: &mut Pbx, ms: u64) -> Result<(), AppError> {
    pbx.control.sleep(Duration::from_millis(ms)).await?;
    Ok(())
}

#[async_trait]
impl Application for SendDtmf {
    fn name(&self) -> &'static str {
        "SendDTMF"
    }

    fn synopsis(&self) -> &'static str {
        "Sends arbitrary DTMF digits"
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let Some(digits) = args.first().filter(|d| !d.is_empty()) else {
            tracing::warn!("SendDTMF() requires an argument.");
            return Ok(());
        };
        let between = args
            .get(1)
            .and_then(|t| time_ms(t))
            .map(|ms| ms as u64)
            .filter(|&ms| ms > 0)
            .unwrap_or(DEFAULT_BETWEEN);
        let duration = args
            .get(2)
            .and_then(|t| time_ms(t))
            .map_or(0, |ms| ms as u32)
            .max(MIN_DURATION);
        let target: Arc<Channel> = match args.get(3).filter(|c| !c.is_empty()) {
            Some(name) => match pbx.core().channels.find(name) {
                Some(c) => c,
                None => {
                    tracing::warn!("No such channel: {name}");
                    return Ok(());
                }
            },
            None => Arc::clone(&pbx.channel),
        };
        pause(pbx, 100).await?;
        for c in digits.chars() {
            match c {
                'w' => pause(pbx, 500).await?,
                'W' => pause(pbx, 1000).await?,
                '0'..='9' | '*' | '#' | 'a'..='d' | 'A'..='D' | 'f' | 'F' => {
                    if c.eq_ignore_ascii_case(&'f') {
                        tracing::debug!("{}: flash is not supported", target.name());
                    } else {
                        target
                            .driver()
                            .send_digit(&target, c.to_ascii_uppercase(), duration)
                            .await;
                    }
                    pause(pbx, between).await?;
                }
                other => tracing::warn!(
                    "Illegal DTMF character '{other}' in string. (0-9*#aAbBcCdD allowed)"
                ),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::pbx::{Pbx, run};
    use crate::testing::{channel, executor, run_call};

    #[tokio::test]
    async fn sends_each_digit() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,SendDTMF(1a#x*,10)\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER").as_deref(), Some("1"));
        assert_eq!(
            driver.log(),
            vec!["digit 1", "digit A", "digit #", "digit *", "hangup 16"]
        );
    }

    #[tokio::test]
    async fn w_pauses_and_a_hangup_stops_the_digits() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,SendDTMF(1WWWWWWWWWW2,10)\n");
        let (channel, driver) = channel(&core, "default", "1");
        let pbx = Pbx::new(executor, Arc::clone(&channel)).unwrap();
        let task = tokio::spawn(run(pbx));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        channel.request_hangup(obelus_core::channel::Cause::NORMAL_CLEARING);
        task.await.unwrap();
        assert_eq!(driver.log(), vec!["digit 1", "hangup 16"]);
    }

    #[tokio::test]
    async fn sends_to_another_channel() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,SendDTMF(9,10,,${OTHER})\n");
        let (other, other_driver) = channel(&core, "default", "2");
        let (me, my_driver) = channel(&core, "default", "1");
        me.set_var("OTHER", other.name());
        run(Pbx::new(executor, me).unwrap()).await;
        assert_eq!(other_driver.log(), vec!["digit 9"]);
        assert_eq!(my_driver.log(), vec!["hangup 16"]);
    }

    #[test]
    fn time_lengths() {
        assert_eq!(super::time_ms("250"), Some(250.0));
        assert_eq!(super::time_ms("1s"), Some(1000.0));
        assert_eq!(super::time_ms("0.5 s"), Some(500.0));
        assert_eq!(super::time_ms("10ms"), Some(10.0));
        assert_eq!(super::time_ms("2parsecs"), None);
        assert_eq!(super::time_ms("x"), None);
    }
}
