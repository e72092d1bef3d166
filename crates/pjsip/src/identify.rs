//! Endpoint identification for requests to the registrar, as Asterisk's
//! `username` identifier (res_pjsip_endpoint_identifier_user) does it: the
//! endpoint named by the From URI user; the AOR is the To URI user.

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

/// The endpoint the request comes from, by From user; `None` when there is
/// no such endpoint (the request is then challenged like any other, so
/// unknown names cannot be told from wrong passwords).
pub async fn endpoint(sorcery: &Sorcery, req: &Request) -> Option<Arc<Object>> {
    let user = from_user(req)?;
    sorcery
        .retrieve_by_id("endpoint", &user)
        .await
        .ok()
        .flatten()
}
