//! The registry every console command lives in, and how a typed line finds one.

use std::sync::{Arc, RwLock};

use super::command::{CliArgs, CliCommand, CliError};
use super::words::{ends_in_space, split_words};

/// Why a command could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// Another module already owns these words.
    #[error("console command '{0}' is already registered")]
    Duplicate(String),
    /// A command needs at least one word.
    #[error("a console command needs at least one word")]
    Empty,
}

/// All console commands of the running daemon.
///
/// Modules register their commands when they load; the foreground console, the
/// remote consoles (`obelus -r`, `-rx`) and AMI's `Command` action all run lines
/// through the same registry, so a command behaves the same everywhere.
#[derive(Default)]
pub struct CliRegistry {
    commands: RwLock<Vec<Arc<CliCommand>>>,
}

/// How a typed line resolved against the registry.
enum Resolution {
    Found(Arc<CliCommand>, Vec<String>),
    NotFound,
}

impl CliRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a command. Commands are kept sorted by their words, the order
    /// `core show help` lists them in.
    pub fn register(&self, command: CliCommand) -> Result<(), RegisterError> {
        if command.words.is_empty() {
            return Err(RegisterError::Empty);
        }
        let mut commands = self.write();
        let key = lowercase(&command.words);
        match commands.binary_search_by(|c| lowercase(&c.words).cmp(&key)) {
            Ok(_) => Err(RegisterError::Duplicate(command.name())),
            Err(at) => {
                commands.insert(at, Arc::new(command));
                Ok(())
            }
        }
    }

    /// Removes a command by its words; returns whether it was there.
    pub fn unregister(&self, words: &str) -> bool {
        let key: Vec<String> = words.split_whitespace().map(str::to_lowercase).collect();
        let mut commands = self.write();
        let before = commands.len();
        commands.retain(|c| lowercase(&c.words) != key);
        commands.len() != before
    }

    /// Runs one line and returns everything the console should print.
    ///
    /// Never fails: an unknown command, wrong arguments or a failing handler all
    /// produce text that says what happened and what to type instead.
    pub async fn execute(&self, line: &str) -> String {
        let words = split_words(line);
        if words.is_empty() {
            return String::new();
        }
        match self.resolve(&words) {
            Resolution::NotFound => self.not_found_message(&words),
            Resolution::Found(command, args) => {
                if !command.takes_args && !args.is_empty() {
                    return usage_text(&command);
                }
                let call = CliArgs {
                    line: line.to_owned(),
                    args,
                };
                match (command.handler)(call).await {
                    Ok(output) => output,
                    Err(CliError::ShowUsage) => usage_text(&command),
                    Err(CliError::Failed(message)) => with_newline(message),
                }
            }
        }
    }

    /// Candidates for the last (possibly empty) word of `line`, for tab completion.
    pub fn complete(&self, line: &str) -> Vec<String> {
        let mut words = split_words(line);
        let partial = if ends_in_space(line) || words.is_empty() {
            String::new()
        } else {
            words.pop().unwrap_or_default()
        };
        let partial_lower = partial.to_lowercase();
        let mut out = Vec::new();
        for command in self.read().iter() {
            if !prefix_matches(&command.words, &words) {
                continue;
            }
            if let Some(next) = command.words.get(words.len()) {
                if next.to_lowercase().starts_with(&partial_lower) {
                    out.push(next.clone());
                }
            } else if let Some(completer) = &command.completer {
                let mut args: Vec<String> = words[command.words.len()..].to_vec();
                args.push(partial.clone());
                out.extend(completer(&args));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// `core show help [words]`: every command with its summary, or the usage
    /// of one command, or the commands that start with the given words.
    pub fn help(&self, words: &[String]) -> String {
        if let Resolution::Found(command, args) = self.resolve(words)
            && args.is_empty()
        {
            return usage_text(&command);
        }
        let listed: Vec<Arc<CliCommand>> = self
            .read()
            .iter()
            .filter(|c| prefix_matches(&c.words, words))
            .cloned()
            .collect();
        if listed.is_empty() {
            return format!("No such command '{}'.\n", words.join(" "));
        }
        let mut out = String::new();
        for command in listed {
            out.push_str(&format!("{:<30} -- {}\n", command.name(), command.summary));
        }
        out
    }

    /// Every registered command's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.read().iter().map(|c| c.name()).collect()
    }

    /// Finds the longest command whose words start the typed words.
    fn resolve(&self, words: &[String]) -> Resolution {
        let commands = self.read();
        let best = commands
            .iter()
            .filter(|c| c.words.len() <= words.len() && prefix_matches(&c.words, words))
            .max_by_key(|c| c.words.len());
        match best {
            Some(command) => {
                Resolution::Found(Arc::clone(command), words[command.words.len()..].to_vec())
            }
            None => Resolution::NotFound,
        }
    }

    fn not_found_message(&self, words: &[String]) -> String {
        let typed = words.join(" ");
        let mut out = format!(
            "No such command '{typed}' (type 'core show help {typed}' for other possible commands)\n"
        );
        let suggestions = self.suggestions(words);
        if !suggestions.is_empty() {
            out.push_str("Did you mean:\n");
            for suggestion in suggestions {
                out.push_str(&format!("    {suggestion}\n"));
            }
        }
        out
    }

    /// Commands close to what was typed: those the typed words begin, and those
    /// within a small edit distance (typos such as `core show versoin`).
    fn suggestions(&self, words: &[String]) -> Vec<String> {
        const MAX: usize = 5;
        let commands = self.read();
        let mut scored: Vec<(f64, String)> = Vec::new();
        for command in commands.iter() {
            let name = command.name();
            if prefix_matches(&command.words, words) {
                scored.push((2.0, name));
                continue;
            }
            let n = command.words.len().min(words.len());
            let typed = words[..n].join(" ").to_lowercase();
            let score = strsim::normalized_damerau_levenshtein(&typed, &name.to_lowercase());
            if score >= 0.7 {
                scored.push((score, name));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored.into_iter().take(MAX).map(|(_, name)| name).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<CliCommand>>> {
        // A poisoned lock only means a panic elsewhere while holding it; the
        // list itself is always consistent (every mutation is one Vec call).
        self.commands.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<CliCommand>>> {
        self.commands.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn lowercase(words: &[String]) -> Vec<String> {
    words.iter().map(|w| w.to_lowercase()).collect()
}

/// Whether the first words of `command` equal `typed` (as many as both have),
/// ignoring case as Asterisk's console does.
fn prefix_matches(command: &[String], typed: &[String]) -> bool {
    command
        .iter()
        .zip(typed)
        .all(|(c, t)| c.eq_ignore_ascii_case(t))
}

fn usage_text(command: &CliCommand) -> String {
    with_newline(command.usage.clone())
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> CliRegistry {
        let registry = CliRegistry::new();
        for words in [
            "core show version",
            "core show uptime",
            "core reload",
            "module show",
        ] {
            registry
                .register(CliCommand::new(
                    words,
                    "summary",
                    "Usage: x",
                    move |_| async move { Ok(format!("ran {words}\n")) },
                ))
                .unwrap();
        }
        registry
            .register(
                CliCommand::new(
                    "module reload",
                    "s",
                    "Usage: module reload [name]",
                    |a| async move { Ok(format!("args={:?}\n", a.args)) },
                )
                .with_completer(|_| vec!["logger".into(), "pbx_config.so".into()]),
            )
            .unwrap();
        registry
    }

    #[tokio::test]
    async fn runs_the_longest_matching_command_case_insensitively() {
        let r = registry();
        assert_eq!(
            r.execute("CORE show Version").await,
            "ran core show version\n"
        );
        assert_eq!(
            r.execute("module reload logger").await,
            "args=[\"logger\"]\n"
        );
    }

    #[tokio::test]
    async fn extra_words_print_usage() {
        assert_eq!(registry().execute("core reload now").await, "Usage: x\n");
    }

    #[tokio::test]
    async fn unknown_command_suggests_close_matches() {
        let out = registry().execute("core show versoin").await;
        assert!(
            out.starts_with("No such command 'core show versoin'"),
            "{out}"
        );
        assert!(out.contains("    core show version\n"), "{out}");
        let out = registry().execute("core show").await;
        assert!(out.contains("core show uptime"), "{out}");
    }

    #[test]
    fn completes_words_and_arguments() {
        let r = registry();
        assert_eq!(r.complete("core sh"), vec!["show"]);
        assert_eq!(r.complete("core show "), vec!["uptime", "version"]);
        assert_eq!(r.complete("mod"), vec!["module"]);
        assert_eq!(
            r.complete("module reload "),
            vec!["logger", "pbx_config.so"]
        );
    }

    #[test]
    fn rejects_duplicates() {
        let r = registry();
        let dup = CliCommand::new("core RELOAD", "", "", |_| async { Ok(String::new()) });
        assert_eq!(
            r.register(dup),
            Err(RegisterError::Duplicate("core RELOAD".into()))
        );
    }

    #[test]
    fn help_lists_with_asterisk_layout() {
        let help = registry().help(&["core".into()]);
        assert!(
            help.contains(&format!("{:<30} -- summary\n", "core reload")),
            "{help}"
        );
        assert_eq!(
            registry().help(&["nope".into()]),
            "No such command 'nope'.\n"
        );
        assert_eq!(
            registry().help(&["core".into(), "reload".into()]),
            "Usage: x\n"
        );
    }
}
