//! Fuzz the `.conf` parser and the lossless document: never a panic or a hang;
//! a document that parses prints back byte for byte; a config that parses
//! prints to text that parses to the same categories and variables.
#![no_main]

use libfuzzer_sys::fuzz_target;

type Flat = Vec<(String, bool, Vec<(String, String, bool)>)>;

fn flat(c: &obelus_conf::Config) -> Flat {
    c.all_categories()
        .map(|k| {
            let vars = k
                .variables()
                .iter()
                .map(|v| (v.name.clone(), v.value.clone(), v.object))
                .collect();
            (k.name.clone(), k.is_template(), vars)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cfg) = obelus_conf::parse_str("fuzz.conf", &text) {
        let printed = cfg.to_string();
        match obelus_conf::parse_str("printed.conf", &printed) {
            Ok(again) => assert_eq!(flat(&cfg), flat(&again), "printed:\n{printed}"),
            Err(e) => panic!("printed config does not parse: {e}\n{printed}"),
        }
    }
    if let Ok(mut doc) = obelus_conf::Document::parse("fuzz.conf", &text) {
        assert_eq!(doc.to_string(), text);
        // Edits must keep the document readable.
        let first = doc.category_names().next().map(str::to_string);
        if let Some(cat) = first {
            let _ = doc.set_variable(&cat, "fuzzkey", "v;1");
            let _ = doc.append_variable(&cat, "allow", "x");
            let _ = doc.delete_variable(&cat, "allow", None);
            let _ = doc.rename_category(&cat, "renamed");
            let _ = doc.new_category("fresh", &["!"]);
            let _ = doc.delete_category("renamed");
            let out = doc.to_string();
            if let Err(e) = obelus_conf::Document::parse("edited.conf", &out) {
                panic!("edited document does not parse: {e}\n{out}");
            }
        }
    }
});
