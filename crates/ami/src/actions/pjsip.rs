//! PJSIPShowEndpoints, PJSIPShowAors, PJSIPShowAuths: list events from sorcery.

use std::sync::Arc;

use obelus_sorcery::{Object, Sorcery, SorceryService};

use super::Req;
use crate::message::ListEvent;
use crate::session::Outbound;

fn sorcery(req: &Req) -> Result<Arc<Sorcery>, Outbound> {
    req.ami
        .core
        .service::<SorceryService>()
        .and_then(|s| s.get())
        .ok_or_else(|| req.error("res_pjsip is not loaded"))
}

/// Asterisk answers an empty list with an error (with a stray newline).
fn list(req: &Req, items: Vec<String>, complete: &str, empty: &str) -> Outbound {
    if items.is_empty() {
        return req.error(empty);
    }
    let mut text = req
        .success()
        .header("EventList", "start")
        .header(
            "Message",
            "A listing of Endpoints follows, presented as EndpointList events",
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
    let items = endpoints
        .iter()
        .map(|e| {
            ListEvent::new("EndpointList", req.id())
                .header("ObjectType", "endpoint")
                .header("ObjectName", e.id())
                .header("Transport", e.str("transport").unwrap_or(""))
                .header("Aor", &e.list("aors").join(","))
                .header("Auths", &e.list("auth").join(","))
                .header("OutboundAuths", &e.list("outbound_auth").join(","))
                .header("Contacts", "")
                .header("DeviceState", "Unavailable")
                .header("ActiveChannels", "")
                .finish()
        })
        .collect();
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

/// `max_contacts` -> `MaxContacts`, as Asterisk names list-event headers.
fn camel(option: &str) -> String {
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
