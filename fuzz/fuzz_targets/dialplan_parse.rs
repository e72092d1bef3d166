//! Fuzz the extensions model builder: arbitrary extensions.conf-like lines, then
//! lookups and `dialplan show` on whatever was built. No panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obelus_dialplan::{LocalTime, from_text};

const NOW: LocalTime = LocalTime {
    hour: 12,
    minute: 30,
    weekday: 3,
    day: 15,
    month: 6,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (dp, errors) = from_text(&text, "extensions.conf");
    for e in &errors {
        let _ = e.to_string();
    }
    let _ = dp.show(None);
    let names: Vec<String> = dp.contexts().iter().map(|c| c.name().to_owned()).collect();
    for ctx in &names {
        let _ = dp.show(Some(ctx));
        for exten in ["s", "100", "5551212", "", "9", "h", "-"] {
            let _ = dp.find(ctx, exten, 1, None, &NOW);
            let _ = dp.find(ctx, exten, 2, Some("5551212"), &NOW);
            let _ = dp.find_label(ctx, exten, "done", None, &NOW);
            let _ = dp.can_match(ctx, exten, 1, None, &NOW);
            let _ = dp.match_more(ctx, exten, 1, None, &NOW);
            let _ = dp.show(Some(&format!("{exten}@{ctx}")));
        }
    }
});
