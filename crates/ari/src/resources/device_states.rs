//! `/deviceStates`: device states applications control (`Stasis:<name>`,
//! kept in AstDB family `StasisDeviceState` so they survive a restart),
//! and the last known state of any other device.

use std::sync::Arc;

use obelus_core::events::Event;
use obelus_sorcery::astdb::Astdb;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::json;
use crate::params::Params;
use crate::state::Ari;

/// The prefix of devices ARI controls.
const PREFIX: &str = "Stasis:";
/// The AstDB family they are kept in.
const FAMILY: &str = "StasisDeviceState";
/// Every state, as the bus carries them.
const STATES: &[&str] = &[
    "UNKNOWN",
    "NOT_INUSE",
    "INUSE",
    "BUSY",
    "INVALID",
    "UNAVAILABLE",
    "RINGING",
    "RINGINUSE",
    "ONHOLD",
];

fn states(ari: &Ari) -> std::sync::RwLockReadGuard<'_, std::collections::BTreeMap<String, String>> {
    ari.device_states.read().unwrap_or_else(|e| e.into_inner())
}

/// `GET /deviceStates`: the devices ARI controls.
pub(super) fn list(ari: &Ari) -> AriResult {
    let list: Vec<json::DeviceState> = states(ari)
        .iter()
        .filter(|(name, _)| name.starts_with(PREFIX))
        .map(|(name, state)| json::DeviceState {
            name: name.clone(),
            state: state.clone(),
        })
        .collect();
    ok(ari, &list)
}

/// `GET /deviceStates/{deviceName}`.
pub(super) fn get(ari: &Ari, p: &Params) -> AriResult {
    let name = p.path("deviceName");
    let state = states(ari)
        .get(name)
        .cloned()
        .unwrap_or_else(|| "UNKNOWN".to_owned());
    ok(
        ari,
        &json::DeviceState {
            name: name.to_owned(),
            state,
        },
    )
}

fn controlled(name: &str) -> Result<&str, AriError> {
    match name.strip_prefix(PREFIX) {
        Some(key) if !key.is_empty() => Ok(key),
        Some(_) => Err(AriError::not_found("Device name is missing")),
        None => Err(AriError::conflict("Uncontrolled device specified")),
    }
}

/// `PUT /deviceStates/Stasis:<name>?deviceState=BUSY`.
pub(super) async fn update(ari: &Arc<Ari>, p: &Params) -> AriResult {
    let name = p.path("deviceName");
    let key = controlled(name)?;
    let wanted = p.require("deviceState", "Device state is required")?;
    let state = STATES
        .iter()
        .find(|s| **s == wanted)
        .ok_or_else(|| AriError::bad_request(format!("Invalid device state: {wanted}")))?;
    if let Some(db) = ari.core.service::<Astdb>()
        && let Err(e) = db.put(FAMILY, key, state).await
    {
        tracing::warn!("ARI: device state {name} not saved: {e}");
    }
    ari.core.events.publish(Event::DeviceState {
        device: name.to_owned(),
        state,
    });
    Ok(Reply::NoContent)
}

/// `DELETE /deviceStates/Stasis:<name>`.
pub(super) async fn delete(ari: &Arc<Ari>, p: &Params) -> AriResult {
    let name = p.path("deviceName");
    let key = controlled(name)?;
    let existed = ari
        .device_states
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(name)
        .is_some();
    if !existed {
        return Err(AriError::not_found("Device not found"));
    }
    if let Some(db) = ari.core.service::<Astdb>()
        && let Err(e) = db.del(FAMILY, key).await
    {
        tracing::warn!("ARI: device state {name} not removed from AstDB: {e}");
    }
    ari.core.events.publish(Event::DeviceState {
        device: name.to_owned(),
        state: "UNKNOWN",
    });
    // The bus tap recorded UNKNOWN; a deleted device is not listed.
    ari.device_states
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(name);
    Ok(Reply::NoContent)
}

/// Loads the states saved in AstDB (at module load).
pub(crate) async fn restore(ari: &Ari) {
    let Some(db) = ari.core.service::<Astdb>() else {
        return;
    };
    match db.list(FAMILY).await {
        Ok(entries) => {
            let mut map = ari.device_states.write().unwrap_or_else(|e| e.into_inner());
            for (key, state) in entries {
                let key = key.rsplit('/').next().unwrap_or(&key).to_owned();
                map.insert(format!("{PREFIX}{key}"), state);
            }
        }
        Err(e) => tracing::warn!("ARI: device states not read from AstDB: {e}"),
    }
}
