//! The HTTP side: everything under `/ari` goes through [`handle`], which
//! applies Asterisk's checks in Asterisk's order — authentication (401),
//! write access of read-only users (403), trailing slash (404), the
//! api-docs, the route table (404, 405 with `Allow`), parameters (400) —
//! then runs the operation's handler and writes its reply with the
//! `Cache-Control` and CORS headers clients expect.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::api::{self, Method, Resource};
use crate::error::{AriError, Reply};
use crate::params::Params;
use crate::state::Ari;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// The routes to mount on the HTTP server (`/ari` and everything below).
pub fn routes(ari: &Arc<Ari>) -> Router {
    let weak = Arc::downgrade(ari);
    let handler = move |request: Request<Body>| {
        let weak = weak.clone();
        async move { handle(weak, request).await }
    };
    Router::new()
        .route("/ari", any(handler.clone()))
        .route("/ari/{*rest}", any(handler))
}

/// What every response carries.
pub(crate) struct Context {
    /// `ari.conf` `pretty`.
    pub pretty: bool,
    /// The allowed `Origin` to echo, if any.
    pub cors: Option<HeaderValue>,
}

impl Context {
    fn finish(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store"),
        );
        if let Some(origin) = &self.cors {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        response
    }

    fn error(&self, error: &AriError) -> Response {
        let body = crate::error::encode(
            &serde_json::json!({ "message": error.message }),
            self.pretty,
        )
        .unwrap_or_else(|_| "{}".to_owned());
        self.finish(json_response(error.status, body))
    }

    fn reply(&self, reply: Reply) -> Response {
        let response = match reply {
            Reply::Json(body) => json_response(StatusCode::OK, body),
            Reply::NoContent => StatusCode::NO_CONTENT.into_response(),
            Reply::Accepted => StatusCode::ACCEPTED.into_response(),
            Reply::Created { location, body } => {
                let mut response = json_response(StatusCode::CREATED, body);
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
            Reply::File { content_type, body } => {
                let mut response = (StatusCode::OK, body).into_response();
                if let Ok(value) = HeaderValue::from_str(&content_type) {
                    response.headers_mut().insert(header::CONTENT_TYPE, value);
                }
                response
            }
        };
        self.finish(response)
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn handle(ari: Weak<Ari>, request: Request<Body>) -> Response {
    let Some(ari) = ari.upgrade() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let conf = ari.conf();
    if !conf.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (mut parts, body) = request.into_parts();
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| conf.origin_allowed(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let cx = Context {
        pretty: conf.pretty,
        cors: origin,
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let query = parts.uri.query().map(str::to_owned);
    let user = match crate::auth::authenticate(&conf, &parts.headers, query.as_deref(), peer) {
        Ok(user) => user,
        Err(refusal) => {
            let peer = peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
            match &refusal {
                crate::auth::Refusal::Unauthorized => {}
                crate::auth::Refusal::BadCredentials(user) => {
                    tracing::warn!("ARI: authentication of '{user}' from {peer} failed");
                }
                crate::auth::Refusal::Acl => {
                    tracing::warn!("ARI: request from {peer} refused by the user's ACL");
                }
            }
            let mut response = cx.error(&refusal.error());
            if refusal != crate::auth::Refusal::Acl {
                let challenge = format!("Basic realm=\"{}\"", conf.auth_realm);
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
            }
            return response;
        }
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return cx.error(&AriError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
            ));
        }
    };
    let path = parts.uri.path().to_owned();
    let call = Call {
        method: parts.method.clone(),
        path: path.strip_prefix("/ari").unwrap_or_default(),
        query: query.as_deref(),
        content_type: content_type.as_deref(),
        body: &bytes,
        read_only: user.read_only,
    };
    match execute(&ari, &cx, call, &parts.headers).await {
        Outcome::Done(response) => response,
        Outcome::WebSocket(params) => {
            match crate::websocket::upgrade(Arc::clone(&ari), &mut parts, &params, user.read_only)
                .await
            {
                Ok(response) => response,
                Err(e) => cx.error(&e),
            }
        }
    }
}

/// What [`execute`] made of a request.
pub(crate) enum Outcome {
    /// The response.
    Done(Response),
    /// `GET /events` with valid parameters: the caller upgrades the
    /// connection (only an HTTP request can be upgraded).
    WebSocket(Params),
}

/// One authenticated request, from HTTP or from a `RESTRequest` on the
/// events WebSocket.
pub(crate) struct Call<'a> {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path below `/ari` (`/channels/123`).
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The body's type.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// Whether the user may only read.
    pub read_only: bool,
}

/// Runs an authenticated request through Asterisk's remaining checks
/// (write access, trailing slash, api-docs, route, method, parameters) and
/// its operation. `headers` are the HTTP request's (for `Host` and CORS
/// preflight); an events WebSocket request is handed back to the caller.
pub(crate) async fn execute(
    ari: &Arc<Ari>,
    cx: &Context,
    call: Call<'_>,
    headers: &HeaderMap,
) -> Outcome {
    Outcome::Done(match run(ari, cx, call, headers).await {
        Ok(response) => response,
        Err(params) => return Outcome::WebSocket(params),
    })
}

async fn run(
    ari: &Arc<Ari>,
    cx: &Context,
    call: Call<'_>,
    headers: &HeaderMap,
) -> Result<Response, Params> {
    let method = call.method;
    if call.read_only && method != HttpMethod::GET && method != HttpMethod::OPTIONS {
        return Ok(cx.error(&AriError::new(StatusCode::FORBIDDEN, "Write access denied")));
    }
    let path = call.path;
    if path.len() > 1 && path.ends_with('/') {
        return Ok(cx.error(&AriError::not_found("ARI URLs do not end with a slash")));
    }
    if let Some(doc) = path.strip_prefix("/api-docs/") {
        return Ok(api_docs(ari, cx, headers.get(header::HOST), &method, doc));
    }
    let Some(route) = api::find(path) else {
        return Ok(cx.error(&AriError::not_found("Resource not found")));
    };
    let allow = route.methods().join(", ");
    if method == HttpMethod::OPTIONS {
        return Ok(preflight(cx, headers, &allow));
    }
    let Some(operation) = Method::parse(method.as_str()).and_then(|m| route.operation(m)) else {
        let mut response = cx.error(&AriError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Invalid method",
        ));
        if let Ok(value) = HeaderValue::from_str(&allow) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return Ok(response);
    };
    let params = Params::parse(call.query, call.content_type, call.body)
        .map(|p| p.with_path(route.path_params.clone()))
        .and_then(|mut p| p.validate(operation).map(|()| p));
    let params = match params {
        Ok(params) => params,
        Err(e) => return Ok(cx.error(&e)),
    };
    if operation.websocket {
        return Err(params);
    }
    Ok(
        match crate::resources::dispatch(ari, route.resource.name, operation, &params).await {
            Ok(reply) => cx.reply(reply),
            Err(e) => cx.error(&e),
        },
    )
}

/// `OPTIONS`: the methods of the path, and the headers the browser asked
/// to send.
fn preflight(cx: &Context, headers: &HeaderMap, allow: &str) -> Response {
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(allow) {
        h.insert(header::ALLOW, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("OPTIONS,{}", allow.replace(", ", ","))) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    cx.finish(response)
}

/// `GET /ari/api-docs/resources.json` and `/ari/api-docs/<resource>.json`,
/// generated from the route table, `basePath` pointing back at this server
/// as the client reached it.
fn api_docs(
    ari: &Ari,
    cx: &Context,
    host: Option<&HeaderValue>,
    method: &HttpMethod,
    doc: &str,
) -> Response {
    if method != HttpMethod::GET {
        let mut response = cx.error(&AriError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Invalid method",
        ));
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let prefix = ari
        .core
        .service::<obelus_http::HttpService>()
        .map(|h| h.conf().prefix)
        .filter(|p| !p.is_empty())
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    let base = host
        .and_then(|h| h.to_str().ok())
        .map(|host| format!("http://{host}{prefix}/ari"));
    let Some(name) = doc.strip_suffix(".json") else {
        return cx.error(&AriError::not_found("Resource not found"));
    };
    let document = if name == "resources" {
        api::listing(base.as_deref())
    } else {
        match Resource::named(name) {
            Some(resource) => resource.swagger(base.as_deref()),
            None => return cx.error(&AriError::not_found("Resource not found")),
        }
    };
    match crate::error::encode(&document, cx.pretty) {
        Ok(body) => cx.reply(Reply::Json(body)),
        Err(e) => cx.error(&e),
    }
}
