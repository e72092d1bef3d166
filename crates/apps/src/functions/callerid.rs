//! `CALLERID(datatype[,CID])`: the caller's identity (`all`, `name`, `num`)
//! read and written, or the parts of a caller ID string given as second
//! argument (`func_callerid.c`).

use obelus_core::channel::Party;
use obelus_dialplan::FunctionError;

use super::access;
use crate::registry::{Function, FunctionContext};

/// `CALLERID`.
pub struct CallerId;

/// Which part of the identity: Asterisk matches the prefix of the data type
/// (`number` reads as `num`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    Name,
    Num,
}

fn part(datatype: &str) -> Result<Part, FunctionError> {
    let d = datatype.trim().to_ascii_lowercase();
    if d.starts_with("all") {
        Ok(Part::All)
    } else if d.starts_with("name") {
        Ok(Part::Name)
    } else if d.starts_with("num") {
        Ok(Part::Num)
    } else {
        Err(FunctionError::Failed(format!(
            "Unknown callerid data type '{datatype}'."
        )))
    }
}

fn render(part: Part, party: &Party) -> String {
    match part {
        Part::All => format!("\"{}\" <{}>", party.name, party.number),
        Part::Name => party.name.clone(),
        Part::Num => party.number.clone(),
    }
}

/// `ast_shrink_phone_number`: drops `(`, `)`, spaces, `-` outside `[...]`,
/// and `.` unless last.
fn shrink_number(n: &str) -> String {
    let mut out = String::with_capacity(n.len());
    let mut bracketed = 0i32;
    let mut chars = n.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                bracketed += 1;
                out.push(c);
            }
            ']' => {
                bracketed -= 1;
                out.push(c);
            }
            '-' if bracketed > 0 => out.push(c),
            '-' => {}
            '.' if chars.peek().is_none() => out.push(c),
            '.' | '(' | ')' | ' ' => {}
            _ => out.push(c),
        }
    }
    out
}

fn strip_quotes(s: &str) -> (&str, bool) {
    let t = s.trim();
    match t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => (inner, true),
        None => (t, false),
    }
}

/// `ast_callerid_split`: `"Name" <num>`, `Name <num>`, a bare number or a
/// bare name.
pub fn split(cid: &str) -> Party {
    let (inner, quoted) = strip_quotes(cid);
    if let Some(lt) = inner.rfind('<') {
        let location = &inner[lt + 1..];
        let location = location.rfind('>').map_or(location, |gt| &location[..gt]);
        let (name, _) = strip_quotes(&inner[..lt]);
        return Party {
            name: name.replace("\\\"", "\""),
            number: shrink_number(location),
        };
    }
    let shrunk = shrink_number(inner);
    let is_number = !shrunk.is_empty()
        && shrunk
            .chars()
            .all(|c| c.is_ascii_digit() || "*#+".contains(c));
    if !quoted && is_number {
        Party {
            name: String::new(),
            number: shrunk,
        }
    } else {
        Party {
            name: strip_quotes(inner).0.replace("\\\"", "\""),
            number: String::new(),
        }
    }
}

impl Function for CallerId {
    fn name(&self) -> &'static str {
        "CALLERID"
    }

    fn synopsis(&self) -> &'static str {
        "Gets or sets Caller*ID data on the channel."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        if let Some((datatype, cid)) = args.split_once(',') {
            return Ok(render(part(datatype)?, &split(cid)));
        }
        let part = part(args)?;
        let channel = access::channel(cx, "CALLERID")?;
        Ok(render(part, &channel.caller()))
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        let part = part(args.split(',').next().unwrap_or_default())?;
        let channel = access::channel(cx, "CALLERID")?;
        let mut caller = channel.caller();
        match part {
            Part::All => caller = split(value),
            Part::Name => caller.name = value.to_owned(),
            Part::Num => caller.number = value.to_owned(),
        }
        channel.set_caller(caller);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn reads_the_channel_caller() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${CALLERID(num)}"), "101");
        assert_eq!(s("${CALLERID(number)}"), "101");
        assert_eq!(s("${CALLERID(name)}"), "Alice");
        assert_eq!(s("${CALLERID(all)}"), "\"Alice\" <101>");
        assert!(read(&executor, &channel, "CALLERID", "pres").is_err());
    }

    #[test]
    fn a_change_is_announced_and_a_rewrite_to_the_same_is_not() {
        let (core, executor, channel, _dir) = on_channel();
        let mut events = core.events.subscribe();
        executor.set(Some(&channel), "CALLERID(name)", "Alice");
        executor.set(Some(&channel), "CALLERID(name)", "Bob");
        executor.set(Some(&channel), "CALLERID(name)", "Bob");
        let mut names = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let obelus_core::events::Event::Channel(e) = event.as_ref()
                && e.kind == obelus_core::events::ChannelEventKind::CallerId
            {
                names.push(e.channel.caller.name.clone());
            }
        }
        assert_eq!(names, ["Bob"], "the channel was Alice already");
    }

    #[test]
    fn writes_parts_and_all() {
        let (_core, executor, channel, _dir) = on_channel();
        executor.set(Some(&channel), "CALLERID(num)", "555");
        executor.set(Some(&channel), "CALLERID(name)", "Bob");
        assert_eq!(
            channel.caller(),
            Party {
                number: "555".into(),
                name: "Bob".into()
            }
        );
        executor.set(
            Some(&channel),
            "CALLERID(all)",
            "\"Carol Q\" <+1 (555) 010-2000>",
        );
        assert_eq!(channel.caller().name, "Carol Q");
        assert_eq!(channel.caller().number, "+15550102000");
    }

    #[test]
    fn splits_a_given_caller_id() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${CALLERID(name,\"Dave\" <200>)}"), "Dave");
        assert_eq!(s("${CALLERID(num,Dave <200>)}"), "200");
        assert_eq!(
            split("12 34"),
            Party {
                name: String::new(),
                number: "1234".into()
            }
        );
        assert_eq!(
            split("\"1234\""),
            Party {
                name: "1234".into(),
                number: String::new()
            }
        );
        assert_eq!(
            split("Eve"),
            Party {
                name: "Eve".into(),
                number: String::new()
            }
        );
    }
}
