//! Authorization, Proxy-Authorization, WWW-Authenticate and
//! Proxy-Authenticate values (RFC 3261 §20.7, §20.27, §20.28, §20.44;
//! RFC 7616 §3.3, §3.4).
//!
//! These headers contain commas that separate auth-params, not header values,
//! so they are never list-split; several challenges come as several headers.

use std::borrow::Cow;

use crate::error::HeaderError;
use crate::parse::{Cursor, is_token, is_ws, unescape};

/// A challenge or credentials: `scheme param=value, param="value", ...`.
///
/// Used for both directions because the grammar is shared; the typed
/// getters name the parameters Digest uses. Values come back without quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthHeader<'a> {
    scheme: &'a str,
    params: &'a str,
}

impl<'a> AuthHeader<'a> {
    /// Parses a challenge or credentials; `name` names the header in errors.
    ///
    /// The params must be an auth-param list, or a single token68 (`Basic`),
    /// or empty.
    pub fn parse(s: &'a str, name: &'static str) -> Result<AuthHeader<'a>, HeaderError> {
        let err = HeaderError::new(name);
        let mut c = Cursor::new(s);
        c.skip_ws();
        let scheme = c.token().ok_or(err)?;
        let before = c.pos();
        c.skip_ws();
        if !c.at_end() && c.pos() == before {
            return Err(err);
        }
        let params = crate::parse::trim(c.rest());
        let core = params.trim_end_matches('=');
        let token68 = !core.is_empty()
            && core.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            });
        if !params.is_empty() && !token68 {
            let mut p = Cursor::new(params);
            loop {
                p.skip_ws();
                p.token().ok_or(err)?;
                if !p.eat(b'=') {
                    return Err(err);
                }
                p.skip_ws();
                if p.peek() == Some(b'"') {
                    p.quoted().ok_or(err)?;
                } else if p
                    .take_while(|b| is_token(b) || matches!(b, b'/' | b':' | b'@' | b'='))
                    .is_empty()
                {
                    return Err(err);
                }
                p.skip_ws();
                if p.at_end() {
                    break;
                }
                if !p.eat(b',') {
                    return Err(err);
                }
            }
        }
        Ok(AuthHeader { scheme, params })
    }

    /// The scheme (`Digest`, `Basic`, ...).
    pub fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// True for the Digest scheme (case-insensitive).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("digest")
    }

    /// Everything after the scheme, as written.
    pub fn params_raw(&self) -> &'a str {
        self.params
    }

    /// Iterates `(name, raw value)` pairs; quoted values keep their escapes
    /// but lose their quotes.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        AuthParamIter {
            c: Cursor::new(self.params),
        }
    }

    /// A parameter value, unquoted and unescaped; names are case-insensitive.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unescape(v))
    }

    /// `username`.
    pub fn username(&self) -> Option<Cow<'a, str>> {
        self.param("username")
    }

    /// `realm`.
    pub fn realm(&self) -> Option<Cow<'a, str>> {
        self.param("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<Cow<'a, str>> {
        self.param("nonce")
    }

    /// `uri` (digest-uri): hash it exactly as the client sent it.
    pub fn uri(&self) -> Option<Cow<'a, str>> {
        self.param("uri")
    }

    /// `response`.
    pub fn response(&self) -> Option<Cow<'a, str>> {
        self.param("response")
    }

    /// `algorithm` (absent means MD5, RFC 7616 §3.3).
    pub fn algorithm(&self) -> Option<Cow<'a, str>> {
        self.param("algorithm")
    }

    /// `cnonce`.
    pub fn cnonce(&self) -> Option<Cow<'a, str>> {
        self.param("cnonce")
    }

    /// `nc` (nonce count, 8 hex digits).
    pub fn nc(&self) -> Option<Cow<'a, str>> {
        self.param("nc")
    }

    /// `qop`: one value in credentials, a comma list in a challenge.
    pub fn qop(&self) -> Option<Cow<'a, str>> {
        self.param("qop")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<Cow<'a, str>> {
        self.param("opaque")
    }

    /// `stale=true` in a challenge (RFC 7616 §3.3).
    pub fn stale(&self) -> bool {
        self.param("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    }
}

struct AuthParamIter<'a> {
    c: Cursor<'a>,
}

impl<'a> Iterator for AuthParamIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let c = &mut self.c;
        c.skip_ws();
        let name = c.token()?;
        if !c.eat(b'=') {
            return None;
        }
        c.skip_ws();
        let value = if c.peek() == Some(b'"') {
            c.quoted()?
        } else {
            c.take_while(|b| b != b',' && !is_ws(b))
        };
        c.eat(b',');
        Some((name, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_credentials_rfc3261_22_4() {
        let a = AuthHeader::parse(
            r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
            "Authorization",
        )
        .unwrap();
        assert!(a.is_digest());
        assert_eq!(a.username().as_deref(), Some("bob"));
        assert_eq!(a.uri().as_deref(), Some("sip:bob@biloxi.com"));
        assert_eq!(a.qop().as_deref(), Some("auth"));
        assert_eq!(a.nc().as_deref(), Some("00000001"));
        assert_eq!(
            a.param("OPAQUE").as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
    }

    #[test]
    fn challenge_with_qop_list_and_stale() {
        let c = AuthHeader::parse(
            r#"Digest realm="a,b", qop="auth,auth-int", nonce="n", stale=TRUE, algorithm=SHA-256"#,
            "WWW-Authenticate",
        )
        .unwrap();
        assert_eq!(c.realm().as_deref(), Some("a,b"));
        assert_eq!(c.qop().as_deref(), Some("auth,auth-int"));
        assert!(c.stale());
        assert_eq!(c.algorithm().as_deref(), Some("SHA-256"));
    }

    #[test]
    fn other_schemes_rfc4475_regaut01() {
        let a =
            AuthHeader::parse("NoOneKnowsThisScheme opaque-data=here", "Authorization").unwrap();
        assert!(!a.is_digest());
        assert_eq!(a.param("opaque-data").as_deref(), Some("here"));
        let b = AuthHeader::parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Authorization").unwrap();
        assert_eq!(b.params_raw(), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(AuthHeader::parse("Digest username=\"open", "Authorization").is_err());
        assert!(AuthHeader::parse("Digest a=b c=d", "Authorization").is_err());
        assert!(AuthHeader::parse("", "Authorization").is_err());
    }
}
