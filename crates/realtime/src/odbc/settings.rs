//! `res_odbc.conf`: one section per connection class, plus `[ENV]`, read
//! with Asterisk's option names and defaults.

use std::fmt;
use std::time::Duration;

use obelus_conf::{Category, Config};
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::parse_bool;

/// How idle connections are reused (`cache_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheType {
    /// `stack`: the connection released last is reused first (the default);
    /// surplus connections stay idle and the server may time them out.
    Stack,
    /// `rr` / `roundrobin` / `queue`: idle connections are reused in turn,
    /// which keeps all of them warm.
    RoundRobin,
}

/// One `[name]` section of `res_odbc.conf`.
#[derive(Clone, PartialEq, Eq)]
pub struct OdbcSettings {
    /// `dsn`: a data source of odbc.ini, or (Obelus extension, when the value
    /// contains `=`) a whole connection string such as
    /// `Driver=/usr/lib/x86_64-linux-gnu/odbc/libmaodbc.so;Server=127.0.0.1;Database=asterisk`
    /// (in the file each `;` is written `\;`, or it starts a comment).
    pub dsn: String,
    /// `username`; empty lets the DSN's own user apply.
    pub username: String,
    /// `password` (never logged or shown).
    pub password: String,
    /// `pre-connect`: open a connection when the configuration loads.
    pub pre_connect: bool,
    /// `max_connections` (default 1): how many connections may be open at once.
    pub max_connections: u32,
    /// `sanitysql` (default `select 1`): the liveness query.
    pub sanity_sql: String,
    /// `negative_connection_cache` (default 300 s): the longest wait before
    /// connecting again after a failed attempt.
    pub negative_connection_cache: Duration,
    /// `connect_timeout` (default 10 s): login timeout, and how long a request
    /// waits for a free connection.
    pub connect_timeout: Duration,
    /// `logging`: count prepares and queries, remember the slowest query.
    pub logging: bool,
    /// `slow_query_limit` (default 5000 ms): with logging, warn about slower queries.
    pub slow_query_limit: Duration,
    /// `cache_type`.
    pub cache_type: CacheType,
    /// `cache_size` (default unbounded): how many idle connections are kept;
    /// 0 closes each connection after use.
    pub cache_size: Option<u32>,
    /// `[ENV]`: variables set in the environment before connecting (drivers
    /// read settings such as `ODBCSYSINI` or `TDSVER` from there).
    pub env: Vec<(String, String)>,
}

impl fmt::Debug for OdbcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdbcSettings")
            .field("dsn", &redact_connection_string(&self.dsn))
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl OdbcSettings {
    /// The DSN for display: a connection string loses its `PWD=` value.
    pub fn display_dsn(&self) -> String {
        redact_connection_string(&self.dsn)
    }

    /// Whether `dsn` is a full connection string rather than a DSN name.
    pub fn is_connection_string(&self) -> bool {
        self.dsn.contains('=')
    }
}

fn redact_connection_string(dsn: &str) -> String {
    if !dsn.contains('=') {
        return dsn.to_owned();
    }
    dsn.split(';')
        .map(|part| match part.split_once('=') {
            Some((key, _))
                if key.trim().eq_ignore_ascii_case("pwd")
                    || key.trim().eq_ignore_ascii_case("password") =>
            {
                format!("{key}=***")
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Options Asterisk accepts that change nothing for realtime in Obelus:
/// every realtime statement runs alone in autocommit mode, and the LIKE
/// `ESCAPE` clause is always written explicitly for the dialect.
const ACCEPTED: [&str; 4] = [
    "forcecommit",
    "isolation",
    "backslash_is_escape",
    "share_connections",
];

/// The connection classes of `res_odbc.conf`, by section name, with `[ENV]`
/// attached to each. Sections with `enabled = no` are left out.
pub fn read(config: &Config, problems: &mut Vec<Diagnostic>) -> Vec<(String, OdbcSettings)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for var in config
        .categories()
        .filter(|c| c.name.eq_ignore_ascii_case("ENV"))
        .flat_map(|c| c.variables())
    {
        let name = var.name.trim();
        if name.is_empty() || name.contains(['=', '\0']) || var.value.contains('\0') {
            problems.push(Diagnostic::warning_at(
                &var.location,
                name,
                "not a valid environment variable; ignored",
            ));
            continue;
        }
        env.push((name.to_owned(), var.value.trim().to_owned()));
    }
    let mut classes = Vec::new();
    for category in config.categories() {
        if category.name.eq_ignore_ascii_case("ENV") {
            continue;
        }
        if let Some(mut settings) = section(category, problems) {
            settings.env = env.clone();
            classes.push((category.name.clone(), settings));
        }
    }
    classes
}

fn section(category: &Category, problems: &mut Vec<Diagnostic>) -> Option<OdbcSettings> {
    let mut settings = OdbcSettings {
        dsn: String::new(),
        username: String::new(),
        password: String::new(),
        pre_connect: false,
        max_connections: 1,
        sanity_sql: "select 1".to_owned(),
        negative_connection_cache: Duration::from_secs(300),
        connect_timeout: Duration::from_secs(10),
        logging: false,
        slow_query_limit: Duration::from_millis(5000),
        cache_type: CacheType::Stack,
        cache_size: None,
        env: Vec::new(),
    };
    let mut enabled = true;
    for var in category.variables() {
        let key = var.name.trim().to_ascii_lowercase();
        let value = var.value.trim();
        let mut bad = |expected: &str| {
            problems.push(Diagnostic::error_at(
                &var.location,
                &var.name,
                format!("expected {expected}, got '{value}'"),
            ));
        };
        match key.as_str() {
            "dsn" => settings.dsn = value.to_owned(),
            "username" => settings.username = value.to_owned(),
            "password" => settings.password = value.to_owned(),
            "sanitysql" => settings.sanity_sql = value.to_owned(),
            "enabled" | "pre-connect" | "logging" => match parse_bool(value) {
                Some(b) if key == "enabled" => enabled = b,
                Some(b) if key == "logging" => settings.logging = b,
                Some(b) => settings.pre_connect = b,
                None => bad("yes or no"),
            },
            "max_connections" => match value.parse::<u32>() {
                Ok(n) if n > 0 => settings.max_connections = n,
                _ => bad("a number of connections (1 or more)"),
            },
            "negative_connection_cache" | "connect_timeout" => match value.parse::<u64>() {
                Ok(n) if key == "connect_timeout" => {
                    settings.connect_timeout = Duration::from_secs(n.max(1))
                }
                Ok(n) => settings.negative_connection_cache = Duration::from_secs(n),
                Err(_) => bad("a number of seconds"),
            },
            "slow_query_limit" => match value.parse::<u64>() {
                Ok(n) => settings.slow_query_limit = Duration::from_millis(n),
                Err(_) => bad("a number of milliseconds"),
            },
            "cache_type" => match value.to_ascii_lowercase().as_str() {
                "stack" => settings.cache_type = CacheType::Stack,
                "rr" | "roundrobin" | "queue" => settings.cache_type = CacheType::RoundRobin,
                _ => bad("stack, rr, roundrobin or queue"),
            },
            "cache_size" => match value.parse::<i64>() {
                Ok(n) if n < 0 => settings.cache_size = None,
                Ok(n) => settings.cache_size = Some(u32::try_from(n).unwrap_or(u32::MAX)),
                Err(_) => bad("a number of connections (-1 for no limit)"),
            },
            k if ACCEPTED.contains(&k) => {}
            _ => problems.push(Diagnostic::warning_at(
                &var.location,
                &var.name,
                "unknown res_odbc.conf option; ignored",
            )),
        }
    }
    if !enabled {
        return None;
    }
    if settings.dsn.is_empty() {
        problems.push(Diagnostic::error_at(
            &category.location,
            "dsn",
            format!(
                "[{}] has no dsn; name a data source from odbc.ini",
                category.name
            ),
        ));
        return None;
    }
    Some(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> (Vec<(String, OdbcSettings)>, Vec<Diagnostic>) {
        let config = obelus_conf::parse_str("res_odbc.conf", text).unwrap();
        let mut problems = Vec::new();
        (read(&config, &mut problems), problems)
    }

    #[test]
    fn reads_asterisk_sample_options_and_defaults() {
        let (classes, problems) = read_str(
            "[ENV]\nODBCSYSINI => /tmp/odbc\n\n[asterisk]\nenabled => yes\ndsn => asterisk-connector\nusername => myuser\npassword => mypass\npre-connect => yes\nmax_connections => 20\nsanitysql => select 1\nnegative_connection_cache => 600\nconnect_timeout => 5\nlogging => yes\ncache_type => rr\ncache_size => 4\nisolation => read_committed\n\n[off]\nenabled => no\ndsn => x\n\n[plain]\ndsn => other\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(classes.len(), 2, "the disabled section is left out");
        let (name, a) = &classes[0];
        assert_eq!(name, "asterisk");
        assert_eq!(a.dsn, "asterisk-connector");
        assert_eq!(
            (a.username.as_str(), a.password.as_str()),
            ("myuser", "mypass")
        );
        assert!(a.pre_connect && a.logging);
        assert_eq!(a.max_connections, 20);
        assert_eq!(a.negative_connection_cache, Duration::from_secs(600));
        assert_eq!(a.connect_timeout, Duration::from_secs(5));
        assert_eq!(a.cache_type, CacheType::RoundRobin);
        assert_eq!(a.cache_size, Some(4));
        assert_eq!(a.env, [("ODBCSYSINI".to_owned(), "/tmp/odbc".to_owned())]);
        let plain = &classes[1].1;
        assert_eq!(plain.max_connections, 1);
        assert_eq!(plain.sanity_sql, "select 1");
        assert_eq!(plain.negative_connection_cache, Duration::from_secs(300));
        assert_eq!(plain.connect_timeout, Duration::from_secs(10));
        assert_eq!(plain.cache_type, CacheType::Stack);
        assert_eq!(plain.cache_size, None);
        assert!(!plain.pre_connect && !plain.logging);
        assert_eq!(plain.env.len(), 1, "[ENV] applies to every class");
    }

    #[test]
    fn problems_name_their_line_and_secrets_stay_hidden() {
        let (classes, problems) = read_str(
            "[a]\ndsn => x\nmax_connections => many\n[b]\nusername => x\n[c]\ndsn => Driver=x\\;Server=h\\;PWD=secret\npassword => hunter2\nfrobnicate => 1\n",
        );
        assert_eq!(classes.len(), 2, "b has no dsn");
        assert_eq!(
            classes[0].1.max_connections, 1,
            "a bad value keeps the default"
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].to_string().starts_with("res_odbc.conf:3:"));
        assert!(problems[1].to_string().contains("no dsn"));
        assert!(!problems[2].is_error(), "unknown options only warn");
        let c = &classes[1].1;
        assert!(c.is_connection_string());
        assert_eq!(c.display_dsn(), "Driver=x;Server=h;PWD=***");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("secret") && !debug.contains("hunter2"),
            "{debug}"
        );
    }
}
