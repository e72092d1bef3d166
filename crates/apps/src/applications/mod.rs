//! The dialplan applications, one file each (named as Asterisk's
//! `app_*.c` or the builtin they replace).

mod answer;
mod background;
mod busy;
#[cfg(test)]
mod capture;
mod congestion;
pub(crate) mod dial;
mod echo;
mod execif;
mod gosub;
mod gosubif;
mod goto;
mod gotoif;
mod gotoiftime;
mod hangup;
mod log;
mod milliwatt;
pub mod mixmonitor;
mod mset;
mod musiconhold;
mod noop;
pub(crate) mod park;
mod playback;
mod playtones;
mod progress;
mod read;
mod record;
mod r#return;
mod ringing;
mod senddtmf;
mod set;
mod stopplaytones;
mod userevent;
mod verbose;
mod wait;
mod waitexten;

use std::sync::Arc;

use crate::registry::Registry;

/// Registers every application.
pub fn register_all(registry: &Registry) {
    registry.add_application(Arc::new(answer::Answer));
    registry.add_application(Arc::new(background::Background));
    registry.add_application(Arc::new(busy::Busy));
    registry.add_application(Arc::new(congestion::Congestion));
    registry.add_application(Arc::new(dial::Dial));
    registry.add_application(Arc::new(park::Park));
    registry.add_application(Arc::new(park::ParkedCall));
    registry.add_application(Arc::new(echo::Echo));
    registry.add_application(Arc::new(execif::ExecIf));
    registry.add_application(Arc::new(gosub::Gosub));
    registry.add_application(Arc::new(gosubif::GosubIf));
    registry.add_application(Arc::new(goto::Goto));
    registry.add_application(Arc::new(gotoif::GotoIf));
    registry.add_application(Arc::new(gotoiftime::GotoIfTime));
    registry.add_application(Arc::new(hangup::Hangup));
    registry.add_application(Arc::new(log::Log));
    registry.add_application(Arc::new(milliwatt::Milliwatt));
    registry.add_application(Arc::new(mixmonitor::MixMonitor));
    registry.add_application(Arc::new(mset::MSet));
    registry.add_application(Arc::new(musiconhold::MusicOnHold));
    registry.add_application(Arc::new(noop::NoOp));
    registry.add_application(Arc::new(playback::Playback));
    registry.add_application(Arc::new(playtones::PlayTones));
    registry.add_application(Arc::new(progress::Progress));
    registry.add_application(Arc::new(read::Read));
    registry.add_application(Arc::new(record::Record));
    registry.add_application(Arc::new(r#return::Return));
    registry.add_application(Arc::new(ringing::Ringing));
    registry.add_application(Arc::new(senddtmf::SendDtmf));
    registry.add_application(Arc::new(set::Set));
    registry.add_application(Arc::new(musiconhold::StartMusicOnHold));
    registry.add_application(Arc::new(stopplaytones::StopPlayTones));
    registry.add_application(Arc::new(mixmonitor::StopMixMonitor));
    registry.add_application(Arc::new(musiconhold::StopMusicOnHold));
    registry.add_application(Arc::new(userevent::UserEvent));
    registry.add_application(Arc::new(verbose::Verbose));
    registry.add_application(Arc::new(wait::Wait));
    registry.add_application(Arc::new(waitexten::WaitExten));
}
