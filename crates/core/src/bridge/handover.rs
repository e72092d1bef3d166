//! Attended transfers between two two-party bridges. The bridge of the
//! transferer's call with the transferee asks the bridge of its other call
//! (through the replaced channel's mailbox) for the target's mailbox; a
//! bridge can only give up its second channel (its owner holds that
//! mailbox by value: a Dial's callee), so when the target is the other
//! bridge's first channel, this bridge offers its own second channel
//! (the transferee) instead, and the other bridge's owner goes on with it.
//! Either way the transferee and the target meet in a new bridge whose id
//! the `AttendedTransfer` event names.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::Side;
use crate::Core;
use crate::channel::{Channel, Control, ControlReceiver, TransferState};
use crate::events::{AttendedTransferEvent, BridgeSnapshot, Event, TransferResult};

/// How long a bridge waits for the other bridge to hand its party over.
const WAIT: Duration = Duration::from_secs(5);

/// What a handed-over party comes with: its mailbox, and the bridge it
/// left (for the transfer's event).
pub type HandedOver = (ControlReceiver, BridgeSnapshot);

/// A request from one bridge to another to give up one of its channels
/// (the peer of the channel an attended transfer replaces). Answered at
/// most once; dropping every copy unanswered refuses it.
#[derive(Clone)]
pub struct Handover(Arc<Mutex<Option<oneshot::Sender<HandedOver>>>>);

impl Handover {
    /// A request, and where its answer arrives.
    pub fn new() -> (Handover, oneshot::Receiver<HandedOver>) {
        let (tx, rx) = oneshot::channel();
        (Handover(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Hands `control` (and the bridge it was in) to the requester; gives
    /// it back if the requester is gone or was already answered.
    pub fn give(
        &self,
        control: ControlReceiver,
        bridge: BridgeSnapshot,
    ) -> Result<(), ControlReceiver> {
        let tx = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        match tx {
            Some(tx) => tx.send((control, bridge)).map_err(|(control, _)| control),
            None => Err(control),
        }
    }
}

impl PartialEq for Handover {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Handover {}

impl std::fmt::Debug for Handover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handover")
    }
}

/// An offer from one bridge to another: "take my second channel in place
/// of your second channel" (an attended transfer whose replaced channel
/// is the callee of its bridge, so only that bridge's owner can go on).
/// The receiving bridge accepts at once, then waits for the party.
#[derive(Clone)]
pub struct Adoption(Arc<Mutex<Option<Offer>>>);

struct Offer {
    accepted: oneshot::Sender<()>,
    party: oneshot::Receiver<HandedOver>,
    bridge_id: String,
}

impl Adoption {
    /// Accepts the offer and waits (bounded) for the party; `None` if the
    /// offer was taken already or the party never came. The party is to
    /// meet this bridge's first channel in a bridge with the returned id.
    pub(super) async fn accept(&self) -> Option<(ControlReceiver, String)> {
        let offer = self.0.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        offer.accepted.send(()).ok()?;
        match tokio::time::timeout(WAIT, offer.party).await {
            Ok(Ok((control, _))) => Some((control, offer.bridge_id)),
            _ => None,
        }
    }
}

impl PartialEq for Adoption {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Adoption {}

impl std::fmt::Debug for Adoption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Adoption")
    }
}

/// What an attended transfer asked of the bridge of the transferer's
/// first call gave.
pub(super) enum Attended {
    /// The other bridge handed its party over: the transferee meets it in
    /// bridge `bridge_id`.
    Joined {
        /// The party transferred to.
        target: ControlReceiver,
        /// The bridge they meet in.
        bridge_id: String,
    },
    /// The other bridge takes the transferee: hand it to `handover`.
    Offered(Handover),
    /// Nothing can be done (NOTIFY `503` sent).
    Refused,
}

/// Carries out an attended transfer that `from` (this bridge's `side`)
/// asked for, replacing channel `replaced` (the transferer's other
/// call): the other bridge gives its party up if it is that bridge's
/// second channel; otherwise, if `to` (the transferee) is this bridge's
/// second channel, the other bridge takes it. Reports to the transferer
/// (NOTIFY) and publishes `AttendedTransfer` on success.
pub(super) async fn attended(
    core: &Core,
    bridge: &BridgeSnapshot,
    side: Side,
    from: &Arc<Channel>,
    to: &Arc<Channel>,
    replaced: Option<&str>,
) -> Attended {
    let replaced = replaced.and_then(|r| core.channels.find(r));
    let Some(second_leg) = replaced.filter(|c| c.bridge().is_some()) else {
        return refuse(from, "the call to replace is in no bridge").await;
    };
    let bridge_id = super::new_bridge_id();
    let (outcome, target, second_bridge) =
        if let Some((target, second_bridge)) = request(&second_leg).await {
            let snapshot = target.channel().snapshot();
            (
                Attended::Joined {
                    target,
                    bridge_id: bridge_id.clone(),
                },
                snapshot,
                Some(second_bridge),
            )
        } else if side == Side::First {
            let Some(target) = peer_of(core, &second_leg) else {
                return refuse(from, "the call to replace has no other party").await;
            };
            let Some(handover) = offer(&second_leg, &bridge_id).await else {
                return refuse(
                    from,
                    "the call to replace can neither give nor take a party",
                )
                .await;
            };
            (Attended::Offered(handover), target.snapshot(), None)
        } else {
            return refuse(from, "both parties are callers of their calls").await;
        };
    let _ = from
        .driver()
        .transfer_progress(from, TransferState::Answered)
        .await;
    tracing::info!(
        verbose = 3,
        "{} attended transfer: {} joins {}",
        from.name(),
        to.name(),
        target.name
    );
    core.events
        .publish(Event::AttendedTransfer(AttendedTransferEvent {
            result: TransferResult::Success,
            first_leg: Arc::new(from.snapshot()),
            first_bridge: Some(Arc::new(bridge.clone())),
            second_leg: Arc::new(second_leg.snapshot()),
            second_bridge: second_bridge.map(Arc::new),
            transferee: Some(Arc::new(to.snapshot())),
            target: Some(Arc::new(target)),
            is_external: true,
            dest_bridge: bridge_id,
        }));
    outcome
}

/// Logs why, sends the final NOTIFY `503`.
async fn refuse(from: &Arc<Channel>, why: &str) -> Attended {
    tracing::warn!("{}: attended transfer refused: {why}", from.name());
    let _ = from
        .driver()
        .transfer_progress(from, TransferState::Unavailable)
        .await;
    Attended::Refused
}

/// The other channel of the bridge `channel` is in.
fn peer_of(core: &Core, channel: &Arc<Channel>) -> Option<Arc<Channel>> {
    let bridge = channel.bridge()?;
    core.channels
        .all()
        .into_iter()
        .find(|c| c.uniqueid() != channel.uniqueid() && c.bridge().as_deref() == Some(&bridge))
}

/// Asks the bridge `replaced` is in for `replaced`'s peer.
async fn request(replaced: &Channel) -> Option<HandedOver> {
    let (handover, answer) = Handover::new();
    replaced.queue(Control::Handover(handover));
    match tokio::time::timeout(WAIT, answer).await {
        Ok(Ok(handed)) => Some(handed),
        _ => None,
    }
}

/// Offers the bridge `replaced` is in a party in place of `replaced`;
/// once it accepts, where to hand the party.
async fn offer(replaced: &Channel, bridge_id: &str) -> Option<Handover> {
    let (handover, party) = Handover::new();
    let (accepted, acceptance) = oneshot::channel();
    replaced.queue(Control::Adopt(Adoption(Arc::new(Mutex::new(Some(
        Offer {
            accepted,
            party,
            bridge_id: bridge_id.to_owned(),
        },
    ))))));
    match tokio::time::timeout(WAIT, acceptance).await {
        Ok(Ok(())) => Some(handover),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handover_is_answered_once_and_compares_by_identity() {
        let (a, _rx) = Handover::new();
        let b = a.clone();
        assert_eq!(a, b);
        let (c, _) = Handover::new();
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), "Handover");
    }
}
