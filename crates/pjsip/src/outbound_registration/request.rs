//! The REGISTER requests of one registration (RFC 3261 §10.2): one
//! Call-ID and From tag for its whole life, a growing CSeq, our Contact
//! (with the `line` parameter when `line=yes`, the RFC 5626 flow
//! parameters with `support_outbound`), the extensions it supports, the
//! RFC 3329 negotiation headers with `security_negotiation=mediasec`, and
//! what a 2xx grants.

use obelus_sip::{
    ContactList, Method, Request, RequestBuilder, Response, new_branch, new_call_id, new_tag,
};

use super::config::Config;
use super::outbound;
use super::security::Agreement;

/// The dialog-like state every REGISTER of a registration shares.
#[derive(Debug, Clone)]
pub(crate) struct Requests {
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The `line` parameter value (`line=yes`).
    pub(crate) line: Option<String>,
    /// The `+sip.instance` of the flow (`support_outbound`).
    instance: Option<String>,
    /// The RFC 3329 agreement (`security_negotiation=mediasec`).
    pub(crate) security: Option<Agreement>,
}

/// A `line` token as Asterisk makes them: eight lower-case letters.
fn line_token() -> String {
    new_tag()
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| char::from(b'a' + b % 26))
        .take(8)
        .collect()
}

impl Requests {
    /// A registration's identifiers, fresh (`systemname` is this
    /// server's, for the stable RFC 5626 instance id).
    pub(crate) fn new(config: &Config, systemname: &str) -> Requests {
        Requests {
            call_id: new_call_id(None),
            from_tag: new_tag(),
            cseq: 0,
            line: config.line.then(line_token),
            instance: config
                .support_outbound
                .then(|| outbound::instance(systemname, &config.id)),
            security: config.security_mechanisms.clone().map(Agreement::new),
        }
    }

    /// Our Contact URI at `host` (`host:port` we are reached at) over
    /// `transport` (`UDP`, `TCP`, ...: named in the URI unless UDP, so the
    /// server's requests come back over the same kind of transport).
    pub(crate) fn contact_uri(&self, config: &Config, host: &str, transport: &str) -> String {
        let mut uri = format!("sip:{}@{host}", config.contact_user);
        if !transport.eq_ignore_ascii_case("udp") {
            uri.push_str(";transport=");
            uri.push_str(&transport.to_ascii_lowercase());
        }
        if let Some(line) = &self.line {
            uri.push_str(";line=");
            uri.push_str(line);
        }
        if self.instance.is_some() {
            uri.push_str(";ob");
        }
        uri
    }

    /// A REGISTER asking for `expires` seconds (0 removes the binding),
    /// sent from `host` over `transport` (`UDP`).
    pub(crate) fn register(
        &mut self,
        config: &Config,
        expires: u32,
        transport: &str,
        host: &str,
    ) -> Result<Request, obelus_sip::ParseError> {
        self.cseq += 1;
        let mut contact = format!("<{}>", self.contact_uri(config, host, transport));
        if let Some(instance) = &self.instance {
            contact.push_str(&outbound::contact_params(instance));
        }
        let params = config.contact_header_params.trim_start_matches(';');
        if !params.is_empty() {
            contact.push(';');
            contact.push_str(params);
        }
        let user_agent = if config.user_agent.is_empty() {
            format!("Obelus {}", obelus_core::VERSION)
        } else {
            config.user_agent.clone()
        };
        let mut b = RequestBuilder::new(Method::Register, config.server_uri.as_str())
            .header(
                "Via",
                format!("SIP/2.0/{transport} {host};rport;branch={}", new_branch()),
            )
            .header("Max-Forwards", "70");
        if !config.outbound_proxy.is_empty() {
            b = b.header("Route", format!("<{};lr>", config.outbound_proxy));
        }
        b = b
            .header(
                "From",
                format!("<{}>;tag={}", config.client_uri, self.from_tag),
            )
            .header("To", format!("<{}>", config.client_uri))
            .header("Call-ID", self.call_id.clone())
            .header("CSeq", format!("{} REGISTER", self.cseq))
            .header("Contact", contact)
            .header("Expires", expires.to_string())
            .header("Allow", crate::stack::ALLOW);
        let supported: Vec<&str> = [
            (config.support_path, crate::path::TAG),
            (self.instance.is_some(), outbound::TAG),
        ]
        .into_iter()
        .filter_map(|(on, tag)| on.then_some(tag))
        .collect();
        if !supported.is_empty() {
            b = b.header("Supported", supported.join(", "));
        }
        if let Some(security) = &self.security {
            b = security.add(b);
        }
        b.header("User-Agent", user_agent).build()
    }

    /// Continues from the last request sent (digest retries raised the
    /// CSeq).
    pub(crate) fn sent(&mut self, last: &Request) {
        self.cseq = self.cseq.max(last.headers().cseq().seq);
    }
}

/// `user@host:port` of a SIP URI, the part a registrar keeps when it
/// echoes our Contact.
fn address_of(uri: &obelus_sip::Uri<'_>) -> String {
    let host = uri.host().map(|h| h.to_string()).unwrap_or_default();
    format!(
        "{}@{}:{}",
        uri.user().unwrap_or(""),
        host.to_ascii_lowercase(),
        uri.port().unwrap_or(5060)
    )
}

/// The expiry a 2xx grants our contact (`ours`): its `expires` parameter
/// in the response's Contact list, else the Expires header; `None` when
/// the response says neither.
pub(crate) fn granted(response: &Response, ours: &str) -> Option<u32> {
    let h = response.headers();
    let ours = obelus_sip::Uri::parse(ours).ok().map(|u| address_of(&u));
    if let (Ok(ContactList::Addresses(list)), Some(ours)) = (h.contacts(), ours.as_ref())
        && let Some(mine) = list.iter().find(|c| &address_of(&c.uri()) == ours)
        && let Ok(Some(expires)) = mine.expires()
    {
        return Some(expires);
    }
    h.expires().ok().flatten()
}

/// Retry-After in seconds (RFC 3261 §20.33: `delta-seconds [comment]
/// *(;params)`).
pub(crate) fn retry_after(response: &Response) -> Option<u32> {
    let value = response.headers().get_raw("Retry-After")?;
    value
        .split([';', '(', ' '])
        .next()
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    fn config(line: bool) -> Config {
        let ty = std::sync::Arc::new(crate::objects::registration::object_type().unwrap());
        let mut o = ty.new_object("trunk");
        o.set("server_uri", "sip:192.0.2.1:5070").unwrap();
        o.set("client_uri", "sip:alice@192.0.2.1").unwrap();
        o.set("contact_header_params", "+sip.instance=\"x\"")
            .unwrap();
        if line {
            o.set("line", "yes").unwrap();
            o.set("endpoint", "trunk").unwrap();
        }
        Config::from_object(&o).unwrap()
    }

    /// RFC 3261 §10.2: To and From are the AOR, one Call-ID, CSeq grows;
    /// the Contact carries line= when asked, and Expires says how long.
    #[test]
    fn register_requests() {
        let c = config(true);
        let mut r = Requests::new(&c, "pbx");
        let first = r.register(&c, 3600, "UDP", "192.0.2.9:5060").unwrap();
        let second = r.register(&c, 0, "UDP", "192.0.2.9:5060").unwrap();
        assert_eq!(first.uri_str(), "sip:192.0.2.1:5070");
        let (h1, h2) = (first.headers(), second.headers());
        assert_eq!(h1.call_id(), h2.call_id());
        assert_eq!(h1.from().unwrap().tag(), h2.from().unwrap().tag());
        assert_eq!(h1.to().unwrap().uri().as_str(), "sip:alice@192.0.2.1");
        assert_eq!((h1.cseq().seq, h2.cseq().seq), (1, 2));
        assert_eq!(h1.expires().unwrap(), Some(3600));
        assert_eq!(h2.expires().unwrap(), Some(0));
        let line = r.line.clone().unwrap();
        assert_eq!(line.len(), 8);
        assert!(line.bytes().all(|b| b.is_ascii_lowercase()));
        let contact = h1.get_raw("Contact").unwrap();
        assert_eq!(
            contact,
            format!("<sip:s@192.0.2.9:5060;line={line}>;+sip.instance=\"x\"")
        );
        assert!(h1.get_raw("Route").is_none());
        assert!(h1.user_agent().is_some_and(|ua| ua.starts_with("Obelus ")));
        let proxied = Config {
            outbound_proxy: "sip:proxy.example.com:5070".into(),
            user_agent: "Trunk/1".into(),
            ..c.clone()
        };
        let via_proxy = r.register(&proxied, 60, "UDP", "192.0.2.9:5060").unwrap();
        let h = via_proxy.headers();
        assert_eq!(h.get_raw("Route"), Some("<sip:proxy.example.com:5070;lr>"));
        assert_eq!(h.user_agent(), Some("Trunk/1"));
        assert_eq!(via_proxy.uri_str(), "sip:192.0.2.1:5070");
        assert_eq!(Requests::new(&config(false), "pbx").line, None);
        assert!(h1.get_raw("Supported").is_none());
        assert!(h1.get_raw("Security-Client").is_none());
        let retried = obelus_sip::digest::client::retry(&second, &Vec::new())
            .build()
            .unwrap();
        r.sent(&retried);
        let third = r.register(&c, 60, "UDP", "192.0.2.9:5060").unwrap();
        assert_eq!(third.headers().cseq().seq, 4);
    }

    /// `support_path` and `support_outbound` (RFC 3327, RFC 5626 §4.2):
    /// the tags in Supported, the flow in our Contact; mediasec (RFC 3329)
    /// adds its negotiation headers.
    #[test]
    fn extensions_show_in_the_register() {
        let c = Config {
            support_path: true,
            support_outbound: true,
            security_mechanisms: Some(vec!["sdes-srtp;mediasec".into()]),
            contact_header_params: String::new(),
            ..config(false)
        };
        let mut r = Requests::new(&c, "pbx");
        let req = r.register(&c, 600, "TCP", "192.0.2.9:5060").unwrap();
        let h = req.headers();
        assert_eq!(h.get_raw("Supported"), Some("path, outbound"));
        let instance = super::outbound::instance("pbx", "trunk");
        assert_eq!(
            h.get_raw("Contact").unwrap(),
            format!(
                "<sip:s@192.0.2.9:5060;transport=tcp;ob>;reg-id=1;+sip.instance=\"<{instance}>\""
            )
        );
        assert_eq!(
            r.contact_uri(&c, "192.0.2.9:5060", "TCP"),
            "sip:s@192.0.2.9:5060;transport=tcp;ob"
        );
        assert_eq!(h.get_raw("Security-Client"), Some("sdes-srtp;mediasec"));
        assert_eq!(h.get_raw("Require"), Some("mediasec"));
        assert_eq!(h.get_raw("Proxy-Require"), Some("mediasec"));
        let path_only = Config {
            support_path: true,
            ..config(false)
        };
        let req = Requests::new(&path_only, "pbx")
            .register(&path_only, 600, "UDP", "192.0.2.9:5060")
            .unwrap();
        assert_eq!(req.headers().get_raw("Supported"), Some("path"));
        assert!(!req.headers().get_raw("Contact").unwrap().contains("reg-id"));
    }

    /// The grant is our contact's expires, else Expires; Retry-After is
    /// read with its comment.
    #[test]
    fn what_a_2xx_grants() {
        let ok = Response::parse(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:other@192.0.2.7:5060>;expires=50, <sip:s@192.0.2.9:5060;line=abc>;expires=120\r\n\
Expires: 3600\r\nRetry-After: 18 (busy);duration=5\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(granted(&ok, "sip:s@192.0.2.9:5060;line=abc"), Some(120));
        assert_eq!(granted(&ok, "sip:s@192.0.2.9"), Some(120), "default port");
        assert_eq!(granted(&ok, "sip:s@192.0.2.10:5060"), Some(3600));
        assert_eq!(retry_after(&ok), Some(18));
    }
}
