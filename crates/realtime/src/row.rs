//! Rows as realtime returns them: column names with values, NULLs left out.

/// One row: `(column, value)` pairs in column order. A column may appear more
/// than once when an encoding driver split its value at `;`. SQL NULL columns
/// are absent ("not set": the option's default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// The fields.
    pub fields: Vec<(String, String)>,
}

impl Row {
    /// The last value of a column (case-insensitive), as Asterisk's variable
    /// retrieval gives it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(name, _)| name.eq_ignore_ascii_case(column))
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a column, in order.
    pub fn get_all<'a>(&'a self, column: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(column))
            .map(|(_, value)| value.as_str())
    }

    /// Asterisk's single-row post-processing: empty values are dropped, and a
    /// value of exactly one space means "empty but present".
    pub fn single_row_semantics(mut self) -> Self {
        self.fields.retain(|(_, value)| !value.is_empty());
        for (_, value) in &mut self.fields {
            if value == " " {
                value.clear();
            }
        }
        self
    }
}

/// One line of a configuration file stored in a static realtime table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRow {
    /// Category ordering; a new category starts when it or `category` changes.
    pub cat_metric: i64,
    /// The `[section]` name.
    pub category: String,
    /// The option name (`#include` includes `var_val` as another file).
    pub var_name: String,
    /// The option value.
    pub var_val: String,
}
