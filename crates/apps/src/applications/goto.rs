//! `Goto([[context,]extension,]priority)`: jumps; the priority may be a
//! label.

use async_trait::async_trait;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Goto`.
pub struct Goto;

#[async_trait]
impl Application for Goto {
    fn name(&self) -> &'static str {
        "Goto"
    }

    fn synopsis(&self) -> &'static str {
        "Jump to a particular priority, extension, or context."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        pbx.goto(args).await
    }
}
