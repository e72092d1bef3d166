//! `/endpoints`: the PJSIP endpoints (from sorcery, whichever wizard
//! holds them), online when a contact is registered for one of their AORs.

use std::sync::Arc;

use obelus_sorcery::{Object, Sorcery, SorceryService};

use super::ok;
use crate::error::{AriError, AriResult};
use crate::json;
use crate::params::Params;
use crate::state::Ari;

/// The only technology with endpoints.
const TECH: &str = "PJSIP";

fn sorcery(ari: &Ari) -> Option<Arc<Sorcery>> {
    ari.core.service::<SorceryService>()?.get()
}

async fn endpoint_json(ari: &Ari, sorcery: &Sorcery, endpoint: &Object) -> json::Endpoint {
    let mut online = false;
    for aor in endpoint.list("aors") {
        let contacts = sorcery
            .retrieve_by_prefix("contact", &format!("{aor};@"))
            .await
            .unwrap_or_default();
        if !contacts.is_empty() {
            online = true;
            break;
        }
    }
    let channel_ids = ari
        .core
        .channels
        .with_prefix(&format!("{TECH}/{}-", endpoint.id()))
        .iter()
        .map(|c| ari.channel_id(c.uniqueid()))
        .collect();
    json::Endpoint {
        technology: TECH.to_owned(),
        resource: endpoint.id().to_owned(),
        state: if online { "online" } else { "offline" },
        channel_ids,
    }
}

/// `GET /endpoints` and `GET /endpoints/{tech}`.
pub(super) async fn list(ari: &Ari, tech: Option<&str>) -> AriResult {
    if tech.is_some_and(|t| !t.eq_ignore_ascii_case(TECH)) {
        return Err(AriError::not_found("No Endpoints found - invalid tech"));
    }
    let mut out = Vec::new();
    if let Some(sorcery) = sorcery(ari) {
        let endpoints = sorcery
            .retrieve_all("endpoint")
            .await
            .map_err(|e| AriError::internal(e.to_string()))?;
        for endpoint in &endpoints {
            out.push(endpoint_json(ari, &sorcery, endpoint).await);
        }
    }
    ok(ari, &out)
}

/// An endpoint by `tech/resource`.
pub(super) async fn find(ari: &Ari, id: &str) -> Option<json::Endpoint> {
    let (tech, resource) = id.split_once('/')?;
    if !tech.eq_ignore_ascii_case(TECH) {
        return None;
    }
    let sorcery = sorcery(ari)?;
    let endpoint = sorcery.retrieve_by_id("endpoint", resource).await.ok()??;
    Some(endpoint_json(ari, &sorcery, &endpoint).await)
}

/// `GET /endpoints/{tech}/{resource}`.
pub(super) async fn get(ari: &Ari, p: &Params) -> AriResult {
    let id = format!("{}/{}", p.path("tech"), p.path("resource"));
    let endpoint = find(ari, &id)
        .await
        .ok_or_else(|| AriError::not_found("Endpoint not found"))?;
    ok(ari, &endpoint)
}
