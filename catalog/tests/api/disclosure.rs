//! Disclosure only where enrolled (issue 7), through the real catalog: a student's profile,
//! enrolment and progress are shown to the staff of a course they are a student of and to
//! their institute's admins, each read written to the audit log, and to no one else (404).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{build_world, report_progress, FOREIGN_ADMIN, OTHER_INSTRUCTOR};
use crate::helpers::{As, Db, TestApp, OUTSIDER, STUDENT};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const ADMIN: &str = "admin@demo.lectern.test";

async fn id_of(app: &TestApp, cookie: &str) -> String {
    let me = app.get("/api/v1/me", As::Cookie(cookie)).await.json();
    me["id"].as_str().unwrap().to_owned()
}

/// The `student.read` entries of the log, as (actor, student, course).
async fn student_reads(app: &TestApp, admin: &str) -> Vec<(String, String, String)> {
    let log = app.get("/api/v1/audit", As::Cookie(admin)).await.json();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "student.read")
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&e["actor_id"]),
                text(&e["target_id"]),
                text(&e["detail"]["course_id"]),
            )
        })
        .collect()
}

async fn a_students_record_is_shown_to_their_courses_staff_only_and_each_read_is_audited(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let student = app.login(STUDENT).await;
    let report = json!({"view": "v", "position_seconds": 1.5, "watched_seconds": 1.5,
                        "watched": [[0, 1.5]]});
    let answer = report_progress(&app, &student, &world.lecture, report).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let url = format!(
        "/api/v1/courses/{}/students/{}",
        world.course, world.student
    );
    let admin = app.login(ADMIN).await;

    // The course's instructor sees the student, and the read is in the log.
    let instructor = app.login(INSTRUCTOR).await;
    let answer = app.get(&url, As::Cookie(&instructor)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let record = answer.json();
    assert_eq!(record["user_id"], world.student.as_str());
    assert_eq!(record["email"], STUDENT);
    assert_eq!(record["age_band"], "adult");
    assert_eq!(record["course_id"], world.course.as_str());
    assert_eq!(record["role"], "student");
    let progress = record["progress"].as_array().unwrap();
    assert_eq!(progress.len(), 1, "{record}");
    assert_eq!(progress[0]["lecture_id"], world.lecture.as_str());
    assert_eq!(progress[0]["position_seconds"], 1.5);
    assert_eq!(progress[0]["views"], 1);
    assert_eq!(progress[0]["watched_seconds"], 1.5);
    let instructor_id = id_of(&app, &instructor).await;
    assert_eq!(
        student_reads(&app, &admin).await,
        [(
            instructor_id.clone(),
            world.student.clone(),
            world.course.clone()
        )]
    );

    // An instructor of another course, the student themselves, a student who is not
    // enrolled and another institute's admin: it does not exist, and nothing is logged.
    for who in [OTHER_INSTRUCTOR, STUDENT, OUTSIDER, FOREIGN_ADMIN] {
        let cookie = app.login(who).await;
        let answer = app.get(&url, As::Cookie(&cookie)).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{who}: {}",
            answer.text()
        );
    }
    assert_eq!(student_reads(&app, &admin).await.len(), 1);
    // Nor through a course the person is not a student of, or for someone who is no
    // student of the course (its instructor).
    let other_course = format!(
        "/api/v1/courses/{}/students/{}",
        world.other_course, world.student
    );
    let other = app.login(OTHER_INSTRUCTOR).await;
    assert_eq!(
        app.get(&other_course, As::Cookie(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    let staff = format!("/api/v1/courses/{}/students/{instructor_id}", world.course);
    assert_eq!(
        app.get(&staff, As::Cookie(&admin)).await.status,
        StatusCode::NOT_FOUND
    );

    // A teaching assistant of the course and the institute's admin see it too.
    let enrol = app
        .send(
            Method::PUT,
            &format!(
                "/api/v1/courses/{}/enrolments/{}",
                world.course, world.outsider
            ),
            As::Cookie(&admin),
            Some(json!({"role": "teaching_assistant"})),
            &[],
        )
        .await;
    assert_eq!(enrol.status, StatusCode::NO_CONTENT, "{}", enrol.text());
    let assistant = app.login(OUTSIDER).await;
    for cookie in [&assistant, &admin] {
        let answer = app.get(&url, As::Cookie(cookie)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    assert_eq!(student_reads(&app, &admin).await.len(), 3);

    // Once the student leaves the course, its staff no longer see them.
    let unenrol = app
        .send(
            Method::DELETE,
            &format!(
                "/api/v1/courses/{}/enrolments/{}",
                world.course, world.student
            ),
            As::Cookie(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(unenrol.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&url, As::Cookie(&instructor)).await.status,
        StatusCode::NOT_FOUND
    );
}

on_both_databases!(a_students_record_is_shown_to_their_courses_staff_only_and_each_read_is_audited,);
