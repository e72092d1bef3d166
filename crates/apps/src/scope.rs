//! [`ChannelScope`]: variable and function lookup for `${...}` on a channel,
//! in Asterisk's order: built-in variables (`EXTEN`, `CONTEXT`, ...), then
//! the channel's variables, then globals.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use obelus_core::Core;
use obelus_core::channel::Channel;
use obelus_dialplan::{FunctionError, Scope};

use crate::globals::Globals;
use crate::registry::{FunctionContext, Registry};

/// Lookup for substitution on one channel (or on none, for globals).
pub struct ChannelScope<'a> {
    /// The daemon.
    pub core: &'a Arc<Core>,
    /// The channel, if any.
    pub channel: Option<&'a Arc<Channel>>,
    /// Applications and functions.
    pub registry: &'a Registry,
    /// Global variables.
    pub globals: &'a Globals,
}

/// The variables Asterisk computes from the channel rather than stores.
fn builtin(channel: &Channel, name: &str) -> Option<String> {
    Some(match name {
        "EXTEN" => channel.location().1,
        "CONTEXT" => channel.location().0,
        "PRIORITY" => channel.location().2.to_string(),
        "CHANNEL" => channel.name().to_owned(),
        "UNIQUEID" => channel.uniqueid().to_owned(),
        "HANGUPCAUSE" => channel.hangup_cause().code().to_string(),
        "LANGUAGE" => channel.language(),
        "ACCOUNTCODE" => channel.accountcode(),
        _ => return None,
    })
}

impl ChannelScope<'_> {
    fn system(&self, name: &str) -> Option<String> {
        Some(match name {
            "EPOCH" => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .to_string(),
            "SYSTEMNAME" => self.core.settings.options.system_name.clone(),
            "ASTETCDIR" => self.core.settings.dirs.etc.display().to_string(),
            "ASTDATADIR" => self.core.settings.dirs.data.display().to_string(),
            "ASTSPOOLDIR" => self.core.settings.dirs.spool.display().to_string(),
            "ASTLOGDIR" => self.core.settings.dirs.log.display().to_string(),
            _ => return None,
        })
    }
}

impl Scope for ChannelScope<'_> {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some(channel) = self.channel {
            if let Some(v) = builtin(channel, name) {
                return Some(Cow::Owned(v));
            }
            if let Some(v) = channel.var(name) {
                return Some(Cow::Owned(v));
            }
        }
        self.globals
            .get(name)
            .or_else(|| self.system(name))
            .map(Cow::Owned)
    }

    fn call_function(&mut self, name: &str, args: &str) -> Result<String, FunctionError> {
        let f = self
            .registry
            .function(name)
            .ok_or_else(|| FunctionError::NotFound(name.to_owned()))?;
        let cx = FunctionContext {
            core: self.core,
            channel: self.channel,
            globals: self.globals,
        };
        f.read(&cx, args)
    }

    fn warning(&mut self, message: &str) {
        match self.channel {
            Some(c) => tracing::warn!("{}: {message}", c.name()),
            None => tracing::warn!("{message}"),
        }
    }
}
