//! Obelus HTTP server: one listener (`http.conf`: `enabled`, `bindaddr`,
//! `bindport`, `prefix`, `servername`) shared by every interface that speaks
//! HTTP — AMI over HTTP (`/rawman`, `/manager`, `/mxml`), ARI (`/ari/...`),
//! SIP over WebSocket (`/ws`).
//!
//! Modules add their routes to [`HttpService`] when they load, in any order:
//! the server looks routes up at request time, so a module loaded after the
//! listener started is served at once. Requests carry the peer address as
//! `axum::extract::ConnectInfo<SocketAddr>` (for ACLs). Requests carry the peer address as
//! `axum::extract::ConnectInfo<SocketAddr>` (for ACLs). Layer: an interface transport, beside
//! the AMI TCP listener and the SIP transports.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use obelus_core::Core;
use obelus_core::cli::CliCommand;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::{Settings, parse_bool};
use tokio::sync::watch;
use tower::ServiceExt;

const FILE: &str = "http.conf";

/// What `http.conf` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConf {
    /// `enabled`.
    pub enabled: bool,
    /// `bindaddr` and `bindport`.
    pub bind: SocketAddr,
    /// `prefix`: every URI lives under `/<prefix>`.
    pub prefix: String,
    /// `servername`: the `Server:` header.
    pub server_name: String,
}

impl Default for HttpConf {
    fn default() -> Self {
        Self {
            enabled: false,
            bind: SocketAddr::from(([127, 0, 0, 1], 8088)),
            prefix: String::new(),
            server_name: format!("Obelus/{}", obelus_core::VERSION),
        }
    }
}

impl HttpConf {
    /// Reads `[general]`; problems name file and line.
    pub fn read(settings: &Settings) -> (Self, Vec<Diagnostic>) {
        let mut conf = Self::default();
        let mut problems = Vec::new();
        let config = match settings.load_conf(FILE) {
            Ok(config) => config,
            Err(e) if e.is_not_found() => return (conf, problems),
            Err(e) => return (conf, Diagnostic::from_conf_errors(&e)),
        };
        let Some(general) = config.category("general") else {
            return (conf, problems);
        };
        for var in general.variables() {
            let v = var.value.trim();
            match var.name.to_ascii_lowercase().as_str() {
                "enabled" => match parse_bool(v) {
                    Some(b) => conf.enabled = b,
                    None => problems.push(Diagnostic::error_at(
                        &var.location,
                        "enabled",
                        format!("expected yes or no, got '{v}'"),
                    )),
                },
                "bindaddr" => match v.parse::<IpAddr>() {
                    Ok(ip) => conf.bind.set_ip(ip),
                    Err(_) => problems.push(Diagnostic::error_at(
                        &var.location,
                        "bindaddr",
                        format!("expected an IP address, got '{v}'"),
                    )),
                },
                "bindport" => match v.parse::<u16>() {
                    Ok(port) => conf.bind.set_port(port),
                    Err(_) => problems.push(Diagnostic::error_at(
                        &var.location,
                        "bindport",
                        format!("expected a port number, got '{v}'"),
                    )),
                },
                "prefix" => conf.prefix = v.trim_matches('/').to_owned(),
                "servername" => conf.server_name = v.to_owned(),
                _ => {}
            }
        }
        (conf, problems)
    }
}

/// A group of URIs registered by a module, for `http show status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The URI pattern as listed (`/rawman`).
    pub uri: String,
    /// What it is (`HTML Manager Event Interface`).
    pub description: String,
}

/// The routes every module added, and the configuration in force.
#[derive(Default)]
pub struct HttpService {
    router: RwLock<Router>,
    registrations: RwLock<Vec<Registration>>,
    conf: RwLock<HttpConf>,
}

impl HttpService {
    /// Adds routes; `uris` are listed by `http show status`.
    pub fn add(&self, routes: Router, uris: &[(&str, &str)]) {
        let mut router = self.router.write().unwrap_or_else(|e| e.into_inner());
        *router = std::mem::take(&mut *router).merge(routes);
        let mut registrations = self
            .registrations
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for (uri, description) in uris {
            registrations.push(Registration {
                uri: (*uri).to_owned(),
                description: (*description).to_owned(),
            });
        }
    }

    /// The configuration in force.
    pub fn conf(&self) -> HttpConf {
        self.conf.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn handle(&self, request: Request<Body>) -> Response {
        let conf = self.conf();
        let path = request.uri().path().to_owned();
        let inner = if conf.prefix.is_empty() {
            Some(path.clone())
        } else {
            path.strip_prefix(&format!("/{}", conf.prefix))
                .map(str::to_owned)
        };
        let Some(inner) = inner.filter(|p| p.starts_with('/')) else {
            return not_found(&conf);
        };
        let mut request = request;
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("{inner}{query}").parse() {
            *request.uri_mut() = uri;
        }
        let router = self
            .router
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut response = match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if let Ok(value) = conf.server_name.parse() {
            response.headers_mut().insert(header::SERVER, value);
        }
        response
    }

    /// `http show status`, in Asterisk's layout.
    pub fn status(&self) -> String {
        let conf = self.conf();
        let mut out = format!(
            "HTTP Server Status:\nPrefix: {}\nServer: {}\n",
            conf.prefix, conf.server_name
        );
        if conf.enabled {
            out.push_str(&format!("Server Enabled and Bound to {}\n\n", conf.bind));
        } else {
            out.push_str("Server Disabled\n\n");
        }
        out.push_str("Enabled URI's:\n");
        let registrations = self.registrations.read().unwrap_or_else(|e| e.into_inner());
        if registrations.is_empty() {
            out.push_str("None.\n");
        }
        for r in registrations.iter() {
            let prefix = if conf.prefix.is_empty() {
                String::new()
            } else {
                format!("/{}", conf.prefix)
            };
            out.push_str(&format!("{prefix}{} => {}\n", r.uri, r.description));
        }
        out.push_str("\nEnabled Redirects:\n  None.\n\nPath Restrictions:\n  None.\n");
        out
    }
}

fn not_found(conf: &HttpConf) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::SERVER, conf.server_name.clone())],
        "404 Not Found: the requested URL was not found on this server.\n",
    )
        .into_response()
}

/// The `http` module: the listener, rebound on reload when the address changes.
#[derive(Default)]
pub struct HttpModule {
    service: Arc<HttpService>,
    listening: Mutex<Option<(SocketAddr, watch::Sender<bool>)>>,
}

impl HttpModule {
    async fn apply(&self, settings: &Settings) -> Result<(), ModuleError> {
        let (conf, problems) = HttpConf::read(settings);
        ModuleError::check(problems)?;
        let wanted = conf.enabled.then_some(conf.bind);
        *self.service.conf.write().unwrap_or_else(|e| e.into_inner()) = conf;
        let current = self
            .listening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(a, _)| *a);
        if wanted == current {
            return Ok(());
        }
        if let Some((addr, stop)) = self
            .listening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = stop.send(true);
            tracing::info!(verbose = 2, "HTTP server no longer listening on {addr}");
        }
        let Some(addr) = wanted else { return Ok(()) };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            ModuleError::Failed(format!(
                "cannot listen on {addr}: {e}; set bindaddr/bindport in {FILE}"
            ))
        })?;
        let (stop, mut stopped) = watch::channel(false);
        let service = Arc::clone(&self.service);
        let app = Router::new().fallback(move |request: Request<Body>| {
            let service = Arc::clone(&service);
            async move { service.handle(request).await }
        });
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.changed().await;
            };
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("HTTP server on {addr} stopped: {e}");
            }
        });
        tracing::info!(verbose = 2, "HTTP server listening on {addr}");
        *self.listening.lock().unwrap_or_else(|e| e.into_inner()) = Some((addr, stop));
        Ok(())
    }
}

#[async_trait]
impl Module for HttpModule {
    fn name(&self) -> &'static str {
        "http"
    }

    fn description(&self) -> &'static str {
        "HTTP server (AMI over HTTP, ARI, WebSocket)"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        HttpConf::read(settings).1
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        self.apply(&core.settings).await?;
        core.provide(Arc::clone(&self.service));
        let service = Arc::clone(&self.service);
        let status = CliCommand::new(
            "http show status",
            "Display HTTP server status",
            "Usage: http show status\n       Lists status of internal HTTP engine",
            move |_| {
                let service = Arc::clone(&service);
                async move { Ok(service.status()) }
            },
        );
        core.cli
            .register(status)
            .map_err(|e| ModuleError::Failed(e.to_string()))
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        self.apply(&core.settings).await
    }
}
