//! Random identifiers: tags, branches and Call-IDs (RFC 3261 §8.1.1.4,
//! §8.1.1.7, §19.3), from the thread-local CSPRNG so they are unguessable.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Appends `len` random alphanumerics to `out`.
fn push_random(out: &mut String, len: usize) {
    let mut bytes = [0u8; 32];
    let mut left = len;
    while left > 0 {
        let n = left.min(bytes.len());
        rand::fill(&mut bytes[..n]);
        // 62 * 4 = 248: reject 248..=255 would be exact; the tiny bias of a
        // plain modulo does not matter for identifiers that only need to be unique.
        out.extend(
            bytes[..n]
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])),
        );
        left -= n;
    }
}

fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    push_random(&mut out, len);
    out
}

/// A From/To tag: 16 alphanumerics (about 95 bits).
pub fn new_tag() -> String {
    random_token(16)
}

/// A Via branch with the RFC 3261 magic cookie `z9hG4bK`.
pub fn new_branch() -> String {
    let mut branch = String::with_capacity(29);
    branch.push_str("z9hG4bK");
    push_random(&mut branch, 22);
    branch
}

/// A Call-ID: 32 alphanumerics, optionally `@host`.
pub fn new_call_id(host: Option<&str>) -> String {
    match host {
        Some(h) => format!("{}@{h}", random_token(32)),
        None => random_token(32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_right_shape() {
        let b = new_branch();
        assert!(b.starts_with("z9hG4bK") && b.len() == 29);
        assert_ne!(new_tag(), new_tag());
        assert!(new_call_id(Some("h.example")).ends_with("@h.example"));
    }
}
