//! Starting the daemon in the background (plain `obelus`, as plain `asterisk`).
//!
//! Rather than `fork()`ing a process that may already hold threads, Obelus
//! starts itself again in foreground mode, detached: new process group, no
//! terminal, standard streams on /dev/null. The parent waits until the child's
//! control socket answers, so it can say whether the start worked.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::control::client;

/// How long the parent waits for the child to come up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts the detached daemon; returns the exit code for the parent.
pub fn start(master_file: &Path, verbose: u8, socket: &Path) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("Cannot find the obelus executable to start: {e}");
            return 1;
        }
    };
    let mut command = Command::new(exe);
    command
        .arg("--detached")
        .arg("-C")
        .arg(master_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    for _ in 0..verbose {
        command.arg("-v");
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("Cannot start Obelus: {e}");
            return 1;
        }
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut why = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                use std::io::Read;
                let _ = stderr.read_to_string(&mut why);
            }
            eprint!("{why}");
            eprintln!("Obelus failed to start ({status}).");
            return 1;
        }
        if client::connect(socket).is_ok() {
            println!(
                "Obelus started in the background (pid {}). Attach a console with 'obelus -r'; stop it with 'obelus -rx \"core stop now\"'.",
                child.id()
            );
            return 0;
        }
        if Instant::now() > deadline {
            eprintln!(
                "Obelus (pid {}) did not open its control socket {} within {}s; check its log files.",
                child.id(),
                socket.display(),
                START_TIMEOUT.as_secs()
            );
            return 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
