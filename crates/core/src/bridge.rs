//! Bridges: channels joined so that they talk to each other.
//!
//! [`two_party`] is Asterisk's basic bridge as Dial makes it: the two
//! channels' media streams are linked in the media engine (a relay when
//! the codecs match, transcoding when not), and the task that runs the
//! caller waits on both mailboxes until one side leaves. Every step is a
//! bridge event on the bus (`BridgeCreate`, `BridgeEnter`, `BridgeLeave`,
//! `BridgeDestroy`).
//!
//! When both parties allow it, the bridge is also a native RTP bridge
//! (`direct_media`): see [`native`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use obelus_media::MediaEngine;

use crate::Core;
use crate::channel::{
    Cause, Channel, Control, ControlReceiver, DtmfTransport, HungUp, Indication, TransferState,
};
use crate::events::{
    BlindTransferEvent, BridgeEvent, BridgeEventKind, BridgeSnapshot, Event, TransferResult,
};
use crate::features::{Feature, Outcome, Permissions};

mod atxfer;
mod features;
mod handover;
mod native;

use features::Collected;
use handover::Attended;
pub use handover::{Adoption, HandedOver, Handover};
use native::Native;

/// One side of a two-party bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The first channel (the caller).
    First,
    /// The second channel (the callee).
    Second,
}

/// How a two-party bridge ended.
#[derive(Debug)]
pub enum BridgeEnd {
    /// The first channel (the caller) hung up, or keyed the disconnect code.
    First(Cause),
    /// The second channel (the callee) hung up, or keyed the disconnect code.
    Second(Cause),
    /// `transferer` blind-transferred the other side to `exten@context`
    /// (a feature code, or a SIP REFER already answered with its NOTIFY):
    /// the other side goes there, the transferer's call is over. The
    /// `BlindTransfer` event is already published.
    BlindTransfer {
        /// Who transferred.
        transferer: Side,
        /// Where the other side goes: the context...
        context: String,
        /// ...and the extension.
        exten: String,
    },
    /// `transferer` joined its peer with the peer of its other call (a
    /// SIP REFER with Replaces, already answered with its NOTIFY, or an
    /// attended transfer by DTMF): its call is over, and its peer is to be
    /// bridged with `target`, in a bridge with id `bridge_id` (the one the
    /// transfer event names). When the transferee of a DTMF attended
    /// transfer hangs up, the transferee's side is named here instead: it
    /// is gone, and the transferer goes on with the target.
    AttendedTransfer {
        /// Who transferred.
        transferer: Side,
        /// The mailbox of the party the other side now talks to.
        target: ControlReceiver,
        /// The id of the bridge to create for them.
        bridge_id: String,
    },
    /// `parker` keyed the `parkcall` code: the other side is to be parked
    /// (the owner hands its mailbox to the parking lot), and the parker's
    /// call is over once it has heard the slot.
    Park {
        /// Who parked the other side.
        parker: Side,
    },
    /// The second channel goes to another bridge (an attended transfer:
    /// the first channel is replaced there, or is the transferer and the
    /// other bridge takes the transferee): the owner gives the second
    /// channel's mailbox to `handover` (with `bridge`, this bridge as it
    /// was) and hangs the first channel up.
    HandedOver {
        /// Where the second channel goes.
        handover: Handover,
        /// This bridge, for the transfer's event.
        bridge: BridgeSnapshot,
    },
}

/// The features each side may key in the bridge (Dial's `t`/`T`, `h`/`H`,
/// `k`/`K`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeFeatures {
    /// The first channel's (the caller's, `T`/`H`).
    pub first: Permissions,
    /// The second channel's (the callee's, `t`/`h`).
    pub second: Permissions,
}

static BRIDGE_SEQ: AtomicU64 = AtomicU64::new(1);

/// A new bridge id, unique in this process and across restarts (time-based
/// like a UUID v7's prefix, so ids sort by creation).
pub fn new_bridge_id() -> String {
    fn push_hex(id: &mut String, value: u128, digits: u32) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for i in (0..digits).rev() {
            id.push(char::from(HEX[((value >> (4 * i)) & 0xf) as usize]));
        }
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seq = u128::from(BRIDGE_SEQ.fetch_add(1, Ordering::Relaxed));
    // The time's low 80 bits as 8-4-4-4 hex digits, then 12 of the sequence.
    let mut id = String::with_capacity(36);
    push_hex(&mut id, nanos, 8);
    for shift in [32, 48, 64] {
        id.push('-');
        push_hex(&mut id, nanos >> shift, 4);
    }
    id.push('-');
    push_hex(&mut id, seq, 12);
    id
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
/// here. No feature codes; see [`two_party_with`].
pub async fn two_party(
    core: &Arc<Core>,
    creator: &str,
    a: &mut ControlReceiver,
    b: &mut ControlReceiver,
) -> BridgeEnd {
    two_party_with(core, creator, a, b, BridgeFeatures::default()).await
}

/// [`two_party`] with feature codes (`features.conf`) for the sides
/// `features` allows, and SIP blind transfers (REFER) from either side.
///
/// A side with codes has its telephone-events held back from the media
/// relay: each key goes through that side's [`crate::features::Matcher`],
/// and only keys that match no code reach the other party (a partial
/// code waits `featuredigittimeout`). The disconnect code ends the bridge
/// as if the presser hung up; the blind transfer code collects an
/// extension (`transferdigittimeout` per key, `#` ends it) in
/// `TRANSFER_CONTEXT` or the presser's context, and a valid one ends the
/// bridge with [`BridgeEnd::BlindTransfer`].
pub async fn two_party_with(
    core: &Arc<Core>,
    creator: &str,
    a: &mut ControlReceiver,
    b: &mut ControlReceiver,
    features: BridgeFeatures,
) -> BridgeEnd {
    two_party_as(core, new_bridge_id(), creator, a, b, features).await
}

/// [`two_party_with`] for a bridge whose id is already known (announced by
/// an attended transfer's event).
pub async fn two_party_as(
    core: &Arc<Core>,
    id: String,
    creator: &str,
    a: &mut ControlReceiver,
    b: &mut ControlReceiver,
    features: BridgeFeatures,
) -> BridgeEnd {
    let first = Arc::clone(a.channel());
    let second = Arc::clone(b.channel());
    let mut snapshot = BridgeSnapshot {
        id,
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
    let config = crate::features::config(core);
    let mut matchers = [
        config.matcher(features.first),
        config.matcher(features.second),
    ];
    for (matcher, channel) in matchers.iter().zip([&first, &second]) {
        if matcher.is_active()
            && let Some(media) = channel.driver().media()
        {
            media.set_dtmf_relay(false);
        }
    }
    // Whether each side holds the other (music on hold plays to it).
    let mut holds = [false, false];
    let mut native = Native::default();
    let keys_watched = [matchers[0].is_active(), matchers[1].is_active()];
    let mut taps = [&first, &second].map(|c| c.driver().media().map(|m| m.watch_taps()));
    let end = loop {
        native
            .update(
                &snapshot.id,
                [&first, &second],
                keys_watched,
                holds[0] || holds[1],
            )
            .await;
        let deadline = matchers.iter().filter_map(|m| m.poll_timeout()).min();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        let [taps_a, taps_b] = &mut taps;
        let (side, frame) = tokio::select! {
            frame = a.recv() => (Side::First, frame),
            frame = b.recv() => (Side::Second, frame),
            // A recording or snoop started or stopped: decide again.
            () = tapped(taps_a) => continue,
            () = tapped(taps_b) => continue,
            () = sleep => {
                let now = std::time::Instant::now();
                for (i, matcher) in matchers.iter_mut().enumerate() {
                    if let Some(digits) = matcher.handle_timeout(now) {
                        let to = if i == 0 { &second } else { &first };
                        features::pass_on(to, &digits, features::HELD_DIGIT_MS).await;
                    }
                }
                continue;
            }
        };
        let control = match frame {
            Err(HungUp(cause)) => break side.ended(cause),
            Ok(control) => control,
        };
        let (i, from, to) = match side {
            Side::First => (0, &first, &second),
            Side::Second => (1, &second, &first),
        };
        match control {
            Control::Dtmf { digit, duration_ms } if matchers[i].is_active() => {
                match matchers[i].handle_digit(digit, std::time::Instant::now()) {
                    Outcome::Release(digits) => features::pass_on(to, &digits, duration_ms).await,
                    Outcome::Held => {}
                    Outcome::Matched(Feature::Disconnect) => {
                        tracing::info!(verbose = 3, "{}: disconnect feature", from.name());
                        break side.ended(Cause::NORMAL_CLEARING);
                    }
                    Outcome::Matched(Feature::BlindTransfer) => {
                        let (mine, theirs) = match side {
                            Side::First => (&mut *a, &mut *b),
                            Side::Second => (&mut *b, &mut *a),
                        };
                        match features::collect_target(core, &config, side, mine, theirs).await {
                            Collected::Target { context, exten } => {
                                break blind_transfer(
                                    core, &snapshot, side, from, to, context, exten, false,
                                );
                            }
                            Collected::Invalid => {}
                            Collected::HungUp(end) => break end,
                        }
                    }
                    Outcome::Matched(Feature::AttendedTransfer) => {
                        let (mine, theirs) = match side {
                            Side::First => (&mut *a, &mut *b),
                            Side::Second => (&mut *b, &mut *a),
                        };
                        // The transferee waits on hold from the code on.
                        to.driver().indicate(to, Indication::Hold).await;
                        let (context, exten) =
                            match features::collect_target(core, &config, side, mine, theirs).await
                            {
                                Collected::Target { context, exten } => (context, exten),
                                Collected::Invalid => {
                                    to.driver().indicate(to, Indication::Unhold).await;
                                    continue;
                                }
                                Collected::HungUp(end) => break unheld(to, end).await,
                            };
                        let parties = atxfer::Parties {
                            bridge: &snapshot,
                            side,
                            mine,
                            theirs,
                        };
                        match atxfer::attended(core, &config, parties, &context, &exten).await {
                            atxfer::Consulted::Resumed => {}
                            atxfer::Consulted::Ended(end) => break unheld(to, end).await,
                        }
                    }
                    Outcome::Matched(Feature::ParkCall) => {
                        tracing::info!(verbose = 3, "{} parks {}", from.name(), to.name());
                        break BridgeEnd::Park { parker: side };
                    }
                    // Consultation codes mean nothing outside a transfer.
                    Outcome::Matched(_) => {}
                }
            }
            Control::Transfer(request) => {
                match (request.destination, request.context, request.replaces) {
                    (Some(exten), Some(context), None) => {
                        if let Err(cause) = from
                            .driver()
                            .transfer_progress(from, TransferState::Answered)
                            .await
                        {
                            tracing::debug!("{}: no transfer to report ({cause:?})", from.name());
                        }
                        break blind_transfer(
                            core, &snapshot, side, from, to, context, exten, true,
                        );
                    }
                    (_, Some(_), Some(_)) => {
                        let replaced = request.replaced_channel.as_deref();
                        match handover::attended(core, &snapshot, side, from, to, replaced).await {
                            Attended::Joined { target, bridge_id } => {
                                break BridgeEnd::AttendedTransfer {
                                    transferer: side,
                                    target,
                                    bridge_id,
                                };
                            }
                            Attended::Offered(handover) => {
                                break BridgeEnd::HandedOver {
                                    handover,
                                    bridge: snapshot.clone(),
                                };
                            }
                            Attended::Refused => {}
                        }
                    }
                    (_, Some(_), None) => {
                        let _ = from
                            .driver()
                            .transfer_progress(from, TransferState::Unavailable)
                            .await;
                    }
                    // Left to the channel's ARI application.
                    _ => {}
                }
            }
            // Only the second channel can be handed over: the owner of a
            // bridge holds that one's mailbox (a Dial's callee).
            Control::Handover(handover) if side == Side::First => {
                break BridgeEnd::HandedOver {
                    handover,
                    bridge: snapshot.clone(),
                };
            }
            // The first channel stays (its owner goes on); the offered
            // party replaces the second.
            Control::Adopt(adoption) if side == Side::Second => {
                if let Some((target, bridge_id)) = adoption.accept().await {
                    break BridgeEnd::AttendedTransfer {
                        transferer: Side::Second,
                        target,
                        bridge_id,
                    };
                }
            }
            control => relay(from, to, control, &mut holds[i], matchers[i].is_active()).await,
        }
    };
    native.release(&going_on(&end, &first, &second)).await;
    for (matcher, channel) in matchers.iter().zip([&first, &second]) {
        if matcher.is_active()
            && let Some(media) = channel.driver().media()
        {
            media.set_dtmf_relay(true);
        }
    }
    // A hold does not outlive the bridge: the side still on hold is
    // released (its music stops) before it goes on elsewhere.
    for (holds, held) in [(holds[0], &second), (holds[1], &first)] {
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

/// Waits until `watch` (a stream's taps) changes; never, once the stream
/// is gone.
async fn tapped(watch: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    let changed = match watch.as_mut() {
        Some(rx) => rx.changed().await.is_ok(),
        None => false,
    };
    if !changed {
        *watch = None;
        std::future::pending::<()>().await;
    }
}

/// The parties that live on after a bridge that ended with `end`: the
/// other side of a transfer, a party redirected elsewhere (AMI
/// `Redirect`). The survivor of a hangup is not among them: its owner
/// hangs it up, or calls [`reclaim_media`] to go on with it.
fn going_on<'a>(
    end: &BridgeEnd,
    first: &'a Arc<Channel>,
    second: &'a Arc<Channel>,
) -> Vec<&'a Arc<Channel>> {
    let redirected = |c: &Channel| c.redirect_pending() && c.hangup_requested().is_none();
    match end {
        BridgeEnd::First(_) => [first].into_iter().filter(|c| redirected(c)).collect(),
        BridgeEnd::Second(_) => [second].into_iter().filter(|c| redirected(c)).collect(),
        BridgeEnd::BlindTransfer { transferer, .. }
        | BridgeEnd::AttendedTransfer { transferer, .. } => match transferer {
            Side::First => vec![second],
            Side::Second => vec![first],
        },
        BridgeEnd::HandedOver { .. } => vec![second],
        // The parked party hears music on hold here, the parker may hear
        // its slot announced: both need their media back.
        BridgeEnd::Park { .. } => vec![first, second],
    }
}

/// Brings `channel`'s media back to this server after a bridge that sent
/// it straight to its peer (direct media) ended with the peer's hangup:
/// an owner that goes on with the channel (Dial's `g`) calls this before
/// it plays or bridges anything. Nothing happens when the media is here.
pub async fn reclaim_media(channel: &Arc<Channel>) {
    channel.driver().direct_media(channel, None).await;
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::First => Side::Second,
            Side::Second => Side::First,
        }
    }

    /// The end of a bridge this side left with `cause`.
    fn ended(self, cause: Cause) -> BridgeEnd {
        match self {
            Side::First => BridgeEnd::First(cause),
            Side::Second => BridgeEnd::Second(cause),
        }
    }
}

/// `end`, with the hold an attended transfer put on `held` (the
/// transferee) lifted when a party simply left: the one that stays must
/// not keep hearing music.
async fn unheld(held: &Arc<Channel>, end: BridgeEnd) -> BridgeEnd {
    if matches!(end, BridgeEnd::First(_) | BridgeEnd::Second(_)) && !held.is_hung_up() {
        held.driver().indicate(held, Indication::Unhold).await;
    }
    end
}

/// Publishes a successful blind transfer by `from` of `to` and says how
/// the bridge ends. `to` learns who sent it (`BLINDTRANSFER`).
#[allow(clippy::too_many_arguments)]
fn blind_transfer(
    core: &Core,
    bridge: &BridgeSnapshot,
    side: Side,
    from: &Arc<Channel>,
    to: &Arc<Channel>,
    context: String,
    exten: String,
    is_external: bool,
) -> BridgeEnd {
    tracing::info!(
        verbose = 3,
        "{} blind transferred {} to {exten}@{context}",
        from.name(),
        to.name()
    );
    to.set_var("BLINDTRANSFER", from.name());
    core.events
        .publish(Event::BlindTransfer(BlindTransferEvent {
            result: TransferResult::Success,
            transferer: Arc::new(from.snapshot()),
            transferee: Some(Arc::new(to.snapshot())),
            bridge: Some(Arc::new(bridge.clone())),
            is_external,
            context: context.clone(),
            exten: exten.clone(),
        }));
    BridgeEnd::BlindTransfer {
        transferer: side,
        context,
        exten,
    }
}

/// What a frame of `from` means for `to`, the other side of the bridge;
/// `holds` follows whether `from` holds `to`. `keys_held` says that the
/// media relay does not carry `from`'s telephone-events (the bridge
/// watches them for feature codes), so a key always goes through here.
async fn relay(
    from: &Arc<Channel>,
    to: &Arc<Channel>,
    control: Control,
    holds: &mut bool,
    keys_held: bool,
) {
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
            if keys_held
                || !crossed_with_media(from.driver().dtmf_transport(), to.driver().dtmf_transport())
            {
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
mod feature_tests;

#[cfg(test)]
mod native_tests;

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
