//! `/applications`: the Stasis applications, their subscriptions and
//! event filters.

use serde_json::Value;

use super::ok;
use crate::apps::SourceKind;
use crate::error::{AriError, AriResult};
use crate::json;
use crate::params::Params;
use crate::state::Ari;

fn describe(ari: &Ari, name: &str) -> Option<json::Application> {
    ari.apps.describe(name, |c| ari.channel_id(c))
}

/// `GET /applications`.
pub(super) fn list(ari: &Ari) -> AriResult {
    let apps: Vec<json::Application> = ari
        .apps
        .active_names()
        .iter()
        .filter_map(|name| describe(ari, name))
        .collect();
    ok(ari, &apps)
}

fn application<'p>(ari: &Ari, p: &'p Params) -> Result<&'p str, AriError> {
    let name = p.path("applicationName");
    if ari.apps.exists(name) {
        Ok(name)
    } else {
        Err(AriError::not_found("Application not found"))
    }
}

/// `GET /applications/{applicationName}`.
pub(super) fn get(ari: &Ari, p: &Params) -> AriResult {
    let name = application(ari, p)?;
    let app = describe(ari, name).ok_or_else(|| AriError::not_found("Application not found"))?;
    ok(ari, &app)
}

/// An event source as subscriptions key it: channels by uniqueid.
async fn resolve(ari: &Ari, source: &str) -> Result<(SourceKind, String), AriError> {
    let (kind, id) = SourceKind::parse(source).ok_or_else(|| {
        AriError::bad_request(format!("Invalid event source URI scheme: {source}"))
    })?;
    let missing = || AriError::unprocessable(format!("Unable to find event source {source}"));
    let id = match kind {
        SourceKind::Channel => ari
            .find_channel(id)
            .ok_or_else(missing)?
            .uniqueid()
            .to_owned(),
        SourceKind::Bridge => {
            ari.bridge_json(id).ok_or_else(missing)?;
            id.to_owned()
        }
        SourceKind::Endpoint => {
            if id.contains('/') && super::endpoints::find(ari, id).await.is_none() {
                return Err(missing());
            }
            id.to_owned()
        }
        SourceKind::DeviceState => id.to_owned(),
    };
    Ok((kind, id))
}

/// `POST /applications/{name}/subscription?eventSource=channel:1,bridge:2`.
pub(super) async fn subscribe(ari: &Ari, p: &Params) -> AriResult {
    let name = application(ari, p)?;
    let mut sources = Vec::new();
    for source in p.list("eventSource") {
        sources.push(resolve(ari, &source).await?);
    }
    for (kind, id) in sources {
        ari.apps.subscribe(name, kind, &id);
    }
    get(ari, p)
}

/// `DELETE /applications/{name}/subscription?eventSource=...`.
pub(super) fn unsubscribe(ari: &Ari, p: &Params) -> AriResult {
    let name = application(ari, p)?;
    let mut sources = Vec::new();
    for source in p.list("eventSource") {
        let (kind, id) = SourceKind::parse(&source).ok_or_else(|| {
            AriError::bad_request(format!("Invalid event source URI scheme: {source}"))
        })?;
        let id = match kind {
            SourceKind::Channel => ari
                .find_channel(id)
                .map_or_else(|| id.to_owned(), |c| c.uniqueid().to_owned()),
            _ => id.to_owned(),
        };
        if !ari.apps.is_subscribed(name, kind, &id) {
            return Err(AriError::conflict(format!(
                "Application not subscribed to event source {source}"
            )));
        }
        sources.push((kind, id));
    }
    for (kind, id) in sources {
        ari.apps.unsubscribe(name, kind, &id);
    }
    get(ari, p)
}

/// The event types of `{"allowed": [{"type": "X"}, ...]}`.
fn types(body: &Value, key: &str) -> Result<Option<Vec<String>>, AriError> {
    let Some(list) = body.get(key) else {
        return Ok(None);
    };
    let list = list
        .as_array()
        .ok_or_else(|| AriError::bad_request(format!("'{key}' must be a list")))?;
    list.iter()
        .map(|item| {
            item.get("type")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| AriError::bad_request(format!("Each '{key}' entry needs a 'type'")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `PUT /applications/{name}/eventFilter` with `{"allowed": [...],
/// "disallowed": [...]}`; no body clears both lists.
pub(super) fn filter(ari: &Ari, p: &Params) -> AriResult {
    let name = application(ari, p)?;
    let (allowed, disallowed) = match p.body() {
        None => (Some(Vec::new()), Some(Vec::new())),
        Some(body) => {
            let body = body.get("filter").unwrap_or(body);
            (types(body, "allowed")?, types(body, "disallowed")?)
        }
    };
    ari.apps.set_filter(name, allowed, disallowed);
    get(ari, p)
}
