//! ShowDialPlan: every priority of the dialplan (or one context or
//! extension) as `ListDialplan` list events.

use obelus_dialplan::module::DialplanService;

use super::Req;
use crate::message::ListEvent;
use crate::session::Outbound;

/// `Action: ShowDialPlan` with optional `Context` and `Extension`.
pub async fn show_dialplan(req: Req) -> Outbound {
    let Some(service) = req.ami.core.service::<DialplanService>() else {
        return req.error("The dialplan is not loaded");
    };
    let dialplan = service.get();
    let only_context = req
        .msg
        .get("Context")
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let only_exten = req
        .msg
        .get("Extension")
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let (mut items, mut extensions, mut priorities, mut contexts) = (Vec::new(), 0, 0, 0);
    for context in dialplan.contexts() {
        if only_context.is_some_and(|c| c != context.name()) {
            continue;
        }
        let mut listed = false;
        for extension in context.extensions() {
            let name = extension.name().as_str();
            if only_exten.is_some_and(|e| e != name) {
                continue;
            }
            extensions += 1;
            listed = true;
            for priority in extension.priorities() {
                priorities += 1;
                items.push(
                    ListEvent::new("ListDialplan", req.id())
                        .header("Context", context.name())
                        .header("Extension", name)
                        .header("Priority", &priority.number.to_string())
                        .header("Application", &priority.app)
                        .header("AppData", &priority.data)
                        .header("Registrar", context.registrar())
                        .finish(),
                );
            }
        }
        if only_exten.is_none() {
            for include in context.includes() {
                listed = true;
                items.push(
                    ListEvent::new("ListDialplan", req.id())
                        .header("Context", context.name())
                        .header("IncludeContext", &include.context)
                        .header("Registrar", context.registrar())
                        .finish(),
                );
            }
        }
        if listed {
            contexts += 1;
        }
    }
    if items.is_empty() {
        return match (only_context, only_exten) {
            (Some(c), Some(e)) => req.error(&format!("Did not find extension {e}@{c}")),
            (Some(c), None) => req.error(&format!("Did not find context {c}")),
            _ => req.error("No dialplan found"),
        };
    }
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "DialPlan list will follow")
        .finish();
    let n = items.len();
    for item in items {
        text.push_str(&item);
    }
    text.push_str(
        &ListEvent::new("ShowDialPlanComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &n.to_string())
            .header("ListExtensions", &extensions.to_string())
            .header("ListPriorities", &priorities.to_string())
            .header("ListContexts", &contexts.to_string())
            .finish(),
    );
    Outbound::Text(text)
}
