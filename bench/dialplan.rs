//! Dialplan benchmarks: extension lookup in a context of 1,000 extensions/patterns
//! against a naive linear regex scan (same answers), and `$[...]` evaluation.
//!
//! Run: `cargo bench -j2 -p obelus-dialplan --bench dialplan`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use obelus_dialplan::{Dialplan, Entry, Hit, LocalTime, MapScope, expr, substitute};
use regex::Regex;

const NOW: LocalTime = LocalTime {
    hour: 12,
    minute: 0,
    weekday: 1,
    day: 1,
    month: 1,
};

/// 500 literal extensions and 500 patterns, all in one context.
fn names() -> Vec<String> {
    let mut v: Vec<String> = (0..500).map(|i| format!("{}", 100_000 + i * 7)).collect();
    v.extend((0..500).map(|i| format!("_{i:03}NXXX")));
    v
}

fn dialplan(names: &[String]) -> Dialplan {
    let values: Vec<String> = names
        .iter()
        .map(|n| format!("{n},1,Dial(PJSIP/${{EXTEN}})"))
        .collect();
    let (dp, errors) = Dialplan::from_entries(values.iter().enumerate().map(|(i, v)| Entry {
        category: "big",
        name: "exten",
        value: v,
        file: "extensions.conf",
        line: u32::try_from(i + 1).unwrap_or(0),
    }));
    assert!(errors.is_empty());
    dp
}

/// Translate an Asterisk pattern into an anchored regex (naive baseline).
fn to_regex(name: &str) -> Regex {
    let Some(body) = name.strip_prefix('_') else {
        return Regex::new(&format!("^{}$", regex::escape(name))).expect("literal regex");
    };
    let mut re = String::from("^");
    for c in body.chars() {
        match c {
            'X' => re.push_str("[0-9]"),
            'Z' => re.push_str("[1-9]"),
            'N' => re.push_str("[2-9]"),
            '.' => re.push_str(".+"),
            '!' => re.push_str(".*"),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).expect("pattern regex")
}

fn bench_lookup(c: &mut Criterion) {
    let names = names();
    let dp = dialplan(&names);
    // Baseline: regexes in the context's sort order, first match wins.
    let sorted: Vec<&str> = dp
        .context("big")
        .map(|ctx| ctx.extensions().iter().map(|e| e.name().as_str()).collect())
        .unwrap_or_default();
    let naive: Vec<(Regex, &str)> = sorted.iter().map(|n| (to_regex(n), *n)).collect();
    let naive_find = |d: &str| naive.iter().find(|(r, _)| r.is_match(d)).map(|(_, n)| *n);

    for (label, dialled) in [
        ("literal", "102093"),
        ("pattern_last", "4991234"),
        ("miss", "9999"),
    ] {
        let ours = match dp.find("big", dialled, 1, None, &NOW) {
            Ok(Hit::Priority { extension, .. }) => Some(extension.name().as_str()),
            _ => None,
        };
        assert_eq!(ours, naive_find(dialled), "{dialled}");
        let mut g = c.benchmark_group(format!("dialplan_lookup_1000/{label}"));
        g.bench_function("obelus", |b| {
            b.iter(|| dp.find("big", black_box(dialled), 1, None, &NOW).is_ok())
        });
        g.bench_function("naive_regex_scan", |b| {
            b.iter(|| naive_find(black_box(dialled)))
        });
        g.finish();
    }
}

fn bench_expr(c: &mut Criterion) {
    let mut scope = MapScope::with_vars([("A", "4")]);
    c.bench_function("dialplan_expr/evaluate_A_plus_1_eq_5", |b| {
        b.iter(|| expr::evaluate(black_box("4 + 1 = 5"), &mut scope))
    });
    c.bench_function("dialplan_expr/substitute_$[${A} + 1 = 5]", |b| {
        b.iter(|| substitute(black_box("$[${A} + 1 = 5]"), &mut scope))
    });
}

criterion_group!(benches, bench_lookup, bench_expr);
criterion_main!(benches);
