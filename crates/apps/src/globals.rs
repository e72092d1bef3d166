//! Global variables: `[globals]` of `extensions.conf` (reset on `dialplan
//! reload`), `Set(GLOBAL(x)=...)`, and AMI `Setvar` without a channel.

use std::collections::HashMap;
use std::sync::RwLock;

/// The global variables.
#[derive(Debug, Default)]
pub struct Globals {
    vars: RwLock<HashMap<String, String>>,
}

impl Globals {
    /// A global variable.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// Sets a global; an empty value deletes it, as in Asterisk.
    pub fn set(&self, name: &str, value: &str) {
        let mut vars = self.vars.write().unwrap_or_else(|e| e.into_inner());
        if value.is_empty() {
            vars.remove(name);
        } else {
            vars.insert(name.to_owned(), value.to_owned());
        }
    }

    /// Replaces every global (a dialplan load).
    pub fn replace(&self, vars: impl IntoIterator<Item = (String, String)>) {
        *self.vars.write().unwrap_or_else(|e| e.into_inner()) = vars.into_iter().collect();
    }

    /// Every global, sorted by name.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<_> = self
            .vars
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort();
        all
    }
}
