//! `/playbacks/{id}`: a playback's state, stopping it, and controlling it
//! (pause, resume, restart, move back and forth).

use std::sync::Arc;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
use crate::playback::Operation;
use crate::state::Ari;

/// `GET /playbacks/{playbackId}`.
pub(super) fn get(ari: &Ari, p: &Params) -> AriResult {
    let playback = ari
        .playbacks
        .get(p.path("playbackId"))
        .ok_or_else(|| AriError::not_found("Playback not found"))?;
    ok(ari, &playback)
}

/// `DELETE /playbacks/{playbackId}`.
pub(super) fn stop(ari: &Arc<Ari>, p: &Params) -> AriResult {
    ari.playbacks.stop(ari, p.path("playbackId"))?;
    Ok(Reply::NoContent)
}

/// `POST /playbacks/{playbackId}/control?operation=`: 400 for an unknown
/// operation (before looking the playback up, as Asterisk does).
pub(super) fn control(ari: &Ari, p: &Params) -> AriResult {
    let text = p.require("operation", "Operation is required")?;
    let op = Operation::parse(text)
        .ok_or_else(|| AriError::bad_request(format!("Invalid operation {text}")))?;
    ari.playbacks.control(ari, p.path("playbackId"), op)?;
    Ok(Reply::NoContent)
}
