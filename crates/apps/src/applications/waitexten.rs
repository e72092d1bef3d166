//! `WaitExten([seconds[,options]])` (`pbx_builtin_waitexten`): waits for
//! the caller to dial an extension, usually after `Background`. The first
//! key must come within `seconds` (the response timeout, 10 s, when not
//! given); further digits are collected while a longer extension could
//! still match, then the call continues at that extension, priority 1 (an
//! unknown one goes to `i`).
//!
//! Without a key: the next priority if there is one, else the `t`
//! extension, else `e`, else the call ends.
//!
//! Options: `d` plays dial tone while waiting; `m[(class)]` (music on
//! hold) is accepted, but Obelus has no music on hold yet, so it waits in
//! silence.

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_dialplan::args::standard_args;
use obelus_media::ToneSource;

use crate::media::{
    RESPONSE_TIMEOUT, goto_dialed, parse_timelen, priority_exists, stream, wait_digit,
};
use crate::options::Flags;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `WaitExten`.
pub struct WaitExten;

#[async_trait]
impl Application for WaitExten {
    fn name(&self) -> &'static str {
        "WaitExten"
    }

    fn synopsis(&self) -> &'static str {
        "Waits for an extension to be entered."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let timeout = args
            .first()
            .and_then(|t| parse_timelen(t, 1000.0))
            .filter(|t| !t.is_zero())
            .unwrap_or(RESPONSE_TIMEOUT);
        let flags = Flags::parse(args.get(1).map_or("", String::as_str));
        if flags.has('m') {
            tracing::debug!(
                "{}: WaitExten: no music on hold (class '{}') yet; waiting in silence",
                pbx.channel.name(),
                flags.arg('m').unwrap_or("default")
            );
        }
        let tone = if flags.has('d') {
            let stream = stream(pbx);
            match (&stream, ToneSource::named("dial", 8000)) {
                (Some(s), Ok(dial)) => {
                    s.play(Box::new(dial));
                }
                (None, _) => {
                    tracing::warn!("{}: no media stream for dial tone", pbx.channel.name())
                }
                (_, Err(e)) => tracing::warn!("dial tone: {e}"),
            }
            stream
        } else {
            None
        };
        let digit = wait_digit(pbx, timeout).await;
        if let Some(stream) = tone {
            stream.stop_playback();
        }
        let (context, exten, priority) = pbx.channel.location();
        if let Some(digit) = digit? {
            return goto_dialed(pbx, &context, digit).await;
        }
        if priority_exists(pbx, &context, &exten, priority.saturating_add(1)).await {
            tracing::info!(
                verbose = 3,
                "Timeout on {}, continuing...",
                pbx.channel.name()
            );
            return Ok(());
        }
        if pbx.exists(&context, "t").await {
            tracing::info!(
                verbose = 3,
                "Timeout on {}, going to 't'",
                pbx.channel.name()
            );
            return pbx.jump(&context, "t", "1").await;
        }
        if pbx.exists(&context, "e").await {
            return pbx.jump(&context, "e", "1").await;
        }
        tracing::warn!("Timeout but no rule 't' or 'e' in context '{context}'");
        Err(AppError::Hangup(Cause::NORMAL_CLEARING))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use obelus_core::channel::{Channel, Control};

    use crate::pbx::{Pbx, run};
    use crate::testing::media::{media_channel, share};
    use crate::testing::{TestDriver, channel, executor};

    const DIALPLAN: &str = "\
[default]
exten => s,1,WaitExten(${WAIT})
exten => s2,1,WaitExten(0.05)
 same => n,Set(NEXT=1)
exten => 12,1,Set(GOT=12)
exten => 1,1,Set(GOT=1)
exten => t,1,Set(TIMEDOUT=1)
exten => i,1,Set(INVALID=${INVALID_EXTEN})

[bare]
exten => s,1,WaitExten(0.05)
";

    async fn call(context: &str, exten: &str, keys: &str) -> (Arc<Channel>, Arc<TestDriver>) {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, driver) = channel(&core, context, exten);
        channel.set_var("WAIT", "0.05");
        for digit in keys.chars() {
            channel.queue(Control::Dtmf {
                digit,
                duration_ms: 100,
            });
        }
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        (channel, driver)
    }

    #[tokio::test]
    async fn keys_go_to_the_extension() {
        let (channel, _) = call("default", "s", "12").await;
        assert_eq!(channel.var("GOT").as_deref(), Some("12"));
    }

    #[tokio::test]
    async fn an_unknown_extension_goes_to_i() {
        let (channel, _) = call("default", "s", "9").await;
        assert_eq!(channel.var("INVALID").as_deref(), Some("9"));
    }

    #[tokio::test]
    async fn a_timeout_goes_to_t() {
        let (channel, _) = call("default", "s", "").await;
        assert_eq!(channel.var("TIMEDOUT").as_deref(), Some("1"));
    }

    #[tokio::test]
    async fn a_timeout_continues_when_there_is_a_next_priority() {
        let (channel, _) = call("default", "s2", "").await;
        assert_eq!(channel.var("NEXT").as_deref(), Some("1"));
        assert_eq!(channel.var("TIMEDOUT"), None);
    }

    #[tokio::test]
    async fn a_timeout_without_t_or_e_ends_the_call() {
        let (_, driver) = call("bare", "s", "").await;
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[tokio::test]
    async fn d_plays_dial_tone_while_waiting() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, _, peer) = media_channel(&core, "default", "s").await;
        channel.set_var("WAIT", "0.5,d");
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(channel.var("TIMEDOUT").as_deref(), Some("1"));
        let heard = peer.drain_audio().await;
        assert!(heard.len() >= 1600, "{} samples", heard.len());
        assert!(share(&heard, 350.0) > 0.3 && share(&heard, 440.0) > 0.3);
    }
}
