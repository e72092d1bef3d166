//! SIP request methods (RFC 3261 §7.1, §27.4 and the extension RFCs).

use std::fmt;

use crate::parse::is_token_str;

/// A SIP method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an
/// extension method, not INVITE.
///
/// Extension methods hold their validated token, so a `Method` is always a
/// legal `token` and serializes back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// RFC 3261: start a session.
    Invite,
    /// RFC 3261: acknowledge a final response to INVITE.
    Ack,
    /// RFC 3261: end a session.
    Bye,
    /// RFC 3261: cancel a pending request.
    Cancel,
    /// RFC 3261: query capabilities.
    Options,
    /// RFC 3261: register a contact.
    Register,
    /// RFC 3262: provisional response acknowledgement.
    Prack,
    /// RFC 6665: subscribe to an event package.
    Subscribe,
    /// RFC 6665: event notification.
    Notify,
    /// RFC 3903: publish event state.
    Publish,
    /// RFC 6086: mid-dialog information.
    Info,
    /// RFC 3515: call transfer.
    Refer,
    /// RFC 3428: instant message.
    Message,
    /// RFC 3311: session update.
    Update,
    /// Any other method token.
    Extension(Box<str>),
}

impl Method {
    /// Parses a method token. Returns `None` for an empty string or one with
    /// characters outside `token`.
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "PUBLISH" => Method::Publish,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            other if is_token_str(other) => Method::Extension(other.into()),
            _ => return None,
        })
    }

    /// The method as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Publish => "PUBLISH",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Extension(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = crate::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::parse(s).ok_or(crate::ParseError::BadMethod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_rfc3261_7_1() {
        assert_eq!(Method::parse("INVITE"), Some(Method::Invite));
        assert_eq!(
            Method::parse("invite"),
            Some(Method::Extension("invite".into()))
        );
        assert_eq!(Method::parse(""), None);
        assert_eq!(Method::parse("IN VITE"), None);
        assert_eq!(
            Method::parse("FOO").map(|m| m.to_string()),
            Some("FOO".into())
        );
    }

    #[test]
    fn rfc4475_intmeth_method_token() {
        let m = "!interesting-Method0123456789_*+`.%indeed'~";
        assert_eq!(
            Method::parse(m).map(|m| m.as_str().to_owned()),
            Some(m.to_owned())
        );
    }
}
