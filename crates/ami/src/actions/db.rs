//! DBGet, DBPut, DBDel, DBDelTree on the astdb.

use std::sync::Arc;

use obelus_sorcery::astdb::Astdb;

use super::Req;
use crate::message::ListEvent;
use crate::session::Outbound;

fn astdb(req: &Req) -> Result<Arc<Astdb>, Outbound> {
    req.ami
        .core
        .service::<Astdb>()
        .ok_or_else(|| req.error("The astdb is not available"))
}

fn family_key(req: &Req) -> Result<(String, String), Outbound> {
    let family = req.msg.value("Family").trim();
    let key = req.msg.value("Key").trim();
    if family.is_empty() {
        return Err(req.error("No family specified."));
    }
    if key.is_empty() {
        return Err(req.error("No key specified."));
    }
    Ok((family.to_owned(), key.to_owned()))
}

/// `Action: DBGet`: the value as a `DBGetResponse` list item.
pub async fn db_get(req: Req) -> Outbound {
    let (db, (family, key)) = match (astdb(&req), family_key(&req)) {
        (Ok(db), Ok(fk)) => (db, fk),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match db.get(&family, &key).await {
        Ok(Some(value)) => {
            let mut text = req
                .success()
                .header("EventList", "start")
                .header("Message", "Result will follow")
                .finish();
            text.push_str(
                &ListEvent::new("DBGetResponse", req.id())
                    .header("Family", &family)
                    .header("Key", &key)
                    .header("Val", &value)
                    .finish(),
            );
            text.push_str(
                &ListEvent::new("DBGetComplete", req.id())
                    .header("EventList", "Complete")
                    .header("ListItems", "1")
                    .finish(),
            );
            Outbound::Text(text)
        }
        Ok(None) => req.error("Database entry not found"),
        Err(e) => req.error(&e.to_string()),
    }
}

/// `Action: DBPut`.
pub async fn db_put(req: Req) -> Outbound {
    let (db, (family, key)) = match (astdb(&req), family_key(&req)) {
        (Ok(db), Ok(fk)) => (db, fk),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match db.put(&family, &key, req.msg.value("Val")).await {
        Ok(()) => Outbound::Text(
            req.success()
                .header("Message", "Updated database successfully")
                .finish(),
        ),
        Err(e) => req.error(&format!("Failed to update entry: {e}")),
    }
}

/// `Action: DBDel`.
pub async fn db_del(req: Req) -> Outbound {
    let (db, (family, key)) = match (astdb(&req), family_key(&req)) {
        (Ok(db), Ok(fk)) => (db, fk),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match db.del(&family, &key).await {
        Ok(true) => Outbound::Text(
            req.success()
                .header("Message", "Key deleted successfully")
                .finish(),
        ),
        Ok(false) => req.error("Database entry not found"),
        Err(e) => req.error(&e.to_string()),
    }
}

/// `Action: DBDelTree`.
pub async fn db_del_tree(req: Req) -> Outbound {
    let db = match astdb(&req) {
        Ok(db) => db,
        Err(e) => return e,
    };
    let family = req.msg.value("Family").trim().to_owned();
    if family.is_empty() {
        return req.error("No family specified.");
    }
    let key = req.msg.get("Key").map(str::trim).filter(|k| !k.is_empty());
    match db.deltree(&family, key).await {
        Ok(0) => req.error("Database entry not found"),
        Ok(_) => Outbound::Text(
            req.success()
                .header("Message", "Key tree deleted successfully")
                .finish(),
        ),
        Err(e) => req.error(&e.to_string()),
    }
}
