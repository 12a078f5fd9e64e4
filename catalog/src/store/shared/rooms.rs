//! Institutes, rooms and capture boxes.

use chrono::{DateTime, Utc};
use lectern_wire::admin::{AgentInfo, Institute, Room};

use super::super::{ts, Db, Ts};
use super::read_opt_ts;
use crate::store::{Page, StoreError};

#[derive(sqlx::FromRow)]
struct InstituteRow {
    id: String,
    name: String,
    open_signup: bool,
    audit_retention_days: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct RoomRow {
    id: String,
    name: String,
    default_course_id: Option<String>,
}

impl From<RoomRow> for Room {
    fn from(r: RoomRow) -> Room {
        Room {
            id: r.id,
            name: r.name,
            default_course_id: r.default_course_id,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    name: String,
    room_id: String,
    last_seen: Option<Ts>,
    state: Option<String>,
    version: Option<String>,
    health: Option<String>,
}

impl TryFrom<AgentRow> for AgentInfo {
    type Error = StoreError;
    /// `online` is false here: whether a box is online depends on the time
    /// (`Store::agents` decides).
    fn try_from(r: AgentRow) -> Result<AgentInfo, StoreError> {
        let health = r
            .health
            .map(|h| serde_json::from_str(&h))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("health of capture box {}: {e}", r.id)))?;
        Ok(AgentInfo {
            last_seen: read_opt_ts(r.last_seen)?,
            id: r.id,
            name: r.name,
            room_id: r.room_id,
            state: r.state,
            version: r.version,
            online: false,
            health,
        })
    }
}

const AGENT_COLUMNS: &str = "a.id, a.name, a.room_id, a.last_seen, a.state, a.version, a.health";

impl Db {
    pub(in crate::store) async fn institute(
        &self,
        id: &str,
    ) -> Result<Option<Institute>, StoreError> {
        let row: Option<InstituteRow> = sqlx::query_as(
            "SELECT id, name, open_signup, audit_retention_days FROM institutes WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Institute {
            id: r.id,
            name: r.name,
            open_signup: r.open_signup,
            audit_retention_days: r
                .audit_retention_days
                .map(|days| u32::try_from(days).unwrap_or(u32::MAX)),
        }))
    }

    pub(in crate::store) async fn update_institute(&self, i: &Institute) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE institutes SET name = $2, open_signup = $3, audit_retention_days = $4 \
             WHERE id = $1",
        )
        .bind(&i.id)
        .bind(&i.name)
        .bind(i.open_signup)
        .bind(i.audit_retention_days.map(i64::from))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn rooms(
        &self,
        institute_id: &str,
        page: Page,
    ) -> Result<Vec<Room>, StoreError> {
        let rows: Vec<RoomRow> = sqlx::query_as(
            "SELECT id, name, default_course_id FROM rooms WHERE institute_id = $1 \
             ORDER BY name, id LIMIT $2 OFFSET $3",
        )
        .bind(institute_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Room::from).collect())
    }

    pub(in crate::store) async fn room(
        &self,
        institute_id: &str,
        room_id: &str,
    ) -> Result<Option<Room>, StoreError> {
        let row: Option<RoomRow> = sqlx::query_as(
            "SELECT id, name, default_course_id FROM rooms WHERE id = $1 AND institute_id = $2",
        )
        .bind(room_id)
        .bind(institute_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Room::from))
    }

    pub(in crate::store) async fn insert_room(
        &self,
        id: &str,
        institute_id: &str,
        room: &Room,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rooms (id, institute_id, name, default_course_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(institute_id)
        .bind(&room.name)
        .bind(&room.default_course_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn update_room(&self, room: &Room) -> Result<(), StoreError> {
        sqlx::query("UPDATE rooms SET name = $2, default_course_id = $3 WHERE id = $1")
            .bind(&room.id)
            .bind(&room.name)
            .bind(&room.default_course_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn count_room_agents(
        &self,
        room_id: &str,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM agents WHERE room_id = $1")
            .bind(room_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Deletes a room; its lectures forget it first (they keep their media).
    pub(in crate::store) async fn delete_room(&self, room_id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE lectures SET room_id = NULL WHERE room_id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rooms WHERE id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(in crate::store) async fn agents(
        &self,
        institute_id: &str,
        page: Page,
    ) -> Result<Vec<AgentInfo>, StoreError> {
        let rows: Vec<AgentRow> = sqlx::query_as(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents a JOIN rooms r ON r.id = a.room_id \
             WHERE r.institute_id = $1 ORDER BY a.name, a.id LIMIT $2 OFFSET $3"
        ))
        .bind(institute_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AgentInfo::try_from).collect()
    }

    pub(in crate::store) async fn agent(
        &self,
        institute_id: &str,
        agent_id: &str,
    ) -> Result<Option<AgentInfo>, StoreError> {
        let row: Option<AgentRow> = sqlx::query_as(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents a JOIN rooms r ON r.id = a.room_id \
             WHERE a.id = $1 AND r.institute_id = $2"
        ))
        .bind(agent_id)
        .bind(institute_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(AgentInfo::try_from).transpose()
    }

    pub(in crate::store) async fn insert_agent(
        &self,
        id: &str,
        name: &str,
        room_id: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO agents (id, name, room_id, token_hash) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(name)
            .bind(room_id)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn update_agent(
        &self,
        agent_id: &str,
        name: &str,
        room_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE agents SET name = $2, room_id = $3 WHERE id = $1")
            .bind(agent_id)
            .bind(name)
            .bind(room_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn set_agent_token(
        &self,
        agent_id: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE agents SET token_hash = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn delete_agent(&self, agent_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agents WHERE id = $1")
            .bind(agent_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn agent_heartbeat(
        &self,
        agent_id: &str,
        state: &str,
        version: Option<&str>,
        health: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE agents SET last_seen = $2, state = $3, version = COALESCE($4, version), health = $5 \
             WHERE id = $1",
        )
        .bind(agent_id)
        .bind(ts(now))
        .bind(state)
        .bind(version)
        .bind(health)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
