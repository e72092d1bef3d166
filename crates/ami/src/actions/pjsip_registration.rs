//! `PJSIPShowRegistrationsOutbound`, `PJSIPRegister`, `PJSIPUnregister`:
//! the outbound registrations of res_pjsip_outbound_registration.
//!
//! `PJSIPShowRegistrationsOutbound` answers as Asterisk does: an
//! `OutboundRegistrationDetail` per registration (every option as a
//! CamelCase header, then `Status` and `NextReg` for running ones), an
//! `AuthDetail` per outbound auth, then `OutboundRegistrationDetailComplete`
//! with `Registered` and `NotRegistered` counts.

use std::sync::Arc;
use std::time::SystemTime;

use obelus_pjsip::outbound_registration::{CommandError, OutboundRegistrations, Status};

use super::Req;
use super::pjsip::{camel, sorcery};
use crate::message::ListEvent;
use crate::session::Outbound;

fn registrations(req: &Req) -> Result<Arc<OutboundRegistrations>, Outbound> {
    req.ami
        .core
        .service::<OutboundRegistrations>()
        .ok_or_else(|| req.error("res_pjsip_outbound_registration is not loaded"))
}

/// `Action: PJSIPShowRegistrationsOutbound`.
pub async fn show_outbound(req: Req) -> Outbound {
    let (sorcery, live) = match (sorcery(&req), registrations(&req)) {
        (Ok(s), Ok(l)) => (s, l),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let mut objects = match sorcery.retrieve_all("registration").await {
        Ok(list) => list.to_vec(),
        Err(_) => return req.error("Unable to retrieve outbound registrations\n"),
    };
    objects.sort_by(|a, b| a.id().cmp(b.id()));
    let mut text = req
        .success()
        .header("EventList", "start")
        .header(
            "Message",
            "Following are Events for each Outbound registration",
        )
        .finish();
    let (mut registered, mut not_registered) = (0usize, 0usize);
    for object in &objects {
        let mut event = ListEvent::new("OutboundRegistrationDetail", req.id())
            .header("ObjectType", "registration")
            .header("ObjectName", object.id());
        for (option, value) in object.to_fields() {
            event = event.header(&camel(&option), &value);
        }
        if let Some(reg) = live.get(object.id()) {
            if reg.snapshot.status == Status::Registered {
                registered += 1;
            } else {
                not_registered += 1;
            }
            let next = reg
                .snapshot
                .next_at
                .and_then(|at| at.duration_since(SystemTime::now()).ok())
                .map_or(0, |d| d.as_secs());
            event = event
                .header("Status", reg.snapshot.status.as_str())
                .header("NextReg", &next.to_string());
        }
        text.push_str(&event.finish());
        for id in object.list("outbound_auth") {
            if let Ok(Some(auth)) = sorcery.retrieve_by_id("auth", id).await {
                let mut event = ListEvent::new("AuthDetail", req.id())
                    .header("ObjectType", "auth")
                    .header("ObjectName", auth.id());
                for (option, value) in auth.to_fields() {
                    event = event.header(&camel(&option), &value);
                }
                text.push_str(&event.finish());
            }
        }
    }
    text.push_str(
        &ListEvent::new("OutboundRegistrationDetailComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &(registered + not_registered).to_string())
            .header("Registered", &registered.to_string())
            .header("NotRegistered", &not_registered.to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `PJSIPRegister` / `PJSIPUnregister` (`Registration`: an id or `*all`).
fn send(req: &Req, register: bool) -> Outbound {
    let name = req.msg.value("Registration").trim().to_owned();
    if name.is_empty() {
        return req.error("Registration parameter missing.");
    }
    let live = match registrations(req) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let run = |id: &str| {
        if register {
            live.register(id)
        } else {
            live.unregister(id)
        }
    };
    let ack = |message: &str| Outbound::Text(req.success().header("Message", message).finish());
    if name == "*all" {
        for id in live.ids() {
            if let Err(e) = run(&id) {
                tracing::warn!("{e}");
            }
        }
        return ack(if register {
            "Reregistrations queued."
        } else {
            "Unregistrations queued."
        });
    }
    match run(&name) {
        Ok(()) => ack(if register {
            "Reregistration sent"
        } else {
            "Unregistration sent"
        }),
        Err(CommandError::Unknown(_)) => req.error("Unable to retrieve registration entry\n"),
        Err(CommandError::Busy(_)) => ack(if register {
            "Failed to queue reregistration"
        } else {
            "Failed to queue unregistration"
        }),
    }
}

/// `Action: PJSIPRegister`: unregister, then register anew.
pub async fn register(req: Req) -> Outbound {
    send(&req, true)
}

/// `Action: PJSIPUnregister`: unregister and stop re-registering.
pub async fn unregister(req: Req) -> Outbound {
    send(&req, false)
}
