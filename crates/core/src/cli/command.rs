//! One console command: its words, its help, and the code that runs it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What a command handler returns: its output text, or why it could not run.
pub type CliResult = Result<String, CliError>;

/// The future a handler returns. Boxed so that commands of every module can live
/// in one registry; `'static` so that a command keeps running to completion even
/// when the console that asked for it disconnects half way.
pub type CliFuture = Pin<Box<dyn Future<Output = CliResult> + Send + 'static>>;

/// The code behind a command.
pub type CliHandler = Arc<dyn Fn(CliArgs) -> CliFuture + Send + Sync>;

/// Completes the arguments of a command (module names, endpoint ids ...).
///
/// Given the words typed after the command's own words (the last one possibly
/// partial), returns the candidates for the last word.
pub type ArgCompleter = Arc<dyn Fn(&[String]) -> Vec<String> + Send + Sync>;

/// Why a command produced no normal output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// The arguments do not fit the command: the console prints its usage text
    /// (Asterisk's `CLI_SHOWUSAGE`).
    #[error("wrong arguments")]
    ShowUsage,
    /// The command ran and failed; the message says why and what to do.
    #[error("{0}")]
    Failed(String),
}

/// The words of one invocation, split as Asterisk's console splits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliArgs {
    /// The whole line as typed.
    pub line: String,
    /// The arguments after the command's own words.
    pub args: Vec<String>,
}

/// A console command registered by a module.
///
/// Commands are fixed word sequences (`core show version`); anything typed after
/// them is passed to the handler as arguments. Alternatives such as
/// `core stop now|gracefully` are registered as separate commands.
pub struct CliCommand {
    pub(crate) words: Vec<String>,
    pub(crate) summary: String,
    pub(crate) usage: String,
    pub(crate) takes_args: bool,
    pub(crate) handler: CliHandler,
    pub(crate) completer: Option<ArgCompleter>,
}

impl CliCommand {
    /// A command made of `words` (e.g. `"core show version"`), with a one-line
    /// `summary` for `core show help` and a `usage` text printed by `help <cmd>`
    /// or when the handler returns [`CliError::ShowUsage`].
    ///
    /// The command takes no arguments unless [`CliCommand::with_args`] is called:
    /// extra words then make the console print the usage text instead of
    /// silently ignoring them.
    pub fn new<F, Fut>(words: &str, summary: &str, usage: &str, handler: F) -> Self
    where
        F: Fn(CliArgs) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CliResult> + Send + 'static,
    {
        Self {
            words: words.split_whitespace().map(str::to_owned).collect(),
            summary: summary.to_owned(),
            usage: usage.to_owned(),
            takes_args: false,
            handler: Arc::new(move |args| Box::pin(handler(args))),
            completer: None,
        }
    }

    /// Lets the command accept arguments after its words.
    pub fn with_args(mut self) -> Self {
        self.takes_args = true;
        self
    }

    /// Adds tab completion for the command's arguments.
    pub fn with_completer(
        mut self,
        completer: impl Fn(&[String]) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.takes_args = true;
        self.completer = Some(Arc::new(completer));
        self
    }

    /// The command's words joined by single spaces, as shown in help.
    pub fn name(&self) -> String {
        self.words.join(" ")
    }

    /// The one-line summary shown by `core show help`.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The usage text shown by `core show help <command>`.
    pub fn usage(&self) -> &str {
        &self.usage
    }
}

impl std::fmt::Debug for CliCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CliCommand")
            .field("words", &self.words)
            .field("takes_args", &self.takes_args)
            .finish_non_exhaustive()
    }
}
