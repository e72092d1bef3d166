//! Asterisk's `^XX` value encoding for SQL realtime drivers.
//!
//! Realtime stores multi-valued options in one column separated by `;`, so the
//! ODBC, PostgreSQL and MySQL drivers encode `;` as `^3B` and `^` as `^5E` on
//! every value they send (bound values, WHERE values, LIKE patterns), and on
//! read split a column at `;` into several values and decode `^HH`. The SQLite
//! driver does neither: its values are stored verbatim. ODBC reads with its
//! own rules ([`split_column_odbc`]).

/// Encodes a value for storage: `;` -> `^3B`, `^` -> `^5E`; nothing else.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            ';' => out.push_str("^3B"),
            '^' => out.push_str("^5E"),
            c => out.push(c),
        }
    }
    out
}

/// Decodes every `^HH` (two hex digits, either case) back into its byte; a
/// `^` not followed by two hex digits is kept as it is.
pub fn decode(value: &str) -> String {
    decode_with(value, hex)
}

/// res_config_odbc's decoder: as [`decode`], but only upper-case hex digits
/// (`^3b` stays as written).
pub fn decode_upper(value: &str) -> String {
    decode_with(
        value,
        |b| if b.is_ascii_lowercase() { None } else { hex(b) },
    )
}

fn decode_with(value: &str, hex: impl Fn(u8) -> Option<u8>) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'^'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a column value read from an encoding driver into its values: at
/// `;`, dropping empty or blank chunks, each chunk decoded. Columns whose name
/// starts with `@` (sorcery extended fields) are neither split nor decoded.
pub fn split_column(column: &str, value: &str) -> Vec<String> {
    if column.starts_with('@') {
        return vec![value.to_owned()];
    }
    let chunks: Vec<String> = value
        .split(';')
        .filter(|chunk| !chunk.trim().is_empty())
        .map(decode)
        .collect();
    if chunks.is_empty() {
        // An empty column stays one empty value: emptiness is meaningful to
        // the core's post-processing (dropped from single-row results).
        vec![value.to_owned()]
    } else {
        chunks
    }
}

/// Splits a column value read through ODBC as res_config_odbc does: `@`
/// columns (sorcery extended fields) are kept whole, an empty one as a single
/// space (which the core turns back into "empty but set"); other columns are
/// split at `;`, each chunk trimmed, blank chunks dropped (so an empty column
/// gives nothing), and `^HH` decoded.
pub fn split_column_odbc(column: &str, value: &str) -> Vec<String> {
    if column.starts_with('@') {
        let value = if value.is_empty() { " " } else { value };
        return vec![value.to_owned()];
    }
    value
        .split(';')
        .map(str::trim)
        .filter(|chunk| !chunk.is_empty())
        .map(decode_upper)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_only_semicolon_and_caret() {
        assert_eq!(encode("alice;@5f^x"), "alice^3B@5f^5Ex");
        assert_eq!(encode("plain %_ text"), "plain %_ text");
    }

    #[test]
    fn decodes_both_cases_and_leaves_stray_carets() {
        assert_eq!(decode("alice^3B@5f^5e"), "alice;@5f^");
        assert_eq!(decode("a^zz^"), "a^zz^");
        assert_eq!(decode(&encode("x;y^z;;")), "x;y^z;;");
    }

    #[test]
    fn splits_like_asterisk() {
        assert_eq!(
            split_column("allow", "ulaw;alaw; ;g722"),
            ["ulaw", "alaw", "g722"]
        );
        assert_eq!(split_column("id", "alice^3B@5f"), ["alice;@5f"]);
        assert_eq!(split_column("@body", "a;b"), ["a;b"]);
        assert_eq!(split_column("x", ""), [""]);
    }

    #[test]
    fn splits_like_res_config_odbc() {
        assert_eq!(
            split_column_odbc("allow", "ulaw; alaw;;g722 "),
            ["ulaw", "alaw", "g722"]
        );
        assert_eq!(split_column_odbc("id", "alice^3B@5f^5E"), ["alice;@5f^"]);
        assert_eq!(split_column_odbc("id", "a^3b"), ["a^3b"], "upper case only");
        assert!(split_column_odbc("context", "").is_empty());
        assert!(split_column_odbc("callerid", " ").is_empty());
        assert_eq!(split_column_odbc("@body", ""), [" "]);
        assert_eq!(split_column_odbc("@body", "a;b^3B"), ["a;b^3B"]);
    }
}
