//! Precedence-climbing parser for `$[...]` that evaluates as it parses.
//!
//! Asterisk's bison grammar computes every operand before applying an operator (both
//! branches of `?:` and both sides of `|`/`&` are evaluated, functions included), so
//! evaluating while parsing gives the same results and needs no syntax tree (a long
//! chain like `1+1+...+1` then costs no recursion).
//!
//! Precedence, lowest first (`%left` lines of `ast_expr2.y`): `? ::`, `|`, `&`,
//! comparisons, `+ -`, `* / %`, unary `!` and `-` (right), `: =~ ~~`, parentheses.
//! `,` only separates function arguments.

use super::ExprError;
use super::ld::Ld;
use super::lexer::Tok;
use super::value::{self, Cmp, Value};
use crate::scope::Scope;

/// Nesting limit (parentheses, unary operators, right operands): deeper input is an
/// error instead of a stack overflow.
pub(crate) const MAX_DEPTH: usize = 200;

const P_COND: u8 = 1;
const P_OR: u8 = 2;
const P_AND: u8 = 3;
const P_CMP: u8 = 4;
const P_ADD: u8 = 5;
const P_MUL: u8 = 6;
const P_UNARY: u8 = 7;
const P_REGEX: u8 = 8;

fn binary_precedence(t: &Tok) -> Option<u8> {
    Some(match t {
        Tok::Cond => P_COND,
        Tok::Or => P_OR,
        Tok::And => P_AND,
        Tok::Eq | Tok::Ne | Tok::Lt | Tok::Gt | Tok::Le | Tok::Ge => P_CMP,
        Tok::Plus | Tok::Minus => P_ADD,
        Tok::Mult | Tok::Div | Tok::Mod => P_MUL,
        Tok::Colon | Tok::EqTilde | Tok::TildeTilde => P_REGEX,
        _ => return None,
    })
}

pub(crate) struct Parser<'s> {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    scope: &'s mut dyn Scope,
}

impl<'s> Parser<'s> {
    pub(crate) fn new(toks: Vec<Tok>, scope: &'s mut dyn Scope) -> Self {
        Parser {
            toks,
            pos: 0,
            depth: 0,
            scope,
        }
    }

    /// The whole input: empty gives "", anything left over is a syntax error.
    pub(crate) fn parse_all(&mut self) -> Result<Value, ExprError> {
        if self.toks.is_empty() {
            return Ok(Value::Str(String::new()));
        }
        let v = self.expr(P_COND)?;
        match self.peek() {
            None => Ok(v),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn bump(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.pos);
        self.pos += 1;
        t
    }

    fn unexpected(&self) -> ExprError {
        match self.peek() {
            Some(t) => ExprError::Syntax(format!("unexpected {}", describe(t))),
            None => ExprError::Syntax("unexpected end of expression".into()),
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::TooDeep);
        }
        Ok(())
    }

    fn expr(&mut self, min: u8) -> Result<Value, ExprError> {
        self.enter()?;
        let r = self.expr_inner(min);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, min: u8) -> Result<Value, ExprError> {
        let mut lhs = self.prefix()?;
        while let Some(tok) = self.peek() {
            let Some(prec) = binary_precedence(tok) else {
                break;
            };
            if prec < min {
                break;
            }
            // Operators carry no data: cloning one does not allocate.
            let tok = tok.clone();
            self.pos += 1;
            if tok == Tok::Cond {
                let mid = self.expr(P_COND)?;
                if self.bump() != Some(&Tok::ColonColon) {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
                let rhs = self.expr(P_COND + 1)?;
                lhs = value::cond(lhs, mid, rhs);
                continue;
            }
            let rhs = self.expr(prec + 1)?;
            lhs = self.apply(&tok, lhs, rhs);
        }
        Ok(lhs)
    }

    fn apply(&mut self, tok: &Tok, a: Value, b: Value) -> Value {
        let scope = &mut *self.scope;
        match tok {
            Tok::Or => value::or(a, b),
            Tok::And => value::and(a, b),
            Tok::Eq => value::compare(a, b, Cmp::Eq),
            Tok::Ne => value::compare(a, b, Cmp::Ne),
            Tok::Lt => value::compare(a, b, Cmp::Lt),
            Tok::Gt => value::compare(a, b, Cmp::Gt),
            Tok::Le => value::compare(a, b, Cmp::Le),
            Tok::Ge => value::compare(a, b, Cmp::Ge),
            Tok::Plus => value::plus(a, b, scope),
            Tok::Minus => value::minus(a, b, scope),
            Tok::Mult => value::times(a, b, scope),
            Tok::Div => value::div(a, b, scope),
            Tok::Mod => value::rem(a, b, scope),
            Tok::Colon => value::regex_match(a, b, true, scope),
            Tok::EqTilde => value::regex_match(a, b, false, scope),
            _ => value::concat(a, b),
        }
    }

    fn prefix(&mut self) -> Result<Value, ExprError> {
        match self.peek() {
            Some(Tok::Minus) => {
                self.pos += 1;
                let v = self.expr(P_UNARY)?;
                Ok(value::negate(v, self.scope))
            }
            Some(Tok::Compl) => {
                self.pos += 1;
                let v = self.expr(P_UNARY)?;
                Ok(value::complement(v))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let v = self.expr(P_COND)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.unexpected());
                }
                self.pos += 1;
                Ok(v)
            }
            Some(Tok::Token(_)) => {
                // Each token is read once: move its value out.
                let v = match self.toks.get_mut(self.pos) {
                    Some(Tok::Token(v)) => std::mem::replace(v, Value::Number(Ld::ZERO)),
                    _ => Value::Number(Ld::ZERO),
                };
                self.pos += 1;
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let name = v.into_text();
                    return self.call(&name);
                }
                Ok(v)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `NAME(arg, arg, ...)`: at least one argument; an empty one after a comma is "".
    fn call(&mut self, name: &str) -> Result<Value, ExprError> {
        let mut args = vec![self.expr(P_COND)?];
        loop {
            match self.peek() {
                Some(Tok::RParen) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::Comma) => {
                    self.pos += 1;
                    if matches!(self.peek(), Some(Tok::Comma | Tok::RParen)) {
                        args.push(Value::Str(String::new()));
                    } else {
                        args.push(self.expr(P_COND)?);
                    }
                }
                _ => return Err(self.unexpected()),
            }
        }
        Ok(self.function(name, args))
    }

    fn function(&mut self, name: &str, mut args: Vec<Value>) -> Value {
        if name.is_empty()
            || !name
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        {
            self.scope
                .warning(&format!("'{name}' is not possibly a function name"));
            return Value::Number(Ld::ZERO);
        }
        if let Some(r) = value::math_function(name, &mut args) {
            return r.unwrap_or_else(|()| {
                self.scope
                    .warning(&format!("Wrong args to {name}() function"));
                Value::Number(Ld::ZERO)
            });
        }
        let joined = args
            .into_iter()
            .map(Value::into_text)
            .collect::<Vec<_>>()
            .join(",");
        match self.scope.call_function(name, &joined) {
            Ok(s) => value::function_result(s),
            Err(e) => {
                self.scope.warning(&e.to_string());
                Value::Number(Ld::ZERO)
            }
        }
    }
}

fn describe(t: &Tok) -> String {
    let s = match t {
        Tok::Or => "'|'",
        Tok::And => "'&'",
        Tok::Eq => "'='",
        Tok::Ne => "'!='",
        Tok::Lt => "'<'",
        Tok::Gt => "'>'",
        Tok::Le => "'<='",
        Tok::Ge => "'>='",
        Tok::Plus => "'+'",
        Tok::Minus => "'-'",
        Tok::Mult => "'*'",
        Tok::Div => "'/'",
        Tok::Mod => "'%'",
        Tok::Cond => "'?'",
        Tok::ColonColon => "'::'",
        Tok::Compl => "'!'",
        Tok::Colon => "':'",
        Tok::EqTilde => "'=~'",
        Tok::TildeTilde => "'~~'",
        Tok::Comma => "','",
        Tok::LParen => "'('",
        Tok::RParen => "')'",
        Tok::Token(v) => return format!("token '{}'", v.clone().into_text()),
    };
    s.to_owned()
}
