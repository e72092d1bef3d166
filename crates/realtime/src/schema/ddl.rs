//! Rendering the schema as DDL for each dialect, idempotently
//! (`IF NOT EXISTS` everywhere), so `obelus db upgrade` can run any number of
//! times and on databases Asterisk's own tooling created.

use std::fmt::Write as _;

use super::asterisk::ENUMS;
use super::model::{Column, ColumnType, KeyKind, Table};
use crate::sql::Dialect;

/// Statements creating every enum type (PostgreSQL only; empty elsewhere).
pub fn create_enums(dialect: Dialect) -> Vec<String> {
    if dialect != Dialect::Postgres {
        return Vec::new();
    }
    ENUMS
        .iter()
        .map(|e| {
            let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
            format!(
                "DO $$ BEGIN CREATE TYPE \"{}\" AS ENUM ({}); EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                e.name,
                values.join(", ")
            )
        })
        .collect()
}

/// Statements creating a table and its indexes if they do not exist.
pub fn create_table(dialect: Dialect, table: &Table) -> Vec<String> {
    let q = |name: &str| dialect.quote(name);
    let mut lines: Vec<String> = table.columns.iter().map(|c| column(dialect, c)).collect();
    let inline_pk = dialect == Dialect::Sqlite && table.columns.iter().any(|c| c.serial);
    let mut indexes = Vec::new();
    for key in table.keys {
        let cols: Vec<String> = key.columns.iter().map(|c| q(c)).collect();
        let cols = cols.join(", ");
        match key.kind {
            KeyKind::PrimaryKey if inline_pk => {}
            KeyKind::PrimaryKey => {
                lines.push(format!("CONSTRAINT {} PRIMARY KEY ({cols})", q(key.name)))
            }
            KeyKind::Unique => lines.push(format!("CONSTRAINT {} UNIQUE ({cols})", q(key.name))),
            KeyKind::ForeignKey { table, column } => lines.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({cols}) REFERENCES {} ({})",
                q(key.name),
                q(table),
                q(column)
            )),
            KeyKind::Index if dialect == Dialect::MySql => {
                lines.push(format!("INDEX {} ({cols})", q(key.name)))
            }
            KeyKind::Index => indexes.push(format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({cols})",
                q(key.name),
                q(table.name)
            )),
        }
    }
    let mut create = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n)",
        q(table.name),
        lines.join(",\n    ")
    );
    if dialect == Dialect::MySql {
        create.push_str(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    }
    let mut out = vec![create];
    out.extend(indexes);
    out
}

/// `ALTER TABLE ... ADD COLUMN` for a column an older schema lacks.
pub fn add_column(dialect: Dialect, table: &Table, column_def: &Column) -> String {
    let mut def = column(dialect, column_def);
    if dialect == Dialect::Sqlite {
        // SQLite cannot add a NOT NULL column without a default to a table
        // that has rows; such columns are only ever `id`s, present already.
        def = def.replace(" NOT NULL", "");
    }
    format!("ALTER TABLE {} ADD COLUMN {def}", dialect.quote(table.name))
}

fn column(dialect: Dialect, c: &Column) -> String {
    let mut s = dialect.quote(c.name);
    s.push(' ');
    if c.serial {
        match dialect {
            Dialect::Postgres => s.push_str(if c.ty == ColumnType::BigInt {
                "BIGSERIAL"
            } else {
                "SERIAL"
            }),
            Dialect::MySql => {
                s.push_str(if c.ty == ColumnType::BigInt {
                    "BIGINT"
                } else {
                    "INTEGER"
                });
                s.push_str(" NOT NULL AUTO_INCREMENT");
                return s;
            }
            Dialect::Sqlite => {
                s.push_str("INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT");
                return s;
            }
        }
    } else {
        s.push_str(&type_name(dialect, c.ty));
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    if let Some(default) = c.default {
        let _ = write!(s, " DEFAULT {default}");
    }
    s
}

fn type_name(dialect: Dialect, ty: ColumnType) -> String {
    match (ty, dialect) {
        (ColumnType::Varchar(n), _) => format!("VARCHAR({n})"),
        (ColumnType::Integer, _) => "INTEGER".into(),
        (ColumnType::BigInt, _) => "BIGINT".into(),
        (ColumnType::Double, Dialect::MySql) => "DOUBLE".into(),
        (ColumnType::Double, _) => "DOUBLE PRECISION".into(),
        (ColumnType::Numeric(p, s), _) => format!("NUMERIC({p}, {s})"),
        (ColumnType::Text, _) => "TEXT".into(),
        (ColumnType::Boolean, _) => "BOOLEAN".into(),
        (ColumnType::Timestamp, Dialect::MySql) => "DATETIME".into(),
        (ColumnType::Timestamp, _) => "TIMESTAMP".into(),
        (ColumnType::Blob, Dialect::Postgres) => "BYTEA".into(),
        (ColumnType::Blob, Dialect::MySql) => "LONGBLOB".into(),
        (ColumnType::Blob, Dialect::Sqlite) => "BLOB".into(),
        (ColumnType::Enum(name), Dialect::Postgres) => format!("\"{name}\""),
        (ColumnType::Enum(name), Dialect::MySql) => {
            let values = enum_values(name);
            let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
            format!("ENUM({})", list.join(", "))
        }
        (ColumnType::Enum(name), Dialect::Sqlite) => {
            let width = enum_values(name)
                .iter()
                .map(|v| v.len())
                .max()
                .unwrap_or(40);
            format!("VARCHAR({width})")
        }
    }
}

fn enum_values(name: &str) -> &'static [&'static str] {
    ENUMS
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.values)
        .unwrap_or(&[])
}

fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::super::asterisk::TABLES;
    use super::*;

    fn table(name: &str) -> &'static Table {
        TABLES.iter().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn every_enum_a_column_uses_exists() {
        for t in TABLES {
            for c in t.columns {
                if let ColumnType::Enum(name) = c.ty {
                    assert!(
                        !enum_values(name).is_empty(),
                        "{}.{} uses unknown enum {name}",
                        t.name,
                        c.name
                    );
                }
            }
        }
    }

    #[test]
    fn renders_each_dialect() {
        let pg = create_table(Dialect::Postgres, table("ps_aors"));
        assert!(
            pg[0].contains("\"remove_existing\" \"ast_bool_values\""),
            "{}",
            pg[0]
        );
        assert!(pg[0].contains("CONSTRAINT \"ps_aors_id_key\" UNIQUE (\"id\")"));
        assert!(
            pg.iter()
                .any(|s| s == "CREATE INDEX IF NOT EXISTS \"ps_aors_id\" ON \"ps_aors\" (\"id\")")
        );

        let my = create_table(Dialect::MySql, table("ps_aors"));
        assert_eq!(my.len(), 1);
        assert!(my[0].contains(
            "`remove_existing` ENUM('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes')"
        ));

        let lite = create_table(Dialect::Sqlite, table("extensions"));
        assert!(
            lite[0].contains("\"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"),
            "{}",
            lite[0]
        );
        assert!(!lite[0].contains("extensions_pkey"));
    }
}
