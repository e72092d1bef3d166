//! `Set(name=value)`: a channel variable (`_X`/`__X` inherited), a global
//! via `GLOBAL(x)`, or a function write (`CALLERID(num)=...`).

use async_trait::async_trait;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Set`.
pub struct Set;

#[async_trait]
impl Application for Set {
    fn name(&self) -> &'static str {
        "Set"
    }

    fn synopsis(&self) -> &'static str {
        "Set channel variable or function value."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        match args.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => pbx.set(name, value),
            _ => tracing::warn!("Set requires an argument (variable=value)"),
        }
        Ok(())
    }
}
