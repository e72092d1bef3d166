//! Ping, Events, ListCommands, UserEvent, Filter.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use obelus_core::events::Event;

use super::{ACTIONS, Req};
use crate::classes;
use crate::filter::EventFilter;
use crate::session::Outbound;

/// `Action: Ping`.
pub async fn ping(req: Req) -> Outbound {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Outbound::Text(
        req.success()
            .header("Ping", "Pong")
            .header(
                "Timestamp",
                &format!("{}.{:06}", now.as_secs(), now.subsec_micros()),
            )
            .finish(),
    )
}

/// `Action: Events`: the session's event mask, within its read classes.
pub async fn events(req: Req) -> Outbound {
    let Some(mask) = classes::event_mask(req.msg.value("EventMask")) else {
        return req.error("Invalid EventMask");
    };
    let read = req.session.state().read;
    let mask = mask & read;
    req.session.mask.store(mask, Ordering::Relaxed);
    Outbound::Text(
        req.success()
            .header("Events", if mask == 0 { "Off" } else { "On" })
            .finish(),
    )
}

/// `Action: ListCommands`: the actions this user may run.
pub async fn list_commands(req: Req) -> Outbound {
    let write = req.session.state().write;
    let mut response = req.success();
    for action in ACTIONS {
        if action.classes != 0 && action.classes & write == 0 {
            continue;
        }
        let privilege = if action.classes == 0 {
            "<none>".to_owned()
        } else {
            classes::names(action.classes)
        };
        response = response.header(
            action.name,
            &format!("{}  (Priv: {privilege})", action.synopsis),
        );
    }
    Outbound::Text(response.finish())
}

/// `Action: UserEvent`: every header but `Action` and `UserEvent` goes into
/// a `UserEvent` event.
pub async fn user_event(req: Req) -> Outbound {
    let name = req.msg.value("UserEvent").trim().to_owned();
    if name.is_empty() {
        return req.error("Missing UserEvent");
    }
    let headers = req
        .msg
        .headers()
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("Action") && !k.eq_ignore_ascii_case("UserEvent"))
        .cloned()
        .collect();
    req.ami.core.events.publish(Event::User { name, headers });
    Outbound::Text(req.success().header("Message", "Event Sent").finish())
}

/// `Action: Filter` (`Operation: Add`): adds a session filter, legacy
/// (`Filter: regex`, `!regex`) or advanced (`MatchCriteria:` given).
pub async fn filter(req: Req) -> Outbound {
    let operation = req.msg.get("Operation").unwrap_or("Add");
    if !operation.eq_ignore_ascii_case("add") {
        return req.error("Unknown operation");
    }
    let expression = req.msg.value("Filter");
    let criteria = req.msg.value("MatchCriteria").trim();
    let filter = if criteria.is_empty() {
        EventFilter::legacy(expression)
    } else {
        EventFilter::advanced(criteria, expression)
    };
    match filter {
        Ok(filter) => {
            req.session.state().filters.push(filter);
            Outbound::Text(req.success().header("Message", "Success").finish())
        }
        Err(e) => req.error(&e.to_string()),
    }
}
