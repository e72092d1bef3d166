//! A dialplan run's channel bridged with another party until the call
//! ends ([`talk`], for Dial and ParkedCall), and the parties the run no
//! longer runs the dialplan for after a transfer: a transferee sent into
//! the dialplan, and two parties an attended transfer joined while the
//! transferer's dialplan run ends.

use std::sync::Arc;

use obelus_core::Core;
use obelus_core::bridge::{
    BridgeEnd, BridgeFeatures, Side, new_bridge_id, reclaim_media, two_party_as,
};
use obelus_core::channel::{Cause, Channel, ControlReceiver};

use crate::parking::{ParkRequest, Parking};
use crate::pbx::Pbx;
use crate::registry::AppError;

/// How [`talk`] bridges.
pub(crate) struct Talk {
    /// Who made the bridge (`BridgeCreator`).
    pub(crate) creator: &'static str,
    /// The feature codes each side may key.
    pub(crate) features: BridgeFeatures,
    /// Dial's `g`: the dialplan goes on when the callee hangs up.
    pub(crate) continue_after: bool,
}

/// Bridges the run's channel (the caller) with `callee` until the call
/// ends for the caller, carrying out transfers and parking on the way;
/// `after` runs each time a bridge ends (Dial's `ANSWEREDTIME`). `Ok`:
/// the dialplan goes on.
pub(crate) async fn talk(
    pbx: &mut Pbx,
    mut callee: Arc<Channel>,
    mut callee_control: ControlReceiver,
    talk: Talk,
    mut after: impl FnMut(&mut Pbx),
) -> Result<(), AppError> {
    let caller = Arc::clone(&pbx.channel);
    let core = Arc::clone(pbx.core());
    let (mut bridge_id, mut features) = (new_bridge_id(), talk.features);
    loop {
        let end = two_party_as(
            &core,
            bridge_id,
            talk.creator,
            &mut pbx.control,
            &mut callee_control,
            features,
        )
        .await;
        after(pbx);
        return match end {
            BridgeEnd::First(cause) => {
                callee.hangup(Cause::NORMAL_CLEARING).await;
                Err(AppError::HungUp(cause))
            }
            BridgeEnd::Second(_)
                if callee.redirect_pending() && callee.hangup_requested().is_none() =>
            {
                // The callee was redirected (AMI Redirect): it leaves the
                // bridge for the dialplan, and the caller's call is over.
                callee.return_control(callee_control);
                if let Some(executor) = core.channels.pbx() {
                    executor.start(Arc::clone(&callee));
                }
                Err(AppError::Hangup(Cause::NORMAL_CLEARING))
            }
            BridgeEnd::Second(cause) => {
                callee.hangup(cause).await;
                if talk.continue_after {
                    // Direct media ends with the bridge: the caller's
                    // phone sends to this server again.
                    reclaim_media(&caller).await;
                    Ok(())
                } else {
                    Err(AppError::Hangup(Cause::NORMAL_CLEARING))
                }
            }
            BridgeEnd::BlindTransfer {
                transferer: Side::Second,
                context,
                exten,
            } => {
                // The caller goes on at the target; the callee's call is over.
                callee.hangup(Cause::NORMAL_CLEARING).await;
                caller.redirect(&context, &exten, 1);
                Err(AppError::HungUp(Cause::NORMAL_CLEARING))
            }
            BridgeEnd::BlindTransfer {
                transferer: Side::First,
                context,
                exten,
            } => {
                // The callee starts a dialplan run at the target; the
                // caller's call is over.
                to_dialplan(&core, callee_control, &context, &exten).await;
                Err(AppError::Hangup(Cause::NORMAL_CLEARING))
            }
            BridgeEnd::AttendedTransfer {
                transferer: Side::Second,
                target,
                bridge_id: next,
            } => {
                // The callee joined the caller with its other call's
                // party, who takes its place here.
                callee.hangup(Cause::NORMAL_CLEARING).await;
                callee = Arc::clone(target.channel());
                callee_control = target;
                (bridge_id, features) = (next, BridgeFeatures::default());
                continue;
            }
            BridgeEnd::AttendedTransfer {
                transferer: Side::First,
                target,
                bridge_id: next,
            } => {
                // The caller joined the callee with its other call's
                // party: they talk on without this dialplan run.
                tokio::spawn(detached(core, next, callee_control, target));
                Err(AppError::Hangup(Cause::NORMAL_CLEARING))
            }
            BridgeEnd::HandedOver { handover, bridge } => {
                // The caller's call is replaced by an attended transfer
                // elsewhere, which takes the callee.
                if let Err(control) = handover.give(callee_control, bridge) {
                    control.channel().hangup(Cause::NORMAL_CLEARING).await;
                }
                Err(AppError::Hangup(Cause::NORMAL_CLEARING))
            }
            BridgeEnd::Park { parker } => {
                let Some(parking) = core.service::<Parking>() else {
                    tracing::warn!("Parking is not available: res_parking.so is not loaded");
                    bridge_id = new_bridge_id();
                    continue;
                };
                let (parkee, parker_channel) = match parker {
                    Side::First => (&callee, &caller),
                    Side::Second => (&caller, &callee),
                };
                let space =
                    match parking.reserve(parkee, Some(parker_channel), ParkRequest::default()) {
                        Ok(space) => space,
                        Err(e) => {
                            tracing::warn!("{}: park failed: {e}", parker_channel.name());
                            bridge_id = new_bridge_id();
                            continue;
                        }
                    };
                match parker {
                    Side::First => {
                        // The callee waits in the lot; the caller hears
                        // its slot and its call is over.
                        let slot = space.slot();
                        space.hold(callee_control);
                        crate::applications::park::announce(pbx, slot).await?;
                        Err(AppError::Hangup(Cause::NORMAL_CLEARING))
                    }
                    Side::Second => {
                        // The caller waits in the lot: this run lets go of
                        // it; the callee's call is over.
                        tracing::info!(
                            verbose = 3,
                            "{}: parked {} on {}",
                            callee.name(),
                            caller.name(),
                            space.slot()
                        );
                        callee.hangup(Cause::NORMAL_CLEARING).await;
                        Err(pbx.detach(move |control| space.hold(control)))
                    }
                }
            }
        };
    }
}

/// Starts a dialplan run for `control`'s channel at `exten@context` (a
/// blind transfer's transferee); without a dialplan, hangs it up.
pub(super) async fn to_dialplan(core: &Core, control: ControlReceiver, context: &str, exten: &str) {
    let channel = Arc::clone(control.channel());
    channel.set_location(context, exten, 1);
    channel.return_control(control);
    match core.channels.pbx() {
        Some(executor) => executor.start(channel),
        None => channel.hangup(Cause::NORMAL_CLEARING).await,
    }
}

/// Bridges `a` and `b` (an attended transfer's transferee and target) in
/// bridge `id` on a task of their own, until their call ends; later
/// transfers by either are carried out the same way.
pub(super) async fn detached(
    core: Arc<Core>,
    id: String,
    mut a: ControlReceiver,
    mut b: ControlReceiver,
) {
    let mut id = id;
    loop {
        let end = two_party_as(&core, id, "Dial", &mut a, &mut b, BridgeFeatures::default()).await;
        let (first, second) = (Arc::clone(a.channel()), Arc::clone(b.channel()));
        match end {
            BridgeEnd::First(cause) => {
                first.hangup(cause).await;
                second.hangup(Cause::NORMAL_CLEARING).await;
            }
            BridgeEnd::Second(cause) => {
                second.hangup(cause).await;
                first.hangup(Cause::NORMAL_CLEARING).await;
            }
            BridgeEnd::BlindTransfer {
                transferer,
                context,
                exten,
            } => {
                let (gone, stays) = match transferer {
                    Side::First => (first, b),
                    Side::Second => (second, a),
                };
                gone.hangup(Cause::NORMAL_CLEARING).await;
                to_dialplan(&core, stays, &context, &exten).await;
            }
            BridgeEnd::AttendedTransfer {
                transferer,
                target,
                bridge_id,
            } => {
                match transferer {
                    Side::First => {
                        first.hangup(Cause::NORMAL_CLEARING).await;
                        a = target;
                    }
                    Side::Second => {
                        second.hangup(Cause::NORMAL_CLEARING).await;
                        b = target;
                    }
                }
                id = bridge_id;
                continue;
            }
            BridgeEnd::HandedOver { handover, bridge } => {
                if let Err(control) = handover.give(b, bridge) {
                    control.channel().hangup(Cause::NORMAL_CLEARING).await;
                }
                first.hangup(Cause::NORMAL_CLEARING).await;
            }
            // No feature codes here: parking cannot be keyed.
            BridgeEnd::Park { .. } => {
                first.hangup(Cause::NORMAL_CLEARING).await;
                second.hangup(Cause::NORMAL_CLEARING).await;
            }
        }
        return;
    }
}
