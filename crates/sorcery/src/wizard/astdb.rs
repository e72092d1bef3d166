//! The `astdb` wizard: each object as one JSON string in astdb, at family
//! `/<prefix>/<type>`, key = id (contacts: `/registrar/contact/alice;@5f…`).

use std::sync::Arc;

use async_trait::async_trait;

use super::{Problems, Query, Wizard};
use crate::astdb::Astdb;
use crate::error::{ObjectError, Origin, SorceryError};
use crate::object::{Object, ObjectType, Unknown};

/// Objects kept in astdb.
pub struct AstdbWizard {
    db: Astdb,
    family: String,
    ty: Arc<ObjectType>,
    problems: Arc<Problems>,
}

impl AstdbWizard {
    /// A wizard storing objects of `ty` under `/<prefix>/<type>`.
    pub fn new(
        db: Astdb,
        prefix: &str,
        ty: Arc<ObjectType>,
        problems: Arc<Problems>,
    ) -> Result<Self, String> {
        let prefix = prefix.trim().trim_matches('/');
        if prefix.is_empty() {
            return Err("the astdb wizard needs a prefix (e.g. astdb,registrar)".into());
        }
        Ok(Self {
            db,
            family: format!("{prefix}/{}", ty.name()),
            ty,
            problems,
        })
    }

    fn err(e: crate::astdb::AstdbError) -> SorceryError {
        SorceryError::Astdb(e.to_string())
    }

    /// The object as one compact JSON object of strings, fields in name
    /// order (a name given twice keeps its last value), written directly:
    /// this runs for every REGISTER, and going through a `serde_json` map
    /// cost an allocation per field.
    fn json(object: &Object) -> String {
        let mut fields = object.to_fields();
        fields.reverse();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|later, earlier| later.0 == earlier.0);
        let size: usize = fields.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
        let mut out = String::with_capacity(size + 2);
        out.push('{');
        for (i, (name, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, name);
            out.push(':');
            push_json_string(&mut out, value);
        }
        out.push('}');
        out
    }

    fn object(&self, id: &str, json: &str) -> Option<Arc<Object>> {
        let origin = || Origin::Astdb {
            key: format!("/{}/{id}", self.family),
        };
        let fail = |field: Option<String>, reason: String| ObjectError {
            type_name: self.ty.name().to_owned(),
            id: id.to_owned(),
            field,
            origin: origin(),
            reason,
        };
        let map = match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                self.problems
                    .report(fail(None, "value is not a JSON object".into()));
                return None;
            }
            Err(e) => {
                self.problems
                    .report(fail(None, format!("value is not JSON: {e}")));
                return None;
            }
        };
        let mut object = self.ty.new_object(id);
        for (key, value) in &map {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Err(f) = object.apply(key, &text, Unknown::Ignore) {
                self.problems.report(fail(Some(f.field), f.reason));
                return None;
            }
        }
        Some(Arc::new(object))
    }
}

#[async_trait]
impl Wizard for AstdbWizard {
    fn name(&self) -> &'static str {
        "astdb"
    }

    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError> {
        if let Query::Id(id) = query {
            let value = self.db.get(&self.family, id).await.map_err(Self::err)?;
            return Ok(value
                .and_then(|v| self.object(id, &v))
                .into_iter()
                .collect());
        }
        let prefix = format!("/{}/", self.family);
        let entries = match query {
            // The contacts of one AOR: a range of the family, not all of it.
            Query::Prefix(id_prefix) => self.db.list_prefix(&self.family, id_prefix).await,
            _ => self.db.list(&self.family).await,
        }
        .map_err(Self::err)?;
        Ok(entries
            .iter()
            .filter_map(|(key, value)| {
                // Only direct children: a nested family is another type's.
                let id = key.strip_prefix(&prefix).filter(|id| !id.contains('/'))?;
                self.object(id, value)
            })
            .filter(|o| query.matches(o))
            .collect())
    }

    async fn create(&self, object: Arc<Object>) -> Result<(), SorceryError> {
        if self
            .db
            .contains(&self.family, object.id())
            .await
            .map_err(Self::err)?
        {
            return Err(SorceryError::Exists {
                type_name: object.type_name().to_owned(),
                id: object.id().to_owned(),
            });
        }
        self.db
            .put(&self.family, object.id(), &Self::json(&object))
            .await
            .map_err(Self::err)
    }

    async fn update(&self, object: Arc<Object>) -> Result<bool, SorceryError> {
        if !self
            .db
            .contains(&self.family, object.id())
            .await
            .map_err(Self::err)?
        {
            return Ok(false);
        }
        self.db
            .put(&self.family, object.id(), &Self::json(&object))
            .await
            .map_err(Self::err)?;
        Ok(true)
    }

    async fn delete(&self, id: &str) -> Result<bool, SorceryError> {
        self.db.del(&self.family, id).await.map_err(Self::err)
    }
}

/// Appends `s` as a JSON string, escaped as `serde_json` does (quote,
/// backslash and control characters; the rest as is).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_json_does() {
        let all: String = (0u8..=0x7f)
            .map(char::from)
            .chain("é\u{1F600}".chars())
            .collect();
        let mut out = String::new();
        push_json_string(&mut out, &all);
        assert_eq!(out, serde_json::Value::String(all).to_string());
    }
}
