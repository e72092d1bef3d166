//! AMI framing: `Key: Value` lines ending with CRLF (LF accepted on input),
//! a blank line ending each message; input limits as Asterisk's (1024-byte
//! lines, 128 lines per message) so a client cannot make us buffer without end.

use std::fmt::Write as _;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Longest accepted input line.
pub const MAX_LINE: usize = 1024;
/// Most header lines in one message.
pub const MAX_LINES: usize = 128;

/// A request from a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    headers: Vec<(String, String)>,
}

impl Message {
    /// A message from pairs (tests and HTTP).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self {
            headers: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The first value of a header (case-insensitive key), as Asterisk's `astman_get_header`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The first value, or empty.
    pub fn value(&self, key: &str) -> &str {
        self.get(key).unwrap_or("")
    }

    /// Every value of a repeatable header (`Variable:`).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every header in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
}

/// What reading one message produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// A complete message.
    Message(Message),
    /// A message that broke a limit; the text is the `Message:` of the error.
    Invalid(&'static str),
    /// The client closed the connection.
    Closed,
}

/// Reads one message. A line longer than [`MAX_LINE`] is skipped without
/// being buffered, and the message it belongs to is answered with an error.
pub async fn read_message<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Read> {
    let mut headers = Vec::new();
    let mut invalid: Option<&'static str> = None;
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        let n = (&mut *reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(Read::Closed);
        }
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_LINE {
                invalid = Some("Failed to parse message: line too long");
                skip_line(reader).await?;
                continue;
            }
            // EOF in the middle of a line.
            return Ok(Read::Closed);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if headers.is_empty() && invalid.is_none() {
                // Blank lines between messages are ignored.
                continue;
            }
            return Ok(match invalid {
                Some(why) => Read::Invalid(why),
                None => Read::Message(Message { headers }),
            });
        }
        if headers.len() >= MAX_LINES {
            invalid = Some("Too many lines in message or allocation failure");
            continue;
        }
        if let Some((key, value)) = text.split_once(':') {
            headers.push((key.trim().to_owned(), value.trim_start().to_owned()));
        }
    }
}

/// Discards the rest of an oversized line, without keeping it.
async fn skip_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            reader.consume(pos + 1);
            return Ok(());
        }
        let len = buf.len();
        reader.consume(len);
    }
}

/// `Key: Value` lines ending with a blank line: the shape of every response
/// and list event.
struct Lines {
    text: String,
}

impl Lines {
    fn start(first: &str, value: &str, action_id: Option<&str>) -> Self {
        let mut text = format!("{first}: {value}\r\n");
        if let Some(id) = action_id {
            let _ = write!(text, "ActionID: {id}\r\n");
        }
        Self { text }
    }

    fn push(&mut self, key: &str, value: &str) {
        let _ = write!(self.text, "{key}: {}\r\n", one_line(value));
    }

    fn finish(mut self) -> String {
        self.text.push_str("\r\n");
        self.text
    }
}

/// Builds a response in Asterisk's order: `Response:`, `ActionID:`, the rest.
pub struct Response(Lines);

impl Response {
    /// `Response: Success`.
    pub fn success(action_id: Option<&str>) -> Self {
        Self::new("Success", action_id)
    }

    /// `Response: Error` with a `Message:`.
    pub fn error(action_id: Option<&str>, message: &str) -> Self {
        Self::new("Error", action_id).header("Message", message)
    }

    /// Any response word (`Goodbye`).
    pub fn new(kind: &str, action_id: Option<&str>) -> Self {
        Self(Lines::start("Response", kind, action_id))
    }

    /// Adds a header.
    pub fn header(mut self, key: &str, value: &str) -> Self {
        self.0.push(key, value);
        self
    }

    /// The finished response, blank line included.
    pub fn finish(self) -> String {
        self.0.finish()
    }
}

/// An event written directly to one session (list items, `*Complete`),
/// carrying the request's ActionID and no `Privilege:`.
pub struct ListEvent(Lines);

impl ListEvent {
    /// `Event: name` with the ActionID.
    pub fn new(name: &str, action_id: Option<&str>) -> Self {
        Self(Lines::start("Event", name, action_id))
    }

    /// Adds a header.
    pub fn header(mut self, key: &str, value: &str) -> Self {
        self.0.push(key, value);
        self
    }

    /// The finished event.
    pub fn finish(self) -> String {
        self.0.finish()
    }
}

/// Values never break the framing: line breaks become spaces.
pub fn one_line(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\r', '\n']) {
        value.replace(['\r', '\n'], " ").into()
    } else {
        value.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(input: &[u8]) -> Read {
        let mut reader = tokio::io::BufReader::new(input);
        read_message(&mut reader).await.unwrap()
    }

    #[tokio::test]
    async fn parses_crlf_and_lf_first_value_wins() {
        let Read::Message(m) =
            read(b"Action: Login\r\nUsername: admin\nusername: other\r\n\r\n").await
        else {
            panic!()
        };
        assert_eq!(m.get("ACTION"), Some("Login"));
        assert_eq!(m.get("username"), Some("admin"));
    }

    #[tokio::test]
    async fn enforces_limits() {
        let mut long = b"Action: Ping\r\nX: ".to_vec();
        long.extend(vec![b'a'; 5000]);
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            read(&long).await,
            Read::Invalid("Failed to parse message: line too long")
        );
        let mut many = String::new();
        for i in 0..200 {
            many.push_str(&format!("H{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(
            read(many.as_bytes()).await,
            Read::Invalid("Too many lines in message or allocation failure")
        );
        assert_eq!(read(b"Action: Ping\r\n").await, Read::Closed);
    }

    #[test]
    fn responses_in_asterisk_order() {
        let r = Response::success(Some("7")).header("Ping", "Pong").finish();
        assert_eq!(r, "Response: Success\r\nActionID: 7\r\nPing: Pong\r\n\r\n");
        let e = Response::error(None, "bad\r\ninjection: x").finish();
        assert_eq!(e, "Response: Error\r\nMessage: bad  injection: x\r\n\r\n");
    }
}
