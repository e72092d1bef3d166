//! `/playbacks/{id}`: a playback's state, and stopping it.

use std::sync::Arc;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
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
