//! Outbound registration (Asterisk's res_pjsip_outbound_registration):
//! registering to a remote registrar, as a trunk does, for every
//! `type=registration` object (pjsip.conf or `ps_registrations`).
//!
//! - [`config`]: the object, read and checked;
//! - [`machine`]: the sans-IO state machine (when to REGISTER, what each
//!   answer means, retries);
//! - `request`: the REGISTER requests themselves, with `security` (RFC
//!   3329 mediasec negotiation) and `outbound` (RFC 5626 flows);
//! - `attempt`: one REGISTER sent, answered (digest and security
//!   retries), and failed over to the next RFC 3263 target;
//! - `task`: the tokio task per registration;
//! - `show`: `pjsip show registrations|registration`, `pjsip send
//!   register|unregister`;
//! - [`OutboundRegistrations`]: the live registrations, synced with the
//!   configuration at start and on reload, used by the console, AMI and
//!   endpoint identification by `line`.

mod attempt;
pub mod config;
pub mod machine;
mod module;
mod outbound;
mod request;
mod security;
mod show;
mod task;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use config::Config;
pub use machine::Status;
pub use module::OutboundRegistrationModule;
pub use task::Snapshot;

use crate::stack::Shared;
use task::Command;

/// Commands a registration's task queues at most (console and AMI).
const COMMANDS: usize = 16;

/// One running registration.
struct Entry {
    config: Config,
    line: Option<String>,
    snapshot: Arc<Mutex<Snapshot>>,
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

/// A registration as the console and AMI show it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Its configuration.
    pub config: Config,
    /// Its live state.
    pub snapshot: Snapshot,
}

/// Why a command could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No running registration of that name.
    #[error("Unable to retrieve registration {0}")]
    Unknown(String),
    /// Its queue is full (commands arrive faster than REGISTERs go out).
    #[error("Failed to queue the request for registration {0}")]
    Busy(String),
}

/// The live outbound registrations (Asterisk's `current_states`).
#[derive(Default)]
pub struct OutboundRegistrations {
    shared: OnceLock<Weak<Shared>>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for OutboundRegistrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundRegistrations")
            .finish_non_exhaustive()
    }
}

impl OutboundRegistrations {
    /// Binds the table to the stack whose transports it sends from.
    pub(crate) fn attach(&self, shared: Weak<Shared>) {
        let _ = self.shared.set(shared);
    }

    /// Applies the configuration: starts registrations that are new,
    /// restarts changed ones (the old one unregisters first), stops those
    /// gone. A registration that cannot be applied is logged and left out.
    pub async fn sync(&self) {
        let Some(shared) = self.shared.get().and_then(Weak::upgrade) else {
            return;
        };
        let Some(sorcery) = shared.sorcery.get() else {
            return;
        };
        let objects = match sorcery.retrieve_all("registration").await {
            Ok(objects) => objects,
            Err(e) => {
                tracing::error!("PJSIP outbound registrations could not be read: {e}");
                return;
            }
        };
        let mut wanted = HashMap::new();
        for object in objects.iter() {
            match Config::from_object(object) {
                Ok(config) => {
                    wanted.insert(config.id.clone(), config);
                }
                Err(why) => tracing::error!("{why}"),
            }
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let gone: Vec<String> = entries
            .iter()
            .filter(|(id, e)| wanted.get(*id) != Some(&e.config))
            .map(|(id, _)| id.clone())
            .collect();
        let mut previous = HashMap::new();
        for id in gone {
            if let Some(entry) = entries.remove(&id) {
                tracing::info!(verbose = 3, "PJSIP outbound registration '{id}' stopped");
                let _ = entry.commands.try_send(Command::Stop);
                previous.insert(id, entry.task);
            }
        }
        for (id, config) in wanted {
            if entries.contains_key(&id) {
                continue;
            }
            let requests =
                request::Requests::new(&config, &shared.core.settings.options.system_name);
            let (tx, rx) = mpsc::channel(COMMANDS);
            let snapshot = Arc::new(Mutex::new(Snapshot::default()));
            let task = tokio::spawn(task::run(
                Arc::downgrade(&shared),
                config.clone(),
                requests.clone(),
                Arc::clone(&snapshot),
                rx,
                previous.remove(&id),
            ));
            entries.insert(
                id,
                Entry {
                    config,
                    line: requests.line,
                    snapshot,
                    commands: tx,
                    task,
                },
            );
        }
    }

    /// At shutdown: every registration unregisters (as Asterisk does when
    /// the module unloads), waiting at most `within` for the answers.
    pub async fn stop_all(&self, within: std::time::Duration) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .drain()
                .map(|(_, entry)| {
                    let _ = entry.commands.try_send(Command::Stop);
                    entry.task
                })
                .collect()
        };
        if tasks.is_empty() {
            return;
        }
        let all = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(within, all).await.is_err() {
            tracing::warn!("PJSIP: outbound unregistrations did not all finish before shutdown");
        }
    }

    /// Every running registration, by id.
    pub fn list(&self) -> Vec<Registration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<Registration> = entries
            .values()
            .map(|e| Registration {
                config: e.config.clone(),
                snapshot: e.snapshot.lock().map(|s| s.clone()).unwrap_or_default(),
            })
            .collect();
        list.sort_by(|a, b| a.config.id.cmp(&b.config.id));
        list
    }

    /// One running registration.
    pub fn get(&self, id: &str) -> Option<Registration> {
        self.list().into_iter().find(|r| r.config.id == id)
    }

    fn command(&self, id: &str, command: Command) -> Result<(), CommandError> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries
            .get(id)
            .ok_or_else(|| CommandError::Unknown(id.to_owned()))?;
        entry
            .commands
            .try_send(command)
            .map_err(|_| CommandError::Busy(id.to_owned()))
    }

    /// `pjsip send register <id>`: unregister, then register now and
    /// refresh as configured.
    pub fn register(&self, id: &str) -> Result<(), CommandError> {
        self.command(id, Command::Register)
    }

    /// `pjsip send unregister <id>`: unregister, and stop refreshing.
    pub fn unregister(&self, id: &str) -> Result<(), CommandError> {
        self.command(id, Command::Unregister)
    }

    /// The ids of every running registration (for `*all`).
    pub fn ids(&self) -> Vec<String> {
        self.list().into_iter().map(|r| r.config.id).collect()
    }

    /// The endpoint of the registration whose Contact carries `line`
    /// (`line=yes`): requests to that Contact come from its server.
    pub fn endpoint_for_line(&self, line: &str) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .values()
            .find(|e| e.line.as_deref() == Some(line))
            .map(|e| e.config.endpoint.clone())
    }
}

/// Asterisk's line identifier (registered ahead of the configured
/// `endpoint_identifier_order`): a request whose Request-URI carries the
/// `line` parameter of one of our registrations comes from that
/// registration's server and is identified as its `endpoint`.
pub(crate) async fn line_endpoint(
    shared: &Shared,
    sorcery: &obelus_sorcery::Sorcery,
    req: &obelus_sip::Request,
) -> Option<Arc<obelus_sorcery::Object>> {
    let uri = req.uri();
    let line = uri.params().value("line")?;
    let endpoint = shared.registrations.endpoint_for_line(line)?;
    let found = sorcery
        .retrieve_by_id("endpoint", &endpoint)
        .await
        .ok()
        .flatten();
    if found.is_some() {
        tracing::debug!("PJSIP: request for line '{line}' identified as endpoint '{endpoint}'");
    } else {
        tracing::warn!("PJSIP: line '{line}' names endpoint '{endpoint}', which does not exist");
    }
    found
}
