//! Properties: printed configs read back the same, documents print back byte for
//! byte, edits keep documents readable, and nothing panics on any input.

use obelus_conf::{Config, Document, parse_str};
use proptest::prelude::*;

type Flat = Vec<(String, bool, Vec<String>, Vec<(String, String, bool, bool)>)>;

/// Everything but locations.
fn flat(c: &Config) -> Flat {
    c.all_categories()
        .map(|k| {
            let vars = k
                .variables()
                .iter()
                .map(|v| (v.name.clone(), v.value.clone(), v.object, v.inherited))
                .collect();
            (k.name.clone(), k.is_template(), k.templates.clone(), vars)
        })
        .collect()
}

/// What a consumer sees: regular categories with their effective variables.
type Effective = Vec<(String, Vec<(String, String, bool)>)>;

fn effective(c: &Config) -> Effective {
    c.categories()
        .map(|k| {
            (
                k.name.clone(),
                k.variables()
                    .iter()
                    .map(|v| (v.name.clone(), v.value.clone(), v.object))
                    .collect(),
            )
        })
        .collect()
}

#[derive(Debug, Clone)]
struct CatSpec {
    name: String,
    template: bool,
    bases: Vec<prop::sample::Index>,
    add: bool,
    vars: Vec<(String, String, u8)>,
}

fn cat_spec() -> impl Strategy<Value = CatSpec> {
    (
        "[a-zA-Z0-9_ .;(-]{0,8}",
        any::<bool>(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        prop::bool::weighted(0.15),
        prop::collection::vec(
            (
                "[a-zA-Z_#\\[=;\\\\][a-zA-Z0-9_+ .>;-]{0,6}",
                "[ -~é€\t]{0,16}",
                0u8..4,
            ),
            0..6,
        ),
    )
        .prop_map(|(name, template, bases, add, vars)| CatSpec {
            name,
            template,
            bases,
            add,
            vars,
        })
}

fn escape(s: &str) -> String {
    s.replace(';', "\\;")
}

/// Render specs as `.conf` text. With `extended`, also `(+)` and `+=`.
fn render(specs: &[CatSpec], extended: bool) -> String {
    let mut out = String::new();
    let mut names: Vec<String> = Vec::new();
    for s in specs {
        let mut opts: Vec<String> = Vec::new();
        if s.template {
            opts.push("!".into());
        }
        if !names.is_empty() {
            for b in &s.bases {
                let n = b.get(&names);
                if !n.is_empty() && !n.contains([',', ')']) && n.trim() == n {
                    opts.push(escape(n));
                }
            }
        }
        if extended && s.add && names.iter().any(|n| n.eq_ignore_ascii_case(&s.name)) {
            opts = vec!["+".into()];
        }
        out.push('[');
        out.push_str(&escape(&s.name));
        out.push(']');
        if !opts.is_empty() {
            out.push_str(&format!("({})", opts.join(",")));
        }
        out.push('\n');
        for (n, v, op) in &s.vars {
            let name = if n.starts_with(['[', '#', '\\', '=']) {
                format!("\\{n}")
            } else {
                n.clone()
            };
            let op = match op {
                0 => " = ",
                1 => " => ",
                // `name+=value` would be an append: only in extended mode.
                2 if extended || !name.ends_with('+') => "=",
                _ if extended => " += ",
                _ => " = ",
            };
            out.push_str(&format!("{}{op}{}\n", escape(&name), escape(v)));
        }
        names.push(s.name.clone());
    }
    out
}

proptest! {
    // 512 cases by default; `PROPTEST_CASES=20000` for a longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    /// parse(print(config)) == config, templates and inheritance included.
    #[test]
    fn printed_config_reads_back_identically(specs in prop::collection::vec(cat_spec(), 0..8)) {
        let text = render(&specs, false);
        let Ok(cfg) = parse_str("gen.conf", &text) else { return Ok(()) };
        let printed = cfg.to_string();
        let again = parse_str("printed.conf", &printed);
        prop_assert!(again.is_ok(), "{:?}\n{}", again.err(), printed);
        let again = again.unwrap_or_default();
        prop_assert_eq!(flat(&cfg), flat(&again), "text:\n{}\nprinted:\n{}", text, printed);
    }

    /// With `(+)` and `+=` the printer may spell inheritance out, but what a
    /// consumer sees is the same.
    #[test]
    fn printed_config_keeps_effective_content(specs in prop::collection::vec(cat_spec(), 0..8)) {
        let text = render(&specs, true);
        let Ok(cfg) = parse_str("gen.conf", &text) else { return Ok(()) };
        let printed = cfg.to_string();
        let again = parse_str("printed.conf", &printed);
        prop_assert!(again.is_ok(), "{:?}\n{}", again.err(), printed);
        let again = again.unwrap_or_default();
        prop_assert_eq!(effective(&cfg), effective(&again), "text:\n{}\nprinted:\n{}", text, printed);
    }

    /// Most generated texts parse; make sure the generator is not vacuous.
    #[test]
    fn generated_text_mostly_parses(specs in prop::collection::vec(cat_spec(), 1..4)) {
        let text = render(&specs, false);
        prop_assert!(parse_str("gen.conf", &text).is_ok(), "{}", text);
    }

    /// A document that parses prints back byte for byte.
    #[test]
    fn document_round_trips(lines in prop::collection::vec(doc_line(), 0..30), crlf in any::<bool>(), final_nl in any::<bool>()) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(eol);
        if final_nl && !text.is_empty() {
            text.push_str(eol);
        }
        if let Ok(d) = Document::parse("doc.conf", &text) {
            prop_assert_eq!(d.to_string(), text);
        }
    }

    /// Any text that parses as a document prints back byte for byte.
    #[test]
    fn arbitrary_document_round_trips(text in "(?s).{0,200}") {
        if let Ok(d) = Document::parse("doc.conf", &text) {
            prop_assert_eq!(d.to_string(), text);
        }
    }

    /// Edits keep the document readable and do what they say.
    #[test]
    fn edits_are_read_back(lines in prop::collection::vec(doc_line(), 0..30), key in "[a-z][a-z_]{0,5}", value in "[ -~é]{0,12}") {
        let text = format!("[edit]\n{}\n", lines.join("\n"));
        let Ok(mut d) = Document::parse("doc.conf", &text) else { return Ok(()) };
        let Ok(before) = parse_str("doc.conf", &text) else { return Ok(()) };
        prop_assert!(d.set_variable("edit", &key, &value).is_ok());
        let out = d.to_string();
        prop_assert!(Document::parse("doc.conf", &out).is_ok(), "{}", out);
        let after = parse_str("doc.conf", &out);
        prop_assert!(after.is_ok(), "{:?}\n{}", after.err(), out);
        let after = after.unwrap_or_default();
        prop_assert_eq!(after.get("edit", &key), Some(value.trim_matches(|c: char| (c as u32) < 33)), "{}", out);
        // Other categories are untouched.
        let others = |c: &Config| effective(c).into_iter().filter(|k| k.0 != "edit").collect::<Vec<_>>();
        prop_assert_eq!(others(&before), others(&after));
        prop_assert!(d.delete_variable("edit", &key, None).is_ok());
        let out = d.to_string();
        let after = parse_str("doc.conf", &out);
        prop_assert!(after.is_ok(), "{:?}\n{}", after.err(), out);
        let after = after.unwrap_or_default();
        prop_assert_eq!(after.get("edit", &key), None, "{}", out);
    }

    /// Never a panic on arbitrary bytes.
    #[test]
    fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_str("noise.conf", &text);
        let _ = Document::parse("noise.conf", &text);
    }

    /// Never a panic on line-shaped noise (more likely to reach deep paths).
    #[test]
    fn never_panics_on_shaped_noise(lines in prop::collection::vec(doc_line(), 0..40)) {
        let text = lines.join("\n");
        if let Ok(c) = parse_str("noise.conf", &text) {
            let _ = c.to_string();
        }
        if let Ok(mut d) = Document::parse("noise.conf", &text) {
            let _ = d.rename_category("a", "b");
            let _ = d.delete_category("b");
            let _ = d.append_variable("x", "k", "v");
        }
    }
}

fn doc_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-c]{1,2}".prop_map(|n| format!("[{n}]")),
        "[a-c]{1,2}".prop_map(|n| format!("[{n}](!)")),
        "[a-c]{1,2}".prop_map(|n| format!("[{n}](+)")),
        ("[a-c]{1,2}", "[a-c]{1,2}").prop_map(|(n, t)| format!("[{n}]({t})")),
        ("[a-z]{1,4}", "[ -~]{0,10}").prop_map(|(k, v)| format!("{k} = {v}")),
        ("[a-z]{1,4}", "[ -~]{0,10}").prop_map(|(k, v)| format!("  {k}=>{v}")),
        ("[a-z]{1,4}", "[ -~]{0,10}").prop_map(|(k, v)| format!("{k}+={v}")),
        "[ -~]{0,12}".prop_map(|c| format!("; {c}")),
        "[ -~]{0,12}".prop_map(|c| format!(";-- {c}")),
        "[ -~]{0,12}".prop_map(|c| format!("{c} --;")),
        Just(";---------".to_string()),
        "[a-z]{1,3}".prop_map(|k| format!("{k}=x ;-- c --; y")),
        "[ -~]{0,20}",
    ]
}
