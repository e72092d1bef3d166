//! Splitting a console line into words, as Asterisk's console does.

/// Splits `line` on whitespace; double quotes group words (`"a b"` is one word)
/// and a backslash makes the next character literal.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_word = true;
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// Whether the line ends in unquoted whitespace, i.e. the user has finished the
/// last word and completion should offer the next one.
pub fn ends_in_space(line: &str) -> bool {
    line.ends_with(char::is_whitespace) && line.matches('"').count().is_multiple_of(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quotes_and_escapes() {
        assert_eq!(
            split_words("  core  show   version "),
            ["core", "show", "version"]
        );
        assert_eq!(
            split_words(r#"database put "my family" k\ v"#),
            ["database", "put", "my family", "k v"]
        );
        assert_eq!(split_words(r#"x """#), ["x", ""]);
        assert!(split_words("   ").is_empty());
    }

    #[test]
    fn trailing_space_starts_a_new_word() {
        assert!(ends_in_space("core "));
        assert!(!ends_in_space("core"));
        assert!(!ends_in_space("say \"a "));
    }
}
