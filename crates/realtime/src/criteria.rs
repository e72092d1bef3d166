//! Lookup criteria: realtime field names with Asterisk's optional operator
//! suffix (`"name LIKE"`, `"regseconds >"`), validated so that nothing from a
//! caller is ever pasted into SQL.

use crate::error::RealtimeError;

/// A comparison operator Asterisk's realtime API accepts after a field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` (the default when no operator is given).
    Eq,
    /// `!=` or `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `LIKE` (with `\` as the escape character, as every Asterisk driver sets).
    Like,
    /// `NOT LIKE`.
    NotLike,
}

impl Op {
    /// The SQL text of the operator.
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::NotLike => "NOT LIKE",
        }
    }

    /// Whether the operator compares text patterns.
    pub fn is_like(self) -> bool {
        matches!(self, Op::Like | Op::NotLike)
    }
}

/// One `column op value` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// The column, validated as an identifier.
    pub column: String,
    /// The operator.
    pub op: Op,
    /// The value, bound as a parameter.
    pub value: String,
}

impl Criterion {
    /// `column = value`.
    pub fn eq(column: &str, value: &str) -> Result<Self, RealtimeError> {
        Ok(Self {
            column: identifier(column)?.to_owned(),
            op: Op::Eq,
            value: value.to_owned(),
        })
    }

    /// Parses Asterisk's `"field"` / `"field OP"` form, e.g. `"id LIKE"`.
    pub fn parse(field: &str, value: &str) -> Result<Self, RealtimeError> {
        let field = field.trim();
        let (column, op) = match field.split_once(char::is_whitespace) {
            None => (field, Op::Eq),
            Some((column, op)) => {
                let op = match op.trim().to_ascii_uppercase().as_str() {
                    "=" => Op::Eq,
                    "!=" | "<>" => Op::Ne,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "LIKE" => Op::Like,
                    "NOT LIKE" => Op::NotLike,
                    other => {
                        return Err(RealtimeError::BadRequest(format!(
                            "unsupported operator '{other}' after field '{column}' (expected =, !=, <, <=, >, >=, LIKE or NOT LIKE)"
                        )));
                    }
                };
                (column, op)
            }
        };
        Ok(Self {
            column: identifier(column)?.to_owned(),
            op,
            value: value.to_owned(),
        })
    }
}

/// Accepts a table or column name only if it is made of the characters real
/// Asterisk schemas use (`100rel`, `@body`, `event_asterisk-mwi`,
/// `session-timers`): letters, digits, `_`, `@`, `-`, at most 64 of them.
pub fn identifier(name: &str) -> Result<&str, RealtimeError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'-'));
    if ok {
        Ok(name)
    } else {
        Err(RealtimeError::BadRequest(format!(
            "'{name}' is not a valid table or column name"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_asterisk_operator_suffixes() {
        let c = Criterion::parse("id LIKE", "alice;@%").unwrap();
        assert_eq!((c.column.as_str(), c.op), ("id", Op::Like));
        assert_eq!(Criterion::parse("regseconds >", "5").unwrap().op, Op::Gt);
        assert_eq!(Criterion::parse("name !=", "x").unwrap().op, Op::Ne);
        assert_eq!(Criterion::parse("name", "x").unwrap().op, Op::Eq);
        assert_eq!(Criterion::parse("x not like", "y").unwrap().op, Op::NotLike);
    }

    #[test]
    fn refuses_injection() {
        assert!(Criterion::parse("id; DROP TABLE x", "1").is_err());
        assert!(Criterion::parse("id = 1 OR", "1").is_err());
        assert!(identifier("ps_endpoints\"").is_err());
        assert!(identifier("100rel").is_ok());
        assert!(identifier("@body").is_ok());
    }
}
