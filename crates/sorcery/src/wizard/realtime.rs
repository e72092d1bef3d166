//! The `realtime` wizard: objects as rows of a realtime family (`ps_endpoints`).
//!
//! `realtime,<family>[,allow_unqualified_fetch=yes|no|warn|error]`. Nothing is
//! cached: every retrieval asks the database, so a row inserted by hand is
//! visible at once. A row with a bad value is skipped and reported with its
//! table, id and column; the other rows still load.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_realtime::{Criterion, Realtime, RealtimeService, Row};

use super::{Problems, Query, Wizard, like_escape};
use crate::error::{ObjectError, Origin, SorceryError};
use crate::object::{Object, ObjectType, Unknown};

/// What to do with "every object" fetches (`id LIKE '%'`), Asterisk's
/// `allow_unqualified_fetch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnqualifiedFetch {
    /// Run them (the default).
    Yes,
    /// Answer nothing.
    No,
    /// Run them and log a warning.
    Warn,
    /// Answer nothing and log an error.
    Error,
}

/// The parsed data of a `realtime` mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealtimeData {
    /// The extconfig family.
    pub family: String,
    /// Unqualified fetch policy.
    pub unqualified: UnqualifiedFetch,
}

impl RealtimeData {
    /// Parses `ps_endpoints[,allow_unqualified_fetch=...]`.
    pub fn parse(data: &str) -> Result<Self, String> {
        let mut parts = data.split(',').map(str::trim);
        let family = parts
            .next()
            .filter(|f| !f.is_empty())
            .ok_or("the realtime wizard needs a family name")?;
        let mut unqualified = UnqualifiedFetch::Yes;
        for part in parts.filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not option=value"))?;
            if key.trim() != "allow_unqualified_fetch" {
                return Err(format!("unknown realtime wizard option '{}'", key.trim()));
            }
            unqualified = match value.trim().to_ascii_lowercase().as_str() {
                "warn" => UnqualifiedFetch::Warn,
                "error" => UnqualifiedFetch::Error,
                v => match crate::field::parse_bool(v) {
                    Some(true) => UnqualifiedFetch::Yes,
                    Some(false) => UnqualifiedFetch::No,
                    None => {
                        return Err(format!(
                            "allow_unqualified_fetch '{value}' must be yes, no, warn or error"
                        ));
                    }
                },
            };
        }
        Ok(Self {
            family: family.to_owned(),
            unqualified,
        })
    }
}

/// Objects in a realtime family.
pub struct RealtimeWizard {
    service: Arc<RealtimeService>,
    data: RealtimeData,
    ty: Arc<ObjectType>,
    problems: Arc<Problems>,
}

/// The literal text a regular expression's matches must start with (after a
/// `^`), and whether the whole expression is that literal.
fn literal_prefix(pattern: &str) -> (bool, String) {
    let (anchored, rest) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    if rest.contains('|') {
        return (anchored, String::new());
    }
    let mut literal: String = rest
        .chars()
        .take_while(|c| !".^$*+?()[]{}|\\".contains(*c))
        .collect();
    // A quantifier after the run makes its last character optional.
    if rest
        .get(literal.len()..)
        .is_some_and(|after| after.starts_with(['?', '*', '{']))
    {
        literal.pop();
    }
    (anchored, literal)
}

impl RealtimeWizard {
    /// A wizard over `data.family`; the family is checked by the caller.
    pub fn new(
        service: Arc<RealtimeService>,
        data: RealtimeData,
        ty: Arc<ObjectType>,
        problems: Arc<Problems>,
    ) -> Self {
        Self {
            service,
            data,
            ty,
            problems,
        }
    }

    fn realtime(&self) -> Result<Arc<Realtime>, SorceryError> {
        self.service.get().ok_or(SorceryError::NoRealtime)
    }

    fn table(realtime: &Realtime, family: &str) -> String {
        realtime
            .extconfig()
            .chain(family)
            .first()
            .map_or_else(|| family.to_owned(), |m| m.table.clone())
    }

    /// A row as an object, or `None` (reported) when a value is bad.
    fn object(&self, row: Row, table: &str) -> Option<Arc<Object>> {
        let row = row.single_row_semantics();
        let id = row.get("id")?.to_owned();
        let mut object = self.ty.new_object(&id);
        for (column, value) in &row.fields {
            if column.eq_ignore_ascii_case("id") {
                continue;
            }
            if let Err(f) = object.apply(column, value, Unknown::Ignore) {
                self.problems.report(ObjectError {
                    type_name: self.ty.name().to_owned(),
                    id: id.clone(),
                    field: Some(f.field),
                    origin: Origin::Realtime {
                        table: table.to_owned(),
                        id,
                    },
                    reason: f.reason,
                });
                return None;
            }
        }
        Some(Arc::new(object))
    }

    async fn multi(&self, criteria: &[Criterion]) -> Result<Vec<Arc<Object>>, SorceryError> {
        let realtime = self.realtime()?;
        let table = Self::table(&realtime, &self.data.family);
        let rows = realtime.load_multi(&self.data.family, criteria).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| self.object(row, &table))
            .collect())
    }

    fn like(pattern: String) -> Result<Vec<Criterion>, SorceryError> {
        Ok(vec![Criterion::parse("id LIKE", &pattern)?])
    }

    fn id(id: &str) -> Result<Vec<Criterion>, SorceryError> {
        Ok(vec![Criterion::eq("id", id)?])
    }
}

#[async_trait]
impl Wizard for RealtimeWizard {
    fn name(&self) -> &'static str {
        "realtime"
    }

    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError> {
        match query {
            Query::Id(id) => {
                let realtime = self.realtime()?;
                let table = Self::table(&realtime, &self.data.family);
                let row = realtime.load(&self.data.family, &Self::id(id)?).await?;
                Ok(row
                    .and_then(|r| self.object(r, &table))
                    .into_iter()
                    .collect())
            }
            Query::Fields(criteria) if criteria.is_empty() => self.retrieve(&Query::All).await,
            Query::Fields(criteria) => self.multi(criteria).await,
            Query::Prefix(prefix) => {
                self.multi(&Self::like(format!("{}%", like_escape(prefix)))?)
                    .await
            }
            Query::Regex(re) => {
                let (anchored, literal) = literal_prefix(re.as_str());
                let pattern = if anchored {
                    format!("{}%", like_escape(&literal))
                } else {
                    format!("%{}%", like_escape(&literal))
                };
                let found = self.multi(&Self::like(pattern)?).await?;
                Ok(found.into_iter().filter(|o| re.is_match(o.id())).collect())
            }
            Query::All => {
                match self.data.unqualified {
                    UnqualifiedFetch::Yes => {}
                    UnqualifiedFetch::Warn => tracing::warn!(
                        "sorcery realtime: unqualified fetch of every {} from {}",
                        self.ty.name(),
                        self.data.family
                    ),
                    UnqualifiedFetch::No => return Ok(Vec::new()),
                    UnqualifiedFetch::Error => {
                        tracing::error!(
                            "sorcery realtime: unqualified fetch of every {} from {} refused (allow_unqualified_fetch=error)",
                            self.ty.name(),
                            self.data.family
                        );
                        return Ok(Vec::new());
                    }
                }
                self.multi(&Self::like("%".to_owned())?).await
            }
        }
    }

    async fn create(&self, object: Arc<Object>) -> Result<(), SorceryError> {
        let mut fields = vec![("id".to_owned(), object.id().to_owned())];
        fields.extend(object.to_fields());
        let stored = self.realtime()?.store(&self.data.family, &fields).await?;
        if stored == 0 {
            return Err(SorceryError::Exists {
                type_name: object.type_name().to_owned(),
                id: object.id().to_owned(),
            });
        }
        Ok(())
    }

    async fn update(&self, object: Arc<Object>) -> Result<bool, SorceryError> {
        let changed = self
            .realtime()?
            .update(
                &self.data.family,
                &Self::id(object.id())?,
                &object.to_fields(),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn delete(&self, id: &str) -> Result<bool, SorceryError> {
        Ok(self
            .realtime()?
            .destroy(&self.data.family, &Self::id(id)?)
            .await?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wizard_data() {
        let d = RealtimeData::parse("ps_endpoints").unwrap();
        assert_eq!(
            (d.family.as_str(), d.unqualified),
            ("ps_endpoints", UnqualifiedFetch::Yes)
        );
        let d = RealtimeData::parse("ps_contacts,allow_unqualified_fetch=error").unwrap();
        assert_eq!(d.unqualified, UnqualifiedFetch::Error);
        assert!(RealtimeData::parse("").is_err());
        assert!(RealtimeData::parse("x,foo=1").is_err());
    }

    #[test]
    fn regex_to_like_prefix() {
        assert_eq!(literal_prefix("^101"), (true, "101".into()));
        assert_eq!(literal_prefix("^10.*"), (true, "10".into()));
        assert_eq!(literal_prefix("abc"), (false, "abc".into()));
        assert_eq!(literal_prefix("xy?z"), (false, "x".into()));
        assert_eq!(literal_prefix("^a|b"), (true, String::new()));
    }
}
