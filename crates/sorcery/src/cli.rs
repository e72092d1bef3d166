//! Console commands of `res_sorcery_memory_cache`, with Asterisk's wording.

use std::fmt::Write as _;
use std::sync::Arc;

use obelus_core::cli::{CliArgs, CliCommand, CliError, CliResult};

use crate::sorcery::{Sorcery, SorceryService};
use crate::wizard::memory_cache::MemoryCache;

const RULE: &str = "-------------------------------------------------------------";

fn current(service: &SorceryService) -> Result<Arc<Sorcery>, CliError> {
    service
        .get()
        .ok_or_else(|| CliError::Failed("sorcery is not loaded".into()))
}

fn cache(sorcery: &Sorcery, name: &str) -> Result<Arc<MemoryCache>, CliError> {
    sorcery.memory_cache(name).cloned().ok_or_else(|| {
        CliError::Failed(format!(
            "Specified sorcery memory cache '{name}' does not exist\n"
        ))
    })
}

/// `sorcery memory cache show <name>`.
pub fn show(cache: &MemoryCache) -> String {
    let o = cache.options();
    let mut out = String::new();
    let _ = writeln!(out, "Sorcery memory cache: {}", cache.name());
    let _ = writeln!(out, "Number of objects within the cache: {}", cache.len());
    if o.maximum_objects > 0 {
        let _ = writeln!(out, "The maximum number of objects: {}", o.maximum_objects);
    } else {
        let _ = writeln!(
            out,
            "There is no limit on the maximum number of objects in the cache"
        );
    }
    if o.object_lifetime_maximum > 0 {
        let _ = writeln!(
            out,
            "Number of seconds before object expires: {}",
            o.object_lifetime_maximum
        );
    } else {
        let _ = writeln!(out, "Object will never expire");
    }
    if o.object_lifetime_stale > 0 {
        let _ = writeln!(
            out,
            "Number of seconds before object becomes stale: {}",
            o.object_lifetime_stale
        );
    } else {
        let _ = writeln!(out, "Object will never become stale");
    }
    let _ = writeln!(
        out,
        "Expire all objects on reload: {}",
        if o.expire_on_reload { "On" } else { "Off" }
    );
    out
}

/// `sorcery memory cache dump <name>`.
pub fn dump(cache: &MemoryCache) -> String {
    let objects = cache.dump();
    let mut out = String::new();
    let _ = writeln!(out, "Sorcery memory cache: {}", cache.name());
    let _ = writeln!(
        out,
        "{:<25.25} {:<15.15} {:<15.15} ",
        "Object Name", "Stale In", "Expires In"
    );
    let _ = writeln!(out, "{RULE}");
    for o in &objects {
        let _ = writeln!(
            out,
            "{:<25.25} {:<15} {:<15} ",
            o.id, o.stale_in, o.expires_in
        );
    }
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(out, "Total number of objects: {}", objects.len());
    out
}

fn one_name(args: &CliArgs) -> Result<&str, CliError> {
    match args.args.as_slice() {
        [name] => Ok(name),
        _ => Err(CliError::ShowUsage),
    }
}

fn name_and_object(args: &CliArgs) -> Result<(&str, Option<&str>), CliError> {
    match args.args.as_slice() {
        [name] => Ok((name, None)),
        [name, object] => Ok((name, Some(object))),
        _ => Err(CliError::ShowUsage),
    }
}

fn names(service: &SorceryService) -> Vec<String> {
    service
        .get()
        .map(|s| s.memory_caches().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default()
}

fn completer(
    service: &Arc<SorceryService>,
) -> impl Fn(&[String]) -> Vec<String> + Send + Sync + 'static {
    let service = Arc::clone(service);
    move |args: &[String]| {
        if args.len() > 1 {
            return Vec::new();
        }
        let typed = args.first().map_or("", String::as_str);
        names(&service)
            .into_iter()
            .filter(|n| n.starts_with(typed))
            .collect()
    }
}

async fn run_show(service: Arc<SorceryService>, args: CliArgs) -> CliResult {
    let sorcery = current(&service)?;
    let c = cache(&sorcery, one_name(&args)?)?;
    Ok(show(&c))
}

async fn run_dump(service: Arc<SorceryService>, args: CliArgs) -> CliResult {
    let sorcery = current(&service)?;
    let c = cache(&sorcery, one_name(&args)?)?;
    Ok(dump(&c))
}

async fn run_expire(service: Arc<SorceryService>, args: CliArgs) -> CliResult {
    let sorcery = current(&service)?;
    let (name, object) = name_and_object(&args)?;
    let c = cache(&sorcery, name)?;
    Ok(match object {
        None => {
            c.expire_all();
            format!("All objects have been removed from cache '{name}'\n")
        }
        Some(_) if c.options().full_backend_cache => {
            format!(
                "Due to full backend caching per-object expiration is not available on cache '{name}'\n"
            )
        }
        Some(id) if c.expire(id) => {
            format!("Successfully expired object '{id}' from cache '{name}'\n")
        }
        Some(id) => {
            format!("Object '{id}' was not expired from cache '{name}' as it was not found\n")
        }
    })
}

async fn run_stale(service: Arc<SorceryService>, args: CliArgs) -> CliResult {
    let sorcery = current(&service)?;
    let (name, object) = name_and_object(&args)?;
    let c = cache(&sorcery, name)?;
    if c.options().object_lifetime_stale == 0 {
        return Ok(format!(
            "Specified sorcery memory cache '{name}' does not have staleness enabled\n"
        ));
    }
    Ok(match object {
        None => {
            c.stale_all();
            format!("Marked all objects in sorcery memory cache '{name}' as stale\n")
        }
        Some(id) if c.stale(id) => {
            format!("Successfully marked object '{id}' in memory cache '{name}' as stale\n")
        }
        Some(id) => {
            format!(
                "Object '{id}' in sorcery memory cache '{name}' could not be marked as stale as it was not found\n"
            )
        }
    })
}

async fn run_populate(service: Arc<SorceryService>, args: CliArgs) -> CliResult {
    let sorcery = current(&service)?;
    let name = one_name(&args)?;
    let c = cache(&sorcery, name)?;
    match c.populate().await {
        Ok(true) => Ok(format!(
            "Specified sorcery memory cache '{name}' has been populated.\n"
        )),
        Ok(false) => Ok(format!(
            "Specified sorcery memory cache '{name}' does not have full backend caching enabled\n"
        )),
        Err(e) => Err(CliError::Failed(format!(
            "Populating sorcery memory cache '{name}' failed: {e}\n"
        ))),
    }
}

/// The `sorcery memory cache ...` commands, for the daemon to register.
pub fn cli_commands(service: Arc<SorceryService>) -> Vec<CliCommand> {
    let s = &service;
    // Each command owns its own handle on the service.
    let show_cmd = {
        let svc = Arc::clone(s);
        CliCommand::new(
            "sorcery memory cache show",
            "Show sorcery memory cache information",
            "Usage: sorcery memory cache show <name>\n       Show sorcery memory cache configuration and statistics.\n",
            move |args| run_show(Arc::clone(&svc), args),
        )
    };
    let dump_cmd = {
        let svc = Arc::clone(s);
        CliCommand::new(
            "sorcery memory cache dump",
            "Dump all objects within a sorcery memory cache",
            "Usage: sorcery memory cache dump <name>\n       Dump a list of the objects within the cache, listed by object identifier.\n",
            move |args| run_dump(Arc::clone(&svc), args),
        )
    };
    let expire_cmd = {
        let svc = Arc::clone(s);
        CliCommand::new(
            "sorcery memory cache expire",
            "Expire a specific object or ALL objects within a sorcery memory cache",
            "Usage: sorcery memory cache expire <cache name> [object name]\n       Expire a specific object or ALL objects within a sorcery memory cache.\n",
            move |args| run_expire(Arc::clone(&svc), args),
        )
    };
    let stale_cmd = {
        let svc = Arc::clone(s);
        CliCommand::new(
            "sorcery memory cache stale",
            "Mark a specific object or ALL objects as stale within a sorcery memory cache",
            "Usage: sorcery memory cache stale <cache name> [object name [reload]]\n       Mark a specific object or ALL objects as stale in a sorcery memory cache.\n",
            move |args| run_stale(Arc::clone(&svc), args),
        )
    };
    let populate_cmd = {
        let svc = Arc::clone(s);
        CliCommand::new(
            "sorcery memory cache populate",
            "Clear and populate the sorcery memory cache with objects from the backend",
            "Usage: sorcery memory cache populate <cache name>\n       Expire all objects in the cache and populate it with ALL objects from backend.\n",
            move |args| run_populate(Arc::clone(&svc), args),
        )
    };
    vec![
        show_cmd.with_completer(completer(s)),
        dump_cmd.with_completer(completer(s)),
        expire_cmd.with_completer(completer(s)),
        stale_cmd.with_completer(completer(s)),
        populate_cmd.with_completer(completer(s)),
    ]
}
