//! Address ACLs as Asterisk writes them: `permit=` / `deny=` rules with
//! `address/mask`, where the mask is a prefix length or a dotted netmask.
//!
//! Rules are evaluated in order and the last one that matches decides; with
//! no matching rule the address is allowed (Asterisk's `ast_apply_ha`).

use std::fmt;
use std::net::IpAddr;

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Permit (true) or deny.
    pub permit: bool,
    network: IpAddr,
    prefix: u8,
    text: String,
}

/// An ordered list of rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    rules: Vec<Rule>,
}

/// A rule that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ACL entry '{0}' (expected an address, address/bits or address/netmask)")]
pub struct BadRule(pub String);

impl Acl {
    /// Adds a `permit` (true) or `deny` rule; `value` may list several
    /// entries separated by commas.
    pub fn add(&mut self, permit: bool, value: &str) -> Result<(), BadRule> {
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, mask) = match entry.split_once('/') {
                Some((a, m)) => (a.trim(), Some(m.trim())),
                None => (entry, None),
            };
            let network: IpAddr = addr
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| BadRule(entry.to_owned()))?;
            let max = if network.is_ipv4() { 32 } else { 128 };
            let prefix = match mask {
                None => max,
                Some(m) => match m.parse::<u8>() {
                    Ok(bits) if bits <= max => bits,
                    Ok(_) => return Err(BadRule(entry.to_owned())),
                    Err(_) => netmask_bits(m).ok_or_else(|| BadRule(entry.to_owned()))?,
                },
            };
            self.rules.push(Rule {
                permit,
                network,
                prefix,
                text: entry.to_owned(),
            });
        }
        Ok(())
    }

    /// Whether `addr` is allowed.
    pub fn allows(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        let mut allowed = true;
        for rule in &self.rules {
            if matches(rule.network, rule.prefix, addr) {
                allowed = rule.permit;
            }
        }
        allowed
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for rule in &self.rules {
            writeln!(
                f,
                "{}: {}",
                if rule.permit { "permit" } else { "deny" },
                rule.text
            )?;
        }
        Ok(())
    }
}

/// The named ACLs of `acl.conf` (`[name]` sections of `permit`/`deny`
/// lines), which endpoints and managers refer to with `acl = name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedAcls {
    acls: std::collections::HashMap<String, Acl>,
}

impl NamedAcls {
    /// Reads `acl.conf`; a missing file means no named ACLs. Bad lines are
    /// reported with file and line and left out.
    pub fn load(
        settings: &crate::settings::Settings,
    ) -> (NamedAcls, Vec<crate::diagnostic::Diagnostic>) {
        let mut out = NamedAcls::default();
        let mut problems = Vec::new();
        let config = match settings.load_conf("acl.conf") {
            Ok(c) => c,
            Err(e) if e.is_not_found() => return (out, problems),
            Err(e) => return (out, crate::diagnostic::Diagnostic::from_conf_errors(&e)),
        };
        for category in config.categories() {
            let mut acl = Acl::default();
            for var in category.variables() {
                let permit = match var.name.to_ascii_lowercase().as_str() {
                    "permit" => true,
                    "deny" => false,
                    _ => continue,
                };
                if let Err(e) = acl.add(permit, &var.value) {
                    problems.push(crate::diagnostic::Diagnostic::error_at(
                        &var.location,
                        &var.name,
                        e.to_string(),
                    ));
                }
            }
            out.acls.insert(category.name.clone(), acl);
        }
        (out, problems)
    }

    /// The ACL called `name`.
    pub fn get(&self, name: &str) -> Option<&Acl> {
        self.acls.get(name)
    }

    /// Whether every ACL named in `names` (a comma list) allows `addr`. An
    /// unknown name refuses, as Asterisk does, so a typo cannot open access.
    pub fn allows(&self, names: &[String], addr: IpAddr) -> bool {
        names
            .iter()
            .flat_map(|n| n.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .all(|name| self.acls.get(name).is_some_and(|acl| acl.allows(addr)))
    }
}

fn netmask_bits(mask: &str) -> Option<u8> {
    let ip: IpAddr = mask.parse().ok()?;
    let bits = match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    };
    let ones = bits.leading_ones();
    // A netmask is contiguous ones then zeros.
    (bits.checked_shl(ones).unwrap_or(0) == 0)
        .then(|| u8::try_from(ones).unwrap_or(0))
        .map(|b| if ip.is_ipv4() { b.min(32) } else { b })
}

fn matches(network: IpAddr, prefix: u8, addr: IpAddr) -> bool {
    match (network, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_matching_rule_wins_as_in_asterisk() {
        let mut acl = Acl::default();
        acl.add(false, "0.0.0.0/0.0.0.0").unwrap();
        acl.add(true, "127.0.0.1/255.255.255.0").unwrap();
        assert!(acl.allows("127.0.0.1".parse().unwrap()));
        assert!(acl.allows("::ffff:127.0.0.9".parse().unwrap()));
        assert!(!acl.allows("10.1.2.3".parse().unwrap()));
        assert!(Acl::default().allows("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn parses_cidr_netmask_and_ipv6() {
        let mut acl = Acl::default();
        acl.add(false, "::/0").unwrap();
        acl.add(true, "2001:db8::/32, 192.168.0.0/16").unwrap();
        assert!(acl.allows("2001:db8::1".parse().unwrap()));
        assert!(!acl.allows("2001:db9::1".parse().unwrap()));
        assert!(acl.add(true, "300.1.1.1").is_err());
        assert!(acl.add(true, "10.0.0.0/255.0.255.0").is_err());
        assert!(acl.add(true, "10.0.0.0/33").is_err());
    }
}
