//! `Answer([delay])`: answers the channel, then waits `delay` ms.

use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::Cause;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Answer`.
pub struct Answer;

#[async_trait]
impl Application for Answer {
    fn name(&self) -> &'static str {
        "Answer"
    }

    fn synopsis(&self) -> &'static str {
        "Answer a channel if ringing."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = obelus_dialplan::args::standard_args(args);
        let delay = args
            .first()
            .and_then(|d| d.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if let Err(cause) = pbx.channel.answer().await {
            tracing::warn!("{}: answer failed: {}", pbx.channel.name(), cause.text());
            return Err(AppError::Hangup(if cause == Cause::NOT_DEFINED {
                Cause::FAILURE
            } else {
                cause
            }));
        }
        if delay > 0 {
            pbx.control.sleep(Duration::from_millis(delay)).await?;
        }
        Ok(())
    }
}
