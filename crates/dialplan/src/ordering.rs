//! Asterisk's sort order of extensions inside a context (`ext_cmp` in `main/pbx.c`).
//!
//! The first extension in this order that matches the dialled string wins, so this
//! order *is* the pattern precedence:
//!
//! 1. all literal names sort before all patterns; literal names compare byte by byte
//!    with `-` ignored;
//! 2. two patterns compare position by position; at each position the element that can
//!    match fewer characters sorts first, weighted as `(count << 8) | lowest char`
//!    (a literal is 1, `N` 8, `Z` 9, `X` 10, a set by its size), a tie goes to the set
//!    holding the lower characters; `.` (0x18000) comes after any set, `!` (0x28000)
//!    after `.`, and the end of the pattern (0x30000) after everything.
//! 3. the same name with a caller-id filter sorts before the one without; two filters
//!    compare with the same rules.

use std::cmp::Ordering;

use crate::pattern::{CharSet, Elem, Pattern};

const W_DOT: u32 = 0x18000;
const W_BANG: u32 = 0x28000;
const W_END: u32 = 0x30000;
const W_BROKEN: u32 = 0x40000;

fn position(elem: Option<&Elem>) -> (u32, CharSet, bool) {
    match elem {
        Some(Elem::Lit(c)) => {
            let mut set = CharSet::EMPTY;
            let word = usize::from(c >> 6);
            if let Some(w) = set.bits.get_mut(word) {
                *w |= 1u64 << (63 - u32::from(c & 63));
            }
            (0x100 | u32::from(*c), set, false)
        }
        Some(Elem::Set { set, weight }) => (*weight, *set, false),
        Some(Elem::Dot) => (W_DOT, CharSet::EMPTY, false),
        Some(Elem::Bang) => (W_BANG, CharSet::EMPTY, false),
        Some(Elem::Broken) => (W_BROKEN, CharSet::EMPTY, true),
        None => (W_END, CharSet::EMPTY, true),
    }
}

fn cmp_elems(left: &[Elem], right: &[Elem]) -> Ordering {
    let mut i = 0;
    loop {
        let (lw, lset, lend) = position(left.get(i));
        let (rw, rset, rend) = position(right.get(i));
        // Asterisk: `memcmp(right, left)`: the set holding lower characters first.
        let ord = lw.cmp(&rw).then_with(|| rset.bits.cmp(&lset.bits));
        if ord != Ordering::Equal || lend || rend {
            return ord;
        }
        i += 1;
    }
}

/// Compares two extension names in Asterisk's context order.
pub fn cmp_names(left: &Pattern, right: &Pattern) -> Ordering {
    match (left.literal_key(), right.literal_key()) {
        (Some(l), Some(r)) => l.cmp(r),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => cmp_elems(left.elems().unwrap_or(&[]), right.elems().unwrap_or(&[])),
    }
}

/// Compares two (name, caller-id filter) pairs: names first, then a filtered entry
/// before an unfiltered one, then the filters themselves.
pub fn cmp_entries(
    left: (&Pattern, Option<&Pattern>),
    right: (&Pattern, Option<&Pattern>),
) -> Ordering {
    cmp_names(left.0, right.0).then_with(|| match (left.1, right.1) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(l), Some(r)) => cmp_names(l, r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<Pattern> = names.iter().map(|n| Pattern::new(n)).collect();
        v.sort_by(cmp_names);
        v.iter().map(|p| p.as_str().to_owned()).collect()
    }

    fn first_match<'a>(names: &[&'a str], dialled: &str) -> Option<&'a str> {
        let mut v: Vec<(Pattern, &str)> = names.iter().map(|n| (Pattern::new(n), *n)).collect();
        v.sort_by(|a, b| cmp_names(&a.0, &b.0));
        v.into_iter()
            .find(|(p, _)| p.matches(dialled))
            .map(|(_, n)| n)
    }

    #[test]
    fn literals_before_patterns() {
        // dialplan.md §2 rule 2: all literal extensions sort before all patterns.
        assert_eq!(
            sorted(&["_X.", "_1XX", "100", "_1!", "_1NX"]),
            ["100", "_1NX", "_1XX", "_1!", "_X."]
        );
        assert_eq!(first_match(&["_1XX", "100", "_X."], "100"), Some("100"));
    }

    #[test]
    fn per_position_specificity() {
        // dialplan.md §2 rule 3 example: dialling 5551212, `_555XXXX` beats `_55XXXXX`
        // (position 3: literal 5 vs X), which beats `_5.`.
        let names = ["_5.", "_55XXXXX", "_555XXXX"];
        assert_eq!(first_match(&names, "5551212"), Some("_555XXXX"));
        assert_eq!(
            first_match(&["_5.", "_55XXXXX"], "5551212"),
            Some("_55XXXXX")
        );
        assert_eq!(sorted(&names), ["_555XXXX", "_55XXXXX", "_5."]);
    }

    #[test]
    fn literal_then_n_then_z_then_x() {
        // A literal (1) < N (8) < Z (9) < X (10).
        assert_eq!(
            sorted(&["_1X", "_1Z", "_1N", "_12"]),
            ["_12", "_1N", "_1Z", "_1X"]
        );
        assert_eq!(first_match(&["_1X", "_1Z", "_1N"], "15"), Some("_1N"));
        assert_eq!(first_match(&["_1X", "_1Z", "_1N"], "11"), Some("_1Z"));
        assert_eq!(first_match(&["_1X", "_1Z", "_1N"], "10"), Some("_1X"));
    }

    #[test]
    fn sets_by_size_then_lowest_character() {
        // `[1-3]` (3) beats `N` (8); `[0-9]` is as specific as `X`.
        assert_eq!(sorted(&["_N", "_[1-3]"]), ["_[1-3]", "_N"]);
        assert_eq!(
            cmp_names(&Pattern::new("_[0-9]"), &Pattern::new("_X")),
            Ordering::Equal
        );
        // Size tie: the set containing the lower character wins.
        assert_eq!(sorted(&["_[4-6]", "_[1-3]"]), ["_[1-3]", "_[4-6]"]);
        assert_eq!(sorted(&["_[79]", "_[78]"]), ["_[78]", "_[79]"]);
    }

    #[test]
    fn dot_then_bang_then_end() {
        // `.` is less specific than any class, `!` less than `.`, end of pattern last.
        assert_eq!(sorted(&["_1!", "_1.", "_1X"]), ["_1X", "_1.", "_1!"]);
        assert_eq!(sorted(&["_1", "_1!"]), ["_1!", "_1"]);
        assert_eq!(sorted(&["_1X", "_1X."]), ["_1X.", "_1X"]);
    }

    #[test]
    fn the_brief_cases() {
        let names = ["_X.", "_1!", "_1XX", "100", "_1NX"];
        assert_eq!(first_match(&names, "100"), Some("100"));
        assert_eq!(
            first_match(&names, "101"),
            Some("_1XX"),
            "N does not match 0"
        );
        assert_eq!(first_match(&names, "120"), Some("_1NX"));
        assert_eq!(first_match(&names, "1"), Some("_1!"));
        // `_1!` sorts before `_X.` (position 0: literal 1 beats X) and matches anything
        // starting with 1.
        assert_eq!(first_match(&names, "1000"), Some("_1!"));
        assert_eq!(first_match(&names, "2000"), Some("_X."));
        assert_eq!(
            first_match(&names, "2"),
            None,
            "`.` needs one character after X"
        );
        assert_eq!(first_match(&names, "23"), Some("_X."));
    }

    #[test]
    fn same_name_equal_despite_spelling() {
        assert_eq!(
            cmp_names(&Pattern::new("_1xx"), &Pattern::new("_1XX")),
            Ordering::Equal
        );
        assert_eq!(
            cmp_names(&Pattern::new("1-00"), &Pattern::new("100")),
            Ordering::Equal
        );
        assert_eq!(
            cmp_names(&Pattern::new("10"), &Pattern::new("100")),
            Ordering::Less
        );
    }

    #[test]
    fn cid_filtered_entry_first() {
        let name = Pattern::new("300");
        let cid = Pattern::new("5551212");
        assert_eq!(
            cmp_entries((&name, Some(&cid)), (&name, None)),
            Ordering::Less
        );
    }
}
