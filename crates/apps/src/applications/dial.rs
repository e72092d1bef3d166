//! `Dial(Tech/resource[&Tech/resource...][,timeout[,options[,URL]]])`:
//! rings every destination at once, bridges the caller with the first that
//! answers, and sets `DIALSTATUS` (ANSWER, BUSY, NOANSWER, CANCEL,
//! CONGESTION, CHANUNAVAIL, INVALIDARGS), `DIALEDPEERNAME`,
//! `DIALEDPEERNUMBER`, `DIALEDTIME`, `ANSWEREDTIME`.
//!
//! Options: `g` (continue in the dialplan when the callee hangs up),
//! `r` (ring the caller at once), `m[(class)]` (the caller hears music on
//! hold instead of ringing until someone answers: Dial sends progress
//! with early media and no longer passes ringing on), `t`/`T` (the
//! callee/caller may transfer with the `features.conf` codes: blind
//! `blindxfer`, attended `atxfer`), `h`/`H` (the callee/caller may hang
//! up with the disconnect code), `k`/`K` (the callee/caller may park the
//! other with `parkcall`); others are accepted and ignored.
//!
//! A blind transfer (a feature code, or a SIP REFER from either side)
//! sends the other party to the target extension and ends the
//! transferer's call: a transferred caller goes on in the dialplan there,
//! a transferred callee starts a dialplan run of its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use obelus_core::bridge::BridgeFeatures;
use obelus_core::channel::{
    Cause, Channel, ChannelState, Control, ControlReceiver, HungUp, Indication,
};
use obelus_core::events::ChannelEventKind;
use tokio::sync::{mpsc, oneshot};

pub(crate) mod bridged;

use crate::moh::MusicOnHold;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Dial`.
pub struct Dial;

/// Parsed `Dial` options.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Options {
    continue_after: bool,
    ring_at_once: bool,
    /// `m[(class)]`: music on hold instead of ringing, with its class.
    music: Option<Option<String>>,
    /// `t`/`T`, `h`/`H`: the features each side may key once bridged.
    features: BridgeFeatures,
}

fn parse_options(text: &str) -> Options {
    let mut o = Options::default();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // An option's argument: `(...)`, parentheses nested.
        let mut arg = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let (mut depth, mut text) = (1u32, String::new());
            for a in chars.by_ref() {
                match a {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                text.push(a);
            }
            arg = Some(text);
        }
        match c {
            'g' => o.continue_after = true,
            'r' => o.ring_at_once = true,
            'm' => o.music = Some(arg.filter(|a| !a.trim().is_empty())),
            't' => o.features.second.transfer = true,
            'T' => o.features.first.transfer = true,
            'h' => o.features.second.disconnect = true,
            'H' => o.features.first.disconnect = true,
            'k' => o.features.second.park = true,
            'K' => o.features.first.park = true,
            _ => {}
        }
    }
    o
}

/// Music on hold to the caller while Dial rings (`m`); stopped when
/// dropped, whichever way Dial ends.
struct HoldMusic {
    service: Arc<MusicOnHold>,
    caller: Arc<Channel>,
}

impl HoldMusic {
    /// Starts the class of `m(class)` (which beats `CHANNEL(musicclass)`,
    /// as in Asterisk) or the caller's class; `None` if it cannot play.
    fn start(pbx: &Pbx, class: Option<&str>) -> Option<HoldMusic> {
        let Some(service) = pbx.core().service::<MusicOnHold>() else {
            tracing::warn!(
                "Dial(...,m): no music on hold for {}: res_musiconhold.so is not loaded",
                pbx.channel.name()
            );
            return None;
        };
        if let Err(e) = service.start_preferring(&pbx.channel, class) {
            tracing::warn!(
                "Unable to start music on hold on {}: {e}",
                pbx.channel.name()
            );
            return None;
        }
        Some(HoldMusic {
            service,
            caller: Arc::clone(&pbx.channel),
        })
    }
}

impl Drop for HoldMusic {
    fn drop(&mut self) {
        self.service.stop(&self.caller);
    }
}

/// The DIALSTATUS for a leg that ended with `cause` before answering.
fn status_for(cause: Cause) -> &'static str {
    match cause {
        Cause::USER_BUSY => "BUSY",
        Cause::CONGESTION | Cause::FAILURE | Cause(42) => "CONGESTION",
        Cause::NO_ANSWER | Cause::NO_USER_RESPONSE => "NOANSWER",
        _ => "CHANUNAVAIL",
    }
}

/// The most telling status among failed legs (as app_dial reports one).
fn rank(status: &str) -> u8 {
    match status {
        "BUSY" => 4,
        "CONGESTION" => 3,
        "NOANSWER" => 2,
        _ => 1,
    }
}

/// One ringing destination.
struct Leg {
    channel: Arc<Channel>,
    dialstring: String,
    /// Stops the forwarding task and gets the mailbox back.
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<ControlReceiver>,
}

/// Forwards a leg's frames to the Dial loop until told to stop; returns
/// the mailbox so the winner's can be bridged.
fn forward(
    index: usize,
    mut control: ControlReceiver,
    tx: mpsc::Sender<(usize, Result<Control, HungUp>)>,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<ControlReceiver>,
) {
    let (stop_tx, mut stop_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop_rx => return control,
                frame = control.recv() => {
                    let ended = frame.is_err();
                    if tx.send((index, frame)).await.is_err() || ended {
                        return control;
                    }
                }
            }
        }
    });
    (stop_tx, task)
}

impl Leg {
    /// Stops forwarding and returns the leg's mailbox.
    async fn take(mut self) -> Option<(Arc<Channel>, String, ControlReceiver)> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let control = self.task.await.ok()?;
        Some((self.channel, self.dialstring, control))
    }
}

fn dial_end(caller: &Channel, dest: &Channel, status: &str) {
    caller.announce(ChannelEventKind::DialEnd {
        dest: Arc::new(dest.snapshot()),
        status: status.to_owned(),
    });
}

#[async_trait]
impl Application for Dial {
    fn name(&self) -> &'static str {
        "Dial"
    }

    fn synopsis(&self) -> &'static str {
        "Attempt to connect to another device or endpoint and bridge the call."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let args = obelus_dialplan::args::standard_args(args);
        let targets: Vec<String> = args
            .first()
            .map(|t| {
                t.split('&')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if targets.is_empty() {
            tracing::warn!("Dial requires an argument (technology/resource)");
            pbx.set("DIALSTATUS", "INVALIDARGS");
            return Ok(());
        }
        let timeout = args
            .get(1)
            .and_then(|t| t.split('^').next())
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(Duration::from_secs_f64);
        let options = parse_options(args.get(2).map_or("", String::as_str));
        let caller = Arc::clone(&pbx.channel);
        let channels = Arc::clone(&pbx.core().channels);
        let started = Instant::now();
        let (tx, mut rx) = mpsc::channel(64);
        let mut legs: Vec<Option<Leg>> = Vec::new();
        let mut best = "CHANUNAVAIL";
        for target in &targets {
            let channel = match channels.request(target, Some(&caller)).await {
                Ok(c) => c,
                Err(cause) => {
                    tracing::info!(
                        verbose = 3,
                        "Unable to create channel of type '{}' (cause {} - {})",
                        target.split('/').next().unwrap_or(target),
                        cause.code(),
                        cause.text()
                    );
                    continue;
                }
            };
            caller.announce(ChannelEventKind::DialBegin {
                dest: Arc::new(channel.snapshot()),
                dialstring: target
                    .split_once('/')
                    .map_or(target.as_str(), |(_, r)| r)
                    .to_owned(),
            });
            let Some(control) = channel.take_control() else {
                continue;
            };
            if let Err(cause) = channel.driver().call(&channel).await {
                dial_end(&caller, &channel, status_for(cause));
                channel.hangup(cause).await;
                continue;
            }
            tracing::info!(verbose = 3, "Called {target}");
            let index = legs.len();
            let (stop, task) = forward(index, control, tx.clone());
            legs.push(Some(Leg {
                channel,
                dialstring: target.clone(),
                stop: Some(stop),
                task,
            }));
        }
        drop(tx);
        if legs.is_empty() {
            pbx.set("DIALSTATUS", "CHANUNAVAIL");
            return Ok(());
        }
        let mut music = None;
        if let Some(class) = &options.music {
            music = HoldMusic::start(pbx, class.as_deref());
            if caller.state() != ChannelState::Up {
                caller
                    .driver()
                    .indicate(&caller, Indication::Progress)
                    .await;
            }
        } else if options.ring_at_once {
            caller.driver().indicate(&caller, Indication::Ringing).await;
        }
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        // With music on hold, the callee's ringing and progress are not
        // passed on: the caller keeps hearing the music.
        let mut ringing_sent = options.ring_at_once || options.music.is_some();
        let mut live = legs.len();
        let winner = loop {
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = pbx.control.recv() => {
                    if let Err(HungUp(cause)) = frame {
                        for leg in legs.iter_mut().filter_map(Option::take) {
                            dial_end(&caller, &leg.channel, "CANCEL");
                            if let Some((channel, _, _)) = leg.take().await {
                                channel.hangup(Cause::NORMAL_CLEARING).await;
                            }
                        }
                        pbx.set("DIALSTATUS", "CANCEL");
                        return Err(AppError::HungUp(cause));
                    }
                }
                Some((index, frame)) = rx.recv() => {
                    let Some(Some(leg)) = legs.get(index) else { continue };
                    let channel = Arc::clone(&leg.channel);
                    match frame {
                        Ok(Control::Ringing) => {
                            caller.announce(ChannelEventKind::DialState {
                                dest: Arc::new(channel.snapshot()),
                                status: "RINGING".to_owned(),
                            });
                            if !ringing_sent {
                                ringing_sent = true;
                                caller.driver().indicate(&caller, Indication::Ringing).await;
                            }
                        }
                        Ok(Control::Progress) => {
                            if !ringing_sent && caller.state() != ChannelState::Up {
                                caller.driver().indicate(&caller, Indication::Progress).await;
                            }
                        }
                        Ok(Control::Answer) => break index,
                        Ok(Control::Busy) => best = if rank("BUSY") > rank(best) { "BUSY" } else { best },
                        Ok(Control::Congestion) => {
                            best = if rank("CONGESTION") > rank(best) { "CONGESTION" } else { best };
                        }
                        Ok(_) => {}
                        Err(HungUp(cause)) => {
                            let status = status_for(cause);
                            if rank(status) > rank(best) {
                                best = status;
                            }
                            dial_end(&caller, &channel, status);
                            if let Some(leg) = legs.get_mut(index).and_then(Option::take)
                                && let Some((channel, _, _)) = leg.take().await
                            {
                                channel.hangup(cause).await;
                            }
                            live -= 1;
                            if live == 0 {
                                pbx.set("DIALSTATUS", best);
                                set_times(pbx, started, None);
                                return Ok(());
                            }
                        }
                    }
                }
                () = sleep => {
                    tracing::info!(verbose = 3, "Nobody picked up in {} ms", timeout.map_or(0, |t| t.as_millis()));
                    for leg in legs.iter_mut().filter_map(Option::take) {
                        dial_end(&caller, &leg.channel, "NOANSWER");
                        if let Some((channel, _, _)) = leg.take().await {
                            channel.hangup(Cause::NO_ANSWER).await;
                        }
                    }
                    pbx.set("DIALSTATUS", "NOANSWER");
                    set_times(pbx, started, None);
                    return Ok(());
                }
            }
        };
        // The winner: the others are told someone else answered.
        for (i, slot) in legs.iter_mut().enumerate() {
            if i == winner {
                continue;
            }
            if let Some(leg) = slot.take() {
                dial_end(&caller, &leg.channel, "CANCEL");
                if let Some((channel, _, _)) = leg.take().await {
                    channel.hangup(Cause::ANSWERED_ELSEWHERE).await;
                }
            }
        }
        let Some(leg) = legs.get_mut(winner).and_then(Option::take) else {
            return Ok(());
        };
        let Some((callee, dialstring, callee_control)) = leg.take().await else {
            return Ok(());
        };
        tracing::info!(verbose = 3, "{} answered {}", callee.name(), caller.name());
        drop(music);
        caller.set_connected(callee.caller());
        dial_end(&caller, &callee, "ANSWER");
        if let Err(cause) = caller.answer().await {
            callee.hangup(Cause::NORMAL_CLEARING).await;
            return Err(AppError::Hangup(cause));
        }
        let answered = Instant::now();
        pbx.set("DIALSTATUS", "ANSWER");
        pbx.set("DIALEDPEERNAME", callee.name());
        pbx.set("DIALEDPEERNUMBER", &dialstring);
        bridged::talk(
            pbx,
            callee,
            callee_control,
            bridged::Talk {
                creator: "Dial",
                features: options.features,
                continue_after: options.continue_after,
            },
            |pbx| set_times(pbx, started, Some(answered)),
        )
        .await
    }
}

/// `DIALEDTIME`/`ANSWEREDTIME` in seconds and milliseconds.
fn set_times(pbx: &mut Pbx, started: Instant, answered: Option<Instant>) {
    let dialed = started.elapsed();
    pbx.set("DIALEDTIME", &dialed.as_secs().to_string());
    pbx.set("DIALEDTIME_MS", &dialed.as_millis().to_string());
    let talk = answered.map(|a| a.elapsed()).unwrap_or_default();
    pbx.set("ANSWEREDTIME", &talk.as_secs().to_string());
    pbx.set("ANSWEREDTIME_MS", &talk.as_millis().to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_statuses() {
        assert_eq!(
            parse_options("gr"),
            Options {
                continue_after: true,
                ring_at_once: true,
                music: None,
                features: BridgeFeatures::default(),
            }
        );
        assert_eq!(parse_options("L(60000)"), Options::default());
        let features = parse_options("tH").features;
        assert!(features.second.transfer && !features.second.disconnect);
        assert!(features.first.disconnect && !features.first.transfer);
        let features = parse_options("Th").features;
        assert!(features.first.transfer && features.second.disconnect);
        assert_eq!(parse_options("L(t)").features, BridgeFeatures::default());
        assert_eq!(parse_options("m").music, Some(None));
        assert_eq!(parse_options("m()").music, Some(None));
        assert_eq!(parse_options("tm(jazz)g").music, Some(Some("jazz".into())));
        assert!(parse_options("tm(jazz)g").continue_after);
        assert_eq!(parse_options("U(sub(a))m(x)").music, Some(Some("x".into())));
        assert_eq!(parse_options("L(m)").music, None);
        assert_eq!(status_for(Cause::USER_BUSY), "BUSY");
        assert_eq!(status_for(Cause::NO_ANSWER), "NOANSWER");
        assert_eq!(status_for(Cause::UNALLOCATED), "CHANUNAVAIL");
        assert!(rank("BUSY") > rank("CHANUNAVAIL"));
    }
}
