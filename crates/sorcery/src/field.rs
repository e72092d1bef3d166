//! Field kinds, values and the parsers that turn option text into values.
//!
//! Every option of every object type is parsed here, whether it came from a
//! `.conf` file, a realtime row or an astdb JSON blob, so `direct_media=maybe`
//! is rejected the same way everywhere.

use std::fmt;
use std::sync::Arc;

/// A custom parser: given the text and the field's current value (so that a
/// repeated option can accumulate), returns the new value or why the text is wrong.
pub type CustomParser = Arc<dyn Fn(&str, Option<&Value>) -> Result<Value, String> + Send + Sync>;

/// How an option's text is read.
#[derive(Clone)]
pub enum FieldKind {
    /// Free text, kept verbatim; the last setting wins.
    Str,
    /// Asterisk's truthiness (`ast_true`/`ast_false`): yes/no, true/false,
    /// on/off, 1/0, y/n, t/f, any case.
    Bool,
    /// An unsigned integer within `min..=max`.
    UInt {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// A signed integer within `min..=max`.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A floating point number within `min..=max`.
    Float {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// One of a fixed set of words (compared ignoring ASCII case, stored as listed).
    Enum(&'static [&'static str]),
    /// A comma separated list (`aors=101,102`); each setting replaces the list.
    List,
    /// A list where every setting adds to what is there (`match=`, `local_net=`,
    /// `set_var=` may be repeated).
    AppendList,
    /// A codec preference list with Asterisk's `allow` semantics: names are
    /// added in order, `all` adds every codec, `!name` and `!all` remove.
    Codecs,
    /// `disallow=`: removes codecs from the list held by the named `allow` field.
    Disallow(&'static str),
    /// Accepted and ignored (`type=`, which selects the object type in files).
    Noop,
    /// Parsed by a function of the module that owns the type.
    Custom(CustomParser),
}

impl fmt::Debug for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str => f.write_str("Str"),
            Self::Bool => f.write_str("Bool"),
            Self::UInt { min, max } => write!(f, "UInt({min}..={max})"),
            Self::Int { min, max } => write!(f, "Int({min}..={max})"),
            Self::Float { min, max } => write!(f, "Float({min}..={max})"),
            Self::Enum(words) => write!(f, "Enum({words:?})"),
            Self::List => f.write_str("List"),
            Self::AppendList => f.write_str("AppendList"),
            Self::Codecs => f.write_str("Codecs"),
            Self::Disallow(target) => write!(f, "Disallow({target})"),
            Self::Noop => f.write_str("Noop"),
            Self::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// A parsed option value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text (also what an [`FieldKind::Enum`] holds, in its canonical spelling).
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An unsigned integer.
    UInt(u64),
    /// A signed integer.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// A list of words, in order.
    List(Vec<String>),
    /// Codec names in preference order.
    Codecs(Vec<String>),
}

impl Value {
    /// The value written back as option text, in a form the field's parser
    /// reads back to the same value (used for realtime rows, astdb JSON and
    /// `show`/`dump` output). Booleans are `true`/`false`, as Asterisk's
    /// sorcery writes them (both are in the schema's `ast_bool_values`).
    pub fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
            Value::UInt(n) => n.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(x) => x.to_string(),
            Value::List(items) | Value::Codecs(items) => items.join(","),
        }
    }
}

/// Asterisk's `ast_true`/`ast_false`.
pub fn parse_bool(text: &str) -> Option<bool> {
    obelus_core::settings::parse_bool(text)
}

/// The codec names Asterisk knows (`core show codecs`), in the order `allow=all` adds them.
pub const KNOWN_CODECS: &[&str] = &[
    "g723", "gsm", "ulaw", "alaw", "g726", "adpcm", "slin", "slin12", "slin16", "slin24", "slin32",
    "slin44", "slin48", "slin96", "slin192", "lpc10", "g729", "speex", "speex16", "speex32",
    "ilbc", "g726aal2", "g722", "siren7", "siren14", "testlaw", "g719", "opus", "codec2", "silk8",
    "silk12", "silk16", "silk24", "jpeg", "png", "h261", "h263", "h263p", "h264", "h265", "mpeg4",
    "vp8", "vp9", "red", "t140", "t140red", "t38", "none",
];

fn codec_name(word: &str) -> Result<String, String> {
    let lower = word.to_ascii_lowercase();
    if KNOWN_CODECS.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(format!("unknown codec '{word}'"))
    }
}

/// Applies one `allow=` (or, with `allow == false`, one `disallow=`) value to
/// a codec list, as `ast_format_cap_update_by_allow_disallow` does.
pub fn update_codecs(list: &mut Vec<String>, text: &str, allow: bool) -> Result<(), String> {
    for word in text
        .split([',', '|'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        let (adding, name) = match word.strip_prefix('!') {
            Some(rest) => (!allow, rest.trim()),
            None => (allow, word),
        };
        // `ulaw:20` (a framing suffix) names the codec before the colon.
        let name = name.split(':').next().unwrap_or(name);
        if name.eq_ignore_ascii_case("all") {
            if adding {
                for c in KNOWN_CODECS.iter().filter(|c| **c != "none") {
                    if !list.iter().any(|x| x == c) {
                        list.push((*c).to_owned());
                    }
                }
            } else {
                list.clear();
            }
            continue;
        }
        let name = codec_name(name)?;
        if adding {
            if !list.contains(&name) {
                list.push(name);
            }
        } else {
            list.retain(|c| *c != name);
        }
    }
    Ok(())
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FieldKind {
    /// Parses `text` for a field whose current value is `current`.
    ///
    /// Returns the field's new value, or a message saying what was expected.
    /// [`FieldKind::Disallow`] is handled by the object (it changes another
    /// field) and [`FieldKind::Noop`] never yields a value.
    pub fn parse(&self, text: &str, current: Option<&Value>) -> Result<Option<Value>, String> {
        let t = text.trim();
        let value = match self {
            FieldKind::Str => Value::Str(text.to_owned()),
            FieldKind::Bool => Value::Bool(
                parse_bool(t)
                    .ok_or_else(|| format!("'{text}' is not a boolean (expected yes or no)"))?,
            ),
            FieldKind::UInt { min, max } => {
                let n: u64 = t
                    .parse()
                    .map_err(|_| format!("'{text}' is not an unsigned integer"))?;
                if n < *min || n > *max {
                    return Err(format!("{n} is out of range ({min} to {max})"));
                }
                Value::UInt(n)
            }
            FieldKind::Int { min, max } => {
                let n: i64 = t
                    .parse()
                    .map_err(|_| format!("'{text}' is not an integer"))?;
                if n < *min || n > *max {
                    return Err(format!("{n} is out of range ({min} to {max})"));
                }
                Value::Int(n)
            }
            FieldKind::Float { min, max } => {
                let x: f64 = t.parse().map_err(|_| format!("'{text}' is not a number"))?;
                if !x.is_finite() || x < *min || x > *max {
                    return Err(format!("{t} is out of range ({min} to {max})"));
                }
                Value::Float(x)
            }
            FieldKind::Enum(words) => {
                let word = words
                    .iter()
                    .find(|w| w.eq_ignore_ascii_case(t))
                    .ok_or_else(|| format!("'{text}' is not one of {}", words.join(", ")))?;
                Value::Str((*word).to_owned())
            }
            FieldKind::List => Value::List(split_list(t)),
            FieldKind::AppendList => {
                let mut items = match current {
                    Some(Value::List(items)) => items.clone(),
                    _ => Vec::new(),
                };
                items.extend(split_list(t));
                Value::List(items)
            }
            FieldKind::Codecs => {
                let mut list = match current {
                    Some(Value::Codecs(list)) => list.clone(),
                    _ => Vec::new(),
                };
                update_codecs(&mut list, t, true)?;
                Value::Codecs(list)
            }
            FieldKind::Disallow(_) | FieldKind::Noop => return Ok(None),
            FieldKind::Custom(parse) => parse(text, current)?,
        };
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asterisk's `ast_true`: "yes", "true", "y", "t", "1", "on" are true,
    /// their counterparts false, in any case.
    #[test]
    fn booleans_follow_asterisk_truthiness() {
        for t in ["yes", "TRUE", "y", "t", "1", "On"] {
            assert_eq!(
                FieldKind::Bool.parse(t, None).unwrap(),
                Some(Value::Bool(true)),
                "{t}"
            );
        }
        for f in ["no", "False", "n", "F", "0", "off"] {
            assert_eq!(
                FieldKind::Bool.parse(f, None).unwrap(),
                Some(Value::Bool(false)),
                "{f}"
            );
        }
        assert!(FieldKind::Bool.parse("maybe", None).is_err());
    }

    #[test]
    fn integers_respect_ranges() {
        let k = FieldKind::UInt { min: 1, max: 10 };
        assert_eq!(k.parse("5", None).unwrap(), Some(Value::UInt(5)));
        assert!(k.parse("0", None).is_err());
        assert!(k.parse("-1", None).is_err());
        assert!(k.parse("x", None).is_err());
        let k = FieldKind::Int { min: -5, max: 5 };
        assert_eq!(k.parse("-5", None).unwrap(), Some(Value::Int(-5)));
        let k = FieldKind::Float {
            min: 0.0,
            max: 10.0,
        };
        assert_eq!(k.parse("3.5", None).unwrap(), Some(Value::Float(3.5)));
        assert!(k.parse("NaN", None).is_err());
    }

    #[test]
    fn enums_are_canonicalised() {
        let k = FieldKind::Enum(&["rfc4733", "inband"]);
        assert_eq!(
            k.parse("RFC4733", None).unwrap(),
            Some(Value::Str("rfc4733".into()))
        );
        assert!(k.parse("rfc2833", None).is_err());
    }

    /// `allow=!all,ulaw` and `disallow=all` then `allow=...`: order is preference.
    #[test]
    fn codec_lists_follow_allow_disallow() {
        let mut list = Vec::new();
        update_codecs(&mut list, "g722,ulaw", true).unwrap();
        update_codecs(&mut list, "alaw", true).unwrap();
        assert_eq!(list, ["g722", "ulaw", "alaw"]);
        update_codecs(&mut list, "!all,ulaw", true).unwrap();
        assert_eq!(list, ["ulaw"]);
        update_codecs(&mut list, "all", false).unwrap();
        assert!(list.is_empty());
        update_codecs(&mut list, "all", true).unwrap();
        assert!(list.len() > 20 && list.contains(&"opus".to_owned()));
        update_codecs(&mut list, "ulaw,!alaw", false).unwrap();
        assert!(!list.contains(&"ulaw".to_owned()) && list.contains(&"alaw".to_owned()));
        assert!(update_codecs(&mut list, "nonsense", true).is_err());
    }

    #[test]
    fn append_lists_accumulate_and_lists_replace() {
        let first = FieldKind::AppendList.parse("1.2.3.4", None).unwrap();
        let second = FieldKind::AppendList
            .parse("5.6.7.8, 9.9.9.9", first.as_ref())
            .unwrap();
        assert_eq!(
            second,
            Some(Value::List(vec![
                "1.2.3.4".into(),
                "5.6.7.8".into(),
                "9.9.9.9".into()
            ]))
        );
        let replaced = FieldKind::List.parse("b", second.as_ref()).unwrap();
        assert_eq!(replaced, Some(Value::List(vec!["b".into()])));
    }
}
