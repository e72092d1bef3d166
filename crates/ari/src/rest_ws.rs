//! REST over the events WebSocket (Asterisk 20.14/21.9/22.4+): a client
//! sends `RESTRequest` text frames and gets a `RESTResponse` for each,
//! so an application needs a single connection for both directions.
//!
//! A request runs exactly as the same call over HTTP would, with the
//! socket's user (and its read-only flag), through [`crate::http::execute`].
//! Requests from one socket run concurrently up to [`IN_FLIGHT`]; past
//! that the socket stops reading until one finishes, so a client that
//! floods requests slows itself down and nobody else.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::http::{HeaderMap, Method as HttpMethod, header};
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::Value;

use crate::http::{Call, Context, Outcome, execute};
use crate::json::{Payload, timestamp};
use crate::state::Ari;

/// Requests of one socket that may run at once.
pub(crate) const IN_FLIGHT: usize = 32;

/// Largest response body passed back in a `RESTResponse`.
const MAX_RESPONSE: usize = 16 << 20;

/// A `RESTRequest` as the client sent it.
#[derive(Debug, Deserialize)]
struct Request {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    query_strings: Vec<QueryString>,
    #[serde(default)]
    message_body: Option<Value>,
}

/// One `RESTQueryStringParameter`.
#[derive(Debug, Deserialize)]
struct QueryString {
    name: String,
    value: String,
}

/// Who a `RESTResponse` answers: the socket's application and the
/// request's ids.
struct Addressee<'a> {
    app: &'a str,
    transaction: &'a str,
    request_id: &'a str,
    uri: &'a str,
}

impl Addressee<'_> {
    /// The `RESTResponse` message.
    fn respond(
        &self,
        ari: &Ari,
        status: u16,
        content_type: Option<String>,
        message_body: Option<String>,
    ) -> Option<String> {
        let payload = Payload::RestResponse {
            transaction_id: self.transaction.to_owned(),
            request_id: self.request_id.to_owned(),
            status_code: status,
            reason_phrase: axum::http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_owned(),
            uri: self.uri.to_owned(),
            content_type,
            message_body,
        };
        ari.render_event(&payload, &timestamp(SystemTime::now()), self.app)
    }

    /// A 400 with a JSON `{"message": ...}` body.
    fn refuse(&self, ari: &Ari, message: &str) -> Option<String> {
        let body = crate::error::encode(
            &serde_json::json!({ "message": message }),
            ari.conf().pretty,
        )
        .unwrap_or_else(|_| "{}".to_owned());
        self.respond(ari, 400, Some("application/json".to_owned()), Some(body))
    }
}

/// Answers one text frame: the `RESTResponse` to send back. A frame that
/// is not a well-formed `RESTRequest` gets a 400 response naming what is
/// wrong, with whatever ids could be read from it.
pub(crate) async fn answer(
    ari: &Arc<Ari>,
    read_only: bool,
    app: &str,
    frame: &str,
) -> Option<String> {
    let request: Request = match serde_json::from_str(frame) {
        Ok(request) => request,
        Err(e) => {
            let ids: Value = serde_json::from_str(frame).unwrap_or(Value::Null);
            let id = |k: &str| ids.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let (transaction, request_id) = (id("transaction_id"), id("request_id"));
            let to = Addressee {
                app,
                transaction: &transaction,
                request_id: &request_id,
                uri: "",
            };
            return to.refuse(ari, &format!("Unable to parse RESTRequest: {e}"));
        }
    };
    let uri = request.uri.as_deref().unwrap_or("");
    let to = Addressee {
        app,
        transaction: request.transaction_id.as_deref().unwrap_or(""),
        request_id: request.request_id.as_deref().unwrap_or(""),
        uri,
    };
    if request.kind != "RESTRequest" {
        return to.refuse(ari, &format!("Unknown message type '{}'", request.kind));
    }
    let (Some(method), Some(_)) = (request.method.as_deref(), request.uri.as_deref()) else {
        return to.refuse(ari, "RESTRequest needs 'method' and 'uri'");
    };
    if request.transaction_id.is_none() || request.request_id.is_none() {
        return to.refuse(ari, "RESTRequest needs 'transaction_id' and 'request_id'");
    }
    let Ok(method) = HttpMethod::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
        return to.refuse(ari, &format!("Invalid method '{method}'"));
    };
    let (path, query) = split_uri(uri, &request.query_strings);
    let body = match &request.message_body {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    let content_type = request
        .content_type
        .clone()
        .or_else(|| (!body.is_empty()).then(|| "application/json".to_owned()));
    let conf = ari.conf();
    let cx = Context {
        pretty: conf.pretty,
        cors: None,
    };
    let call = Call {
        method,
        path: &path,
        query: (!query.is_empty()).then_some(query.as_str()),
        content_type: content_type.as_deref(),
        body: &body,
        read_only,
    };
    let response = match execute(ari, &cx, call, &HeaderMap::new()).await {
        Outcome::Done(response) => response,
        Outcome::WebSocket(_) => {
            return to.refuse(ari, "A WebSocket cannot be opened over a WebSocket");
        }
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = to_bytes(response.into_body(), MAX_RESPONSE)
        .await
        .unwrap_or_default();
    let message_body = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    to.respond(ari, status, content_type, message_body)
}

/// The path below `/ari` and the query string of a request's `uri`, with
/// its `query_strings` appended. Clients write the uri with or without a
/// leading `/` or `/ari/`.
fn split_uri(uri: &str, extra: &[QueryString]) -> (String, String) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("ari/").unwrap_or(path);
    let mut query = query.to_owned();
    if !extra.is_empty() {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for q in extra {
            form.append_pair(&q.name, &q.value);
        }
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&form.finish());
    }
    (format!("/{path}"), query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_taken_with_or_without_prefix_and_query_strings_are_appended() {
        let extra = [QueryString {
            name: "value".into(),
            value: "a b&c".into(),
        }];
        assert_eq!(
            split_uri("channels/1/variable?variable=X", &extra),
            (
                "/channels/1/variable".into(),
                "variable=X&value=a+b%26c".into()
            )
        );
        assert_eq!(
            split_uri("/ari/asterisk/info", &[]),
            ("/asterisk/info".into(), String::new())
        );
        assert_eq!(
            split_uri("/channels", &[]),
            ("/channels".into(), String::new())
        );
    }
}
