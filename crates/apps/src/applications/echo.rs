//! `Echo()` (`app_echo.c`): sends the caller's audio and DTMF straight
//! back, to test a line's audio path and delay, until the caller hangs up
//! or presses `#` (then the dialplan continues). The loop runs on the media
//! thread (`Stream::set_echo`), not through the executor. Like Asterisk's,
//! it does not answer the channel.

use async_trait::async_trait;
use obelus_core::channel::Control;

use crate::media::stream;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Echo`.
pub struct Echo;

#[async_trait]
impl Application for Echo {
    fn name(&self) -> &'static str {
        "Echo"
    }

    fn synopsis(&self) -> &'static str {
        "Echo media, DTMF back to the calling party"
    }

    async fn exec(&self, pbx: &mut Pbx, _args: &str) -> Result<(), AppError> {
        let stream = stream(pbx);
        match &stream {
            Some(s) => s.set_echo(true),
            None => tracing::warn!("{}: no media stream to echo", pbx.channel.name()),
        }
        let end = loop {
            match pbx.control.recv().await {
                Ok(Control::Dtmf { digit: '#', .. }) => break Ok(()),
                Ok(_) => {}
                Err(hungup) => break Err(hungup.into()),
            }
        };
        if let Some(s) = stream {
            s.set_echo(false);
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::pbx::{Pbx, run};
    use crate::testing::executor;
    use crate::testing::media::{FRAME, media_channel, share, tone};

    #[tokio::test]
    async fn returns_what_was_sent_until_hash() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,Answer()\n same => n,Echo()\n same => n,Set(AFTER=1)\n",
        );
        let (channel, driver, mut peer) = media_channel(&core, "default", "1").await;
        let task = tokio::spawn(run(Pbx::new(executor, Arc::clone(&channel)).unwrap()));
        let sent = tone(700.0, FRAME * 500);
        let mut echoed = Vec::new();
        for frame in sent.chunks(FRAME) {
            peer.send_audio(frame).await;
            while let Some(back) = peer.recv_audio(Duration::from_millis(1)).await {
                echoed.extend(back);
            }
            if echoed.len() >= FRAME * 10 {
                break;
            }
        }
        assert!(
            echoed.len() >= FRAME * 10,
            "echoed {} samples",
            echoed.len()
        );
        assert!(share(&echoed, 700.0) > 0.8, "{}", share(&echoed, 700.0));
        assert!(!task.is_finished());
        peer.send_dtmf('#').await;
        task.await.unwrap();
        assert_eq!(channel.var("AFTER").as_deref(), Some("1"));
        assert_eq!(driver.log(), vec!["answer", "hangup 16"]);
        // The key went back too, as telephone-events.
        let mut dtmf_back = false;
        while let Some(p) = peer.recv(Duration::from_millis(300)).await {
            dtmf_back |= p.payload_type == 101;
        }
        assert!(dtmf_back);
    }
}
