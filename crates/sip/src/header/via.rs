//! The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 `rport`).

use std::fmt;
use std::net::IpAddr;

use crate::error::HeaderError;
use crate::parse::{Cursor, Params, parse_params_finding};
use crate::uri::{Host, parse_host};

/// One Via value: `SIP/2.0/UDP host:port;branch=...;received=...;rport`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    protocol: &'a str,
    version: &'a str,
    transport: &'a str,
    host: Host<'a>,
    port: Option<u16>,
    params: Params<'a>,
    /// `params.value("branch")`, found while the parameters were parsed.
    branch: Option<&'a str>,
}

impl fmt::Debug for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Via")
            .field("protocol", &self.protocol)
            .field("version", &self.version)
            .field("transport", &self.transport)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("params", &self.params)
            .finish()
    }
}

const ERR: HeaderError = HeaderError { name: "Via" };

impl<'a> Via<'a> {
    /// Parses one Via value (one element of the comma-separated list).
    /// White space is allowed around `/`, `:` and `;` (RFC 3261 §25.1 `SLASH`).
    pub fn parse(s: &'a str) -> Result<Via<'a>, HeaderError> {
        let mut c = Cursor::new(s);
        let via = Via::parse_at(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ERR);
        }
        Ok(via)
    }

    /// The first value of a Via header line, parsed in place: `Some` when
    /// it is followed by the end of the line or by a `,` (what
    /// [`crate::parse::split_list`] would cut it at: nothing a valid value
    /// holds outside a quoted string is a `,`, `"` or `<`), `None` when the
    /// line needs the full split (a leading empty element, a bad value).
    pub(crate) fn parse_first(line: &'a str) -> Option<Via<'a>> {
        let mut c = Cursor::new(line);
        let via = Via::parse_at(&mut c).ok()?;
        c.skip_ws();
        (c.at_end() || c.peek() == Some(b',')).then_some(via)
    }

    /// Parses a value at the cursor, stopping after its parameters.
    fn parse_at(c: &mut Cursor<'a>) -> Result<Via<'a>, HeaderError> {
        c.skip_ws();
        let protocol = c.token().ok_or(ERR)?;
        if !c.eat(b'/') {
            return Err(ERR);
        }
        c.skip_ws();
        let version = c.token().ok_or(ERR)?;
        if !c.eat(b'/') {
            return Err(ERR);
        }
        c.skip_ws();
        let transport = c.token().ok_or(ERR)?;
        let before = c.pos();
        c.skip_ws();
        if c.pos() == before {
            return Err(ERR);
        }
        let (host, used) = parse_host(c.rest()).ok_or(ERR)?;
        c.set_pos(c.pos() + used);
        let mut port = None;
        if c.eat(b':') {
            c.skip_ws();
            let digits = c.take_while(|b| b.is_ascii_digit());
            port = Some(digits.parse::<u16>().map_err(|_| ERR)?);
        }
        let (params, branch) = parse_params_finding(c, "branch").ok_or(ERR)?;
        Ok(Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
            branch: branch.flatten(),
        })
    }

    /// The protocol name, `SIP` in practice.
    pub fn protocol(&self) -> &'a str {
        self.protocol
    }

    /// The protocol version, `2.0` in practice.
    pub fn version(&self) -> &'a str {
        self.version
    }

    /// The transport token as written (`UDP`, `TCP`, `TLS`, `WS`, ... compare
    /// case-insensitively; unknown transports are legal, RFC 4475 §3.1.1.10).
    pub fn transport(&self) -> &'a str {
        self.transport
    }

    /// The sent-by host.
    pub fn host(&self) -> Host<'a> {
        self.host
    }

    /// The sent-by port, if written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// All Via parameters.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The `branch` parameter: the transaction id when it starts with the
    /// magic cookie `z9hG4bK` (RFC 3261 §8.1.1.7).
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }

    /// True when the branch carries the RFC 3261 magic cookie, so it can
    /// be used as a transaction id (§17.2.3).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter as written.
    pub fn received(&self) -> Option<&'a str> {
        self.params.value("received")
    }

    /// The `received` parameter as an address (IPv6 with or without brackets).
    pub fn received_ip(&self) -> Option<IpAddr> {
        let r = self.received()?;
        let r = r
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(r);
        r.parse().ok()
    }

    /// `rport` (RFC 3581): `None` if absent, `Some(None)` when requested
    /// (bare `;rport`), `Some(Some(port))` once filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.value("maddr")
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params.value("ttl").and_then(|t| t.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_params_rfc3261_20_42() {
        let v = Via::parse("SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7;received=192.0.2.207;rport=5061").unwrap();
        assert_eq!(v.transport(), "UDP");
        assert_eq!(v.host(), Host::Domain("erlang.bell-telephone.com"));
        assert_eq!(v.port(), Some(5060));
        assert_eq!(v.branch(), Some("z9hG4bK87asdks7"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.received_ip(), Some("192.0.2.207".parse().unwrap()));
        assert_eq!(v.rport(), Some(Some(5061)));
    }

    #[test]
    fn lws_inside_via_rfc4475_wsinv() {
        let v = Via::parse("SIP  /   2.0   /UDP     192.0.2.2;rport;branch=390skdjuw").unwrap();
        assert_eq!(v.version(), "2.0");
        assert_eq!(v.host(), Host::Ipv4("192.0.2.2".parse().unwrap()));
        assert_eq!(v.rport(), Some(None));
        assert!(!v.has_rfc3261_branch());
    }

    #[test]
    fn ipv6_sent_by_and_received_rfc5118() {
        let v = Via::parse(
            "SIP/2.0/TCP [2001:db8::9:1]:5070;branch=z9hG4bKas3;received=2001:db8::9:255",
        )
        .unwrap();
        assert_eq!(v.host(), Host::Ipv6("2001:db8::9:1".parse().unwrap()));
        assert_eq!(v.port(), Some(5070));
        assert_eq!(v.received_ip(), Some("2001:db8::9:255".parse().unwrap()));
    }

    #[test]
    fn first_value_in_place_is_the_first_list_element() {
        for line in [
            "SIP/2.0/UDP a;branch=z9hG4bK1",
            "SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/TCP b",
            "SIP / 2.0 / UDP [2001:db8::1] : 5060 ; branch = x ;rport,SIP/2.0/UDP b",
            "SIP/2.0/UDP a;x=\"q,\\\"<\";branch=y,SIP/2.0/UDP b",
        ] {
            let first = crate::parse::split_list(line).next().unwrap();
            assert_eq!(Via::parse_first(line), Via::parse(first).ok(), "{line}");
            assert!(Via::parse_first(line).is_some(), "{line}");
        }
        // Lines the split has to handle.
        for line in [
            ", SIP/2.0/UDP a",
            "SIP/2.0/UDP a junk",
            "SIP/2.0/UDP a;x=<b,c>",
            "",
        ] {
            assert_eq!(Via::parse_first(line), None, "{line}");
        }
    }

    #[test]
    fn malformed_vias() {
        for bad in [
            "",
            "SIP/2.0",
            "SIP/2.0/UDP",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP host:x",
            "SIP/2.0/UDP host;",
            "SIP/2.0/UDP host junk",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }
}
