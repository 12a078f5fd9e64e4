//! Recording a lecture's renditions, segments and pictures: one report at a time from a live
//! session, or a whole segment index inside a job's completion (see `jobs.rs`). Both go
//! through [`record_rendition`], [`record_segments`] and [`record_thumbnails`], on a
//! connection the caller may have opened a transaction on.

use lectern_wire::worker::{RenditionReport, SegmentReport, ThumbnailReport};

use super::super::{ts, Conn, Db, RENDITION_ORDER};
use crate::store::lectures::{clamp_i64, RawRendition};
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
    // Segments may have come first (a job's index lists both in any order).
    refresh_totals(conn, lecture_id, &r.track, &r.rung).await
}

/// Recounts what a rendition holds (`segment_count`, `duration_seconds`) from its segments:
/// a recount, not an increment, so a repeated report cannot count twice.
async fn refresh_totals(
    conn: &mut Conn,
    lecture_id: &str,
    track: &str,
    rung: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE renditions SET \
         segment_count = (SELECT COUNT(*) FROM segments s WHERE s.lecture_id = $1 \
             AND s.track = $2 AND s.rung = $3), \
         duration_seconds = (SELECT COALESCE(SUM(s.duration), 0.0) FROM segments s \
             WHERE s.lecture_id = $1 AND s.track = $2 AND s.rung = $3) \
         WHERE lecture_id = $1 AND track = $2 AND rung = $3",
    )
    .bind(lecture_id)
    .bind(track)
    .bind(rung)
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
    let mut renditions: Vec<(&str, &str)> = segments
        .iter()
        .map(|s| (s.track.as_str(), s.rung.as_str()))
        .collect();
    renditions.sort_unstable();
    renditions.dedup();
    for (track, rung) in renditions {
        refresh_totals(conn, lecture_id, track, rung).await?;
    }
    Ok(())
}

/// Records what pictures each track has, replacing what the track had.
pub(in crate::store) async fn record_thumbnails(
    conn: &mut Conn,
    lecture_id: &str,
    reports: &[ThumbnailReport],
) -> Result<(), StoreError> {
    for t in reports {
        sqlx::query(
            "INSERT INTO thumbnails (lecture_id, track, poster, sprites, chapters) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (lecture_id, track) DO UPDATE SET \
             poster = excluded.poster, sprites = excluded.sprites, chapters = excluded.chapters",
        )
        .bind(lecture_id)
        .bind(&t.track)
        .bind(t.poster)
        .bind(i64::from(t.sprites))
        .bind(i64::from(t.chapters))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A track's pictures as both backends select them.
#[derive(sqlx::FromRow)]
struct ThumbnailRow {
    lecture_id: String,
    track: String,
    poster: bool,
    sprites: i64,
    chapters: i64,
}

/// A rendition with segments, as listed for a page of lectures.
#[derive(sqlx::FromRow)]
struct PlayableRow {
    lecture_id: String,
    #[sqlx(flatten)]
    rendition: RawRendition,
    duration_seconds: f64,
}

impl Db {
    /// The renditions holding at least one segment of each of `lecture_ids`, in the order
    /// first reported, with their summed durations: one query for a whole page of lectures.
    pub(in crate::store) async fn playable_renditions(
        &self,
        lecture_ids: &[&str],
    ) -> Result<Vec<(String, RenditionReport, f64)>, StoreError> {
        if lecture_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new(
            "SELECT r.lecture_id, r.track, r.rung, r.width, r.height, r.bandwidth, r.codecs, \
             r.frame_rate, r.duration_seconds FROM renditions r WHERE r.segment_count > 0 \
             AND r.lecture_id IN (",
        );
        let mut ids = query.separated(", ");
        for id in lecture_ids {
            ids.push_bind(*id);
        }
        query.push(format!(") ORDER BY r.lecture_id, {RENDITION_ORDER}"));
        let rows: Vec<PlayableRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.lecture_id, r.rendition.into(), r.duration_seconds))
            .collect())
    }

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

    /// The pictures of each track of each of `lecture_ids`, by lecture and track.
    pub(in crate::store) async fn thumbnails(
        &self,
        lecture_ids: &[&str],
    ) -> Result<Vec<(String, ThumbnailReport)>, StoreError> {
        if lecture_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new(
            "SELECT lecture_id, track, poster, sprites, chapters FROM thumbnails \
             WHERE lecture_id IN (",
        );
        let mut ids = query.separated(", ");
        for id in lecture_ids {
            ids.push_bind(*id);
        }
        query.push(") ORDER BY lecture_id, track");
        let rows: Vec<ThumbnailRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let report = ThumbnailReport {
                    track: r.track,
                    poster: r.poster,
                    sprites: u32::try_from(r.sprites).unwrap_or(0),
                    chapters: u32::try_from(r.chapters).unwrap_or(0),
                };
                (r.lecture_id, report)
            })
            .collect())
    }

    /// A live session stored pictures of a track.
    pub(in crate::store) async fn upsert_thumbnails(
        &self,
        lecture_id: &str,
        report: &ThumbnailReport,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        record_thumbnails(&mut conn, lecture_id, std::slice::from_ref(report)).await
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
