//! Who is calling: HTTP Basic credentials, or `?api_key=user:password` for
//! clients that cannot set headers (browsers opening a WebSocket), checked
//! against the `ari.conf` users and their address ACLs.

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;

use crate::config::{AriConf, User};
use crate::error::AriError;

/// Credentials as the request carried them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

/// The credentials of a request: the `Authorization: Basic` header first,
/// then the `api_key` query parameter (split at the first `:`; an empty
/// password counts as none).
pub fn credentials(headers: &HeaderMap, query: Option<&str>) -> Option<Credentials> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())?;
        let (user, password) = decoded.split_once(':')?;
        return Some(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        });
    }
    let key = form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "api_key")
        .map(|(_, v)| v.into_owned())?;
    let (user, password) = key.split_once(':')?;
    if password.is_empty() {
        return None;
    }
    Some(Credentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// Why a request was refused before reaching its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials: 401 with a challenge (clients commonly ask without
    /// credentials first).
    Unauthorized,
    /// Wrong credentials for this user name: 401 with a challenge, and
    /// worth a warning.
    BadCredentials(String),
    /// Right credentials from an address the user's ACL refuses: 403.
    Acl,
}

impl Refusal {
    /// The error response body and status.
    pub fn error(&self) -> AriError {
        match self {
            Refusal::Unauthorized | Refusal::BadCredentials(_) => {
                AriError::new(StatusCode::UNAUTHORIZED, "Authentication required")
            }
            Refusal::Acl => AriError::new(StatusCode::FORBIDDEN, "Access denied by ACL"),
        }
    }
}

/// Authenticates a request coming from `peer`.
pub fn authenticate<'c>(
    conf: &'c AriConf,
    headers: &HeaderMap,
    query: Option<&str>,
    peer: Option<IpAddr>,
) -> Result<&'c User, Refusal> {
    let credentials = credentials(headers, query).ok_or(Refusal::Unauthorized)?;
    let user = conf
        .user(&credentials.user)
        .filter(|u| u.check_password(&credentials.password))
        .ok_or_else(|| Refusal::BadCredentials(credentials.user.clone()))?;
    if let Some(peer) = peer
        && !user.allows(peer)
    {
        return Err(Refusal::Acl);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn conf() -> AriConf {
        let text = "[ari]\ntype=user\npassword=secret\n[lan]\ntype=user\npassword=pw\ndeny=0.0.0.0/0\npermit=10.0.0.0/8\n";
        AriConf::from_config(&obelus_conf::parse_str("ari.conf", text).expect("parses")).0
    }

    fn basic(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).expect("header"),
        );
        headers
    }

    #[test]
    fn basic_auth_and_api_key() {
        let conf = conf();
        let local = Some("127.0.0.1".parse().expect("ip"));
        assert_eq!(
            authenticate(&conf, &basic("ari:secret"), None, local).map(|u| u.name.clone()),
            Ok("ari".to_owned())
        );
        assert_eq!(
            authenticate(&conf, &basic("ari:wrong"), None, local).err(),
            Some(Refusal::BadCredentials("ari".into()))
        );
        let none = HeaderMap::new();
        assert!(authenticate(&conf, &none, Some("app=x&api_key=ari:secret"), local).is_ok());
        assert!(authenticate(&conf, &none, Some("api_key=ari%3Asecret"), local).is_ok());
        assert_eq!(
            authenticate(&conf, &none, Some("api_key=ari:wrong"), local).err(),
            Some(Refusal::BadCredentials("ari".into()))
        );
        assert_eq!(
            authenticate(&conf, &none, Some("api_key=ari:"), local).err(),
            Some(Refusal::Unauthorized)
        );
        assert_eq!(
            authenticate(&conf, &none, None, local).err(),
            Some(Refusal::Unauthorized)
        );
        assert_eq!(
            authenticate(&conf, &basic("nobody:secret"), None, local).err(),
            Some(Refusal::BadCredentials("nobody".into()))
        );
    }

    #[test]
    fn the_header_wins_over_the_query() {
        let conf = conf();
        let result = authenticate(&conf, &basic("ari:wrong"), Some("api_key=ari:secret"), None);
        assert_eq!(result.err(), Some(Refusal::BadCredentials("ari".into())));
    }

    #[test]
    fn acls_refuse_other_addresses() {
        let conf = conf();
        let none = HeaderMap::new();
        assert_eq!(
            authenticate(
                &conf,
                &none,
                Some("api_key=lan:pw"),
                Some("127.0.0.1".parse().expect("ip"))
            )
            .err(),
            Some(Refusal::Acl)
        );
        assert!(
            authenticate(
                &conf,
                &none,
                Some("api_key=lan:pw"),
                Some("10.1.2.3".parse().expect("ip"))
            )
            .is_ok()
        );
        assert_eq!(
            Refusal::Unauthorized.error().status,
            StatusCode::UNAUTHORIZED
        );
    }
}
