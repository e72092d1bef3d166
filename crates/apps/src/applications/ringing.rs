//! `Ringing()`: tells the caller the far end is ringing (SIP 180)
//! (`pbx_builtin_ringing`).

use async_trait::async_trait;
use obelus_core::channel::Indication;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Ringing`.
pub struct Ringing;

#[async_trait]
impl Application for Ringing {
    fn name(&self) -> &'static str {
        "Ringing"
    }

    fn synopsis(&self) -> &'static str {
        "Indicate ringing tone."
    }

    async fn exec(&self, pbx: &mut Pbx, _args: &str) -> Result<(), AppError> {
        pbx.channel
            .driver()
            .indicate(&pbx.channel, Indication::Ringing)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn indicates_ringing() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Ringing()\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER").as_deref(), Some("1"));
        assert_eq!(driver.log(), vec!["indicate Ringing", "hangup 16"]);
    }
}
