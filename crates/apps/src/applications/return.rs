//! `Return([value])`: returns from a `Gosub` to the priority after it,
//! restoring its `LOCAL` variables and setting `${GOSUB_RETVAL}`
//! (`app_stack.c`). Without a `Gosub` to return from, the call ends, as in
//! Asterisk.

use async_trait::async_trait;
use obelus_core::channel::Cause;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Return`.
pub struct Return;

#[async_trait]
impl Application for Return {
    fn name(&self) -> &'static str {
        "Return"
    }

    fn synopsis(&self) -> &'static str {
        "Return from gosub routine."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if pbx.gosub_return(Some(args)) {
            Ok(())
        } else {
            tracing::error!("Return without Gosub: stack is empty");
            Err(AppError::Hangup(Cause::NORMAL_CLEARING))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn without_gosub_hangs_up() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Return(x)\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None);
        assert_eq!(channel.var("GOSUB_RETVAL"), None);
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[tokio::test]
    async fn an_empty_return_clears_the_value() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,Set(GOSUB_RETVAL=old)\n same => n,Gosub(sub,s,1)\n same => n,Set(R=[${GOSUB_RETVAL}])\n\n[sub]\nexten => s,1,Return()\n",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("R").as_deref(), Some("[]"));
    }
}
