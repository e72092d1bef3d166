//! Endpoint identification (res_pjsip_endpoint_identifier_ip, _user,
//! _anonymous): which endpoint a request comes from, in the order `[global]`
//! `endpoint_identifier_order` gives; for REGISTER, the AOR is the To URI
//! user.

use std::net::IpAddr;
use std::sync::Arc;

use obelus_sip::Request;
use obelus_sorcery::{Object, Sorcery};

/// The user part of the From URI (`101` in `<sip:101@host>`).
pub fn from_user(req: &Request) -> Option<String> {
    let from = req.headers().from().ok()?;
    from.uri()
        .user()
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

/// The user part of the To URI: the AOR a REGISTER is for.
pub fn to_user(req: &Request) -> Option<String> {
    let to = req.headers().to().ok()?;
    to.uri().user().filter(|u| !u.is_empty()).map(str::to_owned)
}

/// The endpoint the request comes from, by the identifiers of `[global]`
/// `endpoint_identifier_order` (default `ip,username,anonymous`): `ip`
/// (a `type=identify` whose `match` covers the source address, or whose
/// `match_header` the request carries), `username` (the From user),
/// `auth_username` (the digest username of an auth the endpoint uses),
/// `anonymous` (the endpoint named `anonymous`). `None` when none matches
/// (the request is then challenged like any other, so unknown names cannot
/// be told from wrong passwords).
pub async fn endpoint(sorcery: &Sorcery, req: &Request, source: IpAddr) -> Option<Arc<Object>> {
    let order = sorcery
        .retrieve_all("global")
        .await
        .ok()
        .and_then(|g| {
            g.first()
                .and_then(|o| o.str("endpoint_identifier_order"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "ip,username,anonymous".to_owned());
    for method in order.split(',').map(str::trim) {
        let found = match method {
            "ip" | "header" => by_identify(sorcery, req, source).await,
            "username" => match from_user(req) {
                Some(user) => by_id(sorcery, &user).await,
                None => None,
            },
            "auth_username" => by_auth_username(sorcery, req).await,
            "anonymous" => by_id(sorcery, "anonymous").await,
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

async fn by_id(sorcery: &Sorcery, id: &str) -> Option<Arc<Object>> {
    sorcery.retrieve_by_id("endpoint", id).await.ok().flatten()
}

/// Whether an identify's `match` entries cover `source`.
pub fn matches_source(identify: &Object, source: IpAddr) -> bool {
    let entries = identify.list("match");
    if entries.is_empty() {
        return false;
    }
    let mut acl = obelus_core::acl::Acl::default();
    // Deny everything, then permit the listed networks: the last matching
    // rule decides.
    let _ = acl.add(false, "0.0.0.0/0");
    let _ = acl.add(false, "::/0");
    for entry in entries {
        if let Err(e) = acl.add(true, entry) {
            tracing::warn!("PJSIP identify '{}': match: {e}", identify.id());
        }
    }
    acl.allows(source)
}

/// A `match_header` (`Name: value`) the request carries.
fn matches_header(identify: &Object, req: &Request) -> bool {
    let Some((name, value)) = identify
        .str("match_header")
        .filter(|h| !h.is_empty())
        .and_then(|h| h.split_once(':'))
    else {
        return false;
    };
    req.headers()
        .get_all_raw(name.trim())
        .any(|v| v.trim() == value.trim())
}

async fn by_identify(sorcery: &Sorcery, req: &Request, source: IpAddr) -> Option<Arc<Object>> {
    let identifies = sorcery.retrieve_all("identify").await.ok()?;
    for identify in identifies.iter() {
        if matches_source(identify, source) || matches_header(identify, req) {
            let endpoint = identify.str("endpoint").unwrap_or_default();
            if let Some(e) = by_id(sorcery, endpoint).await {
                return Some(e);
            }
        }
    }
    None
}

/// The endpoint using an auth whose `username` is the request's digest
/// username.
async fn by_auth_username(sorcery: &Sorcery, req: &Request) -> Option<Arc<Object>> {
    let header = req.headers().authorization().ok().flatten()?;
    let username = header.param("username")?.into_owned();
    let auths = sorcery.retrieve_all("auth").await.ok()?;
    let auth_ids: Vec<&str> = auths
        .iter()
        .filter(|a| a.str("username") == Some(username.as_str()))
        .map(|a| a.id())
        .collect();
    if auth_ids.is_empty() {
        return None;
    }
    let endpoints = sorcery.retrieve_all("endpoint").await.ok()?;
    endpoints
        .iter()
        .find(|e| {
            e.list("auth")
                .iter()
                .any(|a| auth_ids.contains(&a.as_str()))
        })
        .cloned()
}
