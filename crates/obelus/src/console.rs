//! Interactive consoles with line editing, history and tab completion: the
//! local one of `obelus -c` and the remote one of `obelus -r`.

use std::borrow::Cow;
use std::sync::Mutex;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, ExternalPrinter, Helper};

/// What a console runs commands against.
pub trait Backend {
    /// Runs a line; `None` when the daemon is gone.
    fn execute(&self, line: &str) -> Option<String>;
    /// Candidates for the last word of `line`.
    fn complete(&self, line: &str) -> Vec<String>;
}

/// Prints log lines above the prompt once the editor exists, to standard
/// error before that.
#[derive(Default)]
pub struct Printer {
    external: Mutex<Option<Box<dyn ExternalPrinter + Send>>>,
}

impl Printer {
    /// Prints one line.
    pub fn print(&self, line: &str) {
        let mut external = self.external.lock().unwrap_or_else(|e| e.into_inner());
        let printed = external
            .as_mut()
            .is_some_and(|p| p.print(format!("{line}\n")).is_ok());
        if !printed {
            eprintln!("{line}");
        }
    }

    fn attach(&self, printer: Box<dyn ExternalPrinter + Send>) {
        *self.external.lock().unwrap_or_else(|e| e.into_inner()) = Some(printer);
    }
}

struct ConsoleHelper<'a, B: Backend> {
    backend: &'a B,
}

impl<B: Backend> Completer for ConsoleHelper<'_, B> {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let line = line.get(..pos).unwrap_or(line);
        let start = line.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let candidates = self
            .backend
            .complete(line)
            .into_iter()
            .map(|mut c| {
                c.push(' ');
                c
            })
            .collect();
        Ok((start, candidates))
    }
}

impl<B: Backend> Hinter for ConsoleHelper<'_, B> {
    type Hint = String;
}

impl<B: Backend> Highlighter for ConsoleHelper<'_, B> {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl<B: Backend> Validator for ConsoleHelper<'_, B> {}

impl<B: Backend> Helper for ConsoleHelper<'_, B> {}

/// How the console loop ended.
pub enum Ended {
    /// The user typed `quit`/`exit` or pressed Ctrl-D.
    Quit,
    /// The daemon went away.
    Disconnected,
}

/// Reads lines until `quit`, `exit`, Ctrl-D or the daemon's end.
pub fn run<B: Backend>(backend: &B, prompt: &str, printer: &Printer) -> Ended {
    let config = rustyline::Config::builder().auto_add_history(true).build();
    let mut editor: Editor<ConsoleHelper<'_, B>, DefaultHistory> = match Editor::with_config(config)
    {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("Cannot start the line editor: {e}");
            return Ended::Quit;
        }
    };
    editor.set_helper(Some(ConsoleHelper { backend }));
    if let Ok(external) = editor.create_external_printer() {
        printer.attach(Box::new(external));
    }
    let history =
        std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".obelus_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let ended = loop {
        match editor.readline(prompt) {
            Ok(line) => {
                let line = line.trim();
                if line.eq_ignore_ascii_case("quit") || line.eq_ignore_ascii_case("exit") {
                    break Ended::Quit;
                }
                if line.is_empty() {
                    continue;
                }
                match backend.execute(line) {
                    Some(output) => print!("{output}"),
                    None => break Ended::Disconnected,
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break Ended::Quit,
        }
    };
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    ended
}
