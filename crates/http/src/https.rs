//! The HTTPS listener (`http.conf`: `tlsenable`, `tlsbindaddr`,
//! `tlscertfile`, `tlsprivatekey`): the same routes as plain HTTP (ARI,
//! its events WebSocket, SIP over secure WebSocket at `/ws`), behind TLS
//! through rustls ([`obelus_transport::tls::acceptor`], which AMI's
//! `tlsenable` uses too).
//!
//! Handshakes run on tasks of their own, so a client that connects and
//! says nothing holds up no one else; finished ones are handed to the HTTP
//! server in the order they complete. The certificate can change on
//! reload without rebinding: new connections use the current one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use obelus_conf::Location;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::parse_bool;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Asterisk's HTTPS port when `tlsbindaddr` names none.
pub const DEFAULT_TLS_PORT: u16 = 8089;

/// How long a client may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Finished handshakes waiting for the HTTP server to take them.
const READY: usize = 64;

/// Asterisk's TLS options of `http.conf` that Obelus reads but does not
/// apply: rustls offers TLS 1.2 and 1.3 only (never 1.0 or 1.1), with its
/// own cipher suites, and asks no client certificate.
const IGNORED: &[&str] = &[
    "tlscipher",
    "tlsservercipherorder",
    "tlsdisablev1",
    "tlsdisablev11",
    "tlsdisablev12",
    "tlscafile",
    "tlscapath",
    "tlsverifyclient",
    "tlsdontverifyserver",
    "tlsclientmethod",
    "sslclientmethod",
];

/// What `http.conf` says about HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsConf {
    /// `tlsenable` (HTTPS runs only when `enabled` is on too).
    pub enabled: bool,
    /// `tlsbindaddr`: `ip` or `ip:port` (port 8089 when absent).
    pub bind: SocketAddr,
    /// `tlscertfile`: a PEM certificate chain; relative names are in the
    /// configuration directory.
    pub cert_file: String,
    /// `tlsprivatekey`: the PEM key; empty when it is in `tlscertfile`.
    pub private_key: String,
    /// Where `tlscertfile` was set (else `tlsenable`), for a problem with
    /// the files.
    pub location: Option<Location>,
}

impl Default for HttpsConf {
    fn default() -> Self {
        Self {
            enabled: false,
            bind: SocketAddr::from(([0, 0, 0, 0], DEFAULT_TLS_PORT)),
            cert_file: "asterisk.pem".to_owned(),
            private_key: String::new(),
            location: None,
        }
    }
}

impl HttpsConf {
    /// Takes option `name` of `[general]` if it is a TLS one (true), with
    /// its problems.
    pub(crate) fn option(
        &mut self,
        name: &str,
        value: &str,
        location: &Location,
        problems: &mut Vec<Diagnostic>,
    ) -> bool {
        match name {
            "tlsenable" => {
                match parse_bool(value) {
                    Some(b) => self.enabled = b,
                    None => problems.push(Diagnostic::error_at(
                        location,
                        name,
                        format!("expected yes or no, got '{value}'"),
                    )),
                }
                if self.location.is_none() {
                    self.location = Some(location.clone());
                }
            }
            "tlsbindaddr" => match parse_bind(value) {
                Some(addr) => self.bind = addr,
                None => problems.push(Diagnostic::error_at(
                    location,
                    name,
                    format!(
                        "expected an address such as 0.0.0.0:{DEFAULT_TLS_PORT}, got '{value}'"
                    ),
                )),
            },
            "tlscertfile" => {
                self.cert_file = value.to_owned();
                self.location = Some(location.clone());
            }
            "tlsprivatekey" => self.private_key = value.to_owned(),
            _ if IGNORED.contains(&name) => problems.push(Diagnostic::warning_at(
                location,
                name,
                "accepted and ignored: HTTPS speaks TLS 1.2 and 1.3 only (rustls), \
                 with rustls's cipher suites and no client certificates",
            )),
            _ => return false,
        }
        true
    }

    /// The certificate and key files, relative names in `etc`.
    pub fn files(&self, etc: &Path) -> (PathBuf, PathBuf) {
        let path = |name: &str| {
            let p = Path::new(name);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                etc.join(p)
            }
        };
        let key = if self.private_key.is_empty() {
            &self.cert_file
        } else {
            &self.private_key
        };
        (path(&self.cert_file), path(key))
    }

    /// The TLS configuration from the certificate and key; the error names
    /// the file that is wrong and the options to set.
    pub fn acceptor(&self, etc: &Path) -> Result<TlsAcceptor, String> {
        let (cert, key) = self.files(etc);
        obelus_transport::tls::acceptor(&cert, &key).map_err(|e| {
            format!(
                "{e}; set tlscertfile (and tlsprivatekey, when the key is in a file of its own) \
                 in http.conf to readable PEM files, or tlsenable = no"
            )
        })
    }

    /// The problem with the certificate and key, for `config check`: an
    /// error at the line that names them.
    pub fn check_files(&self, etc: &Path) -> Option<Diagnostic> {
        let problem = self.acceptor(etc).err()?;
        Some(match &self.location {
            Some(location) => Diagnostic::error_at(location, "tlscertfile", problem),
            None => Diagnostic::file(
                obelus_core::diagnostic::Severity::Error,
                "http.conf",
                problem,
            ),
        })
    }
}

/// `ip` or `ip:port` (IPv6 as `[ip]:port`), port 8089 when absent.
fn parse_bind(value: &str) -> Option<SocketAddr> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Some(addr);
    }
    let ip = value
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    Some(SocketAddr::new(ip, DEFAULT_TLS_PORT))
}

/// The listening socket of HTTPS, as the HTTP server sees it: connections
/// whose handshake is done. Dropping it stops accepting.
pub(crate) struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    /// Accepts on `listener`, completing handshakes with the acceptor
    /// `current` holds at the time each connection arrives.
    pub(crate) fn new(listener: TcpListener, current: Arc<RwLock<TlsAcceptor>>) -> TlsListener {
        let local = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, ready) = mpsc::channel(READY);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("HTTPS server on {local}: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let acceptor = current.read().unwrap_or_else(|e| e.into_inner()).clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                        Ok(Ok(secure)) => {
                            let _ = tx.send((secure, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("HTTPS: handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("HTTPS: handshake with {peer} timed out"),
                    }
                });
            }
        });
        TlsListener {
            local,
            ready,
            accepting,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task holds a sender until it is aborted, which
            // only dropping this listener does.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::extract::{ConnectInfo, Extension};
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::HttpService;

    fn at(line: u32) -> Location {
        Location {
            file: Arc::from("http.conf"),
            line,
            column: 1,
        }
    }

    /// Asterisk's option names and defaults: port 8089 when `tlsbindaddr`
    /// names none, the key in the certificate file unless `tlsprivatekey`
    /// says otherwise; the TLS knobs rustls does not have are warned
    /// about, not refused.
    #[test]
    fn tls_options_follow_asterisk() {
        let mut conf = HttpsConf::default();
        let mut problems = Vec::new();
        for (line, (name, value)) in [
            ("tlsenable", "yes"),
            ("tlsbindaddr", "127.0.0.1"),
            ("tlscertfile", "keys/web.pem"),
            ("tlscipher", "ALL"),
            ("bindport", "8088"),
        ]
        .into_iter()
        .enumerate()
        {
            let line = u32::try_from(line).unwrap() + 1;
            let taken = conf.option(name, value, &at(line), &mut problems);
            assert_eq!(taken, name != "bindport", "{name}");
        }
        assert!(conf.enabled);
        assert_eq!(conf.bind, "127.0.0.1:8089".parse().unwrap());
        let (cert, key) = conf.files(Path::new("/etc/obelus"));
        assert_eq!(cert, Path::new("/etc/obelus/keys/web.pem"));
        assert_eq!(key, cert);
        assert_eq!(problems.len(), 1);
        assert!(!problems[0].is_error(), "{}", problems[0]);
        assert!(problems[0].to_string().contains("tlscipher"));

        conf.option("tlsbindaddr", "nowhere", &at(9), &mut problems);
        conf.option("tlsprivatekey", "/keys/web.key", &at(10), &mut problems);
        assert!(problems[1].is_error());
        assert!(
            problems[1].to_string().starts_with("http.conf:9:"),
            "{}",
            problems[1]
        );
        assert_eq!(conf.files(Path::new("/etc")).1, Path::new("/keys/web.key"));
    }

    /// A certificate that cannot be read is a configuration error at the
    /// line naming it, saying which file and what to set.
    #[test]
    fn a_missing_certificate_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut conf = HttpsConf::default();
        conf.option("tlscertfile", "absent.pem", &at(4), &mut Vec::new());
        let problem = conf.check_files(dir.path()).expect("refused");
        let text = problem.to_string();
        assert!(problem.is_error());
        assert!(text.starts_with("http.conf:4:"), "{text}");
        assert!(
            text.contains("absent.pem") && text.contains("tlscertfile"),
            "{text}"
        );
    }

    /// Over HTTPS the routes see the peer's address and the [`Secure`]
    /// marker; a client that connects and never completes its handshake
    /// holds up no one.
    #[tokio::test]
    async fn https_serves_the_routes_marked_secure() {
        let dir = tempfile::tempdir().unwrap();
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
        let pem = dir.path().join("web.pem");
        std::fs::write(
            &pem,
            format!(
                "{}{}",
                certified.cert.pem(),
                certified.signing_key.serialize_pem()
            ),
        )
        .unwrap();
        let mut conf = HttpsConf::default();
        conf.option("tlscertfile", "web.pem", &at(1), &mut Vec::new());
        let acceptor = conf.acceptor(dir.path()).expect("usable certificate");

        let service = Arc::new(HttpService::default());
        service.add(
            Router::new().route(
                "/who",
                get(
                    |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                     secure: Option<Extension<obelus_transport::ws::Secure>>| async move {
                        format!(
                            "{} {peer}",
                            if secure.is_some() { "secure" } else { "plain" }
                        )
                    },
                ),
            ),
            &[],
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = TlsListener::new(listener, Arc::new(RwLock::new(acceptor)));
        let _running = crate::serve(tls, addr, &service, true);

        let _silent = TcpStream::connect(addr).await.unwrap();
        let connector = obelus_transport::tls::connector(&pem, true, true).unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let local = tcp.local_addr().unwrap();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut client = tokio::time::timeout(HANDSHAKE, connector.connect(name, tcp))
            .await
            .expect("handshake in time")
            .expect("handshake");
        client
            .write_all(b"GET /who HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.ok();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&format!("secure {local}")), "{answer}");
    }
}
