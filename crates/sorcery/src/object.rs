//! Object types (their fields, kinds and defaults) and objects (an id plus
//! typed values).
//!
//! Objects are kept generic — a map from option name to [`Value`] — rather
//! than one generated struct per type, because every wizard must move them
//! through the same doors: realtime rows and astdb JSON are option/text sets,
//! `retrieve_by_fields` compares options by name, and `sorcery memory cache
//! dump` prints any type. Typed accessors ([`Object::bool`], [`Object::uint`]
//! ...) give modules checked values; a module may wrap an object in its own
//! struct where it is used on a hot path.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::field::{FieldKind, Value, update_codecs};

/// One option of an object type.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// The option name, as Asterisk spells it (`direct_media`, `100rel`).
    pub name: &'static str,
    /// How its text is read.
    pub kind: FieldKind,
    /// The default applied to every new object (`None`: unset).
    pub default: Option<&'static str>,
}

/// What to do with an option the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// It is an error (files, programs): the object is invalid.
    Reject,
    /// Skip it (realtime rows carry columns that are not options; Asterisk
    /// filters them).
    Ignore,
}

/// Why one option could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFailure {
    /// The option.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// An object type: its name and options.
pub struct ObjectType {
    name: &'static str,
    fields: Vec<FieldDef>,
    index: HashMap<String, usize>,
    defaults: BTreeMap<&'static str, Value>,
}

impl fmt::Debug for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectType")
            .field("name", &self.name)
            .field("fields", &self.fields.len())
            .finish()
    }
}

/// Builds an [`ObjectType`] option by option.
pub struct ObjectTypeBuilder {
    name: &'static str,
    fields: Vec<FieldDef>,
}

/// A type definition that does not hold together (a default its own parser
/// rejects, an option defined twice): a programming error caught by tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("object type '{type_name}' option '{field}': {reason}")]
pub struct TypeError {
    /// The type.
    pub type_name: String,
    /// The option.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

fn default_of(default: &'static str) -> Option<&'static str> {
    (!default.is_empty()).then_some(default)
}

impl ObjectTypeBuilder {
    /// Adds an option of any kind. `default` is option text, `""` for none.
    pub fn field(mut self, name: &'static str, kind: FieldKind, default: &'static str) -> Self {
        self.fields.push(FieldDef {
            name,
            kind,
            default: default_of(default),
        });
        self
    }

    /// A text option.
    pub fn string(self, name: &'static str, default: &'static str) -> Self {
        self.field(name, FieldKind::Str, default)
    }

    /// Several text options without defaults (the long tail of `ps_endpoints`).
    pub fn strings(mut self, names: &[&'static str]) -> Self {
        for name in names {
            self.fields.push(FieldDef {
                name,
                kind: FieldKind::Str,
                default: None,
            });
        }
        self
    }

    /// A boolean option with Asterisk's truthiness.
    pub fn boolean(self, name: &'static str, default: &'static str) -> Self {
        self.field(name, FieldKind::Bool, default)
    }

    /// Several boolean options sharing one default.
    pub fn booleans(mut self, names: &[&'static str], default: &'static str) -> Self {
        for name in names {
            self.fields.push(FieldDef {
                name,
                kind: FieldKind::Bool,
                default: default_of(default),
            });
        }
        self
    }

    /// An unsigned integer option within `min..=max`.
    pub fn uint(self, name: &'static str, min: u64, max: u64, default: &'static str) -> Self {
        self.field(name, FieldKind::UInt { min, max }, default)
    }

    /// A signed integer option within `min..=max`.
    pub fn int(self, name: &'static str, min: i64, max: i64, default: &'static str) -> Self {
        self.field(name, FieldKind::Int { min, max }, default)
    }

    /// A floating point option within `min..=max`.
    pub fn float(self, name: &'static str, min: f64, max: f64, default: &'static str) -> Self {
        self.field(name, FieldKind::Float { min, max }, default)
    }

    /// An option taking one of `words`.
    pub fn enumeration(
        self,
        name: &'static str,
        words: &'static [&'static str],
        default: &'static str,
    ) -> Self {
        self.field(name, FieldKind::Enum(words), default)
    }

    /// A comma separated list, replaced by each setting.
    pub fn list(self, name: &'static str, default: &'static str) -> Self {
        self.field(name, FieldKind::List, default)
    }

    /// A list that each repeated setting extends.
    pub fn append_list(self, name: &'static str) -> Self {
        self.field(name, FieldKind::AppendList, "")
    }

    /// The `allow` / `disallow` pair over one codec list held by `allow`.
    pub fn codecs(self, allow: &'static str, disallow: &'static str) -> Self {
        self.field(allow, FieldKind::Codecs, "")
            .field(disallow, FieldKind::Disallow(allow), "")
    }

    /// Checks the definition and parses the defaults once.
    pub fn build(self) -> Result<ObjectType, TypeError> {
        let fail = |field: &str, reason: String| TypeError {
            type_name: self.name.to_owned(),
            field: field.to_owned(),
            reason,
        };
        let mut index = HashMap::new();
        let mut defaults = BTreeMap::new();
        for (i, def) in self.fields.iter().enumerate() {
            if index.insert(def.name.to_ascii_lowercase(), i).is_some() {
                return Err(fail(def.name, "defined twice".into()));
            }
            if let FieldKind::Disallow(target) = def.kind
                && !self
                    .fields
                    .iter()
                    .any(|f| f.name == target && matches!(f.kind, FieldKind::Codecs))
            {
                return Err(fail(def.name, format!("'{target}' is not a codec list")));
            }
            if let Some(text) = def.default
                && let Some(value) = def.kind.parse(text, None).map_err(|e| fail(def.name, e))?
            {
                defaults.insert(def.name, value);
            }
        }
        Ok(ObjectType {
            name: self.name,
            fields: self.fields,
            index,
            defaults,
        })
    }
}

impl ObjectType {
    /// Starts the definition of a type named `name` (`endpoint`).
    ///
    /// Every type accepts `type=` (a no-op: in files it selects the type).
    pub fn builder(name: &'static str) -> ObjectTypeBuilder {
        ObjectTypeBuilder {
            name,
            fields: vec![FieldDef {
                name: "type",
                kind: FieldKind::Noop,
                default: None,
            }],
        }
    }

    /// The type's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Every option, in definition order.
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// The option called `name` (ASCII case-insensitive).
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        let i = match self.index.get(name) {
            Some(i) => *i,
            None => *self.index.get(&name.to_ascii_lowercase())?,
        };
        self.fields.get(i)
    }

    /// A new object with every default applied.
    pub fn new_object(self: &Arc<Self>, id: &str) -> Object {
        Object {
            ty: Arc::clone(self),
            id: id.to_owned(),
            fields: self.defaults.clone(),
            extended: BTreeMap::new(),
        }
    }
}

/// One object: an id and typed option values.
#[derive(Clone)]
pub struct Object {
    ty: Arc<ObjectType>,
    id: String,
    fields: BTreeMap<&'static str, Value>,
    extended: BTreeMap<String, String>,
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.ty.name == other.ty.name
            && self.id == other.id
            && self.fields == other.fields
            && self.extended == other.extended
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("type", &self.ty.name)
            .field("id", &self.id)
            .field("fields", &self.fields)
            .field("extended", &self.extended)
            .finish()
    }
}

impl Object {
    /// The object's id (the `[section]` name, the `id` column).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The object's type name.
    pub fn type_name(&self) -> &'static str {
        self.ty.name
    }

    /// The object's type.
    pub fn object_type(&self) -> &Arc<ObjectType> {
        &self.ty
    }

    /// The same object under another id (used when copying).
    pub fn with_id(mut self, id: &str) -> Self {
        id.clone_into(&mut self.id);
        self
    }

    /// Sets option `name` from text, as a line `name = text` would.
    ///
    /// `@`-prefixed names are extended fields, kept verbatim. Unknown options
    /// are an error with [`Unknown::Reject`] and skipped with [`Unknown::Ignore`].
    pub fn apply(&mut self, name: &str, text: &str, unknown: Unknown) -> Result<(), FieldFailure> {
        let fail = |reason: String| FieldFailure {
            field: name.to_owned(),
            reason,
        };
        if name.starts_with('@') {
            self.extended.insert(name.to_owned(), text.to_owned());
            return Ok(());
        }
        let Some(def) = self.ty.field(name) else {
            return match unknown {
                Unknown::Reject => Err(fail(format!(
                    "unknown option for object type '{}'",
                    self.ty.name
                ))),
                Unknown::Ignore => Ok(()),
            };
        };
        let key = def.name;
        if let FieldKind::Disallow(target) = def.kind {
            let mut list = match self.fields.get(target) {
                Some(Value::Codecs(list)) => list.clone(),
                _ => Vec::new(),
            };
            update_codecs(&mut list, text, false).map_err(fail)?;
            self.fields.insert(target, Value::Codecs(list));
            return Ok(());
        }
        if let Some(value) = def.kind.parse(text, self.fields.get(key)).map_err(fail)? {
            self.fields.insert(key, value);
        }
        Ok(())
    }

    /// Sets option `name` from text; unknown options are an error.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), FieldFailure> {
        self.apply(name, text, Unknown::Reject)
    }

    /// Clears option `name` (back to "not set", not to its default).
    pub fn unset(&mut self, name: &str) {
        if let Some(def) = self.ty.field(name) {
            self.fields.remove(def.name);
        } else {
            self.extended.remove(name);
        }
    }

    /// The value of option `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self.fields.get(name) {
            Some(v) => Some(v),
            None => self.fields.get(self.ty.field(name)?.name),
        }
    }

    /// A text or enum option.
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean option.
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An unsigned integer option.
    pub fn uint(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            Value::UInt(n) => Some(*n),
            _ => None,
        }
    }

    /// A signed integer option.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// A floating point option.
    pub fn float(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// A list or codec option (empty when unset).
    pub fn list(&self, name: &str) -> &[String] {
        match self.get(name) {
            Some(Value::List(items) | Value::Codecs(items)) => items,
            _ => &[],
        }
    }

    /// An extended (`@name`) field.
    pub fn extended(&self, name: &str) -> Option<&str> {
        self.extended.get(name).map(String::as_str)
    }

    /// Every set option with its value, in name order.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.fields.iter().map(|(k, v)| (*k, v))
    }

    /// The option text of `name` as Asterisk would print it (`None` if unset).
    pub fn text(&self, name: &str) -> Option<String> {
        if name.starts_with('@') {
            return self.extended(name).map(str::to_owned);
        }
        self.get(name).map(Value::to_text)
    }

    /// The object as option/text pairs (Asterisk's object set): every set
    /// option, then the extended fields. Applying them to a new object of the
    /// same type gives this object back.
    pub fn to_fields(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_text()))
            .collect();
        out.extend(self.extended.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty() -> Arc<ObjectType> {
        Arc::new(
            ObjectType::builder("endpoint")
                .string("context", "default")
                .boolean("direct_media", "yes")
                .uint("max_contacts", 0, 65535, "0")
                .codecs("allow", "disallow")
                .list("aors", "")
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn defaults_then_settings() {
        let mut o = ty().new_object("101");
        assert_eq!(o.str("context"), Some("default"));
        assert_eq!(o.bool("direct_media"), Some(true));
        o.set("Direct_Media", "no").unwrap();
        o.set("disallow", "all").unwrap();
        o.set("allow", "g722,ulaw").unwrap();
        o.set("aors", "101, 102").unwrap();
        assert_eq!(o.bool("direct_media"), Some(false));
        assert_eq!(o.list("allow"), ["g722", "ulaw"]);
        assert_eq!(o.list("aors"), ["101", "102"]);
        assert!(
            o.set("type", "endpoint").is_ok(),
            "type= is accepted everywhere"
        );
        let err = o.set("nonsense", "1").unwrap_err();
        assert_eq!(err.field, "nonsense");
        assert!(o.apply("nonsense", "1", Unknown::Ignore).is_ok());
        o.set("@custom", "x").unwrap();
        assert_eq!(o.extended("@custom"), Some("x"));
    }

    #[test]
    fn object_sets_round_trip() {
        let t = ty();
        let mut o = t.new_object("a");
        o.set("allow", "alaw,ulaw").unwrap();
        o.set("context", "x;y").unwrap();
        o.set("@ext", "1").unwrap();
        let mut back = t.new_object("a");
        for (k, v) in o.to_fields() {
            back.set(&k, &v).unwrap();
        }
        assert_eq!(o, back);
    }

    #[test]
    fn bad_defaults_are_caught_at_build() {
        let err = ObjectType::builder("x")
            .boolean("b", "perhaps")
            .build()
            .unwrap_err();
        assert_eq!(err.field, "b");
        assert!(
            ObjectType::builder("x")
                .string("a", "")
                .string("A", "")
                .build()
                .is_err()
        );
    }
}
