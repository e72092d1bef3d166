//! DNS for SIP targets: drives the sans-IO RFC 3263 [`Locator`] with a real
//! resolver (hickory), so contacts, `Dial(PJSIP/trunk/sip:...@host)` and
//! MESSAGE destinations may name hosts, not only addresses.
//!
//! Configuration is Asterisk's `resolver_unbound.conf` (what
//! `res_resolver_unbound` users already have), section `[general]`:
//! - `nameserver = ip[:port]`, repeatable: ask these servers, in order,
//!   instead of the system's;
//! - `resolv = /path/to/resolv.conf` (or `system`): read the servers and
//!   search domains from that file;
//! - `hosts = system` (the default) or empty: whether `/etc/hosts` answers
//!   first.
//!
//! Without the file, the system's `/etc/resolv.conf` and `/etc/hosts` are
//! used. Answers are cached by the resolver for their TTL (negative answers
//! for the SOA minimum), in a bounded cache, so a busy trunk costs one
//! lookup per TTL.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType as HickoryType};
use obelus_core::settings::Settings;
use obelus_sip::Uri;
use obelus_sip::locate::{
    LocateError, Locator, LookupError, Naptr, Options, Query, Record, RecordType, Srv, Target,
};

/// The configuration file, as Asterisk names it.
pub(crate) const CONF: &str = "resolver_unbound.conf";

/// Entries the resolver's cache holds at most.
const CACHE_SIZE: u64 = 1024;

/// Finds where SIP requests for a URI go.
pub(crate) struct Resolver {
    dns: Result<TokioResolver, String>,
    /// Where the servers come from, for log lines.
    source: String,
}

impl Resolver {
    /// Builds the resolver from `resolver_unbound.conf`, or the system's
    /// configuration when the file is missing. Problems are logged; a
    /// resolver that cannot be built makes every lookup fail with the reason.
    pub(crate) fn load(settings: &Settings) -> Resolver {
        let mut servers = Vec::new();
        let mut resolv: Option<String> = None;
        let mut hosts = true;
        match settings.load_conf(CONF) {
            Ok(config) => {
                for var in config
                    .categories_named("general")
                    .flat_map(|c| c.variables())
                {
                    let value = var.value.trim();
                    match var.name.to_ascii_lowercase().as_str() {
                        "nameserver" => match parse_nameserver(value) {
                            Some(addr) => servers.push(addr),
                            None => tracing::warn!(
                                "{}: nameserver '{value}' is not ip[:port]; ignored",
                                var.location
                            ),
                        },
                        "resolv" => {
                            resolv =
                                (!value.is_empty() && value != "system").then(|| value.to_owned());
                        }
                        "hosts" => hosts = value == "system",
                        "debug" | "ta_file" => {}
                        other => tracing::warn!(
                            "{}: unknown option '{other}' in [general]; ignored",
                            var.location
                        ),
                    }
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => tracing::error!("{CONF}: {e}; using the system's DNS configuration"),
        }
        Self::build(&servers, resolv.as_deref(), hosts)
    }

    fn build(servers: &[SocketAddr], resolv: Option<&str>, hosts: bool) -> Resolver {
        let provider = TokioRuntimeProvider::default();
        let (config, mut options, source) = if !servers.is_empty() {
            let list: Vec<String> = servers.iter().map(SocketAddr::to_string).collect();
            let config = ResolverConfig::from_name_servers(
                servers.iter().map(|s| name_server(*s)).collect(),
            );
            let source = format!("nameserver {} from {CONF}", list.join(", "));
            (config, ResolverOpts::default(), source)
        } else {
            let path = resolv.unwrap_or("/etc/resolv.conf");
            let read = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    hickory_resolver::system_conf::parse_resolv_conf(text)
                        .map_err(|e| e.to_string())
                });
            match read {
                Ok((config, options)) => (config, options, format!("the servers of {path}")),
                Err(e) => {
                    let why = format!("cannot read {path}: {e}; set nameserver in {CONF}");
                    tracing::error!("DNS: {why}");
                    return Resolver {
                        dns: Err(why),
                        source: path.to_owned(),
                    };
                }
            }
        };
        options.cache_size = CACHE_SIZE;
        options.use_hosts_file = if hosts {
            ResolveHosts::Always
        } else {
            ResolveHosts::Never
        };
        let dns = TokioResolver::builder_with_config(config, provider)
            .with_options(options)
            .build()
            .map_err(|e| e.to_string());
        if let Err(e) = &dns {
            tracing::error!("DNS: no resolver ({e}); only IP addresses can be reached");
        }
        Resolver { dns, source }
    }

    /// The targets for `uri` (RFC 3263), in the order to try them, for a
    /// sender that can use what `options` say (the transports it has, one
    /// it is bound to, its address families).
    /// A failure says which lookups found nothing and what to check.
    pub(crate) async fn locate(&self, uri: &str, options: &Options) -> Result<Vec<Target>, String> {
        let parsed = Uri::parse(uri).map_err(|e| format!("'{uri}': {e}"))?;
        let mut locator = Locator::new(&parsed, options).map_err(|e| e.to_string())?;
        loop {
            if let Some(result) = locator.poll_result() {
                return result.map_err(|e| self.explain(&e));
            }
            let queries: Vec<Query> = std::iter::from_fn(|| locator.poll_query()).collect();
            if queries.is_empty() {
                return Err(format!("'{uri}': the lookup stalled"));
            }
            let mut set = tokio::task::JoinSet::new();
            for (i, query) in queries.iter().enumerate() {
                let dns = self.dns.clone();
                let query = query.clone();
                set.spawn(async move { (i, lookup(dns, &query).await) });
            }
            let mut answers: Vec<Option<Result<Vec<Record>, LookupError>>> =
                queries.iter().map(|_| None).collect();
            while let Some(joined) = set.join_next().await {
                if let Ok((i, answer)) = joined
                    && let Some(slot) = answers.get_mut(i)
                {
                    *slot = Some(answer);
                }
            }
            for (query, answer) in queries.iter().zip(answers) {
                let answer =
                    answer.unwrap_or_else(|| Err(LookupError::Failed("lookup task failed".into())));
                locator.handle_answer(query, answer);
            }
        }
    }

    fn explain(&self, e: &LocateError) -> String {
        match e {
            LocateError::NotFound { .. } => format!(
                "{e}; check the NAPTR/SRV/A records of that name, and the DNS servers ({})",
                self.source
            ),
            _ => e.to_string(),
        }
    }
}

/// A name server asked over UDP, then TCP for truncated answers.
fn name_server(addr: SocketAddr) -> NameServerConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
}

/// Reads `ip`, `ip:port`, `[ipv6]:port` (port 53 when absent).
fn parse_nameserver(value: &str) -> Option<SocketAddr> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = value.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

/// One query through hickory, its records in the locator's terms.
async fn lookup(
    dns: Result<TokioResolver, String>,
    query: &Query,
) -> Result<Vec<Record>, LookupError> {
    let dns = dns.map_err(|e| LookupError::Failed(format!("no resolver: {e}")))?;
    let rtype = match query.rtype {
        RecordType::Naptr => HickoryType::NAPTR,
        RecordType::Srv => HickoryType::SRV,
        RecordType::A => HickoryType::A,
        RecordType::Aaaa => HickoryType::AAAA,
    };
    let found = dns.lookup(query.name.as_str(), rtype).await;
    match found {
        Ok(lookup) => Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| record(&r.data))
            .collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Err(LookupError::NoRecords),
        Err(e) => Err(LookupError::Failed(e.to_string())),
    }
}

fn record(data: &RData) -> Option<Record> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some(match data {
        RData::A(a) => Record::A(a.0),
        RData::AAAA(a) => Record::Aaaa(a.0),
        RData::SRV(s) => Record::Srv(Srv {
            priority: s.priority,
            weight: s.weight,
            port: s.port,
            target: s.target.to_utf8(),
        }),
        RData::NAPTR(n) => Record::Naptr(Naptr {
            order: n.order,
            preference: n.preference,
            flags: text(&n.flags),
            services: text(&n.services),
            regexp: text(&n.regexp),
            replacement: n.replacement.to_utf8(),
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_values() {
        assert_eq!(
            parse_nameserver("127.0.0.1"),
            Some("127.0.0.1:53".parse().unwrap())
        );
        assert_eq!(
            parse_nameserver("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            parse_nameserver("[::1]:5353"),
            Some("[::1]:5353".parse().unwrap())
        );
        assert_eq!(parse_nameserver("::1"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(parse_nameserver("dns.example"), None);
        assert_eq!(parse_nameserver("127.0.0.1:99999"), None);
    }
}
