//! The SQL of raw chunk uploads on SQLite (see `store/raw_chunks.rs`).

use chrono::{DateTime, Utc};
use lectern_wire::chunks::HeldChunk;

use super::{parse_ts, ts, SqliteDb};
use crate::store::lectures::clamp_i64;
use crate::store::raw_chunks::{held_chunk, RawChunksDb};
use crate::store::StoreError;

type Row = (String, i64, String, i64, i64, String);

fn from_row(
    (track, index, start, duration_ns, bytes, sha256): Row,
) -> Result<HeldChunk, StoreError> {
    held_chunk(track, index, parse_ts(&start)?, duration_ns, bytes, sha256)
}

const COLUMNS: &str = "track, chunk_index, start, duration_ns, bytes, sha256";

impl RawChunksDb for SqliteDb {
    async fn insert_raw_chunk(
        &self,
        lecture_id: &str,
        chunk: &HeldChunk,
        stored_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO raw_chunks \
             (lecture_id, track, chunk_index, start, duration_ns, bytes, sha256, stored_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (lecture_id, track, chunk_index) DO NOTHING",
        )
        .bind(lecture_id)
        .bind(&chunk.track)
        .bind(i64::from(chunk.index))
        .bind(ts(chunk.start))
        .bind(clamp_i64(chunk.duration_ns))
        .bind(clamp_i64(chunk.bytes))
        .bind(&chunk.sha256)
        .bind(ts(stored_at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn raw_chunks(&self, lecture_id: &str) -> Result<Vec<HeldChunk>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM raw_chunks WHERE lecture_id = ?1 ORDER BY track, chunk_index"
        ))
        .bind(lecture_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(from_row).collect()
    }

    async fn raw_chunk(
        &self,
        lecture_id: &str,
        track: &str,
        index: u32,
    ) -> Result<Option<HeldChunk>, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM raw_chunks \
             WHERE lecture_id = ?1 AND track = ?2 AND chunk_index = ?3"
        ))
        .bind(lecture_id)
        .bind(track)
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        row.map(from_row).transpose()
    }
}
