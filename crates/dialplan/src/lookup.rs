//! Finding the step to run: Asterisk's `pbx_find_extension` (legacy matcher).
//!
//! Inside a context the search order is: its own extensions (in [`crate::ordering`]
//! order, the first whose name and caller-id filter match *and* that has the wanted
//! priority or label), then its switches in order, then its includes in order, each
//! searched the same way, depth first. A context is searched at most once per lookup
//! (include loops and diamonds are harmless) and the include stack is bounded.
//! Timed includes are skipped outside their time.
//!
//! Switches cannot be answered here (the realtime switch needs a database): the
//! [`Search`] iterator yields [`Hit::Switch`] and the caller asks the switch; if it
//! says no, the caller calls `next()` again and the search continues where it was.

use crate::model::{Context, Dialplan, Extension, Priority, Switch};
use crate::pattern::{MatchMode, MatchOutcome};
use crate::timerange::Clock;

/// Asterisk's `AST_PBX_MAX_STACK`: contexts visited per lookup.
pub const MAX_INCLUDE_STACK: usize = 512;

/// What to find in the matching extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'q> {
    /// A priority number.
    Priority(i32),
    /// A label (`Goto(ctx,exten,label)`); the extension must match exactly.
    Label(&'q str),
    /// The hint (`exten => 200,hint,...`).
    Hint,
}

/// A lookup.
#[derive(Clone, Copy, Debug)]
pub struct Query<'q> {
    /// Starting context.
    pub context: &'q str,
    /// Dialled extension.
    pub exten: &'q str,
    /// Priority, label or hint.
    pub target: Target<'q>,
    /// Caller number for CID-filtered extensions.
    pub caller_id: Option<&'q str>,
    /// Full match, can match, or match more.
    pub mode: MatchMode,
}

/// A result of a search.
#[derive(Clone, Copy, Debug)]
pub enum Hit<'a> {
    /// A step (or, for [`Target::Hint`], the extension holding the hint).
    Priority {
        /// Context where it was found.
        context: &'a Context,
        /// Extension that matched.
        extension: &'a Extension,
        /// The step; `None` for a hint lookup.
        priority: Option<&'a Priority>,
    },
    /// "Ask this switch" (data not yet substituted, see
    /// [`Switch::needs_substitution`]).
    Switch {
        /// Context holding the switch (the one the switch should be asked about).
        context: &'a Context,
        /// The switch.
        switch: &'a Switch,
    },
}

/// Why nothing was found (ordered like Asterisk's status: the furthest step reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
pub enum LookupError {
    /// The context does not exist.
    #[error("no such context")]
    NoContext,
    /// No extension matches.
    #[error("no such extension")]
    NoExtension,
    /// An extension matched but has no such priority.
    #[error("no such priority")]
    NoPriority,
    /// An extension matched but has no such label.
    #[error("no such label")]
    NoLabel,
}

#[derive(Clone, Copy)]
enum Phase {
    Switches(usize),
    Includes(usize),
}

/// A stack keeping its first `N` items inline, so that the usual lookup (a few
/// contexts deep) does not allocate.
struct SmallStack<T: Copy, const N: usize> {
    head: [Option<T>; N],
    len: usize,
    tail: Vec<T>,
}

impl<T: Copy, const N: usize> SmallStack<T, N> {
    fn new() -> Self {
        SmallStack {
            head: [None; N],
            len: 0,
            tail: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, v: T) {
        match self.head.get_mut(self.len) {
            Some(slot) => *slot = Some(v),
            None => self.tail.push(v),
        }
        self.len += 1;
    }

    fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        match self.head.get_mut(self.len) {
            Some(slot) => slot.take(),
            None => self.tail.pop(),
        }
    }

    fn last_mut(&mut self) -> Option<&mut T> {
        let i = self.len.checked_sub(1)?;
        if i < N {
            self.head.get_mut(i).and_then(Option::as_mut)
        } else {
            self.tail.last_mut()
        }
    }

    fn contains(&self, v: &T) -> bool
    where
        T: PartialEq,
    {
        self.head.iter().flatten().any(|x| x == v) || self.tail.contains(v)
    }
}

#[derive(Clone, Copy)]
struct Frame<'a> {
    ctx: &'a Context,
    phase: Phase,
}

enum Scan<'a> {
    Found(Hit<'a>),
    /// A `!` pattern answered a match-more question: nothing more in this context.
    Stop,
    NotHere,
}

/// A lookup in progress; yields extension hits and switches to ask, in Asterisk's order.
pub struct Search<'a, 'q> {
    dp: &'a Dialplan,
    q: Query<'q>,
    clock: &'q dyn Clock,
    stack: SmallStack<Frame<'a>, 4>,
    visited: SmallStack<usize, 8>,
    status: LookupError,
    started: bool,
    done: bool,
}

impl<'a, 'q> Search<'a, 'q> {
    /// Why the search found nothing (meaningful once it returned `None`).
    pub fn status(&self) -> LookupError {
        self.status
    }

    fn raise(&mut self, s: LookupError) {
        if s > self.status {
            self.status = s;
        }
    }

    /// Enters a context: scans its extensions; pushes a frame for its switches and
    /// includes unless the scan ended the context.
    fn enter(&mut self, idx: usize) -> Option<Hit<'a>> {
        if self.visited.contains(&idx) || self.visited.len() >= MAX_INCLUDE_STACK {
            return None;
        }
        self.visited.push(idx);
        let ctx = self.dp.contexts.get(idx)?;
        self.raise(LookupError::NoExtension);
        match self.scan(ctx) {
            Scan::Found(hit) => {
                self.done = true;
                Some(hit)
            }
            Scan::Stop => None,
            Scan::NotHere => {
                self.stack.push(Frame {
                    ctx,
                    phase: Phase::Switches(0),
                });
                None
            }
        }
    }

    fn try_extension(&mut self, ctx: &'a Context, e: &'a Extension) -> Scan<'a> {
        let outcome = e.name.check(self.q.exten, self.q.mode);
        if outcome == MatchOutcome::No || !e.cid_matches(self.q.caller_id) {
            return Scan::NotHere;
        }
        if outcome == MatchOutcome::Early && self.q.mode == MatchMode::MatchMore {
            return Scan::Stop;
        }
        self.raise(LookupError::NoPriority);
        let priority = match self.q.target {
            Target::Priority(n) => e.priority(n),
            Target::Label(l) => {
                self.raise(LookupError::NoLabel);
                e.label(l)
            }
            Target::Hint => {
                if e.hint.is_some() {
                    return Scan::Found(Hit::Priority {
                        context: ctx,
                        extension: e,
                        priority: None,
                    });
                }
                None
            }
        };
        match priority {
            Some(p) => Scan::Found(Hit::Priority {
                context: ctx,
                extension: e,
                priority: Some(p),
            }),
            None => Scan::NotHere,
        }
    }

    fn scan(&mut self, ctx: &'a Context) -> Scan<'a> {
        let exten = self.q.exten;
        let exact = self.q.mode == MatchMode::Exact && !exten.contains('-');
        if exact {
            // Literal names equal to the dialled string, then the patterns.
            if let Some(&(start, end)) = ctx.literal_index.get(exten.as_bytes()) {
                for e in ctx.extensions.get(start..end).unwrap_or_default() {
                    match self.try_extension(ctx, e) {
                        Scan::NotHere => {}
                        other => return other,
                    }
                }
            }
            for &i in ctx.pattern_candidates(exten.as_bytes().first().copied()) {
                let Some(e) = usize::try_from(i).ok().and_then(|i| ctx.extensions.get(i)) else {
                    continue;
                };
                match self.try_extension(ctx, e) {
                    Scan::NotHere => {}
                    other => return other,
                }
            }
            return Scan::NotHere;
        }
        for e in &ctx.extensions {
            match self.try_extension(ctx, e) {
                Scan::NotHere => {}
                other => return other,
            }
        }
        Scan::NotHere
    }
}

impl<'a> Iterator for Search<'a, '_> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            let Some(idx) = self.dp.context_index(self.q.context) else {
                self.done = true;
                return None;
            };
            if let Some(hit) = self.enter(idx) {
                return Some(hit);
            }
        }
        loop {
            let frame = self.stack.last_mut()?;
            let ctx = frame.ctx;
            match frame.phase {
                Phase::Switches(i) => match ctx.switches.get(i) {
                    Some(sw) => {
                        frame.phase = Phase::Switches(i + 1);
                        return Some(Hit::Switch {
                            context: ctx,
                            switch: sw,
                        });
                    }
                    None => frame.phase = Phase::Includes(0),
                },
                Phase::Includes(i) => match ctx.includes.get(i) {
                    Some(inc) => {
                        frame.phase = Phase::Includes(i + 1);
                        let valid = inc
                            .time
                            .as_ref()
                            .is_none_or(|t| t.contains(self.clock.local_time(t.timezone())));
                        if valid
                            && let Some(idx) = self.dp.context_index(&inc.context)
                            && let Some(hit) = self.enter(idx)
                        {
                            return Some(hit);
                        }
                    }
                    None => {
                        self.stack.pop();
                    }
                },
            }
        }
    }
}

impl Dialplan {
    /// Starts a lookup; iterate to get hits (and switches to ask) in Asterisk's order.
    pub fn search<'a, 'q>(&'a self, query: Query<'q>, clock: &'q dyn Clock) -> Search<'a, 'q> {
        Search {
            dp: self,
            q: query,
            clock,
            stack: SmallStack::new(),
            visited: SmallStack::new(),
            status: LookupError::NoContext,
            started: false,
            done: false,
        }
    }

    fn first(&self, query: Query<'_>, clock: &dyn Clock) -> Result<Hit<'_>, LookupError> {
        let mut s = self.search(query, clock);
        match s.next() {
            Some(hit) => Ok(hit),
            None => Err(s.status()),
        }
    }

    /// The step `priority` of `exten` in `context` (full match). May return a
    /// [`Hit::Switch`] to ask; use [`Dialplan::search`] to continue past it.
    pub fn find(
        &self,
        context: &str,
        exten: &str,
        priority: i32,
        caller_id: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Hit<'_>, LookupError> {
        self.first(
            Query {
                context,
                exten,
                target: Target::Priority(priority),
                caller_id,
                mode: MatchMode::Exact,
            },
            clock,
        )
    }

    /// The step labelled `label` of `exten` (`Goto(ctx,exten,label)`).
    pub fn find_label(
        &self,
        context: &str,
        exten: &str,
        label: &str,
        caller_id: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Hit<'_>, LookupError> {
        self.first(
            Query {
                context,
                exten,
                target: Target::Label(label),
                caller_id,
                mode: MatchMode::Exact,
            },
            clock,
        )
    }

    /// The extension holding the hint for `exten`.
    pub fn find_hint(
        &self,
        context: &str,
        exten: &str,
        clock: &dyn Clock,
    ) -> Result<Hit<'_>, LookupError> {
        self.first(
            Query {
                context,
                exten,
                target: Target::Hint,
                caller_id: None,
                mode: MatchMode::Exact,
            },
            clock,
        )
    }

    /// The step after `priority` (Asterisk simply looks for `priority + 1`).
    pub fn next_priority(
        &self,
        context: &str,
        exten: &str,
        priority: i32,
        caller_id: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Hit<'_>, LookupError> {
        self.find(context, exten, priority.saturating_add(1), caller_id, clock)
    }

    fn any_step(
        &self,
        context: &str,
        exten: &str,
        priority: i32,
        caller_id: Option<&str>,
        mode: MatchMode,
        clock: &dyn Clock,
    ) -> bool {
        self.search(
            Query {
                context,
                exten,
                target: Target::Priority(priority),
                caller_id,
                mode,
            },
            clock,
        )
        .any(|h| matches!(h, Hit::Priority { .. }))
    }

    /// `ast_exists_extension`, without switches (they need the caller).
    pub fn exists(
        &self,
        context: &str,
        exten: &str,
        priority: i32,
        caller_id: Option<&str>,
        clock: &dyn Clock,
    ) -> bool {
        self.any_step(context, exten, priority, caller_id, MatchMode::Exact, clock)
    }

    /// `ast_canmatch_extension`: matches now or could with more digits.
    pub fn can_match(
        &self,
        context: &str,
        exten: &str,
        priority: i32,
        caller_id: Option<&str>,
        clock: &dyn Clock,
    ) -> bool {
        self.any_step(
            context,
            exten,
            priority,
            caller_id,
            MatchMode::CanMatch,
            clock,
        )
    }

    /// `ast_matchmore_extension`: more digits could still select an extension.
    pub fn match_more(
        &self,
        context: &str,
        exten: &str,
        priority: i32,
        caller_id: Option<&str>,
        clock: &dyn Clock,
    ) -> bool {
        self.any_step(
            context,
            exten,
            priority,
            caller_id,
            MatchMode::MatchMore,
            clock,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::from_text;
    use crate::timerange::LocalTime;

    const NOON_MONDAY: LocalTime = LocalTime {
        hour: 12,
        minute: 0,
        weekday: 1,
        day: 2,
        month: 3,
    };
    const NIGHT_SUNDAY: LocalTime = LocalTime {
        hour: 23,
        minute: 0,
        weekday: 0,
        day: 1,
        month: 3,
    };

    fn dp(text: &str) -> Dialplan {
        let (dp, errors) = from_text(text, "extensions.conf");
        assert!(errors.is_empty(), "{errors:?}");
        dp
    }

    fn app(h: Result<Hit<'_>, LookupError>) -> Result<String, LookupError> {
        h.map(|h| match h {
            Hit::Priority {
                context, priority, ..
            } => format!(
                "{}:{}",
                context.name(),
                priority.map_or("hint".to_owned(), |p| format!("{}({})", p.app, p.data))
            ),
            Hit::Switch { switch, .. } => format!("switch {}/{}", switch.module, switch.data),
        })
    }

    #[test]
    fn own_extensions_then_switches_then_includes() {
        // dialplan.md §2 rule 4: own extensions -> switches (in order) -> includes.
        let d = dp(
            "[a]\nexten => 1,1,A1()\nswitch => Realtime/@ext\ninclude => b\n\
                    [b]\nexten => 2,1,B2()\nexten => 1,1,B1()\n",
        );
        assert_eq!(
            app(d.find("a", "1", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("a:A1()")
        );
        let mut s = d.search(
            Query {
                context: "a",
                exten: "2",
                target: Target::Priority(1),
                caller_id: None,
                mode: MatchMode::Exact,
            },
            &NOON_MONDAY,
        );
        assert!(
            matches!(s.next(), Some(Hit::Switch { switch, .. }) if switch.module == "Realtime")
        );
        // The switch said no: continue into the include.
        assert!(matches!(s.next(), Some(Hit::Priority { context, .. }) if context.name() == "b"));
        assert!(s.next().is_none());
    }

    #[test]
    fn missing_priority_falls_through_to_next_matching_extension() {
        // Legacy matcher: an extension that matches but lacks the priority is skipped.
        let d = dp("[a]\nexten => _1XX,1,P1()\nexten => _X.,1,X1()\nsame => n,X2()\n");
        assert_eq!(
            app(d.find("a", "100", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("a:P1()")
        );
        assert_eq!(
            app(d.find("a", "100", 2, None, &NOON_MONDAY)).as_deref(),
            Ok("a:X2()")
        );
        assert_eq!(
            d.find("a", "100", 3, None, &NOON_MONDAY).err(),
            Some(LookupError::NoPriority)
        );
        assert_eq!(
            d.find("a", "abc", 1, None, &NOON_MONDAY).err(),
            Some(LookupError::NoExtension)
        );
        assert_eq!(
            d.find("zz", "1", 1, None, &NOON_MONDAY).err(),
            Some(LookupError::NoContext)
        );
    }

    #[test]
    fn include_loops_are_safe() {
        let d = dp("[a]\ninclude => b\n[b]\ninclude => a\ninclude => c\n[c]\nexten => 5,1,C()\n");
        assert_eq!(
            app(d.find("a", "5", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("c:C()")
        );
        assert_eq!(
            d.find("a", "6", 1, None, &NOON_MONDAY).err(),
            Some(LookupError::NoExtension)
        );
        let d = dp("[self]\ninclude => self\n");
        assert!(d.find("self", "1", 1, None, &NOON_MONDAY).is_err());
    }

    #[test]
    fn includes_are_depth_first_in_order() {
        let d = dp(
            "[a]\ninclude => b\ninclude => c\n[b]\ninclude => d\n[c]\nexten => 1,1,C()\n\
                    [d]\nexten => 1,1,D()\n",
        );
        assert_eq!(
            app(d.find("a", "1", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("d:D()")
        );
    }

    #[test]
    fn timed_includes() {
        let d = dp(
            "[in]\ninclude => day,09:00-17:00,mon-fri,*,*\ninclude => night\n\
                    [day]\nexten => 0,1,Dial(PJSIP/reception)\n[night]\nexten => 0,1,VoiceMail(100)\n",
        );
        assert_eq!(
            app(d.find("in", "0", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("day:Dial(PJSIP/reception)")
        );
        assert_eq!(
            app(d.find("in", "0", 1, None, &NIGHT_SUNDAY)).as_deref(),
            Ok("night:VoiceMail(100)")
        );
    }

    #[test]
    fn caller_id_filters() {
        // dialplan.md §1: exten => 300/5551212 only when caller id is 5551212.
        let d = dp(
            "[a]\nexten => 300/5551212,1,Vip()\nexten => 300,1,Normal()\n\
                    exten => 400/_555XXXX,1,Local()\nexten => 500/,1,Anonymous()\n",
        );
        assert_eq!(
            app(d.find("a", "300", 1, Some("5551212"), &NOON_MONDAY)).as_deref(),
            Ok("a:Vip()")
        );
        assert_eq!(
            app(d.find("a", "300", 1, Some("5550000"), &NOON_MONDAY)).as_deref(),
            Ok("a:Normal()")
        );
        assert_eq!(
            app(d.find("a", "300", 1, Some("6660000"), &NOON_MONDAY)).as_deref(),
            Ok("a:Normal()")
        );
        assert_eq!(
            app(d.find("a", "300", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("a:Normal()")
        );
        assert_eq!(
            app(d.find("a", "400", 1, Some("5551234"), &NOON_MONDAY)).as_deref(),
            Ok("a:Local()")
        );
        assert!(
            d.find("a", "400", 1, Some("6661234"), &NOON_MONDAY)
                .is_err()
        );
        assert_eq!(
            app(d.find("a", "500", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("a:Anonymous()")
        );
        assert!(d.find("a", "500", 1, Some("123"), &NOON_MONDAY).is_err());
    }

    #[test]
    fn labels_hints_and_next() {
        let d = dp(
            "[a]\nexten => 100,1,Answer()\nsame => n(loop),Wait(1)\nsame => n,Goto(loop)\n\
                    exten => 100,hint,PJSIP/alice\n",
        );
        assert_eq!(
            app(d.find_label("a", "100", "loop", None, &NOON_MONDAY)).as_deref(),
            Ok("a:Wait(1)")
        );
        assert_eq!(
            d.find_label("a", "100", "nope", None, &NOON_MONDAY).err(),
            Some(LookupError::NoLabel)
        );
        assert_eq!(
            app(d.find_hint("a", "100", &NOON_MONDAY)).as_deref(),
            Ok("a:hint")
        );
        assert_eq!(
            app(d.next_priority("a", "100", 2, None, &NOON_MONDAY)).as_deref(),
            Ok("a:Goto(loop)")
        );
        assert!(d.next_priority("a", "100", 3, None, &NOON_MONDAY).is_err());
    }

    #[test]
    fn overlap_dialling_questions() {
        let d = dp("[a]\nexten => 100,1,A()\nexten => _9NXX,1,B()\nexten => _8!,1,C()\n");
        let t = &NOON_MONDAY;
        assert!(d.can_match("a", "1", 1, None, t) && d.match_more("a", "1", 1, None, t));
        assert!(d.exists("a", "100", 1, None, t) && !d.match_more("a", "100", 1, None, t));
        assert!(d.can_match("a", "92", 1, None, t) && !d.exists("a", "92", 1, None, t));
        assert!(!d.can_match("a", "91", 1, None, t), "N does not match 1");
        // `!` completes early: never "needs more".
        assert!(d.exists("a", "8", 1, None, t) && !d.match_more("a", "8", 1, None, t));
        assert!(!d.match_more("a", "812", 1, None, t));
    }

    #[test]
    fn special_extensions_are_plain_names() {
        let d = dp(
            "[a]\nexten => s,1,Start()\nexten => i,1,Invalid()\nexten => h,1,Hangup()\n\
                    exten => _X.,1,Digits()\n",
        );
        assert_eq!(
            app(d.find("a", "s", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("a:Start()")
        );
        assert_eq!(
            app(d.find("a", "h", 1, None, &NOON_MONDAY)).as_deref(),
            Ok("a:Hangup()")
        );
        assert!(d.find("a", "t", 1, None, &NOON_MONDAY).is_err());
    }
}
