//! Recording a lecture's renditions and segments: one report at a time from a live session,
//! or a whole segment index inside a job's completion (see `jobs.rs`). Both go through
//! [`record_rendition`] and [`record_segments`], on a connection the caller may have opened
//! a transaction on.

use lectern_wire::worker::{RenditionReport, SegmentReport};

use super::super::{ts, Conn, Db};
use crate::store::lectures::clamp_i64;
use crate::store::StoreError;

/// Rows per multi-row segment insert: 8 values each, well under both databases' limit on
/// bound parameters (SQLite 32766, PostgreSQL 65535).
const SEGMENT_BATCH: usize = 1000;

/// Adds a rendition or updates it (by lecture, track and rung), keeping its position.
pub(in crate::store) async fn record_rendition(
    conn: &mut Conn,
    lecture_id: &str,
    r: &RenditionReport,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO renditions (lecture_id, track, rung, width, height, bandwidth, codecs, frame_rate) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (lecture_id, track, rung) DO UPDATE SET \
         width = excluded.width, height = excluded.height, bandwidth = excluded.bandwidth, \
         codecs = excluded.codecs, frame_rate = excluded.frame_rate",
    )
    .bind(lecture_id)
    .bind(&r.track)
    .bind(&r.rung)
    .bind(i64::from(r.width))
    .bind(i64::from(r.height))
    .bind(clamp_i64(r.bandwidth))
    .bind(&r.codecs)
    .bind(r.frame_rate)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds segments; one already there (same lecture, track, rung, sequence) is kept as it was,
/// so a repeated report changes nothing.
pub(in crate::store) async fn record_segments(
    conn: &mut Conn,
    lecture_id: &str,
    segments: &[SegmentReport],
) -> Result<(), StoreError> {
    for batch in segments.chunks(SEGMENT_BATCH) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO segments (lecture_id, track, rung, sequence, duration, \
             program_date_time, discontinuity, bytes) ",
        );
        insert.push_values(batch, |mut row, s| {
            row.push_bind(lecture_id)
                .push_bind(&s.track)
                .push_bind(&s.rung)
                .push_bind(clamp_i64(s.sequence))
                .push_bind(s.duration)
                .push_bind(ts(s.program_date_time))
                .push_bind(s.discontinuity)
                .push_bind(clamp_i64(s.bytes));
        });
        insert.push(" ON CONFLICT DO NOTHING");
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

impl Db {
    /// A live session announces a rendition: recorded, and the lecture marked as received
    /// live right now (`live_open`).
    pub(in crate::store) async fn upsert_rendition(
        &self,
        lecture_id: &str,
        r: &RenditionReport,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        record_rendition(&mut conn, lecture_id, r).await?;
        sqlx::query("UPDATE lectures SET live_open = TRUE WHERE id = $1")
            .bind(lecture_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// A live session stored a segment.
    pub(in crate::store) async fn add_segment(
        &self,
        lecture_id: &str,
        s: &SegmentReport,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        record_segments(&mut conn, lecture_id, std::slice::from_ref(s)).await
    }
}
