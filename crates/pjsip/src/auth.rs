//! Digest authentication of incoming requests (RFC 3261 §22.4, RFC 7616),
//! as res_pjsip_authenticator_digest does it: a 401 with a
//! `WWW-Authenticate` challenge, stateless signed nonces that turn stale
//! after the auth's `nonce_lifetime` (a stale nonce gets a fresh 401 with
//! `stale=true`), and the same 401 for an unknown user as for a wrong
//! password, so accounts cannot be enumerated.
//!
//! Repeated failures from one source address are throttled: past
//! [`MAX_FAILURES`] within [`FAILURE_WINDOW`], requests from it are dropped
//! until the window passes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use obelus_sip::Request;
use obelus_sip::digest::{self, Algorithm, NonceCheck, NonceSigner, Qop};
use obelus_sorcery::Object;

/// The realm when the auth object names none (Asterisk's default_realm).
pub const DEFAULT_REALM: &str = "asterisk";
/// Failures from one address before it is throttled.
pub const MAX_FAILURES: u32 = 20;
/// The window failures are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The secret of an auth object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// `auth_type=userpass`: the password.
    Password(String),
    /// `auth_type=md5`: `md5_cred`, the MD5 HA1.
    Md5Ha1(String),
}

/// One `type=auth` object an endpoint authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// `username`.
    pub username: String,
    /// `realm` (or [`DEFAULT_REALM`]).
    pub realm: String,
    /// The secret.
    pub secret: Secret,
    /// `nonce_lifetime` in seconds.
    pub nonce_lifetime: u64,
    /// `supported_algorithms_uas` (RFC 8760), in preference order; MD5
    /// when unset, as in Asterisk.
    pub algorithms: Vec<Algorithm>,
}

impl Credential {
    /// The credential of an auth object; `None` for auth types that cannot
    /// verify a digest here (`google_oauth`).
    pub fn from_object(auth: &Object) -> Option<Credential> {
        let secret = match auth.str("auth_type").unwrap_or("userpass") {
            "md5" => Secret::Md5Ha1(auth.str("md5_cred").unwrap_or("").to_ascii_lowercase()),
            "userpass" | "digest" => {
                Secret::Password(auth.str("password").unwrap_or("").to_owned())
            }
            _ => return None,
        };
        let realm = match auth.str("realm").unwrap_or("") {
            "" => DEFAULT_REALM.to_owned(),
            r => r.to_owned(),
        };
        let mut algorithms: Vec<Algorithm> = auth
            .str("supported_algorithms_uas")
            .unwrap_or("")
            .split(',')
            .filter_map(|a| Algorithm::parse(a.trim()))
            .filter(|a| !a.is_session())
            .collect();
        if matches!(secret, Secret::Md5Ha1(_)) {
            // An MD5 HA1 can only check MD5 responses.
            algorithms.retain(|a| *a == Algorithm::Md5);
        }
        if algorithms.is_empty() {
            algorithms.push(Algorithm::Md5);
        }
        Some(Credential {
            username: auth.str("username").unwrap_or("").to_owned(),
            realm,
            secret,
            nonce_lifetime: auth.uint("nonce_lifetime").unwrap_or(32),
            algorithms,
        })
    }
}

/// The result of checking a request's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Authenticated as this username.
    Accepted(String),
    /// No usable credentials: challenge (`stale` for an expired nonce of
    /// ours, RFC 7616 §3.3).
    Challenge {
        /// Send `stale=true`.
        stale: bool,
    },
    /// Credentials for a known user with a wrong response.
    WrongPassword(String),
    /// Credentials for a user this endpoint does not have.
    UnknownUser(String),
}

/// The digest authenticator: nonce signer and failure counts.
#[derive(Debug)]
pub struct Authenticator {
    signer: NonceSigner,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator {
            signer: NonceSigner::random(),
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl Authenticator {
    /// Checks `req` against the endpoint's credentials at UNIX time `now`.
    /// An empty `creds` (unknown endpoint) never accepts.
    pub fn verify(&self, req: &Request, creds: &[Credential], now: u64) -> Verdict {
        let mut stale = false;
        let mut last_user: Option<String> = None;
        for header in req.headers().authorizations() {
            let Ok(h) = header else { continue };
            if !h.is_digest() {
                continue;
            }
            let (Some(user), Some(realm), Some(nonce)) = (h.username(), h.realm(), h.nonce())
            else {
                continue;
            };
            let Some(cred) = creds
                .iter()
                .find(|c| c.username == user && c.realm == realm)
            else {
                last_user = Some(user.into_owned());
                continue;
            };
            if !Algorithm::of(&h).is_some_and(|a| cred.algorithms.contains(&a)) {
                // Not an algorithm we offered: challenge again.
                continue;
            }
            match self.signer.check(&nonce, now, cred.nonce_lifetime) {
                NonceCheck::Valid => {}
                NonceCheck::Stale => {
                    stale = true;
                    continue;
                }
                NonceCheck::Invalid => continue,
            }
            let method = req.method().as_str();
            let ok = match &cred.secret {
                Secret::Password(p) => digest::verify_password(&h, method, req.body(), p),
                Secret::Md5Ha1(ha1) if Algorithm::of(&h) == Some(Algorithm::Md5) => {
                    digest::verify_ha1(&h, method, req.body(), ha1)
                }
                Secret::Md5Ha1(_) => Ok(false),
            };
            return match ok {
                Ok(true) => Verdict::Accepted(cred.username.clone()),
                _ => Verdict::WrongPassword(cred.username.clone()),
            };
        }
        match last_user {
            Some(user) if !stale => Verdict::UnknownUser(user),
            _ => Verdict::Challenge { stale },
        }
    }

    /// The `WWW-Authenticate` values for `realm` at `now`: one per
    /// algorithm, in preference order (RFC 8760 §2.4), with `qop="auth"`
    /// and one shared nonce.
    pub fn challenges(
        &self,
        realm: &str,
        algorithms: &[Algorithm],
        now: u64,
        stale: bool,
    ) -> Vec<String> {
        let nonce = self.signer.issue(now);
        let opaque = digest::new_cnonce();
        algorithms
            .iter()
            .map(|a| digest::challenge(realm, &nonce, *a, Some(Qop::Auth), Some(&opaque), stale))
            .collect()
    }

    /// Records a failed attempt from `ip`.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) {
        if let Ok(mut map) = self.failures.lock() {
            let entry = map.entry(ip).or_insert((0, now));
            if now.duration_since(entry.1) > FAILURE_WINDOW {
                *entry = (0, now);
            }
            entry.0 = entry.0.saturating_add(1);
            // Bound the table: forget stale entries when it grows.
            if map.len() > 10_000 {
                map.retain(|_, (_, since)| now.duration_since(*since) <= FAILURE_WINDOW);
            }
        }
    }

    /// True while `ip` has failed too often.
    pub fn is_throttled(&self, ip: IpAddr, now: Instant) -> bool {
        self.failures.lock().is_ok_and(|map| {
            map.get(&ip).is_some_and(|(n, since)| {
                *n >= MAX_FAILURES && now.duration_since(*since) <= FAILURE_WINDOW
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_sip::digest::DigestInput;

    const NOW: u64 = 1_000_000;

    fn cred() -> Credential {
        Credential {
            username: "101".into(),
            realm: "asterisk".into(),
            secret: Secret::Password("secret".into()),
            nonce_lifetime: 32,
            algorithms: vec![Algorithm::Md5],
        }
    }

    fn register(auth: Option<String>) -> Request {
        let mut s = String::from(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1\r\n\
From: <sip:101@127.0.0.1>;tag=1\r\nTo: <sip:101@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n",
        );
        if let Some(a) = auth {
            s.push_str(&format!("Authorization: {a}\r\n"));
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        Request::parse(s.into_bytes()).unwrap()
    }

    fn answer(nonce: &str, user: &str, password: &str) -> String {
        answer_with(Algorithm::Md5, nonce, user, password)
    }

    fn answer_with(algorithm: Algorithm, nonce: &str, user: &str, password: &str) -> String {
        let input = DigestInput {
            algorithm,
            username: user,
            realm: "asterisk",
            method: "REGISTER",
            uri: "sip:127.0.0.1",
            nonce,
            qop: Some((Qop::Auth, "00000001", "abc")),
            body: b"",
        };
        let r = digest::response(&input, password);
        format!(
            "Digest username=\"{user}\", realm=\"asterisk\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"{r}\", algorithm={}, qop=auth, nc=00000001, cnonce=\"abc\"",
            algorithm.as_str()
        )
    }

    fn nonce_of(challenge: &str) -> String {
        let start = challenge.find("nonce=\"").unwrap() + 7;
        let end = challenge[start..].find('"').unwrap() + start;
        challenge[start..end].to_owned()
    }

    /// RFC 3261 §22.4: no credentials -> challenge; right ones accepted.
    #[test]
    fn challenge_then_accept() {
        let a = Authenticator::default();
        assert_eq!(
            a.verify(&register(None), &[cred()], NOW),
            Verdict::Challenge { stale: false }
        );
        let ch = a
            .challenges("asterisk", &[Algorithm::Md5], NOW, false)
            .remove(0);
        assert!(ch.starts_with("Digest realm=\"asterisk\""));
        assert!(ch.contains("qop=\"auth\"") && ch.contains("algorithm=MD5"));
        let nonce = nonce_of(&ch);
        let req = register(Some(answer(&nonce, "101", "secret")));
        assert_eq!(
            a.verify(&req, &[cred()], NOW + 1),
            Verdict::Accepted("101".into())
        );
        let md5 = Credential {
            secret: Secret::Md5Ha1(digest::ha1(Algorithm::Md5, "101", "asterisk", "secret")),
            ..cred()
        };
        assert_eq!(
            a.verify(&req, &[md5], NOW + 1),
            Verdict::Accepted("101".into())
        );
    }

    #[test]
    fn wrong_password_unknown_user_and_stale_nonce() {
        let a = Authenticator::default();
        let nonce = nonce_of(&a.challenges("asterisk", &[Algorithm::Md5], NOW, false)[0]);
        let bad = register(Some(answer(&nonce, "101", "nope")));
        assert_eq!(
            a.verify(&bad, &[cred()], NOW),
            Verdict::WrongPassword("101".into())
        );
        let who = register(Some(answer(&nonce, "999", "x")));
        assert_eq!(a.verify(&who, &[], NOW), Verdict::UnknownUser("999".into()));
        // RFC 7616 §3.3: an expired nonce of ours is stale, not a failure.
        let good = register(Some(answer(&nonce, "101", "secret")));
        assert_eq!(
            a.verify(&good, &[cred()], NOW + 33),
            Verdict::Challenge { stale: true }
        );
        // A nonce we never issued is just challenged again.
        let forged = register(Some(answer("0.0", "101", "secret")));
        assert_eq!(
            a.verify(&forged, &[cred()], NOW),
            Verdict::Challenge { stale: false }
        );
    }

    /// RFC 8760: SHA-256 offered first when configured, and checked; an
    /// algorithm not offered is challenged again.
    #[test]
    fn sha256_when_configured() {
        let a = Authenticator::default();
        let both = [Algorithm::Sha256, Algorithm::Md5];
        let ch = a.challenges("asterisk", &both, NOW, false);
        assert!(ch[0].contains("algorithm=SHA-256") && ch[1].contains("algorithm=MD5"));
        let nonce = nonce_of(&ch[0]);
        let sha = Credential {
            algorithms: both.to_vec(),
            ..cred()
        };
        let req = register(Some(answer_with(
            Algorithm::Sha256,
            &nonce,
            "101",
            "secret",
        )));
        assert_eq!(a.verify(&req, &[sha], NOW), Verdict::Accepted("101".into()));
        assert_eq!(
            a.verify(&req, &[cred()], NOW),
            Verdict::Challenge { stale: false }
        );
    }

    #[test]
    fn throttles_after_repeated_failures() {
        let a = Authenticator::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(!a.is_throttled(ip, t));
            a.record_failure(ip, t);
        }
        assert!(a.is_throttled(ip, t));
        assert!(!a.is_throttled(ip, t + FAILURE_WINDOW + Duration::from_secs(1)));
    }
}
