//! [`Core`]: the state every module shares (Asterisk's globals, in one place).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use crate::channel::Channels;
use crate::cli::CliRegistry;
use crate::events::EventBus;
use crate::message::Messaging;
use crate::module::ModuleRegistry;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// The daemon's shared state, handed to modules as `Arc<Core>`.
pub struct Core {
    /// What `asterisk.conf` says.
    pub settings: Settings,
    /// Console commands.
    pub cli: CliRegistry,
    /// Modules and their states.
    pub modules: ModuleRegistry,
    /// Stop requests and the active-call count they wait on.
    pub shutdown: Shutdown,
    /// Every state change, for AMI, ARI and the console.
    pub events: Arc<EventBus>,
    /// The live channels, the channel technologies and the dialplan executor.
    pub channels: Arc<Channels>,
    /// Message technologies (SIP MESSAGE) and handlers of received messages.
    pub messages: Messaging,
    services: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    started: SystemTime,
    last_reload: Mutex<SystemTime>,
    verbosity: Arc<AtomicU8>,
}

impl Core {
    /// A core for these settings, with empty registries. `verbosity` is the
    /// console verbosity, shared with the logger so that `core set verbose`
    /// takes effect at once.
    pub fn new(settings: Settings, verbosity: Arc<AtomicU8>) -> Self {
        let now = SystemTime::now();
        let events = Arc::new(EventBus::default());
        Self {
            settings,
            cli: CliRegistry::new(),
            modules: ModuleRegistry::default(),
            shutdown: Shutdown::default(),
            channels: Channels::new(Arc::clone(&events)),
            events,
            messages: Messaging::default(),
            services: RwLock::new(HashMap::new()),
            started: now,
            last_reload: Mutex::new(now),
            verbosity,
        }
    }

    /// Makes a service available to every module, by its type (the realtime
    /// layer, sorcery, the event bus). The core does not know these types;
    /// modules that provide and use them do.
    pub fn provide<T: Any + Send + Sync>(&self, service: Arc<T>) {
        self.services
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(TypeId::of::<T>(), service);
    }

    /// A service provided by another module, if that module is loaded.
    pub fn service<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let services = self.services.read().unwrap_or_else(|e| e.into_inner());
        let service = Arc::clone(services.get(&TypeId::of::<T>())?);
        service.downcast::<T>().ok()
    }

    /// Withdraws a service (its module was unloaded); users then find none.
    pub fn withdraw<T: Any + Send + Sync>(&self) {
        self.services
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&TypeId::of::<T>());
    }

    /// When the daemon started.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// When configuration was last reloaded (the start time before any reload).
    pub fn last_reload(&self) -> SystemTime {
        *self.last_reload.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a reload now.
    pub fn mark_reloaded(&self) {
        *self.last_reload.lock().unwrap_or_else(|e| e.into_inner()) = SystemTime::now();
    }

    /// Console verbosity: verbose messages of this level or lower are shown.
    pub fn verbosity(&self) -> u8 {
        self.verbosity.load(Ordering::Relaxed)
    }

    /// Sets console verbosity; returns the previous value.
    pub fn set_verbosity(&self, level: u8) -> u8 {
        self.verbosity.swap(level, Ordering::Relaxed)
    }
}
