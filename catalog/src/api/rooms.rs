//! The institute's own settings, its rooms and its capture boxes: admins only, audited. A
//! new box's token, or a box's replacement token, is shown once in the answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::admin::{
    AgentCreated, AgentInfo, AgentPatch, Institute, InstitutePatch, NewAgent, NewRoom, Room,
    RoomPatch,
};
use lectern_wire::api;
use serde_json::json;

use super::extract::{self, Path};
use super::page::{PageParams, PageQuery};
use super::{audit, check_text, new_agent_token};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{RoomError, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/institute", get(institute).patch(update_institute))
        .route("/rooms", get(rooms).post(create_room))
        .route(
            "/rooms/{id}",
            get(room).patch(update_room).delete(delete_room),
        )
        .route("/agents", get(agents).post(create_agent))
        .route(
            "/agents/{id}",
            get(agent).patch(update_agent).delete(delete_agent),
        )
        .route("/agents/{id}/token", post(replace_token))
}

impl From<RoomError> for ApiError {
    fn from(e: RoomError) -> ApiError {
        match e {
            RoomError::Store(e) => ApiError::Store(e),
            other => ApiError::Conflict(other.to_string()),
        }
    }
}

/// 404 unless `course_id` is a course of the admin's institute.
async fn check_course(
    state: &AppState,
    admin: &User,
    course_id: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(id) = course_id {
        state
            .store
            .course_for(admin, id)
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    Ok(())
}

async fn own_room(state: &AppState, admin: &User, room_id: &str) -> Result<Room, ApiError> {
    state
        .store
        .room(&admin.institute_id, room_id)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn own_agent(state: &AppState, admin: &User, agent_id: &str) -> Result<AgentInfo, ApiError> {
    state
        .store
        .agent(&admin.institute_id, agent_id, Utc::now())
        .await?
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/institute", tag = "institute", security(("session" = [])),
    responses((status = 200, body = Institute), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "not an admin")))]
async fn institute(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<Json<Institute>, ApiError> {
    let institute = state
        .store
        .institute(&admin.institute_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(institute))
}

#[utoipa::path(patch, path = "/api/v1/institute", tag = "institute", security(("session" = [])),
    request_body = InstitutePatch,
    responses((status = 200, body = Institute), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin"),
        (status = 409, body = api::ErrorBody, description = "another institute has this name")))]
async fn update_institute(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(patch): extract::Json<InstitutePatch>,
) -> Result<Json<Institute>, ApiError> {
    let mut institute = state
        .store
        .institute(&admin.institute_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(name) = &patch.name {
        check_text("name", name, 200)?;
        institute.name.clone_from(name);
    }
    if let Some(open) = patch.open_signup {
        institute.open_signup = open;
    }
    if let Some(days) = patch.audit_retention_days {
        if days.is_some_and(|d| !(1..=36_500).contains(&d)) {
            return Err(ApiError::BadRequest(
                "audit_retention_days must be 1 to 36500 days, or null to keep the audit log \
                 for good"
                    .into(),
            ));
        }
        institute.audit_retention_days = days;
    }
    state.store.update_institute(&institute).await?;
    audit(
        &state,
        &admin,
        "institute.update",
        "institute",
        Some(&institute.id),
        json!(patch),
    )
    .await?;
    Ok(Json(institute))
}

#[utoipa::path(get, path = "/api/v1/rooms", tag = "institute", security(("session" = [])),
    params(PageParams),
    responses((status = 200, body = [Room], description = "by name"), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin")))]
async fn rooms(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    page: PageQuery,
) -> Result<Response, ApiError> {
    Ok(page.answer(state.store.rooms(&admin.institute_id, page.probe()).await?))
}

#[utoipa::path(post, path = "/api/v1/rooms", tag = "institute", security(("session" = [])),
    request_body = NewRoom,
    responses((status = 201, body = Room), (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "not an admin, or the default course is not the institute's"),
        (status = 409, body = api::ErrorBody, description = "the institute has a room of this name")))]
async fn create_room(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(new): extract::Json<NewRoom>,
) -> Result<(StatusCode, Json<Room>), ApiError> {
    check_text("name", &new.name, 200)?;
    check_course(&state, &admin, new.default_course_id.as_deref()).await?;
    let mut room = Room {
        id: String::new(),
        name: new.name.clone(),
        default_course_id: new.default_course_id.clone(),
    };
    room.id = state.store.create_room(&admin.institute_id, &room).await?;
    audit(
        &state,
        &admin,
        "room.create",
        "room",
        Some(&room.id),
        json!(new),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(room)))
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "room id")),
    responses((status = 200, body = Room), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such room in the institute, or not an admin")))]
async fn room(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<Room>, ApiError> {
    Ok(Json(own_room(&state, &admin, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/rooms/{id}", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "room id")), request_body = RoomPatch,
    responses((status = 200, body = Room), (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such room or course in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "the institute has a room of this name")))]
async fn update_room(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    extract::Json(patch): extract::Json<RoomPatch>,
) -> Result<Json<Room>, ApiError> {
    let mut room = own_room(&state, &admin, &id).await?;
    if let Some(name) = &patch.name {
        check_text("name", name, 200)?;
        room.name.clone_from(name);
    }
    if let Some(course) = &patch.default_course_id {
        check_course(&state, &admin, course.as_deref()).await?;
        room.default_course_id.clone_from(course);
    }
    state.store.update_room(&room).await?;
    audit(
        &state,
        &admin,
        "room.update",
        "room",
        Some(&id),
        json!(patch),
    )
    .await?;
    Ok(Json(room))
}

#[utoipa::path(delete, path = "/api/v1/rooms/{id}", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "room id")),
    responses((status = 204, description = "deleted with its schedules; its lectures stay"), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such room in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "capture boxes are still in the room")))]
async fn delete_room(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let room = own_room(&state, &admin, &id).await?;
    state.store.delete_room(&id).await?;
    audit(
        &state,
        &admin,
        "room.delete",
        "room",
        Some(&id),
        json!({"name": room.name}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "institute", security(("session" = [])),
    params(PageParams),
    responses((status = 200, body = [AgentInfo], description = "by name, with what each last reported and whether it is online (a heartbeat within 90 s)"), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin")))]
async fn agents(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    page: PageQuery,
) -> Result<Response, ApiError> {
    Ok(page.answer(
        state
            .store
            .agents(&admin.institute_id, page.probe(), Utc::now())
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/agents", tag = "institute", security(("session" = [])),
    request_body = NewAgent,
    responses((status = 201, body = AgentCreated, description = "the box and its token, shown this once"),
        (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such room in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "a box of this name exists")))]
async fn create_agent(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(new): extract::Json<NewAgent>,
) -> Result<(StatusCode, Json<AgentCreated>), ApiError> {
    check_text("name", &new.name, 100)?;
    own_room(&state, &admin, &new.room_id).await?;
    let (token, hash) = new_agent_token();
    let id = state
        .store
        .create_agent(&new.name, &new.room_id, &hash)
        .await?;
    audit(
        &state,
        &admin,
        "agent.create",
        "agent",
        Some(&id),
        json!(new),
    )
    .await?;
    let agent = own_agent(&state, &admin, &id).await?;
    Ok((StatusCode::CREATED, Json(AgentCreated { agent, token })))
}

#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "capture box id")),
    responses((status = 200, body = AgentInfo), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such box in the institute, or not an admin")))]
async fn agent(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<AgentInfo>, ApiError> {
    Ok(Json(own_agent(&state, &admin, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "capture box id")), request_body = AgentPatch,
    responses((status = 200, body = AgentInfo), (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such box or room in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "a box of this name exists")))]
async fn update_agent(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    extract::Json(patch): extract::Json<AgentPatch>,
) -> Result<Json<AgentInfo>, ApiError> {
    let agent = own_agent(&state, &admin, &id).await?;
    let name = patch.name.as_deref().unwrap_or(&agent.name);
    check_text("name", name, 100)?;
    let room_id = patch.room_id.as_deref().unwrap_or(&agent.room_id);
    own_room(&state, &admin, room_id).await?;
    state.store.update_agent(&id, name, room_id).await?;
    audit(
        &state,
        &admin,
        "agent.update",
        "agent",
        Some(&id),
        json!(patch),
    )
    .await?;
    Ok(Json(own_agent(&state, &admin, &id).await?))
}

#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "capture box id")),
    responses((status = 204, description = "removed; its token no longer works"), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such box in the institute, or not an admin")))]
async fn delete_agent(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let agent = own_agent(&state, &admin, &id).await?;
    state.store.delete_agent(&id).await?;
    audit(
        &state,
        &admin,
        "agent.delete",
        "agent",
        Some(&id),
        json!({"name": agent.name}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agents/{id}/token", tag = "institute", security(("session" = [])),
    params(("id" = String, Path, description = "capture box id")),
    responses((status = 200, body = AgentCreated, description = "a new token, shown this once; the old one stops working at once"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such box in the institute, or not an admin")))]
async fn replace_token(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<AgentCreated>, ApiError> {
    let agent = own_agent(&state, &admin, &id).await?;
    let (token, hash) = new_agent_token();
    state.store.set_agent_token(&id, &hash).await?;
    audit(&state, &admin, "agent.token", "agent", Some(&id), json!({})).await?;
    Ok(Json(AgentCreated { agent, token }))
}
