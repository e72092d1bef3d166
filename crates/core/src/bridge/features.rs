//! What a two-party bridge does when a side keys a feature code: passing
//! held keys on, and collecting the extension of a blind transfer.

use std::sync::Arc;

use super::{BridgeEnd, Side};
use crate::Core;
use crate::channel::{Channel, Control, ControlReceiver, HungUp};
use crate::features::FeaturesConfig;

/// How long a key released from the matcher's hold is played when its own
/// length is not known (it was held across a timeout): Asterisk's default
/// DTMF length.
pub(super) const HELD_DIGIT_MS: u32 = 100;

/// The longest extension a transfer collects (`AST_MAX_EXTENSION` - 1).
const MAX_EXTEN: usize = 79;

/// Sends `digits` to `to`, each for `duration_ms`.
pub(super) async fn pass_on(to: &Arc<Channel>, digits: &str, duration_ms: u32) {
    for digit in digits.chars() {
        to.driver().send_digit(to, digit, duration_ms).await;
    }
}

/// What collecting a blind transfer's extension gave.
pub(super) enum Collected {
    /// A complete extension that exists.
    Target {
        /// The context it was looked up in.
        context: String,
        /// The keyed extension.
        exten: String,
    },
    /// Nothing valid was keyed: the bridge goes on.
    Invalid,
    /// A side hung up meanwhile: the bridge ends.
    HungUp(BridgeEnd),
}

/// Where a blind transfer by `transferer` looks its extension up, as
/// Asterisk's `get_transfer_context`: `TRANSFER_CONTEXT`, else the
/// transferer's own context, else `default`.
pub(super) fn transfer_context(transferer: &Channel) -> String {
    transferer
        .var("TRANSFER_CONTEXT")
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let (context, _, _) = transferer.location();
            (!context.is_empty()).then_some(context)
        })
        .unwrap_or_else(|| "default".to_owned())
}

/// Collects the extension `side` keys after the blind transfer code
/// (`ast_app_dtget`): each key within `transferdigittimeout`, `#` ends
/// the number, and so does a number no longer extension can match. The
/// other side's frames are dropped meanwhile, but its hangup ends the
/// bridge.
pub(super) async fn collect_target(
    core: &Core,
    config: &FeaturesConfig,
    side: Side,
    mine: &mut ControlReceiver,
    theirs: &mut ControlReceiver,
) -> Collected {
    let transferer = Arc::clone(mine.channel());
    let context = transfer_context(&transferer);
    let Some(pbx) = core.channels.pbx() else {
        tracing::warn!(
            "{}: no dialplan to transfer into; blind transfer ignored",
            transferer.name()
        );
        return Collected::Invalid;
    };
    let caller = transferer.caller().number;
    let caller = (!caller.is_empty()).then_some(caller.as_str());
    let other = side.other();
    let mut exten = String::new();
    loop {
        tokio::select! {
            frame = mine.recv() => match frame {
                Err(HungUp(cause)) => return Collected::HungUp(side.ended(cause)),
                Ok(Control::Dtmf { digit: '#', .. }) => break,
                Ok(Control::Dtmf { digit, .. }) => {
                    exten.push(digit);
                    if exten.len() >= MAX_EXTEN || !pbx.match_more(&context, &exten, caller).await {
                        break;
                    }
                }
                Ok(_) => {}
            },
            frame = theirs.recv() => {
                if let Err(HungUp(cause)) = frame {
                    return Collected::HungUp(other.ended(cause));
                }
            }
            () = tokio::time::sleep(config.transfer_digit_timeout) => break,
        }
    }
    if !exten.is_empty() && pbx.exists(&context, &exten, caller).await {
        return Collected::Target { context, exten };
    }
    tracing::info!(
        verbose = 3,
        "{}: blind transfer to '{exten}@{context}' refused: no such extension",
        transferer.name()
    );
    Collected::Invalid
}
