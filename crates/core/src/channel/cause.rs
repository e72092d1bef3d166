//! Hangup causes: Q.850 cause codes as Asterisk names and describes them
//! (`HANGUPCAUSE`, AMI `Cause`/`Cause-txt`, `Hangup(cause)`), and the
//! mapping between causes and SIP responses used by the PJSIP channel
//! driver.

/// A Q.850 cause code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cause(pub u16);

/// Each known cause: code, the name `Hangup()` accepts, the text AMI sends.
const TABLE: &[(u16, &str, &str)] = &[
    (0, "NOTDEFINED", "Unknown"),
    (1, "UNALLOCATED", "Unallocated (unassigned) number"),
    (
        2,
        "NO_ROUTE_TRANSIT_NET",
        "No route to specified transmit network",
    ),
    (3, "NO_ROUTE_DESTINATION", "No route to destination"),
    (6, "CHANNEL_UNACCEPTABLE", "Channel unacceptable"),
    (
        7,
        "CALL_AWARDED_DELIVERED",
        "Call awarded and being delivered in an established channel",
    ),
    (16, "NORMAL_CLEARING", "Normal Clearing"),
    (17, "USER_BUSY", "User busy"),
    (18, "NO_USER_RESPONSE", "No user responding"),
    (19, "NO_ANSWER", "User alerting, no answer"),
    (20, "SUBSCRIBER_ABSENT", "Subscriber absent"),
    (21, "CALL_REJECTED", "Call Rejected"),
    (22, "NUMBER_CHANGED", "Number changed"),
    (
        23,
        "REDIRECTED_TO_NEW_DESTINATION",
        "Redirected to new destination",
    ),
    (26, "ANSWERED_ELSEWHERE", "Answered elsewhere"),
    (27, "DESTINATION_OUT_OF_ORDER", "Destination out of order"),
    (28, "INVALID_NUMBER_FORMAT", "Invalid number format"),
    (29, "FACILITY_REJECTED", "Facility rejected"),
    (
        30,
        "RESPONSE_TO_STATUS_ENQUIRY",
        "Response to STATus ENQuiry",
    ),
    (31, "NORMAL_UNSPECIFIED", "Normal, unspecified"),
    (
        34,
        "NORMAL_CIRCUIT_CONGESTION",
        "Circuit/channel congestion",
    ),
    (38, "NETWORK_OUT_OF_ORDER", "Network out of order"),
    (41, "NORMAL_TEMPORARY_FAILURE", "Temporary failure"),
    (42, "SWITCH_CONGESTION", "Switching equipment congestion"),
    (43, "ACCESS_INFO_DISCARDED", "Access information discarded"),
    (
        44,
        "REQUESTED_CHAN_UNAVAIL",
        "Requested channel not available",
    ),
    (50, "FACILITY_NOT_SUBSCRIBED", "Facility not subscribed"),
    (52, "OUTGOING_CALL_BARRED", "Outgoing call barred"),
    (54, "INCOMING_CALL_BARRED", "Incoming call barred"),
    (
        57,
        "BEARERCAPABILITY_NOTAUTH",
        "Bearer capability not authorized",
    ),
    (
        58,
        "BEARERCAPABILITY_NOTAVAIL",
        "Bearer capability not available",
    ),
    (
        65,
        "BEARERCAPABILITY_NOTIMPL",
        "Bearer capability not implemented",
    ),
    (66, "CHAN_NOT_IMPLEMENTED", "Channel not implemented"),
    (69, "FACILITY_NOT_IMPLEMENTED", "Facility not implemented"),
    (81, "INVALID_CALL_REFERENCE", "Invalid call reference value"),
    (88, "INCOMPATIBLE_DESTINATION", "Incompatible destination"),
    (95, "INVALID_MSG_UNSPECIFIED", "Invalid message unspecified"),
    (
        96,
        "MANDATORY_IE_MISSING",
        "Mandatory information element is missing",
    ),
    (97, "MESSAGE_TYPE_NONEXIST", "Message type nonexistent"),
    (98, "WRONG_MESSAGE", "Wrong message"),
    (
        99,
        "IE_NONEXIST",
        "Info. element nonexist or not implemented",
    ),
    (
        100,
        "INVALID_IE_CONTENTS",
        "Invalid information element contents",
    ),
    (
        101,
        "WRONG_CALL_STATE",
        "Message not compatible with call state",
    ),
    (102, "RECOVERY_ON_TIMER_EXPIRE", "Recover on timer expiry"),
    (
        103,
        "MANDATORY_IE_LENGTH_ERROR",
        "Mandatory IE length error",
    ),
    (111, "PROTOCOL_ERROR", "Protocol error, unspecified"),
    (127, "INTERWORKING", "Interworking, unspecified"),
];

/// Alternative names `Hangup()` accepts besides the table's.
const ALIASES: &[(&str, u16)] = &[
    ("BUSY", 17),
    ("CONGESTION", 34),
    ("FAILURE", 38),
    ("UNREGISTERED", 20),
    ("NOANSWER", 19),
];

impl Cause {
    /// Not set.
    pub const NOT_DEFINED: Cause = Cause(0);
    /// The number does not exist (SIP 404).
    pub const UNALLOCATED: Cause = Cause(1);
    /// No route (SIP 404).
    pub const NO_ROUTE_DESTINATION: Cause = Cause(3);
    /// An ordinary hangup.
    pub const NORMAL_CLEARING: Cause = Cause(16);
    /// Busy (SIP 486).
    pub const USER_BUSY: Cause = Cause(17);
    /// Nobody responded in time (SIP 408).
    pub const NO_USER_RESPONSE: Cause = Cause(18);
    /// Rang without answer (SIP 480).
    pub const NO_ANSWER: Cause = Cause(19);
    /// Not registered (SIP 480).
    pub const SUBSCRIBER_ABSENT: Cause = Cause(20);
    /// Refused (SIP 403, 603).
    pub const CALL_REJECTED: Cause = Cause(21);
    /// Another destination of the same Dial answered.
    pub const ANSWERED_ELSEWHERE: Cause = Cause(26);
    /// Unspecified normal event.
    pub const NORMAL_UNSPECIFIED: Cause = Cause(31);
    /// Congestion (SIP 503).
    pub const CONGESTION: Cause = Cause(34);
    /// Failure (SIP 500).
    pub const FAILURE: Cause = Cause(38);
    /// No media format in common (SIP 488).
    pub const BEARERCAPABILITY_NOTAVAIL: Cause = Cause(58);
    /// Technology not available.
    pub const CHAN_NOT_IMPLEMENTED: Cause = Cause(66);
    /// A timer expired (SIP 504).
    pub const RECOVERY_ON_TIMER_EXPIRE: Cause = Cause(102);
    /// Interworking, unspecified (SIP responses without a closer cause).
    pub const INTERWORKING: Cause = Cause(127);

    /// The code.
    pub fn code(self) -> u16 {
        self.0
    }

    /// The description AMI sends as `Cause-txt` (`Normal Clearing`).
    pub fn text(self) -> &'static str {
        TABLE
            .iter()
            .find(|(c, _, _)| *c == self.0)
            .map_or("Unknown", |(_, _, text)| text)
    }

    /// The name (`NORMAL_CLEARING`), as `Hangup()` accepts it.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(c, _, _)| *c == self.0)
            .map_or("NOTDEFINED", |(_, name, _)| name)
    }

    /// Reads `Hangup()`'s argument: a number or a name, any case.
    pub fn parse(s: &str) -> Option<Cause> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u16>() {
            return Some(Cause(n));
        }
        let upper = s.to_ascii_uppercase();
        TABLE
            .iter()
            .find(|(_, name, _)| *name == upper)
            .map(|(c, _, _)| Cause(*c))
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(name, _)| *name == upper)
                    .map(|(_, c)| Cause(*c))
            })
    }

    /// The cause for a SIP final response that ended a call attempt (as
    /// `res_pjsip`'s `ast_sip_hangup_sip2cause`).
    pub fn from_sip(status: u16) -> Cause {
        match status {
            401 | 402 | 403 | 407 | 603 => Self::CALL_REJECTED,
            404 | 485 | 604 => Self::UNALLOCATED,
            408 => Self::NO_USER_RESPONSE,
            410 => Cause(22),
            480 => Self::NO_ANSWER,
            484 => Cause(28),
            486 | 600 => Self::USER_BUSY,
            488 | 606 => Self::BEARERCAPABILITY_NOTAVAIL,
            500 => Self::FAILURE,
            501 => Cause(29),
            502 => Cause(27),
            503 => Self::CONGESTION,
            504 => Self::RECOVERY_ON_TIMER_EXPIRE,
            _ => Self::INTERWORKING,
        }
    }

    /// The SIP response that rejects a call for this cause (as `chan_pjsip`'s
    /// `hangup_cause2sip`); 603 when no closer one exists.
    pub fn to_sip(self) -> u16 {
        match self.0 {
            1..=3 => 404,
            17 => 486,
            18 => 408,
            19 | 20 | 31 => 480,
            21 => 403,
            22 => 410,
            27 => 502,
            28 => 484,
            29 => 501,
            34 | 42 | 66 => 503,
            38 | 127 => 500,
            58 => 488,
            102 => 504,
            _ => 603,
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts() {
        assert_eq!(Cause::NORMAL_CLEARING.text(), "Normal Clearing");
        assert_eq!(Cause::USER_BUSY.name(), "USER_BUSY");
        assert_eq!(Cause::parse("normal_clearing"), Some(Cause(16)));
        assert_eq!(Cause::parse("17"), Some(Cause::USER_BUSY));
        assert_eq!(Cause::parse("BUSY"), Some(Cause::USER_BUSY));
        assert_eq!(Cause::parse("nonsense"), None);
        assert_eq!(Cause(9999).text(), "Unknown");
    }

    #[test]
    fn sip_mapping_round_trips_the_common_cases() {
        for status in [404, 408, 480, 486, 488, 503] {
            assert_eq!(Cause::from_sip(status).to_sip(), status, "{status}");
        }
        assert_eq!(Cause::from_sip(603), Cause::CALL_REJECTED);
        assert_eq!(Cause::from_sip(499), Cause::INTERWORKING);
    }
}
