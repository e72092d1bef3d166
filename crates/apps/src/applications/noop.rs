//! `NoOp([text])`: does nothing; the text shows in the verbose log.

use async_trait::async_trait;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `NoOp`.
pub struct NoOp;

#[async_trait]
impl Application for NoOp {
    fn name(&self) -> &'static str {
        "NoOp"
    }

    fn synopsis(&self) -> &'static str {
        "Do Nothing (No Operation)."
    }

    async fn exec(&self, _pbx: &mut Pbx, _args: &str) -> Result<(), AppError> {
        Ok(())
    }
}
