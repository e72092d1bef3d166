//! One REGISTER of a registration, to its end: routed as any request of
//! ours (the outbound proxy, else the server; its `transport`; RFC 3263
//! lookups; TCP/TLS connections opened as needed), sent as a non-INVITE
//! client transaction with its digest retries ([`crate::uac`]) and its RFC
//! 3329 retry (a 494 naming the server's mechanisms is answered once with
//! them in Security-Verify), and failed over as Asterisk's
//! `ast_sip_failover_request` does (RFC 3263 §4.3): when the target gives
//! no answer (Timer F, or a connection that cannot be made) or a 503, the
//! REGISTER goes to the next target the lookup gave, until one answers
//! otherwise or none is left (the last failure then stands).

use std::net::SocketAddr;
use std::sync::Weak;
use std::time::Duration;

use obelus_sip::Response;
use obelus_sip::digest::client::{ClientCredential, retry};
use obelus_transport::Reply;

use super::config::Config;
use super::machine::Outcome;
use super::outbound;
use super::request::{Requests, granted, retry_after};
use super::security::Agreement;
use crate::route::Route;
use crate::stack::Shared;
use crate::uac::Answered;

/// A connection to keep alive with CRLF pings (RFC 5626 §4.4.1).
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    /// Down where the REGISTER went.
    pub(crate) reply: Reply,
    /// How often.
    pub(crate) every: Duration,
}

/// How a REGISTER ended.
#[derive(Debug)]
pub(crate) struct Sent {
    /// What the machine is told.
    pub(crate) outcome: Outcome,
    /// The final status code (0: none).
    pub(crate) code: u16,
    /// With `support_outbound`, the flow a 2xx over TCP or TLS set up,
    /// when the registrar asked for keep-alives (`Flow-Timer`).
    pub(crate) flow: Option<Flow>,
}

impl Sent {
    fn none() -> Sent {
        Sent {
            outcome: Outcome::NoResponse,
            code: 0,
            flow: None,
        }
    }

    /// RFC 3263 §4.3: no answer, or 503, moves on to the next target.
    fn fails_over(&self) -> bool {
        matches!(self.code, 0 | 503)
    }
}

/// Sends a REGISTER asking for `expires` seconds, failing over through the
/// targets of the server (or outbound proxy) as the module documentation
/// says.
pub(crate) async fn register(
    shared: &Weak<Shared>,
    config: &Config,
    requests: &mut Requests,
    expires: u32,
) -> Sent {
    let id = &config.id;
    let Some(shared) = shared.upgrade() else {
        return Sent::none();
    };
    let Some(sorcery) = shared.sorcery.get() else {
        return Sent::none();
    };
    let uri = if config.outbound_proxy.is_empty() {
        &config.server_uri
    } else {
        &config.outbound_proxy
    };
    let transport = Some(config.transport.as_str()).filter(|t| !t.is_empty());
    let owner = format!("outbound registration '{id}'");
    let creds = crate::outbound_auth::credentials(
        &sorcery,
        &config.outbound_auth,
        &format!("registration '{id}'"),
    )
    .await;
    let mut tried: Vec<SocketAddr> = Vec::new();
    let mut last: Option<(Sent, String)> = None;
    loop {
        let route =
            match crate::route::route_avoiding(&shared, uri, transport, &owner, &tried).await {
                Ok(route) if !tried.contains(&route.peer) => route,
                // Only a target tried already (a connection reused).
                Ok(_) => return last.map_or_else(Sent::none, |(sent, _)| sent),
                // No target left: the last failure stands.
                Err(_) if last.is_some() => return last.map_or_else(Sent::none, |(sent, _)| sent),
                Err(why) => {
                    tracing::error!("PJSIP {owner}: cannot send REGISTER: {why}");
                    return Sent::none();
                }
            };
        if let Some((_, why)) = &last {
            tracing::warn!(
                "PJSIP {owner}: {why} from {} for '{uri}'; trying the next target {}",
                tried.last().map_or_else(String::new, ToString::to_string),
                route.peer
            );
        }
        let sent = exchange(&shared, config, requests, expires, &route, &creds).await;
        if !sent.fails_over() {
            return sent;
        }
        let why = match sent.code {
            0 => "no response".to_owned(),
            code => format!("{code} response"),
        };
        tried.push(route.peer);
        last = Some((sent, why));
    }
}

/// One REGISTER to one target, with its retries.
async fn exchange(
    shared: &Shared,
    config: &Config,
    requests: &mut Requests,
    expires: u32,
    route: &Route,
    creds: &[ClientCredential],
) -> Sent {
    let owner = format!("outbound registration '{}'", config.id);
    let via = route.protocol.via_name();
    let host = route.sip_host.clone();
    let request = match requests.register(config, expires, via, &host) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("PJSIP {owner}: REGISTER not built: {e}");
            return Sent::none();
        }
    };
    let mut answered = send(shared, route, request, creds, requests.security.as_mut()).await;
    // RFC 3329 §2.3.1: a 494 names the server's mechanisms; the REGISTER
    // goes again (once) with them in Security-Verify.
    if let (Ok(response), Some(security)) = (&answered.response, requests.security.as_mut())
        && response.status().as_u16() == 494
        && security.learn(response)
        && let Ok(next) = security
            .reverify(retry(&answered.sent, &Vec::new()))
            .build()
    {
        answered = send(shared, route, next, creds, requests.security.as_mut()).await;
    }
    requests.sent(&answered.sent);
    if let Some(why) = &answered.auth_failure {
        tracing::warn!(
            "PJSIP outbound registration '{}' to '{}': authentication failed: {why}",
            config.id,
            config.server_uri
        );
    }
    let Ok(response) = answered.response else {
        return Sent::none();
    };
    let code = response.status().as_u16();
    let success = (200..300).contains(&code);
    let ours = requests.contact_uri(config, &host, via);
    Sent {
        outcome: Outcome::Response {
            code,
            granted: success.then(|| granted(&response, &ours)).flatten(),
            retry_after: retry_after(&response),
        },
        code,
        flow: (success && expires > 0 && config.support_outbound && route.reliable)
            .then(|| keepalive(&response, route))
            .flatten(),
    }
}

/// A REGISTER and its digest retries, each retry carrying what the
/// security agreement knows after the challenge.
async fn send(
    shared: &Shared,
    route: &Route,
    request: obelus_sip::Request,
    creds: &[ClientCredential],
    mut security: Option<&mut Agreement>,
) -> Answered {
    crate::uac::non_invite_with_auth(
        &route.reply,
        route.reliable,
        &shared.pending,
        request,
        creds,
        |challenge, b| match security.as_deref_mut() {
            Some(agreement) => {
                agreement.learn(challenge);
                agreement.reverify(b)
            }
            None => b,
        },
    )
    .await
}

/// The flow a 2xx with a `Flow-Timer` set up, keep-alives drawn in its
/// 80–100 % window.
fn keepalive(response: &Response, route: &Route) -> Option<Flow> {
    let mut b = [0u8; 4];
    rand::fill(&mut b[..]);
    let draw = f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX);
    outbound::keepalive_every(response, draw).map(|every| Flow {
        reply: route.reply.clone(),
        every,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3263 §4.3 as Asterisk applies it to REGISTER: no answer and 503
    /// try the next target; an answer of any other kind is the answer.
    #[test]
    fn no_answer_and_503_fail_over() {
        let sent = |code| Sent {
            outcome: Outcome::NoResponse,
            code,
            flow: None,
        };
        assert!(sent(0).fails_over());
        assert!(sent(503).fails_over());
        for code in [200, 401, 403, 404, 408, 486, 500, 502, 504, 603] {
            assert!(!sent(code).fails_over(), "{code}");
        }
    }
}
