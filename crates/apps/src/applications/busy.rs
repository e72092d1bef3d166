//! `Busy([timeout])`: signals busy, waits `timeout` seconds (or until the
//! caller hangs up), then ends the call (`pbx_builtin_busy`). An unanswered
//! channel goes to state Busy with cause 17 (user busy); an answered one
//! only hears the tone. `Congestion` shares [`refuse`].

use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::{Cause, ChannelState, Indication};

use crate::functions::scan::scan_float;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Busy`.
pub struct Busy;

/// The longest wait a timeout may ask for (a year): beyond, it is "until
/// hangup" in practice, and `Duration` must not overflow.
const MAX_WAIT_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// Asterisk's `wait_for_hangup`: waits `timeout` seconds, or until hangup
/// when it is empty, not a number or negative.
async fn wait_for_hangup(pbx: &mut Pbx, timeout: &str) -> Result<(), AppError> {
    match scan_float(timeout).filter(|s| *s >= 0.0 && !s.is_nan()) {
        Some(secs) => {
            let secs = secs.min(MAX_WAIT_SECS);
            pbx.control.sleep(Duration::from_secs_f64(secs)).await?;
        }
        None => loop {
            pbx.control.recv().await?;
        },
    }
    Ok(())
}

/// Indicates `indication`, marks an unanswered channel busy with `cause`,
/// waits, and ends the call.
pub async fn refuse(
    pbx: &mut Pbx,
    timeout: &str,
    indication: Indication,
    cause: Cause,
) -> Result<(), AppError> {
    pbx.channel
        .driver()
        .indicate(&pbx.channel, indication)
        .await;
    let answered = pbx.channel.state() == ChannelState::Up;
    if !answered {
        pbx.channel.set_hangup_cause(cause);
        pbx.channel.set_state(ChannelState::Busy);
    }
    wait_for_hangup(pbx, timeout).await?;
    Err(AppError::Hangup(if answered {
        Cause::NORMAL_CLEARING
    } else {
        cause
    }))
}

#[async_trait]
impl Application for Busy {
    fn name(&self) -> &'static str {
        "Busy"
    }

    fn synopsis(&self) -> &'static str {
        "Indicate the Busy condition."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        refuse(pbx, args, Indication::Busy, Cause::USER_BUSY).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use obelus_core::channel::{Cause, ChannelState};

    use crate::pbx::{Pbx, run};
    use crate::testing::{channel, executor, run_call};

    #[tokio::test]
    async fn signals_busy_waits_and_hangs_up_with_17() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Busy(0.01)\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None);
        assert_eq!(channel.state(), ChannelState::Busy);
        assert_eq!(channel.hangup_cause(), Cause::USER_BUSY);
        assert_eq!(driver.log(), vec!["indicate Busy", "hangup 17"]);
    }

    #[tokio::test]
    async fn without_timeout_waits_for_the_hangup() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Busy()\n");
        let (channel, driver) = channel(&core, "default", "1");
        let pbx = Pbx::new(executor, Arc::clone(&channel)).unwrap();
        let task = tokio::spawn(run(pbx));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!channel.is_hung_up(), "Busy() waits for the caller");
        channel.request_hangup(Cause::NORMAL_CLEARING);
        task.await.unwrap();
        assert_eq!(driver.log(), vec!["indicate Busy", "hangup 17"]);
    }

    #[tokio::test]
    async fn an_answered_channel_keeps_its_state() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Answer()\n same => n,Busy(0)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(driver.log(), vec!["answer", "indicate Busy", "hangup 16"]);
        assert_eq!(channel.hangup_cause(), Cause::NORMAL_CLEARING);
    }
}
