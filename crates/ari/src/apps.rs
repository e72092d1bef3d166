//! Stasis applications: names registered by event WebSockets, what each
//! is subscribed to, and the socket its events go to.
//!
//! An application exists while a WebSocket holds its name or a channel is
//! in it. Names are global: a second socket registering a name takes it
//! over (the first gets `ApplicationReplaced`). Each socket's outgoing queue
//! is bounded; a client that stops reading is dropped instead of being
//! waited for, so a frozen client never stalls the channels that produce
//! its events.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::{Notify, mpsc};

use crate::json;

/// Messages a socket may have waiting before its client counts as stuck.
pub const SOCKET_QUEUE: usize = 1024;

/// The sending side of one event WebSocket, shared by the applications
/// registered on it.
#[derive(Debug)]
pub struct Socket {
    id: u64,
    tx: mpsc::Sender<String>,
    kill: Notify,
    dropped: AtomicBool,
}

impl Socket {
    /// A socket and the receiving end its writer task drains.
    pub fn new(id: u64) -> (Arc<Socket>, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        (
            Arc::new(Socket {
                id,
                tx,
                kill: Notify::new(),
                dropped: AtomicBool::new(false),
            }),
            rx,
        )
    }

    /// Its id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues one message; a full queue drops the client (its writer task
    /// is told to close), never the caller's time.
    pub fn send(&self, text: String) {
        if self.dropped.load(Ordering::Relaxed) {
            return;
        }
        match self.tx.try_send(text) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    "ARI: WebSocket {} is not reading its events; dropping it",
                    self.id
                );
                self.drop_client();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Whether every queued message has been taken by the writer task.
    pub fn drained(&self) -> bool {
        self.tx.capacity() == self.tx.max_capacity()
    }

    /// Asks the writer task to close the connection.
    pub fn drop_client(&self) {
        self.dropped.store(true, Ordering::Relaxed);
        self.kill.notify_one();
    }

    /// Resolves when the client must be dropped.
    pub async fn killed(&self) {
        self.kill.notified().await;
    }
}

/// What an event concerns, to decide which applications receive it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interest<'a> {
    /// Channel uniqueids.
    pub channels: &'a [&'a str],
    /// The name of the channel, for endpoint subscriptions (`PJSIP/101-...`).
    pub channel_name: Option<&'a str>,
    /// Bridge ids.
    pub bridges: &'a [&'a str],
    /// A device name.
    pub device: Option<&'a str>,
    /// An endpoint (`PJSIP/101`).
    pub endpoint: Option<&'a str>,
}

/// One application.
#[derive(Debug, Default)]
struct App {
    socket: Option<Arc<Socket>>,
    subscribe_all: bool,
    channels: HashMap<String, u32>,
    bridges: HashMap<String, u32>,
    endpoints: BTreeSet<String>,
    devices: BTreeSet<String>,
    allowed: Vec<String>,
    disallowed: Vec<String>,
    in_stasis: u32,
}

impl App {
    fn wants(&self, interest: &Interest<'_>) -> bool {
        if self.subscribe_all {
            return true;
        }
        interest
            .channels
            .iter()
            .any(|c| self.channels.contains_key(*c))
            || interest
                .bridges
                .iter()
                .any(|b| self.bridges.contains_key(*b))
            || interest.device.is_some_and(|d| self.devices.contains(d))
            || interest
                .endpoint
                .is_some_and(|e| self.endpoint_matches(e, false))
            || interest
                .channel_name
                .is_some_and(|n| self.endpoint_matches(n, true))
    }

    /// Whether an endpoint subscription covers `name`: `PJSIP/101` covers
    /// the endpoint and its channels (`PJSIP/101-0000000a`), `PJSIP` the
    /// whole technology.
    fn endpoint_matches(&self, name: &str, is_channel: bool) -> bool {
        let (tech, rest) = name.split_once('/').unwrap_or((name, ""));
        let resource = if is_channel {
            rest.rsplit_once('-').map_or(rest, |(r, _)| r)
        } else {
            rest
        };
        self.endpoints.iter().any(|e| match e.split_once('/') {
            Some((t, r)) => t.eq_ignore_ascii_case(tech) && r == resource,
            None => e.eq_ignore_ascii_case(tech),
        })
    }

    fn passes(&self, event_type: &str) -> bool {
        if self.disallowed.iter().any(|t| t == event_type) {
            return false;
        }
        self.allowed.is_empty() || self.allowed.iter().any(|t| t == event_type)
    }

    fn is_finished(&self) -> bool {
        self.socket.is_none() && self.in_stasis == 0
    }
}

/// A kind of event source (`channel:`, `bridge:`, `endpoint:`,
/// `deviceState:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `channel:<id>`.
    Channel,
    /// `bridge:<id>`.
    Bridge,
    /// `endpoint:<tech>[/<resource>]`.
    Endpoint,
    /// `deviceState:<name>`.
    DeviceState,
}

impl SourceKind {
    /// Splits an event source URI; `None` for an unknown scheme.
    pub fn parse(source: &str) -> Option<(SourceKind, &str)> {
        let (scheme, id) = source.split_once(':')?;
        let kind = match scheme {
            "channel" => SourceKind::Channel,
            "bridge" => SourceKind::Bridge,
            "endpoint" => SourceKind::Endpoint,
            "deviceState" => SourceKind::DeviceState,
            _ => return None,
        };
        Some((kind, id))
    }
}

/// Every application, by name.
#[derive(Debug, Default)]
pub struct Apps {
    apps: RwLock<BTreeMap<String, App>>,
}

impl Apps {
    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, App>> {
        self.apps.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, App>> {
        self.apps.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Binds `names` to `socket`. Returns the sockets that held one of the
    /// names before (they are told `ApplicationReplaced`), with the name.
    pub fn register(
        &self,
        names: &[String],
        socket: &Arc<Socket>,
        subscribe_all: bool,
    ) -> Vec<(String, Arc<Socket>)> {
        let mut replaced = Vec::new();
        let mut apps = self.write();
        for name in names {
            let app = apps.entry(name.clone()).or_default();
            if let Some(old) = app.socket.replace(Arc::clone(socket))
                && old.id() != socket.id()
            {
                replaced.push((name.clone(), old));
            }
            app.subscribe_all = subscribe_all;
        }
        replaced
    }

    /// Unbinds every application still bound to socket `id` (it closed).
    pub fn unregister(&self, id: u64) -> Vec<String> {
        let mut apps = self.write();
        let mut gone = Vec::new();
        for (name, app) in apps.iter_mut() {
            if app.socket.as_ref().is_some_and(|s| s.id() == id) {
                app.socket = None;
                gone.push(name.clone());
            }
        }
        apps.retain(|_, app| !app.is_finished());
        gone
    }

    /// Unbinds application `name` from socket `id` (a reload removed it
    /// from an outbound connection); other sockets' bindings stay.
    pub fn unregister_app(&self, name: &str, id: u64) {
        let mut apps = self.write();
        if let Some(app) = apps.get_mut(name)
            && app.socket.as_ref().is_some_and(|s| s.id() == id)
        {
            app.socket = None;
            if app.is_finished() {
                apps.remove(name);
            }
        }
    }

    /// Whether a WebSocket holds `name` (so `Stasis(name)` may run).
    pub fn is_active(&self, name: &str) -> bool {
        self.read().get(name).is_some_and(|a| a.socket.is_some())
    }

    /// Whether an application of that name exists.
    pub fn exists(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }

    /// The names of the applications bound to a socket, sorted.
    pub fn active_names(&self) -> Vec<String> {
        self.read()
            .iter()
            .filter(|(_, a)| a.socket.is_some())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// A channel entered the application: count it and subscribe.
    pub fn enter(&self, name: &str, channel: &str) {
        let mut apps = self.write();
        let app = apps.entry(name.to_owned()).or_default();
        app.in_stasis += 1;
        *app.channels.entry(channel.to_owned()).or_default() += 1;
    }

    /// A channel left the application: uncount it and drop the
    /// subscription Stasis made.
    pub fn leave(&self, name: &str, channel: &str) {
        let mut apps = self.write();
        if let Some(app) = apps.get_mut(name) {
            app.in_stasis = app.in_stasis.saturating_sub(1);
            release(&mut app.channels, channel);
            if app.is_finished() {
                apps.remove(name);
            }
        }
    }

    /// Subscribes `name` to an event source. `false` if there is no such
    /// application.
    pub fn subscribe(&self, name: &str, kind: SourceKind, id: &str) -> bool {
        let mut apps = self.write();
        let Some(app) = apps.get_mut(name) else {
            return false;
        };
        match kind {
            SourceKind::Channel => *app.channels.entry(id.to_owned()).or_default() += 1,
            SourceKind::Bridge => *app.bridges.entry(id.to_owned()).or_default() += 1,
            SourceKind::Endpoint => {
                app.endpoints.insert(id.to_owned());
            }
            SourceKind::DeviceState => {
                app.devices.insert(id.to_owned());
            }
        }
        true
    }

    /// Drops one subscription; `false` if the application was not
    /// subscribed to it.
    pub fn unsubscribe(&self, name: &str, kind: SourceKind, id: &str) -> bool {
        let mut apps = self.write();
        let Some(app) = apps.get_mut(name) else {
            return false;
        };
        match kind {
            SourceKind::Channel => release(&mut app.channels, id),
            SourceKind::Bridge => release(&mut app.bridges, id),
            SourceKind::Endpoint => app.endpoints.remove(id),
            SourceKind::DeviceState => app.devices.remove(id),
        }
    }

    /// Whether `name` is subscribed to the source.
    pub fn is_subscribed(&self, name: &str, kind: SourceKind, id: &str) -> bool {
        let apps = self.read();
        let Some(app) = apps.get(name) else {
            return false;
        };
        match kind {
            SourceKind::Channel => app.channels.contains_key(id),
            SourceKind::Bridge => app.bridges.contains_key(id),
            SourceKind::Endpoint => app.endpoints.contains(id),
            SourceKind::DeviceState => app.devices.contains(id),
        }
    }

    /// A channel is gone: no application stays subscribed to it.
    pub fn forget_channel(&self, id: &str) {
        for app in self.write().values_mut() {
            app.channels.remove(id);
        }
    }

    /// A bridge is gone: no application stays subscribed to it.
    pub fn forget_bridge(&self, id: &str) {
        for app in self.write().values_mut() {
            app.bridges.remove(id);
        }
    }

    /// Sets the event filter; `None` leaves a list as it is.
    pub fn set_filter(
        &self,
        name: &str,
        allowed: Option<Vec<String>>,
        disallowed: Option<Vec<String>>,
    ) -> bool {
        let mut apps = self.write();
        let Some(app) = apps.get_mut(name) else {
            return false;
        };
        if let Some(allowed) = allowed {
            app.allowed = allowed;
        }
        if let Some(disallowed) = disallowed {
            app.disallowed = disallowed;
        }
        true
    }

    /// Whether any application with a socket follows what `interest`
    /// names (before its event is even rendered).
    pub fn interested(&self, interest: &Interest<'_>) -> bool {
        self.read()
            .values()
            .any(|app| app.socket.is_some() && app.wants(interest))
    }

    /// The applications that receive an event of `event_type` about
    /// `interest`, with their sockets.
    pub fn targets(&self, event_type: &str, interest: &Interest<'_>) -> Vec<(String, Arc<Socket>)> {
        self.read()
            .iter()
            .filter(|(_, app)| app.wants(interest) && app.passes(event_type))
            .filter_map(|(name, app)| Some((name.clone(), Arc::clone(app.socket.as_ref()?))))
            .collect()
    }

    /// The socket of one application, if its event filter lets
    /// `event_type` through.
    pub fn target(&self, name: &str, event_type: &str) -> Option<Arc<Socket>> {
        let apps = self.read();
        let app = apps.get(name)?;
        if !app.passes(event_type) {
            return None;
        }
        app.socket.clone()
    }

    /// The application as `GET /applications/{name}` shows it; channel
    /// and bridge ids go through `rename` (client-chosen ids).
    pub fn describe(
        &self,
        name: &str,
        rename: impl Fn(&str) -> String,
    ) -> Option<json::Application> {
        let apps = self.read();
        let app = apps.get(name)?;
        let mut channel_ids: Vec<String> = app.channels.keys().map(|c| rename(c)).collect();
        channel_ids.sort();
        let mut bridge_ids: Vec<String> = app.bridges.keys().cloned().collect();
        bridge_ids.sort();
        let types = |list: &[String]| {
            list.iter()
                .map(|t| serde_json::json!({ "type": t }))
                .collect::<Vec<_>>()
        };
        Some(json::Application {
            name: name.to_owned(),
            channel_ids,
            bridge_ids,
            endpoint_ids: app.endpoints.iter().cloned().collect(),
            device_names: app.devices.iter().cloned().collect(),
            events_allowed: types(&app.allowed),
            events_disallowed: types(&app.disallowed),
        })
    }
}

/// Drops one reference to a subscription; `false` if there was none.
fn release(map: &mut HashMap<String, u32>, id: &str) -> bool {
    match map.get_mut(id) {
        Some(count) if *count > 1 => {
            *count -= 1;
            true
        }
        Some(_) => {
            map.remove(id);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(targets: Vec<(String, Arc<Socket>)>) -> Vec<String> {
        targets.into_iter().map(|(n, _)| n).collect()
    }

    #[tokio::test]
    async fn registering_twice_replaces_and_closing_unregisters() {
        let apps = Apps::default();
        let (one, _rx1) = Socket::new(1);
        let (two, _rx2) = Socket::new(2);
        assert!(
            apps.register(&["a".into(), "b".into()], &one, false)
                .is_empty()
        );
        let replaced = apps.register(&["b".into()], &two, false);
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].0, "b");
        assert_eq!(replaced[0].1.id(), 1);
        assert_eq!(apps.unregister(1), vec!["a".to_owned()]);
        assert!(!apps.exists("a"));
        assert!(apps.is_active("b"));
    }

    #[tokio::test]
    async fn stasis_keeps_an_app_alive_until_its_channels_leave() {
        let apps = Apps::default();
        let (socket, _rx) = Socket::new(1);
        apps.register(&["a".into()], &socket, false);
        apps.enter("a", "1.1");
        apps.unregister(1);
        assert!(apps.exists("a") && !apps.is_active("a"));
        apps.leave("a", "1.1");
        assert!(!apps.exists("a"));
    }

    #[tokio::test]
    async fn targets_follow_subscriptions_and_filters() {
        let apps = Apps::default();
        let (s1, _r1) = Socket::new(1);
        let (s2, _r2) = Socket::new(2);
        apps.register(&["one".into()], &s1, false);
        apps.register(&["all".into()], &s2, true);
        let channel = Interest {
            channels: &["1.1"],
            channel_name: Some("PJSIP/101-00000001"),
            ..Interest::default()
        };
        assert_eq!(names(apps.targets("X", &channel)), vec!["all"]);
        apps.subscribe("one", SourceKind::Endpoint, "PJSIP/101");
        assert_eq!(names(apps.targets("X", &channel)), vec!["all", "one"]);
        apps.unsubscribe("one", SourceKind::Endpoint, "PJSIP/101");
        apps.subscribe("one", SourceKind::Endpoint, "PJSIP");
        assert_eq!(names(apps.targets("X", &channel)), vec!["all", "one"]);
        apps.set_filter("all", None, Some(vec!["X".into()]));
        assert_eq!(names(apps.targets("X", &channel)), vec!["one"]);
        apps.set_filter("one", Some(vec!["Y".into()]), None);
        assert!(apps.targets("X", &channel).is_empty());
        assert_eq!(names(apps.targets("Y", &channel)), vec!["all", "one"]);
    }

    #[tokio::test]
    async fn subscriptions_are_counted() {
        let apps = Apps::default();
        let (s, _r) = Socket::new(1);
        apps.register(&["a".into()], &s, false);
        apps.subscribe("a", SourceKind::Channel, "c");
        apps.enter("a", "c");
        apps.leave("a", "c");
        assert!(apps.is_subscribed("a", SourceKind::Channel, "c"));
        assert!(apps.unsubscribe("a", SourceKind::Channel, "c"));
        assert!(!apps.unsubscribe("a", SourceKind::Channel, "c"));
        assert_eq!(
            SourceKind::parse("bridge:x"),
            Some((SourceKind::Bridge, "x"))
        );
        assert_eq!(SourceKind::parse("nope:x"), None);
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_is_dropped() {
        let (socket, mut rx) = Socket::new(7);
        for i in 0..SOCKET_QUEUE {
            socket.send(i.to_string());
        }
        let killed = socket.killed();
        tokio::pin!(killed);
        assert!(futures_poll(&mut killed).is_none());
        socket.send("one too many".into());
        assert!(futures_poll(&mut killed).is_some());
        assert_eq!(rx.recv().await.as_deref(), Some("0"));
    }

    /// Polls a future once.
    fn futures_poll<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
