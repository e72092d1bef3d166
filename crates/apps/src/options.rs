//! Application option letters as Asterisk's `ast_app_parse_options` reads
//! them: each character is a flag, and a flag may carry an argument in
//! parentheses (`Record(x.wav,,,qt)`, `WaitExten(5,m(jazz))`).

/// Parsed option letters, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    flags: Vec<(char, Option<String>)>,
}

impl Flags {
    /// Parses `text`; an unclosed `(` takes the rest as the argument.
    pub fn parse(text: &str) -> Flags {
        let mut flags = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            let mut arg = None;
            if chars.peek() == Some(&'(') {
                chars.next();
                let mut depth = 1u32;
                let mut value = String::new();
                for a in chars.by_ref() {
                    match a {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    value.push(a);
                }
                arg = Some(value);
            }
            flags.push((c, arg));
        }
        Flags { flags }
    }

    /// Whether the flag was given.
    pub fn has(&self, flag: char) -> bool {
        self.flags.iter().any(|(c, _)| *c == flag)
    }

    /// The flag's argument, if it was given with one.
    pub fn arg(&self, flag: char) -> Option<&str> {
        self.flags
            .iter()
            .find(|(c, _)| *c == flag)
            .and_then(|(_, a)| a.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_arguments() {
        let f = Flags::parse("qm(jazz(x))t");
        assert!(f.has('q') && f.has('m') && f.has('t'));
        assert!(!f.has('j'), "letters inside an argument are not flags");
        assert_eq!(f.arg('m'), Some("jazz(x)"));
        assert_eq!(f.arg('q'), None);
        assert_eq!(Flags::parse("i(unclosed").arg('i'), Some("unclosed"));
        assert_eq!(Flags::parse(""), Flags::default());
    }
}
