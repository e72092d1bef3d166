//! The daemon and its consoles, driven as a user drives them.

use std::io::Write;
use std::process::Stdio;

use crate::common::{ConfDir, send_and_hang_up, wait_for_socket, wait_for_stop};

/// The README's promise: start in the background, ask the version, stop.
#[test]
fn background_start_version_and_stop() {
    let conf = ConfDir::new();
    let start = conf.run(&[]);
    assert!(
        start.status.success(),
        "background start failed: {}",
        String::from_utf8_lossy(&start.stderr)
    );
    assert!(String::from_utf8_lossy(&start.stdout).contains("Obelus started in the background"));
    wait_for_socket(&conf.socket());
    assert!(
        conf.path().join("run/obelus.pid").exists(),
        "pid file written"
    );

    let (code, out, _) = conf.rx("core show version");
    assert_eq!(code, 0);
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("Obelus 0.1.0 "), "{out}");

    let (code, out, _) = conf.rx("core stop now");
    assert_eq!(code, 0);
    assert!(out.contains("Shutting down"), "{out}");
    wait_for_stop(&conf.socket());
    assert!(
        !conf.path().join("run/obelus.pid").exists(),
        "pid file removed"
    );

    let (code, _, err) = conf.rx("core show version");
    assert_eq!(code, 1, "-rx without a daemon fails");
    assert!(err.contains("Is Obelus running?"), "{err}");
}

#[test]
fn second_daemon_on_the_same_socket_refuses_to_start() {
    let conf = ConfDir::new();
    let _daemon = conf.start_foreground();
    let second = conf.run(&["-f"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));
    let (code, _, _) = conf.rx("core show uptime");
    assert_eq!(code, 0, "the first daemon still answers");
}

#[test]
fn unknown_command_lists_close_matches() {
    let conf = ConfDir::new();
    let _daemon = conf.start_foreground();
    let (_, out, _) = conf.rx("core show versoin");
    assert!(
        out.starts_with("No such command 'core show versoin'"),
        "{out}"
    );
    assert!(
        out.contains("Did you mean:\n    core show version"),
        "{out}"
    );
}

#[test]
fn help_uptime_verbose_and_modules() {
    let conf = ConfDir::new();
    let _daemon = conf.start_foreground();
    let (_, help, _) = conf.rx("core show help");
    for command in [
        "core show version",
        "core stop now",
        "module reload",
        "logger show channels",
    ] {
        assert!(help.contains(command), "help lists {command}:\n{help}");
    }
    let (_, settings, _) = conf.rx("core show settings");
    assert!(
        settings.contains(
            "\nPBX Core settings\n-----------------\n  Version:                     0.1.0\n"
        ),
        "{settings}"
    );
    assert!(
        settings.contains("  Manager (AMI):               "),
        "{settings}"
    );
    assert!(
        settings.contains("obelus.ctl") || settings.contains("/run\n"),
        "{settings}"
    );

    let (_, uptime, _) = conf.rx("core show uptime");
    assert!(uptime.starts_with("System uptime: "), "{uptime}");
    assert!(uptime.contains("\nLast reload: "), "{uptime}");

    let (_, out, _) = conf.rx("core set verbose 5");
    assert_eq!(out, "Console verbose was 3 and is now 5.\n");

    let (_, modules, _) = conf.rx("module show");
    assert!(
        modules.starts_with("Module                         Description"),
        "{modules}"
    );
    assert!(modules.contains("logger"), "{modules}");
    assert!(modules.contains("Running"), "{modules}");

    let (_, out, _) = conf.rx("module reload logger");
    assert_eq!(out, "Module 'logger' reloaded successfully.\n");
    let (_, out, _) = conf.rx("module reload nosuch.so");
    assert!(out.starts_with("No such module 'nosuch.so'"), "{out}");
    let (_, out, _) = conf.rx("core reload");
    let counts: Vec<&str> = out
        .trim_end()
        .strip_prefix("Reloaded ")
        .and_then(|rest| rest.strip_suffix(" modules."))
        .map(|rest| rest.split(" of ").collect())
        .unwrap_or_default();
    assert!(
        counts.len() == 2 && counts[0] == counts[1],
        "every module reloads: {out}"
    );

    let (_, channels, _) = conf.rx("logger show channels");
    assert!(channels.contains("messages"), "{channels}");
    assert!(channels.contains("Console"), "{channels}");
}

/// A reload that finds a broken logger.conf keeps the old configuration and
/// says so; the daemon keeps running.
#[test]
fn failed_reload_keeps_the_daemon_running() {
    let conf = ConfDir::new();
    let _daemon = conf.start_foreground();
    conf.write("logger.conf", "[logfiles]\nmessages => notice,nonsense\n");
    let (_, out, _) = conf.rx("module reload logger");
    assert!(out.contains("failed to reload"), "{out}");
    assert!(out.contains("logger.conf:2"), "{out}");
    let (code, _, _) = conf.rx("core show version");
    assert_eq!(code, 0);
}

#[test]
fn consoles_that_vanish_mid_command_do_not_hurt_the_daemon() {
    let conf = ConfDir::new();
    let _daemon = conf.start_foreground();
    let socket = conf.socket();
    // Half a command, then gone.
    send_and_hang_up(&socket, b"core sh");
    // A whole command, gone before the answer.
    send_and_hang_up(&socket, b"core reload\0");
    send_and_hang_up(&socket, b"cli quit after core show help\0");
    // Binary noise and an oversized command.
    send_and_hang_up(&socket, &[0xff, 0x00, 0xfe, 0x00, 0x80]);
    send_and_hang_up(&socket, &vec![b'a'; 200_000]);
    let (code, out, _) = conf.rx("core show version");
    assert_eq!(code, 0);
    assert!(out.starts_with("Obelus "), "{out}");
}

/// `obelus -r` with commands on standard input: the interactive protocol.
#[test]
fn remote_console_runs_commands_and_quits() {
    let conf = ConfDir::new();
    let _daemon = conf.start_foreground();
    let mut child = conf
        .command(&["-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("HOME", conf.path())
        .spawn()
        .expect("spawn obelus -r");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"core show version\nmodule show like log\nquit\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Connected to Obelus 0.1.0 currently running on"),
        "{stdout}"
    );
    assert!(stdout.contains("Obelus 0.1.0 built for"), "{stdout}");
    assert!(stdout.contains("Running"), "{stdout}");
}

#[test]
fn core_stop_gracefully_without_calls_stops() {
    let conf = ConfDir::new();
    let daemon = conf.start_foreground();
    let (_, out, _) = conf.rx("core stop gracefully");
    assert!(
        out.contains("will stop when the last of 0 active call(s) ends"),
        "{out}"
    );
    assert_eq!(daemon.wait(), 0);
}

/// `runuser`/`rungroup`: started as root, the daemon hands its state
/// directories to the run user and switches to it.
#[test]
fn runuser_drops_privileges() {
    use std::os::unix::fs::PermissionsExt;
    if !std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    {
        // Switching users needs root; CI and the developer machines run as root.
        panic!("this test must run as root (it checks the switch to runuser)");
    }
    let conf = ConfDir::new();
    std::fs::set_permissions(conf.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = conf.path().display().to_string();
    conf.write(
        "asterisk.conf",
        &format!(
            "[directories]\nastrundir => {root}/run\nastlogdir => {root}/log\nastvarlibdir => {root}/lib\nastspooldir => {root}/spool\n[options]\nrunuser = nobody\nrungroup = nogroup\n"
        ),
    );
    let daemon = conf.start_foreground();
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).unwrap();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_owned();
    assert!(
        uid.split_whitespace().skip(1).all(|id| id == "65534"),
        "{uid}"
    );
    let (code, out, _) = conf.rx("core show version");
    assert_eq!(code, 0);
    assert!(out.starts_with("Obelus "));
    let (_, out, _) = conf.rx("module reload logger");
    assert_eq!(out, "Module 'logger' reloaded successfully.\n");
}
