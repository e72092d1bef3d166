//! RFC 3329 security agreement on REGISTER, as Asterisk 21 does it for
//! `security_negotiation=mediasec` (Deutsche Telekom's "mediasec" trunks):
//!
//! - every REGISTER offers `security_mechanisms` in `Security-Client`
//!   headers (one per mechanism, without q-values), with `Require:
//!   mediasec` and `Proxy-Require: mediasec`;
//! - a 401/407 or 494 (Security Agreement Required) naming the server's
//!   mechanisms in `Security-Server` is answered by a REGISTER that echoes
//!   them in `Security-Verify` (RFC 3329 §2.3.1: as received), and so is
//!   every REGISTER after it (refreshes, un-REGISTERs) until the server
//!   names others.
//!
//! Only the negotiation headers: no TLS or IPsec is set up from them (the
//! mechanisms Asterisk knows, `msrp-tls`, `sdes-srtp` and `dtls-srtp`,
//! are about media).

use obelus_sip::parse::split_list;
use obelus_sip::{RequestBuilder, Response};

/// The mechanism names Asterisk accepts in `security_mechanisms`.
const NAMES: [&str; 3] = ["msrp-tls", "sdes-srtp", "dtls-srtp"];

/// The option tag the negotiation requires.
const TAG: &str = "mediasec";

/// The `security_mechanisms` of registration `id` as Security-Client
/// values: comma-separated mechanisms (`sdes-srtp;mediasec`), the name
/// lower-cased, its parameters kept but a q-value (which Security-Client
/// does not carry). An unknown name is left out with a warning, as
/// Asterisk drops it.
pub(crate) fn mechanisms(text: &str, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for mechanism in text.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let mut parts = mechanism.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        if !NAMES.contains(&name.as_str()) {
            tracing::warn!(
                "PJSIP outbound registration '{id}': unknown security mechanism '{mechanism}' ignored (known: {})",
                NAMES.join(", ")
            );
            continue;
        }
        let mut value = name;
        for param in parts.filter(|p| !p.is_empty()) {
            if !param.to_ascii_lowercase().starts_with("q=") {
                value.push(';');
                value.push_str(param);
            }
        }
        out.push(value);
    }
    if out.is_empty() {
        tracing::warn!(
            "PJSIP outbound registration '{id}': security_negotiation=mediasec without a security mechanism (set security_mechanisms, e.g. sdes-srtp;mediasec)"
        );
    }
    out
}

/// One registration's side of the agreement: what it offers, and what the
/// server last said it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Agreement {
    client: Vec<String>,
    server: Vec<String>,
}

impl Agreement {
    /// An agreement offering `client` (from [`mechanisms`]).
    pub(crate) fn new(client: Vec<String>) -> Agreement {
        Agreement {
            client,
            server: Vec::new(),
        }
    }

    /// A new REGISTER with the negotiation headers.
    pub(crate) fn add(&self, mut b: RequestBuilder) -> RequestBuilder {
        for mechanism in &self.client {
            b = b.header("Security-Client", mechanism.clone());
        }
        b = self.verify(b);
        b.header("Require", TAG).header("Proxy-Require", TAG)
    }

    /// A REGISTER sent again (built from the last one, which carried the
    /// other headers): its Security-Verify made what the server last said.
    pub(crate) fn reverify(&self, b: RequestBuilder) -> RequestBuilder {
        self.verify(b.remove_header("Security-Verify"))
    }

    fn verify(&self, mut b: RequestBuilder) -> RequestBuilder {
        for mechanism in &self.server {
            b = b.header("Security-Verify", mechanism.clone());
        }
        b
    }

    /// Takes the server's mechanisms from a response's `Security-Server`
    /// headers; true when it named any (then they replace the old ones).
    pub(crate) fn learn(&mut self, response: &Response) -> bool {
        let server: Vec<String> = response
            .headers()
            .get_all_raw("Security-Server")
            .flat_map(split_list)
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        if server.is_empty() {
            return false;
        }
        self.server = server;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_sip::{Method, Request};

    fn register(b: RequestBuilder) -> Request {
        b.header("Via", "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1")
            .header("From", "<sip:a@b>;tag=1")
            .header("To", "<sip:a@b>")
            .header("Call-ID", "c")
            .header("CSeq", "1 REGISTER")
            .build()
            .unwrap()
    }

    fn values(req: &Request, name: &str) -> Vec<String> {
        req.headers().get_all_raw(name).map(str::to_owned).collect()
    }

    /// Asterisk's parsing: names checked and lower-cased, q-values dropped
    /// from Security-Client, unknown mechanisms left out.
    #[test]
    fn configured_mechanisms() {
        assert_eq!(
            mechanisms(
                "sdes-srtp;mediasec, DTLS-SRTP;q=0.5;mediasec, ipsec-3gpp",
                "t"
            ),
            vec!["sdes-srtp;mediasec", "dtls-srtp;mediasec"]
        );
        assert!(mechanisms("", "t").is_empty());
    }

    /// Telekom's flow (RFC 3329 §2.3.1): Security-Client with Require and
    /// Proxy-Require on every REGISTER; after a challenge carrying
    /// Security-Server, each mechanism echoed in Security-Verify.
    #[test]
    fn the_server_mechanisms_are_echoed_after_its_challenge() {
        let mut a = Agreement::new(vec!["sdes-srtp;mediasec".into()]);
        let first = register(a.add(RequestBuilder::new(Method::Register, "sip:reg.example")));
        assert_eq!(
            values(&first, "Security-Client"),
            vec!["sdes-srtp;mediasec"]
        );
        assert_eq!(values(&first, "Require"), vec!["mediasec"]);
        assert_eq!(values(&first, "Proxy-Require"), vec!["mediasec"]);
        assert!(values(&first, "Security-Verify").is_empty());

        let challenge = Response::parse(
            &b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n\
Security-Server: msrp-tls;mediasec\r\n\
Security-Server: sdes-srtp;mediasec, dtls-srtp;mediasec;q=0.1\r\n\
Content-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        assert!(a.learn(&challenge));
        let retry = obelus_sip::digest::client::retry(&first, &Vec::new());
        let second = a.reverify(retry).build().unwrap();
        assert_eq!(
            values(&second, "Security-Verify"),
            vec![
                "msrp-tls;mediasec",
                "sdes-srtp;mediasec",
                "dtls-srtp;mediasec;q=0.1"
            ]
        );
        assert_eq!(
            values(&second, "Security-Client"),
            vec!["sdes-srtp;mediasec"]
        );
        assert_eq!(values(&second, "Require"), vec!["mediasec"]);
        // A refresh says the same.
        let refresh = register(a.add(RequestBuilder::new(Method::Register, "sip:reg.example")));
        assert_eq!(values(&refresh, "Security-Verify").len(), 3);
        // A response without Security-Server changes nothing.
        let ok = Response::parse(
            &b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n\
Content-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        assert!(!a.learn(&ok));
        let again = a
            .reverify(obelus_sip::digest::client::retry(&second, &Vec::new()))
            .build()
            .unwrap();
        assert_eq!(values(&again, "Security-Verify").len(), 3, "not doubled");
    }
}
