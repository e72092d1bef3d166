//! Channel states, with Asterisk's numbers and names (`ChannelState` /
//! `ChannelStateDesc` in AMI, `state` in ARI, the State column of
//! `core show channels`).

/// Where a channel is in its life, as Asterisk numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Idle or just created.
    Down,
    /// Reserved (not yet in use).
    Rsrvd,
    /// Off hook.
    OffHook,
    /// Digits being dialed.
    Dialing,
    /// An incoming call is ringing here (the line is ringing toward us).
    Ring,
    /// The far end is being alerted (we sent or received 180).
    Ringing,
    /// Answered.
    Up,
    /// The line is busy.
    Busy,
    /// Digits dialed while off hook.
    DialingOffhook,
    /// About to ring.
    PreRing,
}

impl ChannelState {
    /// The number AMI sends as `ChannelState`.
    pub fn code(self) -> u8 {
        match self {
            Self::Down => 0,
            Self::Rsrvd => 1,
            Self::OffHook => 2,
            Self::Dialing => 3,
            Self::Ring => 4,
            Self::Ringing => 5,
            Self::Up => 6,
            Self::Busy => 7,
            Self::DialingOffhook => 8,
            Self::PreRing => 9,
        }
    }

    /// The name AMI sends as `ChannelStateDesc` and the console shows.
    pub fn name(self) -> &'static str {
        match self {
            Self::Down => "Down",
            Self::Rsrvd => "Rsrvd",
            Self::OffHook => "OffHook",
            Self::Dialing => "Dialing",
            Self::Ring => "Ring",
            Self::Ringing => "Ringing",
            Self::Up => "Up",
            Self::Busy => "Busy",
            Self::DialingOffhook => "Dialing Offhook",
            Self::PreRing => "Pre-ring",
        }
    }
}

impl std::fmt::Display for ChannelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_match_asterisk() {
        assert_eq!(ChannelState::Ring.code(), 4);
        assert_eq!(ChannelState::Up.code(), 6);
        assert_eq!(ChannelState::Up.name(), "Up");
        assert_eq!(ChannelState::Ringing.to_string(), "Ringing");
    }
}
