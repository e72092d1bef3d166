//! Device states (`PJSIP/101` is `INUSE`): Asterisk's devicestate core.
//!
//! A channel device's state is the aggregate of its live channels' states
//! (`ast_state_chan2dev` + `ast_devstate_aggregate`): any ringing channel
//! makes it RINGING, any other active one INUSE, both RINGINUSE, a busy one
//! BUSY, none NOT_INUSE. Counts per state are kept as channels change, so a
//! change costs a map update, never a scan of all channels. Custom devices
//! (`Custom:dnd`, `Stasis:x`) are set explicitly. Every change is a
//! `DeviceState` event on the bus (AMI `DeviceStateChange`, ARI
//! `DeviceStateChanged`, hints).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::channel::ChannelState;
use crate::events::{Event, EventBus};

/// Every device state name Asterisk uses.
pub const STATES: [&str; 9] = [
    "UNKNOWN",
    "NOT_INUSE",
    "INUSE",
    "BUSY",
    "INVALID",
    "UNAVAILABLE",
    "RINGING",
    "RINGINUSE",
    "ONHOLD",
];

/// What one channel contributes to its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Idle,
    InUse,
    Ringing,
    Busy,
}

fn part(state: ChannelState) -> Part {
    match state {
        ChannelState::Down => Part::Idle,
        ChannelState::Ringing | ChannelState::PreRing => Part::Ringing,
        ChannelState::Busy => Part::Busy,
        _ => Part::InUse,
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    idle: u32,
    in_use: u32,
    ringing: u32,
    busy: u32,
}

impl Counts {
    fn slot(&mut self, part: Part) -> &mut u32 {
        match part {
            Part::Idle => &mut self.idle,
            Part::InUse => &mut self.in_use,
            Part::Ringing => &mut self.ringing,
            Part::Busy => &mut self.busy,
        }
    }

    fn state(&self) -> &'static str {
        match (self.ringing > 0, self.in_use > 0) {
            (true, true) => "RINGINUSE",
            (true, false) => "RINGING",
            (false, true) => "INUSE",
            (false, false) if self.busy > 0 => "BUSY",
            _ => "NOT_INUSE",
        }
    }

    fn is_empty(&self) -> bool {
        self.idle + self.in_use + self.ringing + self.busy == 0
    }
}

/// The device states.
#[derive(Debug, Default)]
pub struct DeviceStates {
    channels: Mutex<Tally>,
    custom: Mutex<HashMap<String, &'static str>>,
}

/// Counts per device, and what each channel (by uniqueid) was counted as,
/// under one lock so that they always agree.
#[derive(Debug, Default)]
struct Tally {
    devices: HashMap<String, Counts>,
    counted: HashMap<String, ChannelState>,
}

/// The device a channel belongs to: its name without the `-0000000a`
/// sequence (and a Local channel's `;1`/`;2`).
pub fn device_of(channel_name: &str) -> &str {
    let name = channel_name.split(';').next().unwrap_or(channel_name);
    match name.rsplit_once('-') {
        Some((device, seq)) if seq.len() == 8 && seq.chars().all(|c| c.is_ascii_hexdigit()) => {
            device
        }
        _ => name,
    }
}

/// The canonical name for a state given by a user (`inuse`, `NOT_INUSE`).
pub fn parse_state(text: &str) -> Option<&'static str> {
    let upper = text.trim().to_ascii_uppercase();
    STATES.iter().copied().find(|s| *s == upper)
}

impl DeviceStates {
    /// A channel of `device` was created in state `state`.
    pub fn channel_added(&self, bus: &EventBus, device: &str, uniqueid: &str, state: ChannelState) {
        self.update(bus, device, uniqueid, Some(state), true);
    }

    /// Channel `uniqueid` of `device` is now in state `new` (`None`: gone);
    /// publishes the device's new state if it changed.
    pub fn channel_changed(
        &self,
        bus: &EventBus,
        device: &str,
        uniqueid: &str,
        new: Option<ChannelState>,
    ) {
        self.update(bus, device, uniqueid, new, false);
    }

    fn update(
        &self,
        bus: &EventBus,
        device: &str,
        uniqueid: &str,
        new: Option<ChannelState>,
        added: bool,
    ) {
        let (before, after) = {
            let mut tally = self.channels.lock().unwrap_or_else(|e| e.into_inner());
            let old = match new {
                // Only channels still counted change: a state set while a
                // channel is being removed must not count it again.
                Some(state) if !added => match tally.counted.get_mut(uniqueid) {
                    Some(counted) => Some(std::mem::replace(counted, state)),
                    None => return,
                },
                Some(state) => tally.counted.insert(uniqueid.to_owned(), state),
                None => tally.counted.remove(uniqueid),
            };
            if old.is_none() && new.is_none() {
                return;
            }
            let counts = tally.devices.entry(device.to_owned()).or_default();
            let before = counts.state();
            if let Some(old) = old {
                let slot = counts.slot(part(old));
                *slot = slot.saturating_sub(1);
            }
            if let Some(new) = new {
                *counts.slot(part(new)) += 1;
            }
            let after = counts.state();
            if counts.is_empty() {
                tally.devices.remove(device);
            }
            (before, after)
        };
        if before != after {
            bus.publish(Event::DeviceState {
                device: device.to_owned(),
                state: after,
            });
        }
    }

    /// Sets a custom device (`Custom:...`, `Stasis:...`); publishes a change.
    pub fn set_custom(&self, bus: &EventBus, device: &str, state: &'static str) {
        let old = self
            .custom
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(device.to_owned(), state);
        if old != Some(state) {
            bus.publish(Event::DeviceState {
                device: device.to_owned(),
                state,
            });
        }
    }

    /// Removes a custom device.
    pub fn remove_custom(&self, device: &str) -> bool {
        self.custom
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(device)
            .is_some()
    }

    /// The state of a device now: custom devices as set (`UNKNOWN` if
    /// never set), channel devices from their channels.
    pub fn state(&self, device: &str) -> &'static str {
        if let Some(state) = self
            .custom
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(device)
        {
            return state;
        }
        if device.starts_with("Custom:") || device.starts_with("Stasis:") {
            return "UNKNOWN";
        }
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .devices
            .get(device)
            .map_or("NOT_INUSE", Counts::state)
    }

    /// Every device with a known state, sorted by name.
    pub fn all(&self) -> Vec<(String, &'static str)> {
        let mut all: Vec<(String, &'static str)> = self
            .channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .devices
            .iter()
            .map(|(d, c)| (d.clone(), c.state()))
            .collect();
        all.extend(
            self.custom
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(d, s)| (d.clone(), *s)),
        );
        all.sort();
        all
    }
}

/// The state of a hint's device list (`PJSIP/101&Custom:dnd`), combined as
/// Asterisk's `ast_devstate_aggregate` does.
pub fn aggregate<'a>(states: impl IntoIterator<Item = &'a str>) -> &'static str {
    let (mut ringing, mut in_use, mut busy, mut idle, mut unavailable, mut hold, mut any) =
        (false, false, false, false, false, false, false);
    for state in states {
        any = true;
        match state {
            "RINGING" => ringing = true,
            "RINGINUSE" => {
                ringing = true;
                in_use = true;
            }
            "INUSE" => in_use = true,
            "BUSY" => busy = true,
            "ONHOLD" => hold = true,
            "NOT_INUSE" => idle = true,
            "UNAVAILABLE" | "INVALID" => unavailable = true,
            _ => {}
        }
    }
    match () {
        _ if ringing && in_use => "RINGINUSE",
        _ if ringing => "RINGING",
        _ if busy => "BUSY",
        _ if in_use => "INUSE",
        _ if hold => "ONHOLD",
        _ if idle => "NOT_INUSE",
        _ if unavailable || !any => "UNAVAILABLE",
        _ => "UNKNOWN",
    }
}

/// The AMI extension status code and text for a device state
/// (`ExtensionStatus`: 0 Idle, 1 InUse, 2 Busy, 4 Unavailable, 8 Ringing,
/// 9 InUse&Ringing, 16 Hold).
pub fn extension_status(state: &str) -> (i32, &'static str) {
    match state {
        "NOT_INUSE" => (0, "Idle"),
        "INUSE" => (1, "InUse"),
        "BUSY" => (2, "Busy"),
        "UNAVAILABLE" | "INVALID" => (4, "Unavailable"),
        "RINGING" => (8, "Ringing"),
        "RINGINUSE" => (9, "InUse&Ringing"),
        "ONHOLD" => (16, "Hold"),
        _ => (-1, "Unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_of_channel_names() {
        assert_eq!(device_of("PJSIP/101-0000000a"), "PJSIP/101");
        assert_eq!(
            device_of("Local/600@testing-00000002;1"),
            "Local/600@testing"
        );
        assert_eq!(device_of("PJSIP/trunk-a"), "PJSIP/trunk-a");
    }

    #[test]
    fn aggregates_like_asterisk_and_publishes_changes() {
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let states = DeviceStates::default();
        let d = "PJSIP/102";
        states.channel_added(&bus, d, "1.1", ChannelState::Down);
        assert_eq!(states.state(d), "NOT_INUSE");
        states.channel_changed(&bus, d, "1.1", Some(ChannelState::Ringing));
        assert_eq!(states.state(d), "RINGING");
        states.channel_added(&bus, d, "1.2", ChannelState::Up);
        assert_eq!(states.state(d), "RINGINUSE");
        states.channel_changed(&bus, d, "1.1", None);
        assert_eq!(states.state(d), "INUSE");
        states.channel_changed(&bus, d, "1.2", None);
        // A second removal, or a change after it, does not count it again.
        states.channel_changed(&bus, d, "1.2", None);
        states.channel_changed(&bus, d, "1.2", Some(ChannelState::Up));
        assert_eq!(states.state(d), "NOT_INUSE");
        let mut seen = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let Event::DeviceState { state, .. } = event.as_ref() {
                seen.push(*state);
            }
        }
        assert_eq!(seen, vec!["RINGING", "RINGINUSE", "INUSE", "NOT_INUSE"]);
        assert!(states.all().is_empty());
    }

    #[test]
    fn custom_devices() {
        let bus = EventBus::default();
        let states = DeviceStates::default();
        assert_eq!(states.state("Custom:dnd"), "UNKNOWN");
        states.set_custom(&bus, "Custom:dnd", "BUSY");
        assert_eq!(states.state("Custom:dnd"), "BUSY");
        assert_eq!(parse_state("inuse"), Some("INUSE"));
        assert_eq!(extension_status("RINGINUSE"), (9, "InUse&Ringing"));
        assert_eq!(aggregate(["NOT_INUSE", "INUSE"]), "INUSE");
        assert_eq!(aggregate(["RINGING", "INUSE"]), "RINGINUSE");
        assert_eq!(aggregate(["UNAVAILABLE", "NOT_INUSE"]), "NOT_INUSE");
    }
}
