//! Every live bridge as the event bus reported it, with its members, for
//! `BridgeList` and `BridgeInfo` (Asterisk answers them from its bridge
//! snapshot cache; this is that cache). Whoever made a bridge (Dial, ARI,
//! ConfBridge) publishes its changes on the bus, so all of them are here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use obelus_core::events::{BridgeEvent, BridgeEventKind, BridgeSnapshot};

/// One bridge: its latest snapshot and its members' uniqueids.
#[derive(Debug, Clone)]
pub struct Bridge {
    /// As of the last event.
    pub snapshot: Arc<BridgeSnapshot>,
    /// Uniqueids of the channels in it, in the order they entered.
    pub channels: Vec<String>,
    /// Creation order, so lists come out oldest first.
    seq: u64,
}

/// The live bridges.
#[derive(Debug, Default)]
pub struct BridgeView {
    inner: Mutex<(HashMap<String, Bridge>, u64)>,
}

impl BridgeView {
    /// Follows one bridge event.
    pub fn apply(&self, event: &BridgeEvent) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (bridges, next) = &mut *guard;
        let id = &event.bridge.id;
        if matches!(event.kind, BridgeEventKind::Destroy) {
            bridges.remove(id);
            return;
        }
        let bridge = bridges.entry(id.clone()).or_insert_with(|| {
            *next += 1;
            Bridge {
                snapshot: Arc::clone(&event.bridge),
                channels: Vec::new(),
                seq: *next,
            }
        });
        bridge.snapshot = Arc::clone(&event.bridge);
        match &event.kind {
            BridgeEventKind::Enter(c) if !bridge.channels.contains(&c.uniqueid) => {
                bridge.channels.push(c.uniqueid.clone());
            }
            BridgeEventKind::Leave(c) => bridge.channels.retain(|u| *u != c.uniqueid),
            _ => {}
        }
    }

    /// Every bridge, oldest first.
    pub fn all(&self) -> Vec<Bridge> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<Bridge> = guard.0.values().cloned().collect();
        all.sort_by_key(|b| b.seq);
        all
    }

    /// One bridge by id.
    pub fn get(&self, id: &str) -> Option<Bridge> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .get(id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_core::channel::{ChannelSnapshot, ChannelState, Party};

    fn event(id: &str, kind: BridgeEventKind) -> BridgeEvent {
        BridgeEvent {
            bridge: Arc::new(BridgeSnapshot {
                id: id.into(),
                kind: "basic".into(),
                technology: "simple_bridge".into(),
                creator: "Dial".into(),
                name: String::new(),
                num_channels: 0,
            }),
            kind,
        }
    }

    fn channel(uniqueid: &str) -> Arc<ChannelSnapshot> {
        Arc::new(ChannelSnapshot {
            name: format!("Local/x-{uniqueid}"),
            uniqueid: uniqueid.into(),
            linkedid: uniqueid.into(),
            state: ChannelState::Up,
            caller: Party::default(),
            connected: Party::default(),
            language: "en".into(),
            accountcode: String::new(),
            context: "default".into(),
            exten: "s".into(),
            priority: 1,
            application: String::new(),
            data: String::new(),
            bridge_id: None,
            created: std::time::SystemTime::now(),
        })
    }

    #[test]
    fn follows_members_and_forgets_destroyed_bridges() {
        let view = BridgeView::default();
        view.apply(&event("b2", BridgeEventKind::Create));
        view.apply(&event("b1", BridgeEventKind::Create));
        view.apply(&event("b2", BridgeEventKind::Enter(channel("1.1"))));
        view.apply(&event("b2", BridgeEventKind::Enter(channel("1.2"))));
        view.apply(&event("b2", BridgeEventKind::Enter(channel("1.2"))));
        let ids: Vec<String> = view.all().iter().map(|b| b.snapshot.id.clone()).collect();
        assert_eq!(ids, ["b2", "b1"], "oldest first");
        assert_eq!(view.get("b2").unwrap().channels, ["1.1", "1.2"]);
        view.apply(&event("b2", BridgeEventKind::Leave(channel("1.1"))));
        assert_eq!(view.get("b2").unwrap().channels, ["1.2"]);
        view.apply(&event("b2", BridgeEventKind::Destroy));
        assert!(view.get("b2").is_none());
        assert_eq!(view.all().len(), 1);
    }
}
