//! `ari.conf`: `[general]`, the users that may log in, and the outbound
//! WebSockets Obelus opens to application servers.
//!
//! ```text
//! [general]
//! enabled = yes
//! pretty = no
//! allowed_origins = http://app.example.com
//!
//! [asterisk]
//! type = user
//! read_only = no
//! password = secret            ; or a crypt(3) hash with password_format = crypt
//!
//! [connection1]
//! type = outbound_websocket     ; Obelus connects to the application
//! websocket_client_id = app_server ; a section of websocket_client.conf
//! apps = app1, app2
//! local_ari_user = asterisk
//! ```

use std::net::IpAddr;
use std::time::Duration;

use obelus_conf::Config;
use obelus_core::acl::Acl;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::{Settings, parse_bool};
use sha_crypt::{PasswordVerifier, ShaCrypt};
use subtle::ConstantTimeEq;

/// The configuration file.
pub const FILE: &str = "ari.conf";

/// How a user's `password` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordFormat {
    /// As is.
    Plain,
    /// A crypt(3) hash (`$6$salt$...` from `mkpasswd -m sha-512`, or `$5$`).
    Crypt,
}

/// One `type = user` section.
#[derive(Debug, Clone)]
pub struct User {
    /// The section name: the user name clients log in with.
    pub name: String,
    /// `password` (never logged).
    pub password: String,
    /// `password_format`.
    pub format: PasswordFormat,
    /// `read_only`: only GET (and OPTIONS) are allowed.
    pub read_only: bool,
    /// `permit`/`deny`: which addresses may use the account.
    pub acl: Acl,
}

impl User {
    /// Whether `given` is this user's password. Plain passwords compare in
    /// constant time; crypt hashes are recomputed with their salt.
    pub fn check_password(&self, given: &str) -> bool {
        match self.format {
            PasswordFormat::Plain => bool::from(self.password.as_bytes().ct_eq(given.as_bytes())),
            PasswordFormat::Crypt => ShaCrypt::default()
                .verify_password(given.as_bytes(), self.password.as_str())
                .is_ok(),
        }
    }

    /// Whether the account may be used from `addr`.
    pub fn allows(&self, addr: IpAddr) -> bool {
        self.acl.allows(addr)
    }

    /// Whether per-user ACL rules are configured (`ari show users`' ACL? column).
    pub fn has_acl(&self) -> bool {
        !self.acl.is_empty()
    }
}

/// What `ari.conf` says.
#[derive(Debug, Clone)]
pub struct AriConf {
    /// `enabled`: when off, ARI URLs answer 404 as if the module were not loaded.
    pub enabled: bool,
    /// `pretty`: indent JSON responses and events.
    pub pretty: bool,
    /// `allowed_origins`: CORS origins (`*` allows any).
    pub allowed_origins: Vec<String>,
    /// `auth_realm` for the `WWW-Authenticate` challenge.
    pub auth_realm: String,
    /// `websocket_write_timeout`: how long an event may wait for a slow
    /// client before the socket is dropped.
    pub websocket_write_timeout: Duration,
    /// `channelvars`: variables included as `channelvars` in every Channel.
    pub channelvars: Vec<String>,
    /// The users.
    pub users: Vec<User>,
    /// `type = outbound_websocket` sections: connections Obelus opens to
    /// application servers.
    pub outbound: Vec<OutboundWebsocket>,
}

/// One `type = outbound_websocket` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundWebsocket {
    /// The section name (the connection's name in logs and the console).
    pub name: String,
    /// `websocket_client_id`: the `websocket_client.conf` section to use.
    pub client: String,
    /// `apps`: the Stasis applications served over it (no other socket
    /// may hold them).
    pub apps: Vec<String>,
    /// `subscribe_all`.
    pub subscribe_all: bool,
    /// `local_ari_user`: whose rights its REST requests have.
    pub local_ari_user: String,
}

impl Default for AriConf {
    fn default() -> Self {
        Self {
            enabled: true,
            pretty: false,
            allowed_origins: Vec::new(),
            auth_realm: "Asterisk REST Interface".to_owned(),
            websocket_write_timeout: Duration::from_millis(100),
            channelvars: Vec::new(),
            users: Vec::new(),
            outbound: Vec::new(),
        }
    }
}

impl AriConf {
    /// Reads `ari.conf` from the configuration directory; a missing file is
    /// the defaults (enabled, no users: nobody can log in).
    pub fn read(settings: &Settings) -> (Self, Vec<Diagnostic>) {
        match settings.load_conf(FILE) {
            Ok(config) => Self::from_config(&config),
            Err(e) if e.is_not_found() => (Self::default(), Vec::new()),
            Err(e) => (Self::default(), Diagnostic::from_conf_errors(&e)),
        }
    }

    /// Reads a parsed file; problems name file and line.
    pub fn from_config(config: &Config) -> (Self, Vec<Diagnostic>) {
        let mut conf = Self::default();
        let mut problems = Vec::new();
        for category in config.categories() {
            if category.name.eq_ignore_ascii_case("general") {
                conf.read_general(category, &mut problems);
                continue;
            }
            match category.get("type").map(str::trim) {
                Some(t) if t.eq_ignore_ascii_case("user") => {
                    if let Some(user) = read_user(category, &mut problems) {
                        conf.users.push(user);
                    }
                }
                Some(t) if t.eq_ignore_ascii_case("outbound_websocket") => {
                    if let Some(outbound) = read_outbound(category, &mut problems) {
                        conf.outbound.push(outbound);
                    }
                }
                Some(other) => problems.push(Diagnostic::warning_at(
                    &category.location,
                    "type",
                    format!(
                        "unknown type '{other}' in section '{}' (expected user)",
                        category.name
                    ),
                )),
                None => problems.push(Diagnostic::warning_at(
                    &category.location,
                    "type",
                    format!("section '{}' has no type; ignored", category.name),
                )),
            }
        }
        (conf, problems)
    }

    fn read_general(&mut self, category: &obelus_conf::Category, problems: &mut Vec<Diagnostic>) {
        for var in category.variables() {
            let v = var.value.trim();
            let flag = |problems: &mut Vec<Diagnostic>, default: bool| {
                parse_bool(v).unwrap_or_else(|| {
                    problems.push(Diagnostic::error_at(
                        &var.location,
                        &var.name,
                        format!("expected yes or no, got '{v}'"),
                    ));
                    default
                })
            };
            match var.name.to_ascii_lowercase().as_str() {
                "enabled" => self.enabled = flag(problems, true),
                "pretty" => self.pretty = flag(problems, false),
                "allowed_origins" => {
                    self.allowed_origins = v
                        .split(',')
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "auth_realm" => self.auth_realm = v.to_owned(),
                "websocket_write_timeout" => match v.parse::<u64>() {
                    Ok(ms) if ms > 0 => self.websocket_write_timeout = Duration::from_millis(ms),
                    _ => problems.push(Diagnostic::error_at(
                        &var.location,
                        &var.name,
                        format!("expected a number of milliseconds, got '{v}'"),
                    )),
                },
                "channelvars" => {
                    self.channelvars = v
                        .split(',')
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                other => problems.push(Diagnostic::warning_at(
                    &var.location,
                    other,
                    "unknown option in [general]",
                )),
            }
        }
    }

    /// The user called `name` (case-sensitive, as Asterisk's lookup).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Whether a browser at `origin` may call ARI.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }
}

fn read_outbound(
    category: &obelus_conf::Category,
    problems: &mut Vec<Diagnostic>,
) -> Option<OutboundWebsocket> {
    let mut outbound = OutboundWebsocket {
        name: category.name.clone(),
        client: String::new(),
        apps: Vec::new(),
        subscribe_all: false,
        local_ari_user: String::new(),
    };
    for var in category.variables() {
        let v = var.value.trim();
        match var.name.to_ascii_lowercase().as_str() {
            "type" => {}
            "websocket_client_id" => outbound.client = v.to_owned(),
            "apps" => {
                outbound.apps = v
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "subscribe_all" => match parse_bool(v) {
                Some(b) => outbound.subscribe_all = b,
                None => problems.push(Diagnostic::error_at(
                    &var.location,
                    &var.name,
                    format!("expected yes or no, got '{v}'"),
                )),
            },
            "local_ari_user" => outbound.local_ari_user = v.to_owned(),
            other => problems.push(Diagnostic::warning_at(
                &var.location,
                other,
                "unknown option for an outbound_websocket",
            )),
        }
    }
    for (value, option) in [
        (outbound.client.is_empty(), "websocket_client_id"),
        (outbound.apps.is_empty(), "apps"),
        (outbound.local_ari_user.is_empty(), "local_ari_user"),
    ] {
        if value {
            problems.push(Diagnostic::error_at(
                &category.location,
                option,
                format!("outbound_websocket '{}' needs {option}", category.name),
            ));
            return None;
        }
    }
    Some(outbound)
}

fn read_user(category: &obelus_conf::Category, problems: &mut Vec<Diagnostic>) -> Option<User> {
    let mut user = User {
        name: category.name.clone(),
        password: String::new(),
        format: PasswordFormat::Plain,
        read_only: false,
        acl: Acl::default(),
    };
    for var in category.variables() {
        let v = var.value.trim();
        match var.name.to_ascii_lowercase().as_str() {
            "type" => {}
            "password" => user.password = v.to_owned(),
            "password_format" => match v.to_ascii_lowercase().as_str() {
                "plain" => user.format = PasswordFormat::Plain,
                "crypt" => user.format = PasswordFormat::Crypt,
                _ => problems.push(Diagnostic::error_at(
                    &var.location,
                    &var.name,
                    format!("expected plain or crypt, got '{v}'"),
                )),
            },
            "read_only" => match parse_bool(v) {
                Some(b) => user.read_only = b,
                None => problems.push(Diagnostic::error_at(
                    &var.location,
                    &var.name,
                    format!("expected yes or no, got '{v}'"),
                )),
            },
            key @ ("permit" | "deny") => {
                if let Err(e) = user.acl.add(key == "permit", v) {
                    problems.push(Diagnostic::error_at(&var.location, key, e.to_string()));
                }
            }
            "acl" => problems.push(Diagnostic::warning_at(
                &var.location,
                "acl",
                "named ACLs (acl.conf) are not supported; use permit/deny",
            )),
            other => problems.push(Diagnostic::warning_at(
                &var.location,
                other,
                format!("unknown option for user '{}'", category.name),
            )),
        }
    }
    if user.password.is_empty() {
        problems.push(Diagnostic::error_at(
            &category.location,
            "password",
            format!("user '{}' has no password", user.name),
        ));
        return None;
    }
    if user.format == PasswordFormat::Crypt
        && !(user.password.starts_with("$5$") || user.password.starts_with("$6$"))
    {
        problems.push(Diagnostic::warning_at(
            &category.location,
            "password",
            format!(
                "user '{}': only SHA-256 ($5$) and SHA-512 ($6$) crypt hashes are supported; \
                 the user cannot log in (use mkpasswd -m sha-512)",
                user.name
            ),
        ));
    }
    Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> (AriConf, Vec<Diagnostic>) {
        AriConf::from_config(&obelus_conf::parse_str(FILE, text).expect("parses"))
    }

    /// `openssl passwd -6 -salt abcdefgh secret`.
    const SECRET_SHA512: &str = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.";

    #[test]
    fn reads_outbound_websockets_and_refuses_incomplete_ones() {
        let (c, problems) = conf(
            "[c1]\ntype=outbound_websocket\nwebsocket_client_id=srv\napps=a, b\n\
             subscribe_all=yes\nlocal_ari_user=u\n\
             [c2]\ntype=outbound_websocket\napps=x\nlocal_ari_user=u\n",
        );
        assert_eq!(
            c.outbound,
            [OutboundWebsocket {
                name: "c1".into(),
                client: "srv".into(),
                apps: vec!["a".into(), "b".into()],
                subscribe_all: true,
                local_ari_user: "u".into(),
            }]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].to_string().contains("websocket_client_id"));
    }

    #[test]
    fn reads_general_and_users() {
        let (c, problems) = conf(&format!(
            "[general]\nenabled=yes\npretty=yes\nallowed_origins=http://a.example, *\n\
             channelvars=A,B\n\n[ari]\ntype=user\npassword=secret\nread_only=yes\n\
             deny=0.0.0.0/0\npermit=127.0.0.1/32\n\n[hashed]\ntype=user\npassword_format=crypt\n\
             password={SECRET_SHA512}\n"
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(c.enabled && c.pretty);
        assert_eq!(c.allowed_origins, vec!["http://a.example", "*"]);
        assert_eq!(c.channelvars, vec!["A", "B"]);
        let ari = c.user("ari").expect("user");
        assert!(ari.read_only);
        assert!(ari.has_acl());
        assert!(ari.check_password("secret"));
        assert!(!ari.check_password("secreT"));
        assert!(ari.allows("127.0.0.1".parse().expect("ip")));
        assert!(!ari.allows("10.0.0.1".parse().expect("ip")));
        let hashed = c.user("hashed").expect("user");
        assert_eq!(hashed.password, SECRET_SHA512);
        assert!(hashed.check_password("secret"));
        assert!(!hashed.check_password("wrong"));
        assert!(c.origin_allowed("http://anything"));
    }

    #[test]
    fn problems_name_the_line() {
        let (c, problems) =
            conf("[general]\npretty=maybe\n\n[nopass]\ntype=user\n\n[x]\ntype=robot\n[y]\nfoo=1\n");
        assert!(c.users.is_empty());
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(text[0].starts_with("ari.conf:2:"), "{text:?}");
        assert!(problems[0].is_error());
        assert!(text.iter().any(|t| t.contains("has no password")));
        assert!(text.iter().any(|t| t.contains("unknown type 'robot'")));
        assert!(text.iter().any(|t| t.contains("has no type")));
    }

    #[test]
    fn unsupported_crypt_formats_never_match() {
        let (c, problems) = conf("[u]\ntype=user\npassword_format=crypt\npassword=$1$abc$xyz\n");
        assert_eq!(problems.len(), 1);
        assert!(!c.user("u").expect("user").check_password("xyz"));
    }
}
