//! Call parking (`res_parking.so`): parking lots from `res_parking.conf`
//! whose slots hold calls on music on hold until someone picks them up
//! (`ParkedCall(lot,slot)`, or dialling the slot) or their `parkingtime`
//! runs out and they come back to whoever parked them.
//!
//! - [`config`]: the file; [`slots`]: which slot a new call gets.
//! - [`Parking`] is the service: [`Parking::reserve`] gives a call a slot,
//!   [`Space::hold`] keeps it there on a task of its own (the task owns
//!   the channel's mailbox), [`Parking::retrieve`] hands the mailbox to a
//!   retriever. Each step is a bus event (`ParkedCall`,
//!   `ParkedCallTimeOut`, `ParkedCallGiveUp`, `UnParkedCall` on AMI).
//! - [`ParkingModule`] loads it, creates the lots' extensions in their
//!   contexts (the parking extension runs `Park`, each slot `ParkedCall`)
//!   and provides `parking show`.
//!
//! A call that times out goes, as Asterisk sends it: with
//! `comebacktoorigin`, to `park-dial` at the parker's flattened device
//! (`PJSIP_alice`), where an extension dials that device for
//! `comebackdialtime` seconds; otherwise to `comebackcontext` at that
//! extension, or `s`. `PARKINGSLOT`, `PARKEDLOT`, `PARKER` and
//! `PARKER_FLAT` are set on it first.

pub mod config;
mod module;
pub mod slots;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use obelus_core::Core;
use obelus_core::channel::{Cause, Channel, ControlReceiver, HungUp, Indication};
use obelus_core::events::{Event, ParkingEvent, ParkingEventKind};
use tokio::sync::oneshot;

pub use config::{DEFAULT_LOT, LotConfig, ParkingConfig};
pub use module::ParkingModule;
use slots::Slots;

/// The context a timed-out call is sent to with `comebacktoorigin`.
pub const PARK_DIAL: &str = "park-dial";

/// The context AMI `Park` sends a channel to: `s` runs `Park` with the
/// options in `PARK_AMI_OPTIONS` (an Obelus addition: Asterisk parks from
/// the action directly).
pub const PARK_AMI: &str = "park-ami";

/// How long a retriever waits for the parked call's task to let go.
const HANDOVER_WAIT: Duration = Duration::from_secs(5);

/// Why a call could not be parked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParkError {
    /// No lot of that name.
    #[error("no parking lot named '{0}'")]
    NoLot(String),
    /// Every slot (or the one asked for) is taken.
    #[error("no free parking space in lot '{0}'")]
    Full(String),
}

/// How a call is to be parked (`Park()`'s options, AMI `Park`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParkRequest {
    /// The lot (else `PARKINGLOT`, else `default`).
    pub lot: Option<String>,
    /// A slot wished for (`PARKINGEXTEN`, AMI `ParkingSpace`).
    pub slot: Option<u32>,
    /// Instead of the lot's `parkingtime`.
    pub timeout: Option<Duration>,
    /// `Park(...,c(context)e(exten)n(priority))`: where a timeout goes
    /// instead of the parker.
    pub comeback: Option<(String, String, i32)>,
    /// `r`: the parked call hears ringing instead of music.
    pub ringing: bool,
}

/// One parked call.
struct Parked {
    channel: Arc<Channel>,
    parker: Option<Arc<Channel>>,
    parker_dial: String,
    since: Instant,
    timeout: Duration,
    /// Asks the holding task for the mailbox; `None` until it runs.
    retrieve: Option<oneshot::Sender<oneshot::Sender<ControlReceiver>>>,
}

/// A lot in use.
struct Lot {
    config: Arc<LotConfig>,
    slots: Slots,
    parked: BTreeMap<u32, Parked>,
}

impl Lot {
    fn new(config: LotConfig) -> Lot {
        Lot {
            slots: Slots::new(config.start, config.stop, config.find_slot),
            config: Arc::new(config),
            parked: BTreeMap::new(),
        }
    }
}

#[derive(Default)]
struct State {
    config: Arc<ParkingConfig>,
    lots: HashMap<String, Lot>,
    /// `park-dial` extensions made for comebacks: flat name -> device.
    comebacks: BTreeMap<String, String>,
}

/// The parking service.
pub struct Parking {
    core: Weak<Core>,
    state: Mutex<State>,
}

/// A parked call as reports show it: the `ParkedCall` event it would be.
pub type ParkedInfo = ParkingEvent;

/// A slot taken for a call, not yet held: [`Space::hold`] starts holding
/// the call; dropping it frees the slot.
pub struct Space {
    parking: Arc<Parking>,
    lot: Arc<LotConfig>,
    slot: u32,
    request: ParkRequest,
    held: bool,
}

impl Space {
    /// The slot.
    pub fn slot(&self) -> u32 {
        self.slot
    }

    /// The lot.
    pub fn lot(&self) -> &LotConfig {
        &self.lot
    }

    /// Holds the call of `control` in the slot on a task of its own:
    /// music on hold (or ringing), `ParkedCall` published, until it is
    /// retrieved, hangs up or times out.
    pub fn hold(mut self, control: ControlReceiver) {
        self.held = true;
        let (tx, rx) = oneshot::channel();
        let event = {
            let mut state = self.parking.lock();
            let Some(parked) = state
                .lots
                .get_mut(&self.lot.name)
                .and_then(|l| l.parked.get_mut(&self.slot))
            else {
                // The lot let go of the slot meanwhile: nobody can hold
                // the call.
                let channel = Arc::clone(control.channel());
                tokio::spawn(async move { channel.hangup(Cause::NORMAL_CLEARING).await });
                return;
            };
            parked.retrieve = Some(tx);
            event(ParkingEventKind::Parked, &self.lot, self.slot, parked)
        };
        if let Some(core) = self.parking.core.upgrade() {
            core.events.publish(Event::Parking(event));
        }
        let parking = Arc::clone(&self.parking);
        let (lot, slot, request) = (Arc::clone(&self.lot), self.slot, self.request.clone());
        tokio::spawn(async move { parking.held(lot, slot, request, control, rx).await });
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        if !self.held {
            self.parking.free(&self.lot.name, self.slot);
        }
    }
}

/// The event of `kind` for the call in `slot` of `lot`.
fn event(kind: ParkingEventKind, lot: &LotConfig, slot: u32, parked: &Parked) -> ParkingEvent {
    ParkingEvent {
        kind,
        parkee: Arc::new(parked.channel.snapshot()),
        parker: parked.parker.as_ref().map(|p| Arc::new(p.snapshot())),
        parker_dial_string: parked.parker_dial.clone(),
        lot: lot.name.clone(),
        space: slot,
        timeout: parked.timeout.as_secs(),
        duration: parked.since.elapsed().as_secs(),
    }
}

/// A channel's device: its name without the `-sequence` suffix
/// (`PJSIP/alice-00000001` is `PJSIP/alice`).
pub fn device_of(name: &str) -> &str {
    match name.rfind('-') {
        Some(i) if i > name.find('/').unwrap_or(0) => &name[..i],
        _ => name,
    }
}

/// A device as an extension name, as Asterisk flattens it: `/` becomes
/// `_` (`PJSIP_alice`).
pub fn flatten(device: &str) -> String {
    device.replace('/', "_")
}

impl Parking {
    /// A service for `core` with `config`.
    pub fn new(core: &Arc<Core>, config: ParkingConfig) -> Arc<Parking> {
        let parking = Arc::new(Parking {
            core: Arc::downgrade(core),
            state: Mutex::new(State::default()),
        });
        parking.configure(config);
        parking
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a (re)loaded configuration: lots keep their parked calls
    /// and the slots those hold.
    pub fn configure(&self, config: ParkingConfig) {
        let mut state = self.lock();
        let mut lots = HashMap::new();
        for lot_config in &config.lots {
            let mut lot = Lot::new(lot_config.clone());
            if let Some(old) = state.lots.remove(&lot_config.name) {
                lot.slots.keep(&old.slots);
                lot.parked = old.parked;
            }
            lots.insert(lot_config.name.clone(), lot);
        }
        // A lot gone from the file stays while calls are parked in it.
        for (name, old) in state.lots.drain() {
            if !old.parked.is_empty() {
                lots.insert(name, old);
            }
        }
        state.lots = lots;
        state.config = Arc::new(config);
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<ParkingConfig> {
        Arc::clone(&self.lock().config)
    }

    /// The dialplan lines the lots and the comebacks need.
    pub fn dialplan(&self) -> Vec<obelus_dialplan::OwnedEntry> {
        let state = self.lock();
        let mut lines = state.config.dialplan();
        let mut line = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        line = line.saturating_add(1);
        lines.push(obelus_dialplan::OwnedEntry {
            category: PARK_AMI.to_owned(),
            name: "exten".to_owned(),
            value: "s,1,Park(,${PARK_AMI_OPTIONS})".to_owned(),
            line,
        });
        for (flat, device) in &state.comebacks {
            let dial_time = state
                .config
                .lots
                .first()
                .map_or(30, |l| l.comeback_dial_time);
            line = line.saturating_add(1);
            lines.push(obelus_dialplan::OwnedEntry {
                category: PARK_DIAL.to_owned(),
                name: "exten".to_owned(),
                value: format!("{flat},1,Dial({device},{dial_time})"),
                line,
            });
        }
        lines
    }

    /// Takes a slot for `parkee`, parked by `parker` (itself when it
    /// parks itself with `Park()`). `PARKINGSLOT` is set on both.
    pub fn reserve(
        self: &Arc<Self>,
        parkee: &Arc<Channel>,
        parker: Option<&Arc<Channel>>,
        request: ParkRequest,
    ) -> Result<Space, ParkError> {
        let lot_name = request
            .lot
            .clone()
            .filter(|l| !l.is_empty())
            .or_else(|| parkee.var("PARKINGLOT").filter(|l| !l.is_empty()))
            .unwrap_or_else(|| DEFAULT_LOT.to_owned());
        let wanted = request.slot.or_else(|| {
            parkee
                .var("PARKINGEXTEN")
                .and_then(|s| s.trim().parse().ok())
        });
        let mut state = self.lock();
        let Some(lot) = state.lots.get_mut(&lot_name) else {
            return Err(ParkError::NoLot(lot_name));
        };
        let Some(slot) = lot.slots.take(wanted) else {
            return Err(ParkError::Full(lot_name));
        };
        let parker = parker.cloned();
        let parker_dial = device_of(parker.as_ref().unwrap_or(parkee).name()).to_owned();
        lot.parked.insert(
            slot,
            Parked {
                channel: Arc::clone(parkee),
                parker: parker.clone(),
                parker_dial,
                since: Instant::now(),
                timeout: request.timeout.unwrap_or(lot.config.parking_time),
                retrieve: None,
            },
        );
        let lot = Arc::clone(&lot.config);
        drop(state);
        tracing::info!(
            verbose = 3,
            "Parked {} on {slot}@{}",
            parkee.name(),
            lot.name
        );
        for channel in std::iter::once(parkee).chain(parker.as_ref()) {
            channel.set_var("PARKINGSLOT", &slot.to_string());
            channel.set_var("PARKEDLOT", &lot.name);
        }
        Ok(Space {
            parking: Arc::clone(self),
            lot,
            slot,
            request,
            held: false,
        })
    }

    fn free(&self, lot: &str, slot: u32) -> Option<Parked> {
        let mut state = self.lock();
        let lot = state.lots.get_mut(lot)?;
        lot.slots.release(slot);
        lot.parked.remove(&slot)
    }

    /// Takes the call parked in `slot` of `lot` (the first parked one
    /// without a slot) out for `retriever`: its mailbox, once its task let
    /// go, and the slot. `UnParkedCall` is published.
    pub async fn retrieve(
        &self,
        lot: &str,
        slot: Option<u32>,
        retriever: &Arc<Channel>,
    ) -> Option<(ControlReceiver, u32)> {
        let (parked, slot, event) = {
            let mut state = self.lock();
            let lot_state = state.lots.get_mut(lot)?;
            let slot = match slot {
                Some(slot) => slot,
                None => *lot_state.parked.keys().next()?,
            };
            // A call whose task has not started yet cannot be handed over.
            lot_state.parked.get(&slot)?.retrieve.as_ref()?;
            let parked = lot_state.parked.remove(&slot)?;
            lot_state.slots.release(slot);
            let event = event(
                ParkingEventKind::Unparked {
                    retriever: Arc::new(retriever.snapshot()),
                },
                &lot_state.config,
                slot,
                &parked,
            );
            (parked, slot, event)
        };
        let (reply, answer) = oneshot::channel();
        parked.retrieve?.send(reply).ok()?;
        let control = tokio::time::timeout(HANDOVER_WAIT, answer)
            .await
            .ok()?
            .ok()?;
        if let Some(core) = self.core.upgrade() {
            core.events.publish(Event::Parking(event));
        }
        Some((control, slot))
    }

    /// The parked calls, of one lot or all, by lot and slot.
    pub fn parked(&self, lot: Option<&str>) -> Vec<ParkedInfo> {
        let state = self.lock();
        let mut lots: Vec<&Lot> = state
            .lots
            .values()
            .filter(|l| lot.is_none_or(|name| l.config.name == name))
            .collect();
        lots.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        lots.iter()
            .flat_map(|l| {
                l.parked
                    .iter()
                    .map(|(slot, p)| event(ParkingEventKind::Parked, &l.config, *slot, p))
            })
            .collect()
    }

    /// The lots, `default` first.
    pub fn lots(&self) -> Vec<Arc<LotConfig>> {
        let state = self.lock();
        let mut lots: Vec<Arc<LotConfig>> =
            state.lots.values().map(|l| Arc::clone(&l.config)).collect();
        lots.sort_by(|a, b| {
            (a.name != DEFAULT_LOT, &a.name).cmp(&(b.name != DEFAULT_LOT, &b.name))
        });
        lots
    }

    /// The task holding a parked call.
    async fn held(
        self: Arc<Self>,
        lot: Arc<LotConfig>,
        slot: u32,
        request: ParkRequest,
        mut control: ControlReceiver,
        mut retrieve: oneshot::Receiver<oneshot::Sender<ControlReceiver>>,
    ) {
        let channel = Arc::clone(control.channel());
        let Some(core) = self.core.upgrade() else {
            return;
        };
        if request.ringing {
            channel
                .driver()
                .indicate(&channel, Indication::Ringing)
                .await;
        } else {
            let class = (!lot.music_class.is_empty()).then_some(lot.music_class.as_str());
            crate::moh::start(&core, &channel, class);
        }
        let timeout = request.timeout.unwrap_or(lot.parking_time);
        let deadline = (!timeout.is_zero()).then(|| tokio::time::Instant::now() + timeout);
        let mut timed_out = false;
        loop {
            let sleep = async {
                match deadline {
                    Some(d) if !timed_out => tokio::time::sleep_until(d).await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = control.recv() => {
                    // Keys and the like mean nothing to a parked call.
                    if let Err(HungUp(cause)) = frame {
                        if let Some(parked) = self.free(&lot.name, slot) {
                            core.events.publish(Event::Parking(event(ParkingEventKind::GiveUp, &lot, slot, &parked)));
                        }
                        crate::moh::stop(&core, &channel);
                        channel.hangup(cause).await;
                        return;
                    }
                }
                asked = &mut retrieve => {
                    crate::moh::stop(&core, &channel);
                    if let Ok(reply) = asked
                        && let Err(control) = reply.send(control)
                    {
                        // The retriever gave up waiting: the call is dropped.
                        control.channel().hangup(Cause::NORMAL_CLEARING).await;
                    }
                    return;
                }
                () = sleep => {
                    timed_out = true;
                    // Taken by a retriever meanwhile: its request comes next.
                    let Some(parked) = self.free(&lot.name, slot) else { continue };
                    core.events.publish(Event::Parking(event(ParkingEventKind::TimeOut, &lot, slot, &parked)));
                    crate::moh::stop(&core, &channel);
                    self.come_back(&core, &lot, slot, &parked, &request, control);
                    return;
                }
            }
        }
    }

    /// Sends a timed-out call where it goes back to, in a dialplan run of
    /// its own.
    fn come_back(
        &self,
        core: &Arc<Core>,
        lot: &LotConfig,
        slot: u32,
        parked: &Parked,
        request: &ParkRequest,
        control: ControlReceiver,
    ) {
        let channel = Arc::clone(control.channel());
        let flat = flatten(&parked.parker_dial);
        for (name, value) in [
            ("PARKINGSLOT", slot.to_string()),
            ("PARKEDLOT", lot.name.clone()),
            ("PARKER", parked.parker_dial.clone()),
            ("PARKER_FLAT", flat.clone()),
        ] {
            channel.set_var(name, &value);
        }
        let (context, exten, priority) = match &request.comeback {
            Some(target) => target.clone(),
            None if lot.comeback_to_origin && !flat.is_empty() => {
                let added = self
                    .lock()
                    .comebacks
                    .insert(flat.clone(), parked.parker_dial.clone())
                    .is_none();
                if added {
                    self.publish_dialplan(core);
                }
                (PARK_DIAL.to_owned(), flat, 1)
            }
            None => (lot.comeback_context.clone(), flat, 1),
        };
        tracing::info!(
            verbose = 3,
            "Parked call {} timed out; going to {exten}@{context}:{priority}",
            channel.name()
        );
        channel.set_location(&context, &exten, priority);
        channel.return_control(control);
        match core.channels.pbx() {
            Some(pbx) => pbx.start(channel),
            None => {
                tokio::spawn(async move { channel.hangup(Cause::NORMAL_CLEARING).await });
            }
        }
    }

    /// Puts the lots' extensions (and the comebacks') into the dialplan.
    pub fn publish_dialplan(&self, core: &Core) {
        let Some(dialplan) = core.service::<obelus_dialplan::module::DialplanService>() else {
            tracing::warn!("res_parking: no dialplan to create the parking extensions in");
            return;
        };
        for problem in dialplan.set_generated("res_parking", self.dialplan()) {
            tracing::warn!("res_parking: {}", problem.kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_their_flat_names() {
        assert_eq!(device_of("PJSIP/alice-00000001"), "PJSIP/alice");
        assert_eq!(device_of("PJSIP/my-phone-0000002a"), "PJSIP/my-phone");
        assert_eq!(device_of("Local/700@test-00000003;2"), "Local/700@test");
        assert_eq!(device_of("PJSIP/alice"), "PJSIP/alice");
        assert_eq!(flatten("PJSIP/alice"), "PJSIP_alice");
        assert_eq!(flatten("Local/700@test"), "Local_700@test");
    }
}
