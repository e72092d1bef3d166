//! Permission classes: what a user may read (events) and write (actions).

/// Class names and bits, as `manager.conf` and the `Privilege:` header spell them.
pub const CLASSES: [(&str, u32); 19] = [
    ("system", 1 << 0),
    ("call", 1 << 1),
    ("log", 1 << 2),
    ("verbose", 1 << 3),
    ("command", 1 << 4),
    ("agent", 1 << 5),
    ("user", 1 << 6),
    ("config", 1 << 7),
    ("dtmf", 1 << 8),
    ("reporting", 1 << 9),
    ("cdr", 1 << 10),
    ("dialplan", 1 << 11),
    ("originate", 1 << 12),
    ("agi", 1 << 13),
    ("cc", 1 << 15),
    ("aoc", 1 << 16),
    ("test", 1 << 17),
    ("security", 1 << 18),
    ("message", 1 << 30),
];

/// Every class.
pub const ALL: u32 = i32::MAX as u32;

/// Named bits.
pub const SYSTEM: u32 = 1;
/// `dtmf`.
pub const DTMF: u32 = 1 << 8;
/// `dialplan`.
pub const DIALPLAN: u32 = 1 << 11;
/// `call`.
pub const CALL: u32 = 1 << 1;
/// `command`.
pub const COMMAND: u32 = 1 << 4;
/// `user`.
pub const USER: u32 = 1 << 6;
/// `config`.
pub const CONFIG: u32 = 1 << 7;
/// `reporting`.
pub const REPORTING: u32 = 1 << 9;
/// `originate`.
pub const ORIGINATE: u32 = 1 << 12;
/// `security`.
pub const SECURITY: u32 = 1 << 18;

/// Parses `system,call,all` / `none`; unknown names are returned as errors.
pub fn parse(list: &str) -> Result<u32, String> {
    let mut bits = 0;
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        bits |= match lower.as_str() {
            "all" => ALL,
            "none" => 0,
            name => CLASSES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| *b)
                .ok_or_else(|| word.to_owned())?,
        };
    }
    Ok(bits)
}

/// `system,call` for a set of bits (the `Privilege:` header adds `,all`).
pub fn names(bits: u32) -> String {
    let names: Vec<&str> = CLASSES
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| *n)
        .collect();
    names.join(",")
}

/// The `Events:`/`EventMask:` value: a number, on/off words, or a class list.
pub fn event_mask(value: &str) -> Option<u32> {
    let value = value.trim();
    if let Ok(n) = value.parse::<u32>() {
        return Some(n);
    }
    match value.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "y" | "t" | "1" => Some(ALL),
        "off" | "no" | "false" | "n" | "f" | "0" => Some(0),
        _ => parse(value).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        assert_eq!(parse("system,call").unwrap(), SYSTEM | CALL);
        assert_eq!(parse("all").unwrap(), ALL);
        assert_eq!(parse("none").unwrap(), 0);
        assert_eq!(parse("system,bogus"), Err("bogus".into()));
        assert_eq!(names(SYSTEM | SECURITY), "system,security");
        assert_eq!(event_mask("off"), Some(0));
        assert_eq!(event_mask("on"), Some(ALL));
        assert_eq!(event_mask("call,user"), Some(CALL | USER));
        assert_eq!(event_mask("6"), Some(6));
    }
}
