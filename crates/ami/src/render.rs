//! Rendering bus events as AMI text, once per event for every session.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use obelus_core::events::{Event, SecurityEvent};

use crate::classes;
use crate::message::one_line;

mod call;
mod parking;

pub(crate) use call::{bridge_block, channel_block, extension_status};
pub(crate) use parking::parked_call_block;

/// An event rendered for AMI: its class for the session mask, its name for
/// `disabledevents`, and the wire text shared by all sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmiEvent {
    /// The permission class.
    pub class: u32,
    /// The event name.
    pub name: &'static str,
    /// `Event: ...` through the blank line.
    pub text: Arc<str>,
}

/// `PeerStatus` for a PJSIP endpoint whose reachability changed.
pub fn peer_status(change: &crate::peers::PeerChange, options: &RenderOptions) -> AmiEvent {
    AmiEvent {
        class: classes::SYSTEM,
        name: "PeerStatus",
        text: Builder::new("PeerStatus", classes::SYSTEM, options)
            .field("ChannelType", "PJSIP")
            .field("Peer", &format!("PJSIP/{}", change.endpoint))
            .field("PeerStatus", change.status)
            .finish(),
    }
}

/// Options that change how events look.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// `timestampevents`.
    pub timestamp: bool,
    /// `asterisk.conf` `systemname`, added as `SystemName:` when set.
    pub system_name: String,
}

struct Builder {
    text: String,
}

impl Builder {
    fn new(name: &str, class: u32, options: &RenderOptions) -> Self {
        let mut text = format!(
            "Event: {name}\r\nPrivilege: {},all\r\n",
            classes::names(class)
        );
        if options.timestamp {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let _ = write!(
                text,
                "Timestamp: {}.{:06}\r\n",
                now.as_secs(),
                now.subsec_micros()
            );
        }
        if !options.system_name.is_empty() {
            let _ = write!(text, "SystemName: {}\r\n", options.system_name);
        }
        Self { text }
    }

    fn field(mut self, key: &str, value: &str) -> Self {
        let _ = write!(self.text, "{key}: {}\r\n", one_line(value));
        self
    }

    fn finish(mut self) -> Arc<str> {
        self.text.push_str("\r\n");
        self.text.into()
    }
}

/// Asterisk's security timestamps: `2026-11-22T10:25:04.315+0000`.
pub fn event_tv(time: SystemTime) -> String {
    let time: chrono::DateTime<chrono::Utc> = time.into();
    time.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn address(transport: &str, addr: std::net::SocketAddr) -> String {
    let family = if addr.is_ipv4() { "IPV4" } else { "IPV6" };
    format!("{family}/{transport}/{}/{}", addr.ip(), addr.port())
}

fn security(event: &SecurityEvent, options: &RenderOptions) -> AmiEvent {
    let name = event.kind.name();
    let tv = event_tv(event.time);
    let mut b = Builder::new(name, classes::SECURITY, options)
        .field("EventTV", &tv)
        .field("Severity", event.kind.severity())
        .field("Service", event.service)
        .field("EventVersion", "1")
        .field("AccountID", &event.account)
        .field("SessionID", &event.session_id)
        .field("LocalAddress", &address(event.transport, event.local))
        .field("RemoteAddress", &address(event.transport, event.remote));
    for (key, value) in &event.extra {
        b = b.field(key, value);
    }
    AmiEvent {
        class: classes::SECURITY,
        name,
        text: b.field("SessionTV", &tv).finish(),
    }
}

/// The FullyBooted event (also sent to each session right after login).
pub fn fully_booted(uptime: u64, last_reload: u64, options: &RenderOptions) -> AmiEvent {
    AmiEvent {
        class: classes::SYSTEM,
        name: "FullyBooted",
        text: Builder::new("FullyBooted", classes::SYSTEM, options)
            .field("Uptime", &uptime.to_string())
            .field("LastReload", &last_reload.to_string())
            .field("Status", "Fully Booted")
            .finish(),
    }
}

/// Renders one bus event; `None` for an event AMI does not show.
pub fn render(event: &Event, options: &RenderOptions) -> Option<AmiEvent> {
    Some(match event {
        Event::FullyBooted {
            uptime,
            last_reload,
        } => fully_booted(*uptime, *last_reload, options),
        Event::Reload { module, status } => AmiEvent {
            class: classes::SYSTEM,
            name: "Reload",
            text: Builder::new("Reload", classes::SYSTEM, options)
                .field("Module", module)
                .field("Status", &status.to_string())
                .finish(),
        },
        Event::Shutdown { clean } => AmiEvent {
            class: classes::SYSTEM,
            name: "Shutdown",
            text: Builder::new("Shutdown", classes::SYSTEM, options)
                .field("Shutdown", if *clean { "Cleanly" } else { "Uncleanly" })
                .field("Restart", "False")
                .finish(),
        },
        Event::Security(event) => security(event, options),
        Event::ContactStatus {
            uri,
            status,
            aor,
            endpoint,
            roundtrip_usec,
        } => AmiEvent {
            class: classes::SYSTEM,
            name: "ContactStatus",
            text: Builder::new("ContactStatus", classes::SYSTEM, options)
                .field("URI", uri)
                .field("ContactStatus", status)
                .field("AOR", aor)
                .field("EndpointName", endpoint)
                .field(
                    "RoundtripUsec",
                    &roundtrip_usec.map_or("N/A".to_owned(), |r| r.to_string()),
                )
                .finish(),
        },
        Event::Registry {
            channel_type,
            username,
            domain,
            status,
            cause,
        } => {
            let mut b = Builder::new("Registry", classes::SYSTEM, options)
                .field("ChannelType", channel_type)
                .field("Username", username)
                .field("Domain", domain)
                .field("Status", status);
            if let Some(cause) = cause {
                b = b.field("Cause", cause);
            }
            AmiEvent {
                class: classes::SYSTEM,
                name: "Registry",
                text: b.finish(),
            }
        }
        Event::Channel(event) => return call::channel(event, options),
        Event::Bridge(event) => call::bridge(event, options),
        Event::BlindTransfer(e) => call::blind_transfer(e, options),
        Event::AttendedTransfer(e) => call::attended_transfer(e, options),
        Event::Parking(e) => parking::parking(e, options),
        Event::DeviceState { device, state } => call::device_state(device, state, options),
        Event::OriginateResponse(r) => call::originate_response(r, options),
        Event::User { name, headers } => {
            let mut b = Builder::new("UserEvent", classes::USER, options).field("UserEvent", name);
            for (key, value) in headers {
                b = b.field(key, value);
            }
            AmiEvent {
                class: classes::USER,
                name: "UserEvent",
                text: b.finish(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fully_booted_matches_asterisk() {
        let e = render(
            &Event::FullyBooted {
                uptime: 248,
                last_reload: 248,
            },
            &RenderOptions::default(),
        )
        .expect("an AMI event");
        assert_eq!(
            &*e.text,
            "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 248\r\nLastReload: 248\r\nStatus: Fully Booted\r\n\r\n"
        );
    }

    #[test]
    fn extension_status_and_bridge_block_as_asterisk_prints_them() {
        let change = crate::hints::HintChange {
            exten: "300".into(),
            context: "br".into(),
            hint: "PJSIP/300&Custom:dnd".into(),
            status: 8,
            status_text: "Ringing",
        };
        let e = extension_status(&change, &RenderOptions::default());
        assert_eq!((e.class, e.name), (classes::CALL, "ExtensionStatus"));
        assert_eq!(
            &*e.text,
            "Event: ExtensionStatus\r\nPrivilege: call,all\r\nExten: 300\r\nContext: br\r\nHint: PJSIP/300&Custom:dnd\r\nStatus: 8\r\nStatusText: Ringing\r\n\r\n"
        );
        let block = bridge_block(&obelus_core::events::BridgeSnapshot {
            id: "b1".into(),
            kind: "basic".into(),
            technology: "simple_bridge".into(),
            creator: String::new(),
            name: String::new(),
            num_channels: 2,
        });
        let text: Vec<String> = block.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert_eq!(
            text,
            [
                "BridgeUniqueid: b1",
                "BridgeType: basic",
                "BridgeTechnology: simple_bridge",
                "BridgeCreator: <unknown>",
                "BridgeName: <unknown>",
                "BridgeNumChannels: 2",
                "BridgeVideoSourceMode: none",
            ]
        );
    }

    #[test]
    fn user_events_keep_header_order_and_system_name() {
        let options = RenderOptions {
            timestamp: false,
            system_name: "pbx1".into(),
        };
        let e = render(
            &Event::User {
                name: "Ping".into(),
                headers: vec![("A".into(), "1".into()), ("B".into(), "x\r\ny".into())],
            },
            &options,
        )
        .expect("an AMI event");
        assert_eq!(
            &*e.text,
            "Event: UserEvent\r\nPrivilege: user,all\r\nSystemName: pbx1\r\nUserEvent: Ping\r\nA: 1\r\nB: x  y\r\n\r\n"
        );
    }
}
