//! `Action: Command`: a console command, its output as `Output:` lines (the
//! form since Asterisk 14).

use super::Req;
use crate::session::Outbound;

/// Console commands AMI refuses, as Asterisk does.
const BLACKLIST: [&str; 3] = ["module load", "module unload", "restart gracefully"];

/// `Action: Command`.
pub async fn command(req: Req) -> Outbound {
    let line = req.msg.value("Command").trim().to_owned();
    if line.is_empty() {
        return req.error("No command provided");
    }
    let normalized = line
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if BLACKLIST.iter().any(|b| normalized.starts_with(b)) {
        return req.error("Command blacklisted");
    }
    let core = std::sync::Arc::clone(&req.ami.core);
    // Own task: a client that disconnects does not cancel a reload half way.
    let output = tokio::spawn(async move { core.cli.execute(&line).await })
        .await
        .unwrap_or_else(|e| format!("command failed: {e}\n"));
    let mut response = req.success().header("Message", "Command output follows");
    for line in output.lines() {
        response = response.header("Output", line);
    }
    Outbound::Text(response.finish())
}
