//! A call whose TCP, TLS or WebSocket connection closed under it: the
//! dialog's next request (the BYE when it hangs up) cannot go down that
//! connection any more, so it is routed anew to where the dialog says the
//! peer is (RFC 3261 §12.2.1.1: its remote target, or the first hop of its
//! route set), as any request of ours is ([`crate::route::route_by`]):
//! over TCP or TLS by connecting out, on the dialog's transport. A
//! WebSocket peer cannot be connected to; its leg just ends here.

use super::Actor;
use crate::session::dialog::bare_uri;

impl Actor {
    /// Makes sure the dialog's requests have a way to the peer before
    /// `what` is sent: the connection they went down while it is open,
    /// else a new route. False when nothing reaches the peer any more (the
    /// request is then not sent; the caller ends the leg as if it had
    /// been answered).
    pub(super) async fn reroute_if_closed(&mut self, what: &str) -> bool {
        if !self.reply.is_closed() {
            return true;
        }
        let target = self
            .dialog
            .route_set
            .first()
            .map_or_else(|| self.dialog.remote_target.clone(), |r| bare_uri(r));
        let owner = format!("channel '{}'", self.channel.name());
        match crate::route::route_by(&self.shared, &target, Some(&self.transport), &owner).await {
            Ok(route) => {
                tracing::info!(
                    verbose = 3,
                    "{}: the connection to the peer closed; {what} goes to {target} over a new {} connection to {}",
                    self.channel.name(),
                    route.protocol.via_name(),
                    route.peer
                );
                self.reply = route.reply;
                self.transport = route.transport;
                self.via = route.via;
                self.reliable = route.reliable;
                true
            }
            Err(why) => {
                tracing::warn!(
                    "{}: {what} not sent: the connection to the peer closed and {target} cannot be reached again ({why}); the call ends here",
                    self.channel.name()
                );
                false
            }
        }
    }
}
