//! The config, memory, memory_cache and astdb wizards, several wizards per
//! type, observers and the console commands, without a database server.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::Fixture;
use obelus_core::cli::CliRegistry;
use obelus_realtime::RealtimeService;
use obelus_sorcery::clock::ManualClock;
use obelus_sorcery::wizard::memory_cache::CacheOptions;
use obelus_sorcery::{
    EventKind, MemoryCache, Object, Query, Sorcery, SorceryError, SorceryService, Wizard,
};

const PJSIP: &str = "\
[transport-udp]
type=transport
protocol=udp
bind=0.0.0.0

[endpoint-basic](!)
type=endpoint
context=testing
disallow=all
allow=ulaw

[101](endpoint-basic)
auth=101
aors=101
allow=g722

[102](endpoint-basic)
aors=102
direct_media=no

[101]
type=aor
max_contacts=1

[101]
type=auth
auth_type=userpass
username=101
password=101
";

async fn sorcery(fx: &Fixture) -> (Arc<Sorcery>, Vec<obelus_core::diagnostic::Diagnostic>) {
    fx.sorcery(Arc::new(RealtimeService::default())).await
}

/// Asterisk's default: res_pjsip types come from pjsip.conf by `type=`;
/// templates are resolved; the same section name serves several types.
#[tokio::test]
async fn config_wizard_with_templates_criteria_and_reload() {
    let fx = Fixture::plain();
    fx.write("pjsip.conf", PJSIP);
    let (s, problems) = sorcery(&fx).await;
    assert!(problems.is_empty(), "{problems:?}");
    let e = s.retrieve_by_id("endpoint", "101").await.unwrap().unwrap();
    assert_eq!(e.str("context"), Some("testing"), "from the template");
    assert_eq!(
        e.list("allow"),
        ["ulaw", "g722"],
        "template's allow, then the section's"
    );
    assert_eq!(e.list("aors"), ["101"]);
    let e102 = s.retrieve_by_id("endpoint", "102").await.unwrap().unwrap();
    assert_eq!(e102.bool("direct_media"), Some(false));
    assert!(
        s.retrieve_by_id("endpoint", "endpoint-basic")
            .await
            .unwrap()
            .is_none(),
        "templates are not objects"
    );
    assert_eq!(
        s.retrieve_by_id("aor", "101")
            .await
            .unwrap()
            .unwrap()
            .uint("max_contacts"),
        Some(1)
    );
    assert_eq!(
        s.retrieve_by_id("auth", "101")
            .await
            .unwrap()
            .unwrap()
            .str("username"),
        Some("101")
    );
    assert_eq!(
        s.retrieve_by_id("transport", "transport-udp")
            .await
            .unwrap()
            .unwrap()
            .str("bind"),
        Some("0.0.0.0")
    );
    let all = s.retrieve_all("endpoint").await.unwrap();
    assert_eq!(
        all.iter().map(|o| o.id()).collect::<Vec<_>>(),
        ["101", "102"],
        "file order"
    );
    assert!(matches!(
        s.create(s.alloc("endpoint", "x").unwrap()).await,
        Err(SorceryError::NotWritable(_))
    ));

    // Reload re-reads the changed file; observers hear "loaded".
    let mut events = s.subscribe();
    fx.write(
        "pjsip.conf",
        &format!("{PJSIP}\n[103](endpoint-basic)\ncontext=later\n"),
    );
    let problems = s.reload().await;
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        s.retrieve_by_id("endpoint", "103")
            .await
            .unwrap()
            .unwrap()
            .str("context"),
        Some("later")
    );
    let loaded: Vec<&str> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| matches!(e.kind, EventKind::Loaded))
        .map(|e| e.type_name)
        .collect();
    assert!(
        loaded.contains(&"endpoint") && loaded.contains(&"aor"),
        "{loaded:?}"
    );
}

/// integrity=object (the default): a bad section is dropped and reported
/// with file:line; the others load. integrity=file: nothing changes.
#[tokio::test]
async fn bad_values_in_files_name_file_and_line() {
    let fx = Fixture::plain();
    fx.write("pjsip.conf", "[good]\ntype=endpoint\n\n[bad]\ntype=endpoint\ndirect_media=maybe\n\n[worse]\ntype=endpoint\nfrobnicate=1\n");
    let (s, problems) = sorcery(&fx).await;
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].starts_with("pjsip.conf:6: option 'direct_media': endpoint 'bad'"),
        "{text:?}"
    );
    assert!(
        text[1].starts_with("pjsip.conf:10: option 'frobnicate': endpoint 'worse'"),
        "{text:?}"
    );
    let ids: Vec<String> = s
        .retrieve_all("endpoint")
        .await
        .unwrap()
        .iter()
        .map(|o| o.id().to_owned())
        .collect();
    assert_eq!(ids, ["good"]);
    let recorded = s.problems();
    assert_eq!(
        recorded[0].to_string(),
        "pjsip.conf:6: endpoint 'bad' option 'direct_media': 'maybe' is not a boolean (expected yes or no)"
    );

    fx.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint=config,pjsip.conf,criteria=type=endpoint,integrity=file\n",
    );
    let (s, problems) = sorcery(&fx).await;
    assert_eq!(problems.len(), 2);
    assert!(
        s.retrieve_all("endpoint").await.unwrap().is_empty(),
        "integrity=file rejects the whole file"
    );
}

/// Wizards in file order: single retrieval = first hit; multiple = union of
/// the non-cache wizards, duplicates by id removed, the first wizard's copy winning.
#[tokio::test]
async fn several_wizards_in_order_and_union() {
    let fx = Fixture::plain();
    fx.write("pjsip.conf", PJSIP);
    fx.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint=memory\nendpoint=config,pjsip.conf,criteria=type=endpoint\n",
    );
    let (s, problems) = sorcery(&fx).await;
    assert!(problems.is_empty(), "{problems:?}");
    let mut events = s.subscribe();
    let mut mine = s.alloc("endpoint", "101").unwrap();
    mine.set("context", "from-memory").unwrap();
    s.create(mine).await.unwrap();
    let mut other = s.alloc("endpoint", "900").unwrap();
    other.set("context", "only-memory").unwrap();
    s.create(other).await.unwrap();
    assert_eq!(
        s.retrieve_by_id("endpoint", "101")
            .await
            .unwrap()
            .unwrap()
            .str("context"),
        Some("from-memory")
    );
    assert_eq!(
        s.retrieve_by_id("endpoint", "102")
            .await
            .unwrap()
            .unwrap()
            .str("context"),
        Some("testing")
    );
    let all = s.retrieve_all("endpoint").await.unwrap();
    let pairs: Vec<(&str, Option<&str>)> = all.iter().map(|o| (o.id(), o.str("context"))).collect();
    assert_eq!(
        pairs,
        [
            ("101", Some("from-memory")),
            ("900", Some("only-memory")),
            ("102", Some("testing"))
        ],
        "union, first wizard's copy of 101"
    );
    // Writes skip the read-only config wizard.
    s.delete("endpoint", "101").await.unwrap();
    assert_eq!(
        s.retrieve_by_id("endpoint", "101")
            .await
            .unwrap()
            .unwrap()
            .str("context"),
        Some("testing")
    );
    assert!(matches!(
        s.delete("endpoint", "nope").await,
        Err(SorceryError::NotFound { .. })
    ));
    let kinds: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| match e.kind {
            EventKind::Created(o) => format!("created {}", o.id()),
            EventKind::Deleted(id) => format!("deleted {id}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["created 101", "created 900", "deleted 101"]);
}

/// memory_cache: hits are mirrored into the cache, stale objects are served
/// and refreshed in the background, old ones expire. Time is driven by hand.
#[tokio::test]
async fn memory_cache_staleness_and_expiry_with_a_manual_clock() {
    let fx = Fixture::plain();
    fx.write("pjsip.conf", PJSIP);
    fx.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint/cache=memory_cache,object_lifetime_stale=10,object_lifetime_maximum=100,expire_on_reload=yes\nendpoint=config,pjsip.conf,criteria=type=endpoint\n",
    );
    let clock = Arc::new(ManualClock::new());
    let s = Sorcery::builder(&fx.settings, Arc::new(RealtimeService::default()))
        .register_all(obelus_pjsip::objects::registrations().unwrap())
        .clock(clock.clone())
        .build()
        .await
        .0;
    let cache = s
        .memory_cache("res_pjsip/endpoint")
        .expect("default cache name")
        .clone();
    assert!(cache.is_empty());
    let first = s.retrieve_by_id("endpoint", "101").await.unwrap().unwrap();
    assert_eq!(cache.len(), 1, "a backend hit is put into the cache");
    assert!(
        Arc::ptr_eq(
            &first,
            &s.retrieve_by_id("endpoint", "101").await.unwrap().unwrap()
        ),
        "served from cache"
    );
    // Without full_backend_cache the cache answers only by id.
    assert_eq!(s.retrieve_all("endpoint").await.unwrap().len(), 2);

    // The backend changes; a fresh (not stale) object is still the cached one.
    fx.write("pjsip.conf", &PJSIP.replace("aors=101", "aors=101,extra"));
    // A reload with expire_on_reload empties the cache and re-reads the file.
    s.reload().await;
    assert!(cache.is_empty());
    let e = s.retrieve_by_id("endpoint", "101").await.unwrap().unwrap();
    assert_eq!(e.list("aors"), ["101", "extra"]);

    // Stale: still served, refreshed in the background.
    fx.write("pjsip.conf", &PJSIP.replace("aors=101", "aors=fresh"));
    assert!(s.reload().await.is_empty());
    s.retrieve_by_id("endpoint", "101").await.unwrap();
    clock.advance(Duration::from_secs(11));
    let stale = s.retrieve_by_id("endpoint", "101").await.unwrap().unwrap();
    assert_eq!(stale.list("aors"), ["fresh"]);
    cache.wait_refreshes().await;
    let dump = cache.dump();
    assert_eq!(dump.len(), 1);
    assert_eq!(
        (dump[0].stale_in, dump[0].expires_in),
        (10, 100),
        "refreshed: lifetimes restart"
    );

    // Expiry.
    clock.advance(Duration::from_secs(100));
    assert!(cache.is_empty());

    // The console.
    let service = Arc::new(SorceryService::default());
    service.set(s.clone());
    let registry = CliRegistry::new();
    for command in obelus_sorcery::cli_commands(service) {
        registry.register(command).unwrap();
    }
    let run = |line: &'static str| registry.execute(line);
    s.retrieve_by_id("endpoint", "101").await.unwrap();
    let show = run("sorcery memory cache show res_pjsip/endpoint").await;
    assert_eq!(
        show,
        "Sorcery memory cache: res_pjsip/endpoint\nNumber of objects within the cache: 1\nThere is no limit on the maximum number of objects in the cache\nNumber of seconds before object expires: 100\nNumber of seconds before object becomes stale: 10\nExpire all objects on reload: On\n"
    );
    let dump = run("sorcery memory cache dump res_pjsip/endpoint").await;
    assert!(
        dump.contains("\n101                       10              100             \n"),
        "{dump}"
    );
    assert!(dump.ends_with("Total number of objects: 1\n"), "{dump}");
    assert_eq!(
        run("sorcery memory cache stale res_pjsip/endpoint 101").await,
        "Successfully marked object '101' in memory cache 'res_pjsip/endpoint' as stale\n"
    );
    assert_eq!(
        run("sorcery memory cache expire res_pjsip/endpoint 101").await,
        "Successfully expired object '101' from cache 'res_pjsip/endpoint'\n"
    );
    assert_eq!(
        run("sorcery memory cache expire res_pjsip/endpoint").await,
        "All objects have been removed from cache 'res_pjsip/endpoint'\n"
    );
    assert!(
        run("sorcery memory cache populate res_pjsip/endpoint")
            .await
            .contains("does not have full backend caching")
    );
    assert_eq!(
        run("sorcery memory cache show nope").await,
        "Specified sorcery memory cache 'nope' does not exist\n"
    );
}

/// A backend that can be made to fail.
struct Flaky {
    object: Arc<Object>,
    failing: AtomicBool,
    gone: AtomicBool,
}

#[async_trait]
impl Wizard for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SorceryError::Astdb("database down".into()));
        }
        if self.gone.load(Ordering::SeqCst) || !query.matches(&self.object) {
            return Ok(Vec::new());
        }
        Ok(vec![self.object.clone()])
    }
    async fn create(&self, _: Arc<Object>) -> Result<(), SorceryError> {
        Ok(())
    }
    async fn update(&self, _: Arc<Object>) -> Result<bool, SorceryError> {
        Ok(true)
    }
    async fn delete(&self, _: &str) -> Result<bool, SorceryError> {
        Ok(true)
    }
}

/// Unlike Asterisk, a backend *error* during a stale refresh keeps the object;
/// only a backend saying "no such object" removes it.
#[tokio::test]
async fn stale_refresh_error_does_not_evict() {
    let ty = Arc::new(obelus_pjsip::objects::endpoint::object_type().unwrap());
    let backend = Arc::new(Flaky {
        object: Arc::new(ty.new_object("101")),
        failing: AtomicBool::new(false),
        gone: AtomicBool::new(false),
    });
    let clock = Arc::new(ManualClock::new());
    let opts = CacheOptions::parse("object_lifetime_stale=5,maximum_objects=2").unwrap();
    let cache = MemoryCache::new("c".into(), opts, clock.clone());
    cache.set_backends(vec![backend.clone() as Arc<dyn Wizard>]);
    cache.put(backend.object.clone());
    clock.advance(Duration::from_secs(6));
    backend.failing.store(true, Ordering::SeqCst);
    assert_eq!(
        cache
            .retrieve(&Query::Id("101".into()))
            .await
            .unwrap()
            .len(),
        1
    );
    cache.wait_refreshes().await;
    assert_eq!(cache.len(), 1, "a failed refresh keeps the cached object");
    backend.failing.store(false, Ordering::SeqCst);
    backend.gone.store(true, Ordering::SeqCst);
    assert_eq!(
        cache
            .retrieve(&Query::Id("101".into()))
            .await
            .unwrap()
            .len(),
        1,
        "stale is still served"
    );
    cache.wait_refreshes().await;
    assert!(
        cache.is_empty(),
        "gone from the backend: gone from the cache"
    );

    // maximum_objects: the oldest is evicted.
    for id in ["a", "b", "c"] {
        cache.put(Arc::new(ty.new_object(id)));
        clock.advance(Duration::from_secs(1));
    }
    let ids: Vec<String> = cache.dump().into_iter().map(|o| o.id).collect();
    assert_eq!(ids, ["b", "c"]);
}

/// full_backend_cache: the whole set is loaded and every query is answered from memory.
#[tokio::test]
async fn full_backend_cache_answers_everything() {
    let fx = Fixture::plain();
    fx.write("pjsip.conf", PJSIP);
    fx.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint/cache=memory_cache,full_backend_cache=yes,name=eps\nendpoint=config,pjsip.conf,criteria=type=endpoint\n",
    );
    let (s, problems) = sorcery(&fx).await;
    assert!(problems.is_empty(), "{problems:?}");
    let cache = s.memory_cache("eps").unwrap().clone();
    let all = s.retrieve_all("endpoint").await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(cache.len(), 2, "populated on first use");
    let prefix = s.retrieve_by_prefix("endpoint", "10").await.unwrap();
    assert_eq!(prefix.len(), 2);
    let fields = s
        .retrieve_by_fields(
            "endpoint",
            &[obelus_realtime::Criterion::eq("direct_media", "no").unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(fields.iter().map(|o| o.id()).collect::<Vec<_>>(), ["102"]);
    assert!(cache.populate().await.unwrap());
}

/// Contacts default to astdb,registrar: JSON at /registrar/contact/<id>.
#[tokio::test]
async fn contacts_live_in_astdb_by_default() {
    let fx = Fixture::plain();
    let (s, problems) = sorcery(&fx).await;
    assert!(problems.is_empty(), "{problems:?}");
    let id = "101;@5f1a2b";
    let mut c = s.alloc("contact", id).unwrap();
    c.set("uri", "sip:101@127.0.0.1:5062").unwrap();
    c.set("expiration_time", "1900000000").unwrap();
    c.set("endpoint", "101").unwrap();
    s.create(c).await.unwrap();
    let db = obelus_sorcery::astdb::Astdb::open(&fx.settings.dirs.db).unwrap();
    let json = db
        .get("registrar/contact", id)
        .await
        .unwrap()
        .expect("stored in astdb");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["uri"], "sip:101@127.0.0.1:5062");
    let found = s.retrieve_by_prefix("contact", "101;@").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uint("expiration_time"), Some(1_900_000_000));
    assert_eq!(found[0].float("qualify_timeout"), Some(3.0));
    let mut changed = (*found[0]).clone();
    changed.set("user_agent", "baresip").unwrap();
    s.update(changed).await.unwrap();
    assert_eq!(
        s.retrieve_by_id("contact", id)
            .await
            .unwrap()
            .unwrap()
            .str("user_agent"),
        Some("baresip")
    );
    s.delete("contact", id).await.unwrap();
    assert!(s.retrieve_all("contact").await.unwrap().is_empty());
}

/// `upsert` creates a missing object and replaces a stored one, telling
/// which, and observers see `Created` then `Updated`.
#[tokio::test]
async fn upsert_creates_then_updates() {
    let fx = Fixture::plain();
    let (s, problems) = sorcery(&fx).await;
    assert!(problems.is_empty(), "{problems:?}");
    let mut events = s.subscribe();
    let id = "101;@77aa";
    let mut c = s.alloc("contact", id).unwrap();
    c.set("uri", "sip:101@127.0.0.1:5062").unwrap();
    let (_, created) = s.upsert(c.clone()).await.unwrap();
    assert!(created);
    c.set("user_agent", "baresip").unwrap();
    let (_, created) = s.upsert(c).await.unwrap();
    assert!(!created);
    let stored = s.retrieve_by_id("contact", id).await.unwrap().unwrap();
    assert_eq!(stored.str("user_agent"), Some("baresip"));
    let kinds: Vec<&str> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| match e.kind {
            EventKind::Created(_) => "created",
            EventKind::Updated(_) => "updated",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["created", "updated"]);
}

/// `[general] update_or_create_on_update_miss=yes`: an update of a missing
/// object creates it; without it the update fails with "not found".
#[tokio::test]
async fn update_miss_creates_only_when_asked() {
    let fx = Fixture::plain();
    fx.write("sorcery.conf", "[res_pjsip]\nendpoint=memory\n");
    let (s, _) = sorcery(&fx).await;
    let e = s.alloc("endpoint", "7").unwrap();
    assert!(matches!(
        s.update(e.clone()).await,
        Err(SorceryError::NotFound { .. })
    ));
    fx.write(
        "sorcery.conf",
        "[general]\nupdate_or_create_on_update_miss=yes\n[res_pjsip]\nendpoint=memory\n",
    );
    let (s, problems) = sorcery(&fx).await;
    assert!(problems.is_empty(), "{problems:?}");
    s.update(e).await.unwrap();
    assert!(s.retrieve_by_id("endpoint", "7").await.unwrap().is_some());
}
