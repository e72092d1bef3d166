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
