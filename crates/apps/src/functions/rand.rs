//! `RAND([min][,max])`: a random integer in `[min, max]` (defaults 0 and
//! `RAND_MAX`, 2147483647; swapped if reversed) (`func_rand.c`).

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::scan::scan_int;
use crate::registry::{Function, FunctionContext};

/// `RAND`.
pub struct Rand;

/// glibc's `RAND_MAX`, the default upper bound.
const RAND_MAX: i64 = 2_147_483_647;

impl Function for Rand {
    fn name(&self) -> &'static str {
        "RAND"
    }

    fn synopsis(&self) -> &'static str {
        "Choose a random number in a range."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let bound = |i: usize, default: i64| {
            args.get(i).and_then(|s| scan_int(s)).map_or(default, |n| {
                n.clamp(i64::from(i32::MIN), i64::from(i32::MAX))
            })
        };
        let (a, b) = (bound(0, 0), bound(1, RAND_MAX));
        let (min, max) = if b < a { (b, a) } else { (a, b) };
        Ok(::rand::random_range(min..=max).to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn stays_in_range() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        for _ in 0..50 {
            let n: i64 = s("${RAND(3,5)}").parse().unwrap();
            assert!((3..=5).contains(&n), "{n}");
            let n: i64 = s("${RAND(5,3)}").parse().unwrap();
            assert!((3..=5).contains(&n), "{n}");
            let n: i64 = s("${RAND()}").parse().unwrap();
            assert!((0..=2_147_483_647).contains(&n), "{n}");
        }
        assert_eq!(s("${RAND(7,7)}"), "7");
    }
}
