//! The dialplan executor (Asterisk's `__ast_pbx_run`): runs a channel from
//! its location, one priority after another, until an application ends the
//! call, the channel hangs up or the dialplan runs out; then the `h`
//! extension, then the hangup.
//!
//! One task per channel runs this loop and owns the channel's mailbox
//! ([`ControlReceiver`]), so an application waits on its own channel's
//! events without locks.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::channel::{Cause, Channel, ControlReceiver};
use obelus_dialplan::module::DialplanService;
use obelus_dialplan::{Clock, Dialplan, Hit, LocalTime, LookupError, Query, Target};

use crate::globals::Globals;
use crate::registry::{AppError, FunctionContext, Registry};
use crate::scope::ChannelScope;
use crate::switch::Switches;

/// Steps run without a pause before the executor yields to other tasks, so
/// a `Goto` loop cannot starve the runtime.
const YIELD_EVERY: u32 = 64;

/// The system clock, for timed includes and `GotoIfTime`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn local_time(&self, _timezone: Option<&str>) -> LocalTime {
        use chrono::{Datelike, Timelike};
        let now = chrono::Local::now();
        LocalTime {
            hour: u8::try_from(now.hour()).unwrap_or(0),
            minute: u8::try_from(now.minute()).unwrap_or(0),
            weekday: u8::try_from(now.weekday().num_days_from_sunday()).unwrap_or(0),
            day: u8::try_from(now.day()).unwrap_or(1),
            month: u8::try_from(now.month()).unwrap_or(1),
        }
    }
}

/// What the executor shares between all channels (cheap to clone: all
/// shared handles).
#[derive(Clone)]
pub struct Executor {
    /// The daemon.
    pub core: Arc<Core>,
    /// Applications and functions.
    pub registry: Arc<Registry>,
    /// Global variables.
    pub globals: Arc<Globals>,
    /// Alternative switches (`switch => Realtime/...`).
    pub switches: Arc<Switches>,
    dialplan: Arc<DialplanService>,
}

impl Executor {
    /// An executor over the dialplan in force.
    pub fn new(
        core: Arc<Core>,
        registry: Arc<Registry>,
        globals: Arc<Globals>,
        switches: Arc<Switches>,
        dialplan: Arc<DialplanService>,
    ) -> Arc<Executor> {
        Arc::new(Executor {
            core,
            registry,
            globals,
            switches,
            dialplan,
        })
    }

    /// The dialplan in force now (a reload swaps it between steps).
    pub fn dialplan(&self) -> Arc<Dialplan> {
        self.dialplan.get()
    }

    /// Where `(context, exten, priority)` leads: a step of the dialplan, or
    /// one a switch provides.
    pub async fn step(
        &self,
        context: &str,
        exten: &str,
        target: Target<'_>,
        caller_id: Option<&str>,
    ) -> Result<Step, LookupError> {
        let dialplan = self.dialplan();
        let (candidates, status) = candidates(&dialplan, context, exten, target, caller_id);
        for candidate in candidates {
            match candidate {
                Candidate::Step(step) => return Ok(step),
                Candidate::Switch { module, data } => {
                    let data = if data.contains('$') {
                        self.substitute(None, &data)
                    } else {
                        data
                    };
                    if let Some(step) = self
                        .switches
                        .ask(&module, &data, context, exten, target)
                        .await
                    {
                        return Ok(step);
                    }
                }
            }
        }
        Err(status)
    }

    /// `${}` substitution on `channel` (or with globals only).
    pub fn substitute(&self, channel: Option<&Arc<Channel>>, text: &str) -> String {
        if !text.contains('$') {
            return text.to_owned();
        }
        let mut scope = ChannelScope {
            core: &self.core,
            channel,
            registry: &self.registry,
            globals: &self.globals,
        };
        obelus_dialplan::substitute(text, &mut scope)
    }

    /// `Set(name=value)`: a function write (`CALLERID(num)=...`), a global
    /// (`GLOBAL(x)`), or a channel variable (an empty value deletes it, as
    /// `Set(X=)` does).
    pub fn set(&self, channel: Option<&Arc<Channel>>, name: &str, value: &str) {
        let name = name.trim();
        if let Some(open) = name.find('(')
            && name.ends_with(')')
        {
            let fname = name.get(..open).unwrap_or_default();
            let args = name.get(open + 1..name.len() - 1).unwrap_or_default();
            let Some(f) = self.registry.function(fname) else {
                tracing::warn!("Function {fname} not registered");
                return;
            };
            let cx = FunctionContext {
                core: &self.core,
                channel,
                globals: &self.globals,
            };
            if let Err(e) = f.write(&cx, args, value) {
                tracing::warn!("{fname}: {e}");
            }
            return;
        }
        match channel {
            Some(c) => c.set_var(name, value),
            None => self.globals.set(name, value),
        }
    }
}

/// A step to run: an application and its (unsubstituted) arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The context the step was found in.
    pub context: String,
    /// Its priority number.
    pub priority: i32,
    /// The application.
    pub app: String,
    /// Its arguments, before substitution.
    pub data: String,
}

enum Candidate {
    Step(Step),
    Switch { module: String, data: String },
}

/// The search's hits up to the first extension step, owned, so that
/// switches can be asked (over the network) after the dialplan is released.
fn candidates(
    dialplan: &Dialplan,
    context: &str,
    exten: &str,
    target: Target<'_>,
    caller_id: Option<&str>,
) -> (Vec<Candidate>, LookupError) {
    let mut search = dialplan.search(
        Query {
            context,
            exten,
            target,
            caller_id,
            mode: obelus_dialplan::MatchMode::Exact,
        },
        &SystemClock,
    );
    let mut out = Vec::new();
    for hit in search.by_ref() {
        match hit {
            Hit::Priority {
                context,
                priority: Some(p),
                ..
            } => {
                out.push(Candidate::Step(Step {
                    context: context.name().to_owned(),
                    priority: p.number,
                    app: p.app.clone(),
                    data: p.data.clone(),
                }));
                return (out, LookupError::NoPriority);
            }
            Hit::Priority { .. } => {}
            Hit::Switch { switch, .. } => out.push(Candidate::Switch {
                module: switch.module.clone(),
                data: switch.data.clone(),
            }),
        }
    }
    let status = search.status();
    (out, status)
}

/// One Gosub level: where `Return` goes and what it restores.
#[derive(Debug)]
struct GosubFrame {
    context: String,
    exten: String,
    priority: i32,
    /// `ARGn` and `LOCAL()` variables as they were before the call.
    saved: Vec<(String, Option<String>)>,
}

/// One dialplan run on one channel, as applications see it.
pub struct Pbx {
    /// Shared executor state.
    pub executor: Arc<Executor>,
    /// The channel.
    pub channel: Arc<Channel>,
    /// The channel's mailbox.
    pub control: ControlReceiver,
    gosub: Vec<GosubFrame>,
    jumped: bool,
    handoff: Option<Handoff>,
}

/// Who takes a channel's mailbox when its run ends detached.
type Handoff = Box<dyn FnOnce(ControlReceiver) + Send + Sync>;

impl Pbx {
    /// A run of `channel`; `None` if another task already runs it.
    pub fn new(executor: Arc<Executor>, channel: Arc<Channel>) -> Option<Pbx> {
        let control = channel.take_control()?;
        Some(Pbx {
            executor,
            channel,
            control,
            gosub: Vec::new(),
            jumped: false,
            handoff: None,
        })
    }

    /// Ends the run without hanging the channel up: once the application
    /// returns the [`AppError::Detached`] this gives, `to` receives the
    /// channel's mailbox (a parking lot holding the call).
    pub fn detach(&mut self, to: impl FnOnce(ControlReceiver) + Send + Sync + 'static) -> AppError {
        self.handoff = Some(Box::new(to));
        AppError::Detached
    }

    /// The daemon.
    pub fn core(&self) -> &Arc<Core> {
        &self.executor.core
    }

    /// `${}` substitution on this channel.
    pub fn substitute(&self, text: &str) -> String {
        self.executor.substitute(Some(&self.channel), text)
    }

    /// `Set(name=value)` on this channel; `LOCAL(name)` goes to the current
    /// Gosub frame ([`Pbx::set_local`]), which only this run knows.
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some(local) = local_name(name) {
            self.set_local(local, value);
            return;
        }
        self.executor.set(Some(&self.channel), name, value);
    }

    /// Jumps to `[[context,]exten,]priority` (`Goto()` syntax; the priority
    /// may be a label, `n`, or `+N`/`-N`). Unknown targets are an error that
    /// ends the call, as in Asterisk.
    pub async fn goto(&mut self, target: &str) -> Result<(), AppError> {
        let parts: Vec<&str> = target.split(',').map(str::trim).collect();
        let (context, exten) = {
            let (c, e, _) = self.channel.location();
            (c, e)
        };
        let (context, exten, priority) = match parts.as_slice() {
            [p] => (context, exten, *p),
            [e, p] => (context, (*e).to_owned(), *p),
            [c, e, p] => ((*c).to_owned(), (*e).to_owned(), *p),
            _ => {
                tracing::warn!("Goto: too many arguments in '{target}'");
                return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
            }
        };
        self.jump(&context, &exten, priority).await
    }

    /// Jumps to a priority (number, label, `+N`, `-N`) of `exten` in
    /// `context`.
    pub async fn jump(
        &mut self,
        context: &str,
        exten: &str,
        priority: &str,
    ) -> Result<(), AppError> {
        let (_, _, current) = self.channel.location();
        let number = if let Some(n) = priority.strip_prefix('+') {
            n.parse::<i32>().ok().map(|n| current.saturating_add(n))
        } else if let Some(n) = priority.strip_prefix('-') {
            n.parse::<i32>().ok().map(|n| current.saturating_sub(n))
        } else {
            priority.parse::<i32>().ok()
        };
        let number = match number {
            Some(n) => n,
            None => {
                let caller = self.channel.caller().number;
                let caller = (!caller.is_empty()).then_some(caller.as_str());
                match self
                    .executor
                    .step(context, exten, Target::Label(priority), caller)
                    .await
                {
                    Ok(step) => step.priority,
                    Err(_) => {
                        tracing::warn!(
                            "Priority '{priority}' must be a number > 0, or valid label"
                        );
                        return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
                    }
                }
            }
        };
        self.channel.set_location(context, exten, number);
        self.jumped = true;
        Ok(())
    }

    /// `Gosub`: remembers the next priority, sets `ARG1..n`, and jumps.
    pub async fn gosub(&mut self, target: &str, args: &[String]) -> Result<(), AppError> {
        let (context, exten, priority) = self.channel.location();
        let mut saved = Vec::new();
        let mut n = 1;
        loop {
            let name = format!("ARG{n}");
            let old = self.channel.var(&name);
            if n > args.len() && old.is_none() {
                break;
            }
            saved.push((name.clone(), old));
            match args.get(n - 1) {
                Some(v) => self.channel.set_var(&name, v),
                None => self.channel.remove_var(&name),
            }
            n += 1;
        }
        self.gosub.push(GosubFrame {
            context,
            exten,
            priority: priority.saturating_add(1),
            saved,
        });
        if let Err(e) = self.goto(target).await {
            if let Some(frame) = self.gosub.pop() {
                self.restore(frame.saved);
            }
            return Err(e);
        }
        Ok(())
    }

    /// `LOCAL(name)=value`: a variable restored when the current Gosub
    /// returns (a plain variable outside any Gosub).
    pub fn set_local(&mut self, name: &str, value: &str) {
        if let Some(frame) = self.gosub.last_mut()
            && !frame.saved.iter().any(|(n, _)| n == name)
        {
            frame.saved.push((name.to_owned(), self.channel.var(name)));
        }
        self.channel.set_var(name, value);
    }

    fn restore(&self, saved: Vec<(String, Option<String>)>) {
        for (name, old) in saved {
            match old {
                Some(v) => self.channel.set_var(&name, &v),
                None => self.channel.remove_var(&name),
            }
        }
    }

    /// `Return([value])`; `false` when no Gosub is active.
    pub fn gosub_return(&mut self, value: Option<&str>) -> bool {
        let Some(frame) = self.gosub.pop() else {
            return false;
        };
        self.restore(frame.saved);
        self.channel
            .set_var("GOSUB_RETVAL", value.unwrap_or_default());
        self.channel
            .set_location(&frame.context, &frame.exten, frame.priority);
        self.jumped = true;
        true
    }

    /// Whether the current extension exists with priority 1 in `context`.
    pub async fn exists(&self, context: &str, exten: &str) -> bool {
        let caller = self.channel.caller().number;
        let caller = (!caller.is_empty()).then_some(caller.as_str());
        self.executor
            .step(context, exten, Target::Priority(1), caller)
            .await
            .is_ok()
    }
}

/// The variable of `LOCAL(name)` (function name in any case), if `name` is
/// one.
fn local_name(name: &str) -> Option<&str> {
    let name = name.trim();
    let open = name.find('(')?;
    let inner = name.strip_suffix(')')?.get(open + 1..)?;
    name.get(..open)?
        .trim()
        .eq_ignore_ascii_case("LOCAL")
        .then(|| inner.trim())
}

/// Runs the dialplan on `pbx.channel` to the end, then hangs it up.
pub async fn run(mut pbx: Pbx) {
    let channels = Arc::clone(&pbx.executor.core.channels);
    channels.call_started();
    let cause = run_steps(&mut pbx).await;
    if let Some(handoff) = pbx.handoff.take() {
        handoff(pbx.control);
        channels.call_ended();
        return;
    }
    run_h(&mut pbx).await;
    pbx.channel.hangup(cause).await;
    channels.call_ended();
}

async fn run_steps(pbx: &mut Pbx) -> Cause {
    let mut steps = 0u32;
    loop {
        if let Some((context, exten, priority)) = pbx.channel.take_redirect() {
            pbx.channel.set_location(&context, &exten, priority);
        }
        if let Some(cause) = pbx.channel.hangup_requested() {
            return cause;
        }
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(YIELD_EVERY) {
            tokio::task::yield_now().await;
        }
        let (context, exten, priority) = pbx.channel.location();
        let caller = pbx.channel.caller().number;
        let caller = (!caller.is_empty()).then_some(caller.as_str());
        let step = match pbx
            .executor
            .step(&context, &exten, Target::Priority(priority), caller)
            .await
        {
            Ok(step) => step,
            Err(e) => match fallthrough(pbx, &context, &exten, priority, e).await {
                Some(cause) => return cause,
                None => continue,
            },
        };
        let data = pbx.substitute(&step.data);
        pbx.channel.set_application(&step.app, &data);
        let Some(app) = pbx.executor.registry.application(&step.app) else {
            tracing::warn!(
                "No application '{}' for extension ({context}, {exten}, {priority})",
                step.app
            );
            return Cause::NORMAL_CLEARING;
        };
        tracing::info!(
            verbose = 3,
            "Executing [{exten}@{context}:{priority}] {}(\"{}\", \"{}\") in new stack",
            step.app,
            pbx.channel.name(),
            data
        );
        pbx.jumped = false;
        match app.exec(pbx, &data).await {
            Ok(()) => {
                if !pbx.jumped {
                    let (c, e, p) = pbx.channel.location();
                    pbx.channel.set_location(&c, &e, p.saturating_add(1));
                }
            }
            Err(AppError::Hangup(cause)) => {
                tracing::info!(
                    verbose = 2,
                    "Spawn extension ({context}, {exten}, {priority}) exited non-zero on '{}'",
                    pbx.channel.name()
                );
                return cause;
            }
            Err(AppError::Detached) if pbx.handoff.is_some() => return Cause::NORMAL_CLEARING,
            Err(AppError::Detached) => {
                tracing::warn!("{}: detached without an owner", pbx.channel.name());
                return Cause::NORMAL_CLEARING;
            }
            Err(AppError::HungUp(cause)) => {
                if pbx.channel.redirect_pending() && pbx.channel.hangup_requested().is_none() {
                    // A redirect interrupted the application: go on there.
                    continue;
                }
                return cause;
            }
        }
    }
}

/// The dialplan ran out: an unknown extension goes to `i` (then `e`), the
/// end of an extension hangs up. `None` means "continue from the new
/// location".
async fn fallthrough(
    pbx: &mut Pbx,
    context: &str,
    exten: &str,
    priority: i32,
    error: LookupError,
) -> Option<Cause> {
    let missing_extension = matches!(error, LookupError::NoExtension | LookupError::NoContext)
        || (priority == 1 && error == LookupError::NoPriority);
    if missing_extension && exten != "i" && exten != "e" {
        for special in ["i", "e"] {
            if pbx.exists(context, special).await {
                tracing::info!(
                    verbose = 3,
                    "Channel '{}' sent to invalid extension but no invalid handler: context,exten,priority={context},{exten},{priority}",
                    pbx.channel.name()
                );
                pbx.channel.set_var("INVALID_EXTEN", exten);
                pbx.channel.set_location(context, special, 1);
                return None;
            }
        }
        tracing::warn!(
            "Channel '{}' sent to invalid extension but no invalid handler: context,exten,priority={context},{exten},{priority}",
            pbx.channel.name()
        );
        return Some(Cause::UNALLOCATED);
    }
    tracing::info!(
        verbose = 2,
        "Auto fallthrough, channel '{}' status is '{}'",
        pbx.channel.name(),
        pbx.channel
            .var("DIALSTATUS")
            .unwrap_or_else(|| "UNKNOWN".to_owned())
    );
    Some(Cause::NORMAL_CLEARING)
}

/// The `h` extension of the channel's context, run after the call ended.
async fn run_h(pbx: &mut Pbx) {
    let (context, _, _) = pbx.channel.location();
    if !pbx.exists(&context, "h").await {
        return;
    }
    pbx.channel.set_location(&context, "h", 1);
    loop {
        let (context, exten, priority) = pbx.channel.location();
        let Ok(step) = pbx
            .executor
            .step(&context, &exten, Target::Priority(priority), None)
            .await
        else {
            return;
        };
        let data = pbx.substitute(&step.data);
        pbx.channel.set_application(&step.app, &data);
        let Some(app) = pbx.executor.registry.application(&step.app) else {
            return;
        };
        pbx.jumped = false;
        if app.exec(pbx, &data).await.is_err() {
            return;
        }
        if !pbx.jumped {
            let (c, e, p) = pbx.channel.location();
            pbx.channel.set_location(&c, &e, p.saturating_add(1));
        }
    }
}

#[async_trait]
impl obelus_core::channel::Pbx for Executor {
    fn start(&self, channel: Arc<Channel>) {
        match Pbx::new(Arc::new(self.clone()), Arc::clone(&channel)) {
            Some(pbx) => {
                tokio::spawn(run(pbx));
            }
            None => tracing::warn!("{}: already running; dialplan not started", channel.name()),
        }
    }

    async fn exists(&self, context: &str, exten: &str, caller_id: Option<&str>) -> bool {
        self.step(context, exten, Target::Priority(1), caller_id)
            .await
            .is_ok()
    }

    async fn match_more(&self, context: &str, exten: &str, caller_id: Option<&str>) -> bool {
        self.dialplan()
            .match_more(context, exten, 1, caller_id, &SystemClock)
    }
}

/// Runs one application on `pbx.channel` (an originate to an
/// application), then hangs the channel up.
pub async fn run_application(mut pbx: Pbx, app: String, data: String) {
    let channels = Arc::clone(&pbx.executor.core.channels);
    channels.call_started();
    let cause = match pbx.executor.registry.application(&app) {
        Some(application) => {
            let data = pbx.substitute(&data);
            pbx.channel.set_application(&app, &data);
            match application.exec(&mut pbx, &data).await {
                Ok(()) | Err(AppError::Detached) => Cause::NORMAL_CLEARING,
                Err(AppError::Hangup(cause) | AppError::HungUp(cause)) => cause,
            }
        }
        None => {
            tracing::warn!("No application '{app}' to originate to");
            Cause::NORMAL_CLEARING
        }
    };
    if let Some(handoff) = pbx.handoff.take() {
        handoff(pbx.control);
    } else {
        pbx.channel.hangup(cause).await;
    }
    channels.call_ended();
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    const DIALPLAN: &str = "\
[globals]
GREETING=hello

[default]
exten => 100,1,Set(A=${GREETING})
 same => n,Set(_INHERIT=yes)
 same => n,Goto(later)
 same => n,Set(SKIPPED=1)
 same => n(later),Set(B=${A}-${EXTEN}@${CONTEXT}:${PRIORITY})
 same => n,Hangup(17)

exten => 200,1,NoOp()
 same => n,Set(X=1)

exten => i,1,Set(WAS=${INVALID_EXTEN})
 same => n,Hangup()

exten => h,1,Set(HANGUP_RAN=${HANGUPCAUSE})
";

    #[tokio::test]
    async fn runs_steps_jumps_to_labels_and_substitutes() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, driver) = run_call(&core, &executor, "default", "100").await;
        assert_eq!(channel.var("A").as_deref(), Some("hello"));
        assert_eq!(channel.var("SKIPPED"), None);
        assert_eq!(channel.var("B").as_deref(), Some("hello-100@default:5"));
        assert_eq!(channel.var("HANGUP_RAN").as_deref(), Some("17"));
        assert_eq!(driver.log(), vec!["hangup 17"]);
        assert!(channel.is_hung_up());
        assert_eq!(core.channels.count(), 0);
        assert_eq!(core.channels.processed(), 1);
        assert_eq!(core.channels.active_calls(), 0);
    }

    #[tokio::test]
    async fn the_end_of_an_extension_hangs_up_normally() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, driver) = run_call(&core, &executor, "default", "200").await;
        assert_eq!(channel.var("X").as_deref(), Some("1"));
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[tokio::test]
    async fn an_unknown_extension_goes_to_i() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, _) = run_call(&core, &executor, "default", "999").await;
        assert_eq!(channel.var("WAS").as_deref(), Some("999"));
    }

    #[tokio::test]
    async fn without_i_an_unknown_extension_is_unallocated() {
        let (core, executor, _dir) = executor("[default]\nexten => 1,1,NoOp()\n");
        let (_, driver) = run_call(&core, &executor, "default", "999").await;
        assert_eq!(driver.log(), vec!["hangup 1"]);
    }

    #[tokio::test]
    async fn a_hangup_request_stops_a_wait() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,Wait(30)\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = crate::testing::channel(&core, "default", "1");
        let pbx = crate::pbx::Pbx::new(executor, std::sync::Arc::clone(&channel)).unwrap();
        let run = tokio::spawn(crate::pbx::run(pbx));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        channel.request_hangup(obelus_core::channel::Cause::NORMAL_CLEARING);
        run.await.unwrap();
        assert_eq!(channel.var("AFTER"), None);
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }
}
