//! `manager show settings|connected|users|user NAME`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use obelus_core::cli::{CliCommand, CliError};

use crate::classes;
use crate::server::Ami;

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// A command whose handler needs the manager; it holds a weak reference so
/// the console registry does not keep a reloaded manager alive.
fn with_ami<F, Fut>(ami: &Arc<Ami>, words: &str, summary: &str, usage: &str, f: F) -> CliCommand
where
    F: Fn(Arc<Ami>, Vec<String>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, CliError>> + Send + 'static,
{
    let weak = Arc::downgrade(ami);
    let f = Arc::new(f);
    CliCommand::new(words, summary, usage, move |args| {
        let weak = weak.clone();
        let f = Arc::clone(&f);
        async move {
            let ami = weak
                .upgrade()
                .ok_or_else(|| CliError::Failed("manager not loaded".into()))?;
            f(ami, args.args).await
        }
    })
}

/// The manager's console commands.
pub fn commands(ami: &Arc<Ami>) -> Vec<CliCommand> {
    let settings = with_ami(
        ami,
        "manager show settings",
        "Show manager global settings",
        "Usage: manager show settings\n       Provides detailed list of the configuration of the Manager.",
        |ami, _| async move {
            let conf = ami.conf();
            let row = |k: &str, v: &str| format!("  {k:<26} {v:<15}\n");
            let mut out = String::from("\nGlobal Settings:\n----------------\n");
            out.push_str(&row("Manager (AMI):", yes_no(conf.enabled)));
            out.push_str(&row("Web Manager (AMI/HTTP):", yes_no(conf.web_enabled)));
            out.push_str(&row("TCP Bindaddress:", &ami.bind_address().to_string()));
            out.push_str(&row("TLS Enable:", yes_no(conf.tls_enable)));
            out.push_str(&row(
                "TLS Bindaddress:",
                &if conf.tls_enable {
                    conf.tls_bind.to_string()
                } else {
                    "Disabled".to_owned()
                },
            ));
            out.push_str(&row("TLS Certfile:", &conf.tls_cert_file));
            out.push_str(&row(
                "Allow multiple login:",
                yes_no(conf.allow_multiple_login),
            ));
            out.push_str(&row("Display connects:", yes_no(conf.display_connects)));
            out.push_str(&row("Timestamp events:", yes_no(conf.timestamp_events)));
            out.push_str(&row("Disabled events:", &conf.disabled_events.join(",")));
            out.push_str(&row("Sessions dropped (slow):", &ami.dropped().to_string()));
            Ok(out)
        },
    );
    let connected = with_ami(
        ami,
        "manager show connected",
        "List connected manager interface users",
        "Usage: manager show connected\n       Prints a listing of the users that are currently connected to the\n       Obelus manager interface.",
        |ami, _| async move {
            let mut out = format!(
                "  {:<15.15}  {:<55.55}  {:<10.10}  {:<10.10}  {:<8.8}  {:<8.8}  {}\n",
                "Username", "IP Address", "Start", "Elapsed", "FileDes", "HttpCnt", "ReadPerms"
            );
            let sessions = ami.sessions();
            for s in &sessions {
                let state = s.state();
                out.push_str(&format!(
                    "  {:<15.15}  {:<55.55}  {:<10}  {:<10}  {:<8}  {:<8}  {}\n",
                    state.user.as_deref().unwrap_or("(login)"),
                    s.peer.ip().to_string(),
                    s.id,
                    s.since.elapsed().as_secs(),
                    "-",
                    s.actions.load(Ordering::Relaxed),
                    classes::names(state.read)
                ));
            }
            out.push_str(&format!("{} users connected.\n", sessions.len()));
            Ok(out)
        },
    );
    let users = with_ami(
        ami,
        "manager show users",
        "List configured manager users",
        "Usage: manager show users\n       Prints a listing of all managers that are currently configured on that\n system.",
        |ami, _| async move {
            let conf = ami.conf();
            if conf.users.is_empty() {
                return Ok("There are no manager users.\n".into());
            }
            let mut out = String::from("\nusername\n--------\n");
            for user in &conf.users {
                out.push_str(&format!("{}\n", user.name));
            }
            out.push_str(&format!(
                "-------------------\n{} manager users configured.\n",
                conf.users.len()
            ));
            Ok(out)
        },
    );
    let user = with_ami(
        ami,
        "manager show user",
        "Display information on a specific manager user",
        "Usage: manager show user <user>\n        Display all information related to the manager user specified.",
        |ami, args| async move {
            let [name] = args.as_slice() else {
                return Err(CliError::ShowUsage);
            };
            let conf = ami.conf();
            let Some(user) = conf.user(name) else {
                return Ok(format!("There is no manager called {name}\n"));
            };
            let row = |k: &str, v: &str| format!("{k:>13}: {v}\n");
            let mut out = String::from("\n");
            out.push_str(&row("username", &user.name));
            out.push_str(&row("secret", if user.secret.is_empty() { "(N/A)" } else { "<Set>" }));
            out.push_str(&row("ACL", if user.acl.is_empty() { "no" } else { "yes" }));
            out.push_str(&row("read perm", &classes::names(user.read)));
            out.push_str(&row("write perm", &classes::names(user.write)));
            out.push_str(&row("writetimeout", &user.write_timeout.as_millis().to_string()));
            Ok(out)
        },
    )
    .with_args();
    vec![settings, connected, users, user]
}
