//! A person's rights over their data (issue 7), through the real catalog: they correct their
//! profile; they download everything about them, and nothing about anyone else, through a
//! short link that works only in their own session; they (with their password) or their
//! admin erase them, after which no registry column holds anything of theirs but the
//! records under legal hold, which the answer lists with the reason.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use lectern_catalog::privacy::registry::{Erasure, Subject, TABLES};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::fixtures::{build_world, FOREIGN_ADMIN, OTHER_INSTRUCTOR};
use crate::helpers::{texts, As, Db, TestApp, PASSWORD, STUDENT};

const ADMIN: &str = "admin@demo.lectern.test";
const INSTRUCTOR: &str = "instructor@demo.lectern.test";

/// The person's rows in a registry table, found by its subject column.
async fn rows_about(app: &TestApp, table: &str, column: &str, key: &str) -> usize {
    texts(
        app,
        &format!("SELECT CAST({column} AS TEXT) FROM {table} WHERE {column} = $1"),
        Some(key),
    )
    .await
    .len()
}

fn account_hash(email: &str) -> String {
    hex::encode(Sha256::digest(format!("account:{email}").as_bytes()))
}

/// Every string in a JSON document.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

async fn me(app: &TestApp, cookie: &str) -> Value {
    let answer = app.get("/api/v1/me", As::Cookie(cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

/// An admin's `PATCH /api/v1/users/{user}`, which must succeed.
async fn patch_user(app: &TestApp, admin: &str, user: &str, body: Value) {
    let answer = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{user}"),
            As::Cookie(admin),
            Some(body),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

/// Gives the student a row in each table about viewing and children: a guardian's consent
/// (recorded while the institute had their account under 13, kept when it corrected the
/// band to adult) and their viewing of `lecture`, parts played included.
async fn consented_and_watched(app: &TestApp, student: &str, lecture: &str) {
    let id = me(app, student).await["id"].as_str().unwrap().to_owned();
    let admin = app.login(ADMIN).await;
    patch_user(app, &admin, &id, json!({"age_band": "under_13"})).await;
    let body = json!({"guardian_name": "Gina Guardian", "relation": "mother"});
    let answer = app
        .post(
            &format!("/api/v1/users/{id}/guardian-consent"),
            As::Cookie(&admin),
            body,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    patch_user(app, &admin, &id, json!({"age_band": "adult"})).await;
    let report = json!({"view": "v", "position_seconds": 1.5, "watched_seconds": 1.5,
                        "watched": [[0, 1.5]]});
    let answer = crate::fixtures::report_progress(app, student, lecture, report).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
}

async fn people_correct_their_own_name_and_nothing_else(db: Db) {
    let app = TestApp::spawn(db).await;
    let student = app.login(STUDENT).await;
    let patch = |body: Value| {
        app.send(
            Method::PATCH,
            "/api/v1/me",
            As::Cookie(&student),
            Some(body),
            &[],
        )
    };
    let answer = patch(json!({"name": "  Ada Lovelace "})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["name"], "Ada Lovelace");
    assert_eq!(me(&app, &student).await["name"], "Ada Lovelace");
    for bad in [
        json!({"name": "   "}),
        json!({"name": "x", "role": "admin"}),
    ] {
        let answer = patch(bad.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.text()
        );
    }
    assert_eq!(me(&app, &student).await["role"], "student");
}

async fn an_export_holds_every_registry_field_about_the_person_and_nothing_of_others(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let student = app.login(STUDENT).await;
    consented_and_watched(&app, &student, &world.lecture).await;
    // A failed login leaves a throttle row about the student, found by their email's hash
    // (a successful one would clear it).
    let failed = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            json!({"email": STUDENT, "password": "not-it"}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let id = me(&app, &student).await["id"].as_str().unwrap().to_owned();

    let link = app
        .post("/api/v1/me/export", As::Cookie(&student), json!({}))
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text());
    let url = link.json()["url"].as_str().unwrap().to_owned();
    let answer = app.get(&url, As::Cookie(&student)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer
        .header("content-disposition")
        .starts_with("attachment"));
    assert_eq!(answer.header("cache-control"), "no-store");
    let document = answer.json();
    let data = &document["data"];

    // Every table about a person is a section, with one entry per row about them and every
    // exported field in each entry.
    let mut seen_rows = 0;
    for table in TABLES {
        let (column, key) = match table.subject {
            Subject::Nobody => continue,
            Subject::User { column } => (column, id.clone()),
            Subject::Hashed { column, .. } => (column, account_hash(STUDENT)),
        };
        let section = table.export_section.unwrap();
        let entries = data[section]
            .as_array()
            .unwrap_or_else(|| panic!("no section {section} in {document}"));
        let rows = rows_about(&app, table.name, column, &key).await;
        assert_eq!(entries.len(), rows, "section {section}");
        seen_rows += rows;
        for entry in entries {
            for c in table.columns {
                if let lectern_catalog::privacy::registry::Export::Field(field) = c.export {
                    assert!(
                        entry.get(field).is_some(),
                        "{section}.{field} missing: {entry}"
                    );
                }
            }
        }
    }
    // profile, sessions, enrolments, the failed login, the consent and the viewing at least.
    assert!(seen_rows >= 6, "{document}");
    assert_eq!(data["profile"][0]["email"], STUDENT);
    assert_eq!(
        data["guardian_consent"][0]["guardian_name"],
        "Gina Guardian"
    );
    assert_eq!(
        data["lecture_progress"][0]["lecture_id"],
        world.lecture.as_str()
    );
    assert_eq!(data["lecture_progress"][0]["watched_parts"], "01");

    // Nothing that identifies anyone else: no other person's id, email or name.
    let mut values = Vec::new();
    strings(data, &mut values);
    for sql in [
        "SELECT id FROM users WHERE id <> $1",
        "SELECT email FROM users WHERE id <> $1",
        "SELECT name FROM users WHERE id <> $1",
    ] {
        for other in texts(&app, sql, Some(&id)).await.into_iter().flatten() {
            assert!(!values.contains(&other), "the export shows {other:?}");
        }
    }

    // The link is the student's alone, and short-lived.
    let admin = app.login(ADMIN).await;
    assert_eq!(
        app.get(&url, As::Cookie(&admin)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&url, As::Nobody).await.status,
        StatusCode::UNAUTHORIZED
    );
    let now = Utc::now().timestamp() as u64;
    let expired = app.state.signer().sign(&format!("export:{id}"), now - 1);
    let expired_url = format!("/api/v1/me/export/{expired}");
    assert_eq!(
        app.get(&expired_url, As::Cookie(&student)).await.status,
        StatusCode::NOT_FOUND
    );
    // A playback token of a lecture is no export link, whoever's id it names.
    let lecture_token = app.state.signer().sign(&id, now + 600);
    let lecture_url = format!("/api/v1/me/export/{lecture_token}");
    assert_eq!(
        app.get(&lecture_url, As::Cookie(&student)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Every registry column that could hold something of the person's, with the values that
/// identify them, and whether erasure keeps it (legal hold).
async fn traces_of(app: &TestApp, id: &str, email: &str, name: &str) -> Vec<String> {
    let kind = app.state.store().kind();
    let needles = [
        id.to_owned(),
        email.to_owned(),
        name.to_owned(),
        account_hash(email),
    ];
    let mut found = Vec::new();
    for table in TABLES {
        for column in table.columns_on(kind) {
            if !column.data.is_personal() || matches!(column.erasure, Erasure::LegalHold { .. }) {
                continue;
            }
            let sql = format!("SELECT CAST({} AS TEXT) FROM {}", column.name, table.name);
            for value in texts(app, &sql, None).await.into_iter().flatten() {
                if needles.iter().any(|needle| value.contains(needle.as_str())) {
                    found.push(format!("{}.{} = {value:?}", table.name, column.name));
                }
            }
        }
    }
    found
}

async fn people_erase_themselves_with_their_password(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let student = app.login(STUDENT).await;
    consented_and_watched(&app, &student, &world.lecture).await;
    let who = me(&app, &student).await;
    let (id, name) = (who["id"].as_str().unwrap(), who["name"].as_str().unwrap());
    assert!(!traces_of(&app, id, STUDENT, name).await.is_empty());

    let wrong = app
        .post(
            "/api/v1/me/erasure",
            As::Cookie(&student),
            json!({"password": "not-it"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text());
    assert_eq!(
        me(&app, &student).await["id"],
        id,
        "a wrong password erases nothing"
    );

    let answer = app
        .post(
            "/api/v1/me/erasure",
            As::Cookie(&student),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(
        answer.header("set-cookie").contains("Max-Age=0"),
        "the cookie is cleared"
    );
    assert_eq!(
        answer.json()["held"],
        json!([]),
        "a student's records hold nothing back"
    );
    assert_eq!(
        traces_of(&app, id, STUDENT, name).await,
        Vec::<String>::new()
    );
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&student)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let login = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            json!({"email": STUDENT, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    // Everyone else is as they were.
    app.login(INSTRUCTOR).await;
}

async fn an_admin_erases_a_person_and_the_audit_log_is_held_with_its_reason(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let instructor = app.login(OTHER_INSTRUCTOR).await;
    let who = me(&app, &instructor).await;
    let id = who["id"].as_str().unwrap().to_owned();
    let name = who["name"].as_str().unwrap().to_owned();
    // Something the audit log records, with the instructor as its actor.
    let patched = app
        .send(
            Method::PATCH,
            &format!("/api/v1/courses/{}", world.other_course),
            As::Cookie(&instructor),
            Some(json!({"title": "Held in the log"})),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());

    let url = format!("/api/v1/users/{id}/erasure");
    for (caller, status) in [
        (STUDENT, StatusCode::NOT_FOUND),
        (INSTRUCTOR, StatusCode::NOT_FOUND),
        (FOREIGN_ADMIN, StatusCode::NOT_FOUND),
    ] {
        let cookie = app.login(caller).await;
        assert_eq!(
            app.post(&url, As::Cookie(&cookie), json!({})).await.status,
            status,
            "{caller}"
        );
    }
    let admin = app.login(ADMIN).await;
    let own_id = me(&app, &admin).await["id"].as_str().unwrap().to_owned();
    let own = app
        .post(
            &format!("/api/v1/users/{own_id}/erasure"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT, "{}", own.text());

    let answer = app.post(&url, As::Cookie(&admin), json!({})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let held = answer.json()["held"].clone();
    assert_eq!(held.as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held[0]["table"], "audit_log");
    assert!(held[0]["rows"].as_u64().unwrap() >= 1);
    assert!(!held[0]["reason"].as_str().unwrap().is_empty());
    assert_eq!(
        traces_of(&app, &id, OTHER_INSTRUCTOR, &name).await,
        Vec::<String>::new()
    );
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&instructor)).await.status,
        StatusCode::UNAUTHORIZED,
        "their sessions end"
    );
    let log = app.get("/api/v1/audit", As::Cookie(&admin)).await.json();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.erase" && e["target_id"] == id.as_str()),
        "{log}"
    );
    assert_eq!(
        app.post(&url, As::Cookie(&admin), json!({})).await.status,
        StatusCode::NOT_FOUND,
        "gone"
    );
}

/// A consent outlives the admin who recorded it: erasing them clears only their id from it.
async fn erasing_the_admin_who_recorded_a_consent_keeps_the_consent_without_their_id(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let admin = app.login(ADMIN).await;
    let second = app.login(OTHER_INSTRUCTOR).await;
    let who = me(&app, &second).await;
    let (id, name) = (who["id"].as_str().unwrap(), who["name"].as_str().unwrap());
    patch_user(&app, &admin, id, json!({"role": "admin"})).await;
    patch_user(
        &app,
        &second,
        &world.student,
        json!({"age_band": "under_13"}),
    )
    .await;
    let consent = app
        .post(
            &format!("/api/v1/users/{}/guardian-consent", world.student),
            As::Cookie(&second),
            json!({"guardian_name": "Gina Guardian", "relation": "mother"}),
        )
        .await;
    assert_eq!(consent.status, StatusCode::CREATED, "{}", consent.text());
    assert_eq!(consent.json()["recorded_by"], id);

    let erased = app
        .post(
            &format!("/api/v1/users/{id}/erasure"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    assert_eq!(
        traces_of(&app, id, OTHER_INSTRUCTOR, name).await,
        Vec::<String>::new()
    );
    let child = app
        .get(
            &format!("/api/v1/users/{}", world.student),
            As::Cookie(&admin),
        )
        .await
        .json();
    assert_eq!(child["guardian_consent"]["guardian_name"], "Gina Guardian");
    assert_eq!(child["guardian_consent"]["recorded_by"], Value::Null);
    let student = app.login(STUDENT).await;
    let playback = app
        .get(
            &format!("/api/v1/lectures/{}/playback", world.lecture),
            As::Cookie(&student),
        )
        .await;
    assert_eq!(playback.status, StatusCode::OK, "the consent stands");
}

on_both_databases!(
    erasing_the_admin_who_recorded_a_consent_keeps_the_consent_without_their_id,
    people_correct_their_own_name_and_nothing_else,
    an_export_holds_every_registry_field_about_the_person_and_nothing_of_others,
    people_erase_themselves_with_their_password,
    an_admin_erases_a_person_and_the_audit_log_is_held_with_its_reason,
);
