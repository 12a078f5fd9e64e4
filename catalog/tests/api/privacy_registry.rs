//! The personal data registry (`lectern_catalog::privacy::registry`) knows every column of
//! the migrated schema and nothing that is not there, on each database: a migration that
//! adds a column fails here with the `table.column` to register and where.

use lectern_catalog::privacy::registry::{check_schema, REGISTRY_FILE, SQLX_MIGRATIONS_TABLE};
use lectern_catalog::store::{DatabaseKind, Store};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::helpers::{Db, TestDatabase};

/// Every `(table, column)` of the database at `url`: on SQLite `PRAGMA table_info` of each
/// table and view in `sqlite_master` (SQLite's own `sqlite_*` tables left out), on
/// PostgreSQL `information_schema.columns` of the current schema. sqlx's
/// `_sqlx_migrations` is included on purpose: the registry lists it as not personal.
async fn schema_columns(db: Db, url: &str) -> Vec<(String, String)> {
    match db {
        Db::Sqlite => {
            let mut conn = SqliteConnection::connect(url).await.unwrap();
            sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
                 WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 ORDER BY m.name, p.cid",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
        Db::Postgres => {
            let mut conn = PgConnection::connect(url).await.unwrap();
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
    }
}

fn kind(db: Db) -> DatabaseKind {
    match db {
        Db::Sqlite => DatabaseKind::Sqlite,
        Db::Postgres => DatabaseKind::Postgres,
    }
}

/// A fresh database with the catalog's migrations applied.
async fn migrated(db: Db) -> TestDatabase {
    let database = TestDatabase::new(db).await;
    let store = Store::connect(&database.url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    database
}

async fn the_registry_lists_every_column_of_the_migrated_schema(db: Db) {
    let database = migrated(db).await;
    let columns = schema_columns(db, &database.url).await;
    assert!(
        columns.iter().any(|(t, c)| t == "users" && c == "email"),
        "the schema query found the catalog's tables: {columns:?}"
    );
    assert!(
        columns.iter().any(|(t, _)| t == SQLX_MIGRATIONS_TABLE),
        "sqlx's own table is compared too, not skipped: {columns:?}"
    );
    if let Err(drift) = check_schema(kind(db), columns) {
        panic!("{drift}");
    }
}

async fn a_column_a_migration_adds_without_registering_it_fails_naming_it(db: Db) {
    let database = migrated(db).await;
    // What a careless migration would do.
    let statement = "ALTER TABLE users ADD COLUMN phone TEXT";
    match db {
        Db::Sqlite => {
            let mut conn = SqliteConnection::connect(&database.url).await.unwrap();
            conn.execute(statement).await.unwrap();
        }
        Db::Postgres => {
            let mut conn = PgConnection::connect(&database.url).await.unwrap();
            conn.execute(statement).await.unwrap();
        }
    }
    let columns = schema_columns(db, &database.url).await;
    let drift = check_schema(kind(db), columns).expect_err("an unregistered column is refused");
    assert_eq!(drift.unregistered, [("users".into(), "phone".into())]);
    assert!(drift.missing.is_empty(), "{drift}");
    let message = drift.to_string();
    assert!(
        message.contains("users.phone is not registered") && message.contains(REGISTRY_FILE),
        "{message}"
    );
}

on_both_databases!(
    the_registry_lists_every_column_of_the_migrated_schema,
    a_column_a_migration_adds_without_registering_it_fails_naming_it,
);
