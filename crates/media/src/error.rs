//! Errors of the media plane, one enum per concern so callers can tell a bad
//! packet (drop it, count it) from a bad file (tell the dialplan) from an
//! exhausted port range (answer the call with 488/503).

use std::io;

/// Why an RTP or RFC 4733 payload could not be read or written. Network input
/// only ever produces one of these, never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Fewer bytes than the fixed header (or a declared CSRC/extension) needs.
    #[error("packet too short")]
    TooShort,
    /// The version field is not 2 (RFC 3550 §5.1).
    #[error("unsupported RTP version {0}")]
    BadVersion(u8),
    /// The padding count is zero or larger than the payload (RFC 3550 §5.1).
    #[error("bad padding length")]
    BadPadding,
    /// The output buffer cannot hold the packet being built.
    #[error("output buffer too small")]
    BufferTooSmall,
    /// A telephone-event code outside 0-15 where a DTMF digit was expected.
    #[error("unknown telephone-event {0}")]
    UnknownEvent(u8),
}

/// Errors of the media engine, sound files and tone specifications.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// A socket, file or thread operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// Every even port of the configured RTP range is taken.
    #[error("no free RTP port pair in {start}-{end}")]
    NoPorts {
        /// First port of the range (rtp.conf `rtpstart`).
        start: u16,
        /// Last port of the range (rtp.conf `rtpend`).
        end: u16,
    },
    /// The engine has been stopped; no new streams or links.
    #[error("media engine stopped")]
    Stopped,
    /// The two streams given to an operation are the same, or belong to
    /// another engine.
    #[error("invalid stream pairing: {0}")]
    BadPairing(&'static str),
    /// An indications tone string could not be parsed (`440+480/2000,0/4000`).
    #[error("bad tone specification {spec:?}: {reason}")]
    BadTone {
        /// The text as given.
        spec: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A sound file has a format or extension this crate does not read.
    #[error("unsupported sound file {path}: {reason}")]
    UnsupportedSound {
        /// The file's path.
        path: String,
        /// What was not understood.
        reason: String,
    },
}
