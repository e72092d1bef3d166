//! Originate (AMI `Originate`, ARI `POST /channels`, `channel originate`):
//! call a dial string, and once it answers send it into the dialplan or an
//! application.

use std::sync::Arc;
use std::time::Duration;

use obelus_core::channel::{Cause, Channel, Control, HungUp, Party};

use crate::pbx::{Executor, Pbx};

/// Where the answered channel goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The dialplan at `exten@context`, from `priority` (a number or label).
    Extension {
        /// Context.
        context: String,
        /// Extension.
        exten: String,
        /// Priority or label.
        priority: String,
    },
    /// One application with its arguments (`Playback`, `Stasis`).
    Application {
        /// The application.
        app: String,
        /// Its arguments.
        data: String,
    },
}

/// A request to originate.
#[derive(Debug, Clone)]
pub struct Originate {
    /// `PJSIP/102`.
    pub dialstring: String,
    /// Where the answered channel goes.
    pub destination: Destination,
    /// How long to ring.
    pub timeout: Duration,
    /// The caller id to present.
    pub caller: Option<Party>,
    /// Channel variables to set before dialing.
    pub variables: Vec<(String, String)>,
    /// `CHANNEL(accountcode)`.
    pub account: Option<String>,
}

/// Why an originate failed, with AMI's `OriginateResponse` reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The hangup cause.
    pub cause: Cause,
    /// `Reason`: 0 no channel, 1 hung up, 3 no answer, 5 busy, 8 congestion.
    pub reason: u8,
}

/// Calls `request.dialstring`; on answer starts the destination in a task
/// of its own and returns the channel. Waits at most `request.timeout` for
/// the answer.
pub async fn originate(
    executor: &Arc<Executor>,
    request: Originate,
) -> Result<Arc<Channel>, Failure> {
    let channels = Arc::clone(&executor.core.channels);
    let channel = channels
        .request(&request.dialstring, None)
        .await
        .map_err(|cause| Failure { cause, reason: 0 })?;
    for (name, value) in &request.variables {
        executor.set(Some(&channel), name, value);
    }
    if let Some(caller) = request.caller {
        // Shown on the channel and presented to whoever it calls.
        channel.set_caller(caller.clone());
        channel.set_connected(caller);
    }
    if let Some(account) = &request.account {
        channel.set_accountcode(account);
    }
    let Some(mut control) = channel.take_control() else {
        return Err(Failure {
            cause: Cause::FAILURE,
            reason: 0,
        });
    };
    if let Err(cause) = channel.driver().call(&channel).await {
        channel.hangup(cause).await;
        return Err(Failure { cause, reason: 0 });
    }
    let deadline = tokio::time::Instant::now() + request.timeout;
    let mut busy = None;
    let outcome = loop {
        tokio::select! {
            frame = control.recv() => match frame {
                Ok(Control::Answer) => break Ok(()),
                Ok(Control::Busy) => busy = Some(Failure { cause: Cause::USER_BUSY, reason: 5 }),
                Ok(Control::Congestion) => busy = Some(Failure { cause: Cause::CONGESTION, reason: 8 }),
                Ok(_) => {}
                Err(HungUp(cause)) => {
                    break Err(busy.unwrap_or(match cause {
                        Cause::USER_BUSY => Failure { cause, reason: 5 },
                        Cause::CONGESTION => Failure { cause, reason: 8 },
                        Cause::NO_ANSWER | Cause::NO_USER_RESPONSE => Failure { cause, reason: 3 },
                        _ => Failure { cause, reason: 1 },
                    }));
                }
            },
            () = tokio::time::sleep_until(deadline) => {
                break Err(Failure { cause: Cause::NO_ANSWER, reason: 3 });
            }
        }
    };
    if let Err(failure) = outcome {
        channel.hangup(failure.cause).await;
        return Err(failure);
    }
    channel.return_control(control);
    match request.destination {
        Destination::Extension {
            context,
            exten,
            priority,
        } => {
            let number = priority.parse::<i32>().unwrap_or(1);
            channel.set_location(&context, &exten, number);
            let Some(mut pbx) = Pbx::new(Arc::clone(executor), Arc::clone(&channel)) else {
                return Err(Failure {
                    cause: Cause::FAILURE,
                    reason: 0,
                });
            };
            if priority.parse::<i32>().is_err()
                && pbx.jump(&context, &exten, &priority).await.is_err()
            {
                channel.hangup(Cause::NORMAL_CLEARING).await;
                return Err(Failure {
                    cause: Cause::NORMAL_CLEARING,
                    reason: 0,
                });
            }
            tokio::spawn(crate::pbx::run(pbx));
        }
        Destination::Application { app, data } => {
            let Some(pbx) = Pbx::new(Arc::clone(executor), Arc::clone(&channel)) else {
                return Err(Failure {
                    cause: Cause::FAILURE,
                    reason: 0,
                });
            };
            tokio::spawn(crate::pbx::run_application(pbx, app, data));
        }
    }
    Ok(channel)
}
