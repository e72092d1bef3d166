//! `dialplan show [exten@][context]` in Asterisk's exact layout (`show_dialplan_helper`
//! in `main/pbx.c`); scripts scrape it.
//!
//! ```text
//! [ Context 'testing' created by 'pbx_config' ]
//!   '600' =>          1. Answer()                                   [extensions.conf:13]
//!                     2. Playtones(440/200,0/300)                   [extensions.conf:14]
//!   Include =>        'other'                                       [pbx_config]
//!
//! -= 1 extension (2 priorities) in 1 context. =-
//! ```
//!
//! Each line is `"  %-17s %-45s [%s:%d]"`: the first column holds `'name' =>` (or
//! `'name' (CID match 'cid') =>`) on an extension's first line and `[label]` on later
//! labelled steps; the second `N. App(data)` or `hint: devices`. Extensions appear in
//! their sort order; then includes, ignore patterns and switches; a blank line closes
//! each context.

use std::fmt::Write;

use crate::model::{Context, Dialplan, Extension};

fn line(out: &mut String, first: &str, second: &str, location: &str) {
    let _ = writeln!(out, "  {first:<17} {second:<45} [{location}]");
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

struct Counts {
    extensions: usize,
    priorities: usize,
    contexts: usize,
}

fn show_extension(out: &mut String, e: &Extension, counts: &mut Counts) {
    let mut first = match e.caller_id() {
        Some(cid) => format!("'{}' (CID match '{}') =>", e.name().as_str(), cid.as_str()),
        None => format!("'{}' =>", e.name().as_str()),
    };
    counts.extensions += 1;
    if let Some(h) = e.hint() {
        counts.priorities += 1;
        line(
            out,
            &first,
            &format!("hint: {}", h.devices),
            &h.location.to_string(),
        );
        first.clear();
    }
    for p in e.priorities() {
        counts.priorities += 1;
        if first.is_empty()
            && let Some(l) = &p.label
        {
            first = format!("   [{l}]");
        }
        line(
            out,
            &first,
            &format!("{}. {}({})", p.number, p.app, p.data),
            &p.location.to_string(),
        );
        first.clear();
    }
}

fn show_context(
    out: &mut String,
    ctx: &Context,
    exten: Option<&str>,
    included: bool,
    counts: &mut Counts,
) -> bool {
    let extensions: Vec<&Extension> = ctx
        .extensions()
        .iter()
        .filter(|e| exten.is_none_or(|x| e.name().matches(x) || e.name().as_str() == x))
        .collect();
    if exten.is_some() && extensions.is_empty() {
        return false;
    }
    counts.contexts += 1;
    let kind = if included {
        "Included context"
    } else {
        "Context"
    };
    let _ = writeln!(
        out,
        "[ {kind} '{}' created by '{}' ]",
        ctx.name(),
        ctx.registrar()
    );
    for e in extensions {
        show_extension(out, e, counts);
    }
    if exten.is_none() {
        for inc in ctx.includes() {
            line(
                out,
                "Include =>",
                &format!("'{}'", inc.name),
                ctx.registrar(),
            );
        }
        for ip in ctx.ignore_patterns() {
            line(
                out,
                "Ignore pattern =>",
                &format!("'{}'", ip.pattern.as_str()),
                ctx.registrar(),
            );
        }
        for sw in ctx.switches() {
            line(
                out,
                "Alt. Switch =>",
                &format!("'{}/{}'", sw.module, sw.data),
                ctx.registrar(),
            );
        }
    }
    out.push('\n');
    true
}

impl Dialplan {
    /// The output of `dialplan show [exten@][context]`; `filter` is the command's
    /// argument. With an extension, contexts reached through includes are shown too
    /// (as `Included context`).
    pub fn show(&self, filter: Option<&str>) -> String {
        let (exten, context) = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            None => (None, None),
            Some(f) => match f.split_once('@') {
                Some((x, c)) => (
                    Some(x).filter(|x| !x.is_empty()),
                    Some(c).filter(|c| !c.is_empty()),
                ),
                None => (None, Some(f)),
            },
        };
        let mut out = String::new();
        let mut counts = Counts {
            extensions: 0,
            priorities: 0,
            contexts: 0,
        };
        match context {
            Some(name) => {
                let Some(start) = self.context(name) else {
                    return format!("There is no existence of '{name}' context\n");
                };
                let mut visited = vec![start.name()];
                let mut queue = vec![(start, false)];
                let mut found = false;
                while let Some((ctx, included)) = queue.pop() {
                    found |= show_context(&mut out, ctx, exten, included, &mut counts);
                    if exten.is_some() {
                        for inc in ctx.includes().iter().rev() {
                            if let Some(c) = self.context(&inc.context)
                                && !visited.contains(&c.name())
                            {
                                visited.push(c.name());
                                queue.push((c, true));
                            }
                        }
                    }
                }
                if let (Some(x), false) = (exten, found) {
                    return format!("There is no existence of {x}@{name} extension\n");
                }
            }
            None => {
                for ctx in self.contexts() {
                    show_context(&mut out, ctx, exten, false, &mut counts);
                }
                if let (Some(x), 0) = (exten, counts.extensions) {
                    return format!("There is no existence of '{x}' extension\n");
                }
            }
        }
        let _ = writeln!(
            out,
            "-= {} ({}) in {}. =-",
            plural(counts.extensions, "extension", "extensions"),
            plural(counts.priorities, "priority", "priorities"),
            plural(counts.contexts, "context", "contexts"),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Dialplan;
    use crate::parse::{Entry, from_text};

    /// The `[testing]` context behind golden-asterisk-23/cli/dialplan_show_testing.txt,
    /// reconstructed from its `[file:line]` column.
    fn golden_input() -> Dialplan {
        let lines: &[(u32, &str, &str)] = &[
            (8, "exten", "_1XX,1,NoOp()"),
            (9, "same", "n,Dial(PJSIP/${EXTEN})"),
            (10, "same", "n,Hangup()"),
            (13, "exten", "600,1,Answer()"),
            (14, "same", "n,Playtones(440/200,0/300)"),
            (15, "same", "n,Wait(1)"),
            (16, "same", "n,Hangup()"),
            (19, "exten", "602,1,Answer()"),
            (20, "same", "n,Playtones(440/200,0/300)"),
            (21, "same", "n,Wait(60)"),
            (22, "same", "n,Hangup()"),
            (25, "exten", "601,1,Answer()"),
            (26, "same", "n,Echo()"),
            (27, "same", "n,Hangup()"),
            (30, "exten", "610,1,Answer()"),
            (31, "same", "n,Wait(1)"),
            (32, "same", "n,Hangup()"),
            (35, "exten", "700,1,NoOp(to stasis)"),
            (36, "same", "n,Stasis(bench)"),
            (37, "same", "n,Hangup()"),
        ];
        let (dp, errors) = Dialplan::from_entries(lines.iter().map(|&(line, name, value)| Entry {
            category: "testing",
            name,
            value,
            file: "extensions.conf",
            line,
        }));
        assert!(errors.is_empty(), "{errors:?}");
        dp
    }

    /// shared/reference/golden-asterisk-23/cli/dialplan_show_testing.txt, byte for byte.
    const GOLDEN: &str = "\
[ Context 'testing' created by 'pbx_config' ]
  '600' =>          1. Answer()                                   [extensions.conf:13]
                    2. Playtones(440/200,0/300)                   [extensions.conf:14]
                    3. Wait(1)                                    [extensions.conf:15]
                    4. Hangup()                                   [extensions.conf:16]
  '601' =>          1. Answer()                                   [extensions.conf:25]
                    2. Echo()                                     [extensions.conf:26]
                    3. Hangup()                                   [extensions.conf:27]
  '602' =>          1. Answer()                                   [extensions.conf:19]
                    2. Playtones(440/200,0/300)                   [extensions.conf:20]
                    3. Wait(60)                                   [extensions.conf:21]
                    4. Hangup()                                   [extensions.conf:22]
  '610' =>          1. Answer()                                   [extensions.conf:30]
                    2. Wait(1)                                    [extensions.conf:31]
                    3. Hangup()                                   [extensions.conf:32]
  '700' =>          1. NoOp(to stasis)                            [extensions.conf:35]
                    2. Stasis(bench)                              [extensions.conf:36]
                    3. Hangup()                                   [extensions.conf:37]
  '_1XX' =>         1. NoOp()                                     [extensions.conf:8]
                    2. Dial(PJSIP/${EXTEN})                       [extensions.conf:9]
                    3. Hangup()                                   [extensions.conf:10]

-= 6 extensions (20 priorities) in 1 context. =-
";

    #[test]
    fn matches_asterisk_23_golden_output() {
        let dp = golden_input();
        assert_eq!(dp.show(Some("testing")), GOLDEN);
        assert_eq!(dp.show(None), GOLDEN);
    }

    #[test]
    fn includes_switches_ignorepats_cid_hints_labels() {
        let (dp, errors) = from_text(
            "[a]\nexten => 200,hint,PJSIP/alice\nexten => 200,1,Dial(PJSIP/alice)\n\
             same => n(vm),VoiceMail(200)\nexten => 300/5551212,1,NoOp(vip)\n\
             include => b\nignorepat => 9\nswitch => Realtime/@extensions\n[b]\nignorepat => 0\n",
            "extensions.conf",
        );
        assert!(errors.is_empty());
        let want = "\
[ Context 'a' created by 'pbx_config' ]
  '200' =>          hint: PJSIP/alice                             [extensions.conf:2]
                    1. Dial(PJSIP/alice)                          [extensions.conf:3]
     [vm]           2. VoiceMail(200)                             [extensions.conf:4]
  '300' (CID match '5551212') => 1. NoOp(vip)                                  [extensions.conf:5]
  Include =>        'b'                                           [pbx_config]
  Ignore pattern => '9'                                           [pbx_config]
  Alt. Switch =>    'Realtime/@extensions'                        [pbx_config]

[ Context 'b' created by 'pbx_config' ]
  Ignore pattern => '0'                                           [pbx_config]

-= 2 extensions (4 priorities) in 2 contexts. =-
";
        assert_eq!(dp.show(None), want);
        assert_eq!(
            dp.show(Some("zz")),
            "There is no existence of 'zz' context\n"
        );
    }

    #[test]
    fn exten_filter_follows_includes() {
        let (dp, _) = from_text(
            "[a]\nexten => 1,1,A()\ninclude => b\n[b]\nexten => _X,1,B()\nexten => 22,1,C()\n",
            "extensions.conf",
        );
        let want = "\
[ Context 'a' created by 'pbx_config' ]
  '1' =>            1. A()                                        [extensions.conf:2]

[ Included context 'b' created by 'pbx_config' ]
  '_X' =>           1. B()                                        [extensions.conf:5]

-= 2 extensions (2 priorities) in 2 contexts. =-
";
        assert_eq!(dp.show(Some("1@a")), want);
        assert_eq!(dp.show(Some("9@a")).lines().count(), 4);
        assert_eq!(
            dp.show(Some("33@a")),
            "There is no existence of 33@a extension\n"
        );
    }
}
