//! `runuser` / `rungroup`: start as root, then run as an unprivileged user.

use std::path::Path;

use nix::unistd::{Group, Uid, User, chown, setgid, setgroups, setuid};

/// Hands the state directories to the run user and switches to it. Does
/// nothing unless started as root with `runuser` or `rungroup` set.
pub fn drop_to(user: Option<&str>, group: Option<&str>, dirs: &[&Path]) -> Result<(), String> {
    if (user.is_none() && group.is_none()) || !Uid::effective().is_root() {
        return Ok(());
    }
    let user = match user {
        Some(name) => Some(
            User::from_name(name)
                .map_err(|e| format!("runuser '{name}': {e}"))?
                .ok_or_else(|| format!("runuser '{name}': no such user"))?,
        ),
        None => None,
    };
    let gid = match group {
        Some(name) => Some(
            Group::from_name(name)
                .map_err(|e| format!("rungroup '{name}': {e}"))?
                .ok_or_else(|| format!("rungroup '{name}': no such group"))?
                .gid,
        ),
        None => user.as_ref().map(|u| u.gid),
    };
    for dir in dirs {
        chown(*dir, user.as_ref().map(|u| u.uid), gid)
            .map_err(|e| format!("cannot hand {} to the run user: {e}", dir.display()))?;
    }
    if let Some(gid) = gid {
        setgroups(&[gid]).map_err(|e| format!("setgroups: {e}"))?;
        setgid(gid).map_err(|e| format!("setgid: {e}"))?;
    }
    if let Some(user) = user {
        setuid(user.uid).map_err(|e| format!("setuid to {}: {e}", user.name))?;
    }
    Ok(())
}
