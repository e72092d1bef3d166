//! The static realtime table: configuration files kept in a database.
//!
//! Asterisk's schema tooling does not create it; its layout is fixed by the
//! SQL of Asterisk's drivers (`cat_metric`, `var_metric`, `commented`,
//! `filename`, `category`, `var_name`, `var_val`). Obelus creates it as
//! `ast_config`, the name Asterisk's sample `extconfig.conf` uses.

use super::model::ColumnType::{BigInt, Integer, Text, Varchar};
use super::model::KeyKind::{Index, PrimaryKey};
use super::model::{Column, Key, Table};

/// `ast_config`.
pub static AST_CONFIG: Table = Table {
    name: "ast_config",
    columns: &[
        Column {
            name: "id",
            ty: Integer,
            not_null: true,
            serial: true,
            default: None,
        },
        Column {
            name: "cat_metric",
            ty: Integer,
            not_null: true,
            serial: false,
            default: Some("0"),
        },
        Column {
            name: "var_metric",
            ty: Integer,
            not_null: true,
            serial: false,
            default: Some("0"),
        },
        Column {
            name: "commented",
            ty: Integer,
            not_null: true,
            serial: false,
            default: Some("0"),
        },
        Column {
            name: "filename",
            ty: Varchar(128),
            not_null: true,
            serial: false,
            default: None,
        },
        Column {
            name: "category",
            ty: Varchar(128),
            not_null: true,
            serial: false,
            default: Some("'default'"),
        },
        Column {
            name: "var_name",
            ty: Varchar(128),
            not_null: true,
            serial: false,
            default: None,
        },
        Column {
            name: "var_val",
            ty: Varchar(1024),
            not_null: true,
            serial: false,
            default: None,
        },
    ],
    keys: &[
        Key {
            kind: PrimaryKey,
            name: "ast_config_pkey",
            columns: &["id"],
        },
        Key {
            kind: Index,
            name: "ast_config_filename_commented",
            columns: &["filename", "commented"],
        },
    ],
};

/// `manager_queue`: Obelus's durable AMI action queue (not an Asterisk table).
/// A client inserts a row with an action and its headers; the daemon claims it
/// (`status` new -> claimed, atomically, so several servers can share the
/// table), runs it and writes back `status`, `response`, `uniqueid`, `channel`.
pub static MANAGER_QUEUE: Table = Table {
    name: "manager_queue",
    columns: &[
        Column {
            name: "id",
            ty: Integer,
            not_null: true,
            serial: true,
            default: None,
        },
        Column {
            name: "action",
            ty: Varchar(64),
            not_null: true,
            serial: false,
            default: None,
        },
        Column {
            name: "headers",
            ty: Text,
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "username",
            ty: Varchar(80),
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "status",
            ty: Varchar(16),
            not_null: true,
            serial: false,
            default: Some("'new'"),
        },
        Column {
            name: "claimed_by",
            ty: Varchar(255),
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "claimed_at",
            ty: BigInt,
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "finished_at",
            ty: BigInt,
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "response",
            ty: Text,
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "uniqueid",
            ty: Varchar(150),
            not_null: false,
            serial: false,
            default: None,
        },
        Column {
            name: "channel",
            ty: Varchar(80),
            not_null: false,
            serial: false,
            default: None,
        },
    ],
    keys: &[
        Key {
            kind: PrimaryKey,
            name: "manager_queue_pkey",
            columns: &["id"],
        },
        Key {
            kind: Index,
            name: "manager_queue_status",
            columns: &["status", "id"],
        },
    ],
};
