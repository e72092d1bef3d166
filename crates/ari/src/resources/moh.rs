//! Music on hold, silence and muting (`startMoh`, `stopMoh`,
//! `startSilence`, `stopSilence`, `mute`, `unmute` of `/channels`, and
//! `startMoh`, `stopMoh` of `/bridges`), through the music on hold
//! service of `res_musiconhold.so` and the channels' media streams.
//!
//! As in Asterisk, a class that does not exist is a warning in the log,
//! not an error for the client (the request still answers 204); a channel
//! without media is `412 Channel in invalid state`.

use std::sync::Arc;

use axum::http::StatusCode;
use obelus_apps::moh::{MohError, MusicOnHold};
use obelus_core::channel::Channel;
use obelus_media::MuteDirection;

use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
use crate::stasis::Command;
use crate::state::Ari;

/// The music on hold service; 500 when its module is not loaded.
pub(crate) fn service(ari: &Ari) -> Result<Arc<MusicOnHold>, AriError> {
    ari.core
        .service::<MusicOnHold>()
        .ok_or_else(|| AriError::internal("Music on hold (res_musiconhold.so) is not loaded"))
}

/// A failed start as ARI reports it: a missing class is only logged.
fn report(channel: &Channel, result: Result<(), MohError>) -> Result<(), AriError> {
    match result {
        Ok(()) => Ok(()),
        Err(MohError::NoMedia(_)) => Err(AriError::new(
            StatusCode::PRECONDITION_FAILED,
            "Channel in invalid state",
        )),
        Err(e @ MohError::NoClass(_)) => {
            tracing::warn!("Unable to start music on hold on {}: {e}", channel.name());
            Ok(())
        }
    }
}

/// Runs `op` on the channel's task: 404 / 409 as for every control, then
/// 500 if `op` needs the music on hold service and it is not loaded.
async fn on_channel(
    ari: &Ari,
    p: &Params,
    op: impl FnOnce(&Arc<Channel>, Result<Arc<MusicOnHold>, AriError>) -> Result<(), AriError>
    + Send
    + 'static,
) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let moh = service(ari);
    control
        .run(|reply| Command::Media(Box::new(move |channel| op(channel, moh)), reply))
        .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/moh[?mohClass=]`.
pub(super) async fn start_channel(ari: &Ari, p: &Params) -> AriResult {
    let class = p.string("mohClass").map(str::to_owned);
    on_channel(ari, p, move |channel, moh| {
        report(channel, moh?.start(channel, class.as_deref()).map(drop))
    })
    .await
}

/// `DELETE /channels/{id}/moh`.
pub(super) async fn stop_channel(ari: &Ari, p: &Params) -> AriResult {
    on_channel(ari, p, move |channel, moh| {
        moh?.stop(channel);
        Ok(())
    })
    .await
}

/// `POST /channels/{id}/silence`.
pub(super) async fn start_silence(ari: &Ari, p: &Params) -> AriResult {
    on_channel(ari, p, move |channel, moh| {
        report(channel, moh?.start_silence(channel))
    })
    .await
}

/// `DELETE /channels/{id}/silence`.
pub(super) async fn stop_silence(ari: &Ari, p: &Params) -> AriResult {
    on_channel(ari, p, move |channel, moh| {
        moh?.stop_silence(channel);
        Ok(())
    })
    .await
}

/// `POST|DELETE /channels/{id}/mute?direction=both|in|out`: `in` drops
/// what the channel sends us, `out` what we would send it.
pub(super) async fn mute(ari: &Ari, p: &Params, on: bool) -> AriResult {
    let direction = match p.get("direction").unwrap_or("both") {
        "in" => MuteDirection::Incoming,
        "out" => MuteDirection::Outgoing,
        "both" => MuteDirection::Both,
        other => {
            return Err(AriError::bad_request(format!(
                "Invalid direction specified: {other}"
            )));
        }
    };
    on_channel(ari, p, move |channel, _| {
        let stream = channel.driver().media().ok_or_else(|| {
            AriError::new(StatusCode::PRECONDITION_FAILED, "Channel in invalid state")
        })?;
        stream.mute(direction, on);
        Ok(())
    })
    .await
}

/// `POST /bridges/{id}/moh[?mohClass=]`: plays (or changes) the music
/// every member hears.
pub(super) fn start_bridge(ari: &Ari, p: &Params) -> AriResult {
    let id = super::bridges::ari_bridge(ari, p)?;
    let moh = service(ari)?;
    ari.bridge_start_moh(id, &moh, p.string("mohClass"))?;
    Ok(Reply::NoContent)
}

/// `DELETE /bridges/{id}/moh`: 409 when the bridge plays no music.
pub(super) fn stop_bridge(ari: &Ari, p: &Params) -> AriResult {
    let id = super::bridges::ari_bridge(ari, p)?;
    let moh = service(ari)?;
    ari.bridge_stop_moh(id, &moh)?;
    Ok(Reply::NoContent)
}
