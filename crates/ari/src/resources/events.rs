//! `POST /events/user/{eventName}`: an application sends itself an event
//! about channels, bridges or endpoints (`ChannelUserevent`);
//! `POST /events/claim`: an application claims a channel `StasisBroadcast`
//! offers.

use super::endpoints;
use crate::apps::SourceKind;
use crate::error::{AriError, AriResult, Reply};
use crate::json::Payload;
use crate::params::Params;
use crate::state::Ari;

/// `POST /events/user/{eventName}?application=&source=`.
pub(super) async fn user_event(ari: &Ari, p: &Params) -> AriResult {
    let app = p.require("application", "Application is required")?;
    if !ari.apps.exists(app) {
        return Err(AriError::not_found("Application not found"));
    }
    let (mut channel, mut bridge, mut endpoint) = (None, None, None);
    for source in p.list("source") {
        let (kind, id) = SourceKind::parse(&source).ok_or_else(|| {
            AriError::bad_request(format!("Invalid event source URI scheme: {source}"))
        })?;
        let missing = || AriError::unprocessable(format!("Unable to find event source {source}"));
        match kind {
            SourceKind::Channel => {
                let found = ari.find_channel(id).ok_or_else(missing)?;
                channel = Some(ari.live_channel_json(&found));
            }
            SourceKind::Bridge => bridge = Some(ari.bridge_json(id).ok_or_else(missing)?),
            SourceKind::Endpoint => {
                endpoint = Some(endpoints::find(ari, id).await.ok_or_else(missing)?)
            }
            SourceKind::DeviceState => {}
        }
    }
    let userevent = p.body_object("variables").cloned().unwrap_or_default();
    ari.send_to(
        app,
        &Payload::ChannelUserevent {
            eventname: p.path("eventName").to_owned(),
            channel,
            bridge,
            endpoint,
            userevent,
        },
    );
    Ok(Reply::NoContent)
}

/// `POST /events/claim?channelId=&application=`: the first claim wins (204),
/// later ones get 409; a channel not on offer is 404.
pub(super) fn claim(ari: &Ari, p: &Params) -> AriResult {
    let id = p.require("channelId", "HTTP request is missing param: [channelId]")?;
    let app = p.require(
        "application",
        "HTTP request is missing param: [application]",
    )?;
    let channel = ari
        .find_channel(id)
        .ok_or_else(|| AriError::not_found("Channel not found or not in broadcast state"))?;
    ari.broadcasts.claim(channel.uniqueid(), app)?;
    Ok(Reply::NoContent)
}
