use axum::http::StatusCode;

use crate::helpers::{As, Db, TestApp, OUTSIDER, STUDENT};

async fn the_enrolled_student_sees_lec101_and_the_outsider_sees_no_course(db: Db) {
    let app = TestApp::spawn(db).await;
    let student = app.login(STUDENT).await;
    let courses = app
        .get("/api/v1/courses", As::Cookie(&student))
        .await
        .json();
    let courses = courses.as_array().unwrap();
    assert_eq!(courses.len(), 1);
    assert_eq!(courses[0]["code"], "LEC101");

    let outsider = app.login(OUTSIDER).await;
    let answer = app.get("/api/v1/courses", As::Cookie(&outsider)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json().as_array().unwrap().len(), 0);

    let admin = app.login("admin@demo.lectern.test").await;
    assert_eq!(
        app.get("/api/v1/courses", As::Cookie(&admin))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn the_outsider_gets_404_for_the_course_lecture_and_playback_the_student_sees(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let student = app.login(STUDENT).await;
    let courses = app
        .get("/api/v1/courses", As::Cookie(&student))
        .await
        .json();
    let course = courses[0]["id"].as_str().unwrap().to_owned();
    let lectures = app
        .get(
            &format!("/api/v1/courses/{course}/lectures"),
            As::Cookie(&student),
        )
        .await;
    assert_eq!(lectures.status, StatusCode::OK);
    assert_eq!(lectures.json()[0]["id"], lecture.as_str());

    let outsider = app.login(OUTSIDER).await;
    for path in [
        format!("/api/v1/courses/{course}/lectures"),
        format!("/api/v1/lectures/{lecture}"),
        format!("/api/v1/lectures/{lecture}/playback"),
    ] {
        let answer = app.get(&path, As::Cookie(&outsider)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.json()["error"]["code"], "not_found");
    }
}

async fn the_instructor_sees_the_lecture_of_their_course(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let instructor = app.login("instructor@demo.lectern.test").await;
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

on_both_databases!(
    the_enrolled_student_sees_lec101_and_the_outsider_sees_no_course,
    the_outsider_gets_404_for_the_course_lecture_and_playback_the_student_sees,
    the_instructor_sees_the_lecture_of_their_course,
);
