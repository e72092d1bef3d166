//! `/endpoints`: the PJSIP endpoints (from sorcery, whichever wizard
//! holds them), online when a contact is registered for one of their AORs;
//! text messages and refers sent to them, and the messages they send
//! (`TextMessageReceived`).

use std::sync::{Arc, Weak};

use obelus_core::message::{Message, MessageError, MessageHandler, Refer};
use obelus_sorcery::{Object, Sorcery, SorceryService};
use serde_json::Value;

use super::ok;
use crate::apps::Interest;
use crate::error::{AriError, AriResult, Reply};
use crate::json::{self, Payload};
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

/// The `variables` object of a JSON body, whose values must be strings.
fn variables(p: &Params) -> Result<Vec<(String, String)>, AriError> {
    let Some(vars) = p.body_object("variables") else {
        return Ok(Vec::new());
    };
    vars.iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name.clone(), s.clone())),
            _ => Err(AriError::bad_request(
                "Only string values in the 'variables' object allowed",
            )),
        })
        .collect()
}

fn send_error(e: MessageError) -> AriError {
    match e {
        MessageError::UnknownTechnology(_) | MessageError::EndpointNotFound(_) => {
            AriError::not_found("Endpoint not found")
        }
        MessageError::Invalid(why) => AriError::bad_request(why),
    }
}

async fn send_message(ari: &Ari, p: &Params, to: String) -> AriResult {
    let message = Message {
        from: p.require("from", "From must be specified")?.to_owned(),
        to,
        body: p.get("body").unwrap_or_default().to_owned(),
        variables: variables(p)?,
        endpoint: None,
    };
    ari.core.messages.send(&message).await.map_err(send_error)?;
    Ok(Reply::Accepted)
}

/// The `tech:resource` destination of an endpoint (`pjsip:102`), or 404.
async fn endpoint_destination(ari: &Ari, p: &Params) -> Result<String, AriError> {
    let (tech, resource) = (p.path("tech"), p.path("resource"));
    find(ari, &format!("{tech}/{resource}"))
        .await
        .ok_or_else(|| AriError::not_found("Endpoint not found"))?;
    Ok(format!("{}:{resource}", tech.to_ascii_lowercase()))
}

/// `PUT /endpoints/sendMessage?to=pjsip:102&from=&body=`: 202 once the
/// message is on its way.
pub(super) async fn send_message_to(ari: &Ari, p: &Params) -> AriResult {
    let to = p.require("to", "To must be specified")?.to_owned();
    send_message(ari, p, to).await
}

/// `PUT /endpoints/{tech}/{resource}/sendMessage?from=&body=`.
pub(super) async fn send_message_to_endpoint(ari: &Ari, p: &Params) -> AriResult {
    let to = endpoint_destination(ari, p).await?;
    send_message(ari, p, to).await
}

async fn refer(ari: &Ari, p: &Params, to: String) -> AriResult {
    let refer = Refer {
        from: p.require("from", "From must be specified")?.to_owned(),
        to,
        refer_to: p
            .require("refer_to", "Refer-To must be specified")?
            .to_owned(),
        to_self: p.bool("to_self").unwrap_or(false),
        variables: variables(p)?,
    };
    ari.core.messages.refer(&refer).await.map_err(send_error)?;
    Ok(Reply::Accepted)
}

/// `POST /endpoints/refer?to=&from=&refer_to=&to_self=`.
pub(super) async fn refer_to(ari: &Ari, p: &Params) -> AriResult {
    let to = p.require("to", "To must be specified")?.to_owned();
    refer(ari, p, to).await
}

/// `POST /endpoints/{tech}/{resource}/refer?from=&refer_to=`.
pub(super) async fn refer_to_endpoint(ari: &Ari, p: &Params) -> AriResult {
    let to = endpoint_destination(ari, p).await?;
    refer(ari, p, to).await
}

/// `contact_status` of a `ContactInfo` for a status of the bus's
/// `ContactStatus` (AMI's wording): a contact just added or refreshed is not
/// known to be reachable until qualified.
fn contact_status(status: &str) -> &'static str {
    match status {
        "Reachable" => "Reachable",
        "Unreachable" => "Unreachable",
        "Removed" => "Removed",
        "Created" | "Updated" => "NonQualified",
        _ => "Unknown",
    }
}

/// A contact of PJSIP endpoint `endpoint` changed (`ContactStatus` on the
/// bus): `ContactStatusChange` to the applications following the
/// endpoint, and `EndpointStateChange` and `PeerStatusChange` when that
/// took it online or offline. Nothing is done (no task, no lookup) when no application
/// follows it: registrations are a hot path.
pub(crate) fn contact_changed(
    ari: &Arc<Ari>,
    endpoint: &str,
    contact: (&str, &str, &str, Option<u64>),
) {
    let (uri, status, aor, roundtrip_usec) = contact;
    let source = format!("{TECH}/{endpoint}");
    let followed = !endpoint.is_empty()
        && ari.apps.interested(&Interest {
            endpoint: Some(&source),
            ..Interest::default()
        });
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if !followed {
        return;
    }
    let contact_info = json::ContactInfo {
        uri: uri.to_owned(),
        contact_status: contact_status(status),
        aor: aor.to_owned(),
        roundtrip_usec: roundtrip_usec.map(|r| r.to_string()),
    };
    let ari = Arc::clone(ari);
    // The endpoint's state needs its contacts, read from sorcery.
    runtime.spawn(async move {
        let Some(endpoint) = find(&ari, &source).await else {
            return;
        };
        let interest = Interest {
            endpoint: Some(&source),
            ..Interest::default()
        };
        let state = endpoint.state;
        ari.dispatch(
            &Payload::ContactStatusChange {
                endpoint: endpoint.clone(),
                contact_info,
            },
            &interest,
        );
        let previous = ari
            .endpoint_states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source.clone(), state);
        if previous.unwrap_or("offline") != state {
            ari.dispatch(
                &Payload::EndpointStateChange {
                    endpoint: endpoint.clone(),
                },
                &interest,
            );
            let peer = json::Peer {
                peer_status: if state == "online" {
                    "Reachable"
                } else {
                    "Unreachable"
                },
                time: json::timestamp(std::time::SystemTime::now()),
            };
            ari.dispatch(&Payload::PeerStatusChange { endpoint, peer }, &interest);
        }
    });
}

/// Hands the messages endpoints send to the applications subscribed to
/// the endpoint, its technology, or everything (`TextMessageReceived`).
struct Received(Weak<Ari>);

impl MessageHandler for Received {
    fn wants(&self, message: &Message) -> bool {
        let (Some(ari), Some(endpoint)) = (self.0.upgrade(), message.endpoint.as_deref()) else {
            return false;
        };
        ari.apps.interested(&Interest {
            endpoint: Some(endpoint),
            ..Interest::default()
        })
    }

    fn handle(&self, message: &Message) {
        let Some(ari) = self.0.upgrade() else {
            return;
        };
        let message = message.clone();
        // The endpoint's state needs its contacts, read from sorcery.
        tokio::spawn(async move {
            let source = message.endpoint.clone().unwrap_or_default();
            let endpoint = find(&ari, &source).await;
            let variables = (!message.variables.is_empty())
                .then(|| message.variables.iter().cloned().collect());
            ari.dispatch(
                &Payload::TextMessageReceived {
                    message: json::TextMessage {
                        from: message.from,
                        to: message.to,
                        body: message.body,
                        variables,
                    },
                    endpoint,
                },
                &Interest {
                    endpoint: Some(&source),
                    ..Interest::default()
                },
            );
        });
    }
}

/// Starts taking the messages endpoints send.
pub(super) fn take_messages(ari: &Arc<Ari>) {
    ari.core
        .messages
        .add_handler(Arc::new(Received(Arc::downgrade(ari))));
}
