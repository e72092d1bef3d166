//! `/bridges`: creating mixing bridges, putting channels in them, playing
//! to everyone in them, recording their mix, their variables and their
//! video source.

use std::sync::Arc;

use super::ok;
use serde_json::Value;

use crate::apps::Interest;
use crate::bridges::Kind;
use crate::error::{AriError, AriResult, Reply};
use crate::json::{self, Payload};
use crate::params::Params;
use crate::playback::Target;
use crate::recording::{self, Options};
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
    let vars = variables(p)?;
    ari.create_bridge(&id, p.get("name").unwrap_or_default(), kind)?;
    for (name, value, report) in vars {
        ari.bridges.set_var(&id, &name, &value, report);
    }
    let bridge = ari
        .bridge_json(&id)
        .ok_or_else(|| AriError::internal("Bridge vanished while being created"))?;
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

/// `DELETE /bridges/{bridgeId}`: its recordings end first, with their
/// events.
pub(super) async fn destroy(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let target = Target::Bridge(id.to_owned());
    ari.recordings
        .target_gone(ari, &target, "Bridge destroyed")
        .await;
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
        if ari.recordings.is_recording(found.uniqueid()) {
            return Err(AriError::conflict("Channel currently recording"));
        }
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
        (Target::Bridge(id.clone()), format!("bridge:{id}")),
        p.int("skipms").unwrap_or(super::channels::DEFAULT_SKIP_MS),
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

/// `POST /bridges/{bridgeId}/record`: 201 with the recording, queued; it
/// records the bridge's mix once its file is open.
pub(super) fn record(ari: &Arc<Ari>, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?.to_owned();
    let options = Options::from_params(p)?;
    let name = options.name.clone();
    let live = ari.recordings.create(
        ari,
        options,
        Target::Bridge(id.clone()),
        format!("bridge:{id}"),
    )?;
    recording::start_on_bridge(ari, name.clone(), id);
    Ok(Reply::Created {
        location: recording::location(&name),
        body: ari.encode(&live)?,
    })
}

/// The `variables` object of a JSON body: each value a string, or an
/// object with `value` and `report_events`.
fn variables(p: &Params) -> Result<Vec<(String, String, bool)>, AriError> {
    let Some(vars) = p.body_object("variables") else {
        return Ok(Vec::new());
    };
    vars.iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name.clone(), s.clone(), false)),
            Value::Number(n) => Ok((name.clone(), n.to_string(), false)),
            Value::Bool(b) => Ok((name.clone(), b.to_string(), false)),
            Value::Object(o) => {
                let text = match o.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let report = o
                    .get("report_events")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                Ok((name.clone(), text, report))
            }
            _ => Err(AriError::bad_request(format!(
                "Variable {name} must be a string"
            ))),
        })
        .collect()
}

/// A bridge variable, or a function read without a channel.
fn read(ari: &Ari, id: &str, name: &str) -> Result<Option<String>, AriError> {
    if super::function_call(name).is_some() {
        return super::read_var(ari, None, name);
    }
    Ok(ari.bridges.var(id, name))
}

/// `GET /bridges/{bridgeId}/variable?variable=`.
pub(super) fn get_var(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let name = p.require("variable", "Variable name is required")?;
    let value = read(ari, id, name)?
        .ok_or_else(|| AriError::not_found("Provided variable was not found"))?;
    ok(ari, &json::Variable { value })
}

/// `POST /bridges/{bridgeId}/variable?variable=&value=&report_events=`.
pub(super) fn set_var(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let name = p.require("variable", "Variable name is required")?;
    let report = p.bool("report_events").unwrap_or(false);
    ari.bridges
        .set_var(id, name, p.get("value").unwrap_or_default(), report);
    Ok(Reply::NoContent)
}

/// `GET /bridges/{bridgeId}/variables?variables=A,B`.
pub(super) fn get_vars(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let mut values = serde_json::Map::new();
    for name in p.list("variables") {
        let value = read(ari, id, &name)?
            .ok_or_else(|| AriError::not_found(format!("Variable {name} was not found")))?;
        values.insert(name, Value::String(value));
    }
    ok(ari, &serde_json::json!({ "variables": values }))
}

/// `POST /bridges/{bridgeId}/variables` with `{"variables": {...}}`.
pub(super) fn set_vars(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    for (name, value, report) in variables(p)? {
        ari.bridges.set_var(id, &name, &value, report);
    }
    Ok(Reply::NoContent)
}

/// Tells the applications following the bridge that its video source
/// changed.
fn video_source_changed(ari: &Ari, id: &str, old: Option<String>) {
    let Some(bridge) = ari.bridge_json(id) else {
        return;
    };
    let ids = [id];
    ari.dispatch(
        &Payload::BridgeVideoSourceChanged {
            bridge,
            old_video_source_id: old.map(|o| ari.channel_id(&o)),
        },
        &Interest {
            bridges: &ids,
            ..Interest::default()
        },
    );
}

/// `POST /bridges/{bridgeId}/videoSource/{channelId}`: everyone in the
/// bridge sees this member's video (`single` video mode).
pub(super) fn set_video_source(ari: &Ari, p: &Params) -> AriResult {
    let id = p.path("bridgeId");
    if ari.bridge_json(id).is_none() {
        return Err(AriError::not_found("Bridge not found"));
    }
    let channel = ari
        .find_channel(p.path("channelId"))
        .ok_or_else(AriError::channel_not_found)?;
    if ari.controls.get(channel.uniqueid()).is_none() {
        return Err(AriError::not_in_stasis());
    }
    let id = ari_bridge(ari, p)?;
    if !ari
        .bridges
        .members(id)
        .iter()
        .any(|m| m == channel.uniqueid())
    {
        return Err(AriError::unprocessable("Channel not in this Bridge"));
    }
    let old = ari.bridges.set_video_source(id, Some(channel.uniqueid()))?;
    if old.as_deref() != Some(channel.uniqueid()) {
        video_source_changed(ari, id, old);
    }
    Ok(Reply::NoContent)
}

/// `DELETE /bridges/{bridgeId}/videoSource`: back to following the
/// talker.
pub(super) fn clear_video_source(ari: &Ari, p: &Params) -> AriResult {
    let id = ari_bridge(ari, p)?;
    let old = ari.bridges.set_video_source(id, None)?;
    if old.is_some() {
        video_source_changed(ari, id, old);
    }
    Ok(Reply::NoContent)
}
