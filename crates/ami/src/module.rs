//! The `manager` module: reads `manager.conf`, runs the listener, re-reads it
//! on `module reload manager` (rebinding only if the address changed).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;
use tokio::sync::watch;

use crate::config::ManagerConf;
use crate::server::Ami;

const FILE: &str = "manager.conf";

struct Listening {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

/// The manager interface as a module.
#[derive(Default)]
pub struct ManagerModule {
    ami: Mutex<Option<Arc<Ami>>>,
    listening: Mutex<Option<Listening>>,
    listening_tls: Mutex<Option<Listening>>,
}

fn read(settings: &Settings) -> (ManagerConf, Vec<Diagnostic>) {
    match settings.load_conf(FILE) {
        Ok(config) => ManagerConf::from_config(&config),
        Err(e) if e.is_not_found() => (ManagerConf::default(), Vec::new()),
        Err(e) => (ManagerConf::default(), Diagnostic::from_conf_errors(&e)),
    }
}

fn usable(settings: &Settings) -> Result<ManagerConf, ModuleError> {
    let (conf, problems) = read(settings);
    ModuleError::check(problems)?;
    Ok(conf)
}

impl ManagerModule {
    /// The running manager, if loaded.
    pub fn ami(&self) -> Option<Arc<Ami>> {
        self.ami.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Starts, moves or stops the listeners to match the configuration.
    async fn listen(&self, ami: &Arc<Ami>, etc: &std::path::Path) -> Result<(), ModuleError> {
        let conf = ami.conf();
        let plain = conf.enabled.then(|| ami.bind_address());
        Self::listen_one(ami, &self.listening, plain, None).await?;
        let secure = if conf.enabled && conf.tls_enable {
            let path = |name: &str| {
                let p = std::path::Path::new(name);
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    etc.join(p)
                }
            };
            let key = if conf.tls_private_key.is_empty() {
                &conf.tls_cert_file
            } else {
                &conf.tls_private_key
            };
            let acceptor = obelus_transport::tls::acceptor(&path(&conf.tls_cert_file), &path(key))
                .map_err(|e| ModuleError::Failed(format!("{e} (see the TLS options in {FILE})")))?;
            Some((conf.tls_bind, acceptor))
        } else {
            None
        };
        let (addr, acceptor) = match secure {
            Some((addr, acceptor)) => (Some(addr), Some(acceptor)),
            None => (None, None),
        };
        Self::listen_one(ami, &self.listening_tls, addr, acceptor).await
    }

    async fn listen_one(
        ami: &Arc<Ami>,
        slot: &Mutex<Option<Listening>>,
        wanted: Option<SocketAddr>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Result<(), ModuleError> {
        let current = slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|l| l.addr);
        // A TLS listener is always renewed: its certificate may have changed.
        if wanted == current && tls.is_none() {
            return Ok(());
        }
        if let Some(old) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = old.stop.send(true);
            tracing::info!(verbose = 2, "Manager no longer listening on {}", old.addr);
        }
        let Some(addr) = wanted else {
            return Ok(());
        };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            ModuleError::Failed(format!(
                "cannot listen on {addr}: {e}; set the address in the [general] section of {FILE}"
            ))
        })?;
        let (stop, stopped) = watch::channel(false);
        let secure = tls.is_some();
        tokio::spawn(Arc::clone(ami).serve(listener, tls, stopped));
        tracing::info!(
            verbose = 2,
            "Manager listening on {addr}{}",
            if secure { " (TLS)" } else { "" }
        );
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Listening { addr, stop });
        Ok(())
    }
}

#[async_trait]
impl Module for ManagerModule {
    fn name(&self) -> &'static str {
        "manager"
    }

    fn description(&self) -> &'static str {
        "Asterisk Manager Interface"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        read(settings).1
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let conf = usable(&core.settings)?;
        let ami = Ami::new(Arc::clone(core), conf);
        ami.attach_to_bus();
        self.listen(&ami, &core.settings.dirs.etc).await?;
        for command in crate::cli::commands(&ami) {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        core.provide(Arc::clone(&ami));
        crate::queue::start(&ami);
        if let Some(http) = core.service::<obelus_http::HttpService>() {
            http.add(
                crate::http::routes(&ami),
                &[
                    ("/rawman", "Raw HTTP Manager Event Interface"),
                    ("/manager", "HTML Manager Event Interface"),
                    ("/mxml", "XML Manager Event Interface"),
                ],
            );
        }
        *self.ami.lock().unwrap_or_else(|e| e.into_inner()) = Some(ami);
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let conf = usable(&core.settings)?;
        let Some(ami) = self.ami() else {
            return Err(ModuleError::Failed("manager is not loaded".into()));
        };
        ami.set_conf(conf);
        self.listen(&ami, &core.settings.dirs.etc).await
    }
}
