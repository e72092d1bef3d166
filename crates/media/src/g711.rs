//! G.711 µ-law and A-law (ITU-T G.711), table driven.
//!
//! The tables are built at compile time from the ITU-T G.191 reference
//! algorithm (`ulaw_compress`/`alaw_compress` and their expanders), so every
//! conversion is one array lookup and the results are bit-exact with the
//! ITU reference implementation.

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

const fn segment(val: i32, table: &[i32; 8]) -> i32 {
    let mut i = 0;
    while i < 8 {
        if val <= table[i] {
            return i as i32;
        }
        i += 1;
    }
    8
}

/// Reference µ-law encoder on a 14-bit value (`pcm >> 2`). Negative values
/// take the one's complement magnitude, as the ITU-T G.191 reference
/// (`ulaw_compress`) does, so −1 encodes to 0x7F like +0 encodes to 0xFF.
const fn linear14_to_ulaw(pcm14: i32) -> u8 {
    let (mask, mut v) = if pcm14 < 0 {
        (0x7F, -pcm14 - 1)
    } else {
        (0xFF, pcm14)
    };
    if v > ULAW_CLIP {
        v = ULAW_CLIP;
    }
    v += ULAW_BIAS >> 2;
    let seg = segment(v, &SEG_UEND);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let uval = (seg << 4) | ((v >> (seg + 1)) & 0xF);
    (uval ^ mask) as u8
}

/// Reference A-law encoder on a 13-bit value (`pcm >> 3`).
const fn linear13_to_alaw(pcm13: i32) -> u8 {
    let (mask, v) = if pcm13 >= 0 {
        (0xD5, pcm13)
    } else {
        (0x55, -pcm13 - 1)
    };
    let seg = segment(v, &SEG_AEND);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mut aval = seg << 4;
    if seg < 2 {
        aval |= (v >> 1) & 0xF;
    } else {
        aval |= (v >> seg) & 0xF;
    }
    (aval ^ mask) as u8
}

const fn ulaw_to_linear_ref(u: u8) -> i16 {
    let u = !u as i32;
    let mut t = ((u & 0x0F) << 3) + ULAW_BIAS;
    t <<= (u & 0x70) >> 4;
    (if u & 0x80 != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

const fn alaw_to_linear_ref(a: u8) -> i16 {
    let a = (a ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

static ULAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_to_linear_ref(i as u8);
        i += 1;
    }
    t
};

static ALAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_to_linear_ref(i as u8);
        i += 1;
    }
    t
};

/// Indexed by `(pcm >> 2) & 0x3FFF` (two's complement 14-bit).
static ULAW_ENCODE: [u8; 16384] = {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        let v = if i >= 8192 {
            i as i32 - 16384
        } else {
            i as i32
        };
        t[i] = linear14_to_ulaw(v);
        i += 1;
    }
    t
};

/// Indexed by `(pcm >> 3) & 0x1FFF` (two's complement 13-bit).
static ALAW_ENCODE: [u8; 8192] = {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        let v = if i >= 4096 { i as i32 - 8192 } else { i as i32 };
        t[i] = linear13_to_alaw(v);
        i += 1;
    }
    t
};

static ULAW_TO_ALAW: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let lin = ulaw_to_linear_ref(i as u8) as i32;
        t[i] = linear13_to_alaw(lin >> 3);
        i += 1;
    }
    t
};

static ALAW_TO_ULAW: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let lin = alaw_to_linear_ref(i as u8) as i32;
        t[i] = linear14_to_ulaw(lin >> 2);
        i += 1;
    }
    t
};

/// Decodes one µ-law byte to 16-bit linear.
#[inline]
pub fn ulaw_to_linear(u: u8) -> i16 {
    ULAW_DECODE[u as usize]
}

/// Decodes one A-law byte to 16-bit linear.
#[inline]
pub fn alaw_to_linear(a: u8) -> i16 {
    ALAW_DECODE[a as usize]
}

/// Encodes one 16-bit linear sample to µ-law.
#[inline]
pub fn linear_to_ulaw(pcm: i16) -> u8 {
    ULAW_ENCODE[((pcm >> 2) as u16 & 0x3FFF) as usize]
}

/// Encodes one 16-bit linear sample to A-law.
#[inline]
pub fn linear_to_alaw(pcm: i16) -> u8 {
    ALAW_ENCODE[((pcm >> 3) as u16 & 0x1FFF) as usize]
}

/// µ-law to A-law without going through a linear buffer (one lookup).
#[inline]
pub fn ulaw_to_alaw(u: u8) -> u8 {
    ULAW_TO_ALAW[u as usize]
}

/// A-law to µ-law without going through a linear buffer (one lookup).
#[inline]
pub fn alaw_to_ulaw(a: u8) -> u8 {
    ALAW_TO_ULAW[a as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        // G.711 Table 2a: code 0xFF is +0, 0x7F is -0, 0x80 / 0x00 are the extremes.
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0xEF), 132);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_ulaw(1000), 0xCE);
        assert_eq!(linear_to_ulaw(-1000), 0x4E);
    }

    #[test]
    fn alaw_known_values() {
        // G.711 Table 1a: 0xD5 / 0x55 are the smallest positive / negative steps.
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(linear_to_alaw(1000), 0xFA);
    }

    #[test]
    fn codes_round_trip() {
        for code in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "alaw {code:#x}");
            let back = linear_to_ulaw(ulaw_to_linear(code));
            // 0x7F (-0) decodes to 0, which encodes as +0 (0xFF): the only alias.
            if code == 0x7F {
                assert_eq!(back, 0xFF);
            } else {
                assert_eq!(back, code, "ulaw {code:#x}");
            }
        }
    }

    #[test]
    fn linear_round_trip_error_is_bounded() {
        for pcm in (i16::MIN..=i16::MAX).step_by(7) {
            let u = ulaw_to_linear(linear_to_ulaw(pcm)) as i32;
            let a = alaw_to_linear(linear_to_alaw(pcm)) as i32;
            let mag = (pcm as i32).abs();
            // Logarithmic quantisation: the error grows with the segment.
            let bound = mag / 16 + 8;
            assert!((u - pcm as i32).abs() <= bound, "ulaw {pcm} -> {u}");
            assert!((a - pcm as i32).abs() <= bound, "alaw {pcm} -> {a}");
        }
    }

    #[test]
    fn cross_tables_match_linear_path() {
        for code in 0..=255u8 {
            assert_eq!(ulaw_to_alaw(code), linear_to_alaw(ulaw_to_linear(code)));
            assert_eq!(alaw_to_ulaw(code), linear_to_ulaw(alaw_to_linear(code)));
        }
    }
}
