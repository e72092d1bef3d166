//! PJSIPShowEndpoints, PJSIPShowAors, PJSIPShowAuths: list events from sorcery.

use std::sync::Arc;

use obelus_sorcery::{Object, Sorcery, SorceryService};

use super::Req;
use super::pjsip_endpoint::Live;
use crate::message::ListEvent;
use crate::session::Outbound;

pub(super) fn sorcery(req: &Req) -> Result<Arc<Sorcery>, Outbound> {
    req.ami
        .core
        .service::<SorceryService>()
        .and_then(|s| s.get())
        .ok_or_else(|| req.error("res_pjsip is not loaded"))
}

/// Asterisk answers an empty list with an error (with a stray newline).
fn list(req: &Req, items: Vec<String>, complete: &str, empty: &str) -> Outbound {
    // `EndpointListComplete` -> "Endpoints" / "EndpointList".
    let item = complete.trim_end_matches("Complete");
    let noun = item.trim_end_matches("List");
    if items.is_empty() {
        return req.error(empty);
    }
    let mut text = req
        .success()
        .header("EventList", "start")
        .header(
            "Message",
            &format!("A listing of {noun}s follows, presented as {item} events"),
        )
        .finish();
    let n = items.len();
    for item in items {
        text.push_str(&item);
    }
    text.push_str(
        &ListEvent::new(complete, req.id())
            .header("EventList", "Complete")
            .header("ListItems", &n.to_string())
            .finish(),
    );
    Outbound::Text(text)
}

async fn all(req: &Req, type_name: &str) -> Result<Vec<Arc<Object>>, Outbound> {
    let sorcery = sorcery(req)?;
    sorcery
        .retrieve_all(type_name)
        .await
        .map_err(|e| req.error(&format!("Unable to retrieve {type_name}s: {e}")))
}

/// `Action: PJSIPShowEndpoints`.
pub async fn show_endpoints(req: Req) -> Outbound {
    let endpoints = match all(&req, "endpoint").await {
        Ok(e) => e,
        Err(e) => return e,
    };
    let sorcery = match sorcery(&req) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut items = Vec::with_capacity(endpoints.len());
    for e in &endpoints {
        let live = Live::of(&req, &sorcery, e).await;
        items.push(
            ListEvent::new("EndpointList", req.id())
                .header("ObjectType", "endpoint")
                .header("ObjectName", e.id())
                .header("Transport", e.str("transport").unwrap_or(""))
                .header("Aor", &e.list("aors").join(","))
                .header("Auths", &e.list("auth").join(","))
                .header("OutboundAuths", &e.list("outbound_auth").join(","))
                .header("Contacts", &live.contacts())
                .header("DeviceState", live.device_state)
                .header("ActiveChannels", &live.channels.join(","))
                .finish(),
        );
    }
    list(&req, items, "EndpointListComplete", "No endpoints found\n")
}

/// `Action: PJSIPShowAors`.
pub async fn show_aors(req: Req) -> Outbound {
    let aors = match all(&req, "aor").await {
        Ok(a) => a,
        Err(e) => return e,
    };
    let items = aors
        .iter()
        .map(|a| {
            let mut item = ListEvent::new("AorList", req.id())
                .header("ObjectType", "aor")
                .header("ObjectName", a.id());
            for (name, value) in a.to_fields() {
                item = item.header(&camel(&name), &value);
            }
            item.finish()
        })
        .collect();
    list(&req, items, "AorListComplete", "No Aors found\n")
}

/// `Action: PJSIPShowAuths`.
pub async fn show_auths(req: Req) -> Outbound {
    let auths = match all(&req, "auth").await {
        Ok(a) => a,
        Err(e) => return e,
    };
    let items = auths
        .iter()
        .map(|a| {
            let mut item = ListEvent::new("AuthList", req.id())
                .header("ObjectType", "auth")
                .header("ObjectName", a.id());
            for (name, value) in a.to_fields() {
                item = item.header(&camel(&name), &value);
            }
            item.finish()
        })
        .collect();
    list(&req, items, "AuthListComplete", "No Auths found\n")
}

/// `Action: PJSIPShowContacts`: every contact with its qualify state.
pub async fn show_contacts(req: Req) -> Outbound {
    let contacts = match all(&req, "contact").await {
        Ok(c) => c,
        Err(e) => return e,
    };
    let items = contacts
        .iter()
        .map(|c| {
            let (status, rtt) = match obelus_pjsip::qualify::result_of(c.id()) {
                None => ("NonQualified", "N/A".to_owned()),
                Some((true, rtt)) => (
                    "Reachable",
                    rtt.map_or("N/A".to_owned(), |r| r.as_micros().to_string()),
                ),
                Some((false, _)) => ("Unreachable", "N/A".to_owned()),
            };
            let mut item = ListEvent::new("ContactList", req.id())
                .header("ObjectType", "contact")
                .header("ObjectName", c.id());
            for (name, value) in c.to_fields() {
                item = item.header(&camel(&name), &value);
            }
            item.header("Status", status)
                .header("RoundtripUsec", &rtt)
                .finish()
        })
        .collect();
    list(&req, items, "ContactListComplete", "No Contacts found\n")
}

/// `max_contacts` -> `MaxContacts`, as Asterisk names list-event headers.
pub(super) fn camel(option: &str) -> String {
    option
        .split(['_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn camel_cases_like_asterisk() {
        assert_eq!(super::camel("max_contacts"), "MaxContacts");
        assert_eq!(super::camel("qualify_2xx_only"), "Qualify2xxOnly");
    }
}
