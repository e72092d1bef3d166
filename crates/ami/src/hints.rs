//! Hint states for AMI: the state of a dialplan hint (`exten =>
//! 102,hint,PJSIP/102&Custom:dnd`) is the aggregate of its devices' live
//! states, as `core show hints` and `ExtensionState` compute it. When a
//! device changes, every hint that lists it is recomputed and an
//! `ExtensionStatus` event goes out for each hint whose state changed
//! (Asterisk's extension state callbacks for manager sessions).
//!
//! The hints are indexed by device once per dialplan (a reload builds a new
//! index), so a device change costs a map lookup, not a dialplan walk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use obelus_core::Core;
use obelus_core::devicestate::{DeviceStates, aggregate, extension_status};
use obelus_dialplan::Dialplan;
use obelus_dialplan::module::DialplanService;

/// The device state of a hint's `&`-separated device list.
pub fn hint_state(devices: &DeviceStates, list: &str) -> &'static str {
    aggregate(
        list.split('&')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| devices.state(d)),
    )
}

/// A hint whose extension state changed: what `ExtensionStatus` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintChange {
    /// The extension.
    pub exten: String,
    /// Its context.
    pub context: String,
    /// The hint's device list.
    pub hint: String,
    /// Extension state code (0 Idle, 1 InUse, 2 Busy, 4 Unavailable,
    /// 8 Ringing, 9 InUse&Ringing, 16 Hold, -1 Unknown).
    pub status: i32,
    /// Its text (`Idle`, `InUse`, ...).
    pub status_text: &'static str,
}

struct Hint {
    exten: String,
    context: String,
    devices: String,
    /// The last state reported (or found when the index was built).
    state: &'static str,
}

#[derive(Default)]
struct Index {
    dialplan: Weak<Dialplan>,
    hints: Vec<Hint>,
    /// Lower-cased device name -> indexes into `hints`.
    by_device: HashMap<String, Vec<usize>>,
}

impl Index {
    /// Indexes the hints of `dialplan`. A hint the previous index had (same
    /// place, same devices) keeps its last reported state, so that the
    /// change that revealed a reload is still reported; others start from
    /// their state now.
    fn build(dialplan: &Arc<Dialplan>, devices: &DeviceStates, previous: &Index) -> Self {
        let mut index = Index {
            dialplan: Arc::downgrade(dialplan),
            ..Index::default()
        };
        for context in dialplan.contexts() {
            for extension in context.extensions() {
                let Some(hint) = extension.hint() else {
                    continue;
                };
                let at = index.hints.len();
                for device in hint.devices.split('&').map(str::trim) {
                    if !device.is_empty() {
                        index
                            .by_device
                            .entry(device.to_ascii_lowercase())
                            .or_default()
                            .push(at);
                    }
                }
                let exten = extension.name().as_str();
                let known = previous.hints.iter().find(|h| {
                    h.exten == exten && h.context == context.name() && h.devices == hint.devices
                });
                index.hints.push(Hint {
                    exten: exten.to_owned(),
                    context: context.name().to_owned(),
                    devices: hint.devices.clone(),
                    state: known.map_or_else(|| hint_state(devices, &hint.devices), |h| h.state),
                });
            }
        }
        index
    }
}

/// Hint states as last reported to AMI sessions.
#[derive(Default)]
pub struct HintWatch {
    index: Mutex<Index>,
}

impl HintWatch {
    /// Takes the hints' states now as the baseline (at start, before any
    /// device changes), so the first change of each is reported.
    pub fn prime(&self, core: &Core) {
        if let Some(dialplan) = core.service::<DialplanService>().map(|s| s.get()) {
            let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
            let primed = Index::build(&dialplan, core.channels.devices(), &Index::default());
            *index = primed;
        }
    }

    /// `device` changed state: the hints listing it whose state changed.
    pub fn device_changed(&self, core: &Core, device: &str) -> Vec<HintChange> {
        let Some(dialplan) = core.service::<DialplanService>().map(|s| s.get()) else {
            return Vec::new();
        };
        self.changed_in(&dialplan, core.channels.devices(), device)
    }

    fn changed_in(
        &self,
        dialplan: &Arc<Dialplan>,
        devices: &DeviceStates,
        device: &str,
    ) -> Vec<HintChange> {
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        if !index
            .dialplan
            .upgrade()
            .is_some_and(|d| Arc::ptr_eq(&d, dialplan))
        {
            let rebuilt = Index::build(dialplan, devices, &index);
            *index = rebuilt;
        }
        let Index {
            hints, by_device, ..
        } = &mut *index;
        let Some(affected) = by_device.get(&device.to_ascii_lowercase()) else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        for &at in affected {
            let hint = &mut hints[at];
            let state = hint_state(devices, &hint.devices);
            if state == hint.state {
                continue;
            }
            hint.state = state;
            let (status, status_text) = extension_status(state);
            changes.push(HintChange {
                exten: hint.exten.clone(),
                context: hint.context.clone(),
                hint: hint.devices.clone(),
                status,
                status_text,
            });
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_core::channel::ChannelState;
    use obelus_core::events::EventBus;

    #[test]
    fn reports_each_hint_whose_state_changed() {
        let (dialplan, errors) = obelus_dialplan::from_text(
            "[testing]\nexten => 102,hint,PJSIP/102\nexten => 200,hint,PJSIP/102&Custom:dnd\nexten => 300,hint,PJSIP/300\n",
            "extensions.conf",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let dialplan = Arc::new(dialplan);
        let (bus, devices, watch) = (
            EventBus::default(),
            DeviceStates::default(),
            HintWatch::default(),
        );
        assert!(
            watch
                .changed_in(&dialplan, &devices, "PJSIP/102")
                .is_empty()
        );
        devices.channel_added(&bus, "PJSIP/102", "1.1", ChannelState::Ringing);
        let changes = watch.changed_in(&dialplan, &devices, "PJSIP/102");
        assert_eq!(
            changes,
            [
                HintChange {
                    exten: "102".into(),
                    context: "testing".into(),
                    hint: "PJSIP/102".into(),
                    status: 8,
                    status_text: "Ringing",
                },
                HintChange {
                    exten: "200".into(),
                    context: "testing".into(),
                    hint: "PJSIP/102&Custom:dnd".into(),
                    status: 8,
                    status_text: "Ringing",
                },
            ]
        );
        // No change, no event; a device no hint lists, no event.
        assert!(
            watch
                .changed_in(&dialplan, &devices, "PJSIP/102")
                .is_empty()
        );
        assert!(
            watch
                .changed_in(&dialplan, &devices, "PJSIP/999")
                .is_empty()
        );
        devices.channel_changed(&bus, "PJSIP/102", "1.1", Some(ChannelState::Up));
        let changes = watch.changed_in(&dialplan, &devices, "pjsip/102");
        assert_eq!(changes.len(), 2);
        assert_eq!((changes[0].status, changes[0].status_text), (1, "InUse"));

        // A reloaded dialplan: the hint kept keeps its reported state, so
        // the change seen first after the reload is still reported.
        let (reloaded, _) = obelus_dialplan::from_text(
            "[testing]\nexten => 102,hint,PJSIP/102\n",
            "extensions.conf",
        );
        devices.channel_changed(&bus, "PJSIP/102", "1.1", None);
        let changes = watch.changed_in(&Arc::new(reloaded), &devices, "PJSIP/102");
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0].status, changes[0].status_text), (0, "Idle"));
    }
}
