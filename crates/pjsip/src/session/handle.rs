//! The channel core's side of a session: [`SessionHandle`] implements the
//! channel [`Driver`] by posting commands to the session's inbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use obelus_core::channel::{
    Cause, Channel, Driver, DtmfTransport, Indication, NativeRtp, TransferState,
};
use obelus_media::Stream;
use tokio::sync::{mpsc, oneshot};

use super::actor::{Command, Input};
use super::direct::SharedNative;
use super::dtmf::SharedPath;

/// How long a hangup waits for the session to send its BYE or final
/// response before the channel goes anyway.
const HANGUP_WAIT: Duration = Duration::from_secs(2);

/// A session's RTP stream, shared by the session task and the channel
/// driver, and emptied when the call ends: the stream's ports then go back
/// to the media engine at once instead of when the session's last
/// transactions time out (up to 32 s later).
#[derive(Clone)]
pub(crate) struct MediaSlot(Arc<Mutex<Option<Arc<Stream>>>>);

impl MediaSlot {
    /// A slot holding `stream`.
    pub(crate) fn new(stream: Stream) -> Self {
        MediaSlot(Arc::new(Mutex::new(Some(Arc::new(stream)))))
    }

    /// The stream, while the call lasts.
    pub(crate) fn get(&self) -> Option<Arc<Stream>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Lets go of the stream (its sockets close with the last user).
    pub(crate) fn release(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// A PJSIP channel's driver.
pub(crate) struct SessionHandle {
    pub(crate) tx: mpsc::Sender<Input>,
    pub(crate) media: MediaSlot,
    pub(crate) call_id: String,
    pub(crate) endpoint: String,
    /// The headers of the INVITE that created an inbound channel (for
    /// `PJSIP_HEADER(read,...)`), in order; empty for outbound legs.
    pub(crate) headers: Vec<(String, String)>,
    /// How the call carries DTMF, as the session agreed it.
    pub(crate) dtmf: SharedPath,
    /// `PJSIP_TRANSFER_HANDLING()` is `ari-only`: REFERs from the far end
    /// go to the channel's ARI application (shared with the session).
    pub(crate) transfer_ari: Arc<AtomicBool>,
    /// The peer's media for a native RTP bridge, as the session agreed it.
    pub(crate) native: SharedNative,
}

impl SessionHandle {
    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), Cause>>) -> Command,
    ) -> Result<(), Cause> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Input::Command(make(tx))).await.is_err() {
            return Err(Cause::NORMAL_CLEARING);
        }
        rx.await.unwrap_or(Err(Cause::NORMAL_CLEARING))
    }
}

#[async_trait]
impl Driver for SessionHandle {
    async fn call(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        self.ask(Command::Call).await
    }

    async fn answer(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        self.ask(Command::Answer).await
    }

    async fn indicate(&self, _channel: &Arc<Channel>, indication: Indication) {
        let _ = self
            .tx
            .send(Input::Command(Command::Indicate(indication)))
            .await;
    }

    async fn hangup(&self, _channel: &Arc<Channel>, cause: Cause) {
        let (tx, rx) = oneshot::channel();
        if self
            .tx
            .send(Input::Command(Command::Hangup(cause, tx)))
            .await
            .is_ok()
        {
            let _ = tokio::time::timeout(HANGUP_WAIT, rx).await;
        }
    }

    async fn send_digit(&self, _channel: &Arc<Channel>, digit: char, duration_ms: u32) {
        // The session knows how the call agreed to carry DTMF (RTP
        // events, tones, or SIP INFO).
        let _ = self
            .tx
            .send(Input::Command(Command::Digit(digit, duration_ms)))
            .await;
    }

    async fn transfer(&self, _channel: &Arc<Channel>, target: &str) -> Result<(), Cause> {
        let target = target.to_owned();
        self.ask(|done| Command::Transfer(target, done)).await
    }

    async fn transfer_progress(
        &self,
        _channel: &Arc<Channel>,
        state: TransferState,
    ) -> Result<(), Cause> {
        self.ask(|done| Command::TransferProgress(state, done))
            .await
    }

    fn set_option(&self, key: &str, value: &str) -> bool {
        if !key.eq_ignore_ascii_case("transfer_handling") {
            return false;
        }
        let ari = match value.trim().to_ascii_lowercase().as_str() {
            "ari-only" => true,
            "core" | "" => false,
            _ => return false,
        };
        self.transfer_ari.store(ari, Ordering::Relaxed);
        true
    }

    fn media(&self) -> Option<Arc<Stream>> {
        self.media.get()
    }

    fn dtmf_transport(&self) -> DtmfTransport {
        self.dtmf.get()
    }

    fn native_rtp(&self) -> Option<NativeRtp> {
        self.native.get()
    }

    async fn direct_media(&self, _channel: &Arc<Channel>, peer: Option<NativeRtp>) {
        let _ = self
            .tx
            .send(Input::Command(Command::DirectMedia(peer)))
            .await;
    }

    fn info(&self, key: &str) -> Option<String> {
        if let Some(rest) = key.strip_prefix("header,") {
            let (name, n) = rest.rsplit_once(',').unwrap_or((rest, "1"));
            let n = n.parse::<usize>().unwrap_or(1).max(1);
            return self
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .nth(n - 1)
                .map(|(_, v)| v.clone());
        }
        match key.to_ascii_lowercase().replace(' ', "").as_str() {
            "pjsip,call-id" | "call-id" => Some(self.call_id.clone()),
            "endpoint" | "pjsip,endpoint" => Some(self.endpoint.clone()),
            "transfer_handling" => Some(
                if self.transfer_ari.load(Ordering::Relaxed) {
                    "ari-only"
                } else {
                    "core"
                }
                .to_owned(),
            ),
            "rtp,src" | "rtp,local_addr" => self.media.get().map(|m| m.local_addr().to_string()),
            _ => None,
        }
    }
}
