//! Device and extension state actions: `DeviceStateList`,
//! `ExtensionState`, `ExtensionStateList`.

use obelus_core::devicestate::extension_status;
use obelus_dialplan::Hit;
use obelus_dialplan::module::DialplanService;

use super::Req;
use crate::message::ListEvent;
use crate::session::Outbound;

/// The state of a hint's devices, from the live device states.
fn hint_state(req: &Req, devices: &str) -> &'static str {
    crate::hints::hint_state(req.ami.core.channels.devices(), devices)
}

/// `Action: DeviceStateList`.
pub async fn device_state_list(req: Req) -> Outbound {
    let all = req.ami.core.channels.devices().all();
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Device State Changes will follow")
        .finish();
    for (device, state) in &all {
        text.push_str(
            &ListEvent::new("DeviceStateChange", req.id())
                .header("Device", device)
                .header("State", state)
                .finish(),
        );
    }
    text.push_str(
        &ListEvent::new("DeviceStateListComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &all.len().to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `Action: ExtensionState` (`Exten`, `Context`): the state of the hint.
pub async fn extension_state(req: Req) -> Outbound {
    let exten = req.msg.value("Exten").trim().to_owned();
    let context = req.msg.value("Context").trim().to_owned();
    if exten.is_empty() {
        return req.error("Extension not specified");
    }
    let context = if context.is_empty() {
        "default".to_owned()
    } else {
        context
    };
    let Some(service) = req.ami.core.service::<DialplanService>() else {
        return req.error("The dialplan is not loaded");
    };
    let dialplan = service.get();
    let hint = match dialplan.find_hint(&context, &exten, &obelus_apps::pbx::SystemClock) {
        Ok(Hit::Priority { extension, .. }) => extension.hint().map(|h| h.devices.clone()),
        _ => None,
    };
    let response = req
        .success()
        .header("Message", "Extension Status")
        .header("Exten", &exten)
        .header("Context", &context);
    let text = match hint {
        Some(devices) => {
            let (code, status) = extension_status(hint_state(&req, &devices));
            response
                .header("Hint", &devices)
                .header("Status", &code.to_string())
                .header("StatusText", status)
                .finish()
        }
        None => response
            .header("Hint", "")
            .header("Status", "-1")
            .header("StatusText", "Unknown")
            .finish(),
    };
    Outbound::Text(text)
}

/// `Action: ExtensionStateList`: every hint of the dialplan.
pub async fn extension_state_list(req: Req) -> Outbound {
    let Some(service) = req.ami.core.service::<DialplanService>() else {
        return req.error("The dialplan is not loaded");
    };
    let dialplan = service.get();
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Extension Statuses will follow")
        .finish();
    let mut n = 0;
    for context in dialplan.contexts() {
        for extension in context.extensions() {
            let Some(hint) = extension.hint() else {
                continue;
            };
            let (code, status) = extension_status(hint_state(&req, &hint.devices));
            n += 1;
            text.push_str(
                &ListEvent::new("ExtensionStatus", req.id())
                    .header("Exten", extension.name().as_str())
                    .header("Context", context.name())
                    .header("Hint", &hint.devices)
                    .header("Status", &code.to_string())
                    .header("StatusText", status)
                    .finish(),
            );
        }
    }
    text.push_str(
        &ListEvent::new("ExtensionStateListComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &n.to_string())
            .finish(),
    );
    Outbound::Text(text)
}
