//! SorceryMemoryCacheExpire[Object], SorceryMemoryCacheStale[Object],
//! SorceryMemoryCachePopulate: the memory caches of sorcery.conf.

use std::sync::Arc;

use obelus_sorcery::{MemoryCache, SorceryService};

use super::Req;
use crate::session::Outbound;

fn cache(req: &Req) -> Result<Arc<MemoryCache>, Outbound> {
    let name = req.msg.value("Cache").trim();
    if name.is_empty() {
        return Err(req.error("SorceryMemoryCache requires that a cache name be provided."));
    }
    req.ami
        .core
        .service::<SorceryService>()
        .and_then(|s| s.get())
        .and_then(|s| s.memory_cache(name).cloned())
        .ok_or_else(|| req.error(&format!("The provided cache '{name}' could not be found")))
}

fn object(req: &Req) -> Result<String, Outbound> {
    let id = req.msg.value("Object").trim();
    if id.is_empty() {
        return Err(
            req.error("SorceryMemoryCacheExpireObject requires that an object name be provided.")
        );
    }
    Ok(id.to_owned())
}

/// `Action: SorceryMemoryCacheExpire`.
pub async fn expire(req: Req) -> Outbound {
    match cache(&req) {
        Ok(cache) => {
            cache.expire_all();
            Outbound::Text(
                req.success()
                    .header("Message", "All objects were expired from the cache")
                    .finish(),
            )
        }
        Err(e) => e,
    }
}

/// `Action: SorceryMemoryCacheExpireObject`.
pub async fn expire_object(req: Req) -> Outbound {
    let (cache, id) = match (cache(&req), object(&req)) {
        (Ok(c), Ok(id)) => (c, id),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if cache.expire(&id) {
        Outbound::Text(
            req.success()
                .header("Message", "The provided object was expired from the cache")
                .finish(),
        )
    } else {
        req.error("The provided object could not be expired from the cache")
    }
}

/// `Action: SorceryMemoryCacheStale`.
pub async fn stale(req: Req) -> Outbound {
    match cache(&req) {
        Ok(cache) => {
            cache.stale_all();
            Outbound::Text(
                req.success()
                    .header("Message", "All objects were marked as stale in the cache")
                    .finish(),
            )
        }
        Err(e) => e,
    }
}

/// `Action: SorceryMemoryCacheStaleObject`.
pub async fn stale_object(req: Req) -> Outbound {
    let (cache, id) = match (cache(&req), object(&req)) {
        (Ok(c), Ok(id)) => (c, id),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if cache.stale(&id) {
        Outbound::Text(
            req.success()
                .header(
                    "Message",
                    "The provided object was marked as stale in the cache",
                )
                .finish(),
        )
    } else {
        req.error("The provided object could not be marked as stale in the cache")
    }
}

/// `Action: SorceryMemoryCachePopulate`.
pub async fn populate(req: Req) -> Outbound {
    let cache = match cache(&req) {
        Ok(c) => c,
        Err(e) => return e,
    };
    match cache.populate().await {
        Ok(true) => Outbound::Text(
            req.success()
                .header("Message", "Cache has been expired and populated")
                .finish(),
        ),
        Ok(false) => req.error(
            "The provided cache does not have full_backend_cache enabled; it cannot be populated",
        ),
        Err(e) => req.error(&format!("Populating the cache failed: {e}")),
    }
}
