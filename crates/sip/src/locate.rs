//! Locating SIP servers (RFC 3263 §4), sans-IO.
//!
//! A [`Locator`] turns a SIP or SIPS URI into the ordered list of
//! `(transport, address)` pairs a request is to be tried at. It never
//! touches the network: it says which DNS queries it needs
//! ([`Locator::poll_query`]), takes their answers
//! ([`Locator::handle_answer`]) and, once it has what it needs, yields the
//! targets ([`Locator::poll_result`]). The caller owns the resolver, the
//! cache and the clock; the random choices of RFC 2782 come from a source
//! the caller may replace ([`Locator::with_random`]), so tests are exact.
//!
//! The steps, as §4.1 and §4.2 order them:
//! - a numeric host is the target itself (port 5060, 5061 for TLS);
//! - a host name with an explicit port is looked up with A/AAAA only;
//! - a `transport=` parameter (or a transport the caller forces) means an
//!   SRV lookup for that transport only;
//! - otherwise NAPTR records of the host pick transports and SRV names
//!   (services `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`, by order and preference);
//!   without usable NAPTR records, SRV lookups of `_sip._udp`, `_sip._tcp`
//!   and `_sips._tcp` for the transports the caller supports;
//! - SRV records are ordered by priority, and by weighted random choice
//!   within a priority (RFC 2782); their targets are looked up with A/AAAA;
//! - without any SRV record, the host's own A/AAAA records are used with
//!   the transport's default port.
//!
//! The later targets in the list are the failover order: a client that gets
//! no answer (a transport error or a timeout) from one tries the next.
//!
//! ```
//! use obelus_sip::Uri;
//! use obelus_sip::locate::{Locator, Options, Record, RecordType, Transport};
//!
//! let uri = Uri::parse("sip:200@pbx.example;transport=udp").unwrap();
//! let mut locator = Locator::new(&uri, &Options::default()).unwrap();
//! let q = locator.poll_query().unwrap();
//! assert_eq!((q.name.as_str(), q.rtype), ("_sip._udp.pbx.example", RecordType::Srv));
//! locator.handle_answer(&q, Ok(vec![Record::srv(10, 100, 5080, "sip1.pbx.example.")]));
//! let mut queries = Vec::new();
//! while let Some(q) = locator.poll_query() {
//!     queries.push(q);
//! }
//! for q in &queries {
//!     let answer = match q.rtype {
//!         RecordType::A => vec![Record::A("192.0.2.10".parse().unwrap())],
//!         _ => vec![],
//!     };
//!     locator.handle_answer(q, Ok(answer));
//! }
//! let targets = locator.poll_result().unwrap().unwrap();
//! assert_eq!(targets[0].transport, Transport::Udp);
//! assert_eq!(targets[0].addr, "192.0.2.10:5080".parse().unwrap());
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::uri::{Host, Scheme, Uri};

/// At most this many records of one answer are considered: a zone (or a
/// hostile server) cannot make a lookup do unbounded work.
const MAX_RECORDS: usize = 32;

/// At most this many targets come out of one lookup.
const MAX_TARGETS: usize = 64;

/// A transport a request can be sent over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (`SIP+D2U`, `_sip._udp`).
    Udp,
    /// TCP (`SIP+D2T`, `_sip._tcp`).
    Tcp,
    /// TLS over TCP (`SIPS+D2T`, `_sips._tcp`).
    Tls,
}

impl Transport {
    /// Every transport RFC 3263 knows, in the order tried when nothing else
    /// says which is preferred.
    pub const ALL: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Tls];

    /// The name as in a `transport=` parameter and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    /// The NAPTR service field that names it (RFC 3263 §4.1).
    pub fn naptr_service(self) -> &'static str {
        match self {
            Transport::Udp => "SIP+D2U",
            Transport::Tcp => "SIP+D2T",
            Transport::Tls => "SIPS+D2T",
        }
    }

    /// The SRV owner-name prefix (RFC 3263 §4.1).
    pub fn srv_prefix(self) -> &'static str {
        match self {
            Transport::Udp => "_sip._udp",
            Transport::Tcp => "_sip._tcp",
            Transport::Tls => "_sips._tcp",
        }
    }

    /// The port when neither the URI nor an SRV record gives one
    /// (RFC 3261 §19.1.2).
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Tls => 5061,
        }
    }

    fn from_service(service: &str) -> Option<Transport> {
        Transport::ALL
            .into_iter()
            .find(|t| t.naptr_service().eq_ignore_ascii_case(service))
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The DNS record types a lookup uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// NAPTR (RFC 3403).
    Naptr,
    /// SRV (RFC 2782).
    Srv,
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordType::Naptr => "NAPTR",
            RecordType::Srv => "SRV",
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
        })
    }
}

/// One DNS question the locator needs answered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    /// The owner name, as the URI or a record gave it (without a final dot).
    pub name: String,
    /// The record type.
    pub rtype: RecordType,
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.rtype, self.name)
    }
}

/// A NAPTR record's fields (RFC 3403 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naptr {
    /// Lower is used first; a lower order excludes nothing here, it sorts.
    pub order: u16,
    /// Among equal orders, lower is used first.
    pub preference: u16,
    /// `S` for SIP: the replacement is an SRV name.
    pub flags: String,
    /// `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`.
    pub services: String,
    /// Empty for SIP (the replacement is used instead).
    pub regexp: String,
    /// The SRV owner name to look up next.
    pub replacement: String,
}

/// An SRV record's fields (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative share among records of one priority.
    pub weight: u16,
    /// The port the service is on.
    pub port: u16,
    /// The host to look up (`.` means the service is not offered).
    pub target: String,
}

/// A record of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A NAPTR record.
    Naptr(Naptr),
    /// An SRV record.
    Srv(Srv),
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
}

impl Record {
    /// Shorthand for an SRV record.
    pub fn srv(priority: u16, weight: u16, port: u16, target: &str) -> Record {
        Record::Srv(Srv {
            priority,
            weight,
            port,
            target: target.to_owned(),
        })
    }

    /// Shorthand for a NAPTR record with flag `S` and no regexp.
    pub fn naptr(order: u16, preference: u16, services: &str, replacement: &str) -> Record {
        Record::Naptr(Naptr {
            order,
            preference,
            flags: "S".to_owned(),
            services: services.to_owned(),
            regexp: String::new(),
            replacement: replacement.to_owned(),
        })
    }
}

/// Why a query has no records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The name does not exist, or has no records of the type (NXDOMAIN or
    /// NODATA): an answer, just an empty one.
    NoRecords,
    /// No answer could be had (timeout, SERVFAIL, refused, I/O): says what.
    Failed(String),
}

/// What one query gave, kept to explain a lookup that found nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The query.
    pub query: Query,
    /// What came back, in words.
    pub outcome: String,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.query, self.outcome)
    }
}

/// One place to send the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The transport to use.
    pub transport: Transport,
    /// The address and port.
    pub addr: SocketAddr,
    /// The host name the address came from (the URI's host, an SRV target,
    /// or the address itself), for logs and TLS server names.
    pub host: String,
}

/// Why a URI cannot be located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocateError {
    /// Only `sip:` and `sips:` URIs name servers.
    #[error("'{0}' is not a sip: or sips: URI")]
    NotSip(String),
    /// The URI (its `transport=` or scheme) asks for a transport the caller
    /// cannot use.
    #[error("'{uri}' needs transport {wanted}, and only {supported} can be used")]
    Transport {
        /// The URI.
        uri: String,
        /// What it asks for.
        wanted: String,
        /// What the caller offered.
        supported: String,
    },
    /// Every lookup came back empty or failed.
    #[error("no address found for '{host}' ({})", trail_text(.trail))]
    NotFound {
        /// The URI's host.
        host: String,
        /// Every query made and what it gave.
        trail: Vec<Step>,
    },
}

fn trail_text(trail: &[Step]) -> String {
    trail
        .iter()
        .map(Step::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the caller can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The transports the caller can send over, most preferred first (the
    /// order used when NAPTR records say nothing).
    pub transports: Vec<Transport>,
    /// Use this transport whatever NAPTR records say (the endpoint or the
    /// caller is bound to it); a URI asking for another is an error.
    pub forced: Option<Transport>,
    /// Look up IPv4 addresses.
    pub ipv4: bool,
    /// Look up IPv6 addresses.
    pub ipv6: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transports: Transport::ALL.to_vec(),
            forced: None,
            ipv4: true,
            ipv6: true,
        }
    }
}

/// A source of random numbers: `f(max)` returns a value in `0..=max`.
type Random = Box<dyn FnMut(u32) -> u32 + Send>;

/// One SRV query of the plan and its answer.
#[derive(Debug)]
struct SrvSet {
    transport: Transport,
    query: Query,
    /// `None` until answered.
    records: Option<Vec<Srv>>,
}

/// A host (and port) whose addresses are wanted, in target order.
#[derive(Debug)]
struct Wanted {
    transport: Transport,
    host: String,
    port: u16,
}

#[derive(Debug)]
enum Stage {
    Naptr(Query),
    Srv(Vec<SrvSet>),
    Address(Vec<Wanted>),
    Done,
}

/// The RFC 3263 §4 state machine for one URI; see the module docs.
pub struct Locator {
    host: String,
    candidates: Vec<Transport>,
    ipv4: bool,
    ipv6: bool,
    stage: Stage,
    /// Queries to hand out.
    queue: VecDeque<Query>,
    /// Queries handed out or queued, not answered yet.
    pending: Vec<Query>,
    /// Address answers by query.
    addresses: Vec<(Query, Vec<IpAddr>)>,
    /// Any SRV record was found (even `.`): no fallback to the host.
    srv_found: bool,
    trail: Vec<Step>,
    random: Random,
    result: Option<Result<Vec<Target>, LocateError>>,
}

impl fmt::Debug for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locator")
            .field("host", &self.host)
            .field("stage", &self.stage)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Locator {
    /// Starts locating `uri`. A numeric host is resolved at once (see
    /// [`Locator::poll_result`]); a bad scheme or a transport the options
    /// exclude is an error here.
    pub fn new(uri: &Uri<'_>, options: &Options) -> Result<Locator, LocateError> {
        let sips = match uri.scheme() {
            Scheme::Sip => false,
            Scheme::Sips => true,
            _ => return Err(LocateError::NotSip(uri.as_str().to_owned())),
        };
        let host = uri
            .host()
            .ok_or_else(|| LocateError::NotSip(uri.as_str().to_owned()))?;
        let explicit = explicit_transport(uri, sips, options)?;
        let mut candidates: Vec<Transport> = match explicit {
            Some(t) => vec![t],
            None => options.transports.clone(),
        };
        // RFC 3263 §4.1: a SIPS URI is reached over TLS only.
        if sips {
            candidates.retain(|t| *t == Transport::Tls);
        }
        let mut seen = Vec::new();
        candidates.retain(|t| {
            let new = !seen.contains(t);
            seen.push(*t);
            new
        });
        if candidates.is_empty() || explicit.is_some_and(|t| !options.transports.contains(&t)) {
            return Err(LocateError::Transport {
                uri: uri.as_str().to_owned(),
                wanted: match explicit {
                    Some(t) => t.as_str().to_owned(),
                    None => Transport::Tls.as_str().to_owned(),
                },
                supported: options
                    .transports
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            });
        }
        let name = match host {
            Host::Domain(d) => d.strip_suffix('.').unwrap_or(d).to_owned(),
            Host::Ipv4(_) | Host::Ipv6(_) => String::new(),
        };
        let mut locator = Locator {
            host: name.clone(),
            candidates: candidates.clone(),
            ipv4: options.ipv4,
            ipv6: options.ipv6,
            stage: Stage::Done,
            queue: VecDeque::new(),
            pending: Vec::new(),
            addresses: Vec::new(),
            srv_found: false,
            trail: Vec::new(),
            random: Box::new(|max| rand::random_range(0..=max)),
            result: None,
        };
        let first = candidates[0];
        if let Some(ip) = host.ip() {
            // §4.1/§4.2: a numeric host is the address; no DNS at all.
            let port = uri.port().unwrap_or(first.default_port());
            locator.result = Some(Ok(vec![Target {
                transport: first,
                addr: SocketAddr::new(ip, port),
                host: ip.to_string(),
            }]));
        } else if let Some(port) = uri.port() {
            // §4.2: an explicit port means A/AAAA of the host itself.
            locator.want_addresses(vec![Wanted {
                transport: first,
                host: name,
                port,
            }]);
        } else if explicit.is_some() {
            // §4.2: the transport is known: SRV for it only.
            locator.want_srv(vec![(first, format!("{}.{name}", first.srv_prefix()))]);
        } else {
            let query = Query {
                name,
                rtype: RecordType::Naptr,
            };
            locator.ask(query.clone());
            locator.stage = Stage::Naptr(query);
        }
        Ok(locator)
    }

    /// Replaces the random source of RFC 2782's weighted choice: `f(max)`
    /// must return a value in `0..=max` (larger values are clamped).
    pub fn with_random(mut self, f: impl FnMut(u32) -> u32 + Send + 'static) -> Locator {
        self.random = Box::new(f);
        self
    }

    /// The next query to make. All queries of a step come out before any
    /// answer is needed, so a caller may run them at once.
    pub fn poll_query(&mut self) -> Option<Query> {
        self.queue.pop_front()
    }

    /// Feeds the answer to `query` (one from [`Locator::poll_query`]).
    /// Records of another type than asked, and answers to queries not
    /// pending, are ignored.
    pub fn handle_answer(&mut self, query: &Query, answer: Result<Vec<Record>, LookupError>) {
        let Some(at) = self.pending.iter().position(|q| q == query) else {
            return;
        };
        self.pending.remove(at);
        self.queue.retain(|q| q != query);
        let records = match answer {
            Ok(records) => {
                let mut records = records;
                records.truncate(MAX_RECORDS);
                records
            }
            Err(LookupError::NoRecords) => {
                self.note(query, "no records".to_owned());
                Vec::new()
            }
            Err(LookupError::Failed(why)) => {
                self.note(query, format!("failed ({why})"));
                Vec::new()
            }
        };
        match query.rtype {
            RecordType::Naptr => self.on_naptr(query, records),
            RecordType::Srv => self.on_srv(query, records),
            RecordType::A | RecordType::Aaaa => self.on_address(query, records),
        }
    }

    /// The outcome, once known: the targets in the order to try them, or
    /// why there are none. Returns it once.
    pub fn poll_result(&mut self) -> Option<Result<Vec<Target>, LocateError>> {
        self.result.take()
    }

    /// True once the outcome is known (taken or not).
    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    fn ask(&mut self, query: Query) {
        if !self.pending.contains(&query) {
            self.pending.push(query.clone());
            self.queue.push_back(query);
        }
    }

    fn note(&mut self, query: &Query, outcome: String) {
        self.trail.push(Step {
            query: query.clone(),
            outcome,
        });
    }

    fn on_naptr(&mut self, query: &Query, records: Vec<Record>) {
        if !matches!(&self.stage, Stage::Naptr(q) if q == query) {
            return;
        }
        let total = records.len();
        let mut usable: Vec<(u16, u16, Transport, String)> = records
            .into_iter()
            .filter_map(|r| match r {
                Record::Naptr(n) => Some(n),
                _ => None,
            })
            .filter_map(|n| {
                // RFC 3263 §4.1: flag S, a SIP service the caller supports,
                // and a replacement (no regexp) naming the SRV records.
                let transport = Transport::from_service(&n.services)?;
                let name = n.replacement.trim_end_matches('.');
                let ok = n.flags.eq_ignore_ascii_case("s")
                    && n.regexp.is_empty()
                    && !name.is_empty()
                    && self.candidates.contains(&transport);
                ok.then(|| (n.order, n.preference, transport, name.to_owned()))
            })
            .collect();
        usable.sort_by_key(|(order, preference, _, _)| (*order, *preference));
        if total > 0 {
            self.note(query, format!("{total} record(s), {} usable", usable.len()));
        }
        let sets: Vec<(Transport, String)> = if usable.is_empty() {
            // §4.1: no NAPTR records: SRV for each supported transport.
            let host = self.host.clone();
            self.candidates
                .iter()
                .map(|t| (*t, format!("{}.{host}", t.srv_prefix())))
                .collect()
        } else {
            usable
                .into_iter()
                .map(|(_, _, t, name)| (t, name))
                .collect()
        };
        self.want_srv(sets);
    }

    fn want_srv(&mut self, sets: Vec<(Transport, String)>) {
        let mut plan: Vec<SrvSet> = Vec::new();
        for (transport, name) in sets {
            let query = Query {
                name,
                rtype: RecordType::Srv,
            };
            if plan
                .iter()
                .any(|s| s.query == query && s.transport == transport)
            {
                continue;
            }
            self.ask(query.clone());
            plan.push(SrvSet {
                transport,
                query,
                records: None,
            });
        }
        self.stage = Stage::Srv(plan);
    }

    fn on_srv(&mut self, query: &Query, records: Vec<Record>) {
        if !matches!(self.stage, Stage::Srv(_)) {
            return;
        }
        let total = records.len();
        let mut found = false;
        let srvs: Vec<Srv> = records
            .into_iter()
            .filter_map(|r| match r {
                Record::Srv(s) => Some(s),
                _ => None,
            })
            .filter(|s| {
                found = true;
                // RFC 2782: target "." means "decidedly not available";
                // port 0 cannot be sent to.
                let name = s.target.trim_end_matches('.');
                !name.is_empty() && s.port != 0
            })
            .collect();
        self.srv_found |= found;
        let usable = srvs.len();
        if total > 0 {
            let outcome = if found && usable == 0 {
                "service not offered (target '.' or port 0)".to_owned()
            } else {
                format!("{total} record(s), {usable} usable")
            };
            self.note(query, outcome);
        }
        let Stage::Srv(plan) = &mut self.stage else {
            return;
        };
        for set in plan.iter_mut().filter(|s| &s.query == query) {
            set.records = Some(srvs.clone());
        }
        if plan.iter().any(|s| s.records.is_none()) {
            return;
        }
        let plan = std::mem::take(plan);
        let mut wanted = Vec::new();
        for set in plan {
            for srv in self.rfc2782_order(set.records.unwrap_or_default()) {
                wanted.push(Wanted {
                    transport: set.transport,
                    host: srv.target.trim_end_matches('.').to_owned(),
                    port: srv.port,
                });
            }
        }
        if wanted.is_empty() && !self.srv_found {
            // §4.2: no SRV records: the host's own addresses, with the
            // transport's default port.
            let transport = self.candidates[0];
            wanted.push(Wanted {
                transport,
                host: self.host.clone(),
                port: transport.default_port(),
            });
        }
        self.want_addresses(wanted);
    }

    /// RFC 2782 ordering: by priority; within a priority, repeatedly pick a
    /// record with probability proportional to its weight (zero-weight
    /// records first in the running sum, so they are rarely picked early).
    fn rfc2782_order(&mut self, mut records: Vec<Srv>) -> Vec<Srv> {
        records.sort_by_key(|s| (s.priority, s.weight != 0));
        let mut out = Vec::with_capacity(records.len());
        while !records.is_empty() {
            let priority = records[0].priority;
            let mut group: Vec<Srv> = Vec::new();
            while records.first().is_some_and(|s| s.priority == priority) {
                group.push(records.remove(0));
            }
            while !group.is_empty() {
                let sum: u32 = group.iter().map(|s| u32::from(s.weight)).sum();
                let pick = (self.random)(sum).min(sum);
                let mut running = 0;
                let mut chosen = group.len() - 1;
                for (i, s) in group.iter().enumerate() {
                    running += u32::from(s.weight);
                    if running >= pick {
                        chosen = i;
                        break;
                    }
                }
                out.push(group.remove(chosen));
            }
        }
        out
    }

    fn want_addresses(&mut self, wanted: Vec<Wanted>) {
        for w in &wanted {
            if w.host.parse::<IpAddr>().is_ok() {
                continue;
            }
            if self.ipv4 {
                self.ask(Query {
                    name: w.host.clone(),
                    rtype: RecordType::A,
                });
            }
            if self.ipv6 {
                self.ask(Query {
                    name: w.host.clone(),
                    rtype: RecordType::Aaaa,
                });
            }
        }
        self.stage = Stage::Address(wanted);
        self.finish_addresses();
    }

    fn on_address(&mut self, query: &Query, records: Vec<Record>) {
        if !matches!(self.stage, Stage::Address(_)) {
            return;
        }
        let total = records.len();
        let ips: Vec<IpAddr> = records
            .into_iter()
            .filter_map(|r| match (r, query.rtype) {
                (Record::A(a), RecordType::A) => Some(IpAddr::V4(a)),
                (Record::Aaaa(a), RecordType::Aaaa) => Some(IpAddr::V6(a)),
                _ => None,
            })
            .filter(|ip| !ip.is_unspecified() && !ip.is_multicast())
            .collect();
        if total > 0 && ips.len() < total {
            self.note(query, format!("{total} record(s), {} usable", ips.len()));
        }
        self.addresses.push((query.clone(), ips));
        self.finish_addresses();
    }

    fn finish_addresses(&mut self) {
        if !self.pending.is_empty() {
            return;
        }
        let Stage::Address(wanted) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return;
        };
        let mut targets: Vec<Target> = Vec::new();
        for w in wanted {
            let ips: Vec<IpAddr> = match w.host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    let mut ips = Vec::new();
                    for rtype in [RecordType::A, RecordType::Aaaa] {
                        for (q, found) in &self.addresses {
                            if q.rtype == rtype && q.name == w.host {
                                ips.extend(found.iter().copied());
                            }
                        }
                    }
                    ips
                }
            };
            for ip in ips {
                let addr = SocketAddr::new(ip, w.port);
                let seen = targets
                    .iter()
                    .any(|t| t.addr == addr && t.transport == w.transport);
                if !seen && targets.len() < MAX_TARGETS {
                    targets.push(Target {
                        transport: w.transport,
                        addr,
                        host: w.host.clone(),
                    });
                }
            }
        }
        self.result = Some(if targets.is_empty() {
            Err(LocateError::NotFound {
                host: self.host.clone(),
                trail: std::mem::take(&mut self.trail),
            })
        } else {
            Ok(targets)
        });
    }
}

/// The transport a URI or the caller insists on (§4.1: `transport=`; a
/// SIPS URI with `transport=tcp` is TLS).
fn explicit_transport(
    uri: &Uri<'_>,
    sips: bool,
    options: &Options,
) -> Result<Option<Transport>, LocateError> {
    let from_uri = match uri.transport() {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("udp") && !sips => Some(Transport::Udp),
        Some(t) if t.eq_ignore_ascii_case("tcp") => {
            Some(if sips { Transport::Tls } else { Transport::Tcp })
        }
        Some(t) if t.eq_ignore_ascii_case("tls") => Some(Transport::Tls),
        Some(t) => {
            return Err(LocateError::Transport {
                uri: uri.as_str().to_owned(),
                wanted: t.to_owned(),
                supported: options
                    .transports
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            });
        }
    };
    match (from_uri, options.forced) {
        (Some(a), Some(b)) if a != b => Err(LocateError::Transport {
            uri: uri.as_str().to_owned(),
            wanted: a.as_str().to_owned(),
            supported: b.as_str().to_owned(),
        }),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests;
