//! Bridges: channels joined so that they talk to each other.
//!
//! [`two_party`] is Asterisk's basic bridge as Dial makes it: the two
//! channels' media streams are linked in the media engine (a relay when
//! the codecs match, transcoding when not), and the task that runs the
//! caller waits on both mailboxes until one side leaves. Every step is a
//! bridge event on the bus (`BridgeCreate`, `BridgeEnter`, `BridgeLeave`,
//! `BridgeDestroy`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use obelus_media::MediaEngine;

use crate::Core;
use crate::channel::{Cause, Channel, Control, ControlReceiver, DtmfTransport, HungUp};
use crate::events::{BridgeEvent, BridgeEventKind, BridgeSnapshot, Event};

/// How a two-party bridge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeEnd {
    /// The first channel (the caller) hung up.
    First(Cause),
    /// The second channel (the callee) hung up.
    Second(Cause),
}

static BRIDGE_SEQ: AtomicU64 = AtomicU64::new(1);

/// A new bridge id, unique in this process and across restarts (time-based
/// like a UUID v7's prefix, so ids sort by creation).
pub fn new_bridge_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seq = BRIDGE_SEQ.fetch_add(1, Ordering::Relaxed);
    let hex = format!("{nanos:032x}");
    let tail = format!("{seq:012x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[hex.len() - 8..],
        &hex[hex.len() - 12..hex.len() - 8],
        &hex[hex.len() - 16..hex.len() - 12],
        &hex[hex.len() - 20..hex.len() - 16],
        &tail[tail.len() - 12..]
    )
}

fn publish(core: &Core, snapshot: &BridgeSnapshot, kind: BridgeEventKind) {
    core.events.publish(Event::Bridge(BridgeEvent {
        bridge: Arc::new(snapshot.clone()),
        kind,
    }));
}

/// Bridges `a` and `b` until one of them hangs up; `creator` names who
/// made the bridge (`Dial`). Hold and DTMF the media relay did not carry
/// are passed on to the other side's driver; media never passes through
/// here.
pub async fn two_party(
    core: &Arc<Core>,
    creator: &str,
    a: &mut ControlReceiver,
    b: &mut ControlReceiver,
) -> BridgeEnd {
    let first = Arc::clone(a.channel());
    let second = Arc::clone(b.channel());
    let mut snapshot = BridgeSnapshot {
        id: new_bridge_id(),
        kind: "basic".to_owned(),
        technology: "simple_bridge".to_owned(),
        creator: creator.to_owned(),
        name: String::new(),
        num_channels: 0,
    };
    publish(core, &snapshot, BridgeEventKind::Create);
    for channel in [&first, &second] {
        channel.set_bridge(Some(snapshot.id.clone()));
        snapshot.num_channels += 1;
        publish(
            core,
            &snapshot,
            BridgeEventKind::Enter(Arc::new(channel.snapshot())),
        );
    }
    let engine = core.service::<MediaEngine>();
    let linked = match (
        engine.as_ref(),
        first.driver().media(),
        second.driver().media(),
    ) {
        (Some(engine), Some(ma), Some(mb)) => match engine.link(&ma, &mb) {
            Ok(()) => Some((Arc::clone(engine), ma)),
            Err(e) => {
                tracing::warn!(
                    "Bridge {}: media of {} and {} not linked: {e}",
                    snapshot.id,
                    first.name(),
                    second.name()
                );
                None
            }
        },
        _ => None,
    };
    // Whether each side holds the other (music on hold plays to it).
    let (mut first_holds, mut second_holds) = (false, false);
    let end = loop {
        tokio::select! {
            frame = a.recv() => match frame {
                Err(HungUp(cause)) => break BridgeEnd::First(cause),
                Ok(control) => relay(&first, &second, control, &mut first_holds).await,
            },
            frame = b.recv() => match frame {
                Err(HungUp(cause)) => break BridgeEnd::Second(cause),
                Ok(control) => relay(&second, &first, control, &mut second_holds).await,
            },
        }
    };
    // A hold does not outlive the bridge: the side still on hold is
    // released (its music stops) before it goes on elsewhere.
    for (holds, held) in [(first_holds, &second), (second_holds, &first)] {
        if holds && !held.is_hung_up() {
            held.driver()
                .indicate(held, crate::channel::Indication::Unhold)
                .await;
        }
    }
    if let Some((engine, media)) = linked {
        engine.unlink(&media);
    }
    for channel in [&first, &second] {
        channel.set_bridge(None);
        snapshot.num_channels = snapshot.num_channels.saturating_sub(1);
        publish(
            core,
            &snapshot,
            BridgeEventKind::Leave(Arc::new(channel.snapshot())),
        );
    }
    publish(core, &snapshot, BridgeEventKind::Destroy);
    end
}

/// What a frame of `from` means for `to`, the other side of the bridge;
/// `holds` follows whether `from` holds `to`.
async fn relay(from: &Arc<Channel>, to: &Arc<Channel>, control: Control, holds: &mut bool) {
    use crate::channel::Indication;
    let indication = match control {
        Control::Hold => {
            *holds = true;
            Indication::Hold
        }
        Control::Unhold => {
            *holds = false;
            Indication::Unhold
        }
        Control::Dtmf { digit, duration_ms } => {
            if !crossed_with_media(from.driver().dtmf_transport(), to.driver().dtmf_transport()) {
                to.driver().send_digit(to, digit, duration_ms).await;
            }
            return;
        }
        // Answers and progress are over once bridged.
        _ => return,
    };
    to.driver().indicate(to, indication).await;
}

/// Whether a digit between channels carrying DTMF as `from` and `to` do
/// already reached `to` through the media link: telephone-events are
/// forwarded by the relay, and tones ride in the audio.
fn crossed_with_media(from: DtmfTransport, to: DtmfTransport) -> bool {
    from == to && matches!(from, DtmfTransport::Rfc4733 | DtmfTransport::Inband)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_ids_are_unique_and_uuid_shaped() {
        let a = new_bridge_id();
        let b = new_bridge_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn digits_cross_with_media_only_when_both_sides_carry_them_there() {
        use DtmfTransport::*;
        assert!(crossed_with_media(Rfc4733, Rfc4733));
        assert!(crossed_with_media(Inband, Inband));
        for (from, to) in [
            (Rfc4733, Info),
            (Info, Rfc4733),
            (Rfc4733, Inband),
            (Inband, Rfc4733),
            (Info, Info),
            (None, Rfc4733),
            (Rfc4733, None),
        ] {
            assert!(!crossed_with_media(from, to), "{from:?} -> {to:?}");
        }
    }
}
