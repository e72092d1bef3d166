//! astdb values as held in memory, packed.
//!
//! The sorcery `astdb` wizard stores each object (a registered contact,
//! above all) as a flat JSON object of strings, with every field name
//! repeated in every value: about 220 of a contact's 335 bytes are names,
//! quotes and punctuation. In memory a value of that form is kept as the
//! number of its *shape* (its list of field names, held once per database)
//! followed by the raw text of each field value, and turned back into the
//! exact same text when read. Every other value is kept as text. The file
//! keeps the JSON as Asterisk writes it; only the in-memory copy is packed.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// At most this many shapes per database (one tag byte each, 0 being
/// "text"); values of further shapes are kept as text. A database holds a
/// handful: one per object type stored through the wizard.
const MAX_SHAPES: usize = 255;

/// The tag of a value kept as text.
const TEXT: u8 = 0;

/// One value as held in memory: a tag byte, then the text (tag 0) or the
/// field values of shape `tag - 1`, each after its length (LEB128).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Packed(Box<[u8]>);

/// The shapes (field name lists) seen so far, by number.
#[derive(Debug, Default)]
pub(super) struct Shapes {
    names: Vec<Box<[Box<str>]>>,
    /// Shape numbers by the hash of their names, for finding one without
    /// building a name list per value.
    by_hash: HashMap<u64, Vec<u8>>,
}

impl Shapes {
    /// Packs `value`: as a shape and field values when it is a flat JSON
    /// object of strings in the compact form (`{"k":"v",...}`), as text
    /// otherwise.
    pub(super) fn pack(&mut self, value: &str) -> Packed {
        let Some(fields) = fields_of(value) else {
            return text(value);
        };
        let Some(shape) = self.shape_of(&fields) else {
            return text(value);
        };
        let size: usize = fields.iter().map(|(_, v)| v.len() + 2).sum();
        let mut out = Vec::with_capacity(1 + size);
        out.push(shape + 1);
        for (_, v) in &fields {
            push_len(&mut out, v.len());
            out.extend_from_slice(v.as_bytes());
        }
        Packed(out.into_boxed_slice())
    }

    /// The text `packed` was made from.
    pub(super) fn unpack(&self, packed: &Packed) -> String {
        let (&tag, rest) = packed.0.split_first().unwrap_or((&TEXT, &[]));
        let shape = match tag {
            TEXT => return String::from_utf8_lossy(rest).into_owned(),
            n => &self.names[usize::from(n - 1)],
        };
        let names: usize = shape.iter().map(|n| n.len() + 6).sum();
        let mut out = String::with_capacity(names + rest.len() + 2);
        out.push('{');
        let mut rest = rest;
        for (i, name) in shape.iter().enumerate() {
            let (len, after) = take_len(rest);
            let (value, after) = after.split_at(len.min(after.len()));
            rest = after;
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(name);
            out.push_str("\":\"");
            out.push_str(&String::from_utf8_lossy(value));
            out.push('"');
        }
        out.push('}');
        out
    }

    /// The number of the shape with these field names, added if new and
    /// there is room.
    fn shape_of(&mut self, fields: &[(&str, &str)]) -> Option<u8> {
        let mut hasher = DefaultHasher::new();
        for (name, _) in fields {
            name.hash(&mut hasher);
        }
        let hash = hasher.finish();
        let same = |n: &u8| {
            let names = &self.names[usize::from(*n)];
            names.len() == fields.len() && names.iter().zip(fields).all(|(a, (b, _))| **a == **b)
        };
        if let Some(n) = self
            .by_hash
            .get(&hash)
            .and_then(|c| c.iter().find(|n| same(n)))
        {
            return Some(*n);
        }
        if self.names.len() >= MAX_SHAPES {
            return None;
        }
        let n = u8::try_from(self.names.len()).ok()?;
        self.names
            .push(fields.iter().map(|(name, _)| Box::from(*name)).collect());
        self.by_hash.entry(hash).or_default().push(n);
        Some(n)
    }
}

fn text(value: &str) -> Packed {
    let mut out = Vec::with_capacity(1 + value.len());
    out.push(TEXT);
    out.extend_from_slice(value.as_bytes());
    Packed(out.into_boxed_slice())
}

/// The raw (still escaped) names and values of a compact flat JSON object
/// of strings, in order; `None` for anything else (another layout, another
/// kind of value, an empty object), which is then kept as text. Rendering
/// the result back gives `value` byte for byte, as nothing is unescaped.
fn fields_of(value: &str) -> Option<Vec<(&str, &str)>> {
    let body = value.strip_prefix('{')?.strip_suffix('}')?;
    let mut fields = Vec::with_capacity(24);
    let mut rest = body;
    loop {
        let (name, after) = quoted(rest)?;
        let after = after.strip_prefix(':')?;
        let (value, after) = quoted(after)?;
        fields.push((name, value));
        if after.is_empty() {
            return Some(fields);
        }
        rest = after.strip_prefix(',')?;
    }
}

/// Splits `"raw"rest` into `raw` and `rest`, honouring backslash escapes.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('"')?;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some((&inner[..i], &inner[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

fn push_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}

/// Reads a length written by [`push_len`]; a truncated one reads as what
/// it has (packed values are only made by [`Shapes::pack`]).
fn take_len(bytes: &[u8]) -> (usize, &[u8]) {
    let mut len = 0usize;
    for (i, b) in bytes.iter().enumerate() {
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (len, &bytes[i + 1..]);
        }
    }
    (len, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(shapes: &mut Shapes, value: &str) -> Packed {
        let packed = shapes.pack(value);
        assert_eq!(shapes.unpack(&packed), value);
        packed
    }

    #[test]
    fn a_contact_packs_to_its_values_and_reads_back_the_same() {
        let mut shapes = Shapes::default();
        let contact = r#"{"authenticate_qualify":"no","call_id":"1-2@127.0.0.1","endpoint":"101","expiration_time":"1765140000","outbound_proxy":"","path":"","qualify_frequency":"0","qualify_timeout":"3.000000","reg_server":"","uri":"sip:101@127.0.0.1:5061","user_agent":"Linphone \"6\" \\o/","via_addr":"127.0.0.1","via_port":"5061"}"#;
        let packed = round_trip(&mut shapes, contact);
        assert!(
            packed.0.len() < contact.len() / 2,
            "{} bytes",
            packed.0.len()
        );
        assert_eq!(packed.0[0], 1);
        // A second contact shares the shape.
        let other = contact.replace("101", "102");
        assert_eq!(round_trip(&mut shapes, &other).0[0], 1);
        assert_eq!(shapes.names.len(), 1);
    }

    #[test]
    fn anything_else_is_kept_as_text() {
        let mut shapes = Shapes::default();
        for value in [
            "",
            "Alice",
            "{}",
            "{\"a\": \"b\"}",
            "{\"a\":1}",
            "{\"a\":\"b\",}",
            "{\"a\":\"b\"",
            "{\"a\":\"unterminated}",
            "{\"a\":\"b\"}x",
            "{\"a\":{\"b\":\"c\"}}",
            "é ü \u{1F600}",
        ] {
            assert_eq!(round_trip(&mut shapes, value).0[0], TEXT, "{value}");
        }
        assert!(shapes.names.is_empty());
    }

    #[test]
    fn long_values_and_many_shapes() {
        let mut shapes = Shapes::default();
        let long = "x".repeat(100_000);
        round_trip(&mut shapes, &format!("{{\"k\":\"{long}\",\"e\":\"\"}}"));
        for n in 0..300 {
            let packed = round_trip(&mut shapes, &format!("{{\"k{n}\":\"v\"}}"));
            // Past the last shape number, values stay text.
            assert_eq!(packed.0[0] == TEXT, n >= MAX_SHAPES - 1, "{n}");
        }
    }
}
