//! Transport errors.

/// Why a listener could not start or a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The `bind` option is not `ip[:port]`.
    #[error("bad bind address '{0}' (expected ip[:port])")]
    BadBind(String),
    /// A socket operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The connection the message should go down has closed.
    #[error("connection closed")]
    Closed,
    /// No connection to the peer could be opened (refused, timed out, TLS
    /// handshake failed), or none can be (a WebSocket peer is reached only
    /// over the connection it opened).
    #[error("cannot connect to {peer}: {reason}")]
    Connect {
        /// Where to.
        peer: std::net::SocketAddr,
        /// Why not.
        reason: String,
    },
}
