//! RFC 3263 §4.3 failover of an outbound INVITE: when the target it went
//! to gives a transport error, no answer (Timer B) or a 503, the INVITE is
//! sent again, as a new transaction, to the next address the lookup gave.

use obelus_transport::Reply;

use super::{Actor, Phase, Role};

impl Actor {
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
