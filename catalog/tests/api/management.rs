//! What instructors, teaching assistants and admins do to courses and lectures, and what
//! students see because of it: publishing, availability windows, trims, deletion with the
//! media, enrolment changes, pagination and the audit log.

use axum::http::{Method, StatusCode};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::helpers::{token_of, Answer, As, Db, TestApp, OUTSIDER, STUDENT, WORKER_TOKEN};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const ADMIN: &str = "admin@demo.lectern.test";

impl TestApp {
    async fn patch(&self, uri: &str, who: As<'_>, body: Value) -> Answer {
        self.send(Method::PATCH, uri, who, Some(body), &[]).await
    }

    async fn delete(&self, uri: &str, who: As<'_>) -> Answer {
        self.send(Method::DELETE, uri, who, None, &[]).await
    }

    async fn user_id(&self, email: &str) -> String {
        let (user, _) = self
            .state
            .store()
            .user_for_login(email)
            .await
            .unwrap()
            .unwrap();
        user.id
    }

    /// The ids of a course's lectures as `who` lists them.
    async fn listed(&self, course: &str, who: &str) -> Vec<String> {
        let answer = self
            .get(
                &format!("/api/v1/courses/{course}/lectures"),
                As::Cookie(who),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn students_see_a_lecture_only_while_published_and_inside_its_window(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let student = app.login(STUDENT).await;
    let instructor = app.login(INSTRUCTOR).await;
    let course = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await
        .json()["course_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sees = |answer: Answer| answer.status == StatusCode::OK;

    let answer = app
        .post(
            &format!("/api/v1/lectures/{lecture}/unpublish"),
            As::Cookie(&instructor),
            json!({}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["published"], false);
    assert!(!sees(
        app.get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
            .await
    ));
    assert!(!sees(
        app.get(
            &format!("/api/v1/lectures/{lecture}/playback"),
            As::Cookie(&student)
        )
        .await
    ));
    assert!(app.listed(&course, &student).await.is_empty());
    assert_eq!(app.listed(&course, &instructor).await, [lecture.as_str()]);
    assert!(sees(
        app.get(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor)
        )
        .await
    ));

    app.post(
        &format!("/api/v1/lectures/{lecture}/publish"),
        As::Cookie(&instructor),
        json!({}),
    )
    .await;
    assert!(sees(
        app.get(
            &format!("/api/v1/lectures/{lecture}/playback"),
            As::Cookie(&student)
        )
        .await
    ));

    let now = Utc::now();
    let later = json!({"available_from": rfc3339(now + Duration::hours(1))});
    let answer = app
        .patch(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            later,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(!sees(
        app.get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
            .await
    ));
    assert!(app.listed(&course, &student).await.is_empty());

    let over =
        json!({"available_from": null, "available_until": rfc3339(now - Duration::minutes(1))});
    app.patch(
        &format!("/api/v1/lectures/{lecture}"),
        As::Cookie(&instructor),
        over,
    )
    .await;
    assert!(!sees(
        app.get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
            .await
    ));

    let open = json!({
        "available_from": rfc3339(now - Duration::hours(1)),
        "available_until": rfc3339(now + Duration::hours(1)),
    });
    app.patch(
        &format!("/api/v1/lectures/{lecture}"),
        As::Cookie(&instructor),
        open,
    )
    .await;
    assert_eq!(app.listed(&course, &student).await, [lecture.as_str()]);

    let backwards = json!({"available_until": rfc3339(now - Duration::hours(2))});
    let answer = app
        .patch(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            backwards,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer
            .text()
            .contains("available_until must be after available_from"),
        "{}",
        answer.text()
    );
}

async fn a_course_that_publishes_nothing_by_itself_hides_new_recordings(db: Db) {
    let app = TestApp::spawn(db).await;
    let instructor = app.login(INSTRUCTOR).await;
    let student = app.login(STUDENT).await;
    let first = app.start_lecture().await.lecture_id;
    let course = app
        .state
        .store()
        .lecture(&first)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    let answer = app
        .patch(
            &format!("/api/v1/courses/{course}"),
            As::Cookie(&instructor),
            json!({"auto_publish": false}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["auto_publish"], false);
    let second = app.start_lecture().await.lecture_id;
    assert_eq!(app.listed(&course, &student).await, [first]);
    assert!(app.listed(&course, &instructor).await.contains(&second));
}

async fn a_teaching_assistant_manages_lectures_but_not_the_course(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let course = app
        .state
        .store()
        .lecture(&lecture)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    let admin = app.login(ADMIN).await;
    let assistant = app.user_id(OUTSIDER).await;
    let answer = app
        .send(
            Method::PUT,
            &format!("/api/v1/courses/{course}/enrolments/{assistant}"),
            As::Cookie(&admin),
            Some(json!({"role": "teaching_assistant"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());

    let ta = app.login(OUTSIDER).await;
    let courses = app.get("/api/v1/courses", As::Cookie(&ta)).await.json();
    assert_eq!(courses[0]["my_role"], "teaching_assistant");
    let answer = app
        .patch(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&ta),
            json!({"title": "Week 1"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["title"], "Week 1");
    let answer = app
        .get(
            &format!("/api/v1/courses/{course}/enrolments"),
            As::Cookie(&ta),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let roles: Vec<(String, String)> = answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["email"].as_str().unwrap().to_owned(),
                e["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (INSTRUCTOR.to_owned(), "instructor".to_owned()),
            (OUTSIDER.to_owned(), "teaching_assistant".to_owned()),
            (STUDENT.to_owned(), "student".to_owned()),
        ]
    );

    let student = app.user_id(STUDENT).await;
    for answer in [
        app.patch(
            &format!("/api/v1/courses/{course}"),
            As::Cookie(&ta),
            json!({"title": "Mine now"}),
        )
        .await,
        app.delete(
            &format!("/api/v1/courses/{course}/enrolments/{student}"),
            As::Cookie(&ta),
        )
        .await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text());
    }
}

async fn revoking_an_enrolment_stops_new_playback_at_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let course = app
        .state
        .store()
        .lecture(&lecture)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    let student = app.login(STUDENT).await;
    let playback = format!("/api/v1/lectures/{lecture}/playback");
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::OK
    );

    let instructor = app.login(INSTRUCTOR).await;
    let student_id = app.user_id(STUDENT).await;
    let answer = app
        .delete(
            &format!("/api/v1/courses/{course}/enrolments/{student_id}"),
            As::Cookie(&instructor),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app
        .get("/api/v1/courses", As::Cookie(&student))
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
}

async fn trimming_cuts_the_playlists_and_refuses_what_was_cut(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master) = app.lecture_with_segment().await;
    for sequence in 1..5 {
        app.add_segment(&lecture, sequence).await;
    }
    let instructor = app.login(INSTRUCTOR).await;
    let answer = app
        .patch(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            json!({"trim_in": 3.0, "trim_out": 6.0}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["duration_seconds"], 3.0);

    let token = token_of(&master);
    let playlist = app
        .get(
            &format!("/media/{lecture}/presenter/720p/index.m3u8?token={token}"),
            As::Nobody,
        )
        .await
        .text();
    let listed: Vec<&str> = playlist.lines().filter(|l| l.contains(".ts?")).collect();
    assert_eq!(listed.len(), 2, "{playlist}");
    assert!(
        listed[0].starts_with("1.ts?") && listed[1].starts_with("2.ts?"),
        "{playlist}"
    );
    for (sequence, status) in [
        (0, StatusCode::NOT_FOUND),
        (1, StatusCode::OK),
        (3, StatusCode::NOT_FOUND),
    ] {
        let uri = format!("/media/{lecture}/presenter/720p/{sequence}.ts?token={token}");
        assert_eq!(app.get(&uri, As::Nobody).await.status, status, "{uri}");
    }

    for (body, message) in [
        (
            json!({"trim_in": 6.0, "trim_out": 3.0}),
            "trim_out must be after trim_in",
        ),
        (
            json!({"trim_in": -1.0}),
            "trim_in must be a number of seconds",
        ),
    ] {
        let answer = app
            .patch(
                &format!("/api/v1/lectures/{lecture}"),
                As::Cookie(&instructor),
                body,
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.text().contains(message), "{}", answer.text());
    }
    let answer = app
        .patch(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            json!({"trim_in": null, "trim_out": null}),
        )
        .await;
    assert_eq!(answer.json()["duration_seconds"], 10.0);
}

async fn deleting_a_lecture_deletes_its_media_and_is_audited(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let instructor = app.login(INSTRUCTOR).await;
    let uri = format!("/api/v1/lectures/{lecture}");
    let answer = app.delete(&uri, As::Cookie(&instructor)).await;
    assert_eq!(
        answer.status,
        StatusCode::CONFLICT,
        "capturing: {}",
        answer.text()
    );

    app.stop_recording(&lecture).await;
    let finish = format!("/api/v1/worker/lectures/{lecture}/finish");
    app.post(&finish, As::Bearer(WORKER_TOKEN), json!({})).await;
    let media = app.storage.path().join(format!("lectures/{lecture}"));
    assert!(media.exists());
    let answer = app.delete(&uri, As::Cookie(&instructor)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(!media.exists(), "the segments are still in storage");
    assert_eq!(
        app.get(&uri, As::Cookie(&instructor)).await.status,
        StatusCode::NOT_FOUND
    );

    let admin = app.login(ADMIN).await;
    let log = app.get("/api/v1/audit", As::Cookie(&admin)).await.json();
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "lecture.delete")
        .expect("the deletion is audited");
    assert_eq!(entry["target_id"], lecture.as_str());
    assert_eq!(entry["actor_id"], app.user_id(INSTRUCTOR).await.as_str());
    assert_eq!(entry["detail"]["objects"], 1);
}

async fn reading_other_peoples_enrolments_is_audited(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    let course = app
        .state
        .store()
        .lecture(&lecture)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    let instructor = app.login(INSTRUCTOR).await;
    app.get(
        &format!("/api/v1/courses/{course}/enrolments"),
        As::Cookie(&instructor),
    )
    .await;
    let admin = app.login(ADMIN).await;
    let log = app.get("/api/v1/audit", As::Cookie(&admin)).await.json();
    let newest = &log[0];
    assert_eq!(newest["action"], "enrolment.read");
    assert_eq!(newest["target_id"], course.as_str());
    assert_eq!(newest["actor_id"], app.user_id(INSTRUCTOR).await.as_str());
}

async fn listings_come_in_pages_with_a_link_to_the_next(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    for code in ["PAG1", "PAG2", "PAG3"] {
        let answer = app
            .post(
                "/api/v1/courses",
                As::Cookie(&admin),
                json!({"code": code, "title": "Paging", "term": "2026 Autumn"}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    }
    let first = app.get("/api/v1/courses?limit=3", As::Cookie(&admin)).await;
    let body = first.json();
    let codes: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["LEC101", "PAG1", "PAG2"]);
    assert_eq!(
        first.header("link"),
        "</api/v1/courses?limit=3&offset=3>; rel=\"next\""
    );
    let next = app
        .get("/api/v1/courses?limit=3&offset=3", As::Cookie(&admin))
        .await;
    assert_eq!(next.json().as_array().unwrap().len(), 1);
    assert_eq!(next.header("link"), "");

    for query in ["limit=0", "limit=501", "limit=ten", "offset=-1"] {
        let answer = app
            .get(&format!("/api/v1/courses?{query}"), As::Cookie(&admin))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.json()["error"]["code"], "bad_request", "{query}");
    }
}

async fn course_codes_are_unique_per_term_and_courses_with_lectures_stay(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let lecture = app.start_lecture().await.lecture_id;
    let course = app
        .state
        .store()
        .lecture(&lecture)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    let again = json!({"code": "LEC101", "title": "Again", "term": "2026 Autumn"});
    let answer = app.post("/api/v1/courses", As::Cookie(&admin), again).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(
        answer
            .text()
            .contains("already has a course LEC101 in 2026 Autumn"),
        "{}",
        answer.text()
    );
    let next_term = json!({"code": "LEC101", "title": "Again", "term": "2027 Spring"});
    assert_eq!(
        app.post("/api/v1/courses", As::Cookie(&admin), next_term)
            .await
            .status,
        StatusCode::CREATED
    );

    let answer = app
        .delete(&format!("/api/v1/courses/{course}"), As::Cookie(&admin))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(
        answer.text().contains("still has 1 lecture(s)"),
        "{}",
        answer.text()
    );

    for (body, message) in [
        (
            json!({"code": "", "title": "t", "term": "x"}),
            "code must not be empty",
        ),
        (
            json!({"code": "X", "title": "a\nb", "term": "x"}),
            "title must not contain control characters",
        ),
        (json!({"code": "X", "title": "t"}), "missing field `term`"),
        (
            json!({"code": "X", "title": "t", "term": "x", "colour": "red"}),
            "unknown field `colour`",
        ),
    ] {
        let answer = app.post("/api/v1/courses", As::Cookie(&admin), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(
            answer.text().contains(message),
            "{message}: {}",
            answer.text()
        );
    }
}

on_both_databases!(
    students_see_a_lecture_only_while_published_and_inside_its_window,
    a_course_that_publishes_nothing_by_itself_hides_new_recordings,
    a_teaching_assistant_manages_lectures_but_not_the_course,
    revoking_an_enrolment_stops_new_playback_at_once,
    trimming_cuts_the_playlists_and_refuses_what_was_cut,
    deleting_a_lecture_deletes_its_media_and_is_audited,
    reading_other_peoples_enrolments_is_audited,
    listings_come_in_pages_with_a_link_to_the_next,
    course_codes_are_unique_per_term_and_courses_with_lectures_stay,
);
