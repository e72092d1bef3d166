//! `POST /channels/externalMedia`: a channel that carries a call's audio
//! to and from a program outside as plain RTP (`UnicastRTP/host:port`),
//! placed in a Stasis application.

use std::sync::Arc;

use obelus_core::channel::{Cause, ChannelState};
use obelus_media::Codec;

use super::channels::variables;
use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
use crate::state::Ari;

/// Checks the transport options: RTP over UDP as a client, both ways, is
/// what Obelus does; other combinations Asterisk knows are 501, as
/// Asterisk answers for the ones it cannot do.
fn check_transport(p: &Params) -> Result<(), AriError> {
    let encapsulation = p.string("encapsulation").unwrap_or("rtp");
    let transport = p.string("transport").unwrap_or("udp");
    if encapsulation != "rtp" || transport != "udp" {
        return Err(AriError::not_implemented(
            "Unsupported encapsulation/transport combination",
        ));
    }
    let connection = p.string("connection_type").unwrap_or("client");
    let direction = p.string("direction").unwrap_or("both");
    if connection != "client" || direction != "both" {
        return Err(AriError::not_implemented(
            "Unsupported connection type or direction",
        ));
    }
    Ok(())
}

/// Creates the channel, answers with it (`channelvars` holding its
/// variables, `UNICASTRTP_LOCAL_ADDRESS` and `UNICASTRTP_LOCAL_PORT`
/// among them), and puts it in the application.
pub(super) async fn external_media(ari: &Arc<Ari>, p: &Params) -> AriResult {
    let app = p.require("app", "app cannot be empty")?.to_owned();
    check_transport(p)?;
    let host = p
        .string("external_host")
        .ok_or_else(|| AriError::bad_request("external_host cannot be empty"))?;
    let format = p.require("format", "format cannot be empty")?;
    let codec = Codec::from_name(format).ok_or_else(|| {
        AriError::bad_request(format!("Provided format ({format}) was not found"))
    })?;
    let channel_id = p.string("channelId");
    if let Some(id) = channel_id
        && ari.id_in_use(id)
    {
        return Err(AriError::conflict(
            "Channel with given unique ID already exists",
        ));
    }
    let vars = variables(p)?;
    let executor = super::executor(ari)?;
    let dialstring = format!("UnicastRTP/{host}/c({})", codec.name());
    let channel = ari
        .core
        .channels
        .request(&dialstring, None)
        .await
        .map_err(|cause| {
            if cause == Cause::CHAN_NOT_IMPLEMENTED {
                AriError::bad_request(format!("Invalid external_host: {host}"))
            } else {
                AriError::internal(format!(
                    "Failed to create the external media channel: {}",
                    cause.text()
                ))
            }
        })?;
    if let Some(id) = channel_id {
        ari.add_alias(id, channel.uniqueid());
    }
    for (name, value) in &vars {
        executor.set(Some(&channel), name, value);
    }
    let mut json = ari.live_channel_json(&channel);
    let all = json.channelvars.get_or_insert_with(Default::default);
    all.extend(channel.vars());
    let reply = ari.encode(&json)?;
    let args = p.string("data").map(str::to_owned);
    let ari = Arc::clone(ari);
    tokio::spawn(async move {
        // No signalling: the channel is up as soon as it exists.
        channel.set_state(ChannelState::Up);
        crate::enter::run_in_stasis(ari, channel, app, args).await;
    });
    Ok(Reply::Json(reply))
}
