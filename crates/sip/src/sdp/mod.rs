//! SDP, the Session Description Protocol (RFC 4566, updated by RFC 8866):
//! parse and serialize, plus the views the offer/answer code needs
//! (payload types with their rtpmap, direction, connection address per
//! media).
//!
//! Unlike SIP messages, a session description is owned (`String`s): it is
//! small, read once, and the offer/answer code edits it to build answers.

mod attribute;

pub use attribute::{Attribute, Direction, Fmtp, Rtpmap};

use std::fmt::{self, Write as _};

/// Why a session description was rejected; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not UTF-8.
    #[error("SDP is not UTF-8")]
    NotUtf8,
    /// A line is not `<type>=<value>`.
    #[error("line {line}: malformed SDP line")]
    BadLine {
        /// Line number.
        line: usize,
    },
    /// A mandatory line (`v`, `o`, `s`, `t`) is missing or out of order.
    #[error("missing or misplaced {0}= line")]
    Missing(char),
    /// A line's value does not follow its grammar.
    #[error("line {line}: bad {kind}= line")]
    BadValue {
        /// Line number.
        line: usize,
        /// The line type.
        kind: char,
    },
}

/// `o=` (RFC 4566 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-` when none).
    pub username: String,
    /// Session id (numeric string).
    pub session_id: String,
    /// Session version; incremented on every change of the offer.
    pub session_version: u64,
    /// Network type, `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// Address of the originator.
    pub address: String,
}

/// `c=` (RFC 4566 §5.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// Address (with `/ttl/count` for multicast, as written).
    pub address: String,
}

/// `b=` (RFC 4566 §5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// `CT`, `AS`, `TIAS`...
    pub kind: String,
    /// Kilobits per second (or as the modifier says).
    pub value: u64,
}

/// `t=` with its `r=` lines (RFC 4566 §5.9, §5.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds, 0 for unbounded).
    pub start: u64,
    /// Stop time.
    pub stop: u64,
    /// `r=` lines, as written.
    pub repeats: Vec<String>,
}

/// An `m=` section (RFC 4566 §5.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `application`, `image`...
    pub kind: String,
    /// Transport port; 0 marks a rejected or disabled stream (RFC 3264 §6).
    pub port: u16,
    /// Number of ports (`m=audio 49170/2 ...`).
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, `udptl`...
    pub proto: String,
    /// Formats: payload type numbers for RTP.
    pub formats: Vec<String>,
    /// `i=`.
    pub info: Option<String>,
    /// `c=` lines of this media (usually zero or one).
    pub connections: Vec<Connection>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=`.
    pub key: Option<String>,
    /// `a=` lines, in order.
    pub attributes: Vec<Attribute>,
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=`, always 0.
    pub version: u8,
    /// `o=`.
    pub origin: Origin,
    /// `s=` (a single space or `-` when there is none).
    pub session_name: String,
    /// `i=`.
    pub info: Option<String>,
    /// `u=`.
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines with their repeats.
    pub timings: Vec<Timing>,
    /// `z=`.
    pub zone: Option<String>,
    /// `k=`.
    pub key: Option<String>,
    /// Session-level `a=` lines.
    pub attributes: Vec<Attribute>,
    /// `m=` sections.
    pub media: Vec<Media>,
}

/// A payload type offered in an RTP `m=` line with what defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadType {
    /// The number, 0..=127.
    pub pt: u8,
    /// Its rtpmap, or the static assignment of RFC 3551 §6 (PCMU, GSM,
    /// G723, PCMA, G722, G729...) when there is no `a=rtpmap`.
    pub rtpmap: Option<Rtpmap>,
    /// Its `a=fmtp` parameters.
    pub fmtp: Option<String>,
}

fn split_ws(s: &str) -> Vec<&str> {
    s.split([' ', '\t']).filter(|p| !p.is_empty()).collect()
}

impl SessionDescription {
    /// Parses a session description. Lines end in CRLF or LF; unknown
    /// line types are refused, `a=` lines the crate does not model are kept
    /// as [`Attribute::Other`].
    pub fn parse(input: &[u8]) -> Result<SessionDescription, SdpError> {
        let text = std::str::from_utf8(input).map_err(|_| SdpError::NotUtf8)?;
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, l)| {
                let mut chars = l.chars();
                match (chars.next(), chars.next()) {
                    (Some(k), Some('=')) if k.is_ascii_lowercase() => {
                        Ok((i + 1, k, l.get(2..).unwrap_or("")))
                    }
                    _ => Err(SdpError::BadLine { line: i + 1 }),
                }
            })
            .peekable();
        let mut next_kind = |want: char| -> Result<(usize, &str), SdpError> {
            match lines.next().transpose()? {
                Some((n, k, v)) if k == want => Ok((n, v)),
                _ => Err(SdpError::Missing(want)),
            }
        };
        let (n, v) = next_kind('v')?;
        if v.trim() != "0" {
            return Err(SdpError::BadValue { line: n, kind: 'v' });
        }
        let (n, o) = next_kind('o')?;
        let origin = parse_origin(o).ok_or(SdpError::BadValue { line: n, kind: 'o' })?;
        let (_, s) = next_kind('s')?;
        let mut sd = SessionDescription {
            version: 0,
            origin,
            session_name: s.to_owned(),
            info: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timings: Vec::new(),
            zone: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        };
        for item in lines {
            let (n, k, v) = item?;
            let bad = SdpError::BadValue { line: n, kind: k };
            if let Some(m) = sd.media.last_mut() {
                match k {
                    'i' => m.info = Some(v.to_owned()),
                    'c' => m.connections.push(parse_connection(v).ok_or(bad)?),
                    'b' => m.bandwidths.push(parse_bandwidth(v).ok_or(bad)?),
                    'k' => m.key = Some(v.to_owned()),
                    'a' => m.attributes.push(Attribute::parse(v).ok_or(bad)?),
                    'm' => sd.media.push(parse_media(v).ok_or(bad)?),
                    _ => return Err(SdpError::BadLine { line: n }),
                }
                continue;
            }
            match k {
                'i' => sd.info = Some(v.to_owned()),
                'u' => sd.uri = Some(v.to_owned()),
                'e' => sd.emails.push(v.to_owned()),
                'p' => sd.phones.push(v.to_owned()),
                'c' => sd.connection = Some(parse_connection(v).ok_or(bad)?),
                'b' => sd.bandwidths.push(parse_bandwidth(v).ok_or(bad)?),
                't' => {
                    let p = split_ws(v);
                    let [start, stop] = p.as_slice() else {
                        return Err(bad);
                    };
                    sd.timings.push(Timing {
                        start: start.parse().map_err(|_| bad.clone())?,
                        stop: stop.parse().map_err(|_| bad.clone())?,
                        repeats: Vec::new(),
                    });
                }
                'r' => sd.timings.last_mut().ok_or(bad)?.repeats.push(v.to_owned()),
                'z' => sd.zone = Some(v.to_owned()),
                'k' => sd.key = Some(v.to_owned()),
                'a' => sd.attributes.push(Attribute::parse(v).ok_or(bad)?),
                'm' => sd.media.push(parse_media(v).ok_or(bad)?),
                _ => return Err(SdpError::BadLine { line: n }),
            }
        }
        if sd.timings.is_empty() {
            return Err(SdpError::Missing('t'));
        }
        Ok(sd)
    }

    /// Serializes with CRLF line ends, in the order RFC 4566 §5 requires.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// The connection that applies to media `index`: its own `c=`, else the
    /// session's (RFC 4566 §5.7).
    pub fn connection_for(&self, index: usize) -> Option<&Connection> {
        self.media
            .get(index)?
            .connections
            .first()
            .or(self.connection.as_ref())
    }

    /// The direction of media `index`: its own attribute, else the
    /// session-level one, else `sendrecv` (RFC 4566 §6, RFC 3264 §5.1).
    pub fn direction(&self, index: usize) -> Direction {
        let media = self
            .media
            .get(index)
            .and_then(|m| direction_in(&m.attributes));
        media
            .or_else(|| direction_in(&self.attributes))
            .unwrap_or(Direction::SendRecv)
    }
}

fn direction_in(attrs: &[Attribute]) -> Option<Direction> {
    attrs.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

impl Media {
    /// The payload types of an RTP media line, in preference order, with
    /// their rtpmap (explicit, else static) and fmtp. Formats that are not
    /// numbers 0..=127 are skipped.
    pub fn payload_types(&self) -> Vec<PayloadType> {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok().filter(|pt| *pt < 128))
            .map(|pt| PayloadType {
                pt,
                rtpmap: self.rtpmap(pt).cloned().or_else(|| Rtpmap::static_type(pt)),
                fmtp: self.fmtp(pt).map(str::to_owned),
            })
            .collect()
    }

    /// The explicit `a=rtpmap` for `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<&Rtpmap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtpmap(r) if r.payload_type == pt => Some(r),
            _ => None,
        })
    }

    /// The `a=fmtp` parameters for `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp(f) if f.payload_type == pt => Some(f.params.as_str()),
            _ => None,
        })
    }

    /// `a=ptime` in milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(p) => Some(*p),
            _ => None,
        })
    }

    /// This media's own direction attribute, if any (see
    /// [`SessionDescription::direction`] for the effective one).
    pub fn direction(&self) -> Option<Direction> {
        direction_in(&self.attributes)
    }

    /// `a=rtcp` port (RFC 3605).
    pub fn rtcp_port(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtcp { port, .. } => Some(*port),
            _ => None,
        })
    }
}

fn parse_origin(v: &str) -> Option<Origin> {
    let p = split_ws(v);
    let [username, session_id, version, net_type, addr_type, address] = p.as_slice() else {
        return None;
    };
    Some(Origin {
        username: (*username).to_owned(),
        session_id: (*session_id).to_owned(),
        session_version: version.parse().ok()?,
        net_type: (*net_type).to_owned(),
        addr_type: (*addr_type).to_owned(),
        address: (*address).to_owned(),
    })
}

fn parse_connection(v: &str) -> Option<Connection> {
    let p = split_ws(v);
    let [net_type, addr_type, address] = p.as_slice() else {
        return None;
    };
    Some(Connection {
        net_type: (*net_type).to_owned(),
        addr_type: (*addr_type).to_owned(),
        address: (*address).to_owned(),
    })
}

fn parse_bandwidth(v: &str) -> Option<Bandwidth> {
    let (kind, value) = v.split_once(':')?;
    if kind.is_empty() {
        return None;
    }
    Some(Bandwidth {
        kind: kind.to_owned(),
        value: value.trim().parse().ok()?,
    })
}

fn parse_media(v: &str) -> Option<Media> {
    let p = split_ws(v);
    let [kind, port, proto, formats @ ..] = p.as_slice() else {
        return None;
    };
    let (port, port_count) = match port.split_once('/') {
        Some((p, c)) => (p.parse().ok()?, Some(c.parse().ok()?)),
        None => (port.parse().ok()?, None),
    };
    Some(Media {
        kind: (*kind).to_owned(),
        port,
        port_count,
        proto: (*proto).to_owned(),
        formats: formats.iter().map(|f| (*f).to_owned()).collect(),
        info: None,
        connections: Vec::new(),
        bandwidths: Vec::new(),
        key: None,
        attributes: Vec::new(),
    })
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(f, "v={}\r\n", self.version)?;
        write!(
            f,
            "o={} {} {} {} {} {}\r\n",
            o.username, o.session_id, o.session_version, o.net_type, o.addr_type, o.address
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        if let Some(i) = &self.info {
            write!(f, "i={i}\r\n")?;
        }
        if let Some(u) = &self.uri {
            write!(f, "u={u}\r\n")?;
        }
        for e in &self.emails {
            write!(f, "e={e}\r\n")?;
        }
        for p in &self.phones {
            write!(f, "p={p}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={}:{}\r\n", b.kind, b.value)?;
        }
        for t in &self.timings {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            for r in &t.repeats {
                write!(f, "r={r}\r\n")?;
            }
        }
        if let Some(z) = &self.zone {
            write!(f, "z={z}\r\n")?;
        }
        if let Some(k) = &self.key {
            write!(f, "k={k}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            let mut line = format!("m={} {}", m.kind, m.port);
            if let Some(c) = m.port_count {
                let _ = write!(line, "/{c}");
            }
            let _ = write!(line, " {}", m.proto);
            for fmt_ in &m.formats {
                let _ = write!(line, " {fmt_}");
            }
            write!(f, "{line}\r\n")?;
            if let Some(i) = &m.info {
                write!(f, "i={i}\r\n")?;
            }
            for c in &m.connections {
                write!(f, "c={c}\r\n")?;
            }
            for b in &m.bandwidths {
                write!(f, "b={}:{}\r\n", b.kind, b.value)?;
            }
            if let Some(k) = &m.key {
                write!(f, "k={k}\r\n")?;
            }
            for a in &m.attributes {
                write!(f, "a={a}\r\n")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
