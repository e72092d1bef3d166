//! `PlayTones(arg)` (`app_playtones`): starts playing a tone and returns
//! at once; the tone goes on while the dialplan continues, until
//! `StopPlayTones()`, another playback on the channel, or the hangup. `arg`
//! is a tone name (`dial`, `ring`, `busy`, `congestion`, ... of the US
//! zone; per-country zones are not loaded yet) or an `indications.conf`
//! list such as `440+480/2000,0/4000`. An empty or invalid one ends the
//! call, as in Asterisk.

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_media::ToneSource;

use crate::media::stream;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `PlayTones`.
pub struct PlayTones;

#[async_trait]
impl Application for PlayTones {
    fn name(&self) -> &'static str {
        "PlayTones"
    }

    fn synopsis(&self) -> &'static str {
        "Play a tone list."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let spec = args.trim();
        if spec.is_empty() {
            tracing::info!("Nothing to play");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
        let tone = match ToneSource::named(spec, 8000) {
            Ok(t) => t,
            Err(e) => {
                tracing::info!("Unable to start playtones: {e}");
                return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
            }
        };
        match stream(pbx) {
            Some(s) => {
                s.play(Box::new(tone));
            }
            None => tracing::warn!("{}: no media stream to play tones on", pbx.channel.name()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::pbx::{Pbx, run};
    use crate::testing::media::{media_channel, share};
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn tones_play_on_until_stopped() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,PlayTones(ring)\n same => n,Wait(0.4)\n same => n,StopPlayTones()\n same => n,Wait(0.3)\n",
        );
        let (channel, driver, peer) = media_channel(&core, "default", "1").await;
        run(Pbx::new(executor, Arc::clone(&channel)).unwrap()).await;
        assert_eq!(driver.log(), vec!["hangup 16"], "tones do not answer");
        let sent = driver.stream().stats().packets_tx;
        let heard = peer.drain_audio().await;
        assert!(heard.len() >= 8000 * 3 / 10, "{} samples", heard.len());
        assert!(share(&heard, 440.0) > 0.3 && share(&heard, 480.0) > 0.3);
        // Stopped: nothing more is sent.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(driver.stream().stats().packets_tx, sent);
    }

    #[tokio::test]
    async fn an_indications_list_is_accepted_and_a_bad_one_ends_the_call() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,PlayTones(440/100,0/100)\n same => n,Set(A=1)\n same => n,PlayTones(loud)\n same => n,Set(B=1)\n",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("A").as_deref(), Some("1"));
        assert_eq!(channel.var("B"), None);
    }
}
