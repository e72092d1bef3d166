//! `core show channels [concise|verbose]`, `core show channel <name>`,
//! `core show channeltypes`, `channel request hangup <name|all>`, in
//! Asterisk's layouts (scripts parse them).

use std::fmt::Write as _;
use std::sync::Arc;

use super::with_core;
use crate::Core;
use crate::channel::{Cause, ChannelSnapshot};
use crate::cli::{CliCommand, CliError};

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn application(s: &ChannelSnapshot) -> String {
    if s.application.is_empty() {
        "(None)".to_owned()
    } else {
        format!("{}({})", s.application, s.data)
    }
}

fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `core show channels` in its three forms.
pub fn show_channels(core: &Core, form: &str) -> String {
    let snapshots: Vec<ChannelSnapshot> =
        core.channels.all().iter().map(|c| c.snapshot()).collect();
    let mut out = String::new();
    match form {
        "concise" => {
            for s in &snapshots {
                let _ = writeln!(
                    out,
                    "{}!{}!{}!{}!{}!{}!{}!{}!{}!!3!{}!{}!{}",
                    s.name,
                    s.context,
                    s.exten,
                    s.priority,
                    s.state,
                    s.application,
                    s.data,
                    s.caller.number,
                    s.accountcode,
                    s.age_secs(),
                    s.bridge_id.as_deref().unwrap_or(""),
                    s.uniqueid
                );
            }
            return out;
        }
        "verbose" => {
            let _ = writeln!(
                out,
                "{:<80} {:<24} {:<24} {:>4} {:>7} {:<12} {:<25} {:<15} {:>8} {:<11} {:<11} {:<20}",
                "Channel",
                "Context",
                "Extension",
                "Prio",
                "State",
                "Application",
                "Data",
                "CallerID",
                "Duration",
                "Accountcode",
                "PeerAccount",
                "BridgeID"
            );
            for s in &snapshots {
                let _ = writeln!(
                    out,
                    "{:<80} {:<24} {:<24} {:>4} {:>7} {:<12} {:<25} {:<15} {:>8} {:<11} {:<11} {:<20}",
                    s.name,
                    s.context,
                    s.exten,
                    s.priority,
                    s.state.name(),
                    s.application,
                    s.data,
                    s.caller.number,
                    hms(s.age_secs()),
                    s.accountcode,
                    "",
                    s.bridge_id.as_deref().unwrap_or("")
                );
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "{:<64.64} {:<32.32} {:<7.7} {:<30.30}",
                "Channel", "Location", "State", "Application(Data)"
            );
            for s in &snapshots {
                let location = format!("{}@{}:{}", s.exten, s.context, s.priority);
                let _ = writeln!(
                    out,
                    "{:<64.64} {:<32.32} {:<7.7} {:<30.30}",
                    s.name,
                    location,
                    s.state.name(),
                    application(s)
                );
            }
        }
    }
    let n = snapshots.len();
    let calls = usize::try_from(core.channels.active_calls()).unwrap_or(usize::MAX);
    let processed = usize::try_from(core.channels.processed()).unwrap_or(usize::MAX);
    let _ = writeln!(out, "{n} active channel{}", plural(n));
    let _ = writeln!(out, "{calls} active call{}", plural(calls));
    let _ = writeln!(out, "{processed} call{} processed", plural(processed));
    out
}

fn show_channel(core: &Core, name: &str) -> Result<String, CliError> {
    let channel = core
        .channels
        .find(name)
        .ok_or_else(|| CliError::Failed(format!("{name} is not a known channel\n")))?;
    let s = channel.snapshot();
    let mut out = String::new();
    let _ = writeln!(out, " -- General --");
    for (k, v) in [
        ("Name", s.name.clone()),
        ("Type", channel.tech().to_owned()),
        ("UniqueID", s.uniqueid.clone()),
        ("LinkedID", s.linkedid.clone()),
        ("Caller ID", s.caller.number.clone()),
        ("Caller ID Name", s.caller.name.clone()),
        ("Connected Line ID", s.connected.number.clone()),
        ("Connected Line ID Name", s.connected.name.clone()),
        ("DNID Digits", s.exten.clone()),
        ("Language", s.language.clone()),
        ("State", format!("{} ({})", s.state.name(), s.state.code())),
        ("Elapsed Time", hms(s.age_secs())),
        ("Bridge ID", s.bridge_id.clone().unwrap_or_default()),
    ] {
        let _ = writeln!(out, "{k:>22}: {v}");
    }
    let _ = writeln!(out, " --   PBX   --");
    for (k, v) in [
        ("Context", s.context.clone()),
        ("Extension", s.exten.clone()),
        ("Priority", s.priority.to_string()),
        ("Call Group", String::new()),
        ("Pickup Group", String::new()),
        ("Application", s.application.clone()),
        (
            "Data",
            if s.data.is_empty() {
                "(Empty)".to_owned()
            } else {
                s.data.clone()
            },
        ),
    ] {
        let _ = writeln!(out, "{k:>22}: {v}");
    }
    if let Some(media) = channel.driver().media() {
        let stats = media.stats();
        let _ = writeln!(out, " --   RTP   --");
        for (k, v) in [
            ("Local Address", media.local_addr().to_string()),
            ("Packets Received", stats.packets_rx.to_string()),
            ("Packets Sent", stats.packets_tx.to_string()),
            (
                "Dropped (Strict RTP)",
                stats.dropped_unexpected_source.to_string(),
            ),
            ("Dropped (Malformed)", stats.dropped_malformed.to_string()),
        ] {
            let _ = writeln!(out, "{k:>22}: {v}");
        }
    }
    let _ = writeln!(out, "      Variables:");
    for (k, v) in channel.vars() {
        let _ = writeln!(out, "{k}={v}");
    }
    Ok(out)
}

pub(super) fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    vec![
        with_core(
            core,
            "core show channels",
            "Display information on channels",
            "Usage: core show channels [concise|verbose|count]\n       Lists currently defined channels and some information about them. If\n       'concise' is specified, the format is abridged and in a more easily\n       machine parsable format. If 'verbose' is specified, the output includes\n       more and longer fields.",
            |core, args| async move {
                match args.args.as_slice() {
                    [] => Ok(show_channels(&core, "")),
                    [form] if form == "concise" || form == "verbose" => Ok(show_channels(&core, form)),
                    [form] if form == "count" => {
                        let text = show_channels(&core, "");
                        Ok(text.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().map(|l| format!("{l}\n")).collect())
                    }
                    _ => Err(CliError::ShowUsage),
                }
            },
        )
        .with_args(),
        with_core(
            core,
            "core show channel",
            "Display information on a specific channel",
            "Usage: core show channel <channel>\n       Shows lots of information about the specified channel.",
            |core, args| async move {
                match args.args.as_slice() {
                    [name] => show_channel(&core, name),
                    _ => Err(CliError::ShowUsage),
                }
            },
        )
        .with_args(),
        with_core(
            core,
            "core show channeltypes",
            "List available channel types",
            "Usage: core show channeltypes\n       Lists available channel types registered in your Obelus server.",
            |core, _| async move {
                let mut out = format!("{:<15.15}  {:<40.40} \n", "Type", "Description");
                out.push_str(&format!("{:<15.15}  {:<40.40} \n", "-------------", "-----------"));
                let techs = core.channels.technologies();
                for t in &techs {
                    out.push_str(&format!("{:<15.15}  {:<40.40} \n", t.name(), t.description()));
                }
                out.push_str(&format!("{} channel drivers registered.\n", techs.len()));
                Ok(out)
            },
        ),
        with_core(
            core,
            "channel request hangup",
            "Request a hangup on a given channel",
            "Usage: channel request hangup <channel>|<all>\n       Request that a channel be hung up. The hangup takes effect\n       the next time the driver reads or writes from the channel.\n       If 'all' is specified instead of a channel name, all channels\n       will see the hangup request.",
            |core, args| async move {
                let [name] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                if name.eq_ignore_ascii_case("all") {
                    let mut out = String::new();
                    for channel in core.channels.all() {
                        out.push_str(&format!("Requested Hangup on channel '{}'\n", channel.name()));
                        channel.request_hangup(Cause::NORMAL_CLEARING);
                    }
                    return Ok(out);
                }
                match core.channels.find(name) {
                    Some(channel) => {
                        channel.request_hangup(Cause::NORMAL_CLEARING);
                        Ok(format!("Requested Hangup on channel '{}'\n", channel.name()))
                    }
                    None => Err(CliError::Failed(format!("{name} is not a known channel\n"))),
                }
            },
        )
        .with_args(),
    ]
}
