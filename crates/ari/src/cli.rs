//! Console commands: `ari show status`, `ari show users`, `ari show apps`,
//! in Asterisk's layouts (scripts parse them).

use std::sync::{Arc, Weak};

use obelus_core::cli::{CliCommand, CliError};

use crate::config::AriConf;
use crate::state::Ari;

/// `ari show users`.
pub fn users(conf: &AriConf) -> String {
    let mut out = String::from("r/o?  ACL?  Username\n----  ----  --------\n");
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    for user in &conf.users {
        out.push_str(&format!(
            "{:<4}  {:<4}  {}\n",
            yes_no(user.read_only),
            yes_no(user.has_acl()),
            user.name
        ));
    }
    out
}

/// `ari show apps`.
pub fn apps(names: &[String]) -> String {
    let mut out = String::from("Application Name         \n=========================\n");
    for name in names {
        let name: String = name.chars().take(25).collect();
        out.push_str(&format!("{name:<25}\n"));
    }
    out
}

/// `ari show status`.
pub fn status(conf: &AriConf) -> String {
    format!(
        "ARI Status:\nEnabled: {}\nOutput format: {}\nAuth realm: {}\nAllowed Origins: {}\nUser count: {}\n",
        if conf.enabled { "Yes" } else { "No" },
        if conf.pretty { "pretty" } else { "compact" },
        conf.auth_realm,
        conf.allowed_origins.join(","),
        conf.users.len()
    )
}

fn command(
    ari: &Arc<Ari>,
    words: &str,
    summary: &str,
    usage: &str,
    render: fn(&Ari) -> String,
) -> CliCommand {
    let weak: Weak<Ari> = Arc::downgrade(ari);
    CliCommand::new(words, summary, usage, move |_| {
        let ari = weak.upgrade();
        async move {
            let ari = ari.ok_or_else(|| CliError::Failed("ARI is not loaded".to_owned()))?;
            Ok(render(&ari))
        }
    })
}

/// The commands, bound to the interface.
pub fn commands(ari: &Arc<Ari>) -> Vec<CliCommand> {
    vec![
        command(
            ari,
            "ari show status",
            "Show ARI settings",
            "Usage: ari show status\n       Shows all ARI settings",
            |ari| status(&ari.conf()),
        ),
        command(
            ari,
            "ari show users",
            "List ARI users",
            "Usage: ari show users\n       Shows all ARI users",
            |ari| users(&ari.conf()),
        ),
        command(
            ari,
            "ari show apps",
            "List registered ARI applications",
            "Usage: ari show apps\n       Lists all registered applications.",
            |ari| apps(&ari.app_names()),
        ),
        command(
            ari,
            "ari show outbound-websockets",
            "List outbound WebSocket connections",
            "Usage: ari show outbound-websockets\n       Lists the outbound WebSocket connections of ari.conf and\n       whether their configuration is valid.",
            |ari| ari.outbound.table(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden(name: &str) -> Option<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/golden-asterisk-23/cli")
            .join(name);
        std::fs::read_to_string(path).ok()
    }

    #[test]
    fn users_layout_matches_asterisk() {
        let text = "[ari]\ntype=user\npassword=secret\n";
        let conf =
            AriConf::from_config(&obelus_conf::parse_str("ari.conf", text).expect("parses")).0;
        let ours = users(&conf);
        assert_eq!(
            ours,
            "r/o?  ACL?  Username\n----  ----  --------\nNo    No    ari\n"
        );
        if let Some(theirs) = golden("ari_show_users.txt") {
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn apps_layout_matches_asterisk() {
        let empty = apps(&[]);
        if let Some(theirs) = golden("ari_show_apps.txt") {
            assert_eq!(empty, theirs);
        }
        assert_eq!(
            apps(&["bench".to_owned()]),
            "Application Name         \n=========================\nbench                    \n"
        );
    }
}
