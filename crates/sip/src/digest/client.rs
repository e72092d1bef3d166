//! The client side of Digest (RFC 3261 §22.2, RFC 7616 §3.4, RFC 8760):
//! answering a 401 `WWW-Authenticate` or 407 `Proxy-Authenticate`
//! challenge with `Authorization` / `Proxy-Authorization` credentials, the
//! way Asterisk's outbound authenticator (on pjproject's auth client)
//! does:
//!
//! - the credentials for a realm are those whose `realm` equals the
//!   challenge's, else the first with an empty realm (any realm);
//! - of several challenges for one realm (RFC 8760 §2.4: one per
//!   algorithm, in the server's order of preference) the first whose
//!   algorithm the credentials support is answered;
//! - `qop=auth` (or `auth-int` when only that is offered) with a fresh
//!   `cnonce` and `nc=00000001`; `opaque` is echoed;
//! - a challenge for a realm the previous request already answered means
//!   the credentials were refused, unless it says `stale=true`: then the
//!   request is answered again with the new nonce, at most [`MAX_STALE`]
//!   times (pjproject's `PJSIP_MAX_STALE_COUNT`).
//!
//! A request chain answers at most [`MAX_CHALLENGES`] challenges in all
//! (Asterisk's `MAX_RX_CHALLENGES`), so a server inventing a new realm each
//! time cannot keep it retrying.
//!
//! Sans-IO: a [`DigestClient`] per request chain (the first request and
//! its authenticated retries) holds only those counts.

use crate::header::AuthHeader;
use crate::{HeaderName, Request, RequestBuilder, Response, new_branch};

use super::{Algorithm, DigestInput, Qop, escape, new_cnonce, response_from_ha1};

/// Times a `stale=true` challenge is answered in one request chain.
pub const MAX_STALE: u32 = 3;
/// Challenges answered in one request chain.
pub const MAX_CHALLENGES: u32 = 10;

/// What the client proves it knows.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientSecret {
    /// `auth_type=userpass`: the password.
    Password(String),
    /// `auth_type=md5`: `md5_cred`, the MD5 of `username:realm:password`
    /// (answers MD5 challenges only).
    Md5Ha1(String),
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log line through Debug.
        match self {
            ClientSecret::Password(_) => f.write_str("Password(..)"),
            ClientSecret::Md5Ha1(_) => f.write_str("Md5Ha1(..)"),
        }
    }
}

/// One set of credentials (a `type=auth` object used as `outbound_auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredential {
    /// The name of the object, for log lines.
    pub id: String,
    /// `username`.
    pub username: String,
    /// `realm`; empty answers any realm.
    pub realm: String,
    /// The secret.
    pub secret: ClientSecret,
    /// `supported_algorithms_uac`: the algorithms these credentials answer
    /// (Asterisk's default is MD5 alone).
    pub algorithms: Vec<Algorithm>,
}

impl ClientCredential {
    fn answers(&self, algorithm: Algorithm) -> bool {
        match self.secret {
            ClientSecret::Md5Ha1(_) => algorithm == Algorithm::Md5,
            ClientSecret::Password(_) => self.algorithms.contains(&algorithm),
        }
    }

    fn ha1(&self, algorithm: Algorithm, realm: &str) -> String {
        match &self.secret {
            ClientSecret::Password(p) => super::ha1(algorithm, &self.username, realm, p),
            ClientSecret::Md5Ha1(h) => h.to_ascii_lowercase(),
        }
    }
}

/// Why a challenge could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Not a 401/407, or one without a usable Digest challenge.
    #[error("the response carries no Digest challenge")]
    NoChallenge,
    /// No credentials for any realm challenged.
    #[error("no outbound auth for realm(s) {0}")]
    NoCredentials(String),
    /// Credentials exist but support none of the algorithms offered.
    #[error("realm '{realm}' offers {offered}, which the auth '{auth}' does not support")]
    Unsupported {
        /// The realm.
        realm: String,
        /// The algorithms of the challenges.
        offered: String,
        /// The auth object.
        auth: String,
    },
    /// The server challenged again the credentials just sent (not stale):
    /// they are wrong.
    #[error("credentials for realm '{0}' were not accepted")]
    Rejected(String),
    /// Too many `stale=true` challenges in a row.
    #[error("too many stale nonces from realm '{0}'")]
    StaleLimit(String),
    /// Too many challenges for one request.
    #[error("challenged more than {MAX_CHALLENGES} times")]
    TooManyChallenges,
}

/// The credentials for `realm`: an exact realm match first, else the
/// first with an empty realm (Asterisk's rule).
pub fn select<'c>(creds: &'c [ClientCredential], realm: &str) -> Option<&'c ClientCredential> {
    creds
        .iter()
        .find(|c| c.realm == realm)
        .or_else(|| creds.iter().find(|c| c.realm.is_empty()))
}

/// The value of an Authorization header answering `challenge` for a
/// request `method` to `uri` with `body`, using `cnonce` when the
/// challenge asks for a qop.
pub fn credentials_value(
    challenge: &AuthHeader<'_>,
    cred: &ClientCredential,
    method: &str,
    uri: &str,
    body: &[u8],
    cnonce: &str,
) -> Result<String, ClientError> {
    let realm = challenge.realm().unwrap_or_default();
    let nonce = challenge.nonce().unwrap_or_default();
    let algorithm = Algorithm::of(challenge).ok_or_else(|| ClientError::Unsupported {
        realm: realm.to_string(),
        offered: challenge.algorithm().unwrap_or_default().into_owned(),
        auth: cred.id.clone(),
    })?;
    let offered: Vec<Qop> = challenge
        .qop()
        .map(|q| q.split(',').filter_map(|v| Qop::parse(v.trim())).collect())
        .unwrap_or_default();
    let qop = if offered.contains(&Qop::Auth) {
        Some(Qop::Auth)
    } else {
        offered.first().copied()
    };
    const NC: &str = "00000001";
    let input = DigestInput {
        algorithm,
        username: &cred.username,
        realm: &realm,
        method,
        uri,
        nonce: &nonce,
        qop: qop.map(|q| (q, NC, cnonce)),
        body,
    };
    let response = response_from_ha1(&input, &cred.ha1(algorithm, &realm));
    let mut value = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
        escape(&cred.username),
        escape(&realm),
        escape(&nonce),
        escape(uri),
        algorithm.as_str()
    );
    if let Some(q) = qop {
        value.push_str(&format!(", cnonce=\"{}\"", escape(cnonce)));
        if let Some(opaque) = challenge.opaque() {
            value.push_str(&format!(", opaque=\"{}\"", escape(&opaque)));
        }
        value.push_str(&format!(", qop={}, nc={NC}", q.as_str()));
    } else if let Some(opaque) = challenge.opaque() {
        value.push_str(&format!(", opaque=\"{}\"", escape(&opaque)));
    }
    Ok(value)
}

/// The credentials lines for one authenticated retry: `(header name,
/// value)`, to replace every Authorization and Proxy-Authorization of the
/// request that was challenged.
pub type AuthLines = Vec<(&'static str, String)>;

/// The Digest client of one request chain.
#[derive(Debug, Default, Clone)]
pub struct DigestClient {
    stale: u32,
    rounds: u32,
}

impl DigestClient {
    /// A client for a new request chain.
    pub fn new() -> DigestClient {
        DigestClient::default()
    }

    /// Answers the challenges of `response` (401 or 407) to the request
    /// `sent`: the credentials lines for the retry (those for realms not
    /// challenged now are kept from `sent`), or why it cannot be retried.
    pub fn authorize(
        &mut self,
        creds: &[ClientCredential],
        sent: &Request,
        response: &Response,
    ) -> Result<AuthLines, ClientError> {
        self.authorize_with(creds, sent, response, &new_cnonce)
    }

    fn authorize_with(
        &mut self,
        creds: &[ClientCredential],
        sent: &Request,
        response: &Response,
        cnonce: &dyn Fn() -> String,
    ) -> Result<AuthLines, ClientError> {
        let (challenge_name, answer_name) = match response.status().as_u16() {
            401 => (HeaderName::WwwAuthenticate, "Authorization"),
            407 => (HeaderName::ProxyAuthenticate, "Proxy-Authorization"),
            _ => return Err(ClientError::NoChallenge),
        };
        let challenges: Vec<AuthHeader<'_>> = response
            .headers()
            .get_all(challenge_name)
            .filter_map(|v| AuthHeader::parse(v, "WWW-Authenticate").ok())
            .filter(|h| h.is_digest() && h.nonce().is_some())
            .collect();
        if challenges.is_empty() {
            return Err(ClientError::NoChallenge);
        }
        self.rounds += 1;
        if self.rounds > MAX_CHALLENGES {
            return Err(ClientError::TooManyChallenges);
        }
        let previous = previous_lines(sent);
        let mut realms: Vec<String> = Vec::new();
        for c in &challenges {
            let realm = c.realm().unwrap_or_default().into_owned();
            if !realms.contains(&realm) {
                realms.push(realm);
            }
        }
        let mut lines = AuthLines::new();
        let mut missing = Vec::new();
        let mut unsupported = None;
        for realm in &realms {
            let of_realm: Vec<&AuthHeader<'_>> = challenges
                .iter()
                .filter(|c| c.realm().unwrap_or_default() == realm.as_str())
                .collect();
            let Some(cred) = select(creds, realm) else {
                missing.push(realm.clone());
                continue;
            };
            let answered = previous
                .iter()
                .any(|(name, r, _)| *name == answer_name && r == realm);
            if answered {
                if !of_realm.iter().any(|c| c.stale()) {
                    return Err(ClientError::Rejected(realm.clone()));
                }
                self.stale += 1;
                if self.stale > MAX_STALE {
                    return Err(ClientError::StaleLimit(realm.clone()));
                }
            }
            let Some(chosen) = of_realm
                .iter()
                .find(|c| Algorithm::of(c).is_some_and(|a| cred.answers(a)))
            else {
                unsupported = Some(ClientError::Unsupported {
                    realm: realm.clone(),
                    offered: of_realm
                        .iter()
                        .map(|c| c.algorithm().unwrap_or("MD5".into()).into_owned())
                        .collect::<Vec<_>>()
                        .join(","),
                    auth: cred.id.clone(),
                });
                continue;
            };
            let value = credentials_value(
                chosen,
                cred,
                sent.method().as_str(),
                sent.uri_str(),
                sent.body(),
                &cnonce(),
            )?;
            lines.push((answer_name, value));
        }
        if lines.is_empty() {
            return Err(unsupported.unwrap_or(ClientError::NoCredentials(missing.join(","))));
        }
        for (name, realm, value) in previous {
            if !(name == answer_name && realms.contains(&realm)) {
                lines.push((name, value));
            }
        }
        Ok(lines)
    }
}

/// The credentials lines a request carried: `(header, realm, value)`.
fn previous_lines(sent: &Request) -> Vec<(&'static str, String, String)> {
    let h = sent.headers();
    let mut out = Vec::new();
    for (kind, name) in [
        (HeaderName::Authorization, "Authorization"),
        (HeaderName::ProxyAuthorization, "Proxy-Authorization"),
    ] {
        for value in h.get_all(kind) {
            if let Ok(a) = AuthHeader::parse(value, name) {
                let realm = a.realm().unwrap_or_default().into_owned();
                out.push((name, realm, value.to_owned()));
            }
        }
    }
    out
}

/// The retry of `sent` with `lines`: the same request with a new branch in
/// its top Via (a new transaction), the next CSeq number (same Call-ID and
/// tags: RFC 3261 §22.2), and these credentials instead of the old ones.
pub fn retry(sent: &Request, lines: &AuthLines) -> RequestBuilder {
    let h = sent.headers();
    let vias: Vec<String> = h
        .get_all(HeaderName::Via)
        .flat_map(crate::parse::split_list)
        .map(str::to_owned)
        .collect();
    let cseq = h.cseq();
    let mut b = RequestBuilder::from_request(sent)
        .remove_header("Via")
        .remove_header("Authorization")
        .remove_header("Proxy-Authorization")
        .remove_header("CSeq");
    for (i, via) in vias.iter().enumerate().rev() {
        let value = if i == 0 { rebranch(via) } else { via.clone() };
        b = b.prepend_header("Via", value);
    }
    b = b.header(
        "CSeq",
        format!("{} {}", cseq.seq.wrapping_add(1), cseq.method.as_str()),
    );
    for (name, value) in lines {
        b = b.header(name, value.clone());
    }
    b
}

/// A Via value with a fresh `branch` parameter.
fn rebranch(via: &str) -> String {
    let mut parts: Vec<String> = via.split(';').map(str::to_owned).collect();
    let fresh = format!("branch={}", new_branch());
    match parts
        .iter_mut()
        .skip(1)
        .find(|p| p.trim().to_ascii_lowercase().starts_with("branch="))
    {
        Some(p) => *p = fresh,
        None => parts.push(fresh),
    }
    parts.join(";")
}

#[cfg(test)]
mod tests;
