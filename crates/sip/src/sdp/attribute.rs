//! `a=` attributes (RFC 4566 §5.13, §6; RFC 3605 `rtcp`).

use std::fmt;

/// Media direction (RFC 4566 §6, RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answerer uses for an offer with this one
    /// (RFC 3264 §6.1): sendonly is answered recvonly and vice versa.
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// Payload type number.
    pub payload_type: u8,
    /// Encoding name as written (`PCMU`, `opus`, `telephone-event`).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channels (audio), if given.
    pub channels: Option<u16>,
}

impl Rtpmap {
    /// The static payload types of RFC 3551 §6 that phones send without
    /// rtpmap. G722 is 8000 by the RFC's historic error (§4.5.2).
    pub fn static_type(pt: u8) -> Option<Rtpmap> {
        let (encoding, clock_rate, channels) = match pt {
            0 => ("PCMU", 8000, Some(1)),
            3 => ("GSM", 8000, Some(1)),
            4 => ("G723", 8000, Some(1)),
            5 => ("DVI4", 8000, Some(1)),
            6 => ("DVI4", 16000, Some(1)),
            7 => ("LPC", 8000, Some(1)),
            8 => ("PCMA", 8000, Some(1)),
            9 => ("G722", 8000, Some(1)),
            10 => ("L16", 44100, Some(2)),
            11 => ("L16", 44100, Some(1)),
            12 => ("QCELP", 8000, Some(1)),
            13 => ("CN", 8000, Some(1)),
            14 => ("MPA", 90000, None),
            15 => ("G728", 8000, Some(1)),
            18 => ("G729", 8000, Some(1)),
            26 => ("JPEG", 90000, None),
            31 => ("H261", 90000, None),
            32 => ("MPV", 90000, None),
            34 => ("H263", 90000, None),
            _ => return None,
        };
        Some(Rtpmap {
            payload_type: pt,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        })
    }

    fn parse(v: &str) -> Option<Rtpmap> {
        let (pt, rest) = v.split_once(' ')?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty())?.to_owned();
        let clock_rate = parts.next()?.parse().ok()?;
        let channels = parts.next().map(str::parse).transpose().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Rtpmap {
            payload_type: pt.parse().ok().filter(|p| *p < 128)?,
            encoding,
            clock_rate,
            channels,
        })
    }
}

/// `a=fmtp:<pt> <params>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// Payload type number.
    pub payload_type: u8,
    /// Format parameters as written (`0-16`, `mode=20`, ...).
    pub params: String,
}

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `a=rtpmap`.
    Rtpmap(Rtpmap),
    /// `a=fmtp`.
    Fmtp(Fmtp),
    /// `a=ptime` in ms.
    Ptime(u32),
    /// `a=maxptime` in ms.
    MaxPtime(u32),
    /// `a=sendrecv` / `sendonly` / `recvonly` / `inactive`.
    Direction(Direction),
    /// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
    Rtcp {
        /// RTCP port.
        port: u16,
        /// Optional address part, as written.
        address: Option<String>,
    },
    /// Any other attribute, kept as written.
    Other {
        /// Attribute name.
        name: String,
        /// Value after `:`, if any.
        value: Option<String>,
    },
}

impl Attribute {
    /// Parses the text after `a=`. `None` only when a modelled attribute
    /// (rtpmap, fmtp, ptime, maxptime, rtcp) is malformed.
    pub fn parse(v: &str) -> Option<Attribute> {
        let (name, value) = match v.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (v, None),
        };
        if name.is_empty() {
            return None;
        }
        Some(match (name, value) {
            ("rtpmap", Some(v)) => Attribute::Rtpmap(Rtpmap::parse(v)?),
            ("fmtp", Some(v)) => {
                let (pt, params) = v.split_once(' ').unwrap_or((v, ""));
                Attribute::Fmtp(Fmtp {
                    payload_type: pt.parse().ok().filter(|p| *p < 128)?,
                    params: params.trim().to_owned(),
                })
            }
            ("ptime", Some(v)) => Attribute::Ptime(v.trim().parse().ok()?),
            ("maxptime", Some(v)) => Attribute::MaxPtime(v.trim().parse().ok()?),
            ("rtcp", Some(v)) => {
                let (port, addr) = match v.split_once(' ') {
                    Some((p, a)) => (p, Some(a.trim().to_owned())),
                    None => (v, None),
                };
                Attribute::Rtcp {
                    port: port.trim().parse().ok()?,
                    address: addr,
                }
            }
            ("sendrecv", None) => Attribute::Direction(Direction::SendRecv),
            ("sendonly", None) => Attribute::Direction(Direction::SendOnly),
            ("recvonly", None) => Attribute::Direction(Direction::RecvOnly),
            ("inactive", None) => Attribute::Direction(Direction::Inactive),
            (n, v) => Attribute::Other {
                name: n.to_owned(),
                value: v.map(str::to_owned),
            },
        })
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Rtpmap(r) => {
                write!(
                    f,
                    "rtpmap:{} {}/{}",
                    r.payload_type, r.encoding, r.clock_rate
                )?;
                if let Some(c) = r.channels {
                    write!(f, "/{c}")?;
                }
                Ok(())
            }
            Attribute::Fmtp(x) => write!(f, "fmtp:{} {}", x.payload_type, x.params),
            Attribute::Ptime(p) => write!(f, "ptime:{p}"),
            Attribute::MaxPtime(p) => write!(f, "maxptime:{p}"),
            Attribute::Direction(d) => f.write_str(d.as_str()),
            Attribute::Rtcp {
                port,
                address: Some(a),
            } => write!(f, "rtcp:{port} {a}"),
            Attribute::Rtcp {
                port,
                address: None,
            } => write!(f, "rtcp:{port}"),
            Attribute::Other {
                name,
                value: Some(v),
            } => write!(f, "{name}:{v}"),
            Attribute::Other { name, value: None } => f.write_str(name),
        }
    }
}
