//! CSV import of courses and enrolments: what a registrar's files do to the catalog, and
//! the report that says which rows were refused and why.

use axum::http::{header, Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Answer, As, Db, TestApp, OUTSIDER, STUDENT};

const ADMIN: &str = "admin@demo.lectern.test";

async fn import(app: &TestApp, what: &str, who: &str, csv: &str) -> Answer {
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/imports/{what}"))
        .header(header::COOKIE, who)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(axum::body::Body::from(csv.to_owned()))
        .unwrap();
    app.request(request).await
}

fn counts(report: &Value) -> (u64, u64, u64) {
    (
        report["created"].as_u64().unwrap(),
        report["updated"].as_u64().unwrap(),
        report["unchanged"].as_u64().unwrap(),
    )
}

fn rejected(report: &Value) -> Vec<(u64, String)> {
    report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_course_file_creates_updates_and_reports_each_bad_row(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let file = "code,title,term\n\
                LEC101,Introduction to Lecture Capture,2026 Autumn\n\
                PHY201,Waves,2026 Autumn\n\
                ,No Code,2026 Autumn\n\
                MAT101,\"Sets, Logic\",2027 Spring\n";
    let answer = import(&app, "courses", &admin, file).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(counts(&report), (2, 0, 1));
    assert_eq!(rejected(&report), [(4, "code is empty".to_owned())]);

    let again = import(
        &app,
        "courses",
        &admin,
        &file.replace("Waves", "Waves and Optics"),
    )
    .await
    .json();
    assert_eq!(counts(&again), (0, 1, 2));
    let courses = app.get("/api/v1/courses", As::Cookie(&admin)).await.json();
    let titles: Vec<&str> = courses
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Waves and Optics") && titles.contains(&"Sets, Logic"),
        "{titles:?}"
    );

    let log = app.get("/api/v1/audit", As::Cookie(&admin)).await.json();
    assert_eq!(log[0]["action"], "import.courses");
    assert_eq!(log[0]["detail"]["updated"], 1);
}

async fn an_enrolment_file_enrols_known_people_and_makes_accounts_for_named_new_ones(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let file = "course_code,term,email,role,name\n\
                LEC101,2026 Autumn,OUTSIDER@demo.lectern.test,teaching_assistant,\n\
                LEC101,2026 Autumn,new.student@demo.lectern.test,student,Nina New\n\
                LEC101,2026 Autumn,nobody@demo.lectern.test,student,\n\
                LEC999,2026 Autumn,student@demo.lectern.test,student,\n\
                LEC101,2026 Autumn,student@demo.lectern.test,student,\n";
    let answer = import(&app, "enrolments", &admin, file).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(counts(&report), (2, 0, 1), "{report}");
    assert_eq!(report["users_created"].as_array().unwrap().len(), 1);
    assert_eq!(
        rejected(&report),
        [
            (4, "nobody@demo.lectern.test has no account: add a name column to create one, or invite them first".to_owned()),
            (5, "the institute has no course LEC999 in 2026 Autumn: import or create it first".to_owned()),
        ]
    );

    let ta = app.login(OUTSIDER).await;
    let courses = app.get("/api/v1/courses", As::Cookie(&ta)).await.json();
    assert_eq!(courses[0]["my_role"], "teaching_assistant");
    // The new account has no password until an admin invites them.
    let login = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            serde_json::json!({"email": "new.student@demo.lectern.test", "password": ""}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);

    let again = import(
        &app,
        "enrolments",
        &admin,
        &file.replace("teaching_assistant", "student"),
    )
    .await
    .json();
    assert_eq!(counts(&again), (0, 1, 2), "{again}");
    assert!(again["users_created"].as_array().unwrap().is_empty());
}

async fn people_of_another_institute_are_not_enrolled(db: Db) {
    let app = TestApp::spawn(db).await;
    crate::fixtures::build_world(&app).await;
    let admin = app.login(ADMIN).await;
    let file = format!(
        "course_code,term,email,role\nLEC101,2026 Autumn,{},student\n",
        crate::fixtures::FOREIGN_STUDENT
    );
    let report = import(&app, "enrolments", &admin, &file).await.json();
    assert_eq!(counts(&report), (0, 0, 0));
    assert!(
        rejected(&report)[0]
            .1
            .contains("an account this institute does not manage"),
        "{report}"
    );
}

async fn an_unreadable_file_is_refused_whole_and_only_admins_import(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    for (what, file, message) in [
        ("courses", "", "the file is empty"),
        ("courses", "code,name,term\n", "\"name\" is not one of them"),
        (
            "enrolments",
            "course_code,term,email\n",
            "\"role\" is missing",
        ),
    ] {
        let answer = import(&app, what, &admin, file).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{file:?}");
        let error = &answer.json()["error"];
        assert_eq!(error["code"], "bad_request");
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{error}"
        );
    }
    let student = app.login(STUDENT).await;
    let answer = import(&app, "courses", &student, "code,title,term\nX,Y,Z\n").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let huge = format!("code,title,term\n{}", "A,B,C\n".repeat(3 * 1024 * 1024));
    let answer = import(&app, "courses", &admin, &huge).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

on_both_databases!(
    a_course_file_creates_updates_and_reports_each_bad_row,
    an_enrolment_file_enrols_known_people_and_makes_accounts_for_named_new_ones,
    people_of_another_institute_are_not_enrolled,
    an_unreadable_file_is_refused_whole_and_only_admins_import,
);
