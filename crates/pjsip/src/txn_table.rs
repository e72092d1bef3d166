//! The stack's live server transactions, with their timers in a heap keyed
//! by deadline.
//!
//! Over UDP a transaction lives 32 s after its final response (Timer J or
//! H), so at 1,000 REGISTERs/s some 64,000 are alive, almost all of them
//! only waiting to absorb a retransmission. Scanning them all on every
//! timer tick cost more than the handful of timers actually due; the heap
//! hands out just those. Entries are not removed when a transaction's
//! deadline moves: a popped entry whose transaction has no timer due (or
//! is gone) is simply dropped, and every change re-queues the new
//! deadline if it is earlier than the one queued.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use bytes::Bytes;
use obelus_sip::transaction::{ServerTransaction, State, TransactionKey};
use obelus_transport::Reply;

/// A server transaction and where its responses go.
pub(crate) struct Txn {
    pub(crate) t: ServerTransaction,
    pub(crate) reply: Reply,
    /// The earliest deadline queued for it in the heap.
    queued: Option<Instant>,
}

impl Txn {
    pub(crate) fn new(t: ServerTransaction, reply: Reply) -> Txn {
        Txn {
            t,
            reply,
            queued: None,
        }
    }
}

/// A deadline in the heap; ordered by time only.
struct Due {
    at: Instant,
    key: TransactionKey,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

/// Transactions by key, and their deadlines.
#[derive(Default)]
pub(crate) struct TxnTable {
    by_key: HashMap<TransactionKey, Txn>,
    deadlines: BinaryHeap<Reverse<Due>>,
}

impl TxnTable {
    /// Adds a transaction (replacing one with the same key).
    pub(crate) fn insert(&mut self, key: TransactionKey, txn: Txn) {
        self.by_key.insert(key.clone(), txn);
        self.settle(&key);
    }

    /// Runs `f` on the transaction `key`, if it is alive, then queues its
    /// next deadline or forgets it if it ended.
    pub(crate) fn with<R>(
        &mut self,
        key: &TransactionKey,
        f: impl FnOnce(&mut Txn) -> R,
    ) -> Option<R> {
        let r = f(self.by_key.get_mut(key)?);
        self.settle(key);
        Some(r)
    }

    /// Forgets a transaction.
    pub(crate) fn remove(&mut self, key: &TransactionKey) {
        self.by_key.remove(key);
    }

    /// Live transactions.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Fires the timers due by `now`; what the transactions send as a
    /// result (retransmitted responses), with where to send it.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<(Reply, Vec<Bytes>)> {
        let mut sends = Vec::new();
        while let Some(Reverse(due)) = self.deadlines.peek() {
            if due.at > now {
                break;
            }
            let Some(Reverse(due)) = self.deadlines.pop() else {
                break;
            };
            let Some(txn) = self.by_key.get_mut(&due.key) else {
                continue;
            };
            if txn.queued == Some(due.at) {
                txn.queued = None;
            }
            if txn.t.poll_timeout().is_some_and(|at| at <= now) {
                txn.t.handle_timeout(now);
                let out = drain(&mut txn.t);
                if !out.is_empty() {
                    sends.push((txn.reply.clone(), out));
                }
            }
            self.settle(&due.key);
        }
        sends
    }

    /// After a change to `key`: removes it if it ended, otherwise queues
    /// its deadline unless an earlier or equal one is queued already.
    fn settle(&mut self, key: &TransactionKey) {
        let Some(txn) = self.by_key.get_mut(key) else {
            return;
        };
        if txn.t.state() == State::Terminated {
            self.by_key.remove(key);
            return;
        }
        let Some(at) = txn.t.poll_timeout() else {
            return;
        };
        if txn.queued.is_some_and(|q| q <= at) {
            return;
        }
        txn.queued = Some(at);
        self.deadlines.push(Reverse(Due {
            at,
            key: key.clone(),
        }));
    }
}

/// Everything a transaction has to send now (its events are not used by
/// the stack: the transaction user is the task answering the request).
pub(crate) fn drain(t: &mut ServerTransaction) -> Vec<Bytes> {
    while t.poll_event().is_some() {}
    std::iter::from_fn(|| t.poll_transmit()).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use obelus_sip::transaction::TimerConfig;
    use obelus_sip::{Request, Response, StatusCode};
    use tokio::sync::mpsc;

    use super::*;

    const INVITE: &str = "INVITE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";

    fn request(method: &str, branch: &str) -> Request {
        let text = INVITE
            .replace("INVITE", method)
            .replace("z9hG4bK776asdhds", branch);
        Request::parse(text.into_bytes()).unwrap()
    }

    /// A UDP server transaction for `req`, answered with `code` at `now`.
    fn answered(req: &Request, code: u16, now: Instant) -> Txn {
        let mut t = ServerTransaction::new(req, false, TimerConfig::default()).unwrap();
        let response = Response::for_request(req, StatusCode::new(code).unwrap())
            .to_tag("as1")
            .build()
            .unwrap();
        t.send_response(&response, now).unwrap();
        drain(&mut t);
        Txn::new(t, Reply::Tcp(mpsc::channel(8).0))
    }

    #[test]
    fn completed_transactions_live_until_timer_j_then_go() {
        let now = Instant::now();
        let mut table = TxnTable::default();
        for n in 0..100 {
            let req = request("REGISTER", &format!("z9hG4bKreg{n}"));
            let key = TransactionKey::for_request(&req).unwrap();
            table.insert(key, answered(&req, 200, now));
        }
        assert!(table.expire(now + Duration::from_secs(31)).is_empty());
        assert_eq!(table.len(), 100);
        // Timer J: 64 x T1 = 32 s over UDP.
        assert!(table.expire(now + Duration::from_secs(33)).is_empty());
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn an_unacknowledged_error_is_retransmitted_by_timer_g_then_dropped_by_h() {
        let now = Instant::now();
        let mut table = TxnTable::default();
        let req = request("INVITE", "z9hG4bKinv1");
        let key = TransactionKey::for_request(&req).unwrap();
        table.insert(key, answered(&req, 486, now));
        let mut sent = Vec::new();
        let mut at = now;
        while at < now + Duration::from_secs(40) {
            at += Duration::from_millis(50);
            for (_, out) in table.expire(at) {
                sent.push((at - now).as_millis() / 100);
                assert_eq!(out.len(), 1);
            }
        }
        // G doubles from 500 ms up to T2 (4 s); H (32 s) ends the transaction.
        assert_eq!(&sent[..4], &[5, 15, 35, 75]);
        assert!(sent.iter().all(|&ds| ds < 320), "{sent:?}");
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn an_acknowledged_invite_error_stops_retransmitting() {
        let now = Instant::now();
        let mut table = TxnTable::default();
        let req = request("INVITE", "z9hG4bKinv2");
        let key = TransactionKey::for_request(&req).unwrap();
        table.insert(key.clone(), answered(&req, 486, now));
        assert_eq!(table.expire(now + Duration::from_millis(600)).len(), 1);
        let ack = request("ACK", "z9hG4bKinv2");
        table.with(&key, |txn| {
            txn.t.handle_request(ack, now + Duration::from_millis(700))
        });
        let later: usize = (1..100)
            .map(|k| {
                table
                    .expire(now + Duration::from_millis(700 + 100 * k))
                    .len()
            })
            .sum();
        assert_eq!(later, 0, "no retransmission after the ACK");
        table.expire(now + Duration::from_secs(60));
        assert_eq!(table.len(), 0);
    }
}
