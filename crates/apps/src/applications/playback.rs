//! `Playback(file[&file2...][,options])` (`app_playback.c`): plays sound
//! files to the end, ignoring DTMF, and sets `PLAYBACKSTATUS` to `SUCCESS`
//! or `FAILED` (a file that could not be played is a warning and the next
//! one still plays).
//!
//! Options (words, as in Asterisk): `skip` does nothing on a channel that
//! is not answered, `noanswer` plays without answering (early media);
//! otherwise the channel is answered first. `say` and `mix` (say.conf
//! expressions) are not supported: the names are played as files.

use async_trait::async_trait;
use obelus_core::channel::{Cause, ChannelState};
use obelus_dialplan::args::standard_args;

use crate::media::{Played, answer, play_file, stream};
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Playback`.
pub struct Playback;

/// The file names of a `file&file2` argument.
pub(crate) fn file_list(arg: Option<&String>) -> Vec<String> {
    arg.map(|a| {
        a.split('&')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

#[async_trait]
impl Application for Playback {
    fn name(&self) -> &'static str {
        "Playback"
    }

    fn synopsis(&self) -> &'static str {
        "Play a file."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = standard_args(args);
        let files = file_list(args.first());
        if files.is_empty() {
            tracing::warn!("Playback requires an argument (filename)");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
        let options = args
            .get(1)
            .map(|o| o.to_ascii_lowercase())
            .unwrap_or_default();
        if options.contains("say") || options.contains("mix") {
            tracing::debug!("Playback: 'say' and 'mix' are not supported; playing files");
        }
        if pbx.channel.state() != ChannelState::Up {
            if options.contains("skip") {
                pbx.set("PLAYBACKSTATUS", "SUCCESS");
                return Ok(());
            }
            if !options.contains("noanswer") {
                answer(pbx).await?;
            }
        }
        let stream = stream(pbx);
        let language = pbx.channel.language();
        let mut failed = false;
        for file in &files {
            match play_file(pbx, stream.as_deref(), file, &language, |_| false).await {
                Ok(Played::Missing) => {
                    tracing::warn!(
                        "Playback failed on {} for {}",
                        pbx.channel.name(),
                        files.join("&")
                    );
                    failed = true;
                }
                Ok(_) => {}
                Err(e) => {
                    pbx.set("PLAYBACKSTATUS", "FAILED");
                    return Err(e);
                }
            }
        }
        pbx.set("PLAYBACKSTATUS", if failed { "FAILED" } else { "SUCCESS" });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use obelus_core::channel::Cause;

    use crate::applications::capture::Capture;
    use crate::pbx::{Pbx, run};
    use crate::testing::media::{install_sound, media_channel, share, tone};
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn answers_and_sends_the_file_as_rtp() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,Playback(tone440)\n same => n,Set(AFTER=${PLAYBACKSTATUS})\n",
        );
        install_sound(&core, "tone440", &tone(440.0, 3200));
        let (channel, driver, peer) = media_channel(&core, "default", "1").await;
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(channel.var("AFTER").as_deref(), Some("SUCCESS"));
        assert_eq!(driver.log(), vec!["answer", "hangup 16"]);
        let heard = peer.drain_audio().await;
        assert!(
            (3200..=3200 + 160).contains(&heard.len()),
            "{} samples",
            heard.len()
        );
        assert!(share(&heard, 440.0) > 0.8, "{}", share(&heard, 440.0));
    }

    #[tokio::test]
    async fn a_missing_file_is_a_warning_naming_the_paths_and_the_rest_plays() {
        let (core, executor, dir) =
            executor("[default]\nexten => 1,1,Playback(nothere&tone440,noanswer)\n");
        install_sound(&core, "tone440", &tone(440.0, 800));
        let (channel, driver, peer) = media_channel(&core, "default", "1").await;
        let (capture, _guard) = Capture::install();
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(channel.var("PLAYBACKSTATUS").as_deref(), Some("FAILED"));
        assert_eq!(driver.log(), vec!["hangup 16"], "noanswer: not answered");
        let warning = capture
            .lines()
            .into_iter()
            .find(|(level, _, m)| level == "WARN" && m.contains("nothere"))
            .expect("a warning");
        let expected = dir.path().join("sounds/en/nothere");
        assert!(
            warning.2.contains(expected.to_str().unwrap()),
            "{warning:?}"
        );
        assert!(share(&peer.drain_audio().await, 440.0) > 0.8);
    }

    #[tokio::test]
    async fn skip_does_nothing_on_an_unanswered_channel() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Playback(tone440,skip)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("PLAYBACKSTATUS").as_deref(), Some("SUCCESS"));
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[tokio::test]
    async fn without_a_file_the_call_ends() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Playback()\n same => n,Set(AFTER=1)\n");
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None);
    }

    #[tokio::test]
    async fn a_hangup_stops_the_playback() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Playback(long)\n");
        install_sound(&core, "long", &tone(440.0, 8000 * 10));
        let (channel, _, peer) = media_channel(&core, "default", "1").await;
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        assert!(
            peer.recv_audio(std::time::Duration::from_secs(5))
                .await
                .is_some()
        );
        channel.request_hangup(Cause::NORMAL_CLEARING);
        task.await.unwrap();
        assert_eq!(channel.var("PLAYBACKSTATUS").as_deref(), Some("FAILED"));
        let rest = peer.drain_audio().await;
        assert!(
            rest.len() < 8000 * 9,
            "stopped early: {} samples",
            rest.len()
        );
    }
}
