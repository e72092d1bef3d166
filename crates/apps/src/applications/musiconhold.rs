//! `MusicOnHold([class[,duration]])`, `StartMusicOnHold([class])` and
//! `StopMusicOnHold()` (`res_musiconhold.c`): music on hold from the
//! dialplan. The class is chosen as for every start (see
//! [`crate::moh::MusicOnHold::start`]): `CHANNEL(musicclass)`, the class
//! asked for, `default`.

use std::time::Duration;

use async_trait::async_trait;

use crate::moh::{self, MusicOnHold as Service};
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// The class argument, `None` when empty.
fn class_arg(args: &[String]) -> Option<&str> {
    args.first().map(|c| c.trim()).filter(|c| !c.is_empty())
}

/// Starts music on hold on the channel; a failure is a warning and the
/// dialplan goes on, as in Asterisk.
fn start(pbx: &Pbx, class: Option<&str>) -> bool {
    let Some(service) = pbx.core().service::<Service>() else {
        tracing::warn!(
            "Unable to start music on hold class '{}' on channel {}: res_musiconhold.so is not loaded",
            class.unwrap_or(""),
            pbx.channel.name()
        );
        return false;
    };
    match service.start(&pbx.channel, class) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(
                "Unable to start music on hold class '{}' on channel {}: {e}",
                class.unwrap_or(""),
                pbx.channel.name()
            );
            false
        }
    }
}

/// `MusicOnHold`.
pub struct MusicOnHold;

#[async_trait]
impl Application for MusicOnHold {
    fn name(&self) -> &'static str {
        "MusicOnHold"
    }

    fn synopsis(&self) -> &'static str {
        "Play Music On Hold indefinitely."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = obelus_dialplan::args::standard_args(args);
        let duration = match args.get(1).map(|d| d.trim()).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => match d.parse::<i64>() {
                Ok(seconds) if seconds > 0 => Some(Duration::from_secs(seconds.unsigned_abs())),
                Ok(_) => None,
                Err(_) => {
                    tracing::warn!("Invalid MusicOnHold duration '{d}'. Will wait indefinitely.");
                    None
                }
            },
        };
        if !start(pbx, class_arg(&args)) {
            return Ok(());
        }
        let waited = match duration {
            Some(d) => pbx.control.sleep(d).await,
            None => loop {
                if let Err(hungup) = pbx.control.sleep(Duration::from_secs(10)).await {
                    break Err(hungup);
                }
            },
        };
        moh::stop(pbx.core(), &pbx.channel);
        waited.map_err(AppError::from)
    }
}

/// `StartMusicOnHold`.
pub struct StartMusicOnHold;

#[async_trait]
impl Application for StartMusicOnHold {
    fn name(&self) -> &'static str {
        "StartMusicOnHold"
    }

    fn synopsis(&self) -> &'static str {
        "Play Music On Hold."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = obelus_dialplan::args::standard_args(args);
        start(pbx, class_arg(&args));
        Ok(())
    }
}

/// `StopMusicOnHold`.
pub struct StopMusicOnHold;

#[async_trait]
impl Application for StopMusicOnHold {
    fn name(&self) -> &'static str {
        "StopMusicOnHold"
    }

    fn synopsis(&self) -> &'static str {
        "Stop playing Music On Hold."
    }

    async fn exec(&self, pbx: &mut Pbx, _args: &str) -> Result<(), AppError> {
        moh::stop(pbx.core(), &pbx.channel);
        Ok(())
    }
}
