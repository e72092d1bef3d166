//! [`Channels`]: the live channels (for `core show channels`, AMI and ARI
//! lookups), the channel technologies (`PJSIP`, `Local`) that create them,
//! and the dialplan executor that runs them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use super::{Cause, Channel};
use crate::events::EventBus;

/// A channel technology: turns `Dial(PJSIP/102)`'s resource into a channel.
#[async_trait]
pub trait Technology: Send + Sync {
    /// `PJSIP`.
    fn name(&self) -> &'static str;
    /// A one-line description for `core show channeltypes`.
    fn description(&self) -> &'static str;
    /// Creates an outbound channel for `resource` (not yet calling:
    /// [`super::Driver::call`] starts it). `requestor` is the channel that
    /// asked, for linkedid, variables and caller id.
    async fn request(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause>;
    /// As [`Technology::request`], offering only `formats` (codec names:
    /// `ulaw`, `g722`) when there are any (ARI's `formats`). Technologies
    /// without formats of their own ignore them.
    async fn request_with_formats(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
        formats: &[String],
    ) -> Result<Arc<Channel>, Cause> {
        let _ = formats;
        self.request(channels, resource, requestor).await
    }
}

/// The dialplan executor, as the channel drivers see it (provided by the
/// executor module, above this crate).
#[async_trait]
pub trait Pbx: Send + Sync {
    /// Runs the dialplan on `channel` from its current location, in a task
    /// of its own.
    fn start(&self, channel: Arc<Channel>);
    /// Whether `exten` exists in `context` (priority 1), asking switches
    /// too: a SIP INVITE for an extension that does not exist gets 404.
    async fn exists(&self, context: &str, exten: &str, caller_id: Option<&str>) -> bool;
    /// Whether more digits after `exten` could still select an extension
    /// in `context` (`ast_matchmore_extension`), so a number keyed for a
    /// transfer is complete once this is false. Without an answer, no.
    async fn match_more(&self, context: &str, exten: &str, caller_id: Option<&str>) -> bool {
        let _ = (context, exten, caller_id);
        false
    }
}

/// The live channels and what creates and runs them.
pub struct Channels {
    bus: Arc<EventBus>,
    live: RwLock<HashMap<String, Arc<Channel>>>,
    technologies: RwLock<HashMap<String, Arc<dyn Technology>>>,
    pbx: RwLock<Option<Arc<dyn Pbx>>>,
    processed: AtomicU64,
    active_calls: AtomicU64,
    devices: crate::devicestate::DeviceStates,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("live", &self.count())
            .finish()
    }
}

impl Channels {
    /// An empty registry publishing on `bus`.
    pub fn new(bus: Arc<EventBus>) -> Arc<Channels> {
        Arc::new(Channels {
            bus,
            live: RwLock::new(HashMap::new()),
            technologies: RwLock::new(HashMap::new()),
            pbx: RwLock::new(None),
            processed: AtomicU64::new(0),
            active_calls: AtomicU64::new(0),
            devices: crate::devicestate::DeviceStates::default(),
        })
    }

    /// Device states (`PJSIP/101`, `Custom:x`).
    pub fn devices(&self) -> &crate::devicestate::DeviceStates {
        &self.devices
    }

    /// The event bus channels publish on.
    pub fn bus(&self) -> &Arc<EventBus> {
        &self.bus
    }

    pub(super) fn insert(&self, channel: &Arc<Channel>) {
        self.devices.channel_added(
            &self.bus,
            crate::devicestate::device_of(channel.name()),
            channel.uniqueid(),
            channel.state(),
        );
        self.live
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel.uniqueid().to_owned(), Arc::clone(channel));
    }

    pub(super) fn remove(&self, channel: &Channel) {
        self.live
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(channel.uniqueid());
        self.devices.channel_changed(
            &self.bus,
            crate::devicestate::device_of(channel.name()),
            channel.uniqueid(),
            None,
        );
    }

    /// Live channels, oldest first.
    pub fn all(&self) -> Vec<Arc<Channel>> {
        let mut all: Vec<_> = self
            .live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| {
            a.created()
                .cmp(&b.created())
                .then_with(|| a.name().cmp(b.name()))
        });
        all
    }

    /// How many channels are live.
    pub fn count(&self) -> usize {
        self.live.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// A channel by name (`PJSIP/101-00000001`) or uniqueid.
    pub fn find(&self, name_or_id: &str) -> Option<Arc<Channel>> {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = live.get(name_or_id) {
            return Some(Arc::clone(c));
        }
        live.values()
            .find(|c| c.name().eq_ignore_ascii_case(name_or_id))
            .cloned()
    }

    /// Channels whose name starts with `prefix` (`PJSIP/101-`), for device
    /// state and `pjsip show endpoint`.
    pub fn with_prefix(&self, prefix: &str) -> Vec<Arc<Channel>> {
        self.all()
            .into_iter()
            .filter(|c| c.name().starts_with(prefix))
            .collect()
    }

    /// Registers a technology under its name (replacing one of that name).
    pub fn register_technology(&self, tech: Arc<dyn Technology>) {
        self.technologies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tech.name().to_ascii_uppercase(), tech);
    }

    /// The registered technologies, by name.
    pub fn technologies(&self) -> Vec<Arc<dyn Technology>> {
        let mut all: Vec<_> = self
            .technologies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by_key(|t| t.name());
        all
    }

    /// Creates an outbound channel for `Tech/resource`. Unknown technologies
    /// and malformed strings fail with `CHAN_NOT_IMPLEMENTED`.
    pub async fn request(
        self: &Arc<Self>,
        dialstring: &str,
        requestor: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause> {
        self.request_with_formats(dialstring, requestor, &[]).await
    }

    /// As [`Channels::request`], offering only `formats` when not empty.
    pub async fn request_with_formats(
        self: &Arc<Self>,
        dialstring: &str,
        requestor: Option<&Arc<Channel>>,
        formats: &[String],
    ) -> Result<Arc<Channel>, Cause> {
        let Some((tech, resource)) = dialstring.split_once('/') else {
            return Err(Cause::CHAN_NOT_IMPLEMENTED);
        };
        let technology = self
            .technologies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&tech.trim().to_ascii_uppercase())
            .cloned()
            .ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        technology
            .request_with_formats(self, resource.trim(), requestor, formats)
            .await
    }

    /// Installs the dialplan executor.
    pub fn set_pbx(&self, pbx: Arc<dyn Pbx>) {
        *self.pbx.write().unwrap_or_else(|e| e.into_inner()) = Some(pbx);
    }

    /// The dialplan executor, if one is loaded.
    pub fn pbx(&self) -> Option<Arc<dyn Pbx>> {
        self.pbx.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Counts a dialplan run in (`N active call(s)`, `N call(s) processed`).
    pub fn call_started(&self) {
        self.processed.fetch_add(1, Ordering::Relaxed);
        self.active_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a dialplan run out.
    pub fn call_ended(&self) {
        self.active_calls.fetch_sub(1, Ordering::Relaxed);
    }

    /// Dialplan runs in progress.
    pub fn active_calls(&self) -> u64 {
        self.active_calls.load(Ordering::Relaxed)
    }

    /// Dialplan runs since start.
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }
}
