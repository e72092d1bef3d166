//! `Hangup([cause])`: ends the call with a Q.850 cause (number or name).

use async_trait::async_trait;
use obelus_core::channel::Cause;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Hangup`.
pub struct Hangup;

#[async_trait]
impl Application for Hangup {
    fn name(&self) -> &'static str {
        "Hangup"
    }

    fn synopsis(&self) -> &'static str {
        "Hang up the calling channel."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = args.trim();
        let cause = if args.is_empty() {
            Cause::NORMAL_CLEARING
        } else {
            Cause::parse(args).unwrap_or_else(|| {
                tracing::warn!("Invalid cause given to Hangup(): \"{args}\"");
                Cause::NORMAL_CLEARING
            })
        };
        pbx.channel.request_hangup(cause);
        Err(AppError::Hangup(cause))
    }
}
