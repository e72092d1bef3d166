//! Every `*.conf` shipped in the top-level `configs/` folder must load.

use std::path::Path;

use obelus_conf::{LoadOptions, load};

#[test]
fn every_sample_config_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no configs/ folder yet: nothing to check");
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        match load(&dir, name, &LoadOptions::default()) {
            Ok(c) => eprintln!("{name}: {} categories", c.categories().count()),
            Err(e) => failures.push(format!("{name}:\n{e}")),
        }
    }
    eprintln!("checked {} files", names.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
