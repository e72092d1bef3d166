//! The durable action queue (an Obelus addition, seed 003): AMI actions as
//! rows of the realtime family `manager_queue`, so a client that is down, or a
//! daemon that restarts, never loses an action.
//!
//! A client inserts a row (`action`, `headers` as `Key: Value` lines,
//! `username` of a manager.conf user whose permissions apply). Each daemon
//! polls for `status = 'new'` rows and claims one with a single conditional
//! update (`status` new -> claimed where it is still new): exactly one server
//! wins, even with many sharing the table. It runs the action as that user and
//! writes back `status` (`done` or `failed`), `response`, `uniqueid`,
//! `channel`, `finished_at`. A row still `claimed` by this server when it
//! starts was interrupted by a stop: it is marked `interrupted` and never run
//! again, so no row runs twice and none is lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use obelus_realtime::{Criterion, Realtime, RealtimeService};

use crate::message::Message;
use crate::server::Ami;
use crate::session::{Session, State};

/// The realtime family of the queue.
pub const FAMILY: &str = "manager_queue";

/// How often an idle queue is polled.
const POLL: Duration = Duration::from_millis(500);

fn now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        .to_string()
}

fn fields(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// This server's name in `claimed_by`: `systemname`, else the host name.
fn server_name(ami: &Ami) -> String {
    let name = &ami.core.settings.options.system_name;
    if name.is_empty() {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "obelus".into())
    } else {
        name.clone()
    }
}

/// Starts the queue worker if `extconfig.conf` maps `manager_queue`.
pub fn start(ami: &Arc<Ami>) {
    let Some(service) = ami.core.service::<RealtimeService>() else {
        return;
    };
    if !service.get().is_some_and(|r| r.is_mapped(FAMILY)) {
        return;
    }
    let ami = Arc::downgrade(ami);
    tokio::spawn(async move {
        let mut recovered = false;
        loop {
            let Some(ami) = ami.upgrade() else { return };
            let Some(realtime) = service.get().filter(|r| r.is_mapped(FAMILY)) else {
                drop(ami);
                tokio::time::sleep(POLL).await;
                continue;
            };
            let me = server_name(&ami);
            if !recovered {
                recovered = recover(&realtime, &me).await;
            }
            let ran = run_pending(&ami, &realtime, &me).await;
            drop(ami);
            if ran == 0 {
                tokio::time::sleep(POLL).await;
            }
        }
    });
}

/// Marks rows this server had claimed before it stopped as interrupted.
async fn recover(realtime: &Realtime, me: &str) -> bool {
    let criteria = match (
        Criterion::eq("status", "claimed"),
        Criterion::eq("claimed_by", me),
    ) {
        (Ok(a), Ok(b)) => vec![a, b],
        _ => return true,
    };
    let update = fields(&[
        ("status", "interrupted".into()),
        ("finished_at", now()),
        (
            "response",
            "Response: Error\r\nMessage: Obelus stopped while this action ran; it was not run again\r\n".into(),
        ),
    ]);
    match realtime.update(FAMILY, &criteria, &update).await {
        Ok(n) => {
            if n > 0 {
                tracing::warn!(
                    "AMI action queue: {n} action(s) interrupted by the last stop marked 'interrupted' (not run again)"
                );
            }
            true
        }
        Err(e) => {
            tracing::warn!("AMI action queue unavailable: {e}");
            false
        }
    }
}

/// Claims and runs every new row; returns how many ran.
async fn run_pending(ami: &Arc<Ami>, realtime: &Realtime, me: &str) -> usize {
    let (Ok(positive), Ok(new)) = (
        Criterion::parse("id >", "0"),
        Criterion::eq("status", "new"),
    ) else {
        return 0;
    };
    let rows = match realtime.load_multi(FAMILY, &[positive, new]).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::debug!("AMI action queue poll failed: {e}");
            return 0;
        }
    };
    let mut ran = 0;
    for row in rows {
        let Some(id) = row.get("id").map(str::to_owned) else {
            continue;
        };
        let (Ok(by_id), Ok(still_new)) = (Criterion::eq("id", &id), Criterion::eq("status", "new"))
        else {
            continue;
        };
        let claim = fields(&[
            ("status", "claimed".into()),
            ("claimed_by", me.to_owned()),
            ("claimed_at", now()),
        ]);
        match realtime
            .update(FAMILY, &[by_id.clone(), still_new], &claim)
            .await
        {
            Ok(1) => {}
            // Another server took it, or the database went away: not ours.
            _ => continue,
        }
        let (status, response) = run_row(ami, &row).await;
        let header = |name: &str| {
            response
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
                .unwrap_or_default()
        };
        let result = fields(&[
            ("status", status.to_owned()),
            ("finished_at", now()),
            ("uniqueid", header("Uniqueid")),
            ("channel", header("Channel")),
            ("response", response.clone()),
        ]);
        if let Err(e) = realtime.update(FAMILY, &[by_id], &result).await {
            tracing::error!(
                "AMI action queue: row {id} ran but its result could not be written: {e}"
            );
        }
        ran += 1;
    }
    ran
}

/// Runs one row's action as its user; returns (`done`|`failed`, response text).
async fn run_row(ami: &Arc<Ami>, row: &obelus_realtime::Row) -> (&'static str, String) {
    let conf = ami.conf();
    let username = row.get("username").unwrap_or("");
    let Some(user) = conf.user(username) else {
        return (
            "failed",
            format!("Response: Error\r\nMessage: no manager user '{username}' in manager.conf\r\n"),
        );
    };
    let mut pairs = vec![(
        "Action".to_owned(),
        row.get("action").unwrap_or("").to_owned(),
    )];
    for line in row.get("headers").unwrap_or("").lines() {
        if let Some((k, v)) = line.split_once(':') {
            pairs.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let unspecified = SocketAddr::from(([127, 0, 0, 1], 0));
    let session = Arc::new(Session::new(
        0,
        unspecified,
        unspecified,
        State {
            user: Some(user.name.clone()),
            read: user.read,
            write: user.write,
            ..State::default()
        },
        None,
    ));
    let text = crate::actions::dispatch(ami, &session, Message::from_pairs(&refs))
        .await
        .into_text();
    let status = if text.starts_with("Response: Error") {
        "failed"
    } else {
        "done"
    };
    (status, text)
}
