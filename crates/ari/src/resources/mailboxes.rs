//! `/mailboxes`: mailboxes whose message counts an application keeps (the
//! "external MWI" of Asterisk's res_mwi_external, used when voicemail lives
//! outside the PBX). They are kept in AstDB as Asterisk keeps them (family
//! `mwi_external/mailboxes`, a `msgs_new`/`msgs_old` object per mailbox),
//! so they survive a restart and an existing astdb carries over.

use std::sync::Arc;

use obelus_sorcery::astdb::Astdb;
use serde::Serialize;
use serde_json::Value;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
use crate::state::Ari;

/// The AstDB family of res_mwi_external's sorcery objects.
const FAMILY: &str = "mwi_external/mailboxes";

/// A mailbox's state, as ARI's `Mailbox` model carries it.
#[derive(Debug, Serialize)]
struct Mailbox {
    name: String,
    old_messages: i64,
    new_messages: i64,
}

fn astdb(ari: &Ari) -> Result<Arc<Astdb>, AriError> {
    ari.core
        .service::<Astdb>()
        .ok_or_else(|| AriError::internal("AstDB (the astdb module) is not loaded"))
}

/// The stored object: `{"msgs_new":"3","msgs_old":"1"}` (numbers as text,
/// as sorcery's astdb wizard writes them; bare numbers are read too).
fn parse(name: &str, stored: &str) -> Mailbox {
    let object: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    let count = |key: &str| match object.get(key) {
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    Mailbox {
        name: name.to_owned(),
        old_messages: count("msgs_old"),
        new_messages: count("msgs_new"),
    }
}

/// `GET /mailboxes`.
pub(super) async fn list(ari: &Ari) -> AriResult {
    let prefix = format!("/{FAMILY}/");
    let entries = astdb(ari)?
        .list(FAMILY)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?;
    let mailboxes: Vec<Mailbox> = entries
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix(&prefix).filter(|n| !n.contains('/'))?;
            Some(parse(name, value))
        })
        .collect();
    ok(ari, &mailboxes)
}

/// `GET /mailboxes/{mailboxName}`.
pub(super) async fn get(ari: &Ari, p: &Params) -> AriResult {
    let name = p.path("mailboxName");
    let stored = astdb(ari)?
        .get(FAMILY, name)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?
        .ok_or_else(|| AriError::not_found("Mailbox not found"))?;
    ok(ari, &parse(name, &stored))
}

/// `PUT /mailboxes/{mailboxName}?oldMessages=1&newMessages=3`: sets the
/// counts, creating the mailbox.
pub(super) async fn update(ari: &Ari, p: &Params) -> AriResult {
    let name = p.path("mailboxName");
    let count = |key: &str| {
        p.int(key)
            .filter(|n| *n >= 0)
            .ok_or_else(|| AriError::bad_request(format!("{key} must be a count of messages")))
    };
    let (old, new) = (count("oldMessages")?, count("newMessages")?);
    let stored = serde_json::json!({
        "msgs_new": new.to_string(),
        "msgs_old": old.to_string(),
    });
    astdb(ari)?
        .put(FAMILY, name, &stored.to_string())
        .await
        .map_err(|e| AriError::internal(format!("Could not update the mailbox: {e}")))?;
    Ok(Reply::NoContent)
}

/// `DELETE /mailboxes/{mailboxName}`.
pub(super) async fn delete(ari: &Ari, p: &Params) -> AriResult {
    let name = p.path("mailboxName");
    let removed = astdb(ari)?
        .del(FAMILY, name)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?;
    if removed {
        Ok(Reply::NoContent)
    } else {
        Err(AriError::not_found("Mailbox not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_what_sorcery_astdb_writes_and_bare_numbers() {
        let m = parse("1000@default", r#"{"msgs_new":"3","msgs_old":"1"}"#);
        assert_eq!((m.new_messages, m.old_messages), (3, 1));
        let m = parse("x", r#"{"msgs_new":2}"#);
        assert_eq!((m.new_messages, m.old_messages), (2, 0));
        let m = parse("x", "not json");
        assert_eq!((m.new_messages, m.old_messages), (0, 0));
    }
}
