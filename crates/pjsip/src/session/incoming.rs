//! A new INVITE: who is calling (endpoint identification, ACL, digest
//! authentication), whether its session timer is acceptable (420, 421,
//! 422), what they offer (488 when nothing fits), where it goes (404 when
//! the extension does not exist), then the channel, the session task and
//! the dialplan.

use std::net::SocketAddr;
use std::sync::Arc;

use obelus_core::channel::{Channel, ChannelInit, ChannelState, Party};
use obelus_media::MediaEngine;
use obelus_sip::sdp::Direction;
use obelus_sip::session_timer::{Agreement, PeerTimer, SessionTimer, TimerMode, TimerSettings};
use obelus_sip::transaction::TransactionKey;
use obelus_sip::{HeaderName, Headers, Request, ResponseBuilder, StatusCode};
use obelus_transport::Reply;
use tokio::sync::mpsc;

use super::actor::{Actor, Role, Setup, Transfers};
use super::dialog::Dialog;
use super::direct::{DirectSettings, SharedNative};
use super::dtmf::{DtmfMode, SharedPath};
use super::handle::{MediaSlot, SessionHandle};
use super::sdp::{self, LocalAudio};
use super::{INBOX, local_ip_for};
use crate::identify;
use crate::stack::{Origin, Shared, answer, built, endpoint_allows};

/// Rejects the INVITE with `status` through its transaction.
async fn reject(
    shared: &Shared,
    req: &Request,
    key: &TransactionKey,
    origin: &Origin,
    status: StatusCode,
) {
    if let Some(r) = built(answer(req, origin, status)) {
        shared.send_in_txn(key, &r).await;
    }
}

/// Handles an INVITE that starts a dialog: a refusal is answered here.
pub(crate) async fn incoming(
    shared: Arc<Shared>,
    req: Request,
    key: TransactionKey,
    origin: Origin,
    reply: Reply,
) {
    if let Err(Some(status)) = admit(&shared, &req, &key, &origin, reply).await {
        reject(&shared, &req, &key, &origin, status).await;
    }
}

/// Checks the INVITE and starts the call; `Err` carries the response that
/// refuses it (`None`: stay silent, or already answered).
async fn admit(
    shared: &Arc<Shared>,
    req: &Request,
    key: &TransactionKey,
    origin: &Origin,
    reply: Reply,
) -> Result<(), Option<StatusCode>> {
    let Some(sorcery) = shared.sorcery.get() else {
        return Err(Some(StatusCode::SERVICE_UNAVAILABLE));
    };
    if shared.core.shutdown.refusing_calls() {
        return Err(Some(StatusCode::SERVICE_UNAVAILABLE));
    }
    let ip = origin.source.ip();
    if shared.auth.is_throttled(ip, std::time::Instant::now()) {
        return Err(None);
    }
    let endpoint = match crate::outbound_registration::line_endpoint(shared, &sorcery, req).await {
        Some(endpoint) => Some(endpoint),
        None => identify::endpoint(&sorcery, req, origin.source.ip()).await,
    };
    if let Some(ep) = &endpoint
        && !endpoint_allows(shared, ep, "", ip)
    {
        tracing::warn!(
            "PJSIP: INVITE for endpoint '{}' from {ip} refused by the endpoint's ACL (deny/permit)",
            ep.id()
        );
        crate::stack::security(
            shared,
            obelus_core::events::SecurityKind::FailedAcl,
            ep.id(),
            req,
            origin,
        );
        return Err(Some(StatusCode::FORBIDDEN));
    }
    if let Err(response) =
        crate::stack::authenticate(shared, &sorcery, req, origin, endpoint.as_deref()).await
    {
        if let Some(r) = response {
            shared.send_in_txn(key, &r).await;
        }
        return Err(None);
    }
    let Some(endpoint) = endpoint else {
        return Err(Some(StatusCode::FORBIDDEN));
    };
    let mut timer = SessionTimer::new(timer_settings(&endpoint));
    let agreement = match session_timer(&mut timer, req, origin) {
        Ok(agreement) => agreement,
        Err(refusal) => {
            if let Some(r) = built(*refusal) {
                shared.send_in_txn(key, &r).await;
            }
            return Err(None);
        }
    };
    let allowed = sdp::codecs(endpoint.list("allow").iter().map(String::as_str));
    if req.body().is_empty() {
        tracing::warn!(
            "PJSIP: INVITE from endpoint '{}' has no SDP offer; offerless INVITEs are not supported yet",
            endpoint.id()
        );
        return Err(Some(StatusCode::NOT_ACCEPTABLE_HERE));
    }
    let remote = sdp::remote_audio(req.body()).and_then(|r| {
        let format = sdp::negotiate(&r, &allowed)?;
        Ok((r, format))
    });
    let (remote, format) = match remote {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(
                "PJSIP: INVITE from endpoint '{}' ({ip}) refused with 488: {e}",
                endpoint.id()
            );
            return Err(Some(StatusCode::NOT_ACCEPTABLE_HERE));
        }
    };
    let context = endpoint.str("context").unwrap_or("default").to_owned();
    let exten = req
        .uri()
        .user()
        .filter(|u| !u.is_empty())
        .unwrap_or("s")
        .to_owned();
    let from = req.headers().from().ok();
    let caller = Party {
        number: identify::from_user(req).unwrap_or_default(),
        name: from
            .as_ref()
            .and_then(|f| f.display_name())
            .map(|d| d.into_owned())
            .unwrap_or_default(),
    };
    let caller = endpoint_callerid(&endpoint).unwrap_or(caller);
    let Some(pbx) = shared.core.channels.pbx() else {
        tracing::error!("PJSIP: no dialplan executor is loaded; INVITE refused");
        return Err(Some(StatusCode::SERVICE_UNAVAILABLE));
    };
    let caller_num = (!caller.number.is_empty()).then_some(caller.number.as_str());
    if !pbx.exists(&context, &exten, caller_num).await {
        tracing::info!(
            "PJSIP: call from '{}' to extension '{exten}' rejected because extension not found in context '{context}'",
            endpoint.id()
        );
        return Err(Some(StatusCode::NOT_FOUND));
    }
    let Some(engine) = shared.core.service::<MediaEngine>() else {
        tracing::error!("PJSIP: the RTP engine (res_rtp_asterisk) is not loaded; INVITE refused");
        return Err(Some(StatusCode::SERVICE_UNAVAILABLE));
    };
    let local_ip = local_ip_for(origin.local.ip(), origin.source);
    let stream = match engine.open(local_ip) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("PJSIP: no RTP port for a new call: {e}");
            return Err(Some(StatusCode::SERVICE_UNAVAILABLE));
        }
    };
    let media_port = stream.local_addr().port();
    let media = MediaSlot::new(stream);
    let local_sip = SocketAddr::new(local_ip, origin.local.port());
    let public = super::nat::advertised(
        &sorcery,
        &origin.transport,
        origin.source.ip(),
        local_sip.port(),
    )
    .await;
    let sip_host = super::nat::sip_address(&public, local_sip);
    let local_contact = format!("<sip:{sip_host}{}>", transport_param(origin));
    let local_tag = obelus_sip::new_tag();
    let Some(dialog) = Dialog::for_uas(req, &local_tag, &local_contact) else {
        return Err(Some(StatusCode::BAD_REQUEST));
    };
    let dtmf = DtmfMode::of(&endpoint);
    let local = LocalAudio {
        addr: SocketAddr::new(public.media.unwrap_or(local_ip), media_port),
        formats: vec![format],
        dtmf_pt: remote.dtmf_pt.filter(|_| dtmf.offers_rfc4733()),
        ptime: remote.ptime.unwrap_or(20),
        direction: Direction::SendRecv,
    };
    let (tx, inbox) = mpsc::channel(INBOX);
    let dtmf_path = SharedPath::default();
    let transfer_ari = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let native = SharedNative::default();
    let channel = Channel::create(
        &shared.core.channels,
        ChannelInit {
            tech: "PJSIP",
            resource: endpoint.id().to_owned(),
            state: ChannelState::Ring,
            caller,
            context,
            exten,
            language: endpoint.str("language").unwrap_or("").to_owned(),
            accountcode: endpoint.str("accountcode").unwrap_or("").to_owned(),
        },
        Arc::new(SessionHandle {
            tx: tx.clone(),
            media: media.clone(),
            call_id: dialog.call_id.clone(),
            endpoint: endpoint.id().to_owned(),
            dtmf: dtmf_path.clone(),
            headers: req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            transfer_ari: Arc::clone(&transfer_ari),
            native: native.clone(),
        }),
        None,
    );
    if let Some(host) = req.uri().host() {
        channel.set_var("SIPDOMAIN", &host.to_string());
    }
    shared
        .sessions
        .insert(&dialog.call_id, &dialog.local_tag, tx.clone());
    shared.sessions.insert_pending(req, tx);
    let via = format!("{} {sip_host}", origin.protocol.via_name());
    let actor = Actor::new(Setup {
        shared: Arc::clone(shared),
        channel: Arc::clone(&channel),
        dialog,
        reply,
        transport: Arc::clone(&origin.transport),
        via,
        reliable: origin.protocol.is_reliable(),
        media,
        local,
        allowed,
        symmetric: endpoint.bool("rtp_symmetric").unwrap_or(false),
        role: Role::Uas {
            invite: req.clone(),
            key: key.clone(),
        },
        inbox,
        remote: Some(remote),
        timer,
        agreement,
        peer_allows_update: allows_update(req.headers()).unwrap_or(false),
        dtmf,
        dtmf_path,
        transfer_ari,
        alternates: Vec::new(),
        transfers: Transfers {
            allowed: endpoint.bool("allow_transfer").unwrap_or(true),
            context: endpoint.str("context").unwrap_or("default").to_owned(),
        },
        direct: DirectSettings::of(&endpoint),
        native,
        outbound_auth: endpoint.list("outbound_auth").to_vec(),
        source: Some(origin.source.ip()),
    });
    tokio::spawn(actor.run());
    pbx.start(channel);
    Ok(())
}

/// `;transport=tcp` and friends for our Contact on a non-UDP transport.
fn transport_param(origin: &Origin) -> String {
    origin
        .protocol
        .uri_param()
        .map(|t| format!(";transport={t}"))
        .unwrap_or_default()
}

/// The endpoint's session timer options (`timers`, `timers_min_se`,
/// `timers_sess_expires`).
pub(crate) fn timer_settings(endpoint: &obelus_sorcery::Object) -> TimerSettings {
    let defaults = TimerSettings::default();
    let seconds = |name, default: u32| {
        endpoint
            .uint(name)
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(default)
    };
    TimerSettings {
        mode: endpoint
            .str("timers")
            .and_then(TimerMode::parse)
            .unwrap_or(defaults.mode),
        min_se: seconds("timers_min_se", defaults.min_se),
        sess_expires: seconds("timers_sess_expires", defaults.sess_expires),
    }
}

/// The session timer of an INVITE or UPDATE from the peer (RFC 4028 §9):
/// what our 2xx will agree to, or the response refusing the request (400
/// for a malformed header, 420 with `Unsupported: timer` when the endpoint
/// has `timers=no` and the request requires them, 421, or 422 with our
/// Min-SE).
pub(crate) fn session_timer(
    timer: &mut SessionTimer,
    req: &Request,
    origin: &Origin,
) -> Result<Option<Agreement>, Box<ResponseBuilder>> {
    let peer = PeerTimer::from_headers(req.headers()).map_err(|e| {
        Box::new(
            answer(req, origin, StatusCode::BAD_REQUEST).reason(format!("Malformed {}", e.name)),
        )
    })?;
    timer.on_request(&peer).map_err(|refusal| {
        tracing::info!(
            "PJSIP: {} from {} refused with {}: session timer",
            req.method().as_str(),
            origin.source,
            refusal.status().as_u16()
        );
        let (name, value) = refusal.header();
        Box::new(answer(req, origin, refusal.status()).header(name, value))
    })
}

/// Whether a message's `Allow` lists UPDATE (session refreshes then use
/// it); `None` without an `Allow`.
pub(crate) fn allows_update(h: &Headers) -> Option<bool> {
    h.get(HeaderName::Allow)?;
    Some(h.allow().any(|m| m.trim().eq_ignore_ascii_case("UPDATE")))
}

/// The endpoint's `callerid` option (`"Alice" <101>`), if set.
pub(crate) fn endpoint_callerid(endpoint: &obelus_sorcery::Object) -> Option<Party> {
    let value = endpoint.str("callerid")?.trim();
    if value.is_empty() {
        return None;
    }
    match (value.find('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => Some(Party {
            number: value[a + 1..b].trim().to_owned(),
            name: value[..a].trim().trim_matches('"').to_owned(),
        }),
        _ => Some(Party {
            number: value.to_owned(),
            name: String::new(),
        }),
    }
}
