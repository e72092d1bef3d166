//! Requests the stack sends outside a call: RFC 3261 §17.1.2 non-INVITE
//! client transactions (qualify's OPTIONS, outbound registration's
//! REGISTER) over the route [`crate::route::route_request`] chose, with their responses routed back from the stack's
//! receive path ([`Pending`]), and the digest retry of a challenged
//! request (RFC 3261 §22.2).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use obelus_sip::digest::client::{ClientCredential, ClientError, DigestClient, retry};
use obelus_sip::transaction::{
    ClientTransaction, Event as TransactionEvent, TimerConfig, TransactionKey,
};
use obelus_sip::{Request, RequestBuilder, Response};
use obelus_transport::Reply;
use tokio::sync::mpsc;

/// Client transactions waiting for responses, by transaction key: the
/// stack hands every response it receives to [`Pending::deliver`].
#[derive(Default)]
pub(crate) struct Pending {
    by_key: Mutex<HashMap<TransactionKey, mpsc::UnboundedSender<Response>>>,
}

impl Pending {
    /// Routes responses of transaction `key` to `tx`.
    pub(crate) fn register(&self, key: TransactionKey, tx: mpsc::UnboundedSender<Response>) {
        self.by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, tx);
    }

    /// Stops routing responses of `key`.
    pub(crate) fn unregister(&self, key: &TransactionKey) {
        self.by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Delivers a response to the transaction it answers; false if none
    /// waits (RFC 3261 §18.1.2: it is then dropped).
    pub(crate) fn deliver(&self, response: Response) -> bool {
        let Some(key) = TransactionKey::for_response(&response) else {
            return false;
        };
        let by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        by_key.get(&key).is_some_and(|tx| tx.send(response).is_ok())
    }
}

/// Why a request got no final response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failure {
    /// Timer F fired, or the caller's deadline passed.
    #[error("no response")]
    Timeout,
    /// The request could not be turned into a transaction (no branch).
    #[error("request not sendable: {0}")]
    Invalid(String),
}

/// Removes the route of a transaction when it ends, however it ends.
struct Routed<'a> {
    pending: &'a Pending,
    key: TransactionKey,
}

impl Drop for Routed<'_> {
    fn drop(&mut self) {
        self.pending.unregister(&self.key);
    }
}

/// Sends `request` down `reply` as a non-INVITE client transaction
/// (retransmitted by Timer E unless `reliable`) and waits for its final
/// response, until Timer F or `deadline`, whichever is first.
pub(crate) async fn non_invite(
    reply: &Reply,
    reliable: bool,
    pending: &Pending,
    request: Request,
    deadline: Option<Instant>,
) -> Result<Response, Failure> {
    let started = Instant::now();
    let mut txn = ClientTransaction::new(request, reliable, TimerConfig::default(), started)
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    let key = TransactionKey::for_client_request(txn.request())
        .ok_or_else(|| Failure::Invalid("no branch in the top Via".into()))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    pending.register(key.clone(), tx);
    let _routed = Routed { pending, key };
    loop {
        while let Some(bytes) = txn.poll_transmit() {
            if let Err(e) = reply.send(bytes).await {
                tracing::debug!("SIP: request not sent: {e}");
            }
        }
        while let Some(event) = txn.poll_event() {
            match event {
                TransactionEvent::Response(r) if r.status().is_final() => return Ok(r),
                TransactionEvent::Timeout => return Err(Failure::Timeout),
                _ => {}
            }
        }
        let timer = txn.poll_timeout();
        let wake = match (timer, deadline) {
            (Some(t), Some(d)) => t.min(d),
            (Some(t), None) => t,
            (None, Some(d)) => d,
            (None, None) => return Err(Failure::Timeout),
        };
        tokio::select! {
            response = rx.recv() => {
                if let Some(response) = response {
                    let _ = txn.handle_response(response, Instant::now());
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if deadline.is_some_and(|d| now >= d) {
                    return Err(Failure::Timeout);
                }
                txn.handle_timeout(now);
            }
        }
    }
}

/// The end of a request that may be challenged.
#[derive(Debug)]
pub(crate) struct Answered {
    /// The last request sent (its CSeq is the one to continue from).
    pub(crate) sent: Request,
    /// Its final response, or why there is none.
    pub(crate) response: Result<Response, Failure>,
    /// Why a 401/407 was not retried with credentials (none configured,
    /// refused, ...), for the log line.
    pub(crate) auth_failure: Option<ClientError>,
}

/// Sends `request` like [`non_invite`]; a 401 or 407 is answered with
/// `creds` and the request sent again as a new transaction (new branch,
/// next CSeq, passed through `amend` with the challenge, for what else the
/// sender puts in a retry), until the challenge cannot be answered (the
/// credentials were refused, or none fit): that final response is
/// returned.
pub(crate) async fn non_invite_with_auth(
    reply: &Reply,
    reliable: bool,
    pending: &Pending,
    request: Request,
    creds: &[ClientCredential],
    mut amend: impl FnMut(&Response, RequestBuilder) -> RequestBuilder,
) -> Answered {
    let mut digest = DigestClient::new();
    let mut sent = request;
    loop {
        let response = non_invite(reply, reliable, pending, sent.clone(), None).await;
        let challenged = matches!(&response, Ok(r) if matches!(r.status().as_u16(), 401 | 407));
        let Ok(r) = &response else {
            return Answered {
                sent,
                response,
                auth_failure: None,
            };
        };
        if !challenged {
            return Answered {
                sent,
                response,
                auth_failure: None,
            };
        }
        let next = digest.authorize(creds, &sent, r).and_then(|lines| {
            amend(r, retry(&sent, &lines))
                .build()
                .map_err(|_| ClientError::NoChallenge)
        });
        match next {
            Ok(next) => sent = next,
            Err(why) => {
                return Answered {
                    sent,
                    response,
                    auth_failure: Some(why),
                };
            }
        }
    }
}
