//! `Background(file[&file...][,options[,langoverride[,context]]])`
//! (`pbx_builtin_background`): plays sound files while listening for DTMF.
//! A key stops the playback and starts an extension: further digits are
//! collected while a longer extension of `context` (the current one by
//! default) could still match, then the call continues at that extension,
//! priority 1 (an unknown one goes to `i`). Without a key the dialplan
//! continues once the files have played (usually with `WaitExten`).
//!
//! Options: `s` does nothing on a channel that is not answered, `n` plays
//! without answering, `m` only stops for a key that is itself an extension
//! of `context`, `p` plays without being interrupted. Sets
//! `BACKGROUNDSTATUS` to `SUCCESS`, or `FAILED` when a file could not be
//! played (the rest are then skipped, as in Asterisk).
//!
//! Unlike Asterisk, which looks the digits up in `context` only when the
//! first is a complete one-digit extension there (and in the current
//! context otherwise), Obelus always collects in `context`.

use async_trait::async_trait;
use obelus_core::channel::{Cause, ChannelState};
use obelus_dialplan::args::standard_args;

use super::playback::file_list;
use crate::media::{Played, answer, goto_dialed, play_file, stream};
use crate::options::Flags;
use crate::pbx::{Pbx, SystemClock};
use crate::registry::{AppError, Application};

/// `Background`.
pub struct Background;

#[async_trait]
impl Application for Background {
    fn name(&self) -> &'static str {
        "BackGround"
    }

    fn synopsis(&self) -> &'static str {
        "Play an audio file while waiting for digits of an extension to go to."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let files = file_list(args.first());
        if files.is_empty() {
            tracing::warn!("Background requires an argument (filename)");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
        let flags = Flags::parse(args.get(1).map_or("", String::as_str));
        let language = args
            .get(2)
            .filter(|l| !l.is_empty())
            .cloned()
            .unwrap_or_else(|| pbx.channel.language());
        let context = args
            .get(3)
            .filter(|c| !c.is_empty())
            .cloned()
            .unwrap_or_else(|| pbx.channel.location().0);
        if pbx.channel.state() != ChannelState::Up {
            if flags.has('s') {
                pbx.set("BACKGROUNDSTATUS", "SUCCESS");
                return Ok(());
            }
            if !flags.has('n') {
                answer(pbx).await?;
            }
        }
        let stream = stream(pbx);
        let dialplan = pbx.executor.dialplan();
        let caller = Some(pbx.channel.caller().number).filter(|n| !n.is_empty());
        let interrupt = |digit: char| {
            if flags.has('p') {
                false
            } else if flags.has('m') {
                dialplan.exists(
                    &context,
                    &digit.to_string(),
                    1,
                    caller.as_deref(),
                    &SystemClock,
                )
            } else {
                true
            }
        };
        for file in &files {
            match play_file(pbx, stream.as_deref(), file, &language, interrupt).await {
                Ok(Played::Finished) => {}
                Ok(Played::Digit(digit)) => {
                    pbx.set("BACKGROUNDSTATUS", "SUCCESS");
                    return goto_dialed(pbx, &context, digit).await;
                }
                Ok(Played::Missing) => {
                    tracing::warn!(
                        "ast_streamfile failed on {} for {}",
                        pbx.channel.name(),
                        files.join("&")
                    );
                    pbx.set("BACKGROUNDSTATUS", "FAILED");
                    return Ok(());
                }
                Err(e) => {
                    // Asterisk reports a hangup as SUCCESS: no file failed.
                    pbx.set("BACKGROUNDSTATUS", "SUCCESS");
                    return Err(e);
                }
            }
        }
        pbx.set("BACKGROUNDSTATUS", "SUCCESS");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use obelus_core::channel::{Channel, Control};

    use crate::pbx::{Pbx, run};
    use crate::testing::executor;
    use crate::testing::media::{MediaDriver, Peer, install_sound, media_channel, share, tone};

    const DIALPLAN: &str = "\
[default]
exten => s,1,Answer()
 same => n,Background(tone440${OPTS})
 same => n,Set(FELL=${BACKGROUNDSTATUS})
exten => 12,1,Set(GOT=12)
exten => 1,1,Set(GOT=1)
exten => 5,1,Set(GOT=5)
exten => i,1,Set(INVALID=${INVALID_EXTEN})

[other]
exten => 7,1,Set(OTHER=7)
";

    /// Runs `s@default` with `OPTS` appended to Background's file and
    /// `keys` already pressed.
    async fn call(opts: &str, keys: &str) -> (Arc<Channel>, Arc<MediaDriver>, Peer) {
        let (core, executor, _dir) = executor(DIALPLAN);
        install_sound(&core, "tone440", &tone(440.0, 4000));
        let (channel, driver, peer) = media_channel(&core, "default", "s").await;
        channel.set_var("OPTS", opts);
        for digit in keys.chars() {
            channel.queue(Control::Dtmf {
                digit,
                duration_ms: 100,
            });
        }
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        (channel, driver, peer)
    }

    #[tokio::test]
    async fn plays_to_the_end_without_a_key() {
        let (channel, _, peer) = call("", "").await;
        assert_eq!(channel.var("FELL").as_deref(), Some("SUCCESS"));
        let heard = peer.drain_audio().await;
        assert!(heard.len() >= 4000 && share(&heard, 440.0) > 0.8);
    }

    #[tokio::test]
    async fn keys_collect_the_longest_extension() {
        let (channel, _, _) = call("", "12").await;
        assert_eq!(channel.var("GOT").as_deref(), Some("12"));
        assert_eq!(channel.var("BACKGROUNDSTATUS").as_deref(), Some("SUCCESS"));
        assert_eq!(channel.var("FELL"), None);
        let (channel, _, _) = call("", "5").await;
        assert_eq!(channel.var("GOT").as_deref(), Some("5"));
    }

    #[tokio::test]
    async fn an_unknown_extension_goes_to_i() {
        let (channel, _, _) = call("", "9").await;
        assert_eq!(channel.var("INVALID").as_deref(), Some("9"));
    }

    #[tokio::test]
    async fn a_key_stops_the_prompt() {
        let (channel, _, peer) = call("", "5").await;
        assert_eq!(channel.var("GOT").as_deref(), Some("5"));
        assert!(peer.drain_audio().await.len() < 4000);
    }

    #[tokio::test]
    async fn p_plays_through_keys() {
        let (channel, _, _) = call(",p", "5").await;
        assert_eq!(channel.var("GOT"), None);
        assert_eq!(channel.var("FELL").as_deref(), Some("SUCCESS"));
    }

    #[tokio::test]
    async fn m_only_stops_for_a_one_digit_extension() {
        let (channel, _, _) = call(",m", "95").await;
        assert_eq!(channel.var("INVALID"), None, "9 did not stop it");
        assert_eq!(channel.var("GOT").as_deref(), Some("5"));
    }

    #[tokio::test]
    async fn the_context_argument_chooses_where_keys_go() {
        let (channel, _, _) = call(",,,other", "7").await;
        assert_eq!(channel.var("OTHER").as_deref(), Some("7"));
    }

    #[tokio::test]
    async fn a_missing_file_fails_and_continues() {
        let (channel, _, _) = call("&nothere", "").await;
        assert_eq!(channel.var("FELL").as_deref(), Some("FAILED"));
    }

    #[tokio::test]
    async fn an_rfc4733_key_from_the_phone_stops_it() {
        let (core, executor, _dir) = executor(DIALPLAN);
        install_sound(&core, "tone440", &tone(440.0, 8000 * 10));
        let (channel, _, mut peer) = media_channel(&core, "default", "s").await;
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        assert!(peer.recv_audio(Duration::from_secs(5)).await.is_some());
        peer.send_dtmf('5').await;
        task.await.unwrap();
        assert_eq!(channel.var("GOT").as_deref(), Some("5"));
    }
}
