//! Text messages outside calls (SIP MESSAGE) and out-of-call transfer
//! requests (SIP REFER): Asterisk's message and refer cores.
//!
//! Channel technologies that carry messages register a [`MessageTech`]
//! under their URI scheme (`pjsip:`), so that ARI's `sendMessage` can send
//! without knowing SIP. Messages arriving from endpoints are offered to the
//! [`MessageHandler`]s (ARI's applications); the technology answers the far
//! end by whether one took it (SIP 202 or 404).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

/// One text message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Who sends it: an identity of the technology (`sip:alice@host`,
    /// `"Alice" <sip:101@host>`) or a bare user.
    pub from: String,
    /// Where it goes: `pjsip:102`, `pjsip:102/sip:102@host`, `sip:...`.
    pub to: String,
    /// The text.
    pub body: String,
    /// Technology-specific values: SIP headers to add (outbound) or the
    /// headers received (inbound).
    pub variables: Vec<(String, String)>,
    /// The endpoint it came from (`PJSIP/101`), for received messages.
    pub endpoint: Option<String>,
}

/// A request that an endpoint call somewhere else (out-of-dialog REFER).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refer {
    /// Who asks (the From identity), as for [`Message::from`].
    pub from: String,
    /// Who is asked: `pjsip:102`, `pjsip:sip:...`.
    pub to: String,
    /// Where it should call: an endpoint name or a URI.
    pub refer_to: String,
    /// When `refer_to` names one of our endpoints: point it at us (the
    /// endpoint at this server) instead of the endpoint's own contact.
    pub to_self: bool,
    /// Technology-specific values (SIP headers; `display_name` names the
    /// Refer-To target).
    pub variables: Vec<(String, String)>,
}

/// Why a message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// No technology handles the destination's scheme.
    #[error("no message technology for '{0}'")]
    UnknownTechnology(String),
    /// The destination names no known endpoint, or one without a contact.
    #[error("endpoint not found: {0}")]
    EndpointNotFound(String),
    /// The destination or sender is malformed.
    #[error("{0}")]
    Invalid(String),
}

/// A technology that sends messages (`pjsip`).
#[async_trait]
pub trait MessageTech: Send + Sync {
    /// The URI scheme it serves, lower case (`pjsip`).
    fn scheme(&self) -> &'static str;
    /// Checks the destination and starts sending; delivery itself goes on
    /// in the background (failures are logged), as Asterisk queues it.
    async fn send(&self, message: &Message) -> Result<(), MessageError>;
    /// Checks and starts sending a refer, as [`MessageTech::send`] does.
    async fn refer(&self, refer: &Refer) -> Result<(), MessageError> {
        Err(MessageError::UnknownTechnology(refer.to.clone()))
    }
}

/// Something that takes received messages (ARI applications).
pub trait MessageHandler: Send + Sync {
    /// Whether it wants this message.
    fn wants(&self, message: &Message) -> bool;
    /// Takes the message.
    fn handle(&self, message: &Message);
}

/// The message technologies and handlers.
#[derive(Default)]
pub struct Messaging {
    techs: RwLock<HashMap<String, Arc<dyn MessageTech>>>,
    handlers: RwLock<Vec<Arc<dyn MessageHandler>>>,
}

impl std::fmt::Debug for Messaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messaging").finish_non_exhaustive()
    }
}

impl Messaging {
    /// Registers a technology under its scheme (replacing one of that name).
    pub fn register_tech(&self, tech: Arc<dyn MessageTech>) {
        self.techs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tech.scheme().to_owned(), tech);
    }

    /// Adds a handler of received messages.
    pub fn add_handler(&self, handler: Arc<dyn MessageHandler>) {
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(handler);
    }

    /// Sends `message` through the technology its `to` names
    /// (`pjsip:102` goes to `pjsip`).
    pub async fn send(&self, message: &Message) -> Result<(), MessageError> {
        self.tech_for(&message.to)?.send(message).await
    }

    /// Sends a refer through the technology its `to` names.
    pub async fn refer(&self, refer: &Refer) -> Result<(), MessageError> {
        self.tech_for(&refer.to)?.refer(refer).await
    }

    fn tech_for(&self, to: &str) -> Result<Arc<dyn MessageTech>, MessageError> {
        let scheme = to
            .split_once(':')
            .map(|(s, _)| s.trim().to_ascii_lowercase())
            .unwrap_or_default();
        self.techs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&scheme)
            .cloned()
            .ok_or_else(|| MessageError::UnknownTechnology(to.to_owned()))
    }

    /// Offers a received message to the handlers; `false` if none wanted it.
    pub fn route(&self, message: &Message) -> bool {
        let handlers = self
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut taken = false;
        for handler in handlers.iter().filter(|h| h.wants(message)) {
            handler.handle(message);
            taken = true;
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<String>>);

    #[async_trait]
    impl MessageTech for Recorder {
        fn scheme(&self) -> &'static str {
            "pjsip"
        }
        async fn send(&self, message: &Message) -> Result<(), MessageError> {
            self.0.lock().unwrap().push(message.body.clone());
            Ok(())
        }
    }

    impl MessageHandler for Recorder {
        fn wants(&self, message: &Message) -> bool {
            message.endpoint.as_deref() == Some("PJSIP/101")
        }
        fn handle(&self, message: &Message) {
            self.0.lock().unwrap().push(message.from.clone());
        }
    }

    #[tokio::test]
    async fn messages_go_by_scheme_and_to_handlers_that_want_them() {
        let messaging = Messaging::default();
        let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
        messaging.register_tech(Arc::clone(&recorder) as Arc<dyn MessageTech>);
        messaging.add_handler(Arc::clone(&recorder) as Arc<dyn MessageHandler>);
        let mut message = Message {
            to: "PJSIP:102".into(),
            body: "hello".into(),
            from: "sip:101@h".into(),
            ..Message::default()
        };
        messaging.send(&message).await.expect("sent");
        message.to = "xmpp:bob".into();
        assert_eq!(
            messaging.send(&message).await,
            Err(MessageError::UnknownTechnology("xmpp:bob".into()))
        );
        assert!(!messaging.route(&message));
        message.endpoint = Some("PJSIP/101".into());
        assert!(messaging.route(&message));
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec!["hello".to_owned(), "sip:101@h".to_owned()]
        );
    }
}
