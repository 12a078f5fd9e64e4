//! The institute itself, its rooms and the capture boxes in them, as admins manage them.
//! A box's API token is made here and shown once; only its SHA-256 is kept.

use chrono::{DateTime, Duration, Utc};
use lectern_wire::admin::{AgentInfo, Institute, Room};
use lectern_wire::agent::HEARTBEAT_INTERVAL_SECONDS;

use super::courses::is_unique_violation;
use super::{new_id, Page, Store, StoreError};

/// Why a room or capture box could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// The name is taken (rooms: within the institute; boxes: anywhere).
    #[error("the name {0:?} is already taken")]
    NameTaken(String),
    /// The room still has capture boxes: move or delete them first.
    #[error("the room still has {0} capture box(es): move or delete them first")]
    HasAgents(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A box is online while its last heartbeat is at most three intervals old: one lost
/// heartbeat or a slow network does not make it flap between on- and offline.
pub const AGENT_ONLINE_WITHIN: Duration = Duration::seconds(3 * HEARTBEAT_INTERVAL_SECONDS as i64);

/// Marks a box online when it reported within [`AGENT_ONLINE_WITHIN`] of `now`.
fn with_online(mut agent: AgentInfo, now: DateTime<Utc>) -> AgentInfo {
    agent.online = agent
        .last_seen
        .is_some_and(|seen| now - seen <= AGENT_ONLINE_WITHIN);
    agent
}

fn taken(name: &str) -> impl Fn(StoreError) -> RoomError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            RoomError::NameTaken(name.to_owned())
        } else {
            RoomError::Store(e)
        }
    }
}

impl Store {
    /// An institute by id.
    pub async fn institute(&self, institute_id: &str) -> Result<Option<Institute>, StoreError> {
        on_backend!(self, db => db.institute(institute_id))
    }

    /// Renames an institute or turns its open sign-up on or off.
    #[tracing::instrument(skip(self))]
    pub async fn update_institute(&self, institute: &Institute) -> Result<(), RoomError> {
        on_backend!(self, db => db.update_institute(institute)).map_err(taken(&institute.name))
    }

    /// An institute's rooms by name.
    pub async fn rooms(&self, institute_id: &str, page: Page) -> Result<Vec<Room>, StoreError> {
        on_backend!(self, db => db.rooms(institute_id, page))
    }

    /// A room of `institute_id`.
    pub async fn room(
        &self,
        institute_id: &str,
        room_id: &str,
    ) -> Result<Option<Room>, StoreError> {
        on_backend!(self, db => db.room(institute_id, room_id))
    }

    /// Adds a room; the caller has checked that the default course is the institute's.
    #[tracing::instrument(skip(self))]
    pub async fn create_room(&self, institute_id: &str, room: &Room) -> Result<String, RoomError> {
        let id = new_id();
        on_backend!(self, db => db.insert_room(&id, institute_id, room))
            .map_err(taken(&room.name))?;
        Ok(id)
    }

    /// Writes a room's name and default course.
    #[tracing::instrument(skip(self))]
    pub async fn update_room(&self, room: &Room) -> Result<(), RoomError> {
        on_backend!(self, db => db.update_room(room)).map_err(taken(&room.name))
    }

    /// Deletes a room without capture boxes; its lectures keep their media but no longer
    /// name a room, and its schedules go.
    #[tracing::instrument(skip(self))]
    pub async fn delete_room(&self, room_id: &str) -> Result<(), RoomError> {
        let agents = on_backend!(self, db => db.count_room_agents(room_id))?;
        if agents > 0 {
            return Err(RoomError::HasAgents(agents));
        }
        on_backend!(self, db => db.delete_room(room_id))?;
        Ok(())
    }

    /// The capture boxes of an institute's rooms, by name, online or not at `now`.
    pub async fn agents(
        &self,
        institute_id: &str,
        page: Page,
        now: DateTime<Utc>,
    ) -> Result<Vec<AgentInfo>, StoreError> {
        let agents = on_backend!(self, db => db.agents(institute_id, page))?;
        Ok(agents.into_iter().map(|a| with_online(a, now)).collect())
    }

    /// A capture box in one of `institute_id`'s rooms, online or not at `now`.
    pub async fn agent(
        &self,
        institute_id: &str,
        agent_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<AgentInfo>, StoreError> {
        let agent = on_backend!(self, db => db.agent(institute_id, agent_id))?;
        Ok(agent.map(|a| with_online(a, now)))
    }

    /// Adds a capture box with the hash of its new token; the caller checked the room.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn create_agent(
        &self,
        name: &str,
        room_id: &str,
        token_hash: &str,
    ) -> Result<String, RoomError> {
        let id = new_id();
        on_backend!(self, db => db.insert_agent(&id, name, room_id, token_hash))
            .map_err(taken(name))?;
        Ok(id)
    }

    /// Renames a box or moves it to another room.
    #[tracing::instrument(skip(self))]
    pub async fn update_agent(
        &self,
        agent_id: &str,
        name: &str,
        room_id: &str,
    ) -> Result<(), RoomError> {
        on_backend!(self, db => db.update_agent(agent_id, name, room_id)).map_err(taken(name))
    }

    /// Gives a box a new token (the old one stops working at once).
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn set_agent_token(
        &self,
        agent_id: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.set_agent_token(agent_id, token_hash))
    }

    /// Removes a capture box; its token stops working. Its lectures stay.
    #[tracing::instrument(skip(self))]
    pub async fn delete_agent(&self, agent_id: &str) -> Result<(), StoreError> {
        on_backend!(self, db => db.delete_agent(agent_id))
    }

    /// Records what a box says of itself (its heartbeat).
    #[tracing::instrument(skip(self, health))]
    pub async fn agent_heartbeat(
        &self,
        agent_id: &str,
        state: &str,
        version: Option<&str>,
        health: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let health = health.to_string();
        on_backend!(self, db => db.agent_heartbeat(agent_id, state, version, &health, now))
    }
}
