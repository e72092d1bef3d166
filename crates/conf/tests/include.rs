//! `#include`, `#tryinclude` and `#exec` against real files in a temporary
//! config directory, as Asterisk's `config_text_file_load` treats them.

use std::fs;
use std::path::Path;

use obelus_conf::{ConfErrorKind, ConfErrors, Config, LoadOptions, load};

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        if let Err(e) = fs::write(&path, text) {
            panic!("write {name}: {e}");
        }
    }
    dir
}

fn ok(dir: &Path, name: &str) -> Config {
    match load(dir, name, &LoadOptions::default()) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn err(dir: &Path, name: &str, opts: &LoadOptions) -> ConfErrors {
    match load(dir, name, opts) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

#[test]
fn missing_top_level_file_is_not_found() {
    let d = dir_with(&[]);
    let e = err(d.path(), "pjsip.conf", &LoadOptions::default());
    assert!(e.is_not_found());
    assert_eq!(e.to_string(), "pjsip.conf: file not found");
}

#[test]
fn include_is_relative_to_the_config_dir_and_quoted_forms_work() {
    let d = dir_with(&[
        (
            "main.conf",
            "#include \"sub/a.conf\"\n#include <sub/b.conf>\n#INCLUDE sub/c.conf\n",
        ),
        ("sub/a.conf", "[a]\n#include sub/deeper.conf\n"),
        ("sub/deeper.conf", "x=1\n"),
        ("sub/b.conf", "[b]\n"),
        ("sub/c.conf", "[c]\n"),
    ]);
    let c = ok(d.path(), "main.conf");
    assert_eq!(
        c.categories().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    let x = c
        .category("a")
        .and_then(|a| a.variables().first())
        .map(|v| v.location.to_string());
    assert_eq!(x, Some("sub/deeper.conf:1:1".to_string()));
    let files: Vec<&str> = c.files().iter().map(|f| f.as_ref()).collect();
    assert_eq!(
        files,
        [
            "main.conf",
            "sub/a.conf",
            "sub/deeper.conf",
            "sub/b.conf",
            "sub/c.conf"
        ]
    );
}

#[test]
fn absolute_include_and_absolute_top_level() {
    let other = dir_with(&[("abs.conf", "[abs]\nk=v\n")]);
    let abs = other.path().join("abs.conf");
    let main = format!("#include {}\n", abs.display());
    let d = dir_with(&[("main.conf", main.as_str())]);
    let c = ok(d.path(), "main.conf");
    let loc = c.category("abs").map(|c| c.location.file.to_string());
    assert_eq!(loc, Some(abs.display().to_string()));
    let top = abs.to_string_lossy().into_owned();
    assert_eq!(ok(d.path(), &top).get("abs", "k"), Some("v"));
}

#[test]
fn missing_include_names_the_include_line() {
    let d = dir_with(&[(
        "main.conf",
        "[a]\n\n  #include \"nope.conf\"\n#tryinclude nope2.conf\n#include none-*.conf\n",
    )]);
    let e = err(d.path(), "main.conf", &LoadOptions::default());
    assert_eq!(
        e.to_string(),
        "main.conf:3:3: included file 'nope.conf' not found\nmain.conf:5:1: included file 'none-*.conf' not found"
    );
}

#[test]
fn globs_are_sorted_and_braces_expand() {
    let d = dir_with(&[
        (
            "main.conf",
            "#include conf.d/*.conf\n#include {x,y}.conf\n#tryinclude conf.d/.hidden*\n",
        ),
        ("conf.d/b.conf", "[b]\n"),
        ("conf.d/a.conf", "[a]\n"),
        ("conf.d/.hidden.conf", "[hidden]\n"),
        (
            "conf.d/sub.conf/inner",
            "ignored: a folder matched by the glob\n",
        ),
        ("x.conf", "[x]\n"),
        ("y.conf", "[y]\n"),
    ]);
    let c = ok(d.path(), "main.conf");
    assert_eq!(
        c.categories().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "x", "y", "hidden"]
    );
}

#[test]
fn glob_does_not_match_hidden_files() {
    let d = dir_with(&[
        ("main.conf", "#include conf.d/*\n"),
        ("conf.d/.swp", "garbage\n"),
        ("conf.d/ok", "[ok]\n"),
    ]);
    assert_eq!(ok(d.path(), "main.conf").categories().count(), 1);
}

#[test]
fn include_loops_are_errors_not_hangs() {
    let d = dir_with(&[
        ("self.conf", "[a]\n#include self.conf\n"),
        ("a.conf", "#include b.conf\n"),
        ("b.conf", "[b]\n#include a.conf\n"),
        ("glob.conf", "#include *.conf\n"),
    ]);
    let e = err(d.path(), "self.conf", &LoadOptions::default());
    assert_eq!(
        e.to_string(),
        "self.conf:2:1: include loop: 'self.conf' is already being read"
    );
    let e = err(d.path(), "a.conf", &LoadOptions::default());
    assert_eq!(
        e.to_string(),
        "b.conf:2:1: include loop: 'a.conf' is already being read"
    );
    // Every file including every other one: bounded, with errors.
    let e = err(d.path(), "glob.conf", &LoadOptions::default());
    assert!(
        e.iter()
            .any(|e| matches!(e.kind, ConfErrorKind::IncludeLoop(_)))
    );
}

#[test]
fn the_same_file_may_be_included_twice() {
    let d = dir_with(&[
        ("main.conf", "[a]\n#include v.conf\n[b]\n#include v.conf\n"),
        ("v.conf", "k=1\n"),
    ]);
    let c = ok(d.path(), "main.conf");
    assert_eq!(c.get("a", "k"), Some("1"));
    assert_eq!(c.get("b", "k"), Some("1"));
    assert_eq!(c.files().len(), 2);
}

#[test]
fn after_an_include_lines_go_back_to_the_including_category() {
    // Asterisk keeps the including file's own current category across an #include.
    let d = dir_with(&[
        ("main.conf", "[a]\n#include other.conf\nafter=1\n"),
        ("other.conf", "[b]\nin_b=1\n"),
    ]);
    let c = ok(d.path(), "main.conf");
    assert_eq!(c.get("a", "after"), Some("1"));
    assert_eq!(c.get("b", "after"), None);
}

#[test]
fn errors_in_included_files_carry_their_location() {
    let d = dir_with(&[
        ("main.conf", "[a]\n#include bad.conf\n[b](missing)\n"),
        ("bad.conf", "[c]\n\nnot an option\n"),
    ]);
    let e = err(d.path(), "main.conf", &LoadOptions::default());
    assert_eq!(
        e.to_string(),
        "bad.conf:3:1: missing '=' after option name\nmain.conf:3:5: template 'missing' not found"
    );
}

#[test]
fn templates_and_plus_work_across_files() {
    let d = dir_with(&[
        (
            "main.conf",
            "#include tmpl.conf\n[o](t)\nown=1\n[t2](+)\nlate=1\n",
        ),
        ("tmpl.conf", "[t](!)\nbase=1\n[t2]\nfirst=1\n"),
    ]);
    let c = ok(d.path(), "main.conf");
    let o = c.category("o").map(|o| {
        o.variables()
            .iter()
            .map(|v| (v.name.as_str(), v.inherited))
            .collect::<Vec<_>>()
    });
    assert_eq!(o, Some(vec![("base", true), ("own", false)]));
    assert_eq!(c.category("t2").map(|t| t.variables().len()), Some(2));
}

#[test]
fn exec_is_refused_unless_enabled() {
    let d = dir_with(&[("main.conf", "#exec \"echo '[gen]'\"\n")]);
    let e = err(d.path(), "main.conf", &LoadOptions::default());
    assert_eq!(
        e.to_string(),
        "main.conf:1:1: #exec is disabled: set execincludes=yes (LoadOptions::exec_enabled) to run 'echo '[gen]''"
    );
    let c = match load(d.path(), "main.conf", &LoadOptions { exec_enabled: true }) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        c.categories()
            .map(|c| c.location.to_string())
            .collect::<Vec<_>>(),
        ["#exec echo '[gen]':1:1"]
    );
}

#[test]
fn exec_failure_is_reported() {
    let d = dir_with(&[("main.conf", "[a]\n#exec echo oops >&2\\; exit 3\n")]);
    let e = err(d.path(), "main.conf", &LoadOptions { exec_enabled: true });
    assert_eq!(
        e.to_string(),
        "main.conf:2:1: #exec 'echo oops >&2; exit 3' failed: exit status: 3: oops"
    );
}

#[test]
fn including_a_directory_is_an_error() {
    let d = dir_with(&[("main.conf", "#include sub\n"), ("sub/x", "")]);
    let e = err(d.path(), "main.conf", &LoadOptions::default());
    assert!(
        matches!(
            e.0.first().map(|e| &e.kind),
            Some(ConfErrorKind::IncludeRead { .. })
        ),
        "{e}"
    );
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let d = dir_with(&[]);
    let _ = fs::write(d.path().join("bin.conf"), b"[a]\nk=\xff\xfe ok\n");
    assert_eq!(
        ok(d.path(), "bin.conf").get("a", "k"),
        Some("\u{fffd}\u{fffd} ok")
    );
}

#[test]
fn absurd_patterns_are_refused_quickly() {
    let braces = format!("#include {}x{}\n", "{".repeat(100_000), "}".repeat(100_000));
    let stars = format!("#include {}b\n", "*a".repeat(200));
    let d = dir_with(&[("b.conf", braces.as_str()), ("s.conf", stars.as_str())]);
    for name in ["b.conf", "s.conf"] {
        let e = err(d.path(), name, &LoadOptions::default());
        assert!(
            matches!(
                e.0.first().map(|e| &e.kind),
                Some(ConfErrorKind::IncludeRead { .. })
            ),
            "{e}"
        );
    }
}
