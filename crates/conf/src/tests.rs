//! Behaviour of `parse_str`, one construct at a time, checked against what
//! Asterisk's `config.c` does with the same text.

use crate::{ConfErrorKind, Config, parse_str};

fn ok(text: &str) -> Config {
    match parse_str("t.conf", text) {
        Ok(c) => c,
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

fn errs(text: &str) -> Vec<String> {
    match parse_str("t.conf", text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

fn vars(c: &Config, cat: &str) -> Vec<(String, String, bool, bool)> {
    c.category(cat)
        .map(|c| {
            c.variables()
                .iter()
                .map(|v| (v.name.clone(), v.value.clone(), v.object, v.inherited))
                .collect()
        })
        .unwrap_or_default()
}

fn v(n: &str, val: &str, object: bool, inherited: bool) -> (String, String, bool, bool) {
    (n.to_string(), val.to_string(), object, inherited)
}

#[test]
fn categories_and_variables_in_order() {
    let c = ok("[general]\nstatic=yes\n\n[phones]\nallow = ulaw\nallow=alaw\n");
    let names: Vec<_> = c.categories().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["general", "phones"]);
    assert_eq!(c.get("general", "static"), Some("yes"));
    let p = c.category("PHONES").expect("case-insensitive lookup");
    assert_eq!(p.get_all("allow").collect::<Vec<_>>(), ["ulaw", "alaw"]);
    // Asterisk's ast_variable_retrieve returns the last match.
    assert_eq!(p.get("ALLOW"), Some("alaw"));
    assert_eq!(p.location.to_string(), "t.conf:4:1");
    assert_eq!(
        p.variables().get(1).map(|v| v.location.to_string()),
        Some("t.conf:6:1".into())
    );
}

#[test]
fn object_flag_and_verbatim_dialplan_lines() {
    let c = ok(
        "[ctx]\nexten => _X.,1,Set(A=${B}) \t\nexten=>s,n,Dial(PJSIP/a&PJSIP/b,30,tT)\nsame => n,Hangup()\n",
    );
    assert_eq!(
        vars(&c, "ctx"),
        [
            v("exten", "_X.,1,Set(A=${B})", true, false),
            v("exten", "s,n,Dial(PJSIP/a&PJSIP/b,30,tT)", true, false),
            v("same", "n,Hangup()", true, false),
        ]
    );
}

#[test]
fn whitespace_trimmed_like_ast_strip() {
    // Every byte below 33 is a blank for Asterisk, CR included.
    let c = ok("[a]\r\n  key \t=\t value with  spaces \r\n\x0bk2=\x01v\x01\r\n");
    assert_eq!(
        vars(&c, "a"),
        [
            v("key", "value with  spaces", false, false),
            v("k2", "v", false, false)
        ]
    );
}

#[test]
fn category_name_is_not_trimmed() {
    // Asterisk keeps the text between the brackets as it is.
    let c = ok("[ spaced ]\na=1\n");
    assert_eq!(
        c.categories().next().map(|c| c.name.as_str()),
        Some(" spaced ")
    );
}

#[test]
fn text_after_header_is_ignored() {
    // `[foo] (bar)` is not an inheritance: Asterisk only looks right after `]`.
    let c = ok("[foo] (bar)\na=1\n[x](!)junk\n");
    assert_eq!(c.category("foo").map(|c| c.templates.len()), Some(0));
    assert_eq!(c.templates().count(), 1);
}

#[test]
fn comments() {
    let c = ok(";top\n[a] ; note\nb = 1 ; trailing\n;c = 2\n  ; indented\n");
    assert_eq!(vars(&c, "a"), [v("b", "1", false, false)]);
}

#[test]
fn escaped_semicolon() {
    let c = ok("[a]\nre = ^x\\;y$ ; comment\nk\\;ey = v\n");
    assert_eq!(
        vars(&c, "a"),
        [v("re", "^x;y$", false, false), v("k;ey", "v", false, false)]
    );
}

#[test]
fn block_comments_span_lines_and_nest() {
    let text = "[a]\nx=1 ;-- start\ny=2\n;-- nested --;\nz=3 --; w=4\nq = a ;-- inline --; b\n";
    assert_eq!(
        vars(&ok(text), "a"),
        [
            v("x", "1", false, false),
            v("w", "4", false, false),
            v("q", "a  b", false, false)
        ]
    );
}

#[test]
fn unterminated_block_comment_is_an_error_at_its_start() {
    assert_eq!(
        errs("[a]\nx=1\n  ;-- oops\ny=2\n"),
        ["t.conf:3:3: block comment ';--' is never closed: expected '--;'"]
    );
}

#[test]
fn templates_are_inherited_first_in_order() {
    let text = "[t1](!)\na=1\nb=2\n[t2](!)\nc=3\n[obj](t1,t2)\nb=own\n";
    let c = ok(text);
    assert_eq!(
        c.categories().count(),
        1,
        "templates are not regular categories"
    );
    let o = c.category("obj").expect("obj");
    assert_eq!(o.templates, ["t1", "t2"]);
    assert_eq!(
        vars(&c, "obj"),
        [
            v("a", "1", false, true),
            v("b", "2", false, true),
            v("c", "3", false, true),
            v("b", "own", false, false)
        ]
    );
    assert_eq!(o.get("b"), Some("own"));
    // The inherited variable keeps the template's location.
    assert_eq!(o.variables().first().map(|v| v.location.line), Some(2));
    assert!(c.category("t1").is_none());
    assert_eq!(
        c.templates().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["t1", "t2"]
    );
}

#[test]
fn template_that_inherits_and_regular_base() {
    // `(!,a)`: a template based on another; a regular category can be a base too.
    let c = ok("[base]\nx=1\n[tp](!,base)\ny=2\n[o](tp)\nz=3\n");
    assert_eq!(
        vars(&c, "o"),
        [
            v("x", "1", false, true),
            v("y", "2", false, true),
            v("z", "3", false, false)
        ]
    );
    assert_eq!(c.categories().count(), 2);
}

#[test]
fn inheritance_is_a_snapshot() {
    // Asterisk copies the template's variables at the header; later additions do not flow down.
    let c = ok("[b]\nx=1\n[o](b)\n[b](+)\ny=2\n");
    assert_eq!(vars(&c, "o"), [v("x", "1", false, true)]);
    assert_eq!(
        vars(&c, "b"),
        [v("x", "1", false, false), v("y", "2", false, false)]
    );
}

#[test]
fn template_names_are_case_insensitive_and_trimmed() {
    let c = ok("[Tmpl](!)\na=1\n[o]( tmpl , ! )\n");
    assert!(c.category("o").is_none(), "the '!' made it a template");
    assert_eq!(
        c.templates().nth(1).map(|t| t.templates.clone()),
        Some(vec!["tmpl".to_string()])
    );
}

#[test]
fn plus_adds_to_the_first_existing_category() {
    let c = ok("[a]\nx=1\n[b]\n[a](+)\ny=2\n");
    assert_eq!(c.categories().count(), 2);
    assert_eq!(
        vars(&c, "a"),
        [v("x", "1", false, false), v("y", "2", false, false)]
    );
}

#[test]
fn plus_on_missing_category_is_an_error() {
    assert_eq!(
        errs("[x](+)\na=1\n"),
        ["t.conf:1:5: '+' used on category 'x' that does not exist"]
    );
}

#[test]
fn plus_prefers_a_regular_category_but_can_extend_a_template() {
    // Asterisk 13+ looks for a non-template category; older versions also took a
    // template, and accepting that breaks no configuration Asterisk accepts.
    let c = ok("[t](!)\na=1\n[t]\nb=1\n[t](+)\nc=1\n[u](!)\nx=1\n[u](+)\ny=2\n[o](u)\n");
    assert_eq!(
        vars(&c, "t"),
        [v("b", "1", false, false), v("c", "1", false, false)]
    );
    assert_eq!(
        vars(&c, "o"),
        [v("x", "1", false, true), v("y", "2", false, true)]
    );
}

#[test]
fn missing_template_is_an_error() {
    assert_eq!(
        errs("[o](foo)\na=1\n"),
        ["t.conf:1:5: template 'foo' not found"]
    );
    assert_eq!(errs("[o](a,,b)\n").len(), 1);
    assert_eq!(errs("[o]()\n").len(), 1);
    assert_eq!(errs("[a]\n[o](+x)\n").len(), 1);
}

#[test]
fn repeated_category_names_are_separate() {
    let c = ok("[general]\na=1\n[general]\na=2\n");
    assert_eq!(c.categories_named("GENERAL").count(), 2);
    assert_eq!(c.get("general", "a"), Some("1"));
}

#[test]
fn plus_equals_appends_to_the_last_value() {
    let c = ok("[a]\nallow=ulaw\nallow=alaw\nallow+=,g722\nnew+=x\n");
    assert_eq!(
        vars(&c, "a"),
        [
            v("allow", "ulaw", false, false),
            v("allow", "alaw,g722", false, false),
            v("new", "x", false, false)
        ]
    );
    // The text after `+=` is appended as written (Asterisk keeps the leading blank).
    let c = ok("[a]\nx = 1\nx += 2\n");
    assert_eq!(c.get("a", "x"), Some("1 2"));
}

#[test]
fn escaped_first_character_of_a_name() {
    let c = ok("[a]\n\\[odd = 1\n\\#hash = 2\n\\== 3\n");
    assert_eq!(
        vars(&c, "a"),
        [
            v("[odd", "1", false, false),
            v("#hash", "2", false, false),
            v("=", "3", false, false)
        ]
    );
}

#[test]
fn syntax_errors_name_file_line_column_and_recover() {
    let text =
        "[general]\nstatic=yes\n  [broken\nignored=1\n[ok]\nnoequals\n = x\nfine=1\n#bogus x\n";
    assert_eq!(
        errs(text),
        [
            "t.conf:3:3: expected ']' to close category name",
            "t.conf:6:1: missing '=' after option name",
            "t.conf:7:2: missing option name before '='",
            "t.conf:9:1: unknown directive '#bogus': expected #include, #tryinclude or #exec",
        ]
    );
}

#[test]
fn variable_before_any_category() {
    assert_eq!(
        errs("a=1\nb=2\n[c]\n"),
        ["t.conf:1:1: option outside any category: expected a '[category]' line before it"]
    );
}

#[test]
fn columns_count_characters_and_skip_removed_comments() {
    assert_eq!(
        errs("[a]\n;-- x --;é bad\n"),
        ["t.conf:2:10: missing '=' after option name"]
    );
}

#[test]
fn includes_are_refused_in_text() {
    assert_eq!(
        errs("#include \"x.conf\"\n#exec /bin/true\n#include\n"),
        [
            "t.conf:1:1: '#include' is not allowed here: this text was not read from a config directory",
            "t.conf:2:1: '#exec' is not allowed here: this text was not read from a config directory",
            "t.conf:3:1: '#include' needs an argument",
        ]
    );
}

#[test]
fn errors_are_capped() {
    let text = "x\n".repeat(500);
    let e = parse_str("t.conf", &format!("[a]\n{text}"))
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert_eq!(e.len(), crate::MAX_ERRORS);
    assert_eq!(
        e.last().map(|e| e.kind.clone()),
        Some(ConfErrorKind::TooManyErrors(crate::MAX_ERRORS))
    );
}

#[test]
fn invalid_utf8_and_binary_noise_do_not_panic() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let text = String::from_utf8_lossy(&bytes);
    let _ = parse_str("bin.conf", &text);
    let c = ok(&String::from_utf8_lossy(b"[a]\nk = caf\xe9\n"));
    assert_eq!(c.get("a", "k"), Some("caf\u{fffd}"));
}

#[test]
fn printer_round_trips() {
    let text = "[t](!)\na=1\n[o](t)\n\\[x=\\;y\nexten => 1,1,NoOp(a\\;b)\n[p]\n[o](+)\nz=1\n";
    let c = ok(text);
    let printed = c.to_string();
    let again = ok(&printed);
    let flat = |c: &Config| {
        c.all_categories()
            .map(|k| {
                (
                    k.name.clone(),
                    k.is_template(),
                    k.templates.clone(),
                    k.variables()
                        .iter()
                        .map(|v| (v.name.clone(), v.value.clone(), v.object, v.inherited))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(flat(&c), flat(&again), "{printed}");
}

#[test]
fn plus_with_bang_turns_the_category_into_a_template() {
    let c = ok("[a]\nx=1\n[a]\ny=1\n[a](+,!)\nz=1\n[a](+)\nw=1\n[b](a)\n");
    assert_eq!(c.categories_named("a").count(), 1);
    assert_eq!(
        vars(&c, "a"),
        [v("y", "1", false, false), v("w", "1", false, false)]
    );
    // Inheritance takes the first category of the name, template or not.
    assert_eq!(
        vars(&c, "b"),
        [v("x", "1", false, true), v("z", "1", false, true)]
    );
}

#[test]
fn huge_lines_and_deep_nesting_finish() {
    // One 4 MB line, 300,000 nested block comments, a 1 MB value: no hang, no panic.
    let long = format!("[a]\nk = {}\n", "x".repeat(1 << 20));
    assert_eq!(ok(&long).get("a", "k").map(str::len), Some(1 << 20));
    let nested = format!("[a]\n{}\n", ";--".repeat(300_000));
    assert_eq!(errs(&nested).len(), 1);
    let noise = "[a](".repeat(1 << 20);
    assert_eq!(errs(&noise).len(), 1);
}

#[test]
fn byte_order_mark_is_ignored() {
    // Asterisk would read the BOM as part of a name and reject the file; Obelus skips it.
    let c = ok("\u{feff}[general]\nk=v\n");
    assert_eq!(c.get("general", "k"), Some("v"));
}

#[test]
fn configs_can_be_built_and_printed() {
    use crate::{Category, Location, Variable};
    let loc = Location::new("db:queues.conf".into(), 1, 1);
    let mut cat = Category::new("support".to_string(), loc.clone());
    for (name, value) in [("strategy", "ringall"), ("member", "PJSIP/1;x")] {
        cat.push(Variable {
            name: name.into(),
            value: value.into(),
            object: false,
            inherited: false,
            location: loc.clone(),
        });
    }
    let mut tmpl = Category::new("t".to_string(), loc);
    tmpl.set_template(true);
    let mut c = Config::new();
    c.push(tmpl);
    c.push(cat);
    assert_eq!(c.get("SUPPORT", "member"), Some("PJSIP/1;x"));
    assert_eq!(c.categories().count(), 1);
    let again = ok(&c.to_string());
    assert_eq!(again.get("support", "member"), Some("PJSIP/1;x"));
    assert_eq!(again.templates().count(), 1);
}
