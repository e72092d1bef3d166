//! What a handler answers: a [`Reply`] on success, an [`AriError`] (status
//! and `{"message": ...}`) otherwise.

use axum::http::StatusCode;

/// A failed request: the status and the text of `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct AriError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The text clients show.
    pub message: String,
}

impl AriError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: the object named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: the object is not in a state that allows it (a channel not in
    /// a Stasis application, an id already used).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422: a second object named by the request is unusable.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 500: something failed on our side.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 501: the operation exists in the API but is not implemented here.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, message)
    }

    /// 503: a queue is full; the client may retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// The channel is not in a Stasis application (409, the same text as
    /// Asterisk's).
    pub fn not_in_stasis() -> Self {
        Self::conflict("Channel not in Stasis application")
    }

    /// No such channel (404, as Asterisk words it).
    pub fn channel_not_found() -> Self {
        Self::not_found("Channel not found")
    }
}

/// A successful answer. Bodies are JSON text, already encoded (compact or
/// pretty as `ari.conf` says) so that fields keep the order Asterisk sends
/// them in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 200 with a JSON body.
    Json(String),
    /// 204: a `void` operation succeeded.
    NoContent,
    /// 202: the request was taken and goes on in the background
    /// (`sendMessage`, `refer`).
    Accepted,
    /// 201 with a `Location` header and a JSON body (playbacks, recordings).
    Created {
        /// The URI of the new object (`/ari/playbacks/<id>`).
        location: String,
        /// The object.
        body: String,
    },
    /// 200 with a file's bytes (a stored recording).
    File {
        /// `audio/wav`, `audio/sln`, ...
        content_type: String,
        /// The file.
        body: Vec<u8>,
    },
}

/// What handlers return.
pub type AriResult = Result<Reply, AriError>;

/// Encodes a model as JSON, indented with one space when `pretty` (as
/// Asterisk's `pretty = yes`). Models are plain data, so this cannot fail in
/// practice; a failure is still a 500, not a panic.
pub fn encode<T: serde::Serialize + ?Sized>(value: &T, pretty: bool) -> Result<String, AriError> {
    let result = if pretty {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        value
            .serialize(&mut serializer)
            .map(|()| String::from_utf8_lossy(&out).into_owned())
    } else {
        serde_json::to_string(value)
    };
    result.map_err(|e| AriError::internal(format!("cannot encode the response: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Sample {
        zeta: u8,
        alpha: &'static str,
    }

    #[test]
    fn encoding_keeps_field_order_and_indents_when_pretty() {
        let s = Sample {
            zeta: 1,
            alpha: "a",
        };
        assert_eq!(
            encode(&s, false).expect("encodes"),
            r#"{"zeta":1,"alpha":"a"}"#
        );
        assert_eq!(
            encode(&s, true).expect("encodes"),
            "{\n \"zeta\": 1,\n \"alpha\": \"a\"\n}"
        );
    }
}
