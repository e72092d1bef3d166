//! `/bridges`: creating mixing bridges, putting channels in them, playing
//! to everyone in them.

use std::sync::Arc;

use super::ok;
use crate::bridges::Kind;
use crate::error::{AriError, AriResult, Reply};
use crate::json;
use crate::params::Params;
use crate::playback::Target;
use crate::state::Ari;

/// `GET /bridges`.
pub(super) fn list(ari: &Ari) -> AriResult {
    let bridges: Vec<json::Bridge> = ari
        .view
        .ids()
        .iter()
        .filter_map(|id| ari.bridge_json(id))
        .collect();
    ok(ari, &bridges)
}

/// `POST /bridges[/{bridgeId}]?type=&name=`.
pub(super) fn create(ari: &Ari, p: &Params, id: Option<&str>) -> AriResult {
    let kind = Kind::parse(p.get("type").unwrap_or("mixing"))?;
    let id = id.map_or_else(super::new_id, str::to_owned);
    let bridge = ari.create_bridge(&id, p.get("name").unwrap_or_default(), kind)?;
    ok(ari, &bridge)
}

/// `GET /bridges/{bridgeId}`.
pub(super) fn get(ari: &Ari, p: &Params) -> AriResult {
    let bridge = ari
        .bridge_json(p.path("bridgeId"))
        .ok_or_else(|| AriError::not_found("Bridge not found"))?;
    ok(ari, &bridge)
}

/// The id of an ARI bridge: 404 if there is no such bridge, 409 if it
/// exists but was not made through ARI (a Dial bridge).
pub(super) fn ari_bridge<'p>(ari: &Ari, p: &'p Params) -> Result<&'p str, AriError> {
    let id = p.path("bridgeId");
    if ari.bridges.contains(id) {
        Ok(id)
    } else if ari.bridge_json(id).is_some() {
        Err(AriError::conflict("Bridge not in Stasis application"))
    } else {
        Err(AriError::not_found("Bridge not found"))
    }
}

/// `DELETE /bridges/{bridgeId}`.
pub(super) fn destroy(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    ari.destroy_bridge(id)?;
    Ok(Reply::NoContent)
}

/// `POST /bridges/{bridgeId}/addChannel?channel=a,b`: every channel must
/// exist (400) and be in Stasis (422).
pub(super) fn add_channel(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let mut controls = Vec::new();
    for channel in p.list("channel") {
        let found = ari
            .find_channel(&channel)
            .ok_or_else(|| AriError::bad_request("Channel not found"))?;
        let control = ari
            .controls
            .get(found.uniqueid())
            .ok_or_else(|| AriError::unprocessable("Channel not in Stasis application"))?;
        controls.push(control);
    }
    for control in controls {
        ari.add_to_bridge(id, &control.channel, &control.app())?;
    }
    Ok(Reply::NoContent)
}

/// `POST /bridges/{bridgeId}/removeChannel?channel=a,b`.
pub(super) fn remove_channel(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let mut channels = Vec::new();
    for channel in p.list("channel") {
        channels.push(
            ari.find_channel(&channel)
                .ok_or_else(|| AriError::bad_request("Channel not found"))?,
        );
    }
    for channel in channels {
        ari.remove_from_bridge(id, &channel)?;
    }
    Ok(Reply::NoContent)
}

/// `POST /bridges/{bridgeId}/play[/{playbackId}]`: every member hears it.
pub(super) fn play(ari: &Arc<Ari>, p: &Params, playback_id: Option<&str>) -> AriResult {
    let id = ari_bridge(ari, p)?.to_owned();
    let media = p.list("media");
    if media.is_empty() {
        return Err(AriError::bad_request(
            "HTTP request is missing param: [media]",
        ));
    }
    let playback_id = playback_id.map_or_else(super::new_id, str::to_owned);
    let language = p.string("lang").unwrap_or("en").to_owned();
    let playback = ari.playbacks.create(
        playback_id.clone(),
        media,
        language,
        Target::Bridge(id.clone()),
        format!("bridge:{id}"),
    )?;
    let members = ari
        .bridges
        .members(&id)
        .iter()
        .filter_map(|c| ari.core.channels.find(c))
        .collect();
    let task_ari = Arc::clone(ari);
    let task_id = playback_id.clone();
    tokio::spawn(async move {
        let playbacks = &task_ari.playbacks;
        playbacks.play_on_bridge(&task_ari, &task_id, members).await;
    });
    Ok(Reply::Created {
        location: format!("/ari/playbacks/{playback_id}"),
        body: ari.encode(&playback)?,
    })
}
