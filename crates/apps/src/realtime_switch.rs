//! `switch => Realtime/[context][@family][/options]` (Asterisk's
//! pbx_realtime): extensions read from the `extensions` table (columns
//! `context`, `exten`, `priority`, `app`, `appdata`) at every lookup, so a
//! row inserted while calls run is dialable at once and many servers share
//! one dialplan.
//!
//! An exact `exten` row wins; otherwise the context's pattern rows
//! (`exten LIKE '\_%'`) are matched with the dialplan's own pattern rules.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_dialplan::{Pattern, Target};
use obelus_realtime::{Criterion, Op, RealtimeService, Row};

use crate::pbx::Step;
use crate::switch::SwitchProvider;

/// The family when the switch data names none.
const DEFAULT_FAMILY: &str = "extensions";

/// The `Realtime` switch.
pub struct RealtimeSwitch {
    realtime: Arc<RealtimeService>,
}

impl RealtimeSwitch {
    /// A switch reading through the realtime layer.
    pub fn new(realtime: Arc<RealtimeService>) -> Self {
        Self { realtime }
    }
}

/// `[context][@family][/options]` with the holding context as default.
fn parse_data<'a>(data: &'a str, holder: &'a str) -> (&'a str, &'a str) {
    let data = data.split('/').next().unwrap_or_default();
    let (context, family) = match data.split_once('@') {
        Some((c, f)) => (c, f),
        None => (data, ""),
    };
    (
        if context.is_empty() { holder } else { context },
        if family.is_empty() {
            DEFAULT_FAMILY
        } else {
            family
        },
    )
}

fn step(row: &Row, context: &str, priority: i32) -> Option<Step> {
    Some(Step {
        context: context.to_owned(),
        priority,
        app: row.get("app")?.to_owned(),
        data: row.get("appdata").unwrap_or_default().to_owned(),
    })
}

fn eq(column: &str, value: &str) -> Option<Criterion> {
    Criterion::eq(column, value).ok()
}

#[async_trait]
impl SwitchProvider for RealtimeSwitch {
    fn name(&self) -> &'static str {
        "Realtime"
    }

    async fn find(
        &self,
        data: &str,
        holder: &str,
        exten: &str,
        target: Target<'_>,
    ) -> Option<Step> {
        let Target::Priority(priority) = target else {
            // The extensions table has no labels or hints.
            return None;
        };
        let realtime = self.realtime.get()?;
        let (context, family) = parse_data(data, holder);
        let pri = priority.to_string();
        let exact = [
            eq("exten", exten)?,
            eq("context", context)?,
            eq("priority", &pri)?,
        ];
        match realtime.load(family, &exact).await {
            Ok(Some(row)) => return step(&row, context, priority),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!("Realtime switch {context}@{family}: {e}");
                return None;
            }
        }
        let patterns = [
            Criterion {
                column: "exten".to_owned(),
                op: Op::Like,
                value: "\\_%".to_owned(),
            },
            eq("context", context)?,
            eq("priority", &pri)?,
        ];
        let rows = realtime.load_multi(family, &patterns).await.ok()?;
        rows.iter()
            .find(|row| {
                row.get("exten")
                    .is_some_and(|p| Pattern::new(p).matches(exten))
            })
            .and_then(|row| step(row, context, priority))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_data_defaults() {
        assert_eq!(parse_data("", "from-sip"), ("from-sip", "extensions"));
        assert_eq!(parse_data("@ext", "x"), ("x", "ext"));
        assert_eq!(parse_data("other@ext/n", "x"), ("other", "ext"));
        assert_eq!(parse_data("other", "x"), ("other", "extensions"));
    }
}
