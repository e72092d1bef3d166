//! Qualify: OPTIONS pings to the contacts of every AOR with
//! `qualify_frequency > 0` (Asterisk's res_pjsip pjsip_options). A contact
//! that answers within `qualify_timeout` is Reachable, with its round trip;
//! one that does not is Unreachable. Changes are `ContactStatus` events.
//!
//! Each ping is an RFC 3261 non-INVITE client transaction (retransmissions
//! by Timer E over UDP, [`crate::uac`]); responses reach it through the
//! stack (`StackSink`). It leaves as any request of ours does
//! (`route::route_request`): down the connection a TCP, TLS or WebSocket
//! contact registered over, or a new connection, or UDP; a contact that
//! registered through a proxy (RFC 3327 Path) is pinged through it, the
//! path as Route headers ([`crate::path`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::uac::Pending;
use obelus_core::events::Event;
use obelus_sip::{Method, RequestBuilder, new_branch, new_call_id, new_tag};
use obelus_sorcery::Object;
use obelus_transport::Reply;
use tokio::sync::mpsc;

use crate::route::Route;
use crate::stack::Shared;

/// At most this many of a contact's addresses are pinged in one qualify.
const MAX_TARGETS: usize = 4;

/// How often the schedule is looked at.
const TICK: Duration = Duration::from_secs(1);

/// How often the list of AORs to qualify is read again: reading every AOR
/// each tick cost a full table read per second with realtime AORs (and
/// a walk over tens of thousands of objects with file ones) for the few
/// that qualify. A new or changed AOR starts qualifying within this time.
const RESCAN: Duration = Duration::from_secs(15);

/// The last qualify result of each contact (by id): reachable, and the
/// round trip. One table per process, as the SIP stack is (Asterisk's
/// contact status container); read by `pjsip show contacts`.
static RESULTS: std::sync::LazyLock<Mutex<HashMap<String, QualifyResult>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

/// Reachable, and the measured round trip.
pub type QualifyResult = (bool, Option<Duration>);

/// The last result for a contact: `None` if it is not qualified (yet).
pub fn result_of(contact_id: &str) -> Option<QualifyResult> {
    RESULTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(contact_id)
        .copied()
}

/// AORs whose contacts are to be pinged at the next tick whatever their
/// `qualify_frequency` (AMI `PJSIPQualify`).
static REQUESTED: std::sync::LazyLock<Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(|| Mutex::new(std::collections::HashSet::new()));

/// Asks for the contacts of these AORs to be qualified now (within a
/// second), even if they are not qualified periodically; results come as
/// `ContactStatus` events and in [`result_of`].
pub fn qualify_now(aors: impl IntoIterator<Item = String>) {
    REQUESTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(aors);
}

/// AORs that got a new contact since the last tick: one the last scan did
/// not see as qualifying is looked up again, so a phone registering to an
/// AOR just added to the database is qualified at once, not at the next
/// scan.
static NEW_CONTACTS: std::sync::LazyLock<Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(|| Mutex::new(std::collections::HashSet::new()));

/// Tells qualify that `aor` has a new contact (the registrar calls it).
pub(crate) fn contact_created(aor: &str) {
    let mut new = NEW_CONTACTS.lock().unwrap_or_else(|e| e.into_inner());
    if !new.contains(aor) {
        new.insert(aor.to_owned());
    }
}

/// The outcome of one ping.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Reachable(Duration),
    Unreachable,
}

struct Known {
    reachable: Option<bool>,
    next: Instant,
}

/// Starts the qualify loop of the stack.
pub(crate) fn spawn(shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (core, sorcery) = (Arc::clone(&shared.core), Arc::clone(&shared.sorcery));
        let mut known: HashMap<String, Known> = HashMap::new();
        let (done_tx, mut done_rx) =
            mpsc::unbounded_channel::<(String, String, String, String, Outcome)>();
        let mut tick = tokio::time::interval(TICK);
        let mut qualifying: Vec<Arc<Object>> = Vec::new();
        let mut scanned: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                Some((id, uri, aor, endpoint, outcome)) = done_rx.recv() => {
                    let rtt = match outcome {
                        Outcome::Reachable(rtt) => Some(rtt),
                        Outcome::Unreachable => None,
                    };
                    RESULTS
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id.clone(), (rtt.is_some(), rtt));
                    let entry = known.entry(id).or_insert(Known { reachable: None, next: Instant::now() });
                    let reachable = matches!(outcome, Outcome::Reachable(_));
                    let roundtrip_usec = match outcome {
                        Outcome::Reachable(rtt) => Some(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX)),
                        Outcome::Unreachable => None,
                    };
                    if entry.reachable != Some(reachable) {
                        entry.reachable = Some(reachable);
                        let status = if reachable { "Reachable" } else { "Unreachable" };
                        tracing::info!(verbose = 3, "Contact {aor}/{uri} is now {status}");
                        core.events.publish(Event::ContactStatus { uri, status, aor, endpoint, roundtrip_usec });
                    }
                    continue;
                }
            }
            let Some(store) = sorcery.get() else { continue };
            let now = Instant::now();
            if scanned.is_none_or(|at| now.duration_since(at) >= RESCAN) {
                let Ok(aors) = store.retrieve_all("aor").await else {
                    continue;
                };
                qualifying = aors
                    .into_iter()
                    .filter(|aor| aor.uint("qualify_frequency").unwrap_or(0) > 0)
                    .collect();
                scanned = Some(now);
            }
            let fresh =
                std::mem::take(&mut *NEW_CONTACTS.lock().unwrap_or_else(|e| e.into_inner()));
            for id in fresh {
                if !qualifying.iter().any(|aor| aor.id() == id)
                    && let Ok(Some(aor)) = store.retrieve_by_id("aor", &id).await
                    && aor.uint("qualify_frequency").unwrap_or(0) > 0
                {
                    qualifying.push(aor);
                }
            }
            let requested =
                std::mem::take(&mut *REQUESTED.lock().unwrap_or_else(|e| e.into_inner()));
            let mut aors = qualifying.clone();
            for id in &requested {
                if !aors.iter().any(|aor| aor.id() == id)
                    && let Ok(Some(aor)) = store.retrieve_by_id("aor", id).await
                {
                    aors.push(aor);
                }
            }
            for aor in aors {
                let frequency = aor.uint("qualify_frequency").unwrap_or(0);
                let forced = requested.contains(aor.id());
                if frequency == 0 && !forced {
                    continue;
                }
                let timeout = Duration::from_secs_f64(
                    aor.float("qualify_timeout").unwrap_or(3.0).clamp(0.1, 60.0),
                );
                let Ok(contacts) = store
                    .retrieve_by_prefix("contact", &format!("{};@", aor.id()))
                    .await
                else {
                    continue;
                };
                for contact in contacts {
                    let entry = known.entry(contact.id().to_owned()).or_insert(Known {
                        reachable: None,
                        next: now,
                    });
                    if entry.next > now && !forced {
                        continue;
                    }
                    entry.next = now + Duration::from_secs(frequency);
                    let job = Ping::of(&contact, aor.id(), timeout);
                    let (shared, done) = (Arc::clone(&shared), done_tx.clone());
                    tokio::spawn(async move {
                        let Some(job) = job else { return };
                        let outcome = job.qualify(&shared).await;
                        let _ = done.send((job.id, job.uri, job.aor, job.endpoint, outcome));
                    });
                }
            }
        }
    })
}

struct Ping {
    id: String,
    uri: String,
    /// The contact's Path (RFC 3327), empty for none.
    path: String,
    aor: String,
    endpoint: String,
    timeout: Duration,
}

impl Ping {
    /// A ping for a contact (its URI may name an address or a host).
    fn of(contact: &Object, aor: &str, timeout: Duration) -> Option<Self> {
        Some(Self {
            id: contact.id().to_owned(),
            uri: contact.str("uri")?.to_owned(),
            path: contact.str("path").unwrap_or("").to_owned(),
            aor: aor.to_owned(),
            endpoint: contact.str("endpoint").unwrap_or("").to_owned(),
            timeout,
        })
    }

    /// Pings the contact where its route leads (for UDP, the RFC 3263
    /// targets in turn until one answers): reachable if any does.
    async fn qualify(&self, shared: &Shared) -> Outcome {
        let endpoint = match shared.sorcery.get() {
            Some(sorcery) if !self.endpoint.is_empty() => sorcery
                .retrieve_by_id("endpoint", &self.endpoint)
                .await
                .ok()
                .flatten(),
            _ => None,
        };
        let mut route =
            match crate::path::route(shared, &self.uri, &self.path, endpoint.as_deref()).await {
                Ok(route) => route,
                Err(why) => {
                    tracing::warn!(
                        "PJSIP: cannot qualify contact '{}' of AOR '{}': {why}",
                        self.uri,
                        self.aor
                    );
                    return Outcome::Unreachable;
                }
            };
        let alternates = std::mem::take(&mut route.alternates);
        let mut outcome = self.run(&shared.pending, &route).await;
        for next in alternates.into_iter().take(MAX_TARGETS - 1) {
            if matches!(outcome, Outcome::Reachable(_)) {
                break;
            }
            let Reply::Udp { peer, .. } = &mut route.reply else {
                break;
            };
            *peer = next;
            tracing::info!(
                verbose = 3,
                "Contact {}/{}: trying the next target {next}",
                self.aor,
                self.uri
            );
            outcome = self.run(&shared.pending, &route).await;
        }
        outcome
    }

    async fn run(&self, pending: &Pending, route: &Route) -> Outcome {
        let uri = crate::symmetric::on_the_wire(&self.uri);
        let mut request = RequestBuilder::new(Method::Options, uri.as_ref()).header(
            "Via",
            format!("SIP/2.0/{};rport;branch={}", route.via, new_branch()),
        );
        for hop in crate::path::route_set(&self.path) {
            request = request.header("Route", hop);
        }
        let request = request
            .header(
                "From",
                format!("<sip:obelus@{}>;tag={}", route.sip_host, new_tag()),
            )
            .header("To", format!("<{uri}>"))
            .header("Call-ID", new_call_id(None))
            .header("CSeq", "1 OPTIONS")
            .header("Max-Forwards", "70")
            .header("User-Agent", obelus_core::USER_AGENT)
            .build();
        let Ok(request) = request else {
            return Outcome::Unreachable;
        };
        let started = Instant::now();
        // Any final response proves the contact is there.
        match crate::uac::non_invite(
            &route.reply,
            route.reliable,
            pending,
            request,
            Some(started + self.timeout),
        )
        .await
        {
            Ok(_) => Outcome::Reachable(started.elapsed()),
            Err(_) => Outcome::Unreachable,
        }
    }
}
