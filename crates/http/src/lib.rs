//! Obelus HTTP server: one listener (`http.conf`: `enabled`, `bindaddr`,
//! `bindport`, `prefix`, `servername`), and with `tlsenable` an HTTPS one
//! ([`https`]), shared by every interface that speaks HTTP — AMI over HTTP
//! (`/rawman`, `/manager`, `/mxml`), ARI (`/ari/...`), SIP over WebSocket
//! (`/ws`, secure over HTTPS).
//!
//! Modules add their routes to [`HttpService`] when they load, in any order:
//! the server looks routes up at request time, so a module loaded after the
//! listener started is served at once; both listeners serve the same routes.
//! Requests carry the peer address as `axum::extract::ConnectInfo<SocketAddr>`
//! (for ACLs), and those that came over HTTPS the marker
//! [`obelus_transport::ws::Secure`]. Layer: an interface transport, beside
//! the AMI TCP listener and the SIP transports.

pub mod https;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use obelus_core::Core;
use obelus_core::cli::CliCommand;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::{Settings, parse_bool};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceExt};

pub use https::HttpsConf;

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
    /// The HTTPS listener's options.
    pub tls: HttpsConf,
}

impl Default for HttpConf {
    fn default() -> Self {
        Self {
            enabled: false,
            bind: SocketAddr::from(([127, 0, 0, 1], 8088)),
            prefix: String::new(),
            server_name: format!("Obelus/{}", obelus_core::VERSION),
            tls: HttpsConf::default(),
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
                name => {
                    conf.tls.option(name, v, &var.location, &mut problems);
                }
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
    /// Where HTTPS listens, while it does.
    https: RwLock<Option<SocketAddr>>,
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

    /// The address HTTPS listens on, if it runs (`tlsenable` and a usable
    /// certificate).
    pub fn https_address(&self) -> Option<SocketAddr> {
        *self.https.read().unwrap_or_else(|e| e.into_inner())
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
            if let Some(https) = self.https_address() {
                out.push_str(&format!("HTTPS Server Enabled and Bound to {https}\n\n"));
            }
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

/// Makes the service of each connection a listener accepts: its requests
/// carry the peer's address and, on HTTPS, [`obelus_transport::ws::Secure`],
/// then go to the shared routes.
#[derive(Clone)]
struct PerConnection {
    service: Arc<HttpService>,
    secure: bool,
}

impl<'a, L> Service<IncomingStream<'a, L>> for PerConnection
where
    L: Listener<Addr = SocketAddr>,
{
    type Response = ConnectionService;
    type Error = Infallible;
    type Future = std::future::Ready<Result<ConnectionService, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, incoming: IncomingStream<'a, L>) -> Self::Future {
        std::future::ready(Ok(ConnectionService {
            service: Arc::clone(&self.service),
            peer: *incoming.remote_addr(),
            secure: self.secure,
        }))
    }
}

/// The requests of one connection.
#[derive(Clone)]
struct ConnectionService {
    service: Arc<HttpService>,
    peer: SocketAddr,
    secure: bool,
}

impl Service<Request<Body>> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        if self.secure {
            request
                .extensions_mut()
                .insert(obelus_transport::ws::Secure);
        }
        let service = Arc::clone(&self.service);
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

/// A running listener: where, and how to stop it.
struct Listening {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

/// The HTTPS listener, with the certificate its next handshakes use.
struct Secured {
    listening: Listening,
    acceptor: Arc<RwLock<TlsAcceptor>>,
}

/// Serves the routes of `service` on `listener` (bound as configured at
/// `addr`) until the returned [`Listening`] says stop.
fn serve<L>(listener: L, addr: SocketAddr, service: &Arc<HttpService>, secure: bool) -> Listening
where
    L: Listener<Addr = SocketAddr>,
{
    let (stop, mut stopped) = watch::channel(false);
    let make = PerConnection {
        service: Arc::clone(service),
        secure,
    };
    let what = if secure { "HTTPS" } else { "HTTP" };
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        if let Err(e) = axum::serve(listener, make)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("{what} server on {addr} stopped: {e}");
        }
    });
    tracing::info!(verbose = 2, "{what} server listening on {addr}");
    Listening { addr, stop }
}

/// The `http` module: the listeners, rebound on reload when their address
/// changes.
#[derive(Default)]
pub struct HttpModule {
    service: Arc<HttpService>,
    listening: Mutex<Option<Listening>>,
    secured: Mutex<Option<Secured>>,
}

impl HttpModule {
    async fn apply(&self, settings: &Settings) -> Result<(), ModuleError> {
        let (conf, problems) = HttpConf::read(settings);
        ModuleError::check(problems)?;
        let wanted = conf.enabled.then_some(conf.bind);
        let tls = conf.tls.clone();
        *self.service.conf.write().unwrap_or_else(|e| e.into_inner()) = conf;
        let current = self
            .listening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|l| l.addr);
        if wanted != current {
            if let Some(old) = self
                .listening
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                let _ = old.stop.send(true);
                tracing::info!(
                    verbose = 2,
                    "HTTP server no longer listening on {}",
                    old.addr
                );
            }
            if let Some(addr) = wanted {
                let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                    ModuleError::Failed(format!(
                        "cannot listen on {addr}: {e}; set bindaddr/bindport in {FILE}"
                    ))
                })?;
                let listening = serve(listener, addr, &self.service, false);
                *self.listening.lock().unwrap_or_else(|e| e.into_inner()) = Some(listening);
            }
        }
        let secure = wanted.is_some() && tls.enabled;
        self.apply_https(secure.then_some(&tls), &settings.dirs.etc)
            .await;
        Ok(())
    }

    /// Starts, moves, renews (a new certificate) or stops HTTPS. A problem
    /// with it is logged and leaves HTTPS off: plain HTTP goes on.
    async fn apply_https(&self, tls: Option<&HttpsConf>, etc: &std::path::Path) {
        let acceptor = match tls.map(|t| t.acceptor(etc)) {
            Some(Ok(acceptor)) => Some(acceptor),
            Some(Err(e)) => {
                tracing::error!("HTTPS server not started: {e}");
                None
            }
            None => None,
        };
        let wanted = tls.filter(|_| acceptor.is_some()).map(|t| t.bind);
        if self.keep_or_stop_https(wanted, acceptor.as_ref()) {
            return;
        }
        let (Some(addr), Some(acceptor)) = (wanted, acceptor) else {
            return;
        };
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::error!(
                    "HTTPS server not started: cannot listen on {addr}: {e}; set tlsbindaddr in {FILE}"
                );
                return;
            }
        };
        let bound = listener.local_addr().unwrap_or(addr);
        let acceptor = Arc::new(RwLock::new(acceptor));
        let listening = serve(
            https::TlsListener::new(listener, Arc::clone(&acceptor)),
            addr,
            &self.service,
            true,
        );
        *self
            .service
            .https
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(bound);
        *self.secured.lock().unwrap_or_else(|e| e.into_inner()) = Some(Secured {
            listening,
            acceptor,
        });
    }

    /// Gives the running HTTPS listener the new certificate when it stays
    /// at `wanted` (true: nothing more to do); otherwise stops it.
    fn keep_or_stop_https(
        &self,
        wanted: Option<SocketAddr>,
        acceptor: Option<&TlsAcceptor>,
    ) -> bool {
        let mut secured = self.secured.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(running), Some(acceptor)) = (secured.as_ref(), acceptor)
            && Some(running.listening.addr) == wanted
        {
            // New connections get the certificate as it is now.
            *running.acceptor.write().unwrap_or_else(|e| e.into_inner()) = acceptor.clone();
            return true;
        }
        if let Some(old) = secured.take() {
            let _ = old.listening.stop.send(true);
            tracing::info!(
                verbose = 2,
                "HTTPS server no longer listening on {}",
                old.listening.addr
            );
        }
        *self
            .service
            .https
            .write()
            .unwrap_or_else(|e| e.into_inner()) = None;
        false
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
        let (conf, mut problems) = HttpConf::read(settings);
        if conf.enabled && conf.tls.enabled {
            problems.extend(conf.tls.check_files(&settings.dirs.etc));
        }
        problems
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
