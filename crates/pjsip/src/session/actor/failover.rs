//! RFC 3263 §4.3 failover of an outbound INVITE: when the target it went
//! to gives a transport error, no answer (Timer B) or a 503, the INVITE is
//! sent again, as a new transaction, to the next address the lookup gave.
//! With none left, an INVITE that could not even be written (its TCP, TLS
//! or WebSocket connection closed under it) fails the call at once.

use obelus_sip::transaction::TransactionKey;
use obelus_transport::{Reply, TransportError};

use super::{Actor, Phase, Role};

impl Actor {
    /// Our INVITE could not be written: RFC 3263 §4.3 makes that a failure
    /// of this target, so the next one is tried; with none, the call ends
    /// as one that cannot be reached (`Dial` reports CHANUNAVAIL).
    pub(super) fn invite_unsent(&mut self, key: &TransactionKey, error: &TransportError) {
        if self.fail_over(&format!("transport error ({error})")) {
            self.forget(key);
            return;
        }
        if self.phase == Phase::Early && matches!(self.role, Role::Uac { .. }) {
            tracing::warn!(
                "{}: INVITE to {} not sent: {error}",
                self.channel.name(),
                self.dialog.remote_target
            );
            self.phase = Phase::Ended;
            self.forget(key);
            self.channel
                .request_hangup(crate::route::DESTINATION_OUT_OF_ORDER);
        }
    }

    /// Moves our unanswered INVITE to the next target; false when there is
    /// none (or the call is past its INVITE), so the caller fails the call.
    pub(super) fn fail_over(&mut self, why: &str) -> bool {
        if self.phase != Phase::Early
            || self.alternates.is_empty()
            || !matches!(self.role, Role::Uac { .. })
        {
            return false;
        }
        let next = self.alternates.remove(0);
        let Reply::Udp { peer, .. } = &mut self.reply else {
            return false;
        };
        let failed = std::mem::replace(peer, next);
        tracing::warn!(
            "{}: {why} from {failed} for {}; trying the next target {next} ({} more after it)",
            self.channel.name(),
            self.dialog.remote_target,
            self.alternates.len()
        );
        // A new INVITE to a new server starts the dialog afresh.
        self.dialog.remote_tag.clear();
        self.start_invite(None).is_ok()
    }
}
