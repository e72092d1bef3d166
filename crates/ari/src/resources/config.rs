//! `/asterisk/config/dynamic/{configClass}/{objectType}/{id}`: sorcery
//! objects (`res_pjsip` `endpoint`, `aor`, `auth`, ...) read, created,
//! updated and deleted by applications, as Asterisk's dynamic configuration
//! does. Writes go to the type's writable wizards (realtime, astdb,
//! memory); a type only read from a `.conf` file refuses them with 403, as
//! in Asterisk.

use std::sync::Arc;

use axum::http::StatusCode;
use obelus_sorcery::{Sorcery, SorceryService, Unknown};
use serde::Serialize;
use serde_json::Value;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
use crate::state::Ari;

/// One option of an object, as ARI carries it.
#[derive(Debug, Serialize)]
struct ConfigTuple {
    attribute: String,
    value: String,
}

/// The sorcery instance and the checked type of a request.
fn resolve(ari: &Ari, p: &Params) -> Result<(Arc<Sorcery>, String), AriError> {
    let class = p.path("configClass");
    let type_name = p.path("objectType");
    let sorcery = ari
        .core
        .service::<SorceryService>()
        .and_then(|s| s.get())
        .ok_or_else(|| AriError::not_found(format!("configClass '{class}' not found")))?;
    let known_class = sorcery
        .type_names()
        .iter()
        .any(|t| sorcery.module_of(t) == Some(class));
    if !known_class {
        return Err(AriError::not_found(format!(
            "configClass '{class}' not found"
        )));
    }
    if sorcery.module_of(type_name) != Some(class) {
        return Err(AriError::not_found(format!(
            "objectType '{type_name}' not found"
        )));
    }
    Ok((sorcery, type_name.to_owned()))
}

fn tuples(fields: Vec<(String, String)>) -> Vec<ConfigTuple> {
    fields
        .into_iter()
        .map(|(attribute, value)| ConfigTuple { attribute, value })
        .collect()
}

/// The `fields` of the body: `{"fields": [{"attribute": .., "value": ..}]}`.
fn body_fields(p: &Params) -> Result<Vec<(String, String)>, AriError> {
    let Some(body) = p.body() else {
        return Ok(Vec::new());
    };
    let Some(list) = body.get("fields") else {
        return Ok(Vec::new());
    };
    let Value::Array(list) = list else {
        return Err(AriError::bad_request(
            "Bad request body: fields must be a list",
        ));
    };
    list.iter()
        .map(|tuple| {
            let text = |key: &str| tuple.get(key).and_then(Value::as_str).map(str::to_owned);
            match (text("attribute"), text("value")) {
                (Some(attribute), Some(value)) => Ok((attribute, value)),
                _ => Err(AriError::bad_request(
                    "Bad request body: each field needs a string attribute and value",
                )),
            }
        })
        .collect()
}

/// `GET`: every option of the object (defaults included).
pub(super) async fn get_object(ari: &Ari, p: &Params) -> AriResult {
    let (sorcery, type_name) = resolve(ari, p)?;
    let id = p.path("id");
    let object = sorcery
        .retrieve_by_id(&type_name, id)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?
        .ok_or_else(|| AriError::not_found(format!("Object with id '{id}' not found")))?;
    ok(ari, &tuples(object.to_fields()))
}

/// `PUT`: applies the fields to the object, creating it if it does not
/// exist; answers with the object as stored.
pub(super) async fn update_object(ari: &Ari, p: &Params) -> AriResult {
    let (sorcery, type_name) = resolve(ari, p)?;
    let id = p.path("id");
    let fields = body_fields(p)?;
    let existing = sorcery
        .retrieve_by_id(&type_name, id)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?;
    let mut object = match &existing {
        Some(found) => (**found).clone(),
        None => sorcery
            .alloc(&type_name, id)
            .map_err(|e| AriError::internal(e.to_string()))?,
    };
    for (attribute, value) in &fields {
        object
            .apply(attribute, value, Unknown::Reject)
            .map_err(|f| {
                AriError::bad_request(format!(
                    "Bad request body: {type_name} '{id}': option '{}': {}",
                    f.field, f.reason
                ))
            })?;
    }
    let stored = if existing.is_some() {
        sorcery.update(object).await
    } else {
        sorcery.create(object).await
    }
    .map_err(|e| {
        AriError::new(
            StatusCode::FORBIDDEN,
            format!("Could not create or update {type_name} '{id}': {e}"),
        )
    })?;
    ok(ari, &tuples(stored.to_fields()))
}

/// `DELETE`: removes the object from the writable wizards.
pub(super) async fn delete_object(ari: &Ari, p: &Params) -> AriResult {
    let (sorcery, type_name) = resolve(ari, p)?;
    let id = p.path("id");
    if sorcery
        .retrieve_by_id(&type_name, id)
        .await
        .map_err(|e| AriError::internal(e.to_string()))?
        .is_none()
    {
        return Err(AriError::not_found(format!(
            "Object with id '{id}' not found"
        )));
    }
    sorcery.delete(&type_name, id).await.map_err(|e| {
        AriError::new(
            StatusCode::FORBIDDEN,
            format!("Could not delete {type_name} '{id}': {e}"),
        )
    })?;
    Ok(Reply::NoContent)
}
