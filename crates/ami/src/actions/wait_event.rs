//! `WaitEvent`: wait until there is an event for the session, then answer
//! `Waiting for Event completed.`, the events, and `WaitEventComplete`.
//!
//! On a connection the writer does the waiting (it owns the events); the
//! wait also ends when the client sends its next action, as in Asterisk.
//! Over HTTP the session keeps its place in the event ring since login and
//! the request long-polls, at most `httptimeout` less 10 seconds.

use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::Req;
use crate::message::ListEvent;
use crate::session::{Outbound, wants};

/// `Timeout` in seconds; absent, unparsable or below -1 means forever (-1).
fn timeout_secs(value: Option<&str>) -> i64 {
    value
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|t| *t >= -1)
        .unwrap_or(-1)
}

/// `Action: WaitEvent`.
pub async fn wait_event(req: Req) -> Outbound {
    let timeout = timeout_secs(req.msg.get("Timeout"));
    let response = req
        .success()
        .header("Message", "Waiting for Event completed.")
        .finish();
    let complete = ListEvent::new("WaitEventComplete", req.id()).finish();
    let Some(events) = &req.session.http_events else {
        return Outbound::WaitEvent {
            response,
            complete,
            timeout: u64::try_from(timeout).ok().map(Duration::from_secs),
        };
    };
    // As Asterisk: an HTTP session that asked for no events gets them all
    // (within its read classes) while it waits, and the wait ends before
    // the client gives up on the request.
    {
        let read = req.session.state().read;
        let mask = &req.session.mask;
        if mask.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            mask.store(read, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let max = crate::http::HTTP_TIMEOUT.saturating_sub(Duration::from_secs(10));
    let limit = match u64::try_from(timeout) {
        Ok(secs) if Duration::from_secs(secs) < max => Duration::from_secs(secs),
        _ => max,
    };
    let deadline = tokio::time::Instant::now() + limit;
    let mut text = response;
    let mut events = events.lock().await;
    let mut seen = false;
    loop {
        loop {
            match events.try_recv() {
                Ok(event) if wants(&req.ami, &req.session, &event) => {
                    text.push_str(&event.text);
                    seen = true;
                }
                Ok(_) => {}
                Err(TryRecvError::Lagged(missed)) => {
                    tracing::warn!(
                        "Manager HTTP session {} missed {missed} events between WaitEvent requests",
                        req.session.id
                    );
                }
                Err(_) => break,
            }
        }
        if seen {
            break;
        }
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) => {
                if wants(&req.ami, &req.session, &event) {
                    text.push_str(&event.text);
                    seen = true;
                }
            }
            Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) | Err(_) => break,
        }
    }
    text.push_str(&complete);
    Outbound::Text(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timeouts_as_asterisk_reads_them() {
        assert_eq!(super::timeout_secs(None), -1);
        assert_eq!(super::timeout_secs(Some("5")), 5);
        assert_eq!(super::timeout_secs(Some("-7")), -1);
        assert_eq!(super::timeout_secs(Some("soon")), -1);
    }
}
