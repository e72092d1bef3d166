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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use obelus_apps::pbx::Pbx;
use obelus_apps::registry::{AppError, Application};
use obelus_core::channel::{
    Cause, Channel, ChannelState, Control as Frame, HungUp, Indication, TransferRequest,
    TransferState,
};
use obelus_dialplan::Target;
use tokio::sync::{mpsc, oneshot};

use crate::apps::Interest;
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
    /// `POST /channels/{id}/record`: the recording (by name) was created
    /// queued.
    Record(String),
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
    /// `POST /channels/{id}/dial`: call the far end of a channel made by
    /// `POST /channels/create`.
    Dial {
        /// The calling channel's uniqueid, named in `Dial` events.
        caller: Option<String>,
        /// How long it may ring (`None`: no limit).
        timeout: Option<Duration>,
        /// The outcome.
        reply: Reply,
    },
    /// `POST /channels/{id}/redirect`: the technology resource (endpoint
    /// name or URI) to send the call to.
    Redirect(String, Reply),
    /// `POST /channels/{id}/transfer_progress`: news of the transfer the
    /// far end asked for.
    TransferProgress(TransferState, Reply),
}

/// A channel in Stasis, as REST handlers reach it.
#[derive(Debug)]
pub(crate) struct Control {
    /// The channel.
    pub(crate) channel: Arc<Channel>,
    app: Mutex<String>,
    tx: mpsc::Sender<Command>,
    /// Set by the first `dial`: a channel is dialled once.
    dialed: AtomicBool,
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
        let mut app = app;
        let mut per_call = None;
        if !ari.apps.is_active(&app) {
            match ari.outbound.per_call(&ari, &app, pbx.channel.name()).await {
                Some(Ok(call)) => {
                    app = call.app().to_owned();
                    per_call = Some(call);
                }
                Some(Err(e)) => {
                    tracing::warn!("Stasis app '{app}': {e}");
                    pbx.channel.set_var("STASISSTATUS", "FAILED");
                    return Ok(());
                }
                None => {
                    tracing::warn!("Stasis app '{app}' not registered");
                    pbx.channel.set_var("STASISSTATUS", "FAILED");
                    return Ok(());
                }
            }
        }
        let channel = Arc::clone(&pbx.channel);
        let (tx, mut rx) = mpsc::channel(COMMAND_QUEUE);
        let control = Arc::new(Control {
            channel: Arc::clone(&channel),
            app: Mutex::new(app.clone()),
            tx,
            dialed: AtomicBool::new(false),
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
        let target = crate::playback::Target::Channel(channel.uniqueid().to_owned());
        ari.recordings
            .target_gone(&ari, &target, "Channel left the Stasis application")
            .await;
        let app = control.app();
        ari.send_to(
            &app,
            &Payload::StasisEnd {
                channel: ari.live_channel_json(&channel),
            },
        );
        ari.apps.leave(&app, channel.uniqueid());
        if let Some(call) = per_call {
            call.close().await;
        }
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
        | Command::Move { reply: r, .. }
        | Command::Dial { reply: r, .. }
        | Command::Redirect(_, r)
        | Command::TransferProgress(_, r)
        | Command::Media(_, r) => r,
        // Left queued, they fail when the channel leaves.
        Command::Play(_) | Command::Record(_) => return,
    };
    let _ = reply.send(Err(AriError::not_in_stasis()));
}

/// What woke the loop.
enum Next {
    Frame(Result<Frame, HungUp>),
    Command(Option<Command>),
    /// A dial's timeout passed without an answer.
    DialTimeout,
}

/// A dial in progress (`POST /channels/{id}/dial`), until the far end
/// answers or the channel ends.
struct Dialing {
    caller: Option<String>,
    deadline: Option<tokio::time::Instant>,
}

/// The dial string of a channel ARI created: its resource
/// (`PJSIP/102-0000000a` dialled `102`).
fn dialstring(channel: &Channel) -> String {
    let name = channel.name();
    let resource = name.split_once('/').map_or(name, |(_, r)| r);
    let resource = resource.rsplit_once('-').map_or(resource, |(r, _)| r);
    resource.trim_end_matches(";1").to_owned()
}

/// Tells the applications following the channel (or the caller) how its
/// dial goes.
fn dial_event(ari: &Ari, channel: &Channel, dialing: &Dialing, status: &str) {
    let caller = dialing
        .caller
        .as_deref()
        .and_then(|c| ari.core.channels.find(c));
    let mut ids = vec![channel.uniqueid()];
    if let Some(c) = &caller {
        ids.push(c.uniqueid());
    }
    ari.dispatch(
        &Payload::Dial {
            caller: caller.as_ref().map(|c| ari.live_channel_json(c)),
            peer: ari.live_channel_json(channel),
            dialstring: status.is_empty().then(|| dialstring(channel)),
            dialstatus: status.to_owned(),
        },
        &Interest {
            channels: &ids,
            channel_name: Some(channel.name()),
            ..Interest::default()
        },
    );
}

/// The final `dialstatus` of a dial the channel's hangup ended.
fn dial_status(cause: Cause) -> &'static str {
    match cause {
        Cause::USER_BUSY => "BUSY",
        Cause::CONGESTION => "CONGESTION",
        Cause::NO_ANSWER | Cause::NO_USER_RESPONSE => "NOANSWER",
        Cause::NORMAL_CLEARING => "CANCEL",
        _ => "CHANUNAVAIL",
    }
}

async fn serve(
    ari: &Arc<Ari>,
    pbx: &mut Pbx,
    control: &Arc<Control>,
    rx: &mut mpsc::Receiver<Command>,
) -> Exit {
    let mut dialing: Option<Dialing> = None;
    loop {
        let deadline = dialing.as_ref().and_then(|d| d.deadline);
        let next = tokio::select! {
            frame = pbx.control.recv() => Next::Frame(frame),
            command = rx.recv() => Next::Command(command),
            () = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => Next::DialTimeout,
        };
        match next {
            Next::Frame(Err(HungUp(cause))) => {
                if let Some(dial) = dialing.take() {
                    dial_event(ari, &pbx.channel, &dial, dial_status(cause));
                }
                return Exit::HungUp(cause);
            }
            Next::Frame(Ok(frame)) => {
                if let Some(dial) = &dialing {
                    match frame {
                        Frame::Ringing => dial_event(ari, &pbx.channel, dial, "RINGING"),
                        Frame::Progress => dial_event(ari, &pbx.channel, dial, "PROGRESS"),
                        Frame::Answer => {
                            if pbx.channel.state() != ChannelState::Up {
                                pbx.channel.set_state(ChannelState::Up);
                            }
                            dial_event(ari, &pbx.channel, dial, "ANSWER");
                            dialing = None;
                        }
                        _ => {}
                    }
                }
                on_frame(ari, &pbx.channel, frame).await;
            }
            Next::DialTimeout => {
                if let Some(dial) = dialing.take() {
                    dial_event(ari, &pbx.channel, &dial, "NOANSWER");
                    pbx.channel.request_hangup(Cause::NO_ANSWER);
                }
            }
            // The sender lives in `control`, which outlives the loop.
            Next::Command(None) => return Exit::Continue,
            Next::Command(Some(command)) => {
                match handle(ari, pbx, control, command, &mut dialing).await {
                    Flow::Stay => {}
                    Flow::Leave(exit) => return exit,
                }
            }
        }
    }
}

/// Starts calling the far end of a channel that was created, not dialled:
/// 409 for any other. `Ok(false)`: the call failed at once; that is
/// reported (`CHANUNAVAIL`) and the channel hung up, as Asterisk does.
async fn dial_out(
    ari: &Ari,
    channel: &Arc<Channel>,
    control: &Control,
    dial: &Dialing,
) -> Result<bool, AriError> {
    if channel.state() != ChannelState::Down || control.dialed.swap(true, Ordering::SeqCst) {
        return Err(AriError::conflict("Channel is not in the 'Down' state"));
    }
    dial_event(ari, channel, dial, "");
    if let Err(cause) = channel.driver().call(channel).await {
        dial_event(ari, channel, dial, "CHANUNAVAIL");
        channel.request_hangup(cause);
        return Ok(false);
    }
    Ok(true)
}

/// A frame from the channel's mailbox. DTMF reaches applications from the
/// event bus (the driver announces it there), and may end a recording;
/// playback ends drive the playbacks; a transfer request becomes
/// `ChannelTransfer`.
async fn on_frame(ari: &Arc<Ari>, channel: &Arc<Channel>, frame: Frame) {
    match frame {
        Frame::PlaybackFinished { id, completed } => {
            ari.playbacks.on_finished(ari, channel, id, completed).await;
        }
        Frame::Dtmf { digit, .. } => ari.recordings.dtmf(channel.uniqueid(), digit),
        Frame::Transfer(request) => transfer_requested(ari, channel, request),
        _ => {}
    }
}

/// Tells the applications following the channel that its far end asked
/// for a transfer.
fn transfer_requested(ari: &Ari, channel: &Channel, request: TransferRequest) {
    let replaced = request.replaces.as_deref().and_then(|call_id| {
        ari.core
            .channels
            .all()
            .into_iter()
            .find(|c| c.driver().info("pjsip,call-id").as_deref() == Some(call_id))
    });
    let ids = [channel.uniqueid()];
    ari.dispatch(
        &Payload::ChannelTransfer {
            refer_to: crate::json::ReferTo {
                requested_destination: crate::json::RequiredDestination {
                    protocol_id: request.replaces,
                    destination: request.destination,
                    additional_protocol_params: request
                        .params
                        .into_iter()
                        .map(|(name, value)| crate::json::AdditionalParam {
                            parameter_name: name,
                            parameter_value: value,
                        })
                        .collect(),
                },
                destination_channel: replaced.map(|c| ari.live_channel_json(&c)),
            },
            referred_by: crate::json::ReferredBy {
                source_channel: ari.live_channel_json(channel),
            },
        },
        &Interest {
            channels: &ids,
            channel_name: Some(channel.name()),
            ..Interest::default()
        },
    );
}

async fn handle(
    ari: &Arc<Ari>,
    pbx: &mut Pbx,
    control: &Arc<Control>,
    command: Command,
    dialing: &mut Option<Dialing>,
) -> Flow {
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
        Command::Record(name) => {
            let mut frames = Vec::new();
            let outcome = crate::recording::start_on_channel(ari, pbx, &name, &mut frames).await;
            for frame in frames {
                on_frame(ari, &channel, frame).await;
            }
            if let Err(HungUp(cause)) = outcome {
                return Flow::Leave(Exit::HungUp(cause));
            }
        }
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
        Command::Redirect(target, reply) => {
            let result = channel
                .driver()
                .transfer(&channel, &target)
                .await
                .map_err(|cause| match cause {
                    Cause::NO_ROUTE_DESTINATION => AriError::not_found(format!(
                        "Endpoint '{target}' not found or not reachable"
                    )),
                    Cause::CHAN_NOT_IMPLEMENTED => AriError::new(
                        axum::http::StatusCode::PRECONDITION_FAILED,
                        "Channel in invalid state",
                    ),
                    other => {
                        AriError::internal(format!("Failed to redirect channel: {}", other.text()))
                    }
                });
            let _ = reply.send(result);
        }
        Command::TransferProgress(state, reply) => {
            let result = channel
                .driver()
                .transfer_progress(&channel, state)
                .await
                .map_err(|_| {
                    AriError::new(
                        axum::http::StatusCode::PRECONDITION_FAILED,
                        "Channel in invalid state: no transfer was requested on it",
                    )
                });
            let _ = reply.send(result);
        }
        Command::Dial {
            caller,
            timeout,
            reply,
        } => {
            let dial = Dialing {
                caller,
                deadline: timeout.map(|t| tokio::time::Instant::now() + t),
            };
            let result = dial_out(ari, &channel, control, &dial).await;
            if let Ok(true) = result {
                *dialing = Some(dial);
            }
            let _ = reply.send(result.map(|_| ()));
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
