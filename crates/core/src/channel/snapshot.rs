//! [`ChannelSnapshot`]: a channel's public state at one moment, carried by
//! every channel event so that AMI, ARI and the console render the same view
//! without reaching into the live channel.

use std::time::SystemTime;

use super::ChannelState;

/// Caller or connected-line identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// The number (`CALLERID(num)`); empty when unknown.
    pub number: String,
    /// The name (`CALLERID(name)`); empty when unknown.
    pub name: String,
}

/// A channel as it was when an event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSnapshot {
    /// `PJSIP/101-00000001`.
    pub name: String,
    /// `1795343112.25`.
    pub uniqueid: String,
    /// The uniqueid of the first channel of the call.
    pub linkedid: String,
    /// The state.
    pub state: ChannelState,
    /// Who is calling (on an inbound channel) or who we present (outbound).
    pub caller: Party,
    /// Who the channel is connected to.
    pub connected: Party,
    /// `CHANNEL(language)`.
    pub language: String,
    /// `CHANNEL(accountcode)`.
    pub accountcode: String,
    /// Dialplan location: context.
    pub context: String,
    /// Dialplan location: extension.
    pub exten: String,
    /// Dialplan location: priority.
    pub priority: i32,
    /// The application running (`Dial`), empty when none.
    pub application: String,
    /// Its arguments.
    pub data: String,
    /// The bridge the channel is in, if any.
    pub bridge_id: Option<String>,
    /// When the channel was created.
    pub created: SystemTime,
}

impl ChannelSnapshot {
    /// Seconds since the channel was created.
    pub fn age_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(self.created)
            .map_or(0, |d| d.as_secs())
    }
}
