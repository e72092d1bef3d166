//! `Stasis(app[,args...])`: hands a channel to an ARI application.
//!
//! While the channel is in the application, the dialplan task that runs
//! it serves two inputs: the channel's own mailbox (hangup, the end of a
//! playback) and a bounded queue of [`Command`]s that REST handlers send
//! (answer, play, send DTMF, continue in the dialplan, ...). Everything that
//! acts on the channel therefore happens on the channel's task, one thing at
//! a time, in the order the requests arrived, as Asterisk's control queue
//! does; REST handlers wait for the outcome through a one-shot reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use obelus_apps::pbx::Pbx;
use obelus_apps::registry::{AppError, Application};
use obelus_core::channel::{Cause, Channel, Control as Frame, HungUp, Indication};
use obelus_dialplan::Target;
use tokio::sync::{mpsc, oneshot};

use crate::error::AriError;
use crate::json::Payload;
use crate::state::Ari;

/// Commands a channel may have waiting before REST requests get 503.
const COMMAND_QUEUE: usize = 64;

/// The outcome of a command, for the REST handler that sent it.
pub(crate) type Reply = oneshot::Sender<Result<(), AriError>>;

/// An operation on the channel's media that needs no waiting (music on
/// hold, silence, mute).
pub(crate) type MediaOp = Box<dyn FnOnce(&Arc<Channel>) -> Result<(), AriError> + Send>;

/// What a REST handler asks the channel's task to do.
pub(crate) enum Command {
    /// `POST /channels/{id}/answer`.
    Answer(Reply),
    /// `POST /channels/{id}/ring`, `DELETE` to stop, `POST .../progress`,
    /// `POST|DELETE .../hold`.
    Indicate(Option<Indication>, Reply),
    /// `POST /channels/{id}/dtmf`.
    Dtmf {
        /// The digits (`w`/`W` pause).
        digits: String,
        /// Pause before, ms.
        before: u64,
        /// Pause between digits, ms.
        between: u64,
        /// Length of each digit, ms.
        duration: u32,
        /// Pause after, ms.
        after: u64,
        /// The outcome.
        reply: Reply,
    },
    /// `POST /channels/{id}/play`: the playback was created queued.
    Play(String),
    /// `POST /channels/{id}/continue`.
    Continue {
        /// Context (current when absent).
        context: Option<String>,
        /// Extension (current when absent).
        exten: Option<String>,
        /// Priority.
        priority: Option<i64>,
        /// Label (instead of a priority).
        label: Option<String>,
        /// The outcome.
        reply: Reply,
    },
    /// `startMoh`, `stopMoh`, `startSilence`, `stopSilence`, `mute`,
    /// `unmute`: run on the channel's task so that they keep their order
    /// with the playbacks queued before them.
    Media(MediaOp, Reply),
    /// `POST /channels/{id}/move`.
    Move {
        /// The application to move to.
        app: String,
        /// Its arguments.
        args: Vec<String>,
        /// The outcome.
        reply: Reply,
    },
}

/// A channel in Stasis, as REST handlers reach it.
#[derive(Debug)]
pub(crate) struct Control {
    /// The channel.
    pub(crate) channel: Arc<Channel>,
    app: Mutex<String>,
    tx: mpsc::Sender<Command>,
}

impl Control {
    /// The application the channel is in.
    pub(crate) fn app(&self) -> String {
        self.app.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_app(&self, app: &str) {
        *self.app.lock().unwrap_or_else(|e| e.into_inner()) = app.to_owned();
    }

    /// Queues a command without waiting for it (playbacks answer at once).
    pub(crate) fn send(&self, command: Command) -> Result<(), AriError> {
        self.tx.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                AriError::unavailable("Too many requests queued for the channel")
            }
            mpsc::error::TrySendError::Closed(_) => AriError::not_in_stasis(),
        })
    }

    /// Queues a command and waits for the channel's task to carry it out.
    pub(crate) async fn run(&self, make: impl FnOnce(Reply) -> Command) -> Result<(), AriError> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx))?;
        // A dropped reply: the channel left Stasis before getting to it.
        rx.await.unwrap_or_else(|_| Err(AriError::not_in_stasis()))
    }
}

/// The channels in Stasis, by uniqueid.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    map: RwLock<HashMap<String, Arc<Control>>>,
}

impl Controls {
    /// The control of a channel in Stasis.
    pub(crate) fn get(&self, uniqueid: &str) -> Option<Arc<Control>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(uniqueid)
            .cloned()
    }

    fn insert(&self, control: &Arc<Control>) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(control.channel.uniqueid().to_owned(), Arc::clone(control));
    }

    fn remove(&self, uniqueid: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(uniqueid);
    }
}

impl Ari {
    /// The channel `id` names and its control: 404 if there is no such
    /// channel, 409 if it is not in a Stasis application.
    pub(crate) fn control(&self, id: &str) -> Result<Arc<Control>, AriError> {
        let channel = self
            .find_channel(id)
            .ok_or_else(AriError::channel_not_found)?;
        self.controls
            .get(channel.uniqueid())
            .ok_or_else(AriError::not_in_stasis)
    }
}

/// The `Stasis` dialplan application.
pub struct Stasis {
    ari: Weak<Ari>,
}

impl Stasis {
    /// The application, serving `ari`'s applications.
    pub fn new(ari: &Arc<Ari>) -> Stasis {
        Stasis {
            ari: Arc::downgrade(ari),
        }
    }
}

/// How a stay in Stasis ended.
enum Exit {
    /// `continue`: back to the dialplan.
    Continue,
    /// The channel hung up.
    HungUp(Cause),
}

/// What the loop does after a command.
enum Flow {
    Stay,
    Leave(Exit),
}

#[async_trait]
impl Application for Stasis {
    fn name(&self) -> &'static str {
        "Stasis"
    }

    fn synopsis(&self) -> &'static str {
        "Invoke an external Stasis application."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let mut args = obelus_dialplan::args::standard_args(args).into_iter();
        let app = args.next().unwrap_or_default();
        let args: Vec<String> = args.collect();
        let Some(ari) = self.ari.upgrade() else {
            pbx.channel.set_var("STASISSTATUS", "FAILED");
            return Ok(());
        };
        if app.is_empty() {
            tracing::warn!("Stasis app_name argument missing");
            pbx.channel.set_var("STASISSTATUS", "FAILED");
            return Ok(());
        }
        if !ari.apps.is_active(&app) {
            tracing::warn!("Stasis app '{app}' not registered");
            pbx.channel.set_var("STASISSTATUS", "FAILED");
            return Ok(());
        }
        let channel = Arc::clone(&pbx.channel);
        let (tx, mut rx) = mpsc::channel(COMMAND_QUEUE);
        let control = Arc::new(Control {
            channel: Arc::clone(&channel),
            app: Mutex::new(app.clone()),
            tx,
        });
        ari.controls.insert(&control);
        ari.apps.enter(&app, channel.uniqueid());
        ari.send_to(
            &app,
            &Payload::StasisStart {
                args,
                channel: ari.live_channel_json(&channel),
            },
        );
        let exit = serve(&ari, pbx, &control, &mut rx).await;
        ari.controls.remove(channel.uniqueid());
        // Whatever is still queued is answered: the channel has left.
        rx.close();
        while let Ok(command) = rx.try_recv() {
            refuse(command);
        }
        ari.leave_bridge(&channel);
        ari.playbacks.channel_gone(&ari, channel.uniqueid());
        let app = control.app();
        ari.send_to(
            &app,
            &Payload::StasisEnd {
                channel: ari.live_channel_json(&channel),
            },
        );
        ari.apps.leave(&app, channel.uniqueid());
        channel.set_var("STASISSTATUS", "SUCCESS");
        match exit {
            Exit::Continue => Ok(()),
            Exit::HungUp(cause) => Err(AppError::HungUp(cause)),
        }
    }
}

/// Answers a command the channel will never carry out.
fn refuse(command: Command) {
    let reply = match command {
        Command::Answer(r)
        | Command::Indicate(_, r)
        | Command::Dtmf { reply: r, .. }
        | Command::Continue { reply: r, .. }
        | Command::Media(_, r)
        | Command::Move { reply: r, .. } => r,
        Command::Play(_) => return,
    };
    let _ = reply.send(Err(AriError::not_in_stasis()));
}

/// What woke the loop.
enum Next {
    Frame(Result<Frame, HungUp>),
    Command(Option<Command>),
}

async fn serve(
    ari: &Arc<Ari>,
    pbx: &mut Pbx,
    control: &Arc<Control>,
    rx: &mut mpsc::Receiver<Command>,
) -> Exit {
    loop {
        let next = tokio::select! {
            frame = pbx.control.recv() => Next::Frame(frame),
            command = rx.recv() => Next::Command(command),
        };
        match next {
            Next::Frame(Err(HungUp(cause))) => return Exit::HungUp(cause),
            Next::Frame(Ok(frame)) => on_frame(ari, &pbx.channel, frame).await,
            // The sender lives in `control`, which outlives the loop.
            Next::Command(None) => return Exit::Continue,
            Next::Command(Some(command)) => match handle(ari, pbx, control, command).await {
                Flow::Stay => {}
                Flow::Leave(exit) => return exit,
            },
        }
    }
}

/// A frame from the channel's mailbox. DTMF reaches applications from the
/// event bus (the driver announces it there); playback ends drive the
/// playbacks.
async fn on_frame(ari: &Arc<Ari>, channel: &Arc<Channel>, frame: Frame) {
    if let Frame::PlaybackFinished { id, completed } = frame {
        ari.playbacks.on_finished(ari, channel, id, completed).await;
    }
}

async fn handle(ari: &Arc<Ari>, pbx: &mut Pbx, control: &Arc<Control>, command: Command) -> Flow {
    let channel = Arc::clone(&pbx.channel);
    match command {
        Command::Answer(reply) => {
            let result = channel
                .answer()
                .await
                .map_err(|cause| AriError::internal(format!("Failed to answer: {}", cause.text())));
            let _ = reply.send(result);
        }
        Command::Indicate(indication, reply) => {
            if let Some(indication) = indication {
                channel.driver().indicate(&channel, indication).await;
            }
            let _ = reply.send(Ok(()));
        }
        Command::Play(id) => ari.playbacks.play_on_channel(ari, &channel, &id).await,
        Command::Dtmf {
            digits,
            before,
            between,
            duration,
            after,
            reply,
        } => {
            let mut frames = Vec::new();
            let outcome = send_dtmf(
                pbx,
                &digits,
                [before, between, after],
                duration,
                &mut frames,
            )
            .await;
            for frame in frames {
                on_frame(ari, &channel, frame).await;
            }
            match outcome {
                Ok(()) => {
                    let _ = reply.send(Ok(()));
                }
                Err(HungUp(cause)) => {
                    let _ = reply.send(Err(AriError::channel_not_found()));
                    return Flow::Leave(Exit::HungUp(cause));
                }
            }
        }
        Command::Continue {
            context,
            exten,
            priority,
            label,
            reply,
        } => {
            return match continue_in_dialplan(pbx, context, exten, priority, label).await {
                Ok(()) => {
                    let _ = reply.send(Ok(()));
                    Flow::Leave(Exit::Continue)
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                    Flow::Stay
                }
            };
        }
        Command::Move { app, args, reply } => {
            let _ = reply.send(Ok(()));
            move_to(ari, control, &app, args);
        }
        Command::Media(op, reply) => {
            let _ = reply.send(op(&channel));
        }
    }
    Flow::Stay
}

/// Sends DTMF as `ast_dtmf_stream` does, keeping frames that arrive
/// meanwhile (a playback may end) for the caller to handle.
async fn send_dtmf(
    pbx: &mut Pbx,
    digits: &str,
    [before, between, after]: [u64; 3],
    duration: u32,
    frames: &mut Vec<Frame>,
) -> Result<(), HungUp> {
    let channel = Arc::clone(&pbx.channel);
    pause(pbx, before, frames).await?;
    for digit in digits.chars() {
        match digit {
            'w' => pause(pbx, 500, frames).await?,
            'W' => pause(pbx, 1000, frames).await?,
            '0'..='9' | '*' | '#' | 'a'..='d' | 'A'..='D' => {
                channel
                    .driver()
                    .send_digit(&channel, digit.to_ascii_uppercase(), duration)
                    .await;
                pause(pbx, between, frames).await?;
            }
            _ => {}
        }
    }
    pause(pbx, after, frames).await
}

async fn pause(pbx: &mut Pbx, ms: u64, frames: &mut Vec<Frame>) -> Result<(), HungUp> {
    if ms == 0 {
        return Ok(());
    }
    pbx.control
        .wait(Duration::from_millis(ms), |frame| {
            frames.push(frame.clone());
            false
        })
        .await
        .map(|_| ())
}

/// Sets where the dialplan resumes. Without any location the channel goes
/// on at the priority after `Stasis`; a context or extension alone starts at
/// priority 1. An unknown label is refused and the channel stays.
async fn continue_in_dialplan(
    pbx: &mut Pbx,
    context: Option<String>,
    exten: Option<String>,
    priority: Option<i64>,
    label: Option<String>,
) -> Result<(), AriError> {
    if context.is_none() && exten.is_none() && priority.is_none() && label.is_none() {
        return Ok(());
    }
    let (current_context, current_exten, _) = pbx.channel.location();
    let context = context.unwrap_or(current_context);
    let exten = exten.unwrap_or(current_exten);
    let number = match (label, priority) {
        (Some(label), _) => {
            let caller = pbx.channel.caller().number;
            let caller = (!caller.is_empty()).then_some(caller.as_str());
            pbx.executor
                .step(&context, &exten, Target::Label(&label), caller)
                .await
                .map_err(|_| AriError::not_found(format!("Requested label: {label} not found")))?
                .priority
        }
        (None, Some(priority)) => i32::try_from(priority)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| AriError::bad_request("Invalid priority"))?,
        (None, None) => 1,
    };
    pbx.jump(&context, &exten, &number.to_string())
        .await
        .map_err(|_| AriError::not_found("Requested location not found"))
}

/// Moves the channel to another application: `StasisEnd` for the old one,
/// `StasisStart` for the new one; `ApplicationMoveFailed` (and the channel
/// stays) when the new one is not registered.
fn move_to(ari: &Ari, control: &Control, app: &str, args: Vec<String>) {
    let channel = &control.channel;
    let old = control.app();
    if !ari.apps.is_active(app) {
        ari.send_to(
            &old,
            &Payload::ApplicationMoveFailed {
                channel: ari.live_channel_json(channel),
                destination: app.to_owned(),
                args,
            },
        );
        return;
    }
    ari.send_to(
        &old,
        &Payload::StasisEnd {
            channel: ari.live_channel_json(channel),
        },
    );
    ari.apps.leave(&old, channel.uniqueid());
    control.set_app(app);
    ari.apps.enter(app, channel.uniqueid());
    ari.send_to(
        app,
        &Payload::StasisStart {
            args,
            channel: ari.live_channel_json(channel),
        },
    );
}
