//! Channel variables, with Asterisk's inheritance marks: `Set(_X=1)` is
//! copied to channels this one creates (one level), `Set(__X=1)` to all
//! their descendants too. Lookups ignore the marks (`${X}`).

/// How far a variable is inherited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inherit {
    /// Not inherited.
    No,
    /// `_X`: into channels this one creates.
    Once,
    /// `__X`: into every descendant.
    Always,
}

/// The variables of one channel, in the order they were first set (as
/// `core show channel` lists them). Channels hold a handful, so a vector
/// beats a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    entries: Vec<(String, String, Inherit)>,
}

/// Splits the inheritance mark off a name being set.
pub fn split_mark(name: &str) -> (&str, Inherit) {
    if let Some(rest) = name.strip_prefix("__") {
        (rest, Inherit::Always)
    } else if let Some(rest) = name.strip_prefix('_') {
        (rest, Inherit::Once)
    } else {
        (name, Inherit::No)
    }
}

impl Variables {
    /// The value of `name` (any inheritance mark on `name` is ignored).
    pub fn get(&self, name: &str) -> Option<&str> {
        let (name, _) = split_mark(name);
        self.entries
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.as_str())
    }

    /// Sets `name` (with its mark, if any); an empty value still counts as set.
    pub fn set(&mut self, name: &str, value: &str) {
        let (bare, inherit) = split_mark(name);
        match self.entries.iter_mut().find(|(n, _, _)| n == bare) {
            Some(entry) => {
                entry.1 = value.to_owned();
                if inherit != Inherit::No {
                    entry.2 = inherit;
                }
            }
            None => self
                .entries
                .push((bare.to_owned(), value.to_owned(), inherit)),
        }
    }

    /// Removes `name` (`Set(X=)` in Asterisk deletes the variable).
    pub fn remove(&mut self, name: &str) {
        let (bare, _) = split_mark(name);
        self.entries.retain(|(n, _, _)| n != bare);
    }

    /// Every variable as `(name, value)`, names without marks.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(n, v, _)| (n.as_str(), v.as_str()))
    }

    /// What a channel created by this one inherits: `_X` arrive without a
    /// mark (they stop there), `__X` keep theirs.
    pub fn inherited(&self) -> Variables {
        let entries = self
            .entries
            .iter()
            .filter_map(|(n, v, i)| match i {
                Inherit::No => None,
                Inherit::Once => Some((n.clone(), v.clone(), Inherit::No)),
                Inherit::Always => Some((n.clone(), v.clone(), Inherit::Always)),
            })
            .collect();
        Variables { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_ignored_on_lookup_and_drive_inheritance() {
        let mut v = Variables::default();
        v.set("_ONE", "1");
        v.set("__ALL", "2");
        v.set("MINE", "3");
        assert_eq!(v.get("ONE"), Some("1"));
        assert_eq!(v.get("_ONE"), Some("1"));
        let child = v.inherited();
        assert_eq!(child.get("ONE"), Some("1"));
        assert_eq!(child.get("ALL"), Some("2"));
        assert_eq!(child.get("MINE"), None);
        let grandchild = child.inherited();
        assert_eq!(grandchild.get("ONE"), None);
        assert_eq!(grandchild.get("ALL"), Some("2"));
    }

    #[test]
    fn set_replaces_and_remove_deletes() {
        let mut v = Variables::default();
        v.set("A", "1");
        v.set("A", "2");
        assert_eq!(v.iter().count(), 1);
        assert_eq!(v.get("A"), Some("2"));
        v.remove("A");
        assert_eq!(v.get("A"), None);
    }
}
