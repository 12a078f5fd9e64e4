//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of `/api/v1`, generated from the
//! handlers' `#[utoipa::path]` and the wire types' `ToSchema` (feature `openapi` of
//! `lectern-wire`). It is public: it describes the open source, not anyone's data, and
//! tools (schemathesis, client generators) read it without a session.

use axum::Json;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::Ref;
use utoipa::{Modify, OpenApi};

use super::{
    accounts, agent, agent_schedule, audit_log, chunks, courses, guardian_consent, imports, jobs,
    lectures, people, policy, privacy, resumable, rooms, schedules, students, uploads, users,
    viewing, worker,
};

/// The document: every `/api/v1` operation, its bodies and its authentication.
#[derive(OpenApi)]
#[openapi(
    info(title = "Lectern catalog API", description = "People, courses, lectures and playback; capture boxes and transcode workers. Outsiders get 404, never 403. Accounts are made by institutes: an admin invites a person (POST /api/v1/users) and passes the activation link on (Lectern sends no mail), or people sign up where the institute allows it."),
    paths(
        people::login, people::logout, people::me, people::courses, people::course_lectures,
        people::lecture, people::playback, accounts::activate, accounts::signup,
        users::list, users::invite, users::read, users::update, users::delete, users::reinvite,
        courses::create, courses::read, courses::update, courses::delete, courses::enrolments,
        courses::enrol, courses::unenrol,
        lectures::plan, lectures::update, lectures::publish, lectures::unpublish, lectures::remove,
        uploads::upload, resumable::create, resumable::options, resumable::head, resumable::read,
        resumable::patch, resumable::terminate,
        privacy::correct_me, privacy::export_link, privacy::export, privacy::erase_me,
        privacy::erase_user, policy::current, policy::publish, policy::accept,
        viewing::report_progress, viewing::my_progress, viewing::analytics, viewing::preferences,
        viewing::set_preferences, students::read, guardian_consent::record,
        guardian_consent::withdraw,
        rooms::institute, rooms::update_institute, rooms::rooms, rooms::create_room, rooms::room,
        rooms::update_room, rooms::delete_room, rooms::agents, rooms::create_agent, rooms::agent,
        rooms::update_agent, rooms::delete_agent, rooms::replace_token,
        schedules::list, schedules::create, schedules::read, schedules::update, schedules::delete,
        audit_log::log, imports::courses, imports::enrolments,
        agent::start, agent::stop, agent::heartbeat, agent_schedule::schedule,
        chunks::list, chunks::upload,
        worker::register, worker::sessions, worker::rendition, worker::segment, worker::thumbnails,
        worker::finish,
        jobs::claim, jobs::heartbeat, jobs::complete, jobs::fail, jobs::lecture_jobs,
    ),
    modifiers(&Authentication, &ErrorsAreErrorBodies),
)]
pub struct ApiDoc;

/// Every operation's other answers, whatever their status, are `ErrorBody`: the document
/// says so with a `default` response, so schema checks (schemathesis) hold every error
/// answer to that shape, not only the statuses each handler lists.
struct ErrorsAreErrorBodies;

impl Modify for ErrorsAreErrorBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let default = ResponseBuilder::new()
            .description(
                "any other error, e.g. 400 for a malformed body or parameter, 405 for another \
                 method, 413 for a body over the limit, 415 for a body that is not JSON",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("default".to_owned())
                    .or_insert_with(|| default.clone().into());
            }
        }
    }
}

/// The three ways in: the session cookie, a capture box's token and a worker's token.
struct Authentication;

impl Modify for Authentication {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "from POST /api/v1/auth/login; __Host-lectern_session over HTTPS",
            ))),
        );
        for (name, what) in [
            ("agent_token", "a capture box's API token"),
            ("worker_token", "a transcode worker's API token"),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(what))
                        .build(),
                ),
            );
        }
    }
}

/// Serves the document.
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
