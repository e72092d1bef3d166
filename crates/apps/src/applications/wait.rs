//! `Wait(seconds)`: waits (fractions allowed), ending early on hangup.

use std::time::Duration;

use async_trait::async_trait;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Wait`.
pub struct Wait;

#[async_trait]
impl Application for Wait {
    fn name(&self) -> &'static str {
        "Wait"
    }

    fn synopsis(&self) -> &'static str {
        "Waits for some time."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let seconds = args.trim().parse::<f64>().unwrap_or(0.0);
        if seconds.is_finite() && seconds > 0.0 {
            pbx.control.sleep(Duration::from_secs_f64(seconds)).await?;
        }
        Ok(())
    }
}
