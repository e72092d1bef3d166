//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616,
//! RFC 8760): the `response` computation for MD5, SHA-256 and their `-sess`
//! variants, constant-time verification, and nonce helpers.
//!
//! Only the computations live here; the server flow (nonce lifetime, stale
//! nonces, nonce-count replay windows) belongs to the authenticator above.
//! The client side (answering a challenge) is [`client`].

pub mod client;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};
use subtle::ConstantTimeEq;

use crate::header::AuthHeader;

/// A Digest algorithm (RFC 7616 §3.3, RFC 8760 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (the default when `algorithm` is absent).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256`.
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// Parses the `algorithm` parameter (case-insensitive); `None` means
    /// MD5 when the parameter is absent, and an unknown name is `None`.
    pub fn parse(s: &str) -> Option<Algorithm> {
        const ALL: [Algorithm; 6] = [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
            Algorithm::Sha512_256,
            Algorithm::Sha512_256Sess,
        ];
        ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The algorithm of a challenge or credentials: MD5 when absent.
    pub fn of(h: &AuthHeader<'_>) -> Option<Algorithm> {
        match h.algorithm() {
            None => Some(Algorithm::Md5),
            Some(a) => Algorithm::parse(&a),
        }
    }

    /// The name as written in `algorithm=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// True for the `-sess` variants (HA1 includes nonce and cnonce).
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// Lower-case hex of the hash of the `:`-joined parts.
    pub fn hash(self, parts: &[&[u8]]) -> String {
        fn run<D: Digest>(parts: &[&[u8]]) -> String {
            let mut d = D::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    d.update(b":");
                }
                d.update(p);
            }
            hex(&d.finalize())
        }
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => run::<Md5>(parts),
            Algorithm::Sha256 | Algorithm::Sha256Sess => run::<Sha256>(parts),
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => run::<Sha512_256>(parts),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Quality of protection (RFC 7616 §3.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `qop=auth`.
    Auth,
    /// `qop=auth-int`: the body is hashed too.
    AuthInt,
}

impl Qop {
    /// Parses a single qop value.
    pub fn parse(s: &str) -> Option<Qop> {
        if s.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if s.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// Everything the `response` depends on.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The user name (not hashed with `userhash`: pass the plain name).
    pub username: &'a str,
    /// The realm.
    pub realm: &'a str,
    /// The request method (`REGISTER`, `INVITE`...).
    pub method: &'a str,
    /// The digest-uri exactly as the client sent it.
    pub uri: &'a str,
    /// The server nonce.
    pub nonce: &'a str,
    /// `qop`, `nc`, `cnonce` when qop is used; `None` for RFC 2069 style.
    pub qop: Option<(Qop, &'a str, &'a str)>,
    /// The message body, for `auth-int`.
    pub body: &'a [u8],
}

/// HA1 from a password: `H(username:realm:password)` (RFC 7616 §3.4.2);
/// what Asterisk stores as `md5_cred` for MD5.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&[username.as_bytes(), realm.as_bytes(), password.as_bytes()])
}

/// The `response` value from a stored HA1 (the plain one; the `-sess`
/// step is applied here).
pub fn response_from_ha1(input: &DigestInput<'_>, ha1: &str) -> String {
    let alg = input.algorithm;
    let (cnonce, nc_qop) = match input.qop {
        Some((q, nc, cnonce)) => (cnonce, Some((q, nc))),
        None => ("", None),
    };
    let ha1 = if alg.is_session() {
        alg.hash(&[ha1.as_bytes(), input.nonce.as_bytes(), cnonce.as_bytes()])
    } else {
        ha1.to_owned()
    };
    let ha2 = match nc_qop {
        Some((Qop::AuthInt, _)) => {
            let hbody = alg.hash(&[input.body]);
            alg.hash(&[
                input.method.as_bytes(),
                input.uri.as_bytes(),
                hbody.as_bytes(),
            ])
        }
        _ => alg.hash(&[input.method.as_bytes(), input.uri.as_bytes()]),
    };
    match nc_qop {
        Some((q, nc)) => alg.hash(&[
            ha1.as_bytes(),
            input.nonce.as_bytes(),
            nc.as_bytes(),
            cnonce.as_bytes(),
            q.as_str().as_bytes(),
            ha2.as_bytes(),
        ]),
        None => alg.hash(&[ha1.as_bytes(), input.nonce.as_bytes(), ha2.as_bytes()]),
    }
}

/// The `response` value from a password.
pub fn response(input: &DigestInput<'_>, password: &str) -> String {
    response_from_ha1(
        input,
        &ha1(input.algorithm, input.username, input.realm, password),
    )
}

/// Compares two responses in constant time (hex is compared
/// case-insensitively by lower-casing the client's copy first).
pub fn responses_match(expected: &str, received: &str) -> bool {
    let received = received.to_ascii_lowercase();
    expected.len() == received.len() && bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
}

/// Why credentials could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not the Digest scheme.
    #[error("not Digest credentials")]
    NotDigest,
    /// A required parameter is missing.
    #[error("missing digest parameter {0}")]
    Missing(&'static str),
    /// Unknown algorithm or qop.
    #[error("unsupported digest algorithm or qop")]
    Unsupported,
}

/// Verifies Digest credentials against a stored HA1 for `method` and
/// `body`: recomputes the response from the client's own parameters
/// (hashing `uri` exactly as sent) and compares in constant time.
///
/// Checking that the nonce is one this server issued, not stale and not
/// replayed is the caller's job.
pub fn verify_ha1(
    creds: &AuthHeader<'_>,
    method: &str,
    body: &[u8],
    ha1: &str,
) -> Result<bool, DigestError> {
    if !creds.is_digest() {
        return Err(DigestError::NotDigest);
    }
    let algorithm = Algorithm::of(creds).ok_or(DigestError::Unsupported)?;
    let username = creds.username().ok_or(DigestError::Missing("username"))?;
    let realm = creds.realm().ok_or(DigestError::Missing("realm"))?;
    let nonce = creds.nonce().ok_or(DigestError::Missing("nonce"))?;
    let uri = creds.uri().ok_or(DigestError::Missing("uri"))?;
    let given = creds.response().ok_or(DigestError::Missing("response"))?;
    let qop = creds.qop();
    let nc = creds.nc();
    let cnonce = creds.cnonce();
    let qop = match &qop {
        None => None,
        Some(q) => Some((
            Qop::parse(q).ok_or(DigestError::Unsupported)?,
            nc.as_deref().ok_or(DigestError::Missing("nc"))?,
            cnonce.as_deref().ok_or(DigestError::Missing("cnonce"))?,
        )),
    };
    let input = DigestInput {
        algorithm,
        username: &username,
        realm: &realm,
        method,
        uri: &uri,
        nonce: &nonce,
        qop,
        body,
    };
    Ok(responses_match(&response_from_ha1(&input, ha1), &given))
}

/// Verifies Digest credentials against a plain password.
pub fn verify_password(
    creds: &AuthHeader<'_>,
    method: &str,
    body: &[u8],
    password: &str,
) -> Result<bool, DigestError> {
    let algorithm = Algorithm::of(creds).ok_or(DigestError::Unsupported)?;
    let username = creds.username().ok_or(DigestError::Missing("username"))?;
    let realm = creds.realm().ok_or(DigestError::Missing("realm"))?;
    verify_ha1(
        creds,
        method,
        body,
        &ha1(algorithm, &username, &realm, password),
    )
}

/// A fresh random nonce: 32 bytes of CSPRNG output, hex.
pub fn new_nonce() -> String {
    let mut b = [0u8; 32];
    rand::fill(&mut b[..]);
    hex(&b)
}

/// A fresh client nonce (cnonce): 16 random bytes, hex.
pub fn new_cnonce() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    hex(&b)
}

/// Renders a challenge value for WWW-Authenticate / Proxy-Authenticate.
pub fn challenge(
    realm: &str,
    nonce: &str,
    algorithm: Algorithm,
    qop: Option<Qop>,
    opaque: Option<&str>,
    stale: bool,
) -> String {
    let mut s = format!(
        "Digest realm=\"{}\", nonce=\"{}\", algorithm={}",
        escape(realm),
        escape(nonce),
        algorithm.as_str()
    );
    if let Some(q) = qop {
        s.push_str(&format!(", qop=\"{}\"", q.as_str()));
    }
    if let Some(o) = opaque {
        s.push_str(&format!(", opaque=\"{}\"", escape(o)));
    }
    if stale {
        s.push_str(", stale=true");
    }
    s
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// What a nonce presented by a client turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this server and still fresh.
    Valid,
    /// Issued by this server but expired: challenge again with `stale=true`
    /// so the client retries without asking the user (RFC 7616 §3.3).
    Stale,
    /// Not one of ours.
    Invalid,
}

/// Stateless nonces: `<issue time hex>.<HMAC-SHA256(secret, time) hex>`, so
/// any server holding the secret can check a nonce without a table, and an
/// expired one is recognised as stale rather than forged.
///
/// Replay protection inside the lifetime (nonce counts) needs state and
/// belongs to the authenticator.
#[derive(Clone)]
pub struct NonceSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for NonceSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceSigner { .. }")
    }
}

impl NonceSigner {
    /// A signer with a random secret (nonces die with the process).
    pub fn random() -> NonceSigner {
        let mut key = [0u8; 32];
        rand::fill(&mut key[..]);
        NonceSigner { key }
    }

    /// A signer with a configured secret (shared by a cluster).
    pub fn with_key(key: [u8; 32]) -> NonceSigner {
        NonceSigner { key }
    }

    fn mac(&self, msg: &[u8]) -> String {
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for (i, k) in self.key.iter().enumerate() {
            if let (Some(a), Some(b)) = (ipad.get_mut(i), opad.get_mut(i)) {
                *a ^= k;
                *b ^= k;
            }
        }
        let inner = Sha256::new()
            .chain_update(ipad)
            .chain_update(msg)
            .finalize();
        hex(&Sha256::new()
            .chain_update(opad)
            .chain_update(inner)
            .finalize())
    }

    /// Issues a nonce at `now` (seconds since any fixed epoch the caller
    /// keeps, e.g. UNIX time).
    pub fn issue(&self, now: u64) -> String {
        let ts = format!("{now:x}");
        let mac = self.mac(ts.as_bytes());
        format!("{ts}.{mac}")
    }

    /// Checks a nonce at `now` against a lifetime of `max_age` seconds.
    pub fn check(&self, nonce: &str, now: u64, max_age: u64) -> NonceCheck {
        let Some((ts, mac)) = nonce.split_once('.') else {
            return NonceCheck::Invalid;
        };
        let expected = self.mac(ts.as_bytes());
        if !bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) {
            return NonceCheck::Invalid;
        }
        match u64::from_str_radix(ts, 16) {
            Ok(issued) if issued <= now && now - issued <= max_age => NonceCheck::Valid,
            Ok(_) => NonceCheck::Stale,
            Err(_) => NonceCheck::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1: the same request with SHA-256 and with MD5.
    fn rfc7616_input(algorithm: Algorithm) -> DigestInput<'static> {
        DigestInput {
            algorithm,
            username: "Mufasa",
            realm: "http-auth@example.org",
            method: "GET",
            uri: "/dir/index.html",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            qop: Some((
                Qop::Auth,
                "00000001",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            )),
            body: b"",
        }
    }

    #[test]
    fn rfc7616_3_9_1_sha256() {
        assert_eq!(
            response(&rfc7616_input(Algorithm::Sha256), "Circle of Life"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc7616_3_9_1_md5() {
        assert_eq!(
            response(&rfc7616_input(Algorithm::Md5), "Circle of Life"),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn rfc2617_3_5_md5_qop_auth() {
        let input = DigestInput {
            algorithm: Algorithm::Md5,
            username: "Mufasa",
            realm: "testrealm@host.com",
            method: "GET",
            uri: "/dir/index.html",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop: Some((Qop::Auth, "00000001", "0a4f113b")),
            body: b"",
        };
        assert_eq!(
            response(&input, "Circle Of Life"),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    #[test]
    fn sess_variants_apply_nonce_and_cnonce_to_ha1_rfc7616_3_4_2() {
        let input = rfc7616_input(Algorithm::Sha256Sess);
        let plain_ha1 = ha1(
            Algorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        let sess_ha1 = Algorithm::Sha256.hash(&[
            plain_ha1.as_bytes(),
            input.nonce.as_bytes(),
            b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        ]);
        let ha2 = Algorithm::Sha256.hash(&[b"GET", b"/dir/index.html"]);
        let expected = Algorithm::Sha256.hash(&[
            sess_ha1.as_bytes(),
            input.nonce.as_bytes(),
            b"00000001",
            b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            b"auth",
            ha2.as_bytes(),
        ]);
        assert_eq!(response(&input, "Circle of Life"), expected);
        assert_ne!(
            response(&rfc7616_input(Algorithm::Md5Sess), "Circle of Life"),
            response(&rfc7616_input(Algorithm::Md5), "Circle of Life")
        );
    }

    #[test]
    fn verify_parsed_sip_credentials_rfc3261_22_4() {
        let input = DigestInput {
            algorithm: Algorithm::Md5,
            username: "bob",
            realm: "biloxi.com",
            method: "REGISTER",
            uri: "sip:biloxi.com",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop: Some((Qop::Auth, "00000001", "0a4f113b")),
            body: b"",
        };
        let resp = response(&input, "zanzibar");
        let value = format!(
            "Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"{}\"",
            resp.to_uppercase()
        );
        let creds = AuthHeader::parse(&value, "Authorization").unwrap();
        assert_eq!(
            verify_password(&creds, "REGISTER", b"", "zanzibar"),
            Ok(true)
        );
        assert_eq!(verify_password(&creds, "REGISTER", b"", "wrong"), Ok(false));
        assert_eq!(
            verify_password(&creds, "INVITE", b"", "zanzibar"),
            Ok(false)
        );
        let stored = ha1(Algorithm::Md5, "bob", "biloxi.com", "zanzibar");
        assert_eq!(verify_ha1(&creds, "REGISTER", b"", &stored), Ok(true));
    }

    #[test]
    fn rfc2069_style_without_qop() {
        let mut input = rfc7616_input(Algorithm::Md5);
        input.qop = None;
        let ha1 = ha1(
            Algorithm::Md5,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        let ha2 = Algorithm::Md5.hash(&[b"GET", b"/dir/index.html"]);
        assert_eq!(
            response(&input, "Circle of Life"),
            Algorithm::Md5.hash(&[ha1.as_bytes(), input.nonce.as_bytes(), ha2.as_bytes()])
        );
    }

    #[test]
    fn stateless_nonces() {
        let s = NonceSigner::with_key([7; 32]);
        let n = s.issue(1000);
        assert_eq!(s.check(&n, 1010, 30), NonceCheck::Valid);
        assert_eq!(s.check(&n, 1031, 30), NonceCheck::Stale);
        assert_eq!(
            s.check(&n.replace('.', ".0"), 1010, 30),
            NonceCheck::Invalid
        );
        assert_eq!(
            NonceSigner::with_key([8; 32]).check(&n, 1010, 30),
            NonceCheck::Invalid
        );
        assert_eq!(s.check("garbage", 1010, 30), NonceCheck::Invalid);
        assert_ne!(
            NonceSigner::random().issue(1),
            NonceSigner::random().issue(1)
        );
    }

    #[test]
    fn challenge_round_trips_through_the_parser() {
        let c = challenge(
            "asterisk",
            "abc",
            Algorithm::Sha256,
            Some(Qop::Auth),
            Some("op\"aque"),
            true,
        );
        let h = AuthHeader::parse(&c, "WWW-Authenticate").unwrap();
        assert_eq!(h.realm().as_deref(), Some("asterisk"));
        assert_eq!(Algorithm::of(&h), Some(Algorithm::Sha256));
        assert_eq!(h.opaque().as_deref(), Some("op\"aque"));
        assert!(h.stale());
        assert_eq!(new_nonce().len(), 64);
        assert!(responses_match("abc", "ABC"));
        assert!(!responses_match("abc", "abd"));
    }
}
