//! `Congestion([timeout])`: signals congestion, waits `timeout` seconds (or
//! until the caller hangs up), then ends the call (`pbx_builtin_congestion`).
//! An unanswered channel goes to state Busy (as in Asterisk) with cause 34.

use async_trait::async_trait;
use obelus_core::channel::{Cause, Indication};

use super::busy::refuse;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Congestion`.
pub struct Congestion;

#[async_trait]
impl Application for Congestion {
    fn name(&self) -> &'static str {
        "Congestion"
    }

    fn synopsis(&self) -> &'static str {
        "Indicate the Congestion condition."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        refuse(pbx, args, Indication::Congestion, Cause::CONGESTION).await
    }
}

#[cfg(test)]
mod tests {
    use obelus_core::channel::{Cause, ChannelState};

    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn signals_congestion_and_hangs_up_with_34() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Congestion(0.01)\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None);
        assert_eq!(channel.state(), ChannelState::Busy);
        assert_eq!(channel.hangup_cause(), Cause::CONGESTION);
        assert_eq!(driver.log(), vec!["indicate Congestion", "hangup 34"]);
    }
}
