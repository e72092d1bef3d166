//! Property tests: the compiled matcher agrees with a naive regex translation of
//! Asterisk's matching rules, ordering is antisymmetric, and nothing panics on
//! arbitrary expression, substitution or configuration text.

use obelus_dialplan::args::standard_args;
use obelus_dialplan::ordering::cmp_names;
use obelus_dialplan::{Hit, LocalTime, MapScope, MatchMode, Pattern, expr, from_text, substitute};

const NOW: LocalTime = LocalTime {
    hour: 12,
    minute: 0,
    weekday: 1,
    day: 1,
    month: 1,
};
use proptest::prelude::*;
use regex::Regex;

/// Naive reference: translate the pattern into an anchored regex, as dialplan.md §2
/// describes it (`X` [0-9], `Z` [1-9], `N` [2-9], sets, `.` one or more of anything
/// with nothing after it considered, `!` zero or more, `-` fluff), and match the dialled
/// string with its `-` removed.
fn naive_matches(pattern: &str, dialled: &str) -> bool {
    let data: String = dialled.chars().filter(|&c| c != '-').collect();
    let Some(body) = pattern.strip_prefix('_') else {
        let lit: String = pattern.chars().filter(|&c| c != '-').collect();
        return lit == data;
    };
    let mut re = String::from("(?s)^");
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '-' => {}
            'X' | 'x' => re.push_str("[0-9]"),
            'Z' | 'z' => re.push_str("[1-9]"),
            'N' | 'n' => re.push_str("[2-9]"),
            '.' => {
                re.push_str(".+");
                break;
            }
            '!' => {
                re.push_str(".*");
                break;
            }
            '[' => {
                let Some(end) = chars[i..].iter().position(|&x| x == ']') else {
                    // Broken set: can only match if the data ends before it... which
                    // for a full match means never.
                    return false;
                };
                let set = &chars[i..i + end];
                i += end + 1;
                let mut members = Vec::new();
                let mut j = 0;
                while j < set.len() {
                    if j + 2 < set.len() && set[j + 1] == '-' {
                        let (a, b) = (set[j], set[j + 2]);
                        if a <= b {
                            members.extend(a..=b);
                        }
                        j += 3;
                    } else {
                        members.push(set[j]);
                        j += 1;
                    }
                }
                if members.is_empty() {
                    continue;
                }
                let alt: Vec<String> = members
                    .iter()
                    .map(|m| regex::escape(&m.to_string()))
                    .collect();
                re.push_str(&format!("(?:{})", alt.join("|")));
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map(|r| r.is_match(&data)).unwrap_or(false)
}

fn pattern_strategy() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "X", "Z", "N", "x", "0", "1", "2", "5", "9", "-", "[1-3]", "[05-7]", "[]", "[a-c9]", ".",
        "!", "a", "*", "#",
    ]);
    (any::<bool>(), prop::collection::vec(piece, 0..7)).prop_map(|(is_pattern, parts)| {
        let body: String = parts.concat();
        if is_pattern {
            format!("_{body}")
        } else {
            body.chars()
                .filter(|c| c.is_ascii_digit() || *c == '-')
                .collect()
        }
    })
}

fn dialled_strategy() -> impl Strategy<Value = String> {
    "[0-9a*#-]{0,8}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn matcher_agrees_with_naive_regex(p in pattern_strategy(), d in dialled_strategy()) {
        let compiled = Pattern::new(&p);
        prop_assert_eq!(compiled.matches(&d), naive_matches(&p, &d), "pattern {} dialled {}", p, d);
    }

    #[test]
    fn modes_are_consistent(p in pattern_strategy(), d in dialled_strategy()) {
        let c = Pattern::new(&p);
        let exact = c.check(&d, MatchMode::Exact).is_match();
        let can = c.check(&d, MatchMode::CanMatch).is_match();
        let more = c.check(&d, MatchMode::MatchMore).is_match();
        prop_assert!(!exact || can, "exact implies can-match: {} {}", p, d);
        prop_assert!(!more || can, "match-more implies can-match: {} {}", p, d);
        // For a literal name, "could match" means the dialled digits are a prefix.
        if !p.starts_with('_') {
            let lit: String = p.chars().filter(|&c| c != '-').collect();
            let data: String = d.chars().filter(|&c| c != '-').collect();
            prop_assert_eq!(can, lit.starts_with(&data));
            prop_assert_eq!(more, lit.starts_with(&data) && lit.len() > data.len());
        }
    }

    #[test]
    fn ordering_is_antisymmetric(a in pattern_strategy(), b in pattern_strategy()) {
        let (pa, pb) = (Pattern::new(&a), Pattern::new(&b));
        prop_assert_eq!(cmp_names(&pa, &pb), cmp_names(&pb, &pa).reverse());
    }

    #[test]
    fn expressions_never_panic(s in "[ -~]{0,60}") {
        let _ = expr::evaluate(&s, &mut MapScope::default());
    }

    #[test]
    fn expression_operator_soup_never_panics(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "1", "0", "-", "+", "*", "/", "%", "(", ")", "?", "::", ":", "=~", "~~", "|",
                "&", "=", "!=", "<", ">=", "!", "\"a b\"", "abc", "COS", ",", "2.5", "${X}", " ",
            ]),
            0..30,
        )
    ) {
        let _ = expr::evaluate(&parts.concat(), &mut MapScope::default());
    }

    #[test]
    fn substitution_never_panics(s in "[ -~]{0,60}") {
        let mut scope = MapScope::with_vars([("A", "12345"), ("B", "A")]);
        let _ = substitute(&s, &mut scope);
        let _ = standard_args(&s);
    }

    #[test]
    fn configuration_never_panics(s in "[ -~\n]{0,200}") {
        let (dp, _) = from_text(&s, "fuzz.conf");
        let _ = dp.show(None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn indexed_lookup_agrees_with_first_match_in_sorted_order(
        names in prop::collection::vec(pattern_strategy(), 1..40),
        dialled in prop::collection::vec(dialled_strategy(), 1..20),
    ) {
        let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
        let text: String = std::iter::once("[c]\n".to_owned())
            .chain(names.iter().map(|n| format!("exten => {n},1,NoOp({n})\n")))
            .collect();
        let (dp, _) = from_text(&text, "e.conf");
        let Some(ctx) = dp.context("c") else { return Ok(()) };
        for d in &dialled {
            let want = ctx
                .extensions()
                .iter()
                .find(|e| e.name().matches(d))
                .map(|e| e.name().as_str().to_owned());
            let got = match dp.find("c", d, 1, None, &NOW) {
                Ok(Hit::Priority { extension, .. }) => Some(extension.name().as_str().to_owned()),
                _ => None,
            };
            prop_assert_eq!(&got, &want, "dialled {}", d);
            // And the naive regex agrees on whether anything matches.
            prop_assert_eq!(want.is_some(), names.iter().any(|n| naive_matches(n, d)));
        }
    }
}
