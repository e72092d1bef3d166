//! [`Sorcery`]: object types, their wizards in `sorcery.conf` order, and
//! observers; [`SorceryService`]: the reloadable handle modules share.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock};

use obelus_conf::LoadOptions;
use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::settings::Settings;
use obelus_realtime::{Criterion, RealtimeService};
use regex::Regex;
use tokio::sync::broadcast;

use crate::astdb::Astdb;
use crate::clock::{Clock, SystemClock};
use crate::conf::{MappingSpec, SorceryConf};
use crate::error::{ObjectError, SorceryError};
use crate::object::{Object, ObjectType};
use crate::wizard::astdb::AstdbWizard;
use crate::wizard::config::{ConfigData, ConfigWizard};
use crate::wizard::memory::MemoryWizard;
use crate::wizard::memory_cache::{CacheOptions, MemoryCache};
use crate::wizard::realtime::{RealtimeData, RealtimeWizard};
use crate::wizard::{Problems, Query, Wizard};

/// What happened to objects of a type.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// An object was created through sorcery.
    Created(Arc<Object>),
    /// An object was updated through sorcery.
    Updated(Arc<Object>),
    /// The object with this id was deleted through sorcery.
    Deleted(String),
    /// The type's wizards (re)loaded: anything may have changed.
    Loaded,
}

/// An observer notification (Asterisk's sorcery observers), delivered on a
/// broadcast channel: the caller never waits for observers, and an observer
/// that falls behind loses the oldest notifications (and is told so by
/// `RecvError::Lagged`).
#[derive(Debug, Clone)]
pub struct SorceryEvent {
    /// The object type.
    pub type_name: &'static str,
    /// What happened.
    pub kind: EventKind,
}

/// How many notifications an observer may fall behind before losing some.
pub const EVENT_QUEUE: usize = 1024;

/// One wizard of a type, in mapping order.
#[derive(Clone)]
pub struct Mapping {
    /// The wizard.
    pub wizard: Arc<dyn Wizard>,
    /// Mapped with `/cache`.
    pub cache: bool,
    /// The wizard data as configured (for `sorcery show`-like output).
    pub data: String,
}

struct TypeEntry {
    module: &'static str,
    ty: Arc<ObjectType>,
    mappings: Vec<Mapping>,
}

/// A type a module registers, with its built-in default mappings.
pub struct Registration {
    /// The module owning the type (`res_pjsip`): its `sorcery.conf` section.
    pub module: &'static str,
    /// The type.
    pub ty: ObjectType,
    /// Default mappings as `wizard,data` text, used when the module's
    /// section does not name the type.
    pub defaults: Vec<&'static str>,
}

/// Collects type registrations, then reads `sorcery.conf` and builds [`Sorcery`].
pub struct SorceryBuilder {
    settings: Settings,
    realtime: Arc<RealtimeService>,
    registrations: Vec<Registration>,
    clock: Arc<dyn Clock>,
}

impl SorceryBuilder {
    /// A builder for the daemon's settings (config dir, astdb dir) and realtime layer.
    pub fn new(settings: &Settings, realtime: Arc<RealtimeService>) -> Self {
        Self {
            settings: settings.clone(),
            realtime,
            registrations: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Registers a type owned by `module` with its default mappings.
    pub fn register(
        mut self,
        module: &'static str,
        ty: ObjectType,
        defaults: &[&'static str],
    ) -> Self {
        self.registrations.push(Registration {
            module,
            ty,
            defaults: defaults.to_vec(),
        });
        self
    }

    /// Registers several types at once.
    pub fn register_all(mut self, registrations: impl IntoIterator<Item = Registration>) -> Self {
        self.registrations.extend(registrations);
        self
    }

    /// The clock memory caches use (tests pass a [`crate::clock::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Reads `sorcery.conf`, creates the wizards and loads them. Problems
    /// (bad mappings with their `sorcery.conf` line, bad objects with theirs)
    /// come back as diagnostics; a bad mapping is left out, the rest works.
    pub async fn build(self) -> (Arc<Sorcery>, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        let conf = match self.settings.load_conf("sorcery.conf") {
            Ok(config) => {
                let (conf, more) = SorceryConf::from_config(&config);
                problems.extend(more);
                conf
            }
            Err(e) if e.is_not_found() => SorceryConf::default(),
            Err(e) => {
                problems.extend(Diagnostic::from_conf_errors(&e));
                SorceryConf::default()
            }
        };
        let (events, _) = broadcast::channel(EVENT_QUEUE);
        let problem_log = Arc::new(Problems::default());
        let ctx = BuildContext {
            settings: &self.settings,
            opts: self.settings.load_options(),
            realtime: &self.realtime,
            problems: &problem_log,
            clock: &self.clock,
            astdb: OnceLock::new(),
        };
        // Sections naming types their module does not register.
        for (module, specs) in &conf.modules {
            for spec in specs {
                let known = self.registrations.iter().any(|r| {
                    r.module.eq_ignore_ascii_case(module) && r.ty.name() == spec.type_name
                });
                if !known && let Some(location) = &spec.location {
                    problems.push(Diagnostic::warning_at(
                        location,
                        &spec.type_name,
                        format!(
                            "module '{module}' has no object type '{}'; mapping ignored",
                            spec.type_name
                        ),
                    ));
                }
            }
        }
        let mut types = HashMap::new();
        let mut order = Vec::new();
        let mut caches = BTreeMap::new();
        for reg in self.registrations {
            let ty = Arc::new(reg.ty);
            let specs = conf.mappings_for(reg.module, ty.name()).unwrap_or_else(|| {
                reg.defaults
                    .iter()
                    .map(|d| MappingSpec::default_for(ty.name(), d))
                    .collect()
            });
            let mut mappings = Vec::new();
            let mut type_caches = Vec::new();
            for spec in &specs {
                match ctx.wizard(reg.module, &ty, spec) {
                    Ok((wizard, cache)) => {
                        if let Some(cache) = cache {
                            if caches
                                .insert(cache.name().to_owned(), Arc::clone(&cache))
                                .is_some()
                                && let Some(location) = &spec.location
                            {
                                problems.push(Diagnostic::warning_at(
                                    location,
                                    &spec.type_name,
                                    format!("memory cache name '{}' used twice; the console sees the last", cache.name()),
                                ));
                            }
                            type_caches.push(cache);
                        }
                        mappings.push(Mapping {
                            wizard,
                            cache: spec.cache,
                            data: spec.data.clone(),
                        });
                    }
                    Err(message) => problems.push(match &spec.location {
                        Some(location) => Diagnostic::error_at(location, &spec.type_name, message),
                        None => Diagnostic::file(
                            Severity::Error,
                            "sorcery.conf",
                            format!(
                                "default mapping of '{}' ({}): {message}",
                                ty.name(),
                                spec.wizard
                            ),
                        ),
                    }),
                }
            }
            let backends: Vec<Arc<dyn Wizard>> = mappings
                .iter()
                .filter(|m| !m.cache)
                .map(|m| Arc::clone(&m.wizard))
                .collect();
            for cache in type_caches {
                cache.set_backends(backends.clone());
            }
            order.push(ty.name());
            types.insert(
                ty.name(),
                Arc::new(TypeEntry {
                    module: reg.module,
                    ty,
                    mappings,
                }),
            );
        }
        let sorcery = Arc::new(Sorcery {
            types,
            order,
            caches,
            events,
            problems: problem_log,
            update_or_create: conf.update_or_create_on_update_miss,
        });
        problems.extend(sorcery.load_all(false).await);
        (sorcery, problems)
    }
}

struct BuildContext<'a> {
    settings: &'a Settings,
    opts: LoadOptions,
    realtime: &'a Arc<RealtimeService>,
    problems: &'a Arc<Problems>,
    clock: &'a Arc<dyn Clock>,
    astdb: OnceLock<Result<Astdb, String>>,
}

type Built = (Arc<dyn Wizard>, Option<Arc<MemoryCache>>);

impl BuildContext<'_> {
    fn wizard(
        &self,
        module: &str,
        ty: &Arc<ObjectType>,
        spec: &MappingSpec,
    ) -> Result<Built, String> {
        let wizard: Arc<dyn Wizard> = match spec.wizard.as_str() {
            "config" => Arc::new(ConfigWizard::new(
                self.settings.dirs.etc.clone(),
                self.opts.clone(),
                ConfigData::parse(&spec.data)?,
                Arc::clone(ty),
            )),
            "realtime" => {
                let data = RealtimeData::parse(&spec.data)?;
                let Some(realtime) = self.realtime.get() else {
                    return Err("realtime is not configured".into());
                };
                if !realtime.is_mapped(&data.family) {
                    return Err(format!(
                        "realtime family '{}' is not mapped in extconfig.conf",
                        data.family
                    ));
                }
                Arc::new(RealtimeWizard::new(
                    Arc::clone(self.realtime),
                    data,
                    Arc::clone(ty),
                    Arc::clone(self.problems),
                ))
            }
            "memory" => Arc::new(MemoryWizard::new()),
            "memory_cache" => {
                if !spec.cache {
                    return Err(
                        "memory_cache must be mapped as a cache (<type>/cache = memory_cache,...)"
                            .into(),
                    );
                }
                let opts = CacheOptions::parse(&spec.data)?;
                let name = opts
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{module}/{}", ty.name()));
                let cache = MemoryCache::new(name, opts, Arc::clone(self.clock));
                return Ok((Arc::clone(&cache) as Arc<dyn Wizard>, Some(cache)));
            }
            "astdb" => {
                let db = self
                    .astdb
                    .get_or_init(|| Astdb::open(&self.settings.dirs.db).map_err(|e| e.to_string()))
                    .clone()?;
                Arc::new(AstdbWizard::new(
                    db,
                    &spec.data,
                    Arc::clone(ty),
                    Arc::clone(self.problems),
                )?)
            }
            other => {
                return Err(format!(
                    "unknown wizard '{other}' (expected config, realtime, memory, memory_cache or astdb)"
                ));
            }
        };
        if spec.cache {
            return Err(format!(
                "wizard '{}' cannot be a cache; only memory_cache can",
                spec.wizard
            ));
        }
        Ok((wizard, None))
    }
}

/// The data access layer: typed objects from the wizards `sorcery.conf` maps.
pub struct Sorcery {
    types: HashMap<&'static str, Arc<TypeEntry>>,
    order: Vec<&'static str>,
    caches: BTreeMap<String, Arc<MemoryCache>>,
    events: broadcast::Sender<SorceryEvent>,
    problems: Arc<Problems>,
    update_or_create: bool,
}

impl Sorcery {
    /// Starts building a sorcery instance.
    pub fn builder(settings: &Settings, realtime: Arc<RealtimeService>) -> SorceryBuilder {
        SorceryBuilder::new(settings, realtime)
    }

    fn entry(&self, type_name: &str) -> Result<&Arc<TypeEntry>, SorceryError> {
        self.types
            .get(type_name)
            .ok_or_else(|| SorceryError::UnknownType(type_name.to_owned()))
    }

    fn emit(&self, type_name: &'static str, kind: EventKind) {
        // No receiver is not an error: nobody is observing yet.
        let _ = self.events.send(SorceryEvent { type_name, kind });
    }

    async fn load_all(&self, reload: bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for name in &self.order {
            let Some(entry) = self.types.get(name) else {
                continue;
            };
            for m in &entry.mappings {
                let found: Vec<ObjectError> = if reload {
                    m.wizard.reload().await
                } else {
                    m.wizard.load().await
                };
                for problem in found {
                    out.push(problem.to_diagnostic());
                    self.problems.report(problem);
                }
            }
            self.emit(entry.ty.name(), EventKind::Loaded);
        }
        out
    }

    /// `module reload`: every wizard re-reads its store (the config wizard
    /// only if its file changed; memory caches with `expire_on_reload` empty
    /// themselves). Observers get [`EventKind::Loaded`] for every type.
    pub async fn reload(&self) -> Vec<Diagnostic> {
        self.load_all(true).await
    }

    /// Subscribes to created/updated/deleted/loaded notifications of every type.
    pub fn subscribe(&self) -> broadcast::Receiver<SorceryEvent> {
        self.events.subscribe()
    }

    /// The registered type names, in registration order.
    pub fn type_names(&self) -> &[&'static str] {
        &self.order
    }

    /// A registered type.
    pub fn object_type(&self, type_name: &str) -> Option<&Arc<ObjectType>> {
        self.types.get(type_name).map(|e| &e.ty)
    }

    /// The module owning a type.
    pub fn module_of(&self, type_name: &str) -> Option<&'static str> {
        self.types.get(type_name).map(|e| e.module)
    }

    /// The wizards of a type, in order.
    pub fn mappings(&self, type_name: &str) -> &[Mapping] {
        self.types
            .get(type_name)
            .map_or(&[], |e| e.mappings.as_slice())
    }

    /// A new object of a type with its defaults, to fill and [`Sorcery::create`].
    pub fn alloc(&self, type_name: &str, id: &str) -> Result<Object, SorceryError> {
        Ok(self.entry(type_name)?.ty.new_object(id))
    }

    /// The memory cache called `name` (`res_pjsip/endpoint`).
    pub fn memory_cache(&self, name: &str) -> Option<&Arc<MemoryCache>> {
        self.caches.get(name)
    }

    /// Every memory cache, by name.
    pub fn memory_caches(&self) -> impl Iterator<Item = &Arc<MemoryCache>> {
        self.caches.values()
    }

    /// The most recent bad objects skipped (with file:line or table/id/column).
    pub fn problems(&self) -> Vec<ObjectError> {
        self.problems.recent()
    }

    /// Single retrieval: the wizards are asked in order and the first answer
    /// wins; an answer from a non-cache wizard is then put into every cache.
    async fn retrieve_one(
        &self,
        type_name: &str,
        query: &Query,
    ) -> Result<Option<Arc<Object>>, SorceryError> {
        let entry = self.entry(type_name)?;
        let mut error = None;
        for (i, m) in entry.mappings.iter().enumerate() {
            match m.wizard.retrieve(query).await {
                Ok(found) => {
                    let Some(object) = found.into_iter().next() else {
                        continue;
                    };
                    if !m.cache {
                        for (j, c) in entry.mappings.iter().enumerate() {
                            if c.cache && j != i {
                                let _ = c.wizard.create(Arc::clone(&object)).await;
                            }
                        }
                    }
                    return Ok(Some(object));
                }
                Err(e) => {
                    tracing::warn!(
                        "sorcery: {} wizard of '{type_name}' failed: {e}",
                        m.wizard.name()
                    );
                    error = Some(e);
                }
            }
        }
        error.map_or(Ok(None), Err)
    }

    /// Multiple retrieval: a cache that answers ends the walk; otherwise the
    /// union of every non-cache wizard, the first copy of an id winning.
    async fn retrieve_many(
        &self,
        type_name: &str,
        query: &Query,
    ) -> Result<Vec<Arc<Object>>, SorceryError> {
        let entry = self.entry(type_name)?;
        let mut out: Vec<Arc<Object>> = Vec::new();
        let mut seen = HashSet::new();
        let mut error = None;
        let mut answered = false;
        for m in &entry.mappings {
            match m.wizard.retrieve(query).await {
                Ok(found) if m.cache => {
                    if !found.is_empty() {
                        return Ok(found);
                    }
                }
                Ok(found) => {
                    answered = true;
                    for o in found {
                        if seen.insert(o.id().to_owned()) {
                            out.push(o);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        "sorcery: {} wizard of '{type_name}' failed: {e}",
                        m.wizard.name()
                    );
                    error = Some(e);
                }
            }
        }
        match error {
            Some(e) if !answered => Err(e),
            _ => Ok(out),
        }
    }

    /// The object of a type with this id.
    pub async fn retrieve_by_id(
        &self,
        type_name: &str,
        id: &str,
    ) -> Result<Option<Arc<Object>>, SorceryError> {
        self.retrieve_one(type_name, &Query::Id(id.to_owned()))
            .await
    }

    /// Every object whose options match all criteria (`Criterion::parse("max_contacts >", "1")`).
    pub async fn retrieve_by_fields(
        &self,
        type_name: &str,
        criteria: &[Criterion],
    ) -> Result<Vec<Arc<Object>>, SorceryError> {
        self.retrieve_many(type_name, &Query::Fields(criteria.to_vec()))
            .await
    }

    /// The first object whose options match all criteria.
    pub async fn retrieve_one_by_fields(
        &self,
        type_name: &str,
        criteria: &[Criterion],
    ) -> Result<Option<Arc<Object>>, SorceryError> {
        self.retrieve_one(type_name, &Query::Fields(criteria.to_vec()))
            .await
    }

    /// Every object whose id matches the regular expression.
    pub async fn retrieve_by_regex(
        &self,
        type_name: &str,
        pattern: &str,
    ) -> Result<Vec<Arc<Object>>, SorceryError> {
        let re = Regex::new(pattern).map_err(|e| SorceryError::Regex(e.to_string()))?;
        self.retrieve_many(type_name, &Query::Regex(re)).await
    }

    /// Every object whose id starts with `prefix` (the registrar's `<aor>;@`).
    pub async fn retrieve_by_prefix(
        &self,
        type_name: &str,
        prefix: &str,
    ) -> Result<Vec<Arc<Object>>, SorceryError> {
        self.retrieve_many(type_name, &Query::Prefix(prefix.to_owned()))
            .await
    }

    /// Every object of a type.
    pub async fn retrieve_all(&self, type_name: &str) -> Result<Vec<Arc<Object>>, SorceryError> {
        self.retrieve_many(type_name, &Query::All).await
    }

    /// Runs a write on every writable non-cache wizard; `Ok(true)` if one succeeded.
    async fn write<F, Fut>(&self, entry: &TypeEntry, op: F) -> Result<bool, SorceryError>
    where
        F: Fn(Arc<dyn Wizard>) -> Fut,
        Fut: std::future::Future<Output = Result<bool, SorceryError>>,
    {
        let mut ok = false;
        let mut error = None;
        let mut writable = false;
        for m in entry
            .mappings
            .iter()
            .filter(|m| !m.cache && !m.wizard.read_only())
        {
            writable = true;
            match op(Arc::clone(&m.wizard)).await {
                Ok(done) => ok |= done,
                Err(e) => error = Some(e),
            }
        }
        if !writable {
            return Err(SorceryError::NotWritable(entry.ty.name().to_owned()));
        }
        match (ok, error) {
            (false, Some(e)) => Err(e),
            (ok, _) => Ok(ok),
        }
    }

    fn check_type(entry: &TypeEntry, object: &Object) -> Result<(), SorceryError> {
        if object.type_name() == entry.ty.name() {
            Ok(())
        } else {
            Err(SorceryError::UnknownType(object.type_name().to_owned()))
        }
    }

    /// Stores a new object in every writable wizard, mirrors it into the
    /// caches and notifies observers.
    pub async fn create(&self, object: Object) -> Result<Arc<Object>, SorceryError> {
        let entry = Arc::clone(self.entry(object.type_name())?);
        Self::check_type(&entry, &object)?;
        let object = Arc::new(object);
        self.write(&entry, |w| {
            let o = Arc::clone(&object);
            async move { w.create(o).await.map(|()| true) }
        })
        .await?;
        for c in entry.mappings.iter().filter(|m| m.cache) {
            let _ = c.wizard.create(Arc::clone(&object)).await;
        }
        self.emit(entry.ty.name(), EventKind::Created(Arc::clone(&object)));
        Ok(object)
    }

    /// Replaces an object where it is stored and creates it where it is
    /// not, without reading it first (a registrar refreshing or adding a
    /// contact). Returns the object and whether it was new (no wizard had
    /// it): observers then see `Created`, otherwise `Updated`.
    pub async fn upsert(&self, object: Object) -> Result<(Arc<Object>, bool), SorceryError> {
        let entry = Arc::clone(self.entry(object.type_name())?);
        Self::check_type(&entry, &object)?;
        let object = Arc::new(object);
        let existed = std::sync::atomic::AtomicBool::new(false);
        self.write(&entry, |w| {
            let o = Arc::clone(&object);
            let existed = &existed;
            async move {
                if w.update(Arc::clone(&o)).await? {
                    existed.store(true, std::sync::atomic::Ordering::Relaxed);
                } else {
                    w.create(o).await?;
                }
                Ok(true)
            }
        })
        .await?;
        let created = !existed.load(std::sync::atomic::Ordering::Relaxed);
        for c in entry.mappings.iter().filter(|m| m.cache) {
            if !matches!(c.wizard.update(Arc::clone(&object)).await, Ok(true)) {
                let _ = c.wizard.create(Arc::clone(&object)).await;
            }
        }
        let kind = if created {
            EventKind::Created(Arc::clone(&object))
        } else {
            EventKind::Updated(Arc::clone(&object))
        };
        self.emit(entry.ty.name(), kind);
        Ok((object, created))
    }

    /// Replaces an object everywhere it is stored. With
    /// `update_or_create_on_update_miss=yes` a wizard that did not have it creates it.
    pub async fn update(&self, object: Object) -> Result<Arc<Object>, SorceryError> {
        let entry = Arc::clone(self.entry(object.type_name())?);
        Self::check_type(&entry, &object)?;
        let object = Arc::new(object);
        let or_create = self.update_or_create;
        let done = self
            .write(&entry, |w| {
                let o = Arc::clone(&object);
                async move {
                    let updated = w.update(Arc::clone(&o)).await?;
                    if !updated && or_create {
                        w.create(o).await?;
                        return Ok(true);
                    }
                    Ok(updated)
                }
            })
            .await?;
        if !done {
            return Err(SorceryError::NotFound {
                type_name: entry.ty.name().to_owned(),
                id: object.id().to_owned(),
            });
        }
        for c in entry.mappings.iter().filter(|m| m.cache) {
            let _ = c.wizard.update(Arc::clone(&object)).await;
        }
        self.emit(entry.ty.name(), EventKind::Updated(Arc::clone(&object)));
        Ok(object)
    }

    /// Deletes an object from every writable wizard and every cache.
    pub async fn delete(&self, type_name: &str, id: &str) -> Result<(), SorceryError> {
        let entry = Arc::clone(self.entry(type_name)?);
        let done = self
            .write(&entry, |w| {
                let id = id.to_owned();
                async move { w.delete(&id).await }
            })
            .await?;
        for c in entry.mappings.iter().filter(|m| m.cache) {
            let _ = c.wizard.delete(id).await;
        }
        if !done {
            return Err(SorceryError::NotFound {
                type_name: type_name.to_owned(),
                id: id.to_owned(),
            });
        }
        self.emit(entry.ty.name(), EventKind::Deleted(id.to_owned()));
        Ok(())
    }
}

/// The sorcery instance in force, swapped whole when the lead rebuilds it
/// (new `sorcery.conf` mappings); operations in flight finish on the one they
/// started with.
#[derive(Default)]
pub struct SorceryService {
    current: RwLock<Option<Arc<Sorcery>>>,
}

impl SorceryService {
    /// The instance in force (`None` before load).
    pub fn get(&self) -> Option<Arc<Sorcery>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts an instance in force.
    pub fn set(&self, sorcery: Arc<Sorcery>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(sorcery);
    }
}
