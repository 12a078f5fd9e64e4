//! Bulk inserts for seeding: multi-row INSERTs in large transactions on SQLite, COPY on
//! PostgreSQL. Every statement names its columns, so columns that later migrations add with
//! defaults change nothing here.

use anyhow::Context;
use indicatif::ProgressBar;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use std::fmt::Write as _;
use std::str::FromStr;

/// One column value. Times are RFC 3339 UTC text, which both databases take (SQLite stores
/// the text as the catalog does; PostgreSQL parses it into `timestamptz`).
pub enum Value {
    Text(String),
    Int(i64),
    Real(f64),
}

/// SQLite's limit on bound parameters per statement (32766 since 3.32).
const SQLITE_MAX_VARIABLES: usize = 32_766;
/// Longer statements gain nothing once the per-statement overhead is amortised.
const SQLITE_ROWS_PER_STATEMENT: usize = 500;
/// Commit now and then so the write-ahead log stays small.
const SQLITE_ROWS_PER_TRANSACTION: usize = 200_000;
/// COPY data is sent in chunks of about this size.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// A connection that seeds one database.
pub enum Bulk {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Bulk {
    /// Opens a seeding connection. SQLite gets a large page cache and no syncs: the file is
    /// thrown away after the run, and random-UUID keys make index inserts jump around.
    pub async fn connect(url: &str) -> anyhow::Result<Bulk> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Off)
                .pragma("cache_size", "-1048576");
            Ok(Bulk::Sqlite(
                SqliteConnection::connect_with(&options).await?,
            ))
        } else {
            Ok(Bulk::Postgres(PgConnection::connect(url).await?))
        }
    }

    /// Inserts `rows` into `table (columns)`, advancing `progress` as they are written.
    pub async fn insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: impl Iterator<Item = Vec<Value>>,
        progress: &ProgressBar,
    ) -> anyhow::Result<()> {
        let result = match self {
            Bulk::Sqlite(conn) => sqlite_insert(conn, table, columns, rows, progress).await,
            Bulk::Postgres(conn) => copy_in(conn, table, columns, rows, progress).await,
        };
        result.with_context(|| format!("seeding {table}"))
    }

    /// Leaves the database as a running catalog would find it: PostgreSQL vacuumed and
    /// analysed (what autovacuum does soon after a bulk load; done now so it does not run
    /// during the measurements), SQLite's log checkpointed. SQLite is not analysed: the
    /// catalog never runs ANALYZE, so its plans are made without statistics.
    pub async fn finish(self) -> anyhow::Result<()> {
        match self {
            Bulk::Sqlite(mut conn) => {
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
                conn.close().await?;
            }
            Bulk::Postgres(mut conn) => {
                conn.execute("VACUUM (ANALYZE)").await?;
                conn.close().await?;
            }
        }
        Ok(())
    }
}

async fn sqlite_insert(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<Value>>,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let per_statement = (SQLITE_MAX_VARIABLES / columns.len()).min(SQLITE_ROWS_PER_STATEMENT);
    let mut batch = Vec::with_capacity(per_statement);
    let mut in_transaction = 0;
    let mut tx = conn.begin().await?;
    for row in rows {
        batch.push(row);
        if batch.len() < per_statement {
            continue;
        }
        in_transaction += batch.len();
        sqlite_statement(&mut tx, table, columns, &mut batch, progress).await?;
        if in_transaction >= SQLITE_ROWS_PER_TRANSACTION {
            tx.commit().await?;
            tx = conn.begin().await?;
            in_transaction = 0;
        }
    }
    if !batch.is_empty() {
        sqlite_statement(&mut tx, table, columns, &mut batch, progress).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One `INSERT … VALUES (…), (…)` of the rows in `batch`, which it empties. Full batches
/// share one SQL text, so sqlx prepares it once.
async fn sqlite_statement(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&str],
    batch: &mut Vec<Vec<Value>>,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        vec![row.as_str(); batch.len()].join(", ")
    );
    let rows = batch.len() as u64;
    let mut query = sqlx::query(&sql);
    for value in batch.drain(..).flatten() {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(n) => query.bind(n),
            Value::Real(x) => query.bind(x),
        };
    }
    query.execute(conn).await?;
    progress.inc(rows);
    Ok(())
}

async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<Value>>,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
        .await?;
    let mut buffer = String::with_capacity(COPY_CHUNK_BYTES + 4096);
    let mut pending = 0;
    for row in rows {
        copy_row(&mut buffer, &row);
        pending += 1;
        if buffer.len() >= COPY_CHUNK_BYTES {
            copy.send(buffer.as_bytes()).await?;
            buffer.clear();
            progress.inc(pending);
            pending = 0;
        }
    }
    if !buffer.is_empty() {
        copy.send(buffer.as_bytes()).await?;
        progress.inc(pending);
    }
    copy.finish().await?;
    Ok(())
}

/// One row in COPY's text format: tab-separated, backslash escapes, newline-terminated.
fn copy_row(out: &mut String, row: &[Value]) {
    for (i, value) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match value {
            Value::Text(text) => {
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            Value::Int(n) => write!(out, "{n}").expect("writing to a String"),
            Value::Real(x) => write!(out, "{x}").expect("writing to a String"),
        }
    }
    out.push('\n');
}
