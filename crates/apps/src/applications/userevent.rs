//! `UserEvent(eventname[,key1: value1[,key2: value2...]])`: publishes a
//! custom event (AMI `UserEvent`) (`app_userevent.c`).

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_core::events::Event;
use obelus_dialplan::args::standard_args;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `UserEvent`.
pub struct UserEvent;

/// The headers of `key: value` arguments (others are skipped; a repeated
/// key keeps its place and takes the last value).
fn headers(extra: &[String]) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for item in extra {
        let Some((key, value)) = item.split_once(':') else {
            continue;
        };
        let value = value.trim().to_owned();
        match headers.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value,
            None => headers.push((key.to_owned(), value)),
        }
    }
    headers
}

#[async_trait]
impl Application for UserEvent {
    fn name(&self) -> &'static str {
        "UserEvent"
    }

    fn synopsis(&self) -> &'static str {
        "Send an arbitrary user-defined event to parties interested in a channel (AMI users and relevant res_stasis applications)."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if args.is_empty() {
            tracing::warn!("UserEvent requires an argument (eventname,optional event body)");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
        let args = standard_args(args);
        let Some((name, extra)) = args.split_first() else {
            return Ok(());
        };
        pbx.core().events.publish(Event::User {
            name: name.clone(),
            headers: headers(extra),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use obelus_core::events::Event;

    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn publishes_the_event() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,UserEvent(Alarm,Zone: 4,Level:  high ,junk,Zone: 5)\n same => n,UserEvent()\n same => n,Set(AFTER=1)\n",
        );
        let mut events = core.events.subscribe();
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None, "an empty UserEvent() hangs up");
        let mut found = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let Event::User { name, headers } = event.as_ref() {
                found.push((name.clone(), headers.clone()));
            }
        }
        assert_eq!(
            found,
            vec![(
                "Alarm".to_owned(),
                vec![
                    ("Zone".to_owned(), "5".to_owned()),
                    ("Level".to_owned(), "high".to_owned())
                ]
            )]
        );
    }
}
