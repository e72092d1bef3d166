//! Text messages (SIP MESSAGE, RFC 3428) and out-of-dialog transfer
//! requests (REFER, RFC 3515): Asterisk's res_pjsip_messaging and the
//! out-of-dialog half of res_pjsip_refer.
//!
//! Outbound, [`PjsipMessaging`] is the `pjsip:` message technology: the
//! destination (`pjsip:102`, `pjsip:102/sip:uri`, `pjsip:user@102`,
//! `pjsip:sip:uri`) is checked at once, the request then leaves over the
//! transport [`crate::route::route_request`] picks (the connection a contact registered
//! over, or UDP, TCP, TLS as the URI and endpoint say; toward the first
//! hop of the contact's Path, RFC 3327, with the path as Route headers) as
//! its own non-INVITE transaction, and its outcome is logged. Inbound, a MESSAGE from an endpoint (identified and
//! authenticated like any request) is offered to the core's message
//! handlers: 202 when one takes it, 404 when none does.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use obelus_core::channel::Channel;
use obelus_core::message::{Message, MessageError, MessageTech, Refer};
use obelus_sip::transaction::{
    ClientTransaction, Event as TransactionEvent, TimerConfig, TransactionKey,
};
use obelus_sip::{
    HeaderName, Method, Request, RequestBuilder, Response, ResponseBuilder, StatusCode, new_branch,
    new_call_id, new_tag,
};
use obelus_sorcery::Object;
use tokio::sync::mpsc;

use crate::route::Route;
use crate::session::dialog::without_tag;
use crate::session::tech::{Reach, contact_of, parse, with_user};
use crate::stack::{Origin, Shared, admit, answer, built};

/// The `pjsip:` message technology.
pub(crate) struct PjsipMessaging {
    pub(crate) shared: Weak<Shared>,
}

/// The endpoint a session's channel belongs to (`PJSIP/101`).
pub(crate) fn endpoint_of(channel: &Channel) -> Option<String> {
    channel
        .driver()
        .info("endpoint")
        .map(|e| format!("PJSIP/{e}"))
}

/// Offers a received MESSAGE to the message handlers; the response to
/// send: 202 when taken, 404 when nobody wants it, 415 unless the body is
/// `text/plain`.
pub(crate) fn take(
    shared: &Shared,
    req: &Request,
    origin: &Origin,
    endpoint: Option<String>,
) -> ResponseBuilder {
    let plain = match req.headers().content_type() {
        Ok(Some(t)) => t.is("text/plain"),
        _ => false,
    };
    if !plain {
        return answer(req, origin, StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .header("Accept", "text/plain");
    }
    let message = Message {
        from: req
            .headers()
            .get(HeaderName::From)
            .map(without_tag)
            .unwrap_or_default(),
        to: req.uri_str().to_owned(),
        body: String::from_utf8_lossy(req.body()).into_owned(),
        // Every header but the credentials.
        variables: req
            .headers()
            .iter()
            .filter(|(n, _)| {
                !n.eq_ignore_ascii_case("Authorization")
                    && !n.eq_ignore_ascii_case("Proxy-Authorization")
            })
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        endpoint,
    };
    if shared.core.messages.route(&message) {
        answer(req, origin, StatusCode::ACCEPTED)
    } else {
        tracing::debug!("PJSIP: MESSAGE received, but no handler wanted it");
        answer(req, origin, StatusCode::NOT_FOUND)
    }
}

/// An out-of-dialog MESSAGE: identified, checked against the endpoint's
/// ACL, authenticated, then offered to the handlers.
pub(crate) async fn incoming(shared: &Shared, req: &Request, origin: &Origin) -> Option<Response> {
    let Some(sorcery) = shared.sorcery.get() else {
        return built(answer(req, origin, StatusCode::SERVICE_UNAVAILABLE));
    };
    let endpoint = match admit(shared, &sorcery, req, origin).await {
        Ok(endpoint) => endpoint,
        Err(answer) => return answer,
    };
    built(take(
        shared,
        req,
        origin,
        Some(format!("PJSIP/{}", endpoint.id())),
    ))
}

/// The contact a `pjsip:` destination reaches (its URI and Path), and the
/// endpoint it names.
async fn destination(
    shared: &Shared,
    to: &str,
) -> Result<(Reach, Option<Arc<Object>>), MessageError> {
    let rest = to
        .split_once(':')
        .map_or(to, |(_, rest)| rest)
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    if rest.starts_with("sip:") || rest.starts_with("sips:") {
        return Ok((
            Reach {
                uri: rest.to_owned(),
                path: String::new(),
            },
            None,
        ));
    }
    let target =
        parse(rest).ok_or_else(|| MessageError::Invalid(format!("Invalid destination '{to}'")))?;
    let sorcery = shared
        .sorcery
        .get()
        .ok_or_else(|| MessageError::EndpointNotFound(target.endpoint.clone()))?;
    let endpoint = sorcery
        .retrieve_by_id("endpoint", &target.endpoint)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| MessageError::EndpointNotFound(target.endpoint.clone()))?;
    let reach = match target.uri {
        Some(uri) => Reach {
            uri,
            path: String::new(),
        },
        None => contact_of(&sorcery, &endpoint, target.aor.as_deref())
            .await
            .ok_or_else(|| {
                MessageError::EndpointNotFound(format!("{} (no contact)", target.endpoint))
            })?,
    };
    let reach = match &target.user {
        Some(user) => Reach {
            uri: with_user(&reach.uri, user),
            ..reach
        },
        None => reach,
    };
    Ok((reach, Some(endpoint)))
}

/// How a MESSAGE or REFER to a contact leaves: its first RFC 3263 target
/// (it is sent once), over the transport the URI and the endpoint call
/// for, toward the first hop of its Path when it has one.
async fn route(
    shared: &Shared,
    reach: &Reach,
    endpoint: Option<&Object>,
) -> Result<Route, MessageError> {
    let uri = &reach.uri;
    crate::path::route(shared, uri, &reach.path, endpoint)
        .await
        .map_err(|why| {
            tracing::warn!("PJSIP: cannot reach '{uri}': {why}");
            MessageError::Invalid(format!("Cannot reach '{uri}': {why}"))
        })
}

/// The From value for a `from` identity: a name-addr or URI as given, a
/// bare user at this server.
fn from_value(from: &str, local: SocketAddr) -> String {
    let from = from.trim();
    if from.contains('<') {
        from.to_owned()
    } else if from.starts_with("sip:") || from.starts_with("sips:") {
        format!("<{from}>")
    } else if from.contains('@') {
        format!("<sip:{from}>")
    } else {
        let user = if from.is_empty() { "obelus" } else { from };
        format!("<sip:{user}@{local}>")
    }
}

/// An out-of-dialog request to a contact with its own Call-ID and tag
/// (and the contact's path as Route headers; no `x-ast-txp` on the wire).
fn request(method: Method, reach: &Reach, from: &str, route: &Route) -> RequestBuilder {
    let uri = crate::symmetric::on_the_wire(&reach.uri);
    let mut b = RequestBuilder::new(method.clone(), uri.as_ref()).header(
        "Via",
        format!("SIP/2.0/{};rport;branch={}", route.via, new_branch()),
    );
    for hop in crate::path::route_set(&reach.path) {
        b = b.header("Route", hop);
    }
    b.header("From", format!("{from};tag={}", new_tag()))
        .header("To", format!("<{uri}>"))
        .header("Call-ID", new_call_id(None))
        .header("CSeq", format!("1 {}", method.as_str()))
        .header("Max-Forwards", "70")
        .header("User-Agent", obelus_core::USER_AGENT)
}

/// Runs a non-INVITE client transaction to its end and logs the outcome.
async fn deliver(shared: Arc<Shared>, route: Route, request: Request) {
    let what = format!("{} to {}", request.method().as_str(), request.uri_str());
    let Ok(mut txn) = ClientTransaction::new(
        request,
        route.reliable,
        TimerConfig::default(),
        Instant::now(),
    ) else {
        return;
    };
    let Some(key) = TransactionKey::for_client_request(txn.request()) else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    shared.pending.register(key.clone(), tx);
    let outcome = loop {
        while let Some(bytes) = txn.poll_transmit() {
            if let Err(e) = route.reply.send(bytes).await {
                tracing::debug!("PJSIP: {what}: send failed: {e}");
            }
        }
        let mut done = None;
        while let Some(event) = txn.poll_event() {
            match event {
                TransactionEvent::Response(r) if r.status().is_final() => {
                    done = Some(Some((r.status(), r.reason().to_owned())));
                }
                TransactionEvent::Timeout => done = Some(None),
                _ => {}
            }
        }
        if let Some(done) = done {
            break done;
        }
        let wake = txn
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(32));
        tokio::select! {
            response = rx.recv() => match response {
                Some(response) => {
                    let _ = txn.handle_response(response, Instant::now());
                }
                None => break None,
            },
            () = tokio::time::sleep_until(wake.into()) => txn.handle_timeout(Instant::now()),
        }
    };
    shared.pending.unregister(&key);
    match outcome {
        Some((status, _)) if status.is_success() => {
            tracing::debug!("PJSIP: {what} accepted ({})", status.as_u16());
        }
        Some((status, reason)) => {
            tracing::warn!("PJSIP: {what} failed: {} {reason}", status.as_u16());
        }
        None => tracing::warn!("PJSIP: {what} failed: no answer"),
    }
}

/// Values that name the request's parts rather than extra headers.
fn is_reserved(name: &str) -> bool {
    [
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Content-Type",
        "Content-Length",
        "Max-Forwards",
    ]
    .iter()
    .any(|r| r.eq_ignore_ascii_case(name))
}

#[async_trait]
impl MessageTech for PjsipMessaging {
    fn scheme(&self) -> &'static str {
        "pjsip"
    }

    async fn send(&self, message: &Message) -> Result<(), MessageError> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| MessageError::UnknownTechnology(message.to.clone()))?;
        let (reach, endpoint) = destination(&shared, &message.to).await?;
        let route = route(&shared, &reach, endpoint.as_deref()).await?;
        let mut b = request(
            Method::Message,
            &reach,
            &from_value(&message.from, route.local),
            &route,
        );
        for (name, value) in message.variables.iter().filter(|(n, _)| !is_reserved(n)) {
            b = b.header(name.as_str(), value.as_str());
        }
        let request = b
            .body("text/plain", message.body.clone().into_bytes())
            .build()
            .map_err(|e| MessageError::Invalid(format!("Invalid message: {e}")))?;
        tokio::spawn(deliver(shared, route, request));
        Ok(())
    }

    async fn refer(&self, refer: &Refer) -> Result<(), MessageError> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| MessageError::UnknownTechnology(refer.to.clone()))?;
        let (reach, endpoint) = destination(&shared, &refer.to).await?;
        let route = route(&shared, &reach, endpoint.as_deref()).await?;
        let target = refer.refer_to.trim();
        let refer_to = if target.starts_with("sip:") || target.starts_with("sips:") {
            target.to_owned()
        } else if refer.to_self {
            let name = target.strip_prefix("pjsip:").unwrap_or(target);
            format!("sip:{name}@{}", route.local)
        } else {
            destination(&shared, &format!("pjsip:{target}"))
                .await?
                .0
                .uri
        };
        let display = refer
            .variables
            .iter()
            .find(|(n, _)| n == "display_name")
            .map(|(_, v)| v.replace('"', ""));
        let refer_to = match display {
            Some(name) => format!("\"{name}\" <{refer_to}>"),
            None => format!("<{refer_to}>"),
        };
        let from = from_value(&refer.from, route.local);
        let mut b = request(Method::Refer, &reach, &from, &route)
            .header("Contact", format!("<{}>", route.contact("obelus")))
            .header("Refer-To", refer_to)
            .header("Referred-By", from.clone());
        for (name, value) in refer
            .variables
            .iter()
            .filter(|(n, _)| n != "display_name" && !is_reserved(n))
        {
            b = b.header(name.as_str(), value.as_str());
        }
        let request = b
            .build()
            .map_err(|e| MessageError::Invalid(format!("Invalid refer: {e}")))?;
        tokio::spawn(deliver(shared, route, request));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_identities() {
        let local: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        assert_eq!(from_value("ari", local), "<sip:ari@192.0.2.1:5060>");
        assert_eq!(from_value("sip:a@b", local), "<sip:a@b>");
        assert_eq!(from_value("a@b", local), "<sip:a@b>");
        assert_eq!(from_value("\"A\" <sip:a@b>", local), "\"A\" <sip:a@b>");
        assert!(is_reserved("content-type") && !is_reserved("X-Ari"));
    }
}
