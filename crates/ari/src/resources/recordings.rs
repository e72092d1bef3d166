//! `/recordings`: stored recordings (the files, listed, fetched, copied,
//! deleted) and live ones (shown, stopped, canceled, paused, muted).
//! Recordings start with `POST /channels/{id}/record` and
//! `/bridges/{id}/record`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::json;
use crate::params::Params;
use crate::recording::{self, Operation, Stored};
use crate::state::Ari;

/// Runs disk work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AriError> + Send + 'static,
) -> Result<T, AriError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?
}

/// The stored recording the path names: 404 when there is none.
async fn stored(ari: &Ari, p: &Params) -> Result<(PathBuf, Stored), AriError> {
    let dir = recording::dir(ari);
    let name = p.path("recordingName").to_owned();
    let found_in = dir.clone();
    let found = blocking(move || {
        recording::find(&found_in, &name).ok_or_else(|| AriError::not_found("Recording not found"))
    })
    .await?;
    Ok((dir, found))
}

/// `GET /recordings/stored`.
pub(super) async fn list_stored(ari: &Ari) -> AriResult {
    let dir = recording::dir(ari);
    let all = blocking(move || Ok(recording::list(&dir))).await?;
    let models: Vec<json::StoredRecording> = all.iter().map(Stored::json).collect();
    ok(ari, &models)
}

/// `GET /recordings/stored/{recordingName}`.
pub(super) async fn get_stored(ari: &Ari, p: &Params) -> AriResult {
    let (_, found) = stored(ari, p).await?;
    ok(ari, &found.json())
}

/// `DELETE /recordings/stored/{recordingName}`.
pub(super) async fn delete_stored(ari: &Ari, p: &Params) -> AriResult {
    let (_, found) = stored(ari, p).await?;
    blocking(move || {
        recording::delete(&found).map_err(|e| {
            tracing::warn!("Deleting recording {}: {e}", found.path.display());
            AriError::internal("Delete failed")
        })
    })
    .await?;
    Ok(Reply::NoContent)
}

/// `GET /recordings/stored/{recordingName}/file`: the bytes, with
/// `Content-Type: audio/<format>`.
pub(super) async fn get_stored_file(ari: &Ari, p: &Params) -> AriResult {
    let (_, found) = stored(ari, p).await?;
    let content_type = found.content_type();
    let body = tokio::fs::read(&found.path).await.map_err(|e| {
        tracing::warn!("Reading recording {}: {e}", found.path.display());
        AriError::new(StatusCode::FORBIDDEN, "Recording could not be opened")
    })?;
    Ok(Reply::File { content_type, body })
}

/// `POST /recordings/stored/{recordingName}/copy?destinationRecordingName=`.
pub(super) async fn copy_stored(ari: &Ari, p: &Params) -> AriResult {
    let destination = p
        .require(
            "destinationRecordingName",
            "Destination recording name is required",
        )?
        .to_owned();
    let (dir, found) = stored(ari, p).await?;
    let copied = blocking(move || recording::copy(&dir, &found, &destination)).await?;
    ok(ari, &copied.json())
}

/// `GET /recordings/live/{recordingName}`.
pub(super) fn get_live(ari: &Ari, p: &Params) -> AriResult {
    let live = ari
        .recordings
        .get(p.path("recordingName"))
        .ok_or_else(|| AriError::not_found("Recording not found"))?;
    ok(ari, &live)
}

/// `POST /recordings/live/{recordingName}/stop` (`cancel`: `DELETE
/// /recordings/live/{recordingName}`, the file is deleted).
pub(super) async fn stop(ari: &Arc<Ari>, p: &Params, cancel: bool) -> AriResult {
    ari.recordings
        .stop(ari, p.path("recordingName"), cancel)
        .await?;
    Ok(Reply::NoContent)
}

/// `pause`, `unpause`, `mute`, `unmute`.
pub(super) fn control(ari: &Ari, p: &Params, op: Operation) -> AriResult {
    ari.recordings.control(ari, p.path("recordingName"), op)?;
    Ok(Reply::NoContent)
}
