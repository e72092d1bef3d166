//! The statements realtime runs, built from validated names and bound values.

use std::fmt::Write as _;

use super::backend::{Bind, ColumnInfo};
use super::{Dialect, Syntax};
use crate::criteria::Criterion;
use crate::error::RealtimeError;

/// SQL text with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The statement.
    pub sql: String,
    /// Its parameters, in placeholder order.
    pub binds: Vec<Bind>,
}

struct Builder<'a> {
    dialect: Dialect,
    syntax: Syntax,
    columns: &'a [ColumnInfo],
    table: &'a str,
    sql: String,
    binds: Vec<Bind>,
}

impl<'a> Builder<'a> {
    fn new(syntax: Syntax, table: &'a str, columns: &'a [ColumnInfo]) -> Self {
        Self {
            dialect: syntax.dialect,
            syntax,
            columns,
            table,
            sql: String::with_capacity(128),
            binds: Vec::new(),
        }
    }

    fn column(&self, name: &str) -> Result<&'a ColumnInfo, RealtimeError> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                RealtimeError::BadRequest(format!("table '{}' has no column '{name}'", self.table))
            })
    }

    /// Appends a parameter, cast to the column's type where the dialect
    /// needs it (PostgreSQL will not compare an integer with text).
    fn bind(&mut self, column: &ColumnInfo, value: Bind) {
        self.binds.push(value);
        let placeholder = self.syntax.placeholder(self.binds.len());
        if self.dialect == Dialect::Postgres {
            let _ = write!(self.sql, "CAST({placeholder} AS \"{}\")", column.type_name);
        } else {
            self.sql.push_str(&placeholder);
        }
    }

    fn where_clause(
        &mut self,
        criteria: &[Criterion],
        value_of: impl Fn(&ColumnInfo, &str) -> Bind,
    ) -> Result<(), RealtimeError> {
        for (i, criterion) in criteria.iter().enumerate() {
            let column = self.column(&criterion.column)?;
            self.sql.push_str(if i == 0 { " WHERE " } else { " AND " });
            let quoted = self.dialect.quote(&column.name);
            if criterion.op.is_like() {
                // PostgreSQL's LIKE needs text on the left (enums, integers).
                let cast = if self.dialect == Dialect::Postgres {
                    "::text"
                } else {
                    ""
                };
                let _ = write!(self.sql, "{quoted}{cast} {} ", criterion.op.sql());
                self.binds.push(value_of(column, &criterion.value));
                let placeholder = self.syntax.placeholder(self.binds.len());
                self.sql.push_str(&placeholder);
                self.sql.push_str(self.dialect.like_escape());
            } else {
                let _ = write!(self.sql, "{quoted} {} ", criterion.op.sql());
                let value = value_of(column, &criterion.value);
                self.bind(column, value);
            }
        }
        Ok(())
    }

    fn finish(self) -> Query {
        Query {
            sql: self.sql,
            binds: self.binds,
        }
    }
}

/// `SELECT <every column, as text> FROM table WHERE ... [ORDER BY first] [LIMIT 1]`.
pub fn select(
    syntax: impl Into<Syntax>,
    table: &str,
    columns: &[ColumnInfo],
    criteria: &[Criterion],
    encode: &dyn Fn(&str) -> String,
    single: bool,
) -> Result<Query, RealtimeError> {
    let syntax = syntax.into();
    let dialect = syntax.dialect;
    let mut b = Builder::new(syntax, table, columns);
    b.sql.push_str("SELECT ");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            b.sql.push_str(", ");
        }
        let quoted = dialect.quote(&column.name);
        match dialect {
            Dialect::Postgres => {
                let _ = write!(b.sql, "{quoted}::text AS {quoted}");
            }
            Dialect::MySql => {
                let _ = write!(b.sql, "CAST({quoted} AS CHAR) AS {quoted}");
            }
            Dialect::Sqlite => b.sql.push_str(&quoted),
        }
    }
    let _ = write!(b.sql, " FROM {}", dialect.quote(table));
    b.where_clause(criteria, |_, v| Bind::Text(encode(v)))?;
    if let Some(first) = criteria.first()
        && !single
    {
        let column = b.column(&first.column)?;
        let _ = write!(b.sql, " ORDER BY {}", dialect.quote(&column.name));
    }
    if single {
        b.sql.push_str(" LIMIT 1");
    }
    Ok(b.finish())
}

/// The value to bind for a written field: empty values of non-text columns
/// become NULL (an empty integer or enum is "not set", as in Asterisk's ODBC).
fn written(column: &ColumnInfo, value: &str, encode: &dyn Fn(&str) -> String) -> Bind {
    if value.is_empty() && !column.is_text {
        Bind::Null
    } else {
        Bind::Text(encode(value))
    }
}

/// `UPDATE table SET ... WHERE ...`; fields naming unknown columns are
/// skipped (returned in the second value) as Asterisk's ODBC driver does.
pub fn update(
    syntax: impl Into<Syntax>,
    table: &str,
    columns: &[ColumnInfo],
    criteria: &[Criterion],
    fields: &[(String, String)],
    encode: &dyn Fn(&str) -> String,
) -> Result<(Query, Vec<String>), RealtimeError> {
    if criteria.is_empty() {
        return Err(RealtimeError::BadRequest(
            "an update needs at least one lookup field".into(),
        ));
    }
    let syntax = syntax.into();
    let dialect = syntax.dialect;
    let mut b = Builder::new(syntax, table, columns);
    let _ = write!(b.sql, "UPDATE {} SET ", dialect.quote(table));
    let mut skipped = Vec::new();
    let mut any = false;
    for (name, value) in fields {
        let Ok(column) = b.column(name) else {
            skipped.push(name.clone());
            continue;
        };
        if any {
            b.sql.push_str(", ");
        }
        any = true;
        let _ = write!(b.sql, "{} = ", dialect.quote(&column.name));
        let value = written(column, value, encode);
        b.bind(column, value);
    }
    if !any {
        return Err(RealtimeError::BadRequest(format!(
            "no field to update exists in table '{table}'"
        )));
    }
    b.where_clause(criteria, |_, v| Bind::Text(encode(v)))?;
    Ok((b.finish(), skipped))
}

/// `INSERT INTO table (...) VALUES (...)`; unknown columns are skipped.
pub fn insert(
    syntax: impl Into<Syntax>,
    table: &str,
    columns: &[ColumnInfo],
    fields: &[(String, String)],
    encode: &dyn Fn(&str) -> String,
) -> Result<(Query, Vec<String>), RealtimeError> {
    let syntax = syntax.into();
    let dialect = syntax.dialect;
    let mut b = Builder::new(syntax, table, columns);
    let mut skipped = Vec::new();
    let mut known = Vec::new();
    for (name, value) in fields {
        match b.column(name) {
            Ok(column) => known.push((column, value)),
            Err(_) => skipped.push(name.clone()),
        }
    }
    if known.is_empty() {
        return Err(RealtimeError::BadRequest(format!(
            "no field to store exists in table '{table}'"
        )));
    }
    let names: Vec<String> = known.iter().map(|(c, _)| dialect.quote(&c.name)).collect();
    let _ = write!(
        b.sql,
        "INSERT INTO {} ({}) VALUES (",
        dialect.quote(table),
        names.join(", ")
    );
    for (i, (column, value)) in known.into_iter().enumerate() {
        if i > 0 {
            b.sql.push_str(", ");
        }
        let value = written(column, value, encode);
        b.bind(column, value);
    }
    b.sql.push(')');
    Ok((b.finish(), skipped))
}

/// `DELETE FROM table WHERE ...` (never without a WHERE).
pub fn delete(
    syntax: impl Into<Syntax>,
    table: &str,
    columns: &[ColumnInfo],
    criteria: &[Criterion],
    encode: &dyn Fn(&str) -> String,
) -> Result<Query, RealtimeError> {
    if criteria.is_empty() {
        return Err(RealtimeError::BadRequest(
            "a delete needs at least one lookup field".into(),
        ));
    }
    let syntax = syntax.into();
    let dialect = syntax.dialect;
    let mut b = Builder::new(syntax, table, columns);
    let _ = write!(b.sql, "DELETE FROM {}", dialect.quote(table));
    b.where_clause(criteria, |_, v| Bind::Text(encode(v)))?;
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<ColumnInfo> {
        vec![
            ColumnInfo::new("id", "varchar", true),
            ColumnInfo::new("max_contacts", "int4", false),
        ]
    }

    fn same(v: &str) -> String {
        v.to_owned()
    }

    #[test]
    fn postgres_casts_parameters_to_the_column_type() {
        let criteria = [
            Criterion::parse("max_contacts >", "1").unwrap(),
            Criterion::parse("id LIKE", "10%").unwrap(),
        ];
        let q = select(
            Dialect::Postgres,
            "ps_aors",
            &columns(),
            &criteria,
            &same,
            false,
        )
        .unwrap();
        assert_eq!(
            q.sql,
            "SELECT \"id\"::text AS \"id\", \"max_contacts\"::text AS \"max_contacts\" FROM \"ps_aors\" WHERE \"max_contacts\" > CAST($1 AS \"int4\") AND \"id\"::text LIKE $2 ESCAPE '\\' ORDER BY \"max_contacts\""
        );
        assert_eq!(q.binds, [Bind::Text("1".into()), Bind::Text("10%".into())]);
    }

    #[test]
    fn postgres_over_odbc_keeps_the_casts_with_question_marks() {
        let criteria = [Criterion::parse("max_contacts >", "1").unwrap()];
        let q = select(
            Syntax::odbc(Dialect::Postgres),
            "ps_aors",
            &columns(),
            &criteria,
            &same,
            true,
        )
        .unwrap();
        assert_eq!(
            q.sql,
            "SELECT \"id\"::text AS \"id\", \"max_contacts\"::text AS \"max_contacts\" FROM \"ps_aors\" WHERE \"max_contacts\" > CAST(? AS \"int4\") LIMIT 1"
        );
    }

    #[test]
    fn mysql_uses_backticks_and_question_marks() {
        let q = select(
            Dialect::MySql,
            "ps_aors",
            &columns(),
            &[Criterion::eq("id", "101").unwrap()],
            &same,
            true,
        )
        .unwrap();
        assert_eq!(
            q.sql,
            "SELECT CAST(`id` AS CHAR) AS `id`, CAST(`max_contacts` AS CHAR) AS `max_contacts` FROM `ps_aors` WHERE `id` = ? LIMIT 1"
        );
    }

    #[test]
    fn writes_skip_unknown_columns_and_null_empty_numbers() {
        let fields = vec![
            ("id".to_owned(), "101".to_owned()),
            ("max_contacts".to_owned(), String::new()),
            ("bogus".to_owned(), "x".to_owned()),
        ];
        let (q, skipped) = insert(Dialect::Sqlite, "ps_aors", &columns(), &fields, &same).unwrap();
        assert_eq!(
            q.sql,
            "INSERT INTO \"ps_aors\" (\"id\", \"max_contacts\") VALUES (?, ?)"
        );
        assert_eq!(q.binds, [Bind::Text("101".into()), Bind::Null]);
        assert_eq!(skipped, ["bogus"]);
    }

    #[test]
    fn unknown_lookup_columns_are_errors_and_deletes_need_a_where() {
        assert!(
            select(
                Dialect::Sqlite,
                "t",
                &columns(),
                &[Criterion::eq("nope", "1").unwrap()],
                &same,
                true
            )
            .is_err()
        );
        assert!(delete(Dialect::Sqlite, "t", &columns(), &[], &same).is_err());
    }
}
