//! Attended transfer by DTMF (`atxfer` in `features.conf`), as Asterisk's
//! basic bridge runs it: the transferer keys the code and an extension;
//! the transferee is put on hold (music on hold where the channel plays
//! it) and a `Local/exten@context` channel calls the target. Then:
//!
//! - while the target rings: the transferer hanging up (or keying
//!   `atxfercomplete`) hands the transferee to the target once it answers
//!   (a "blond" transfer); `atxferabort`, a busy or failed target, or
//!   `atxfernoanswertimeout` bring the transferer back to the transferee;
//! - once the target answers, the transferer talks to it (a consultation
//!   bridge): hanging up or `atxfercomplete` joins the transferee and the
//!   target (`AttendedTransfer` event), `atxferabort` or the target
//!   hanging up brings the transferer back, `atxferswap` switches between
//!   the two parties (the other waits on hold), and the transferee hanging
//!   up leaves the transferer with the target.
//!
//! `atxferthreeway` needs a mixing bridge, which a two-party bridge is
//! not: the code is recognised and logged, and the consultation goes on.

use std::sync::Arc;
use std::time::Instant;

use obelus_media::{MediaEngine, Stream};

use super::features::{HELD_DIGIT_MS, pass_on};
use super::{BridgeEnd, Side, publish};
use crate::Core;
use crate::channel::{Cause, Channel, Control, ControlReceiver, HungUp, Indication};
use crate::events::{
    AttendedTransferEvent, BridgeEventKind, BridgeSnapshot, Event, TransferResult,
};
use crate::features::{Feature, FeaturesConfig, Outcome};

/// How an attended transfer keyed in a bridge ended.
pub(super) enum Consulted {
    /// The transferer is back with the transferee: the bridge goes on.
    Resumed,
    /// The two-party bridge ends this way (a party left, or the transfer
    /// was completed).
    Ended(BridgeEnd),
}

/// The parties of the bridge an attended transfer started in.
pub(super) struct Parties<'a> {
    /// The bridge as it is.
    pub(super) bridge: &'a BridgeSnapshot,
    /// The transferer's side of it.
    pub(super) side: Side,
    /// The transferer's mailbox.
    pub(super) mine: &'a mut ControlReceiver,
    /// The transferee's mailbox.
    pub(super) theirs: &'a mut ControlReceiver,
}

/// Who the transferer talks to during the consultation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Talking {
    Target,
    Transferee,
}

/// The media of the three parties, linked two at a time.
struct Media {
    engine: Option<Arc<MediaEngine>>,
    transferer: Option<Arc<Stream>>,
    transferee: Option<Arc<Stream>>,
    target: Option<Arc<Stream>>,
    /// The transferer is the bridge's first channel (its stream leads the
    /// link, as the bridge made it).
    transferer_first: bool,
}

impl Media {
    fn unlink(&self) {
        if let (Some(engine), Some(media)) = (&self.engine, &self.transferer) {
            engine.unlink(media);
        }
    }

    /// Links the transferer with `with` (after ending its current link).
    fn link(&self, with: Talking) {
        self.unlink();
        let other = match with {
            Talking::Target => &self.target,
            Talking::Transferee => &self.transferee,
        };
        let (Some(engine), Some(mine), Some(other)) = (&self.engine, &self.transferer, other)
        else {
            return;
        };
        let linked = if with == Talking::Transferee && !self.transferer_first {
            engine.link(other, mine)
        } else {
            engine.link(mine, other)
        };
        if let Err(e) = linked {
            tracing::warn!("Attended transfer: media not linked: {e}");
        }
    }
}

/// Runs the attended transfer the transferer of `parties` asked for, to
/// `exten@context` (already checked to exist); the transferee is already
/// on hold.
pub(super) async fn attended(
    core: &Arc<Core>,
    config: &FeaturesConfig,
    parties: Parties<'_>,
    context: &str,
    exten: &str,
) -> Consulted {
    let Parties {
        bridge,
        side,
        mine,
        theirs,
    } = parties;
    let transferer = Arc::clone(mine.channel());
    let transferee = Arc::clone(theirs.channel());
    let other = side.other();
    let mut media = Media {
        engine: core.service::<MediaEngine>(),
        transferer: transferer.driver().media(),
        transferee: transferee.driver().media(),
        target: None,
        transferer_first: side == Side::First,
    };
    tracing::info!(
        verbose = 3,
        "{} attended transfer of {} to {exten}@{context}",
        transferer.name(),
        transferee.name()
    );
    media.unlink();
    let Some(mut target) = call_target(core, &transferer, context, exten).await else {
        return resume(&media, &transferee).await;
    };
    let target_channel = Arc::clone(target.channel());
    media.target = target_channel.driver().media();

    // The target rings.
    let deadline = tokio::time::Instant::now() + config.atxfer_noanswer_timeout;
    let mut matcher = config.consultation_matcher();
    let (mut transferer_left, mut transferee_left) = (None, None);
    let answered = loop {
        tokio::select! {
            frame = mine.recv(), if transferer_left.is_none() => match frame {
                Err(HungUp(cause)) => transferer_left = Some(cause),
                Ok(Control::Dtmf { digit, .. }) => {
                    match matcher.handle_digit(digit, Instant::now()) {
                        Outcome::Matched(Feature::AtxferAbort) => break false,
                        Outcome::Matched(Feature::AtxferComplete) => {
                            transferer_left = Some(Cause::NORMAL_CLEARING);
                        }
                        _ => {}
                    }
                }
                Ok(_) => {}
            },
            frame = theirs.recv(), if transferee_left.is_none() => {
                if let Err(HungUp(cause)) = frame {
                    transferee_left = Some(cause);
                }
            }
            frame = target.recv() => match frame {
                Ok(Control::Answer) => break true,
                Ok(Control::Busy | Control::Congestion) | Err(_) => break false,
                Ok(_) => {}
            },
            () = tokio::time::sleep_until(deadline) => {
                tracing::info!(
                    verbose = 3,
                    "{}: attended transfer target {exten}@{context} did not answer",
                    transferer.name()
                );
                break false;
            }
        }
    };
    if !answered {
        target_channel.hangup(Cause::NORMAL_CLEARING).await;
        return match (transferer_left, transferee_left) {
            (_, Some(cause)) => Consulted::Ended(other.ended(cause)),
            (Some(cause), None) => Consulted::Ended(side.ended(cause)),
            (None, None) => resume(&media, &transferee).await,
        };
    }
    let consultation = consultation_bridge(core, &transferer, &target_channel);
    if transferee_left.is_some() {
        return stay_with_target(core, &consultation, side, &transferer, target).await;
    }
    if transferer_left.is_some() {
        return complete(
            core,
            bridge,
            &consultation,
            side,
            &transferer,
            &transferee,
            target,
        )
        .await;
    }

    // The consultation: the transferer talks to the target.
    media.link(Talking::Target);
    let mut talking = Talking::Target;
    loop {
        let pending = matcher.poll_timeout();
        let sleep = async {
            match pending {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        let party = match talking {
            Talking::Target => Arc::clone(&target_channel),
            Talking::Transferee => Arc::clone(&transferee),
        };
        tokio::select! {
            frame = mine.recv() => match frame {
                Err(HungUp(_)) => {
                    media.unlink();
                    if talking == Talking::Transferee {
                        target_channel.driver().indicate(&target_channel, Indication::Unhold).await;
                    }
                    return complete(core, bridge, &consultation, side, &transferer, &transferee, target).await;
                }
                Ok(Control::Dtmf { digit, duration_ms }) => {
                    match matcher.handle_digit(digit, Instant::now()) {
                        Outcome::Release(digits) => pass_on(&party, &digits, duration_ms).await,
                        Outcome::Held => {}
                        Outcome::Matched(Feature::AtxferAbort) => {
                            if talking == Talking::Target {
                                media.unlink();
                            }
                            target_channel.hangup(Cause::NORMAL_CLEARING).await;
                            end_consultation(core, consultation, &transferer, &target_channel);
                            return resume(&media, &transferee).await;
                        }
                        Outcome::Matched(Feature::AtxferComplete) => {
                            media.unlink();
                            if talking == Talking::Transferee {
                                target_channel.driver().indicate(&target_channel, Indication::Unhold).await;
                            }
                            return complete(core, bridge, &consultation, side, &transferer, &transferee, target).await;
                        }
                        Outcome::Matched(Feature::AtxferSwap) => {
                            let (held, freed) = match talking {
                                Talking::Target => (&target_channel, &transferee),
                                Talking::Transferee => (&transferee, &target_channel),
                            };
                            talking = match talking {
                                Talking::Target => Talking::Transferee,
                                Talking::Transferee => Talking::Target,
                            };
                            held.driver().indicate(held, Indication::Hold).await;
                            freed.driver().indicate(freed, Indication::Unhold).await;
                            media.link(talking);
                        }
                        Outcome::Matched(Feature::AtxferThreeway) => {
                            tracing::info!(
                                verbose = 3,
                                "{}: three-way calling needs a mixing bridge; the consultation goes on",
                                transferer.name()
                            );
                        }
                        // The consultation matcher knows no other code.
                        Outcome::Matched(_) => {}
                    }
                }
                Ok(_) => {}
            },
            frame = theirs.recv() => match frame {
                Err(HungUp(_)) => {
                    if talking == Talking::Transferee {
                        target_channel.driver().indicate(&target_channel, Indication::Unhold).await;
                    }
                    media.unlink();
                    return stay_with_target(core, &consultation, side, &transferer, target).await;
                }
                Ok(Control::Dtmf { digit, duration_ms }) if talking == Talking::Transferee => {
                    transferer.driver().send_digit(&transferer, digit, duration_ms).await;
                }
                Ok(_) => {}
            },
            frame = target.recv() => match frame {
                Err(HungUp(_)) => {
                    if talking == Talking::Target {
                        media.unlink();
                    }
                    end_consultation(core, consultation, &transferer, &target_channel);
                    return resume(&media, &transferee).await;
                }
                Ok(Control::Dtmf { digit, duration_ms }) if talking == Talking::Target => {
                    transferer.driver().send_digit(&transferer, digit, duration_ms).await;
                }
                Ok(_) => {}
            },
            () = sleep => {
                if let Some(digits) = matcher.handle_timeout(Instant::now()) {
                    pass_on(&party, &digits, HELD_DIGIT_MS).await;
                }
            }
        }
    }
}

/// Calls `exten@context` through a Local channel on behalf of
/// `transferer`; its mailbox once the call is placed.
async fn call_target(
    core: &Arc<Core>,
    transferer: &Arc<Channel>,
    context: &str,
    exten: &str,
) -> Option<ControlReceiver> {
    let dialstring = format!("Local/{exten}@{context}");
    let channel = match core.channels.request(&dialstring, Some(transferer)).await {
        Ok(channel) => channel,
        Err(cause) => {
            tracing::warn!(
                "{}: attended transfer: cannot create {dialstring} ({})",
                transferer.name(),
                cause.text()
            );
            return None;
        }
    };
    let control = channel.take_control()?;
    channel.set_var("TRANSFERERNAME", transferer.name());
    if let Err(cause) = channel.driver().call(&channel).await {
        tracing::info!(
            verbose = 3,
            "{}: attended transfer: {dialstring} failed ({})",
            transferer.name(),
            cause.text()
        );
        channel.hangup(cause).await;
        return None;
    }
    Some(control)
}

/// Back to the transferee: media relinked, hold ended.
async fn resume(media: &Media, transferee: &Arc<Channel>) -> Consulted {
    media.link(Talking::Transferee);
    transferee
        .driver()
        .indicate(transferee, Indication::Unhold)
        .await;
    Consulted::Resumed
}

/// The consultation bridge (the transferer with the target), announced.
fn consultation_bridge(
    core: &Core,
    transferer: &Arc<Channel>,
    target: &Arc<Channel>,
) -> BridgeSnapshot {
    let mut snapshot = BridgeSnapshot {
        id: super::new_bridge_id(),
        kind: "basic".to_owned(),
        technology: "simple_bridge".to_owned(),
        creator: "BasicBridge".to_owned(),
        name: String::new(),
        num_channels: 0,
    };
    publish(core, &snapshot, BridgeEventKind::Create);
    for channel in [transferer, target] {
        snapshot.num_channels += 1;
        publish(
            core,
            &snapshot,
            BridgeEventKind::Enter(Arc::new(channel.snapshot())),
        );
    }
    snapshot
}

/// The consultation bridge's end, announced.
fn end_consultation(
    core: &Core,
    mut snapshot: BridgeSnapshot,
    transferer: &Arc<Channel>,
    target: &Arc<Channel>,
) {
    for channel in [transferer, target] {
        snapshot.num_channels = snapshot.num_channels.saturating_sub(1);
        publish(
            core,
            &snapshot,
            BridgeEventKind::Leave(Arc::new(channel.snapshot())),
        );
    }
    publish(core, &snapshot, BridgeEventKind::Destroy);
}

/// The transferee and the target are joined: `AttendedTransfer` is
/// published, and the transferer's side leaves the bridge.
async fn complete(
    core: &Core,
    bridge: &BridgeSnapshot,
    consultation: &BridgeSnapshot,
    side: Side,
    transferer: &Arc<Channel>,
    transferee: &Arc<Channel>,
    target: ControlReceiver,
) -> Consulted {
    transferee
        .driver()
        .indicate(transferee, Indication::Unhold)
        .await;
    let target_channel = Arc::clone(target.channel());
    end_consultation(core, consultation.clone(), transferer, &target_channel);
    let bridge_id = super::new_bridge_id();
    tracing::info!(
        verbose = 3,
        "{} attended transfer: {} joins {}",
        transferer.name(),
        transferee.name(),
        target_channel.name()
    );
    for channel in [transferee, &target_channel] {
        channel.set_var("ATTENDEDTRANSFER", transferer.name());
    }
    let leg = Arc::new(transferer.snapshot());
    core.events
        .publish(Event::AttendedTransfer(AttendedTransferEvent {
            result: TransferResult::Success,
            first_leg: Arc::clone(&leg),
            first_bridge: Some(Arc::new(bridge.clone())),
            second_leg: leg,
            second_bridge: Some(Arc::new(consultation.clone())),
            transferee: Some(Arc::new(transferee.snapshot())),
            target: Some(Arc::new(target_channel.snapshot())),
            is_external: false,
            dest_bridge: bridge_id.clone(),
        }));
    Consulted::Ended(BridgeEnd::AttendedTransfer {
        transferer: side,
        target,
        bridge_id,
    })
}

/// The transferee left during the transfer: the transferer goes on with
/// the target in its place.
async fn stay_with_target(
    core: &Core,
    consultation: &BridgeSnapshot,
    side: Side,
    transferer: &Arc<Channel>,
    target: ControlReceiver,
) -> Consulted {
    end_consultation(core, consultation.clone(), transferer, target.channel());
    Consulted::Ended(BridgeEnd::AttendedTransfer {
        transferer: side.other(),
        target,
        bridge_id: super::new_bridge_id(),
    })
}
