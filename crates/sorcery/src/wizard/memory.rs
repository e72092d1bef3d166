//! The `memory` wizard: objects held in memory, lost on restart.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use super::{Query, Wizard};
use crate::error::SorceryError;
use crate::object::Object;

/// Objects in memory, by id (answers come back ordered by id).
#[derive(Debug, Default)]
pub struct MemoryWizard {
    objects: RwLock<BTreeMap<String, Arc<Object>>>,
}

impl MemoryWizard {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Wizard for MemoryWizard {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError> {
        let objects = self.objects.read().unwrap_or_else(|e| e.into_inner());
        Ok(match query {
            Query::Id(id) => objects.get(id).cloned().into_iter().collect(),
            Query::Prefix(prefix) => objects
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(prefix.as_str()))
                .map(|(_, o)| Arc::clone(o))
                .collect(),
            q => objects.values().filter(|o| q.matches(o)).cloned().collect(),
        })
    }

    async fn create(&self, object: Arc<Object>) -> Result<(), SorceryError> {
        let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
        if objects.contains_key(object.id()) {
            return Err(SorceryError::Exists {
                type_name: object.type_name().to_owned(),
                id: object.id().to_owned(),
            });
        }
        objects.insert(object.id().to_owned(), object);
        Ok(())
    }

    async fn update(&self, object: Arc<Object>) -> Result<bool, SorceryError> {
        let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
        match objects.get_mut(object.id()) {
            Some(slot) => {
                *slot = object;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, id: &str) -> Result<bool, SorceryError> {
        Ok(self
            .objects
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .is_some())
    }
}
