//! `StopPlayTones()`: stops the tone `PlayTones` started (whatever plays on
//! the channel's stream; between applications that can only be a tone).

use async_trait::async_trait;

use crate::media::stream;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `StopPlayTones`.
pub struct StopPlayTones;

#[async_trait]
impl Application for StopPlayTones {
    fn name(&self) -> &'static str {
        "StopPlayTones"
    }

    fn synopsis(&self) -> &'static str {
        "Stop playing a tone list."
    }

    async fn exec(&self, pbx: &mut Pbx, _args: &str) -> Result<(), AppError> {
        if let Some(s) = stream(pbx) {
            s.stop_playback();
        }
        Ok(())
    }
}
