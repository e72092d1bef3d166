//! `BridgeList` and `BridgeInfo`, from the bridges the bus reported
//! ([`crate::bridges`]); members are shown as they are now.

use super::Req;
use crate::message::ListEvent;
use crate::render::{bridge_block, channel_block};
use crate::session::Outbound;

fn with_pairs<K: AsRef<str>>(mut event: ListEvent, pairs: &[(K, String)]) -> ListEvent {
    for (k, v) in pairs {
        event = event.header(k.as_ref(), v);
    }
    event
}

/// `Action: BridgeList` (optional `BridgeType`: a bridge technology).
pub async fn bridge_list(req: Req) -> Outbound {
    let technology = req.msg.value("BridgeType").trim().to_owned();
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Bridge listing will follow")
        .finish();
    let mut n = 0;
    for bridge in req.ami.bridges.all() {
        if !technology.is_empty() && bridge.snapshot.technology != technology {
            continue;
        }
        n += 1;
        text.push_str(
            &with_pairs(
                ListEvent::new("BridgeListItem", req.id()),
                &bridge_block(&bridge.snapshot),
            )
            .finish(),
        );
    }
    text.push_str(
        &ListEvent::new("BridgeListComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &n.to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `Action: BridgeInfo` (`BridgeUniqueid`): its channels, then the bridge.
pub async fn bridge_info(req: Req) -> Outbound {
    let id = req.msg.value("BridgeUniqueid").trim().to_owned();
    if id.is_empty() {
        return req.error("BridgeUniqueid must be provided");
    }
    let Some(bridge) = req.ami.bridges.get(&id) else {
        return req.error("Specified BridgeUniqueid not found");
    };
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Bridge channel listing will follow")
        .finish();
    let mut n = 0;
    for uniqueid in &bridge.channels {
        let Some(channel) = req.ami.core.channels.find(uniqueid) else {
            continue;
        };
        n += 1;
        text.push_str(
            &with_pairs(
                ListEvent::new("BridgeInfoChannel", req.id()),
                &channel_block("", &channel.snapshot()),
            )
            .finish(),
        );
    }
    let complete = ListEvent::new("BridgeInfoComplete", req.id())
        .header("EventList", "Complete")
        .header("ListItems", &n.to_string());
    text.push_str(&with_pairs(complete, &bridge_block(&bridge.snapshot)).finish());
    Outbound::Text(text)
}
