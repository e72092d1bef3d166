//! `PJSIP/...` dial strings (Asterisk's chan_pjsip request): an outbound
//! leg to an endpoint's registered (or static) contacts.
//!
//! Forms: `PJSIP/endpoint`, `PJSIP/endpoint/aor`, `PJSIP/endpoint/sip:uri`,
//! `PJSIP/user@endpoint` (the Request-URI user replaced).

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use obelus_core::channel::{
    Cause, Channel, ChannelInit, ChannelState, Channels, Party, Technology,
};
use obelus_media::MediaEngine;
use obelus_sip::sdp::Direction;
use obelus_sip::session_timer::SessionTimer;
use tokio::sync::mpsc;

use super::INBOX;
use super::actor::{Actor, Role, Setup, Transfers};
use super::dialog::Dialog;
use super::direct::{DirectSettings, SharedNative};
use super::dtmf::{DtmfMode, SharedPath};
use super::handle::{MediaSlot, SessionHandle};
use super::incoming::{endpoint_callerid, timer_settings};
use super::sdp::{self, DTMF_PT, LocalAudio};
use crate::stack::Shared;

/// The `PJSIP` channel technology.
pub struct PjsipTechnology {
    pub(crate) shared: Weak<Shared>,
}

/// A parsed dial string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The endpoint whose settings apply.
    pub(crate) endpoint: String,
    /// One AOR of it to reach.
    pub(crate) aor: Option<String>,
    /// A URI to reach instead of a contact.
    pub(crate) uri: Option<String>,
    /// A Request-URI user replacing the contact's.
    pub(crate) user: Option<String>,
}

/// Reads `endpoint`, `endpoint/aor`, `endpoint/sip:uri`, `user@endpoint`.
pub(crate) fn parse(resource: &str) -> Option<Target> {
    let (head, rest) = match resource.split_once('/') {
        Some((h, r)) => (h, Some(r)),
        None => (resource, None),
    };
    let (user, endpoint) = match head.split_once('@') {
        Some((u, e)) => (Some(u.to_owned()), e),
        None => (None, head),
    };
    if endpoint.is_empty() {
        return None;
    }
    let (aor, uri) = match rest {
        Some(r) if r.starts_with("sip:") || r.starts_with("sips:") => (None, Some(r.to_owned())),
        Some(r) if !r.is_empty() => (Some(r.to_owned()), None),
        _ => (None, None),
    };
    Some(Target {
        endpoint: endpoint.to_owned(),
        aor,
        uri,
        user,
    })
}

/// Replaces the user part of a SIP URI.
pub(crate) fn with_user(uri: &str, user: &str) -> String {
    let (scheme, rest) = uri.split_once(':').unwrap_or(("sip", uri));
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}:{user}@{host}")
}

/// A contact to reach: its URI, and the Path it registered through
/// (RFC 3327; empty for none and for static contacts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reach {
    /// The contact URI (the Request-URI).
    pub(crate) uri: String,
    /// Its stored path ([`crate::path`]).
    pub(crate) path: String,
}

/// The URI of [`contact_of`] (where a transfer sends the peer: the path,
/// if any, is for our requests only).
pub(crate) async fn contact_uri(
    sorcery: &obelus_sorcery::Sorcery,
    endpoint: &obelus_sorcery::Object,
    aor: Option<&str>,
) -> Option<String> {
    contact_of(sorcery, endpoint, aor).await.map(|r| r.uri)
}

/// Where an endpoint is reached: the first registered contact of its
/// AORs (or of `aor` alone), else the first static `contact` of one.
pub(crate) async fn contact_of(
    sorcery: &obelus_sorcery::Sorcery,
    endpoint: &obelus_sorcery::Object,
    aor: Option<&str>,
) -> Option<Reach> {
    let aors: Vec<String> = match aor {
        Some(a) => vec![a.to_owned()],
        None => endpoint.list("aors").to_vec(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for aor in &aors {
        if let Ok(bindings) = crate::contacts::bindings(sorcery, aor, now).await
            && let Some(b) = bindings.first()
        {
            return Some(Reach {
                uri: b.uri.clone(),
                path: b.path.clone(),
            });
        }
        if let Ok(Some(object)) = sorcery.retrieve_by_id("aor", aor).await
            && let Some(c) = object.list("contact").first()
        {
            return Some(Reach {
                uri: c.clone(),
                path: String::new(),
            });
        }
    }
    None
}

#[async_trait]
impl Technology for PjsipTechnology {
    fn name(&self) -> &'static str {
        "PJSIP"
    }

    fn description(&self) -> &'static str {
        "PJSIP Channel Driver"
    }

    async fn request(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause> {
        self.request_with_formats(channels, resource, requestor, &[])
            .await
    }

    async fn request_with_formats(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
        formats: &[String],
    ) -> Result<Arc<Channel>, Cause> {
        let shared = self.shared.upgrade().ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let sorcery = shared.sorcery.get().ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let target = parse(resource).ok_or_else(|| {
            tracing::warn!("PJSIP: bad dial string '{resource}'");
            Cause::CHAN_NOT_IMPLEMENTED
        })?;
        let endpoint = match sorcery.retrieve_by_id("endpoint", &target.endpoint).await {
            Ok(Some(e)) => e,
            _ => {
                tracing::warn!(
                    "Unable to create PJSIP channel with endpoint '{}' as it does not exist",
                    target.endpoint
                );
                return Err(Cause::NO_ROUTE_DESTINATION);
            }
        };
        let reach = match &target.uri {
            Some(uri) => Some(Reach {
                uri: uri.clone(),
                path: String::new(),
            }),
            None => contact_of(&sorcery, &endpoint, target.aor.as_deref()).await,
        };
        let Some(Reach { uri, path }) = reach else {
            tracing::info!(
                verbose = 3,
                "PJSIP: endpoint '{}' has no registered contact",
                target.endpoint
            );
            return Err(Cause::SUBSCRIBER_ABSENT);
        };
        let uri = match &target.user {
            Some(user) => with_user(&uri, user),
            None => uri,
        };
        let route = match crate::path::route(&shared, &uri, &path, Some(&endpoint)).await {
            Ok(route) => route,
            Err(why) => {
                tracing::warn!(
                    "PJSIP: cannot reach '{uri}' for endpoint '{}': {why}",
                    target.endpoint
                );
                return Err(why.cause());
            }
        };
        let (peer, local_ip, public) = (route.peer, route.local.ip(), route.public.clone());
        let engine = shared
            .core
            .service::<MediaEngine>()
            .ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let stream = engine.open(local_ip).map_err(|e| {
            tracing::error!("PJSIP: no RTP port for an outbound call: {e}");
            Cause::CONGESTION
        })?;
        let media_port = stream.local_addr().port();
        let media = MediaSlot::new(stream);
        let mut allowed = sdp::codecs(endpoint.list("allow").iter().map(String::as_str));
        if !formats.is_empty() {
            let wanted = sdp::codecs(formats.iter().map(String::as_str));
            allowed.retain(|c| wanted.contains(c));
        }
        if allowed.is_empty() {
            if formats.is_empty() {
                tracing::warn!(
                    "PJSIP: endpoint '{}' allows no codec Obelus supports (set allow=ulaw,alaw,g722)",
                    endpoint.id()
                );
            } else {
                tracing::warn!(
                    "PJSIP: endpoint '{}' allows none of the requested formats ({})",
                    endpoint.id(),
                    formats.join(",")
                );
            }
            return Err(Cause::BEARERCAPABILITY_NOTAVAIL);
        }
        let local = LocalAudio {
            addr: SocketAddr::new(public.media.unwrap_or(local_ip), media_port),
            formats: sdp::offer_formats(&allowed),
            dtmf_pt: DtmfMode::of(&endpoint).offers_rfc4733().then_some(DTMF_PT),
            ptime: 20,
            direction: Direction::SendRecv,
        };
        // Who we present to the called party (the channel's connected
        // line, as chan_pjsip uses it): the requesting channel's caller,
        // else the endpoint's own callerid. The channel's caller id is the
        // called party, as Dial makes it, so the caller's connected line
        // can show whom it reached.
        let presented = requestor
            .map(|r| r.caller())
            .or_else(|| endpoint_callerid(&endpoint))
            .unwrap_or_default();
        let exten = target
            .user
            .clone()
            .unwrap_or_else(|| target.endpoint.clone());
        let called = Party {
            number: exten.clone(),
            name: endpoint_callerid(&endpoint)
                .map(|p| p.name)
                .unwrap_or_default(),
        };
        let from_user = if presented.number.is_empty() {
            "obelus".to_owned()
        } else {
            presented.number.clone()
        };
        let local_uri = if presented.name.is_empty() {
            format!("<sip:{from_user}@{local_ip}>")
        } else {
            format!(
                "\"{}\" <sip:{from_user}@{local_ip}>",
                presented.name.replace('"', "")
            )
        };
        let mut dialog = Dialog::for_uac(
            &obelus_sip::new_call_id(None),
            &local_uri,
            &format!("<{}>", crate::symmetric::on_the_wire(&uri)),
            &format!("<{}>", route.contact(&from_user)),
        );
        // RFC 3327: the contact's path is the INVITE's pre-loaded route set.
        dialog.route_set = crate::path::route_set(&path);
        let (tx, inbox) = mpsc::channel(INBOX);
        let dtmf_path = SharedPath::default();
        let transfer_ari = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let native = SharedNative::default();
        let channel = Channel::create(
            channels,
            ChannelInit {
                tech: "PJSIP",
                resource: endpoint.id().to_owned(),
                state: ChannelState::Down,
                caller: called,
                context: endpoint.str("context").unwrap_or("default").to_owned(),
                exten,
                language: endpoint.str("language").unwrap_or("").to_owned(),
                accountcode: endpoint.str("accountcode").unwrap_or("").to_owned(),
            },
            Arc::new(SessionHandle {
                tx: tx.clone(),
                media: media.clone(),
                call_id: dialog.call_id.clone(),
                endpoint: endpoint.id().to_owned(),
                headers: Vec::new(),
                dtmf: dtmf_path.clone(),
                transfer_ari: Arc::clone(&transfer_ari),
                native: native.clone(),
            }),
            requestor,
        );
        channel.set_connected(presented);
        shared
            .sessions
            .insert(&dialog.call_id, &dialog.local_tag, tx);
        let actor = Actor::new(Setup {
            shared: Arc::clone(&shared),
            channel: Arc::clone(&channel),
            dialog,
            reply: route.reply,
            transport: route.transport,
            via: route.via,
            reliable: route.reliable,
            media,
            local,
            allowed,
            symmetric: endpoint.bool("rtp_symmetric").unwrap_or(false),
            role: Role::Uac { invite: None },
            inbox,
            remote: None,
            timer: SessionTimer::new(timer_settings(&endpoint)),
            agreement: None,
            peer_allows_update: false,
            dtmf: DtmfMode::of(&endpoint),
            dtmf_path,
            transfer_ari,
            alternates: route.alternates,
            transfers: Transfers {
                allowed: endpoint.bool("allow_transfer").unwrap_or(true),
                context: endpoint.str("context").unwrap_or("default").to_owned(),
            },
            direct: DirectSettings::of(&endpoint),
            native,
            outbound_auth: endpoint.list("outbound_auth").to_vec(),
            source: Some(peer.ip()),
        });
        tokio::spawn(actor.run());
        Ok(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings() {
        assert_eq!(
            parse("102"),
            Some(Target {
                endpoint: "102".into(),
                aor: None,
                uri: None,
                user: None
            })
        );
        assert_eq!(
            parse("trunk/sip:+1555@192.0.2.7").unwrap().uri.as_deref(),
            Some("sip:+1555@192.0.2.7")
        );
        assert_eq!(parse("102/office").unwrap().aor.as_deref(), Some("office"));
        let t = parse("5551234@trunk").unwrap();
        assert_eq!(
            (t.user.as_deref(), t.endpoint.as_str()),
            (Some("5551234"), "trunk")
        );
        assert_eq!(parse(""), None);
        assert_eq!(
            with_user("sip:a@192.0.2.1:5060", "b"),
            "sip:b@192.0.2.1:5060"
        );
    }
}
