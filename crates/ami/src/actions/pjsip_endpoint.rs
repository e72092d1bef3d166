//! `PJSIPShowEndpoint` (one endpoint and every object tied to it) and
//! `PJSIPQualify` (ping its contacts now).
//!
//! `PJSIPShowEndpoint` answers, as res_pjsip does: `EndpointDetail` (every
//! option as a CamelCase header, `DeviceState`, `ActiveChannels`), then
//! `AuthDetail` for each auth, `AorDetail` for each AOR followed by a
//! `ContactStatusDetail` per contact, `TransportDetail`, `IdentifyDetail`
//! for each identify naming the endpoint; `EndpointDetailComplete` counts
//! them all (`ListItems` = objects + 1).

use std::sync::Arc;

use obelus_sorcery::{Object, Sorcery};

use super::Req;
use super::pjsip::{camel, sorcery};
use crate::message::ListEvent;
use crate::session::Outbound;

/// Asterisk's `ast_devstate2str` wording.
fn device_state_text(state: &str) -> &'static str {
    match state {
        "NOT_INUSE" => "Not in use",
        "INUSE" => "In use",
        "BUSY" => "Busy",
        "INVALID" => "Invalid",
        "UNAVAILABLE" => "Unavailable",
        "RINGING" => "Ringing",
        "RINGINUSE" => "Ring+Inuse",
        "ONHOLD" => "On Hold",
        _ => "Unknown",
    }
}

/// `ObjectType`, `ObjectName`, then every option CamelCased.
fn object_event(name: &str, req: &Req, object: &Object) -> ListEvent {
    let mut event = ListEvent::new(name, req.id())
        .header("ObjectType", object.type_name())
        .header("ObjectName", object.id());
    for (option, value) in object.to_fields() {
        event = event.header(&camel(&option), &value);
    }
    event
}

async fn by_id(sorcery: &Sorcery, type_name: &str, id: &str) -> Option<Arc<Object>> {
    sorcery.retrieve_by_id(type_name, id).await.ok().flatten()
}

async fn contacts_of(sorcery: &Sorcery, aor: &str) -> Vec<Arc<Object>> {
    sorcery
        .retrieve_by_prefix("contact", &format!("{aor};@"))
        .await
        .unwrap_or_default()
}

/// `Reachable` and the round trip in microseconds, from the last qualify.
fn contact_status(contact: &Object) -> (&'static str, String) {
    match obelus_pjsip::qualify::result_of(contact.id()) {
        None => ("NonQualified", "N/A".to_owned()),
        Some((true, rtt)) => (
            "Reachable",
            rtt.map_or("N/A".to_owned(), |r| r.as_micros().to_string()),
        ),
        Some((false, _)) => ("Unreachable", "N/A".to_owned()),
    }
}

fn contact_detail(req: &Req, aor: &Object, contact: &Object, endpoint: &str) -> String {
    let text = |k: &str| contact.text(k).unwrap_or_default();
    let (status, rtt) = contact_status(contact);
    let via = match (text("via_addr"), text("via_port")) {
        (addr, _) if addr.is_empty() => String::new(),
        (addr, port) => format!("{addr}:{port}"),
    };
    let aor_text = |k: &str| aor.text(k).unwrap_or_default();
    ListEvent::new("ContactStatusDetail", req.id())
        .header("AOR", aor.id())
        .header("URI", &text("uri"))
        .header("Status", status)
        .header("RoundtripUsec", &rtt)
        .header("EndpointName", endpoint)
        .header("UserAgent", &text("user_agent"))
        .header("RegExpire", &text("expiration_time"))
        .header("ViaAddress", &via)
        .header("CallID", &text("call_id"))
        .header("ID", contact.id())
        .header("AuthenticateQualify", &aor_text("authenticate_qualify"))
        .header("OutboundProxy", &text("outbound_proxy"))
        .header("Path", &text("path"))
        .header("QualifyFrequency", &aor_text("qualify_frequency"))
        .header("QualifyTimeout", &aor_text("qualify_timeout"))
        .header("Qualify2xxOnly", &aor_text("qualify_2xx_only"))
        .finish()
}

/// What an endpoint is doing now: its AORs with their contacts, its
/// device state as `ast_devstate2str` words it (`Unavailable` when idle
/// with no contact), and its live channels.
pub(super) struct Live {
    /// Each AOR name with its contacts.
    pub aors: Vec<(String, Vec<Arc<Object>>)>,
    /// `Not in use`, `In use`, ...
    pub device_state: &'static str,
    /// Names of its channels.
    pub channels: Vec<String>,
}

impl Live {
    /// Looks the endpoint up in the contacts and the channels.
    pub(super) async fn of(req: &Req, sorcery: &Sorcery, endpoint: &Object) -> Self {
        let mut aors = Vec::new();
        for aor in endpoint.list("aors") {
            aors.push((aor.clone(), contacts_of(sorcery, aor).await));
        }
        let device = format!("PJSIP/{}", endpoint.id());
        let channels: Vec<String> = req
            .ami
            .core
            .channels
            .with_prefix(&format!("{device}-"))
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        let reachable = aors.iter().any(|(_, c)| !c.is_empty());
        let device_state = match req.ami.core.channels.devices().state(&device) {
            "NOT_INUSE" if !reachable && channels.is_empty() => "Unavailable",
            other => device_state_text(other),
        };
        Self {
            aors,
            device_state,
            channels,
        }
    }

    /// `aor/uri` for every contact, comma separated (`Contacts:`).
    pub(super) fn contacts(&self) -> String {
        let all: Vec<String> = self
            .aors
            .iter()
            .flat_map(|(aor, contacts)| {
                contacts
                    .iter()
                    .map(move |c| format!("{aor}/{}", c.str("uri").unwrap_or("")))
            })
            .collect();
        all.join(",")
    }
}

/// `Action: PJSIPShowEndpoint` (`Endpoint`, with or without `PJSIP/`).
pub async fn show_endpoint(req: Req) -> Outbound {
    let name = req.msg.value("Endpoint").trim();
    if name.is_empty() {
        return req.error("PJSIPShowEndpoint requires an endpoint name\n");
    }
    let name = match name.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("pjsip/") => name[6..].to_owned(),
        _ => name.to_owned(),
    };
    let sorcery = match sorcery(&req) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(endpoint) = by_id(&sorcery, "endpoint", &name).await else {
        return req.error(&format!("Unable to retrieve endpoint {name}\n"));
    };

    let live = Live::of(&req, &sorcery, &endpoint).await;
    let mut items: Vec<String> = vec![
        // The endpoint first.
        object_event("EndpointDetail", &req, &endpoint)
            .header("DeviceState", live.device_state)
            .header("ActiveChannels", &live.channels.join(","))
            .finish(),
    ];

    for key in ["auth", "outbound_auth"] {
        for id in endpoint.list(key) {
            if let Some(auth) = by_id(&sorcery, "auth", id).await {
                items.push(
                    object_event("AuthDetail", &req, &auth)
                        .header("EndpointName", &name)
                        .finish(),
                );
            }
        }
    }
    for (name_of_aor, contacts) in &live.aors {
        let Some(aor) = by_id(&sorcery, "aor", name_of_aor).await else {
            continue;
        };
        let uris: Vec<String> = contacts
            .iter()
            .map(|c| format!("{}/{}", aor.id(), c.str("uri").unwrap_or("")))
            .collect();
        let registered = contacts
            .iter()
            .filter(|c| c.text("expiration_time").is_some_and(|e| e != "0"))
            .count();
        items.push(
            object_event("AorDetail", &req, &aor)
                .header("Contacts", &uris.join(","))
                .header("TotalContacts", &contacts.len().to_string())
                .header("ContactsRegistered", &registered.to_string())
                .header("EndpointName", &name)
                .finish(),
        );
        for contact in contacts {
            items.push(contact_detail(&req, &aor, contact, &name));
        }
    }
    if let Some(transport) = endpoint.str("transport").filter(|t| !t.is_empty())
        && let Some(object) = by_id(&sorcery, "transport", transport).await
    {
        items.push(
            object_event("TransportDetail", &req, &object)
                .header("EndpointName", &name)
                .finish(),
        );
    }
    for identify in sorcery.retrieve_all("identify").await.unwrap_or_default() {
        if identify.str("endpoint") == Some(name.as_str()) {
            items.push(
                object_event("IdentifyDetail", &req, &identify)
                    .header("EndpointName", &name)
                    .finish(),
            );
        }
    }

    let mut text = req
        .success()
        .header("EventList", "start")
        .header(
            "Message",
            "Following are Events for each object associated with the Endpoint",
        )
        .finish();
    let n = items.len();
    for item in items {
        text.push_str(&item);
    }
    text.push_str(
        &ListEvent::new("EndpointDetailComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &n.to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `Action: PJSIPQualify` (`Endpoint`): pings every contact of its AORs now;
/// the outcome comes as `ContactStatus` events.
pub async fn qualify(req: Req) -> Outbound {
    let name = req.msg.value("Endpoint").trim().to_owned();
    if name.is_empty() {
        return req.error("Endpoint parameter missing.");
    }
    let sorcery = match sorcery(&req) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(endpoint) = by_id(&sorcery, "endpoint", &name).await else {
        return req.error("Could not find endpoint");
    };
    let aors = endpoint.list("aors").to_vec();
    if aors.is_empty() {
        return req.error("No AoRs configured for endpoint");
    }
    obelus_pjsip::qualify::qualify_now(aors);
    Outbound::Text(
        req.success()
            .header("Message", "Endpoint found, will qualify")
            .finish(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_states_as_asterisk_words_them() {
        assert_eq!(super::device_state_text("NOT_INUSE"), "Not in use");
        assert_eq!(super::device_state_text("RINGINUSE"), "Ring+Inuse");
        assert_eq!(super::device_state_text("whatever"), "Unknown");
    }
}
