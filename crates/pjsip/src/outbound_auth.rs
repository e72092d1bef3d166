//! Outbound authentication (res_pjsip_outbound_authenticator_digest): the
//! `type=auth` objects an endpoint's or a registration's `outbound_auth`
//! names, as credentials for answering a server's challenge.

use obelus_sip::digest::Algorithm;
use obelus_sip::digest::client::{ClientCredential, ClientSecret};
use obelus_sorcery::{Object, Sorcery};

/// The algorithms an auth answers with: its `supported_algorithms_uac`,
/// else `[global]` `default_auth_algorithms_uac`, else MD5 (Asterisk's
/// default).
fn algorithms(auth: &Object, global_default: &str) -> Vec<Algorithm> {
    let own = auth.str("supported_algorithms_uac").unwrap_or("").trim();
    let text = if own.is_empty() { global_default } else { own };
    let mut list: Vec<Algorithm> = text
        .split(',')
        .filter_map(|a| Algorithm::parse(a.trim()))
        .collect();
    if list.is_empty() {
        list.push(Algorithm::Md5);
    }
    list
}

/// The credentials of one auth object; `None` (logged) for auth types that
/// cannot answer a digest challenge.
pub(crate) fn credential(auth: &Object, global_default: &str) -> Option<ClientCredential> {
    let secret = match auth.str("auth_type").unwrap_or("userpass") {
        "md5" => ClientSecret::Md5Ha1(auth.str("md5_cred").unwrap_or("").trim().to_owned()),
        "userpass" | "digest" => {
            ClientSecret::Password(auth.str("password").unwrap_or("").to_owned())
        }
        other => {
            tracing::warn!(
                "PJSIP auth '{}': auth_type={other} cannot answer a digest challenge",
                auth.id()
            );
            return None;
        }
    };
    Some(ClientCredential {
        id: auth.id().to_owned(),
        username: auth.str("username").unwrap_or("").to_owned(),
        realm: auth.str("realm").unwrap_or("").trim().to_owned(),
        secret,
        algorithms: algorithms(auth, global_default),
    })
}

/// The credentials of the auth objects `ids`, in order; an id naming no
/// auth object is logged (with `owner`, the endpoint or registration) and
/// left out.
pub(crate) async fn credentials(
    sorcery: &Sorcery,
    ids: &[String],
    owner: &str,
) -> Vec<ClientCredential> {
    if ids.is_empty() {
        return Vec::new();
    }
    let global_default = sorcery
        .retrieve_all("global")
        .await
        .ok()
        .and_then(|g| {
            g.first()
                .and_then(|o| o.str("default_auth_algorithms_uac"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for id in ids {
        match sorcery.retrieve_by_id("auth", id).await {
            Ok(Some(auth)) => out.extend(credential(&auth, &global_default)),
            Ok(None) => tracing::warn!("PJSIP {owner}: outbound_auth '{id}' does not exist"),
            Err(e) => tracing::warn!("PJSIP {owner}: outbound_auth '{id}': {e}"),
        }
    }
    out
}
