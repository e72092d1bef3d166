//! The `config` wizard: objects from the categories of a `.conf` file.
//!
//! `config,pjsip.conf,criteria=type=endpoint[,single_object=yes][,explicit_name=x][,integrity=object|file]`:
//! each category matching every criterion becomes an object named after it
//! (templates already resolved by `obelus-conf`). Read-only; a reload re-reads
//! the file only when it (or a file it includes) changed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use obelus_conf::{Config, LoadOptions, Location};

use super::{Query, Wizard};
use crate::error::{ObjectError, Origin, SorceryError};
use crate::object::{Object, ObjectType, Unknown};

/// The parsed wizard data of a `config` mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigData {
    /// The file, relative to the configuration directory.
    pub file: String,
    /// `criteria=option=value` pairs every category must have.
    pub criteria: Vec<(String, String)>,
    /// `single_object=yes`: at most one matching category.
    pub single_object: bool,
    /// `explicit_name=x`: only the category called `x`.
    pub explicit_name: Option<String>,
    /// `integrity=file`: one bad object rejects the whole file.
    pub integrity_file: bool,
}

impl ConfigData {
    /// Parses `pjsip.conf,criteria=type=endpoint,...`.
    pub fn parse(data: &str) -> Result<Self, String> {
        let mut parts = data.split(',').map(str::trim);
        let file = parts
            .next()
            .filter(|f| !f.is_empty())
            .ok_or("the config wizard needs a file name")?;
        let mut out = Self {
            file: file.to_owned(),
            criteria: Vec::new(),
            single_object: false,
            explicit_name: None,
            integrity_file: false,
        };
        for part in parts.filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not option=value"))?;
            match key.trim() {
                "criteria" => {
                    let (k, v) = value
                        .split_once('=')
                        .ok_or_else(|| format!("criteria '{value}' is not option=value"))?;
                    out.criteria
                        .push((k.trim().to_owned(), v.trim().to_owned()));
                }
                "single_object" => {
                    out.single_object = crate::field::parse_bool(value)
                        .ok_or_else(|| format!("single_object '{value}' is not yes or no"))?;
                }
                "explicit_name" => out.explicit_name = Some(value.trim().to_owned()),
                "buckets" => {
                    value
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| format!("buckets '{value}' is not a number"))?;
                }
                "integrity" => {
                    out.integrity_file = match value.trim() {
                        "file" => true,
                        "object" => false,
                        other => return Err(format!("integrity '{other}' must be file or object")),
                    };
                }
                other => return Err(format!("unknown config wizard option '{other}'")),
            }
        }
        Ok(out)
    }
}

#[derive(Default)]
struct Loaded {
    objects: Vec<Arc<Object>>,
    by_id: HashMap<String, usize>,
    stamps: Vec<(PathBuf, Option<(SystemTime, u64)>)>,
}

/// The objects built from a file, and the bad ones skipped.
type Objects = (Vec<Arc<Object>>, Vec<ObjectError>);

/// Objects read from one configuration file.
pub struct ConfigWizard {
    dir: PathBuf,
    opts: LoadOptions,
    data: ConfigData,
    ty: Arc<ObjectType>,
    state: RwLock<Arc<Loaded>>,
}

fn stamp(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl ConfigWizard {
    /// A wizard over `data.file` in `dir`, for objects of type `ty`.
    pub fn new(dir: PathBuf, opts: LoadOptions, data: ConfigData, ty: Arc<ObjectType>) -> Self {
        Self {
            dir,
            opts,
            data,
            ty,
            state: RwLock::new(Arc::new(Loaded::default())),
        }
    }

    fn current(&self) -> Arc<Loaded> {
        Arc::clone(&self.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn file_error(&self, location: Location, reason: String) -> ObjectError {
        ObjectError {
            type_name: self.ty.name().to_owned(),
            id: String::new(),
            field: None,
            origin: Origin::File(location),
            reason,
        }
    }

    /// Builds the objects of a parsed file: `Err` when the whole file must be
    /// rejected, otherwise the objects and the bad ones skipped.
    fn objects_of(&self, config: &Config) -> Result<Objects, Vec<ObjectError>> {
        let mut objects: Vec<Arc<Object>> = Vec::new();
        let mut problems = Vec::new();
        let mut matched: Vec<&obelus_conf::Category> = Vec::new();
        for cat in config.categories() {
            if let Some(name) = &self.data.explicit_name
                && cat.name != *name
            {
                continue;
            }
            if self
                .data
                .criteria
                .iter()
                .all(|(k, v)| cat.get(k) == Some(v.as_str()))
            {
                matched.push(cat);
            }
        }
        if self.data.single_object && matched.len() > 1 {
            let second = matched
                .get(1)
                .map(|c| c.location.clone())
                .unwrap_or_else(|| Location::whole_file(self.data.file.as_str().into()));
            return Err(vec![self.file_error(
                second,
                format!(
                    "only one '{}' object may be defined (single_object)",
                    self.ty.name()
                ),
            )]);
        }
        for cat in matched {
            let mut object = self.ty.new_object(&cat.name);
            let mut bad = None;
            for var in cat.variables() {
                if let Err(f) = object.apply(&var.name, &var.value, Unknown::Reject) {
                    bad = Some(ObjectError {
                        type_name: self.ty.name().to_owned(),
                        id: cat.name.clone(),
                        field: Some(f.field),
                        origin: Origin::File(var.location.clone()),
                        reason: f.reason,
                    });
                    break;
                }
            }
            match bad {
                Some(e) => problems.push(e),
                None => {
                    if let Some(pos) = objects.iter().position(|o| o.id() == cat.name) {
                        objects.remove(pos);
                    }
                    objects.push(Arc::new(object));
                }
            }
        }
        if self.data.integrity_file && !problems.is_empty() {
            return Err(problems);
        }
        Ok((objects, problems))
    }

    fn read(&self, force: bool) -> Vec<ObjectError> {
        let previous = self.current();
        if !force
            && !previous.stamps.is_empty()
            && previous.stamps.iter().all(|(path, s)| stamp(path) == *s)
        {
            return Vec::new();
        }
        let config = match obelus_conf::load(&self.dir, &self.data.file, &self.opts) {
            Ok(config) => config,
            Err(e) if e.is_not_found() => {
                tracing::debug!(
                    "sorcery config wizard: {} not found; no {} objects",
                    self.data.file,
                    self.ty.name()
                );
                *self.state.write().unwrap_or_else(|e| e.into_inner()) =
                    Arc::new(Loaded::default());
                return Vec::new();
            }
            Err(e) => {
                return e
                    .iter()
                    .map(|c| self.file_error(c.location.clone(), c.kind.to_string()))
                    .collect();
            }
        };
        let stamps = config
            .paths()
            .iter()
            .map(|p| (p.clone(), stamp(p)))
            .collect();
        match self.objects_of(&config) {
            Ok((objects, problems)) => {
                let by_id = objects
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (o.id().to_owned(), i))
                    .collect();
                *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Loaded {
                    objects,
                    by_id,
                    stamps,
                });
                problems
            }
            Err(problems) => problems,
        }
    }
}

#[async_trait]
impl Wizard for ConfigWizard {
    fn name(&self) -> &'static str {
        "config"
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn load(&self) -> Vec<ObjectError> {
        self.read(true)
    }

    async fn reload(&self) -> Vec<ObjectError> {
        self.read(false)
    }

    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError> {
        let loaded = self.current();
        Ok(match query {
            Query::Id(id) => loaded
                .by_id
                .get(id)
                .and_then(|&i| loaded.objects.get(i))
                .cloned()
                .into_iter()
                .collect(),
            q => loaded
                .objects
                .iter()
                .filter(|o| q.matches(o))
                .cloned()
                .collect(),
        })
    }

    async fn create(&self, object: Arc<Object>) -> Result<(), SorceryError> {
        Err(SorceryError::NotWritable(object.type_name().to_owned()))
    }

    async fn update(&self, object: Arc<Object>) -> Result<bool, SorceryError> {
        Err(SorceryError::NotWritable(object.type_name().to_owned()))
    }

    async fn delete(&self, _id: &str) -> Result<bool, SorceryError> {
        Err(SorceryError::NotWritable(self.ty.name().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wizard_data() {
        let d = ConfigData::parse("pjsip.conf,criteria=type=endpoint").unwrap();
        assert_eq!(d.file, "pjsip.conf");
        assert_eq!(d.criteria, [("type".to_owned(), "endpoint".to_owned())]);
        let d =
            ConfigData::parse("pjsip.conf,single_object=yes,explicit_name=global,integrity=file")
                .unwrap();
        assert!(d.single_object && d.integrity_file);
        assert_eq!(d.explicit_name.as_deref(), Some("global"));
        assert!(ConfigData::parse("").is_err());
        assert!(ConfigData::parse("x.conf,bogus=1").is_err());
        assert!(ConfigData::parse("x.conf,integrity=maybe").is_err());
    }
}
