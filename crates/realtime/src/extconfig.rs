//! `extconfig.conf`: which family (or whole file) lives in which database.

use obelus_conf::{Config, Location};
use obelus_core::diagnostic::Diagnostic;

use crate::config::{DriverKind, unsupported_driver};

/// One `key => driver,database[,table[,priority]]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The family (`ps_endpoints`) or file (`queues.conf`).
    pub key: String,
    /// The driver.
    pub driver: DriverKind,
    /// The database field (a section of the driver's file; ignored by pgsql).
    pub database: String,
    /// The table (defaults to the key).
    pub table: String,
    /// Failover order, 1 first.
    pub priority: u32,
    /// Where the line is.
    pub location: Location,
}

impl Mapping {
    /// Whether this maps a whole configuration file (static realtime).
    pub fn is_static(&self) -> bool {
        self.key.ends_with(".conf")
    }

    /// The name of the connection it uses (`driver/database`).
    pub fn connection(&self) -> String {
        match self.driver {
            DriverKind::Pgsql => "pgsql/general".to_owned(),
            kind => format!("{}/{}", kind.name(), self.database),
        }
    }
}

/// Every mapping of `extconfig.conf`, sorted by key then priority.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtConfig {
    mappings: Vec<Mapping>,
}

/// Files that can never come from a database (Asterisk refuses them too).
const UNBINDABLE: [&str; 3] = ["extconfig.conf", "asterisk.conf", "logger.conf"];

impl ExtConfig {
    /// Reads `[settings]`.
    pub fn from_config(config: &Config) -> (Self, Vec<Diagnostic>) {
        let mut mappings = Vec::new();
        let mut problems = Vec::new();
        for category in config.categories_named("settings") {
            for var in category.variables() {
                let key = var.name.trim().to_owned();
                if UNBINDABLE.iter().any(|f| key.eq_ignore_ascii_case(f)) {
                    problems.push(Diagnostic::error_at(
                        &var.location,
                        &key,
                        "this file cannot be read from a database",
                    ));
                    continue;
                }
                let parts = split_value(&var.value);
                if parts.len() < 2 {
                    problems.push(Diagnostic::error_at(
                        &var.location,
                        &key,
                        format!(
                            "expected 'driver,database[,table[,priority]]', got '{}'",
                            var.value.trim()
                        ),
                    ));
                    continue;
                }
                let Some(driver) = DriverKind::parse(&parts[0]) else {
                    problems.push(unsupported_driver(&var.location, &key, &parts[0]));
                    continue;
                };
                let table = parts
                    .get(2)
                    .filter(|t| !t.is_empty())
                    .cloned()
                    .unwrap_or_else(|| key.clone());
                let priority = parts
                    .get(3)
                    .and_then(|p| p.parse::<u32>().ok())
                    .filter(|p| *p > 0)
                    .unwrap_or(1);
                if key.eq_ignore_ascii_case("iaxfriends") {
                    for family in ["iaxusers", "iaxpeers"] {
                        mappings.push(Mapping {
                            key: family.to_owned(),
                            driver,
                            database: parts[1].clone(),
                            table: table.clone(),
                            priority,
                            location: var.location.clone(),
                        });
                    }
                    continue;
                }
                mappings.push(Mapping {
                    key,
                    driver,
                    database: parts[1].clone(),
                    table,
                    priority,
                    location: var.location.clone(),
                });
            }
        }
        mappings.sort_by(|a, b| a.key.cmp(&b.key).then(a.priority.cmp(&b.priority)));
        (Self { mappings }, problems)
    }

    /// The mappings of a family (or file) in failover order. As in Asterisk,
    /// priorities are walked 1, 2, 3 ... and the walk stops at the first
    /// missing number (1, 2, 4 never reaches 4).
    pub fn chain(&self, key: &str) -> Vec<&Mapping> {
        let mut out: Vec<&Mapping> = Vec::new();
        let mut next = 1;
        for mapping in self.mappings.iter().filter(|m| m.key == key) {
            if mapping.priority == next {
                out.push(mapping);
                next += 1;
            } else if mapping.priority > next {
                break;
            }
        }
        out
    }

    /// Every mapping.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }
}

/// Splits at commas, honouring double quotes (LDAP DNs contain commas).
fn split_value(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.trim().chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => parts.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    parts.push(current.trim().to_owned());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(text: &str) -> (ExtConfig, Vec<Diagnostic>) {
        ExtConfig::from_config(&obelus_conf::parse_str("extconfig.conf", text).unwrap())
    }

    #[test]
    fn reads_families_files_and_priorities() {
        let (e, problems) = ext(
            "[settings]\nps_endpoints => sqlite3,obelus\nextensions => mysql,primary,extensions,1\nextensions => mysql,backup,extensions,2\nqueues.conf => pgsql,x,ast_config\nsippeers => ldap,\"dc=a,dc=b\",x\n",
        );
        assert_eq!(problems.len(), 1, "ldap is reported: {problems:?}");
        let chain = e.chain("extensions");
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1].connection(), "mysql/backup");
        assert_eq!(e.chain("ps_endpoints")[0].table, "ps_endpoints");
        assert!(e.chain("queues.conf")[0].is_static());
    }

    #[test]
    fn priority_walk_stops_at_a_gap() {
        let (e, _) =
            ext("[settings]\nf => sqlite3,a,t,1\nf => sqlite3,b,t,2\nf => sqlite3,c,t,4\n");
        assert_eq!(e.chain("f").len(), 2);
    }

    #[test]
    fn bad_lines_name_their_place() {
        let (_, problems) = ext("[settings]\nps_auths => sqlite3\nlogger.conf => sqlite3,a\n");
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .to_string()
                .starts_with("extconfig.conf:2: option 'ps_auths': expected")
        );
    }
}
