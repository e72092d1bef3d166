//! The `memory_cache` wizard: a cache in front of the other wizards of a type.
//!
//! `endpoint/cache = memory_cache,maximum_objects=n,object_lifetime_maximum=s,
//! object_lifetime_stale=s,expire_on_reload=yes|no,full_backend_cache=yes|no,name=x`.
//!
//! Objects older than `object_lifetime_stale` are still served but refreshed
//! in the background; older than `object_lifetime_maximum` they are gone; when
//! `maximum_objects` is reached the oldest is evicted. Unlike Asterisk, a
//! backend *error* during a refresh keeps the cached object (a database
//! hiccup must not make endpoints vanish); only "no such object" removes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::task::JoinHandle;

use super::{Query, Wizard};
use crate::clock::Clock;
use crate::error::SorceryError;
use crate::field::parse_bool;
use crate::object::Object;

/// The options of a `memory_cache` mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheOptions {
    /// `name=`: the cache's name (default `<module>/<type>`).
    pub name: Option<String>,
    /// `maximum_objects=` (0: unlimited).
    pub maximum_objects: usize,
    /// `object_lifetime_maximum=` seconds (0: forever).
    pub object_lifetime_maximum: u64,
    /// `object_lifetime_stale=` seconds (0: never stale).
    pub object_lifetime_stale: u64,
    /// `expire_on_reload=`: empty the cache on reload.
    pub expire_on_reload: bool,
    /// `full_backend_cache=`: hold every object and answer every query.
    pub full_backend_cache: bool,
}

impl CacheOptions {
    /// Parses the wizard data.
    pub fn parse(data: &str) -> Result<Self, String> {
        let mut out = Self::default();
        for part in data.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not option=value"))?;
            let (key, value) = (key.trim(), value.trim());
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{key} '{value}' is not a whole number"))
            };
            let flag =
                || parse_bool(value).ok_or_else(|| format!("{key} '{value}' is not yes or no"));
            match key {
                "name" => out.name = Some(value.to_owned()),
                "maximum_objects" => {
                    out.maximum_objects = usize::try_from(number()?).unwrap_or(usize::MAX)
                }
                "object_lifetime_maximum" => out.object_lifetime_maximum = number()?,
                "object_lifetime_stale" => out.object_lifetime_stale = number()?,
                "expire_on_reload" => out.expire_on_reload = flag()?,
                "full_backend_cache" => out.full_backend_cache = flag()?,
                other => return Err(format!("unknown memory_cache option '{other}'")),
            }
        }
        Ok(out)
    }
}

struct Entry {
    object: Arc<Object>,
    created: Instant,
    marked_stale: bool,
    refreshing: bool,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Full backend cache: when the whole set was loaded.
    populated: Option<Instant>,
    set_stale: bool,
    set_refreshing: bool,
}

/// A memory cache of one object type.
pub struct MemoryCache {
    name: String,
    opts: CacheOptions,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    backends: OnceLock<Vec<Arc<dyn Wizard>>>,
    refreshes: Mutex<Vec<JoinHandle<()>>>,
    me: Weak<MemoryCache>,
}

/// One line of `sorcery memory cache dump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedObject {
    /// The object's id.
    pub id: String,
    /// Seconds until stale (0 when already stale or never).
    pub stale_in: u64,
    /// Seconds until it expires (0 when never).
    pub expires_in: u64,
}

impl MemoryCache {
    /// A cache called `name`.
    pub fn new(name: String, opts: CacheOptions, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            name,
            opts,
            clock,
            state: Mutex::new(State::default()),
            backends: OnceLock::new(),
            refreshes: Mutex::new(Vec::new()),
            me: me.clone(),
        })
    }

    /// Gives the cache the non-cache wizards of its type (in mapping order),
    /// which it refreshes and populates from. Set once.
    pub fn set_backends(&self, backends: Vec<Arc<dyn Wizard>>) {
        let _ = self.backends.set(backends);
    }

    /// The cache's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its options.
    pub fn options(&self) -> &CacheOptions {
        &self.opts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn expired(&self, created: Instant, now: Instant) -> bool {
        self.opts.object_lifetime_maximum > 0
            && now.saturating_duration_since(created)
                >= Self::secs(self.opts.object_lifetime_maximum)
    }

    fn is_stale(&self, entry: &Entry, now: Instant) -> bool {
        entry.marked_stale
            || (self.opts.object_lifetime_stale > 0
                && now.saturating_duration_since(entry.created)
                    >= Self::secs(self.opts.object_lifetime_stale))
    }

    fn prune(&self, state: &mut State, now: Instant) {
        if self.opts.object_lifetime_maximum > 0 {
            state.entries.retain(|_, e| !self.expired(e.created, now));
        }
    }

    /// Number of objects held now.
    pub fn len(&self) -> usize {
        let now = self.clock.now();
        let mut state = self.lock();
        self.prune(&mut state, now);
        state.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts (or replaces) an object, evicting the oldest when full.
    pub fn put(&self, object: Arc<Object>) {
        let now = self.clock.now();
        let mut state = self.lock();
        self.prune(&mut state, now);
        let max = self.opts.maximum_objects;
        if max > 0 && !state.entries.contains_key(object.id()) && state.entries.len() >= max {
            let oldest = state
                .entries
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                state.entries.remove(&oldest);
            }
        }
        state.entries.insert(
            object.id().to_owned(),
            Entry {
                object,
                created: now,
                marked_stale: false,
                refreshing: false,
            },
        );
    }

    /// Removes every object (`sorcery memory cache expire <name>`).
    pub fn expire_all(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.populated = None;
    }

    /// Removes one object; false if it was not cached.
    pub fn expire(&self, id: &str) -> bool {
        self.lock().entries.remove(id).is_some()
    }

    /// Marks every object stale: the next hit refreshes it.
    pub fn stale_all(&self) {
        let mut state = self.lock();
        state.set_stale = true;
        for e in state.entries.values_mut() {
            e.marked_stale = true;
        }
    }

    /// Marks one object stale; false if it was not cached.
    pub fn stale(&self, id: &str) -> bool {
        match self.lock().entries.get_mut(id) {
            Some(e) => {
                e.marked_stale = true;
                true
            }
            None => false,
        }
    }

    /// The cached objects with their remaining lifetimes, ordered by id.
    pub fn dump(&self) -> Vec<CachedObject> {
        let now = self.clock.now();
        let mut state = self.lock();
        self.prune(&mut state, now);
        let remaining = |created: Instant, secs: u64| {
            if secs == 0 {
                return 0;
            }
            Self::secs(secs)
                .saturating_sub(now.saturating_duration_since(created))
                .as_secs()
        };
        let mut out: Vec<CachedObject> = state
            .entries
            .values()
            .map(|e| CachedObject {
                id: e.object.id().to_owned(),
                stale_in: if e.marked_stale {
                    0
                } else {
                    remaining(e.created, self.opts.object_lifetime_stale)
                },
                expires_in: remaining(e.created, self.opts.object_lifetime_maximum),
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Waits for the background refreshes started so far (tests, shutdown).
    pub async fn wait_refreshes(&self) {
        let handles: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.refreshes.lock().unwrap_or_else(|e| e.into_inner()));
        for h in handles {
            let _ = h.await;
        }
    }

    fn backends(&self) -> &[Arc<dyn Wizard>] {
        self.backends.get().map_or(&[], Vec::as_slice)
    }

    /// Asks the backends for one object: first hit in order.
    async fn fetch(&self, id: &str) -> Result<Option<Arc<Object>>, SorceryError> {
        let mut error = None;
        for backend in self.backends() {
            match backend.retrieve(&Query::Id(id.to_owned())).await {
                Ok(found) => {
                    if let Some(o) = found.into_iter().next() {
                        return Ok(Some(o));
                    }
                }
                Err(e) => error = Some(e),
            }
        }
        error.map_or(Ok(None), Err)
    }

    /// Loads every object of the backends (union, first wizard wins).
    async fn fetch_all(&self) -> Result<Vec<Arc<Object>>, SorceryError> {
        let mut out: Vec<Arc<Object>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for backend in self.backends() {
            for o in backend.retrieve(&Query::All).await? {
                if seen.insert(o.id().to_owned()) {
                    out.push(o);
                }
            }
        }
        Ok(out)
    }

    /// `sorcery memory cache populate`: reloads the whole set from the
    /// backends. `Ok(false)` when the cache is not a full backend cache. On
    /// a backend error the objects already held are kept.
    pub async fn populate(&self) -> Result<bool, SorceryError> {
        if !self.opts.full_backend_cache {
            return Ok(false);
        }
        let all = self.fetch_all().await;
        let now = self.clock.now();
        let mut state = self.lock();
        state.set_refreshing = false;
        let all = all?;
        state.entries = all
            .into_iter()
            .map(|o| {
                (
                    o.id().to_owned(),
                    Entry {
                        object: o,
                        created: now,
                        marked_stale: false,
                        refreshing: false,
                    },
                )
            })
            .collect();
        state.populated = Some(now);
        state.set_stale = false;
        Ok(true)
    }

    fn spawn(&self, job: impl std::future::Future<Output = ()> + Send + 'static) {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let handle = rt.spawn(job);
            let mut refreshes = self.refreshes.lock().unwrap_or_else(|e| e.into_inner());
            refreshes.retain(|h| !h.is_finished());
            refreshes.push(handle);
        }
    }

    fn refresh_in_background(&self, id: String) {
        let Some(me) = self.me.upgrade() else { return };
        self.spawn(async move {
            let result = me.fetch(&id).await;
            let mut state = me.lock();
            match result {
                Ok(Some(fresh)) => {
                    let now = me.clock.now();
                    state.entries.insert(
                        id,
                        Entry {
                            object: fresh,
                            created: now,
                            marked_stale: false,
                            refreshing: false,
                        },
                    );
                }
                Ok(None) => {
                    state.entries.remove(&id);
                }
                Err(e) => {
                    tracing::warn!(
                        "memory cache '{}': refreshing '{id}' failed, keeping the cached copy: {e}",
                        me.name
                    );
                    if let Some(entry) = state.entries.get_mut(&id) {
                        entry.refreshing = false;
                    }
                }
            }
        });
    }

    fn by_id(&self, id: &str) -> Option<Arc<Object>> {
        let now = self.clock.now();
        let mut state = self.lock();
        let entry = state.entries.get_mut(id)?;
        if self.expired(entry.created, now) {
            state.entries.remove(id);
            return None;
        }
        let object = Arc::clone(&entry.object);
        if !self.opts.full_backend_cache && !entry.refreshing && self.is_stale(entry, now) {
            entry.refreshing = true;
            drop(state);
            self.refresh_in_background(id.to_owned());
        }
        Some(object)
    }

    /// Makes sure a full backend cache holds the set, refreshing it when stale.
    async fn ensure_full(&self) -> Result<(), SorceryError> {
        let now = self.clock.now();
        let (missing, stale) = {
            let mut state = self.lock();
            let missing = state.populated.is_none_or(|at| self.expired(at, now));
            let stale = !missing
                && !state.set_refreshing
                && (state.set_stale
                    || (self.opts.object_lifetime_stale > 0
                        && state.populated.is_some_and(|at| {
                            now.saturating_duration_since(at)
                                >= Self::secs(self.opts.object_lifetime_stale)
                        })));
            if stale {
                state.set_refreshing = true;
            }
            (missing, stale)
        };
        if missing {
            self.populate().await?;
        } else if stale && let Some(me) = self.me.upgrade() {
            self.spawn(async move {
                if let Err(e) = me.populate().await {
                    tracing::warn!(
                        "memory cache '{}': refresh failed, keeping the cached set: {e}",
                        me.name
                    );
                }
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Wizard for MemoryCache {
    fn name(&self) -> &'static str {
        "memory_cache"
    }

    async fn reload(&self) -> Vec<crate::error::ObjectError> {
        if self.opts.expire_on_reload {
            self.expire_all();
        }
        Vec::new()
    }

    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError> {
        if self.opts.full_backend_cache {
            self.ensure_full().await?;
            if let Query::Id(id) = query {
                return Ok(self.by_id(id).into_iter().collect());
            }
            let state = self.lock();
            let mut out: Vec<Arc<Object>> = state
                .entries
                .values()
                .filter(|e| query.matches(&e.object))
                .map(|e| Arc::clone(&e.object))
                .collect();
            out.sort_by(|a, b| a.id().cmp(b.id()));
            return Ok(out);
        }
        Ok(match query {
            Query::Id(id) => self.by_id(id).into_iter().collect(),
            _ => Vec::new(),
        })
    }

    async fn create(&self, object: Arc<Object>) -> Result<(), SorceryError> {
        self.put(object);
        Ok(())
    }

    async fn update(&self, object: Arc<Object>) -> Result<bool, SorceryError> {
        self.put(object);
        Ok(true)
    }

    async fn delete(&self, id: &str) -> Result<bool, SorceryError> {
        Ok(self.expire(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        let o = CacheOptions::parse(
            "object_lifetime_stale=600,object_lifetime_maximum=1800,expire_on_reload=yes,maximum_objects=5,name=eps,full_backend_cache=no",
        )
        .unwrap();
        assert_eq!(o.object_lifetime_stale, 600);
        assert_eq!(o.object_lifetime_maximum, 1800);
        assert!(o.expire_on_reload && !o.full_backend_cache);
        assert_eq!(o.maximum_objects, 5);
        assert_eq!(o.name.as_deref(), Some("eps"));
        assert!(CacheOptions::parse("maximum_objects=x").is_err());
        assert!(CacheOptions::parse("bogus=1").is_err());
        assert_eq!(CacheOptions::parse("").unwrap(), CacheOptions::default());
    }
}
