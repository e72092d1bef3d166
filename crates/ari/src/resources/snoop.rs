//! `POST /channels/{channelId}/snoop[/{snoopId}]`: a snoop channel on a
//! channel, placed in a Stasis application (`res_stasis_snoop`).

use std::sync::Arc;

use obelus_media::snoop::SnoopDirection;

use super::ok;
use crate::error::{AriError, AriResult};
use crate::params::Params;
use crate::snoop::{self, SnoopError, SnoopSpec};
use crate::state::Ari;

/// `spy` or `whisper`: `none` (the default) or a direction. The route
/// table has already refused values outside the list.
fn direction(p: &Params, name: &str) -> Result<Option<SnoopDirection>, AriError> {
    match p.string(name).unwrap_or("none") {
        "none" => Ok(None),
        other => SnoopDirection::from_name(other).map(Some).ok_or_else(|| {
            AriError::bad_request(format!("Invalid direction specified for {name}"))
        }),
    }
}

/// Creates the snoop channel and starts it in the application; answers
/// with the channel.
pub(super) async fn snoop(ari: &Arc<Ari>, p: &Params, snoop_id: Option<&str>) -> AriResult {
    let spec = SnoopSpec {
        spy: direction(p, "spy")?,
        whisper: direction(p, "whisper")?,
    };
    if spec.spy.is_none() && spec.whisper.is_none() {
        return Err(AriError::bad_request(
            "Direction must be specified for at least spy or whisper",
        ));
    }
    let app = p.require("app", "Application name is required")?.to_owned();
    let target = ari
        .find_channel(p.path("channelId"))
        .ok_or_else(AriError::channel_not_found)?;
    if let Some(id) = snoop_id
        && ari.id_in_use(id)
    {
        return Err(AriError::conflict(
            "Channel with given unique ID already exists",
        ));
    }
    let target_id = ari.channel_id(target.uniqueid());
    let channel = snoop::create(ari, &target, &target_id, spec).map_err(|e| match e {
        SnoopError::NoMedia => {
            AriError::conflict("Channel has no media to snoop on (not answered or in early media)")
        }
        SnoopError::Media(e) => {
            AriError::internal(format!("Snoop channel could not be created: {e}"))
        }
    })?;
    if let Some(id) = snoop_id {
        ari.add_alias(id, channel.uniqueid());
    }
    let reply = ok(ari, &ari.live_channel_json(&channel));
    let follower = tokio::spawn(snoop::follow_target(
        Arc::clone(ari),
        Arc::clone(&target),
        Arc::clone(&channel),
    ));
    let args = p.string("appArgs").map(str::to_owned);
    let ari = Arc::clone(ari);
    tokio::spawn(async move {
        crate::enter::run_in_stasis(ari, channel, app, args).await;
        follower.abort();
    });
    reply
}
