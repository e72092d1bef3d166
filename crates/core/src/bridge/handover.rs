//! Attended transfers between two two-party bridges: the bridge of the
//! transferer's first call asks the bridge of its second call (through the
//! replaced channel's mailbox) for the target's mailbox, and once it has
//! it, the transferee and the target meet in a new bridge.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::Core;
use crate::channel::{Channel, Control, ControlReceiver};
use crate::events::BridgeSnapshot;

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

/// Asks the bridge `replaced` is in for `replaced`'s peer; `None` if the
/// channel is gone, in no two-party bridge that can give its peer up, or
/// does not answer in time.
pub(super) async fn request(core: &Core, replaced: &str) -> Option<(Arc<Channel>, HandedOver)> {
    let channel = core.channels.find(replaced)?;
    channel.bridge()?;
    let (handover, answer) = Handover::new();
    channel.queue(Control::Handover(handover));
    match tokio::time::timeout(WAIT, answer).await {
        Ok(Ok(handed)) => Some((channel, handed)),
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
