//! `obelus config check`: every problem with file and line, exit 1 on errors.

use crate::common::ConfDir;

#[test]
fn clean_configuration_passes() {
    let conf = ConfDir::new();
    let out = conf.run(&["config", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 error(s)"), "{stdout}");
}

#[test]
fn bad_lines_are_reported_with_file_and_line() {
    let conf = ConfDir::new();
    conf.write(
        "logger.conf",
        "[general]\n\n[logfiles]\nmessages => notice,loud\n",
    );
    conf.write("modules.conf", "[modules]\nautoload = perhaps\n");
    conf.write("asterisk.conf", "[options]\nverbose = three\n");
    let out = conf.run(&["config", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("logger.conf:4: option 'messages': unknown log level 'loud'"),
        "{stdout}"
    );
    assert!(
        stdout.contains("modules.conf:2: option 'autoload': expected yes or no, got 'perhaps'"),
        "{stdout}"
    );
    assert!(
        stdout.contains("asterisk.conf:2: option 'verbose': expected a whole number, got 'three'"),
        "{stdout}"
    );
    assert!(stdout.contains("3 error(s)"), "{stdout}");
}

#[test]
fn syntax_errors_name_the_line() {
    let conf = ConfDir::new();
    conf.write("logger.conf", "[general\ndateformat = %T\n");
    let out = conf.run(&["config", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("logger.conf:1:"), "{stdout}");
}

#[test]
fn the_bundled_samples_are_clean() {
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
    let out = std::process::Command::new(crate::common::OBELUS)
        .args(["-C", samples, "config", "check"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

/// The dialplan through the console: the tutorial's context, a reload that
/// picks up an edit, and a broken line named by `config check`.
#[test]
fn dialplan_show_reload_and_check() {
    let conf = ConfDir::new();
    conf.write(
        "extensions.conf",
        "[general]\nstatic=yes\n\n[testing]\nexten => _1XX,1,NoOp()\n same => n,Dial(PJSIP/${EXTEN})\n",
    );
    let _daemon = conf.start_foreground();
    let (_, out, _) = conf.rx("dialplan show testing");
    assert!(
        out.starts_with("[ Context 'testing' created by 'pbx_config' ]\n"),
        "{out}"
    );
    assert!(out.contains("'_1XX' =>"), "{out}");
    assert!(out.contains("Dial(PJSIP/${EXTEN})"), "{out}");
    assert!(
        out.contains("-= 1 extension (2 priorities) in 1 context. =-"),
        "{out}"
    );

    conf.write(
        "extensions.conf",
        "[testing]\nexten => _1XX,1,NoOp()\n same => n,Dial(PJSIP/${EXTEN})\nexten => 600,1,Answer()\n",
    );
    let (_, out, _) = conf.rx("dialplan reload");
    assert_eq!(out, "Dialplan reloaded.\n");
    let (_, out, _) = conf.rx("dialplan show 600@testing");
    assert!(out.contains("'600' =>"), "{out}");

    conf.write("extensions.conf", "[testing]\nexten => 700,1,NoOp(\n");
    let check = conf.run(&["config", "check"]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("extensions.conf:2: "), "{stdout}");
}
