//! `MixMonitor`, `StopMixMonitor` and `MixMonitorMute` (`app_mixmonitor.c`):
//! start, stop and mute a channel's recording from a manager session. The
//! work is the application's (`obelus_apps::applications::mixmonitor`);
//! the answers and their error messages are Asterisk's.

use obelus_apps::applications::mixmonitor::{self, Direction, Request};

use super::Req;
use super::channels::{executor, one_channel};
use crate::session::Outbound;

/// `ast_false`: the words Asterisk reads as "off".
fn is_false(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "no" | "false" | "n" | "f" | "0" | "off"
    )
}

/// `Action: MixMonitor` (`Channel`, `File`, `Options`, `Command`): answers
/// `MixMonitorID` when the options store it (`i(var)`), as Asterisk does.
pub async fn mix_monitor(req: Req) -> Outbound {
    let channel = match one_channel(&req) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let executor = match executor(&req) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let request = Request {
        file: req.msg.value("File"),
        options: req.msg.value("Options"),
        command: req.msg.value("Command"),
    };
    match mixmonitor::start(&executor, &channel, &request).await {
        Ok(started) => {
            let mut response = req.success();
            if started.id_variable.is_some() {
                response = response.header("MixMonitorID", &started.id);
            }
            Outbound::Text(response.finish())
        }
        Err(e) => {
            tracing::warn!("MixMonitor on {}: {e}", channel.name());
            req.error("Could not start monitoring channel")
        }
    }
}

/// `Action: StopMixMonitor` (`Channel`, optional `MixMonitorID`): answers
/// once the recording's files are complete.
pub async fn stop_mix_monitor(req: Req) -> Outbound {
    let channel = match one_channel(&req) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let id = req.msg.get("MixMonitorID");
    if mixmonitor::stop(&channel, id).await {
        Outbound::Text(req.success().finish())
    } else {
        req.error("Could not stop monitoring channel")
    }
}

/// `Action: MixMonitorMute` (`Channel`, `Direction` read|write|both,
/// `State` 1|0), checked in Asterisk's order.
pub async fn mix_monitor_mute(req: Req) -> Outbound {
    let direction = req.msg.value("Direction").trim().to_owned();
    if direction.is_empty() {
        return req.error("No direction specified. Must be read, write or both");
    }
    if Direction::parse(&direction).is_none() {
        return req.error("Invalid direction specified. Must be read, write or both");
    }
    if req.msg.value("Channel").trim().is_empty() {
        return req.error("No channel specified");
    }
    let state = req.msg.value("State").trim().to_owned();
    if state.is_empty() {
        return req.error("No state specified");
    }
    let channel = match one_channel(&req) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if mixmonitor::mute(&channel, &direction, !is_false(&state)) {
        Outbound::Text(req.success().finish())
    } else {
        req.error("Cannot set mute flag")
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use obelus_core::Core;

    use super::*;
    use crate::config::ManagerConf;
    use crate::message::Message;
    use crate::server::Ami;
    use crate::session::{Session, State};

    /// Runs one action as a user who may write everything.
    async fn run(pairs: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let (settings, _) =
            obelus_core::settings::Settings::load(&dir.path().join("asterisk.conf"));
        let core = Arc::new(Core::new(settings, Arc::default()));
        let ami = Ami::new(core, ManagerConf::default());
        let local = SocketAddr::from(([127, 0, 0, 1], 0));
        let session = Arc::new(Session::new(
            1,
            local,
            local,
            State {
                user: Some("admin".into()),
                read: crate::classes::ALL,
                write: crate::classes::ALL,
                ..State::default()
            },
            None,
        ));
        crate::actions::dispatch(&ami, &session, Message::from_pairs(pairs))
            .await
            .into_text()
    }

    #[test]
    fn false_words() {
        for word in ["0", "no", "OFF", " false ", "n", "F"] {
            assert!(is_false(word), "{word}");
        }
        for word in ["1", "yes", "on", "2", ""] {
            assert!(!is_false(word), "{word}");
        }
    }

    #[tokio::test]
    async fn errors_as_asterisk_words_them() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (&[("Action", "MixMonitor")], "No channel specified"),
            (
                &[
                    ("Action", "MixMonitor"),
                    ("Channel", "PJSIP/x-00000001"),
                    ("File", "a.wav"),
                ],
                "No such channel",
            ),
            (&[("Action", "StopMixMonitor")], "No channel specified"),
            (
                &[
                    ("Action", "StopMixMonitor"),
                    ("Channel", "PJSIP/x-00000001"),
                ],
                "No such channel",
            ),
            (
                &[
                    ("Action", "MixMonitorMute"),
                    ("Channel", "PJSIP/x-00000001"),
                ],
                "No direction specified. Must be read, write or both",
            ),
            (
                &[("Action", "MixMonitorMute"), ("Direction", "up")],
                "Invalid direction specified. Must be read, write or both",
            ),
            (
                &[("Action", "MixMonitorMute"), ("Direction", "both")],
                "No channel specified",
            ),
            (
                &[
                    ("Action", "MixMonitorMute"),
                    ("Direction", "Read"),
                    ("Channel", "PJSIP/x-00000001"),
                ],
                "No state specified",
            ),
        ];
        for (pairs, message) in cases {
            let text = run(&[&[("ActionID", "7")], pairs].concat()).await;
            assert_eq!(
                text,
                format!("Response: Error\r\nActionID: 7\r\nMessage: {message}\r\n\r\n"),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn registered_with_asterisk_classes() {
        use crate::classes::{CALL, SYSTEM};
        for (name, classes) in [
            ("MixMonitor", SYSTEM),
            ("StopMixMonitor", SYSTEM | CALL),
            ("MixMonitorMute", SYSTEM | CALL),
        ] {
            let action = crate::actions::ACTIONS
                .iter()
                .find(|a| a.name == name)
                .unwrap_or_else(|| panic!("{name} is not registered"));
            assert_eq!(action.classes, classes, "{name}");
        }
    }
}
