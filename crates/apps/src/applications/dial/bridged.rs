//! Parties Dial no longer runs the dialplan for, after a transfer: a
//! transferee sent into the dialplan, and two parties an attended transfer
//! joined while the transferer's dialplan run ends.

use std::sync::Arc;

use obelus_core::Core;
use obelus_core::bridge::{BridgeEnd, BridgeFeatures, Side, two_party_as};
use obelus_core::channel::{Cause, ControlReceiver};

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
        }
        return;
    }
}
