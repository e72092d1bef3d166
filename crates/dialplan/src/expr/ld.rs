//! A software `long double` (x87 80-bit extended: 64-bit mantissa), so that `$[...]`
//! arithmetic prints exactly what Asterisk prints.
//!
//! `ast_expr2` computes in `long double` and prints with `%.18Lg`: `$[1/3]` is
//! `0.333333333333333333`, `$[0.1 + 0.2]` is `0.3`. A `f64` cannot reproduce those
//! digits, so `+ - * / %` and the decimal conversions are done here with the same
//! rounding (round to nearest, ties to even) and the decimal output is exact before
//! rounding to 18 significant digits. Transcendental functions (`COS`, `SQRT`, ...) go
//! through `f64` and may differ from glibc's `cosl` in the last digits.

use std::cmp::Ordering;

/// Exponent limit of the x87 format (values are `mant * 2^exp`, `mant` in
/// `[2^63, 2^64)`, so the binary exponent of the value is `exp + 63`).
const MAX_EXP2: i64 = 16383;
const MIN_EXP2: i64 = -16382;
/// Significant decimal digits kept when parsing (more only decide the rounding).
const PARSE_DIGITS: usize = 40;
/// Decimal exponents beyond which parsing gives infinity or zero directly.
const PARSE_EXP_LIMIT: i64 = 5000;

/// An 80-bit extended precision value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Ld {
    /// Signed zero.
    Zero(bool),
    /// `(-1)^neg * mant * 2^exp`, `mant` with bit 63 set.
    Finite { neg: bool, mant: u64, exp: i64 },
    /// Signed infinity.
    Inf(bool),
    /// Not a number (sign kept for printing `-nan`).
    NaN(bool),
}

/// Little-endian base-2^32 unsigned big integer, just enough for exact conversions.
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry: u64 = 0;
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            if carry == 0 {
                return;
            }
            let v = u64::from(*limb) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// Divides in place, returns the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem: u64 = 0;
        for limb in self.0.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    fn bit_len(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() - 1) * 32 + (32 - top.leading_zeros() as usize),
        }
    }

    fn shl(&mut self, bits: usize) {
        if self.is_zero() {
            return;
        }
        let (words, rest) = (bits / 32, bits % 32);
        if rest > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = (*limb << rest) | carry;
                carry = *limb >> (32 - rest);
                *limb = v;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        if words > 0 {
            self.0.splice(0..0, std::iter::repeat_n(0, words));
        }
    }

    /// The bits from `from` upwards (at most 128 of them) and whether any bit below
    /// `from` is set.
    fn bits_from(&self, from: usize) -> (u128, bool) {
        let mut v: u128 = 0;
        for i in (0..128).rev() {
            let bit = from + i;
            let limb = self.0.get(bit / 32).copied().unwrap_or(0);
            v = (v << 1) | u128::from((limb >> (bit % 32)) & 1);
        }
        let whole = from / 32;
        let mut sticky = self.0.iter().take(whole).any(|&l| l != 0);
        if let Some(&l) = self.0.get(whole) {
            let mask = (1u64 << (from % 32)) - 1;
            sticky |= u64::from(l) & mask != 0;
        }
        (v, sticky)
    }

    fn to_decimal(&self) -> String {
        let mut chunks = Vec::new();
        let mut n = self.clone();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut s = String::new();
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:09}"));
            }
        }
        if s.is_empty() {
            s.push('0');
        }
        s
    }
}

/// Rounds `v * 2^exp` (low bit of `v` may be a sticky bit) to a 64-bit mantissa.
fn round(neg: bool, v: u128, exp: i64) -> Ld {
    if v == 0 {
        return Ld::Zero(neg);
    }
    let top = 127 - i64::from(v.leading_zeros());
    let (mant, e) = if top <= 63 {
        let sh = 63 - top;
        ((v << sh) as u64, exp - sh)
    } else {
        let sh = top - 63;
        let kept = (v >> sh) as u64;
        let rem = v & ((1u128 << sh) - 1);
        let half = 1u128 << (sh - 1);
        let up = rem > half || (rem == half && kept & 1 == 1);
        if up {
            match kept.checked_add(1) {
                Some(m) => (m, exp + sh),
                None => (1u64 << 63, exp + sh + 1),
            }
        } else {
            (kept, exp + sh)
        }
    };
    if e + 63 > MAX_EXP2 {
        Ld::Inf(neg)
    } else if e + 63 < MIN_EXP2 {
        Ld::Zero(neg)
    } else {
        Ld::Finite { neg, mant, exp: e }
    }
}

/// Rounds a big integer times `2^exp` (plus a sticky flag for dropped low bits).
fn round_big(neg: bool, big: &Big, sticky: bool, exp: i64) -> Ld {
    let len = big.bit_len();
    if len <= 126 {
        let (v, _) = big.bits_from(0);
        if sticky {
            round(neg, (v << 1) | 1, exp - 1)
        } else {
            round(neg, v, exp)
        }
    } else {
        let from = len - 126;
        let (v, low) = big.bits_from(from);
        let shift = i64::try_from(from).unwrap_or(i64::MAX / 2);
        round(neg, (v << 1) | u128::from(low || sticky), exp + shift - 1)
    }
}

impl Ld {
    pub(crate) const ZERO: Ld = Ld::Zero(false);

    pub(crate) fn from_u64(v: u64) -> Ld {
        round(false, u128::from(v), 0)
    }

    /// Exact conversion.
    pub(crate) fn from_f64(x: f64) -> Ld {
        if x.is_nan() {
            return Ld::NaN(x.is_sign_negative());
        }
        if x.is_infinite() {
            return Ld::Inf(x < 0.0);
        }
        if x == 0.0 {
            return Ld::Zero(x.is_sign_negative());
        }
        let bits = x.to_bits();
        let neg = bits >> 63 == 1;
        let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), biased - 1075)
        };
        round(neg, u128::from(m), e)
    }

    /// Nearest `f64` (for the math functions).
    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Ld::Zero(n) => {
                if n {
                    -0.0
                } else {
                    0.0
                }
            }
            Ld::Inf(n) => {
                if n {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            Ld::NaN(_) => f64::NAN,
            Ld::Finite { neg, mant, exp } => {
                // Round the mantissa to 53 bits first (ties to even), then scale.
                let kept = mant >> 11;
                let rem = mant & 0x7ff;
                let up = rem > 0x400 || (rem == 0x400 && kept & 1 == 1);
                let m = (kept + u64::from(up)) as f64;
                let mut e = exp + 11;
                let mut v = m;
                while e > 0 {
                    let step = e.min(1000);
                    v *= 2f64.powi(i32::try_from(step).unwrap_or(0));
                    e -= step;
                }
                while e < 0 {
                    let step = (-e).min(1000);
                    v /= 2f64.powi(i32::try_from(step).unwrap_or(0));
                    e += step;
                }
                if neg { -v } else { v }
            }
        }
    }

    pub(crate) fn is_zero(self) -> bool {
        matches!(self, Ld::Zero(_))
    }

    fn is_neg(self) -> bool {
        match self {
            Ld::Zero(n) | Ld::Inf(n) | Ld::NaN(n) | Ld::Finite { neg: n, .. } => n,
        }
    }

    pub(crate) fn neg(self) -> Ld {
        match self {
            Ld::Zero(n) => Ld::Zero(!n),
            Ld::Inf(n) => Ld::Inf(!n),
            Ld::NaN(n) => Ld::NaN(!n),
            Ld::Finite { neg, mant, exp } => Ld::Finite {
                neg: !neg,
                mant,
                exp,
            },
        }
    }

    /// Compares magnitudes of two finite non-zero values.
    fn cmp_mag(a: (u64, i64), b: (u64, i64)) -> Ordering {
        a.1.cmp(&b.1).then(a.0.cmp(&b.0))
    }

    pub(crate) fn partial_cmp(self, other: Ld) -> Option<Ordering> {
        use Ld::*;
        let key = |x: Ld| -> Option<(i8, i64, u64)> {
            // (class, exp, mant) for positive values; negatives handled by sign below.
            match x {
                Zero(_) => Some((0, 0, 0)),
                Finite { exp, mant, .. } => Some((1, exp, mant)),
                Inf(_) => Some((2, 0, 0)),
                NaN(_) => None,
            }
        };
        let (ka, kb) = (key(self)?, key(other)?);
        let sa = if ka.0 == 0 {
            0
        } else if self.is_neg() {
            -1
        } else {
            1
        };
        let sb = if kb.0 == 0 {
            0
        } else if other.is_neg() {
            -1
        } else {
            1
        };
        if sa != sb {
            return Some(sa.cmp(&sb));
        }
        let mag = ka.cmp(&kb);
        Some(if sa < 0 { mag.reverse() } else { mag })
    }

    pub(crate) fn add(self, other: Ld) -> Ld {
        use Ld::*;
        match (self, other) {
            (NaN(n), _) | (_, NaN(n)) => NaN(n),
            (Inf(a), Inf(b)) => {
                if a == b {
                    Inf(a)
                } else {
                    NaN(true)
                }
            }
            (Inf(a), _) | (_, Inf(a)) => Inf(a),
            (Zero(a), Zero(b)) => Zero(a && b),
            (Zero(_), x) | (x, Zero(_)) => x,
            (
                Finite {
                    neg: na,
                    mant: ma,
                    exp: ea,
                },
                Finite {
                    neg: nb,
                    mant: mb,
                    exp: eb,
                },
            ) => {
                // Order by magnitude: |a| >= |b|.
                let ((na, ma, ea), (nb, mb, eb)) =
                    if Ld::cmp_mag((ma, ea), (mb, eb)) == Ordering::Less {
                        ((nb, mb, eb), (na, ma, ea))
                    } else {
                        ((na, ma, ea), (nb, mb, eb))
                    };
                const GUARD: u32 = 62;
                let a = u128::from(ma) << GUARD;
                let d = ea - eb;
                let b_full = u128::from(mb) << GUARD;
                let b = if d >= 127 {
                    1
                } else {
                    let d = u32::try_from(d).unwrap_or(127);
                    let shifted = b_full >> d;
                    let lost = b_full & ((1u128 << d) - 1) != 0;
                    shifted | u128::from(lost)
                };
                let exp = ea - i64::from(GUARD);
                if na == nb {
                    round(na, a + b, exp)
                } else if a == b {
                    Zero(false)
                } else {
                    round(na, a - b, exp)
                }
            }
        }
    }

    pub(crate) fn sub(self, other: Ld) -> Ld {
        self.add(other.neg())
    }

    pub(crate) fn mul(self, other: Ld) -> Ld {
        use Ld::*;
        let neg = self.is_neg() != other.is_neg();
        match (self, other) {
            (NaN(n), _) | (_, NaN(n)) => NaN(n),
            (Inf(_), Zero(_)) | (Zero(_), Inf(_)) => NaN(true),
            (Inf(_), _) | (_, Inf(_)) => Inf(neg),
            (Zero(_), _) | (_, Zero(_)) => Zero(neg),
            (
                Finite {
                    mant: ma, exp: ea, ..
                },
                Finite {
                    mant: mb, exp: eb, ..
                },
            ) => round(neg, u128::from(ma) * u128::from(mb), ea + eb),
        }
    }

    pub(crate) fn div(self, other: Ld) -> Ld {
        use Ld::*;
        let neg = self.is_neg() != other.is_neg();
        match (self, other) {
            (NaN(n), _) | (_, NaN(n)) => NaN(n),
            (Inf(_), Inf(_)) | (Zero(_), Zero(_)) => NaN(true),
            (Inf(_), _) => Inf(neg),
            (_, Inf(_)) | (Zero(_), _) => Zero(neg),
            (_, Zero(_)) => Inf(neg),
            (
                Finite {
                    mant: ma, exp: ea, ..
                },
                Finite {
                    mant: mb, exp: eb, ..
                },
            ) => {
                // 64 or 65 quotient bits, then one more (guard) and a sticky bit.
                let num = u128::from(ma) << 64;
                let d = u128::from(mb);
                let (q, r) = (num / d, num % d);
                let guard = 2 * r >= d;
                let sticky = 2 * r - if guard { d } else { 0 } != 0;
                let v = (q << 2) | (u128::from(guard) << 1) | u128::from(sticky);
                round(neg, v, ea - eb - 66)
            }
        }
    }

    /// C `fmodl`: exact, sign of the dividend.
    pub(crate) fn fmod(self, other: Ld) -> Ld {
        use Ld::*;
        match (self, other) {
            (NaN(n), _) | (_, NaN(n)) => NaN(n),
            (Inf(_), _) | (_, Zero(_)) => NaN(true),
            (Zero(n), _) => Zero(n),
            (x, Inf(_)) => x,
            (
                Finite {
                    neg,
                    mant: ma,
                    exp: ea,
                },
                Finite {
                    mant: mb, exp: eb, ..
                },
            ) => {
                if Ld::cmp_mag((ma, ea), (mb, eb)) == Ordering::Less {
                    return self;
                }
                let mut r = ma % mb;
                let mut d = ea - eb;
                while d > 0 && r != 0 {
                    let k = u32::try_from(d.min(63)).unwrap_or(63);
                    r = ((u128::from(r) << k) % u128::from(mb)) as u64;
                    d -= i64::from(k);
                }
                round(neg, u128::from(r), eb)
            }
        }
    }

    /// C `strtold` on the longest `[blanks][sign]digits[.digits]` prefix; 0 if none.
    pub(crate) fn parse_prefix(s: &str) -> Ld {
        let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
        let b = t.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        // The longest digits[.digits] run, read without allocating.
        let start = i;
        let mut point: Option<usize> = None;
        let mut total = 0usize;
        while let Some(&c) = b.get(i) {
            if c.is_ascii_digit() {
                total += 1;
            } else if c == b'.' && point.is_none() {
                point = Some(total);
            } else {
                break;
            }
            i += 1;
        }
        if total == 0 {
            return Ld::Zero(false);
        }
        let body = b.get(start..i).unwrap_or_default();
        let digits = || {
            body.iter()
                .filter(|c| c.is_ascii_digit())
                .map(|&c| c - b'0')
        };
        let int_digits = point.unwrap_or(total);
        // value = 0.d1d2d3... * 10^int_digits, leading zeros removed.
        let lead = digits().take_while(|&d| d == 0).count();
        if lead == total {
            return Ld::Zero(neg);
        }
        let mut dec_exp =
            i64::try_from(int_digits).unwrap_or(i64::MAX / 4) - i64::try_from(lead).unwrap_or(0);
        let kept_len = (total - lead).min(PARSE_DIGITS);
        let kept = || digits().skip(lead).take(kept_len);
        let dropped_nonzero = digits().skip(lead + PARSE_DIGITS).any(|d| d != 0);
        // Fast path: up to 19 digits and a small decimal exponent fit in 128 bits.
        if kept_len <= 19 && !dropped_nonzero {
            let n = kept().fold(0u128, |acc, d| acc * 10 + u128::from(d));
            let e = dec_exp - i64::try_from(kept_len).unwrap_or(0);
            if (0..=18).contains(&e) {
                return round(neg, n * 10u128.pow(u32::try_from(e).unwrap_or(0)), 0);
            }
            if (-18..0).contains(&e) {
                let p10 = 10u128.pow(u32::try_from(-e).unwrap_or(0));
                let s = n.leading_zeros();
                let v = n << s;
                let (q, r) = (v / p10, v % p10);
                return round(neg, (q << 1) | u128::from(r != 0), -i64::from(s) - 1);
            }
        }
        let mut n = Big(Vec::new());
        for d in kept() {
            n.mul_small(10);
            n.add_small(u32::from(d));
        }
        // n is an integer: value = n * 10^(dec_exp - kept_len).
        dec_exp -= i64::try_from(kept_len).unwrap_or(0);
        if dropped_nonzero {
            // One more digit, non-zero: keeps the value strictly between neighbours.
            n.mul_small(10);
            n.add_small(1);
            dec_exp -= 1;
        }
        if dec_exp > PARSE_EXP_LIMIT {
            return Ld::Inf(neg);
        }
        if dec_exp < -PARSE_EXP_LIMIT {
            return Ld::Zero(neg);
        }
        if dec_exp >= 0 {
            for _ in 0..dec_exp {
                n.mul_small(10);
            }
            return round_big(neg, &n, false, 0);
        }
        let k = usize::try_from(-dec_exp).unwrap_or(0);
        // q = floor(n * 2^s / 10^k) with enough bits, remainder as sticky.
        let want = 140 + (k * 3322).div_ceil(1000);
        let s = want.saturating_sub(n.bit_len());
        n.shl(s);
        let mut sticky = false;
        for _ in 0..k {
            sticky |= n.div_small(10) != 0;
        }
        round_big(neg, &n, sticky, -i64::try_from(s).unwrap_or(0))
    }

    /// C `printf("%.18Lg")`.
    pub(crate) fn format_g18(self) -> String {
        const P: i64 = 18;
        let (neg, mant, exp) = match self {
            Ld::Zero(n) => return if n { "-0" } else { "0" }.to_owned(),
            Ld::Inf(n) => return if n { "-inf" } else { "inf" }.to_owned(),
            Ld::NaN(n) => return if n { "-nan" } else { "nan" }.to_owned(),
            Ld::Finite { neg, mant, exp } => (neg, mant, exp),
        };
        // Fast path: integers below 10^18 print in full.
        if (-63..=0).contains(&exp) {
            let sh = u32::try_from(-exp).unwrap_or(0);
            if mant & ((1u64 << sh) - 1) == 0 {
                let int = mant >> sh;
                if int < 1_000_000_000_000_000_000 {
                    return if neg {
                        format!("-{int}")
                    } else {
                        int.to_string()
                    };
                }
            }
        }
        // Exact decimal digits of mant * 2^exp, and the position of the point.
        let mut big = Big::from_u64(mant);
        let (digits, point) = if exp >= 0 {
            big.shl(usize::try_from(exp).unwrap_or(0));
            let d = big.to_decimal();
            let p = i64::try_from(d.len()).unwrap_or(0);
            (d, p)
        } else {
            let mut k = -exp;
            while k > 0 {
                let step = k.min(13);
                big.mul_small(5u32.pow(u32::try_from(step).unwrap_or(0)));
                k -= step;
            }
            let d = big.to_decimal();
            let p = i64::try_from(d.len()).unwrap_or(0) + exp;
            (d, p)
        };
        let mut x = point - 1;
        let bytes = digits.as_bytes();
        let mut head: Vec<u8> = bytes.iter().take(18).copied().collect();
        if bytes.len() > 18 {
            let tail = bytes.get(18..).unwrap_or_default();
            let first = tail.first().copied().unwrap_or(b'0');
            let rest_nonzero = tail.iter().skip(1).any(|&c| c != b'0');
            let last_odd = head.last().is_some_and(|&c| (c - b'0') % 2 == 1);
            let up = first > b'5' || (first == b'5' && (rest_nonzero || last_odd));
            if up {
                let mut i = head.len();
                loop {
                    if i == 0 {
                        head.insert(0, b'1');
                        head.truncate(18);
                        x += 1;
                        break;
                    }
                    i -= 1;
                    if let Some(c) = head.get_mut(i) {
                        if *c == b'9' {
                            *c = b'0';
                        } else {
                            *c += 1;
                            break;
                        }
                    }
                }
            }
        }
        while head.len() > 1 && head.last() == Some(&b'0') {
            head.pop();
        }
        let sig = String::from_utf8_lossy(&head).into_owned();
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        if !(-4..P).contains(&x) {
            let (a, b) = sig.split_at(1.min(sig.len()));
            out.push_str(a);
            if !b.is_empty() {
                out.push('.');
                out.push_str(b);
            }
            out.push('e');
            out.push(if x < 0 { '-' } else { '+' });
            out.push_str(&format!("{:02}", x.unsigned_abs()));
        } else if x >= 0 {
            let int_len = usize::try_from(x + 1).unwrap_or(0);
            if sig.len() <= int_len {
                out.push_str(&sig);
                out.extend(std::iter::repeat_n('0', int_len - sig.len()));
            } else {
                let (a, b) = sig.split_at(int_len);
                out.push_str(a);
                out.push('.');
                out.push_str(b);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n(
                '0',
                usize::try_from(-x - 1).unwrap_or(0),
            ));
            out.push_str(&sig);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Ld {
        Ld::parse_prefix(s)
    }

    #[test]
    fn prints_like_percent_18lg_of_long_double() {
        // Values as Asterisk (x86-64, long double) prints them.
        assert_eq!(p("1").div(p("3")).format_g18(), "0.333333333333333333");
        assert_eq!(p("2").div(p("3")).format_g18(), "0.666666666666666667");
        assert_eq!(p("10").div(p("3")).format_g18(), "3.33333333333333333");
        assert_eq!(p("100").div(p("7")).format_g18(), "14.2857142857142857");
        assert_eq!(p("0.1").add(p("0.2")).format_g18(), "0.3");
        assert_eq!(p("1.1").mul(p("1.1")).format_g18(), "1.21");
        assert_eq!(p("7").div(p("2")).format_g18(), "3.5");
        // Correctly rounded quotients (expected mantissas computed with exact fractions).
        let cases: [(&str, &str, u64, i64); 5] = [
            (
                "18446744073709551615",
                "9223372036854775809",
                18446744073709551613,
                -63,
            ),
            ("1", "3", 12297829382473034411, -65),
            ("2", "3", 12297829382473034411, -64),
            (
                "1000000000000000007",
                "999999937",
                17179870266331826899,
                -34,
            ),
            ("12345678901234567", "3", 16855966926485595477, -12),
        ];
        for (a, b, mant, exp) in cases {
            assert_eq!(
                p(a).div(p(b)),
                Ld::Finite {
                    neg: false,
                    mant,
                    exp
                },
                "{a}/{b}"
            );
        }
        assert_eq!(p("2147483647").format_g18(), "2147483647");
        assert_eq!(p("123456789012345678").format_g18(), "123456789012345678");
        assert_eq!(
            p("1234567890123456789").format_g18(),
            "1.23456789012345679e+18"
        );
        assert_eq!(p("0.0001").format_g18(), "0.0001");
        assert_eq!(p("0.00001").format_g18(), "1e-05");
        assert_eq!(p("5").sub(p("5")).format_g18(), "0");
        assert_eq!(p("3").sub(p("5")).format_g18(), "-2");
        assert_eq!(p("-7").fmod(p("3")).format_g18(), "-1");
        assert_eq!(p("5.5").fmod(p("2")).format_g18(), "1.5");
    }

    #[test]
    fn exact_round_trips_of_doubles() {
        for x in [
            1.0,
            0.5,
            3.25,
            1e300,
            -2.5e-300,
            123456.789,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(Ld::from_f64(x).to_f64(), x);
        }
    }

    #[test]
    fn ordering() {
        assert_eq!(p("1").partial_cmp(p("2")), Some(Ordering::Less));
        assert_eq!(p("-1").partial_cmp(p("-2")), Some(Ordering::Greater));
        assert_eq!(p("0").partial_cmp(Ld::Zero(true)), Some(Ordering::Equal));
        assert_eq!(Ld::NaN(false).partial_cmp(p("1")), None);
        assert_eq!(p("1.0").partial_cmp(p("1")), Some(Ordering::Equal));
    }

    #[test]
    fn huge_and_tiny_inputs_are_bounded() {
        let long = "9".repeat(10_000);
        assert!(matches!(p(&long), Ld::Inf(false)));
        let tiny = format!("0.{}1", "0".repeat(10_000));
        assert!(p(&tiny).is_zero());
        let x = p(&"1".repeat(300));
        assert!(x.format_g18().starts_with("1.11111111111111111e+299"));
    }

    fn ulps_apart(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]

        #[test]
        fn integer_arithmetic_is_exact(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            let (la, lb) = (p(&a.to_string()), p(&b.to_string()));
            let fix = |x: Ld| x.format_g18();
            proptest::prop_assert_eq!(fix(la.add(lb)), (a + b).to_string());
            proptest::prop_assert_eq!(fix(la.sub(lb)), if a == b { "0".to_owned() } else { (a - b).to_string() });
            let prod = a * b;
            if prod.unsigned_abs() < 1_000_000_000_000_000_000 && prod != 0 {
                proptest::prop_assert_eq!(fix(la.mul(lb)), prod.to_string());
            }
            if b != 0 && a % b != 0 {
                proptest::prop_assert_eq!(la.fmod(lb).to_f64(), (a % b) as f64);
            }
        }

        #[test]
        fn division_and_parsing_agree_with_f64(a in 1u32..u32::MAX, b in 1u32..u32::MAX, frac in 0u32..1_000_000) {
            let q = p(&a.to_string()).div(p(&b.to_string())).to_f64();
            proptest::prop_assert!(ulps_apart(q, f64::from(a) / f64::from(b)) <= 1);
            let text = format!("{a}.{frac:06}");
            let parsed = p(&text).to_f64();
            let want: f64 = text.parse().unwrap_or(0.0);
            proptest::prop_assert!(ulps_apart(parsed, want) <= 1, "{}", text);
            // Printing then parsing 18 digits gives back a value within a few ulps.
            let printed = p(&text).format_g18();
            let back: f64 = printed.parse().unwrap_or(0.0);
            proptest::prop_assert!(ulps_apart(back, want) <= 1, "{} -> {}", text, printed);
        }
    }
}
