//! A `type=registration` object read and checked once, with the error
//! messages Asterisk logs for a registration it will not apply.

use obelus_sip::Uri;
use obelus_sorcery::Object;

use super::machine::Policy;

/// Everything one registration is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The object's id.
    pub id: String,
    /// `server_uri`: the Request-URI of the REGISTER (the registrar).
    pub server_uri: String,
    /// `client_uri`: the address of record registered (From and To).
    pub client_uri: String,
    /// `contact_user` (`s` when empty, as Asterisk).
    pub contact_user: String,
    /// `contact_header_params`, appended to our Contact.
    pub contact_header_params: String,
    /// `transport`: the `type=transport` to send from.
    pub transport: String,
    /// `outbound_proxy`: where the REGISTER goes instead (with a Route).
    pub outbound_proxy: String,
    /// `outbound_auth`: the `type=auth` objects answering challenges.
    pub outbound_auth: Vec<String>,
    /// `max_random_initial_delay` (seconds).
    pub max_random_initial_delay: u32,
    /// `line`: add a `line` parameter to our Contact so requests to it are
    /// identified as `endpoint`.
    pub line: bool,
    /// `endpoint`: the endpoint for requests carrying our `line`.
    pub endpoint: String,
    /// `user_agent` (the global one when empty).
    pub user_agent: String,
    /// `support_path`: advertise `Supported: path` (RFC 3327), so proxies
    /// on the way may add a Path.
    pub support_path: bool,
    /// `support_outbound`: register as an RFC 5626 flow (`+sip.instance`,
    /// `reg-id`, `;ob`, `Supported: outbound`) and keep it alive.
    pub support_outbound: bool,
    /// `security_negotiation=mediasec`: the `security_mechanisms` offered
    /// in Security-Client (RFC 3329); `None` without negotiation.
    pub security_mechanisms: Option<Vec<String>>,
    /// The retry options.
    pub policy: Policy,
}

fn secs(object: &Object, name: &str, default: u32) -> u32 {
    object
        .uint(name)
        .map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
}

fn is_sip_uri(text: &str) -> bool {
    Uri::parse(text).is_ok_and(|u| u.host().is_some())
        && (text.starts_with("sip:") || text.starts_with("sips:"))
}

impl Config {
    /// Reads a registration; the error is the line to log (it names the
    /// registration and what is wrong) when it cannot be applied.
    pub fn from_object(object: &Object) -> Result<Config, String> {
        let id = object.id().to_owned();
        let text = |name: &str| object.str(name).unwrap_or("").trim().to_owned();
        let server_uri = text("server_uri");
        let client_uri = text("client_uri");
        if server_uri.is_empty() {
            return Err(format!(
                "No server URI specified on outbound registration '{id}'"
            ));
        }
        if !is_sip_uri(&server_uri) {
            return Err(format!(
                "Invalid server URI '{server_uri}' specified on outbound registration '{id}'"
            ));
        }
        if client_uri.is_empty() {
            return Err(format!(
                "No client URI specified on outbound registration '{id}'"
            ));
        }
        if !is_sip_uri(&client_uri) {
            return Err(format!(
                "Invalid client URI '{client_uri}' specified on outbound registration '{id}'"
            ));
        }
        let line = object.bool("line").unwrap_or(false);
        let endpoint = text("endpoint");
        if line && endpoint.is_empty() {
            return Err(format!(
                "Line support has been enabled on outbound registration '{id}' without providing an endpoint"
            ));
        }
        if !line && !endpoint.is_empty() {
            return Err(format!(
                "An endpoint has been specified on outbound registration '{id}' without enabling line support"
            ));
        }
        let outbound_proxy = text("outbound_proxy");
        if !outbound_proxy.is_empty() && !is_sip_uri(&outbound_proxy) {
            return Err(format!(
                "Invalid outbound proxy '{outbound_proxy}' specified on outbound registration '{id}'"
            ));
        }
        let security_mechanisms = (text("security_negotiation") == "mediasec")
            .then(|| super::security::mechanisms(&text("security_mechanisms"), &id));
        let contact_user = match text("contact_user") {
            u if u.is_empty() => "s".to_owned(),
            u => u,
        };
        Ok(Config {
            id,
            server_uri,
            client_uri,
            contact_user,
            contact_header_params: text("contact_header_params"),
            transport: text("transport"),
            outbound_proxy,
            outbound_auth: object
                .list("outbound_auth")
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            max_random_initial_delay: secs(object, "max_random_initial_delay", 10),
            line,
            endpoint,
            user_agent: text("user_agent"),
            support_path: object.bool("support_path").unwrap_or(false),
            support_outbound: object.bool("support_outbound").unwrap_or(false),
            security_mechanisms,
            policy: Policy {
                expiration: secs(object, "expiration", 3600),
                retry_interval: secs(object, "retry_interval", 60),
                max_retries: secs(object, "max_retries", 10),
                forbidden_retry_interval: secs(object, "forbidden_retry_interval", 0),
                fatal_retry_interval: secs(object, "fatal_retry_interval", 0),
                auth_rejection_permanent: object.bool("auth_rejection_permanent").unwrap_or(true),
            },
        })
    }

    /// The first `outbound_auth`, as `pjsip show registrations` shows it.
    pub fn auth_label(&self) -> &str {
        self.outbound_auth.first().map_or("n/a", String::as_str)
    }
}
