//! The shape of a schema, independent of dialect.

/// A named enum type (a PostgreSQL `CREATE TYPE`, an inline MySQL `ENUM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumType {
    /// Its name.
    pub name: &'static str,
    /// Its values.
    pub values: &'static [&'static str],
}

/// A column type, named as in Asterisk's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `varchar(n)`.
    Varchar(u32),
    /// `integer`.
    Integer,
    /// `bigint`.
    BigInt,
    /// `double precision`.
    Double,
    /// `numeric(p, s)`.
    Numeric(u32, u32),
    /// `text`.
    Text,
    /// `boolean`.
    Boolean,
    /// `timestamp without time zone`.
    Timestamp,
    /// `bytea` / blob.
    Blob,
    /// A named enum type.
    Enum(&'static str),
}

/// A column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// `NOT NULL`.
    pub not_null: bool,
    /// Filled from a sequence (`serial`, `AUTO_INCREMENT`).
    pub serial: bool,
    /// A default value (SQL literal).
    pub default: Option<&'static str>,
}

/// What a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A plain index.
    Index,
    /// A unique constraint.
    Unique,
    /// The primary key.
    PrimaryKey,
    /// A foreign key to `table(column)`.
    ForeignKey {
        /// Referenced table.
        table: &'static str,
        /// Referenced column.
        column: &'static str,
    },
}

/// An index or constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// What it is.
    pub kind: KeyKind,
    /// Its name (Asterisk's names, so both tools recognise them).
    pub name: &'static str,
    /// Its columns.
    pub columns: &'static [&'static str],
}

/// A table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Its columns, in creation order.
    pub columns: &'static [Column],
    /// Its keys.
    pub keys: &'static [Key],
}
