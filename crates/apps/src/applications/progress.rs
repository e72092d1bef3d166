//! `Progress()`: signals call progress with early media (SIP 183) without
//! answering (`pbx_builtin_progress`).

use async_trait::async_trait;
use obelus_core::channel::Indication;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Progress`.
pub struct Progress;

#[async_trait]
impl Application for Progress {
    fn name(&self) -> &'static str {
        "Progress"
    }

    fn synopsis(&self) -> &'static str {
        "Indicate progress."
    }

    async fn exec(&self, pbx: &mut Pbx, _args: &str) -> Result<(), AppError> {
        pbx.channel
            .driver()
            .indicate(&pbx.channel, Indication::Progress)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn indicates_progress() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,Progress()\n");
        let (_, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(driver.log(), vec!["indicate Progress", "hangup 16"]);
    }
}
