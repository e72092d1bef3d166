//! AMI over HTTP (`webenabled = yes`): `/rawman` (AMI text), `/manager`
//! (HTML) and `/mxml` (XML), with the same actions, permissions and login as
//! the TCP interface. Parameters come from the query string or a form body;
//! the session is kept by the `mansession_id` cookie and ends after
//! `httptimeout` seconds without a request. HTTP sessions receive
//! asynchronous events only through `WaitEvent`, which long-polls.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::message::Message;
use crate::server::Ami;
use crate::session::{Outbound, Session, State};

/// How long an idle HTTP session lives (Asterisk's `httptimeout` default).
pub(crate) const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy)]
enum Format {
    Raw,
    Html,
    Xml,
}

/// Sessions by cookie.
#[derive(Default)]
struct Sessions {
    by_id: Mutex<HashMap<String, (Arc<Session>, Instant)>>,
    next: AtomicU64,
}

impl Sessions {
    fn get_or_create(
        &self,
        cookie: Option<&str>,
        peer: SocketAddr,
        local: SocketAddr,
        events: impl FnOnce() -> tokio::sync::broadcast::Receiver<Arc<crate::render::AmiEvent>>,
    ) -> (String, Arc<Session>) {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, (_, last)| now.duration_since(*last) < HTTP_TIMEOUT);
        if let Some(id) = cookie
            && let Some((session, last)) = map.get_mut(id)
        {
            *last = now;
            return (id.to_owned(), Arc::clone(session));
        }
        let id = format!("{:08x}", rand::random::<u32>());
        let events = events();
        let session = Arc::new(Session::new(
            1_000_000 + self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            peer,
            local,
            State::default(),
            Some(events),
        ));
        map.insert(id.clone(), (Arc::clone(&session), now));
        (id, session)
    }

    fn end(&self, id: &str) {
        self.by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// The three URIs, bound to the manager.
pub fn routes(ami: &Arc<Ami>) -> Router {
    let sessions = Arc::new(Sessions::default());
    let mut router = Router::new();
    for (path, format) in [
        ("/rawman", Format::Raw),
        ("/manager", Format::Html),
        ("/mxml", Format::Xml),
    ] {
        let ami = Arc::downgrade(ami);
        let sessions = Arc::clone(&sessions);
        router = router.route(
            path,
            any(
                move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      RawQuery(query): RawQuery,
                      headers: HeaderMap,
                      body: Bytes| {
                    let ami = ami.clone();
                    let sessions = Arc::clone(&sessions);
                    async move { handle(ami, sessions, format, peer, query, headers, body).await }
                },
            ),
        );
    }
    router
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|part| {
            part.trim()
                .strip_prefix("mansession_id=")
                .map(|id| id.trim_matches('"').to_owned())
        })
}

async fn handle(
    ami: Weak<Ami>,
    sessions: Arc<Sessions>,
    format: Format,
    peer: SocketAddr,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(ami) = ami.upgrade().filter(|a| a.conf().web_enabled) else {
        return (StatusCode::NOT_FOUND, "404 Not Found\n").into_response();
    };
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    pairs.extend(form_urlencoded::parse(&body).into_owned());
    if pairs.len() > crate::message::MAX_LINES {
        return (StatusCode::BAD_REQUEST, "Too many parameters\n").into_response();
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let local = SocketAddr::from(([0, 0, 0, 0], ami.conf().port));
    let (id, session) =
        sessions.get_or_create(cookie(&headers).as_deref(), peer, local, || ami.subscribe());
    let outcome = crate::actions::dispatch(&ami, &session, Message::from_pairs(&refs)).await;
    if matches!(outcome, Outbound::Close(_)) {
        sessions.end(&id);
    }
    let text = outcome.into_text();
    let (content_type, body) = match format {
        Format::Raw => ("text/plain", text),
        Format::Html => ("text/html", html(&text)),
        Format::Xml => ("text/xml", xml(&text)),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::SET_COOKIE,
                format!(
                    "mansession_id=\"{id}\"; Version=1; Max-Age={}",
                    HTTP_TIMEOUT.as_secs()
                ),
            ),
            (header::CACHE_CONTROL, "no-cache, no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Each message as a block of `key`/`value` rows.
fn html(text: &str) -> String {
    let mut out = String::from(
        "<html><head><title>Obelus Manager Interface</title></head><body>\n<table align=\"center\" bgcolor=\"#f1f1f1\" width=\"500\">\n",
    );
    for message in text.split("\r\n\r\n").filter(|m| !m.is_empty()) {
        for line in message.lines() {
            let (key, value) = line.split_once(": ").unwrap_or((line, ""));
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>\n",
                escape(key),
                escape(value)
            ));
        }
        out.push_str("<tr><td colspan=\"2\"><hr></td></tr>\n");
    }
    out.push_str("</table></body></html>\n");
    out
}

/// Each message as a `<generic>` element with lower-case attribute names.
fn xml(text: &str) -> String {
    let mut out = String::from("<ajax-response>\n");
    for message in text.split("\r\n\r\n").filter(|m| !m.is_empty()) {
        out.push_str("<response type='object' id='unknown'><generic");
        for line in message.lines() {
            if let Some((key, value)) = line.split_once(": ") {
                let key: String = key
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect::<String>()
                    .to_ascii_lowercase();
                out.push_str(&format!(" {key}='{}'", escape(value)));
            }
        }
        out.push_str(" /></response>\n");
    }
    out.push_str("</ajax-response>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_html_and_xml() {
        let text = "Response: Success\r\nMessage: a<b\r\n\r\n";
        assert!(html(text).contains("<tr><td>Message</td><td>a&lt;b</td></tr>"));
        assert_eq!(
            xml(text),
            "<ajax-response>\n<response type='object' id='unknown'><generic response='Success' message='a&lt;b' /></response>\n</ajax-response>\n"
        );
    }
}
