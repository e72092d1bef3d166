//! `Park([lot[,options]])` and `ParkedCall([lot[,slot]])` (`res_parking`):
//! parking the channel in a lot, and picking a parked call up.
//!
//! `Park` answers, takes a slot, says it to the channel (unless `s`) and
//! leaves the channel to the lot: this dialplan run ends without hanging
//! up. Options: `r` ringing instead of music on hold, `R` (accepted; slots
//! are not randomised), `s` no announcement, `t(seconds)` instead of the
//! lot's `parkingtime`, `c(context)`/`e(exten)`/`n(priority)` where a
//! timeout goes instead of the parker. The parker, to whom a timeout
//! returns the call, is the channel that blind- or attended-transferred it
//! here (`BLINDTRANSFER`, `ATTENDEDTRANSFER`), else the channel itself.
//!
//! `ParkedCall` answers and bridges with the call in `slot` (or the first
//! parked in the lot); without such a call it hangs up, as Asterisk does.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::{Cause, ChannelState};

use super::dial::bridged::{self, Talk};
use crate::media::{Played, answer, play_file, stream};
use crate::options::Flags;
use crate::parking::{DEFAULT_LOT, ParkRequest, Parking};
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Park`.
pub struct Park;

/// `ParkedCall`.
pub struct ParkedCall;

fn parking(pbx: &Pbx) -> Result<Arc<Parking>, AppError> {
    pbx.core().service::<Parking>().ok_or_else(|| {
        tracing::warn!("Parking is not available: res_parking.so is not loaded");
        AppError::Hangup(Cause::FAILURE)
    })
}

/// `Park`'s options as a request for `lot`.
fn request(lot: &str, options: &str) -> ParkRequest {
    let flags = Flags::parse(options);
    let comeback = (flags.has('c') || flags.has('e') || flags.has('n')).then(|| {
        let arg = |f: char| flags.arg(f).map(str::trim).unwrap_or_default().to_owned();
        let priority = arg('n').parse().unwrap_or(1);
        let exten = Some(arg('e'))
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "s".to_owned());
        (arg('c'), exten, priority)
    });
    ParkRequest {
        lot: (!lot.is_empty()).then(|| lot.to_owned()),
        slot: None,
        timeout: flags
            .arg('t')
            .and_then(|t| t.trim().parse::<u64>().ok())
            .map(Duration::from_secs),
        comeback,
        ringing: flags.has('r'),
    }
}

/// Says `slot` to the run's channel digit by digit where the `digits/`
/// prompts are installed; otherwise it is only logged (`PARKINGSLOT`
/// holds it either way).
pub(crate) async fn announce(pbx: &mut Pbx, slot: u32) -> Result<(), AppError> {
    let language = pbx.channel.language();
    let data_dir = pbx.core().settings.dirs.data.clone();
    let digits = slot.to_string();
    let installed = {
        let (data_dir, language, digits) = (data_dir.clone(), language.clone(), digits.clone());
        tokio::task::spawn_blocking(move || {
            digits
                .chars()
                .all(|d| crate::sounds::find(&data_dir, &format!("digits/{d}"), &language).is_ok())
        })
        .await
        .unwrap_or(false)
    };
    if !installed {
        tracing::info!(
            verbose = 3,
            "{}: parking space {slot} (no digits/ prompts to say it)",
            pbx.channel.name()
        );
        return Ok(());
    }
    let media = stream(pbx);
    for d in digits.chars() {
        let name = format!("digits/{d}");
        if play_file(pbx, media.as_deref(), &name, &language, |_| false).await? == Played::Missing {
            break;
        }
    }
    Ok(())
}

#[async_trait]
impl Application for Park {
    fn name(&self) -> &'static str {
        "Park"
    }

    fn synopsis(&self) -> &'static str {
        "Park yourself."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let parking = parking(pbx)?;
        let args = obelus_dialplan::args::standard_args(args);
        let arg = |i: usize| args.get(i).map_or("", |a| a.trim());
        let request = request(arg(0), arg(1));
        let silent = Flags::parse(arg(1)).has('s');
        if pbx.channel.state() != ChannelState::Up {
            answer(pbx).await?;
        }
        let core = pbx.core();
        let parker = ["BLINDTRANSFER", "ATTENDEDTRANSFER"]
            .iter()
            .filter_map(|v| pbx.channel.var(v))
            .find_map(|name| core.channels.find(&name));
        let space = match parking.reserve(&pbx.channel, parker.as_ref(), request) {
            Ok(space) => space,
            Err(e) => {
                tracing::warn!("{}: park failed: {e}", pbx.channel.name());
                return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
            }
        };
        if !silent {
            announce(pbx, space.slot()).await?;
        }
        Err(pbx.detach(move |control| space.hold(control)))
    }
}

#[async_trait]
impl Application for ParkedCall {
    fn name(&self) -> &'static str {
        "ParkedCall"
    }

    fn synopsis(&self) -> &'static str {
        "Retrieve a parked call."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let parking = parking(pbx)?;
        let args = obelus_dialplan::args::standard_args(args);
        let lot = args
            .first()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .unwrap_or(DEFAULT_LOT)
            .to_owned();
        let slot = match args.get(1).map(|a| a.trim()).filter(|a| !a.is_empty()) {
            Some(text) => match text.parse::<u32>() {
                Ok(slot) => Some(slot),
                Err(_) => {
                    tracing::warn!("ParkedCall: '{text}' is not a parking space");
                    return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
                }
            },
            None => None,
        };
        let channel = Arc::clone(&pbx.channel);
        let Some((parked, slot)) = parking.retrieve(&lot, slot, &channel).await else {
            tracing::info!(
                verbose = 3,
                "{}: no parked call in lot {lot}{}",
                channel.name(),
                slot.map(|s| format!(" space {s}")).unwrap_or_default()
            );
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        };
        if channel.state() != ChannelState::Up {
            answer(pbx).await?;
        }
        let parkee = Arc::clone(parked.channel());
        tracing::info!(
            verbose = 3,
            "{} picked up parked call {} from {slot}@{lot}",
            channel.name(),
            parkee.name()
        );
        channel.set_connected(parkee.caller());
        bridged::talk(
            pbx,
            parkee,
            parked,
            Talk {
                creator: "ParkedCall",
                features: Default::default(),
                continue_after: false,
            },
            |_| {},
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_make_the_request() {
        let r = request("sales", "rt(10)c(back)e(9)n(2)");
        assert_eq!(r.lot.as_deref(), Some("sales"));
        assert!(r.ringing);
        assert_eq!(r.timeout, Some(Duration::from_secs(10)));
        assert_eq!(r.comeback, Some(("back".into(), "9".into(), 2)));
        let r = request("", "c(back)");
        assert_eq!(r.lot, None);
        assert_eq!(r.comeback, Some(("back".into(), "s".into(), 1)));
        assert_eq!(request("", "s"), ParkRequest::default());
    }
}
