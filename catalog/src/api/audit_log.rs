//! `GET /api/v1/audit`: the institute's audit log, for its admins.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lectern_wire::admin::AuditEntry;
use lectern_wire::api;

use super::page::{PageParams, PageQuery};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::startup::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/audit", get(log))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "institute", security(("session" = [])),
    params(PageParams),
    responses((status = 200, body = [AuditEntry], description = "newest first"), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin")))]
async fn log(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    page: PageQuery,
) -> Result<Response, ApiError> {
    Ok(page.answer(
        state
            .store
            .audit_log(&admin.institute_id, page.probe())
            .await?,
    ))
}
