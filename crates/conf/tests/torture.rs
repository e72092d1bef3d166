//! Loads `tests/data/torture.conf` (and the files it includes) and checks every
//! category and variable, with where each came from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use obelus_conf::{ConfErrorKind, Config, LoadOptions, load};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// One line per category (`!` marks a template), one per variable
/// (`=>` for objects, `*` for inherited), each with its location.
fn dump(c: &Config) -> String {
    dump_with(c, true)
}

fn dump_with(c: &Config, locations: bool) -> String {
    let mut out = String::new();
    for cat in c.all_categories() {
        let bang = if cat.is_template() { "!" } else { "" };
        let _ = write!(out, "[{}]{bang}({})", cat.name, cat.templates.join(","));
        let _ = if locations {
            writeln!(out, " {}", cat.location)
        } else {
            writeln!(out)
        };
        for v in cat.variables() {
            let op = if v.object { "=>" } else { "=" };
            let inh = if v.inherited { "*" } else { "" };
            let _ = write!(out, "  {}{op}{}{inh}", v.name, v.value);
            let _ = if locations {
                writeln!(out, " {}", v.location)
            } else {
                writeln!(out)
            };
        }
    }
    out
}

const EXPECTED: &str = r#"[globals]() inc/common.conf:2:1
  CONSOLE=Console/dsp inc/common.conf:3:1
  TRUNK=>PJSIP/trunk inc/common.conf:4:1
[phone-tmpl]!() inc/common.conf:6:1
  type=endpoint inc/common.conf:7:1
  direct_media=no inc/common.conf:8:1
  disallow=all inc/common.conf:9:1
[codec-tmpl]!() inc/common.conf:11:1
  allow=ulaw inc/common.conf:12:1
[general]() torture.conf:11:1
  static=yes torture.conf:12:1
  writeprotect=no torture.conf:13:1
  indented=value with   inner spaces torture.conf:14:2
  empty= torture.conf:15:1
  semi=a;b;c torture.conf:16:1
  after=block torture.conf:20:5
  inline=one  two torture.conf:21:1
  hidden=x  shown torture.conf:22:1
  dashes=a--b torture.conf:23:1
  added=later torture.conf:46:1
[codecs](codec-tmpl) torture.conf:25:1
  allow=ulaw* inc/common.conf:12:1
  allow=alaw torture.conf:26:1
  allow=g722,opus torture.conf:27:1
[6001](phone-tmpl,codec-tmpl) torture.conf:30:1
  type=endpoint* inc/common.conf:7:1
  direct_media=no* inc/common.conf:8:1
  disallow=all* inc/common.conf:9:1
  allow=ulaw* inc/common.conf:12:1
  callerid="Alice" <6001> torture.conf:31:1
  transport=transport-udp inc/partial.conf:2:1
  context=from-internal torture.conf:33:1
  allow=h264 torture.conf:34:1
[6002]!(phone-tmpl) torture.conf:36:1
  type=endpoint* inc/common.conf:7:1
  direct_media=no* inc/common.conf:8:1
  disallow=all* inc/common.conf:9:1
  context=other torture.conf:37:1
[6003](6002) torture.conf:39:1
  type=endpoint* inc/common.conf:7:1
  direct_media=no* inc/common.conf:8:1
  disallow=all* inc/common.conf:9:1
  context=other* torture.conf:37:1
  mailboxes=6003@default torture.conf:40:1
  context=mine torture.conf:41:1
[glob_a]() inc/glob_a.conf:1:1
  from=a inc/glob_a.conf:2:1
[glob_b]() inc/glob_b.conf:1:1
  from=b inc/glob_b.conf:2:1
[from-internal]() torture.conf:48:1
  exten=>100,1,Answer() torture.conf:49:1
  same=>n,Playback(hello-world) torture.conf:50:2
  exten=>_1XX,1,Dial(PJSIP/${EXTEN},30,tT) torture.conf:51:1
  exten=>_X.,1,Set(FOO=a;b) torture.conf:52:1
  exten=>s,1,NoOp(no spaces) torture.conf:53:1
  include=>other torture.conf:54:1
[general]() torture.conf:56:1
  second=yes torture.conf:57:1
[Case]() torture.conf:59:1
  Key=Value torture.conf:60:1
[escapes]() torture.conf:62:1
  [bracket=1 torture.conf:63:1
  #hash=2 torture.conf:64:1
  \back=3 torture.conf:65:1
[from_exec]() #exec printf '[from_exec]\nexec_var = yes\n':1:1
  exec_var=yes #exec printf '[from_exec]\nexec_var = yes\n':2:1
"#;

fn torture() -> Config {
    let opts = LoadOptions { exec_enabled: true };
    match load(&data_dir(), "torture.conf", &opts) {
        Ok(c) => c,
        Err(e) => panic!("torture.conf must load:\n{e}"),
    }
}

#[test]
fn torture_file_loads_with_every_category_and_variable() {
    let c = torture();
    assert_eq!(dump(&c), EXPECTED);
}

#[test]
fn torture_lookups() {
    let c = torture();
    let regular: Vec<&str> = c.categories().map(|c| c.name.as_str()).collect();
    assert_eq!(
        regular,
        [
            "globals",
            "general",
            "codecs",
            "6001",
            "6003",
            "glob_a",
            "glob_b",
            "from-internal",
            "general",
            "Case",
            "escapes",
            "from_exec"
        ]
    );
    assert_eq!(c.categories_named("General").count(), 2);
    assert_eq!(c.get("general", "second"), None, "first [general] only");
    assert_eq!(
        c.get("6003", "context"),
        Some("mine"),
        "own value overrides the template's"
    );
    assert_eq!(c.get("case", "KEY"), Some("Value"));
    assert!(c.category("6002").is_none() && c.category("phone-tmpl").is_none());
    let allow: Vec<&str> = c
        .category("6001")
        .map(|k| k.get_all("allow").collect())
        .unwrap_or_default();
    assert_eq!(allow, ["ulaw", "h264"]);
    let files: Vec<&str> = c.files().iter().map(|f| f.as_ref()).collect();
    assert_eq!(
        files,
        [
            "torture.conf",
            "inc/common.conf",
            "inc/partial.conf",
            "inc/glob_a.conf",
            "inc/glob_b.conf"
        ]
    );
    assert!(c.paths().iter().all(|p| p.is_file()));
}

#[test]
fn torture_without_exec_names_the_exec_line() {
    let e = load(&data_dir(), "torture.conf", &LoadOptions::default())
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert_eq!(e.len(), 1);
    assert_eq!(
        e.first().map(|e| e.location.to_string()),
        Some("torture.conf:67:1".to_string())
    );
    assert!(matches!(
        e.first().map(|e| &e.kind),
        Some(ConfErrorKind::ExecDisabled(_))
    ));
}

#[test]
fn torture_prints_and_reads_back() {
    let c = torture();
    let printed = c.to_string();
    let again = match obelus_conf::parse_str("printed.conf", &printed) {
        Ok(a) => a,
        Err(e) => panic!("{e}\n{printed}"),
    };
    assert_eq!(dump_with(&c, false), dump_with(&again, false), "{printed}");
}
