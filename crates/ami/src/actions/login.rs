//! Login (plain and MD5 challenge), Challenge, Logoff.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use md5::{Digest, Md5};
use obelus_core::events::{Event, SecurityEvent, SecurityKind};

use super::Req;
use crate::classes;
use crate::message::Response;
use crate::session::Outbound;

/// How long a failed login waits before answering (as Asterisk), so
/// guessing passwords is slow.
const FAILURE_DELAY: Duration = Duration::from_secs(1);

fn security(req: &Req, kind: SecurityKind, account: &str, extra: Vec<(&'static str, String)>) {
    req.ami.core.events.publish(Event::Security(SecurityEvent {
        kind,
        service: "AMI",
        account: account.to_owned(),
        session_id: format!("0x{:x}", req.session.id),
        local: req.session.local,
        remote: req.session.peer,
        transport: "TCP",
        extra,
        time: SystemTime::now(),
    }));
}

async fn fail(req: &Req, kind: SecurityKind, account: &str, message: &str) -> Outbound {
    security(req, kind, account, Vec::new());
    req.ami.failed_login(req.session.peer.ip());
    tracing::info!(
        verbose = 2,
        "Manager login '{account}' from {} failed ({})",
        req.session.peer,
        kind.name()
    );
    tokio::time::sleep(FAILURE_DELAY).await;
    Outbound::Close(Response::error(req.id(), message).finish())
}

fn md5_hex(data: &str) -> String {
    Md5::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `Action: Login`.
pub async fn login(req: Req) -> Outbound {
    if req.session.user().is_some() {
        return Outbound::Text(
            req.success()
                .header("Message", "Already authenticated")
                .finish(),
        );
    }
    let conf = req.ami.conf();
    let username = req.msg.value("Username").to_owned();
    let Some(user) = conf.user(&username) else {
        return fail(
            &req,
            SecurityKind::InvalidAccountId,
            &username,
            "Authentication failed",
        )
        .await;
    };
    if !user.acl.allows(req.session.peer.ip()) {
        return fail(
            &req,
            SecurityKind::FailedAcl,
            &username,
            "Authentication failed",
        )
        .await;
    }
    let md5 = req.msg.value("AuthType").eq_ignore_ascii_case("md5");
    let accepted = if md5 {
        let challenge = req.session.state().challenge.clone();
        match challenge {
            Some(challenge) if !user.secret.is_empty() => same(
                &md5_hex(&format!("{challenge}{}", user.secret)),
                &req.msg.value("Key").to_ascii_lowercase(),
            ),
            _ => false,
        }
    } else {
        !user.secret.is_empty() && same(req.msg.value("Secret"), &user.secret)
    };
    if !accepted {
        return fail(
            &req,
            SecurityKind::InvalidPassword,
            &username,
            "Authentication failed",
        )
        .await;
    }
    let multiple = user
        .allow_multiple_login
        .unwrap_or(conf.allow_multiple_login);
    if !multiple
        && req
            .ami
            .sessions()
            .iter()
            .any(|s| s.id != req.session.id && s.user().as_deref() == Some(username.as_str()))
    {
        return fail(
            &req,
            SecurityKind::SessionLimit,
            &username,
            "Login Already In Use",
        )
        .await;
    }
    let mask = match req.msg.get("Events") {
        Some(events) => classes::event_mask(events).unwrap_or(user.read) & user.read,
        None => user.read,
    };
    {
        let mut state = req.session.state();
        state.user = Some(username.clone());
        state.read = user.read;
        state.write = user.write;
        state.write_timeout = Some(user.write_timeout);
        state.filters = user.event_filters.clone();
    }
    req.session.mask.store(mask, Ordering::Relaxed);
    // An HTTP session's WaitEvent starts with the events after login.
    if let Some(events) = &req.session.http_events {
        *events.lock().await = req.ami.subscribe();
    }
    req.ami.logged_in();
    security(
        &req,
        SecurityKind::SuccessfulAuth,
        &username,
        vec![("UsingPassword", u8::from(!md5).to_string())],
    );
    if conf.display_connects {
        tracing::info!(
            verbose = 2,
            "Manager '{username}' logged on from {}",
            req.session.peer.ip()
        );
    }
    let mut text = req
        .success()
        .header("Message", "Authentication accepted")
        .finish();
    if user.read & classes::SYSTEM != 0 {
        let core = &req.ami.core;
        let since = |t: SystemTime| {
            SystemTime::now()
                .duration_since(t)
                .unwrap_or_default()
                .as_secs()
        };
        let booted = crate::render::fully_booted(
            since(core.started()),
            since(core.last_reload()),
            &req.ami.render_options(),
        );
        text.push_str(&booted.text);
    }
    Outbound::Text(text)
}

/// `Action: Challenge`.
pub async fn challenge(req: Req) -> Outbound {
    if !req.msg.value("AuthType").eq_ignore_ascii_case("md5") {
        return req.error("Must specify AuthType");
    }
    let challenge = {
        let mut state = req.session.state();
        state
            .challenge
            .get_or_insert_with(|| rand::random::<u32>().to_string())
            .clone()
    };
    Outbound::Text(req.success().header("Challenge", &challenge).finish())
}

/// `Action: Logoff`.
pub async fn logoff(req: Req) -> Outbound {
    Outbound::Close(
        Response::new("Goodbye", req.id())
            .header("Message", "Thanks for all the fish.")
            .finish(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_key_as_clients_compute_it() {
        // md5("12345" + "secret")
        assert_eq!(md5_hex("12345secret"), "d6bf7523a8407696bb9448d0d0fecca8");
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
