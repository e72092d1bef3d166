//! SIP sessions: the PJSIP channel driver (Asterisk's chan_pjsip with
//! res_pjsip_session).
//!
//! Each call leg is a [`Session`](actor) task owning its dialog, its INVITE
//! transaction and its media stream; everything else talks to it through
//! its bounded inbox: the stack's receive path (in-dialog requests, CANCEL,
//! responses) and the channel core (answer, indicate, hang up, DTMF) via
//! the [`Driver`](obelus_core::channel::Driver) handle. No lock is shared
//! between calls; the only shared table maps dialog ids to inboxes.
//!
//! * [`incoming`]: a new INVITE — identify, authenticate, check the offer
//!   and the extension, then create the channel and start the dialplan.
//! * [`tech::PjsipTechnology`]: `Dial(PJSIP/102)` — an outbound leg to the
//!   endpoint's registered contacts.
//! * [`sdp`]: offer/answer; [`dialog`]: RFC 3261 §12 dialog state;
//!   `dtmf`: `dtmf_mode` and SIP INFO bodies; `direct`: `direct_media`
//!   (the offers that send a peer's RTP to another phone in a native RTP
//!   bridge, and back). Session timers (RFC 4028)
//!   run in each session task, on `obelus_sip::session_timer`.

mod actor;
pub mod dialog;
mod direct;
mod dtmf;
mod handle;
mod incoming;
pub(crate) mod nat;
pub mod sdp;
pub mod tech;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use obelus_sip::Request;
use obelus_sip::transaction::TransactionKey;
use tokio::sync::mpsc;

pub(crate) use actor::Input;
pub(crate) use incoming::incoming;

/// Inbox size of a session.
const INBOX: usize = 64;

/// The live sessions, by dialog and by pending INVITE.
#[derive(Default)]
pub(crate) struct Sessions {
    /// `(Call-ID, our tag)` of every session.
    by_dialog: Mutex<HashMap<(String, String), mpsc::Sender<Input>>>,
    /// `(Call-ID, From tag, CSeq)` of inbound INVITEs not yet answered, for
    /// CANCEL (RFC 3261 §9.2).
    by_invite: Mutex<HashMap<(String, String, u32), mpsc::Sender<Input>>>,
}

impl Sessions {
    pub(crate) fn insert(&self, call_id: &str, local_tag: &str, tx: mpsc::Sender<Input>) {
        self.by_dialog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((call_id.to_owned(), local_tag.to_owned()), tx);
    }

    pub(crate) fn remove(&self, call_id: &str, local_tag: &str) {
        self.by_dialog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(call_id.to_owned(), local_tag.to_owned()));
    }

    /// The session a request belongs to, by its Call-ID and To tag.
    pub(crate) fn for_request(&self, req: &Request) -> Option<mpsc::Sender<Input>> {
        let h = req.headers();
        let tag = h.to_tag().ok()??.to_owned();
        self.by_dialog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(h.call_id().to_owned(), tag))
            .cloned()
    }

    fn invite_key(req: &Request) -> Option<(String, String, u32)> {
        let h = req.headers();
        Some((
            h.call_id().to_owned(),
            h.from_tag().ok()??.to_owned(),
            h.cseq().seq,
        ))
    }

    pub(crate) fn insert_pending(&self, invite: &Request, tx: mpsc::Sender<Input>) {
        if let Some(key) = Self::invite_key(invite) {
            self.by_invite
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, tx);
        }
    }

    pub(crate) fn remove_pending(&self, invite: &Request) {
        if let Some(key) = Self::invite_key(invite) {
            self.by_invite
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        }
    }

    /// The session whose INVITE a CANCEL cancels.
    pub(crate) fn for_cancel(&self, cancel: &Request) -> Option<mpsc::Sender<Input>> {
        let key = Self::invite_key(cancel)?;
        self.by_invite
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
    }
}

/// The address of ours that `peer` reaches: the listener's own address
/// when it is bound to one, else the one the routing table picks (a
/// connected UDP socket sends nothing).
pub(crate) fn local_ip_for(bound: IpAddr, peer: SocketAddr) -> IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    let any: SocketAddr = if peer.is_ipv6() {
        "[::]:0"
            .parse()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
    } else {
        SocketAddr::from(([0, 0, 0, 0], 0))
    };
    std::net::UdpSocket::bind(any)
        .and_then(|s| {
            s.connect(peer)?;
            s.local_addr()
        })
        .map_or(bound, |a| a.ip())
}

/// Hands a request that belongs to a session to it: a new INVITE, a
/// CANCEL of a pending one, anything in a dialog. Gives the request back
/// when the stack's own applications answer it (REGISTER, OPTIONS, ...).
pub(crate) async fn route(
    shared: &std::sync::Arc<crate::stack::Shared>,
    req: Request,
    key: &TransactionKey,
    origin: &crate::stack::Origin,
    reply: obelus_transport::Reply,
) -> Option<Request> {
    use obelus_sip::{Method, StatusCode};
    let to_tag = req.headers().to_tag().ok().flatten().map(str::to_owned);
    match (req.method(), to_tag) {
        (Method::Invite, None) => {
            incoming(
                std::sync::Arc::clone(shared),
                req,
                key.clone(),
                origin.clone(),
                reply,
            )
            .await;
            None
        }
        (Method::Cancel, _) => {
            let tx = shared.sessions.for_cancel(&req)?;
            if let Some(ok) =
                crate::stack::built(crate::stack::answer(&req, origin, StatusCode::OK))
            {
                shared.send_in_txn(key, &ok).await;
            }
            let _ = tx.send(Input::Cancel).await;
            None
        }
        (_, Some(_)) => {
            match shared.sessions.for_request(&req) {
                Some(tx) => {
                    let _ = tx
                        .send(Input::Request {
                            req: Box::new(req),
                            key: Some(key.clone()),
                            origin: origin.clone(),
                        })
                        .await;
                }
                None => {
                    // RFC 3261 §12.2.2: a request for a dialog we do not have.
                    let b = crate::stack::answer(
                        &req,
                        origin,
                        StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
                    );
                    if let Some(r) = crate::stack::built(b) {
                        shared.send_in_txn(key, &r).await;
                    }
                }
            }
            None
        }
        _ => Some(req),
    }
}
