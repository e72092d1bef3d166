//! Which databases exist: `res_config_sqlite3.conf`, `res_pgsql.conf`,
//! `res_config_mysql.conf`, `res_odbc.conf`, read with Asterisk's option names.

use std::path::{Path, PathBuf};

use obelus_conf::Config;
use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::settings::Settings;

use crate::odbc::{self, OdbcSettings};

/// The realtime drivers Asterisk users name in `extconfig.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriverKind {
    /// `sqlite3`: the embedded default; values stored verbatim.
    Sqlite3,
    /// `pgsql`: one connection from `res_pgsql.conf [general]`.
    Pgsql,
    /// `mysql`: connections are sections of `res_config_mysql.conf`.
    Mysql,
    /// `odbc`: connection classes are sections of `res_odbc.conf`; the DBMS
    /// behind the DSN decides the SQL dialect.
    Odbc,
}

impl DriverKind {
    /// Parses the driver name of an `extconfig.conf` line.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sqlite3" => Some(Self::Sqlite3),
            "pgsql" => Some(Self::Pgsql),
            "mysql" => Some(Self::Mysql),
            "odbc" => Some(Self::Odbc),
            _ => None,
        }
    }

    /// The name as written in `extconfig.conf`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite3 => "sqlite3",
            Self::Pgsql => "pgsql",
            Self::Mysql => "mysql",
            Self::Odbc => "odbc",
        }
    }

    /// Whether the driver applies Asterisk's `^XX` encoding and `;` splitting
    /// (everything but SQLite3, as in Asterisk).
    pub fn encodes_values(self) -> bool {
        !matches!(self, Self::Sqlite3)
    }

    /// The configuration file that defines this driver's connections.
    pub fn config_file(self) -> &'static str {
        match self {
            Self::Sqlite3 => "res_config_sqlite3.conf",
            Self::Pgsql => "res_pgsql.conf",
            Self::Mysql => "res_config_mysql.conf",
            Self::Odbc => "res_odbc.conf",
        }
    }
}

/// Where one connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An SQLite file (created on first use).
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A PostgreSQL or MySQL/MariaDB server.
    Server {
        /// Host name or address; `None` with `socket` for a Unix socket.
        host: String,
        /// TCP port.
        port: u16,
        /// Unix socket (directory for PostgreSQL, file for MySQL), if used.
        socket: Option<String>,
        /// Database name.
        dbname: String,
        /// User.
        user: String,
        /// Password (never logged or shown).
        password: String,
        /// Application name (PostgreSQL) shown in `pg_stat_activity`.
        appname: Option<String>,
    },
    /// An ODBC connection class.
    Odbc(OdbcSettings),
}

/// One named database connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSpec {
    /// `driver/database`, e.g. `sqlite3/obelus`, `pgsql/general`, `odbc/asterisk`.
    pub name: String,
    /// The driver.
    pub driver: DriverKind,
    /// The `database` field of `extconfig.conf` that selects it.
    pub database: String,
    /// Where it goes.
    pub target: Target,
}

impl ConnectionSpec {
    /// A description without secrets, for `db show` and log lines.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Sqlite { path } => path.display().to_string(),
            Target::Server {
                host,
                port,
                socket,
                dbname,
                user,
                ..
            } => match socket {
                Some(socket) => format!("{user}@{socket}/{dbname}"),
                None => format!("{user}@{host}:{port}/{dbname}"),
            },
            Target::Odbc(settings) if settings.username.is_empty() => {
                format!("DSN {}", settings.display_dsn())
            }
            Target::Odbc(settings) => {
                format!("DSN {} as {}", settings.display_dsn(), settings.username)
            }
        }
    }
}

/// Reads every connection every driver's file defines.
pub fn read_connections(settings: &Settings) -> (Vec<ConnectionSpec>, Vec<Diagnostic>) {
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for kind in [
        DriverKind::Sqlite3,
        DriverKind::Pgsql,
        DriverKind::Mysql,
        DriverKind::Odbc,
    ] {
        match settings.load_conf(kind.config_file()) {
            Ok(config) => specs.extend(connections_of(
                kind,
                &config,
                &settings.dirs.db,
                &mut problems,
            )),
            Err(e) if e.is_not_found() => {}
            Err(e) => problems.extend(Diagnostic::from_conf_errors(&e)),
        }
    }
    (specs, problems)
}

fn connections_of(
    kind: DriverKind,
    config: &Config,
    db_dir: &Path,
    problems: &mut Vec<Diagnostic>,
) -> Vec<ConnectionSpec> {
    if kind == DriverKind::Odbc {
        return odbc::settings::read(config, problems)
            .into_iter()
            .map(|(class, settings)| ConnectionSpec {
                name: format!("odbc/{class}"),
                driver: kind,
                database: class,
                target: Target::Odbc(settings),
            })
            .collect();
    }
    let mut specs = Vec::new();
    for category in config.categories() {
        let get = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| category.get(k))
                .map(|v| v.trim().to_owned())
        };
        let section = category.name.clone();
        let target = match kind {
            DriverKind::Sqlite3 => {
                let Some(file) = get(&["dbfile"]) else {
                    problems.push(Diagnostic::error_at(
                        &category.location,
                        "dbfile",
                        format!("[{section}] has no dbfile; say where the SQLite database lives"),
                    ));
                    continue;
                };
                let path = PathBuf::from(&file);
                let path = if path.is_absolute() {
                    path
                } else {
                    db_dir.join(path)
                };
                Target::Sqlite { path }
            }
            DriverKind::Odbc => continue, // read above
            DriverKind::Pgsql | DriverKind::Mysql => {
                if kind == DriverKind::Pgsql && !section.eq_ignore_ascii_case("general") {
                    continue;
                }
                let default_port = if kind == DriverKind::Pgsql {
                    5432
                } else {
                    3306
                };
                let port = match get(&["dbport", "port"]) {
                    None => default_port,
                    Some(p) => match p.parse() {
                        Ok(p) => p,
                        Err(_) => {
                            problems.push(Diagnostic::error_at(
                                &category.location,
                                "dbport",
                                format!("expected a port number, got '{p}'"),
                            ));
                            continue;
                        }
                    },
                };
                let host = get(&["dbhost", "hostname"]).unwrap_or_else(|| "localhost".to_owned());
                Target::Server {
                    host,
                    port,
                    socket: get(&["dbsock", "socket"]).filter(|s| !s.is_empty()),
                    dbname: get(&["dbname"]).unwrap_or_else(|| "asterisk".to_owned()),
                    user: get(&["dbuser", "user"]).unwrap_or_else(|| "asterisk".to_owned()),
                    password: get(&["dbpass", "password"]).unwrap_or_default(),
                    appname: get(&["dbappname", "appname"]),
                }
            }
        };
        specs.push(ConnectionSpec {
            name: format!("{}/{section}", kind.name()),
            driver: kind,
            database: section,
            target,
        });
    }
    specs
}

/// A warning for a driver Obelus does not have (`ldap`, `curl`).
pub fn unsupported_driver(location: &obelus_conf::Location, key: &str, driver: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        ..Diagnostic::error_at(
            location,
            key,
            format!(
                "realtime driver '{driver}' is not available in Obelus (use sqlite3, pgsql, mysql or odbc); mapping ignored"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_asterisk_option_names() {
        let mut problems = Vec::new();
        let sqlite = obelus_conf::parse_str(
            "res_config_sqlite3.conf",
            "[obelus]\ndbfile => realtime.sqlite3\n",
        )
        .unwrap();
        let specs = connections_of(
            DriverKind::Sqlite3,
            &sqlite,
            Path::new("/var/lib/obelus"),
            &mut problems,
        );
        assert_eq!(specs[0].name, "sqlite3/obelus");
        assert_eq!(
            specs[0].target,
            Target::Sqlite {
                path: "/var/lib/obelus/realtime.sqlite3".into()
            }
        );

        let pg = obelus_conf::parse_str(
            "res_pgsql.conf",
            "[general]\ndbhost=127.0.0.1\ndbport=5432\ndbname=test\ndbuser=postgres\ndbpass=secret\n",
        )
        .unwrap();
        let specs = connections_of(DriverKind::Pgsql, &pg, Path::new("/"), &mut problems);
        assert_eq!(specs[0].describe(), "postgres@127.0.0.1:5432/test");
        assert!(!specs[0].describe().contains("secret"));
        assert!(problems.is_empty());
    }
}
