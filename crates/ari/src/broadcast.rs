//! `StasisBroadcast([timeout[,app_filter[,args[,notify_claimed]]]])`: offers
//! a channel to every connected application (or those whose name matches
//! `app_filter`) with `CallBroadcast`; the first to claim it
//! (`POST /events/claim`) wins and the channel enters `Stasis(winner)`
//! with `args` (colon-separated). Without a claim within `timeout` ms
//! (default 500, at most 60000) the dialplan goes on with
//! `STASISSTATUS=TIMEOUT`.
//!
//! A broadcast stays known until the winner's Stasis session ends, so that
//! late claimants learn they lost (409) rather than that there was nothing
//! to claim (404).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use obelus_apps::pbx::Pbx;
use obelus_apps::registry::{AppError, Application};
use tokio::sync::Notify;

use crate::error::AriError;
use crate::json::Payload;
use crate::stasis::Stasis;
use crate::state::Ari;

/// The default wait for a claim, ms.
const DEFAULT_TIMEOUT_MS: u64 = 500;
/// The longest wait allowed, ms.
const MAX_TIMEOUT_MS: u64 = 60_000;

/// One channel on offer.
#[derive(Debug, Default)]
struct Offer {
    winner: Mutex<Option<String>>,
    claimed: Notify,
}

/// The channels on offer, by uniqueid.
#[derive(Debug, Default)]
pub(crate) struct Broadcasts {
    offers: Mutex<HashMap<String, Arc<Offer>>>,
}

impl Broadcasts {
    fn insert(&self, uniqueid: &str) -> Arc<Offer> {
        let offer = Arc::new(Offer::default());
        self.offers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uniqueid.to_owned(), Arc::clone(&offer));
        offer
    }

    fn remove(&self, uniqueid: &str) {
        self.offers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(uniqueid);
    }

    /// Claims a channel for `app`: 404 if it is not on offer, 409 if
    /// another application was first.
    pub(crate) fn claim(&self, uniqueid: &str, app: &str) -> Result<(), AriError> {
        let offer = self
            .offers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(uniqueid)
            .cloned()
            .ok_or_else(|| AriError::not_found("Channel not found or not in broadcast state"))?;
        let mut winner = offer.winner.lock().unwrap_or_else(|e| e.into_inner());
        if winner.is_some() {
            return Err(AriError::conflict(
                "Channel has already been claimed by another application",
            ));
        }
        *winner = Some(app.to_owned());
        offer.claimed.notify_one();
        Ok(())
    }
}

/// The `StasisBroadcast` dialplan application.
pub struct StasisBroadcast {
    ari: Weak<Ari>,
}

impl StasisBroadcast {
    /// The application, offering channels to `ari`'s applications.
    pub fn new(ari: &Arc<Ari>) -> StasisBroadcast {
        StasisBroadcast {
            ari: Arc::downgrade(ari),
        }
    }
}

/// The arguments of one `StasisBroadcast()`.
#[derive(Debug)]
struct Options {
    timeout: Duration,
    filter: Option<regex::Regex>,
    args: Vec<String>,
    notify_claimed: bool,
}

impl Options {
    fn parse(args: &str) -> Result<Options, String> {
        let args = obelus_dialplan::args::standard_args(args);
        let arg = |i: usize| args.get(i).map(|a| a.trim()).filter(|a| !a.is_empty());
        let timeout = match arg(0) {
            Some(t) => t
                .parse::<u64>()
                .ok()
                .filter(|t| *t <= MAX_TIMEOUT_MS)
                .ok_or_else(|| format!("invalid timeout '{t}' (0 to {MAX_TIMEOUT_MS} ms)"))?,
            None => DEFAULT_TIMEOUT_MS,
        };
        let filter = arg(1)
            .map(|f| regex::Regex::new(f).map_err(|e| format!("invalid app_filter '{f}': {e}")))
            .transpose()?;
        let app_args = arg(2)
            .map(|a| a.split(':').map(str::to_owned).collect())
            .unwrap_or_default();
        let notify_claimed = arg(3)
            .map(|v| obelus_core::settings::parse_bool(v).unwrap_or(true))
            .unwrap_or(true);
        Ok(Options {
            timeout: Duration::from_millis(timeout),
            filter,
            args: app_args,
            notify_claimed,
        })
    }
}

#[async_trait]
impl Application for StasisBroadcast {
    fn name(&self) -> &'static str {
        "StasisBroadcast"
    }

    fn synopsis(&self) -> &'static str {
        "Broadcast a channel to multiple ARI applications for claiming."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let options = match Options::parse(args) {
            Ok(options) => options,
            Err(e) => {
                tracing::warn!("StasisBroadcast: {e}");
                pbx.channel.set_var("STASISSTATUS", "FAILED");
                return Ok(());
            }
        };
        let Some(ari) = self.ari.upgrade() else {
            pbx.channel.set_var("STASISSTATUS", "FAILED");
            return Ok(());
        };
        let channel = Arc::clone(&pbx.channel);
        let uniqueid = channel.uniqueid().to_owned();
        let apps: Vec<String> = ari
            .app_names()
            .into_iter()
            .filter(|a| options.filter.as_ref().is_none_or(|f| f.is_match(a)))
            .collect();
        let offer = ari.broadcasts.insert(&uniqueid);
        let broadcast = Payload::CallBroadcast {
            channel: ari.live_channel_json(&channel),
            caller: channel.caller().number,
            called: channel.location().1,
        };
        for app in &apps {
            ari.send_to(app, &broadcast);
        }
        let claimed = offer.claimed.notified();
        tokio::pin!(claimed);
        let outcome = tokio::select! {
            () = &mut claimed => Ok(true),
            waited = pbx.control.sleep(options.timeout) => waited.map(|()| false),
        };
        // A claim may land just as the wait ends: the winner decides.
        let winner = offer
            .winner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let result = match (outcome, winner) {
            (Err(hung_up), _) => Err(AppError::HungUp(hung_up.0)),
            (Ok(_), None) => {
                channel.set_var("STASISSTATUS", "TIMEOUT");
                Ok(())
            }
            (Ok(_), Some(winner)) => {
                if options.notify_claimed {
                    let claimed = Payload::CallClaimed {
                        channel: ari.live_channel_json(&channel),
                        winner_app: winner.clone(),
                    };
                    for app in &apps {
                        ari.send_to(app, &claimed);
                    }
                }
                let mut data = winner;
                for arg in &options.args {
                    data.push(',');
                    data.push_str(arg);
                }
                Stasis::new(&ari).exec(pbx, &data).await
            }
        };
        ari.broadcasts.remove(&uniqueid);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let o = Options::parse("").expect("defaults");
        assert_eq!(o.timeout, Duration::from_millis(500));
        assert!(o.filter.is_none() && o.args.is_empty() && o.notify_claimed);
        let o = Options::parse("2000,^ivr-.*,sales:priority-high,no").expect("parses");
        assert_eq!(o.timeout, Duration::from_secs(2));
        assert!(o.filter.as_ref().is_some_and(|f| f.is_match("ivr-1")));
        assert_eq!(o.args, vec!["sales", "priority-high"]);
        assert!(!o.notify_claimed);
        assert!(Options::parse("70000").is_err());
        assert!(Options::parse("100,(").is_err());
    }

    #[test]
    fn the_first_claim_wins() {
        let broadcasts = Broadcasts::default();
        assert_eq!(
            broadcasts
                .claim("1.1", "a")
                .expect_err("nothing on offer")
                .status,
            axum::http::StatusCode::NOT_FOUND
        );
        broadcasts.insert("1.1");
        broadcasts.claim("1.1", "a").expect("first");
        assert_eq!(
            broadcasts.claim("1.1", "b").expect_err("second").status,
            axum::http::StatusCode::CONFLICT
        );
        broadcasts.remove("1.1");
        assert_eq!(
            broadcasts.claim("1.1", "b").expect_err("gone").status,
            axum::http::StatusCode::NOT_FOUND
        );
    }
}
