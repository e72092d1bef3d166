//! Outbound authentication of a session's requests (the endpoint's
//! `outbound_auth`, as res_pjsip_session does): a 401 or 407 to our INVITE,
//! re-INVITE, BYE or any other request of ours is answered with digest
//! credentials and the request sent again as a new transaction (new
//! branch, next CSeq, same Call-ID and tags). A challenge the credentials
//! cannot answer, or a second one for credentials just sent, is left to
//! fail the request as any other error.

use obelus_sip::Response;
use obelus_sip::digest::client::retry;
use obelus_sip::transaction::TransactionKey;

use super::{Actor, Kind, Phase, Role};

impl Actor {
    /// Answers the challenge in `response` to our request `key`; true when
    /// the request went out again with credentials.
    pub(super) async fn answer_challenge(
        &mut self,
        kind: Kind,
        key: &TransactionKey,
        response: &Response,
    ) -> bool {
        if self.outbound_auth.is_empty() || (kind == Kind::Invite && self.phase == Phase::Ended) {
            return false;
        }
        let Some(sent) = self
            .client
            .iter()
            .find(|c| &c.key == key)
            .map(|c| c.txn.request().clone())
        else {
            return false;
        };
        let Some(sorcery) = self.shared.sorcery.get() else {
            return false;
        };
        let owner = format!("channel '{}'", self.channel.name());
        let creds = crate::outbound_auth::credentials(&sorcery, &self.outbound_auth, &owner).await;
        let method = sent.method().as_str().to_owned();
        let lines = match self.digest.authorize(&creds, &sent, response) {
            Ok(lines) => lines,
            Err(why) => {
                tracing::warn!(
                    "{}: {method} to {} not authenticated ({} {}): {why}",
                    self.channel.name(),
                    self.dialog.remote_target,
                    response.status().as_u16(),
                    response.reason()
                );
                return false;
            }
        };
        let next = match retry(&sent, &lines).build() {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(
                    "{}: {method} with credentials not built: {e}",
                    self.channel.name()
                );
                return false;
            }
        };
        tracing::debug!(
            "{}: {method} challenged ({}); sending it again with credentials",
            self.channel.name(),
            response.status().as_u16()
        );
        self.dialog.local_cseq = self.dialog.local_cseq.max(next.headers().cseq().seq);
        if kind == Kind::Invite {
            // The new INVITE starts the dialog afresh (no To tag yet).
            self.dialog.remote_tag.clear();
            if let Role::Uac { invite } = &mut self.role {
                *invite = Some(next.clone());
            }
        }
        self.start_client(next, kind);
        true
    }
}
