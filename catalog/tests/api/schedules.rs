//! Schedules and what capture boxes get from them, on both databases: CRUD with its audit
//! trail, timings refused with a reason, overlaps in a room refused naming the other, the
//! local time kept across a DST change, the box's schedule with its ETag and 304, recordings
//! started inside an occurrence, and the heartbeat admins see.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, NaiveDateTime, Timelike, Utc};
use lectern_catalog::auth::token_hash;
use lectern_catalog::store::{Page, AGENT_ONLINE_WITHIN};
use serde_json::{json, Value};

use crate::helpers::{Answer, As, Db, TestApp, AGENT_TOKEN, STUDENT};

const ADMIN: &str = "admin@demo.lectern.test";
const INSTRUCTOR: &str = "instructor@demo.lectern.test";

/// The demo world's ids: LEC101 and Demo Hall (the demo box's room).
struct Demo {
    admin: String,
    course: String,
    room: String,
}

async fn demo(app: &TestApp) -> Demo {
    let admin = app.login(ADMIN).await;
    let courses = app.get("/api/v1/courses", As::Cookie(&admin)).await.json();
    let rooms = app.get("/api/v1/rooms", As::Cookie(&admin)).await.json();
    Demo {
        course: courses[0]["id"].as_str().unwrap().to_owned(),
        room: rooms[0]["id"].as_str().unwrap().to_owned(),
        admin,
    }
}

fn schedule(demo: &Demo, title: &str, first_start: &str, zone: &str, rule: &str) -> Value {
    json!({
        "course_id": demo.course, "room_id": demo.room, "title": title,
        "first_start": first_start, "timezone": zone, "rrule": rule, "duration_minutes": 90
    })
}

async fn create(app: &TestApp, demo: &Demo, body: Value) -> Answer {
    app.post("/api/v1/schedules", As::Cookie(&demo.admin), body)
        .await
}

async fn patch(app: &TestApp, demo: &Demo, id: &str, body: Value) -> Answer {
    let uri = format!("/api/v1/schedules/{id}");
    app.send(
        Method::PATCH,
        &uri,
        As::Cookie(&demo.admin),
        Some(body),
        &[],
    )
    .await
}

fn id_of(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_str().unwrap().to_owned()
}

fn message(answer: &Answer) -> String {
    answer.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A local wall-clock time as the API takes it, to the minute.
fn local_text(at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let local = at.with_timezone(&zone).naive_local();
    local
        .with_second(0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

async fn schedules_are_created_read_listed_changed_and_deleted_with_an_audit_trail(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    let body = schedule(
        &demo,
        "Lecture Capture",
        "2026-09-07T09:15:00",
        "Europe/Berlin",
        " RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261218T230000Z ",
    );
    let created = create(&app, &demo, body).await;
    let id = id_of(&created);
    let s = created.json();
    assert_eq!(s["rrule"], "FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261218T230000Z");
    assert_eq!(s["first_start"], "2026-09-07T09:15:00");
    assert_eq!(s["timezone"], "Europe/Berlin");

    let uri = format!("/api/v1/schedules/{id}");
    let instructor = app.login(INSTRUCTOR).await;
    let read = app.get(&uri, As::Cookie(&instructor)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    assert_eq!(read.json(), s);
    let student = app.login(STUDENT).await;
    assert_eq!(
        app.get(&uri, As::Cookie(&student)).await.status,
        StatusCode::NOT_FOUND
    );
    let list_uri = format!("/api/v1/courses/{}/schedules", demo.course);
    let list = app.get(&list_uri, As::Cookie(&instructor)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());

    let changed = patch(
        &app,
        &demo,
        &id,
        json!({"title": "Lecture Capture I", "duration_minutes": 45}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(changed.json()["title"], "Lecture Capture I");
    assert_eq!(changed.json()["duration_minutes"], 45);
    assert_eq!(changed.json()["rrule"], s["rrule"]);
    let typo = patch(&app, &demo, &id, json!({"titel": "x"})).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST, "{}", typo.text());

    let gone = app
        .send(Method::DELETE, &uri, As::Cookie(&demo.admin), None, &[])
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text());
    assert_eq!(
        app.get(&uri, As::Cookie(&demo.admin)).await.status,
        StatusCode::NOT_FOUND
    );

    let audit = app
        .get("/api/v1/audit", As::Cookie(&demo.admin))
        .await
        .json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_id"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["schedule.delete", "schedule.update", "schedule.create"]
    );
}

async fn bad_timings_are_400_saying_what_was_wrong(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    let start = "2026-09-07T09:15:00";
    let weekly = "FREQ=WEEKLY";
    let mut cases = vec![
        (
            schedule(&demo, "T", start, "Europe/Berlin", "FREQ=FORTNIGHTLY"),
            "not a valid RFC 5545 recurrence rule",
        ),
        (
            schedule(&demo, "T", start, "Mars/Olympus_Mons", weekly),
            "\"Mars/Olympus_Mons\" is not an IANA time zone",
        ),
        (
            schedule(
                &demo,
                "T",
                start,
                "Europe/Berlin",
                "FREQ=MINUTELY;BYSECOND=0",
            ),
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY",
        ),
        (
            schedule(&demo, "T", "2026-03-29T02:30:00", "Europe/Berlin", weekly),
            "does not exist in Europe/Berlin",
        ),
        (
            schedule(&demo, "T", start, "Europe/Berlin", "FREQ=DAILY;BYHOUR=9,10"),
            "overlap each other",
        ),
        (
            schedule(&demo, "  ", start, "Europe/Berlin", weekly),
            "title must not be empty",
        ),
        (
            schedule(&demo, "T", "next monday", "Europe/Berlin", weekly),
            "first_start",
        ),
    ];
    for minutes in [0, 721, 100_000] {
        let mut body = schedule(&demo, "T", start, "Europe/Berlin", weekly);
        body["duration_minutes"] = json!(minutes);
        cases.push((body, "duration_minutes must be 1 to 720"));
    }
    for (body, expected) in cases {
        let answer = create(&app, &demo, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text()
        );
        assert!(
            message(&answer).contains(expected),
            "{body}: {} lacks {expected:?}",
            answer.text()
        );
    }
    // A rule without COUNT or UNTIL recurs until it is changed: allowed.
    let forever = create(
        &app,
        &demo,
        schedule(&demo, "For ever", start, "Europe/Berlin", weekly),
    )
    .await;
    let id = id_of(&forever);
    let refused = patch(&app, &demo, &id, json!({"timezone": "Europe/Berln"})).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    assert!(
        message(&refused).contains("Europe/Berln"),
        "{}",
        refused.text()
    );
}

async fn an_overlapping_schedule_in_the_same_room_is_409_naming_the_other(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    let mondays = schedule(
        &demo,
        "Mondays",
        "2027-01-04T09:15:00",
        "Europe/Berlin",
        "FREQ=WEEKLY;BYDAY=MO",
    );
    let first = id_of(&create(&app, &demo, mondays).await);

    // 08:15 UTC is 09:15 in Berlin in winter: zones are compared as instants.
    let utc = schedule(
        &demo,
        "UTC Mondays",
        "2027-01-04T08:30:00",
        "UTC",
        "FREQ=WEEKLY;BYDAY=MO",
    );
    let clash = create(&app, &demo, utc.clone()).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.text());
    let text = message(&clash);
    assert!(
        text.contains("\"Mondays\"") && text.contains(&first),
        "{text}"
    );

    // Back to back is not an overlap; the same times in another room are no clash either.
    let after = schedule(
        &demo,
        "After",
        "2027-01-04T10:45:00",
        "Europe/Berlin",
        "FREQ=WEEKLY;BYDAY=MO",
    );
    let second = id_of(&create(&app, &demo, after).await);
    let other_room = app
        .post(
            "/api/v1/rooms",
            As::Cookie(&demo.admin),
            json!({"name": "Second Hall"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut elsewhere = utc;
    elsewhere["room_id"] = json!(other_room);
    id_of(&create(&app, &demo, elsewhere).await);

    // Changing a schedule into a clash is refused; changing it without one is not, and it
    // does not clash with itself.
    let moved = patch(
        &app,
        &demo,
        &second,
        json!({"first_start": "2027-01-04T10:00:00"}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::CONFLICT, "{}", moved.text());
    assert!(message(&moved).contains(&first), "{}", moved.text());
    let shorter = patch(&app, &demo, &first, json!({"duration_minutes": 60})).await;
    assert_eq!(shorter.status, StatusCode::OK, "{}", shorter.text());
    // A rule that starts more than a year from now is compared from its own start on.
    let later = schedule(
        &demo,
        "Later",
        "2028-03-06T09:30:00",
        "Europe/Berlin",
        "FREQ=MONTHLY;BYDAY=1MO",
    );
    let clash = create(&app, &demo, later).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.text());
}

async fn a_lecture_keeps_its_local_time_across_the_dst_change(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    // Berlin leaves summer time on Sunday 25 October 2026.
    let body = schedule(
        &demo,
        "Lecture Capture",
        "2026-10-19T09:15:00",
        "Europe/Berlin",
        "FREQ=WEEKLY;BYDAY=MO",
    );
    let id = id_of(&create(&app, &demo, body).await);
    let store = app.state.store();
    let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
    let found = store
        .room_occurrences(
            &demo.room,
            at("2026-10-18T00:00:00Z"),
            at("2026-11-03T00:00:00Z"),
        )
        .await
        .unwrap();
    let spans: Vec<_> = found.iter().map(|o| (o.start, o.end)).collect();
    assert_eq!(
        spans,
        [
            (at("2026-10-19T07:15:00Z"), at("2026-10-19T08:45:00Z")),
            (at("2026-10-26T08:15:00Z"), at("2026-10-26T09:45:00Z")),
            (at("2026-11-02T08:15:00Z"), at("2026-11-02T09:45:00Z")),
        ]
    );
    assert!(found
        .iter()
        .all(|o| o.schedule_id == id && o.course_id == demo.course));

    // A box starting at 09:20 local after the change records into the occurrence; at 08:20
    // local (07:20 UTC, the summer-time slot) there is none.
    let agent = store
        .agent_by_token_hash(&token_hash(AGENT_TOKEN))
        .await
        .unwrap()
        .unwrap();
    let inside = store
        .start_lecture(&agent, None, Some("presenter"), at("2026-10-26T08:20:00Z"))
        .await
        .unwrap();
    let lecture = store.lecture(&inside).await.unwrap().unwrap();
    assert_eq!(lecture.schedule_id.as_deref(), Some(id.as_str()));
    assert_eq!(lecture.settings.title, "Lecture Capture, 26 Oct 2026");
    assert_eq!(
        lecture.settings.planned_start,
        Some(at("2026-10-26T08:15:00Z"))
    );
    assert_eq!(
        lecture.settings.planned_end,
        Some(at("2026-10-26T09:45:00Z"))
    );
    let outside = store
        .start_lecture(&agent, None, Some("presenter"), at("2026-10-26T07:20:00Z"))
        .await
        .unwrap();
    let lecture = store.lecture(&outside).await.unwrap().unwrap();
    assert_eq!(lecture.schedule_id, None);
    assert_eq!(lecture.settings.planned_start, None);
    assert!(lecture.settings.title.starts_with("LEC101 lecture"));
}

/// Starts a recording with the demo box; returns the lecture as the admin sees it.
async fn record(app: &TestApp, demo: &Demo) -> Value {
    let started = app.start_lecture().await;
    let uri = format!("/api/v1/lectures/{}", started.lecture_id);
    let lecture = app.get(&uri, As::Cookie(&demo.admin)).await;
    assert_eq!(lecture.status, StatusCode::OK, "{}", lecture.text());
    lecture.json()
}

async fn a_recording_inside_an_occurrence_goes_to_the_schedule_s_course_else_the_room_s(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    let course = app
        .post(
            "/api/v1/courses",
            As::Cookie(&demo.admin),
            json!({"code": "SCH100", "title": "Scheduled Studies", "term": "2026 Autumn"}),
        )
        .await;
    assert_eq!(course.status, StatusCode::CREATED, "{}", course.text());
    let course = course.json()["id"].as_str().unwrap().to_owned();
    let tokyo = chrono_tz::Asia::Tokyo;
    let now = Utc::now();
    let begun = local_text(now - Duration::minutes(10), tokyo);
    let body = json!({
        "course_id": course, "room_id": demo.room, "title": "Scheduled Studies",
        "first_start": begun, "timezone": "Asia/Tokyo", "rrule": "FREQ=DAILY",
        "duration_minutes": 60
    });
    let id = id_of(&create(&app, &demo, body).await);

    let lecture = record(&app, &demo).await;
    let first: NaiveDateTime = begun.parse().unwrap();
    let planned = first.and_local_timezone(tokyo).unwrap().with_timezone(&Utc);
    assert_eq!(lecture["course_id"], course.as_str());
    assert_eq!(lecture["schedule_id"], id.as_str());
    assert_eq!(
        lecture["title"],
        format!("Scheduled Studies, {}", first.format("%-d %b %Y"))
    );
    let time = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!(time(&lecture["planned_start"]), planned);
    assert_eq!(
        time(&lecture["planned_end"]),
        planned + Duration::minutes(60)
    );

    // Up to five minutes early still counts (a box's clock, a pre-roll).
    let soon = local_text(now + Duration::minutes(4), tokyo);
    patch(&app, &demo, &id, json!({"first_start": soon})).await;
    let early = record(&app, &demo).await;
    assert_eq!(early["schedule_id"], id.as_str());
    assert!(time(&early["planned_start"]) > now);

    // Outside every occurrence: the room's default course, as before schedules.
    let later = local_text(now + Duration::minutes(30), tokyo);
    let answer = patch(&app, &demo, &id, json!({"first_start": later})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let lecture = record(&app, &demo).await;
    assert_eq!(lecture["course_id"], demo.course.as_str());
    assert_eq!(lecture["schedule_id"], Value::Null);
    assert_eq!(lecture["planned_start"], Value::Null);
    assert!(lecture["title"]
        .as_str()
        .unwrap()
        .starts_with("LEC101 lecture, "));
}

async fn schedule_of(app: &TestApp, query: &str, if_none_match: Option<&str>) -> Answer {
    let uri = format!("/api/v1/agent/schedule{query}");
    let headers: Vec<(&str, &str)> = if_none_match
        .map(|tag| vec![("if-none-match", tag)])
        .unwrap_or_default();
    app.send(Method::GET, &uri, As::Bearer(AGENT_TOKEN), None, &headers)
        .await
}

async fn the_box_s_schedule_has_an_etag_that_changes_only_with_its_content(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    let empty = schedule_of(&app, "", None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text());
    assert_eq!(empty.header("content-type"), "application/json");
    assert_eq!(
        empty.json(),
        json!({"room_id": demo.room, "occurrences": []})
    );
    let tag = empty.header("etag").to_owned();
    assert!(tag.starts_with('"') && tag.len() > 20, "{tag}");
    assert_eq!(schedule_of(&app, "", None).await.header("etag"), tag);
    let unchanged = schedule_of(&app, "", Some(&tag)).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());
    assert_eq!(unchanged.header("etag"), tag);

    // Daily at 10:00 UTC from tomorrow on.
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive();
    let first = tomorrow.and_hms_opt(10, 0, 0).unwrap();
    let body = schedule(
        &demo,
        "Daily",
        &first.format("%Y-%m-%dT%H:%M:%S").to_string(),
        "UTC",
        "FREQ=DAILY",
    );
    let id = id_of(&create(&app, &demo, body).await);
    let changed = schedule_of(&app, "", Some(&tag)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let new_tag = changed.header("etag").to_owned();
    assert_ne!(new_tag, tag);
    let week = changed.json();
    let occurrences = week["occurrences"].as_array().unwrap();
    assert!((6..=7).contains(&occurrences.len()), "{week}");
    for (day, o) in occurrences.iter().enumerate() {
        let start = first.and_utc() + Duration::days(day as i64);
        assert_eq!(o["schedule_id"], id.as_str());
        assert_eq!(o["course_id"], demo.course.as_str());
        assert_eq!(o["title"], "Daily");
        assert_eq!(
            o["start"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap(),
            start
        );
        let end = o["end"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
        assert_eq!(end, start + Duration::minutes(90));
    }
    let month = schedule_of(&app, "?days=31", None).await.json();
    assert!(
        month["occurrences"].as_array().unwrap().len() >= 30,
        "{month}"
    );

    // A change a box cannot see keeps the tag; one it can see changes it.
    let same = patch(&app, &demo, &id, json!({"title": "Daily"})).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text());
    assert_eq!(
        schedule_of(&app, "", Some(&new_tag)).await.status,
        StatusCode::NOT_MODIFIED
    );
    patch(&app, &demo, &id, json!({"title": "Daily lecture"})).await;
    let renamed = schedule_of(&app, "", Some(&new_tag)).await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.json()["occurrences"][0]["title"], "Daily lecture");

    // A box in another room sees none of it.
    let room = app
        .post(
            "/api/v1/rooms",
            As::Cookie(&demo.admin),
            json!({"name": "Second Hall"}),
        )
        .await
        .json()["id"]
        .clone();
    let made = app
        .post(
            "/api/v1/agents",
            As::Cookie(&demo.admin),
            json!({"name": "second-hall-box", "room_id": room}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let token = made.json()["token"].as_str().unwrap().to_owned();
    let other = app
        .get("/api/v1/agent/schedule", As::Bearer(&token))
        .await
        .json();
    assert_eq!(other, json!({"room_id": room, "occurrences": []}));
    for query in ["?days=0", "?days=32", "?days=soon"] {
        let answer = schedule_of(&app, query, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(message(&answer).contains("days"), "{}", answer.text());
    }
}

async fn a_heartbeat_is_recorded_and_admins_see_the_box_online(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = demo(&app).await;
    let agents = app
        .get("/api/v1/agents", As::Cookie(&demo.admin))
        .await
        .json();
    let agent = &agents[0];
    assert_eq!(agent["online"], false);
    assert_eq!(agent["health"], Value::Null);
    let id = agent["id"].as_str().unwrap().to_owned();

    let health = json!({
        "disk_free_bytes": 512_000_000_000_u64,
        "devices": [{"name": "camera", "ok": true}],
        "audio_level_dbfs": -23.5
    });
    let beat = json!({"state": "capturing", "version": "0.1.0", "health": health});
    let answer = app
        .post("/api/v1/agent/heartbeat", As::Bearer(AGENT_TOKEN), beat)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let uri = format!("/api/v1/agents/{id}");
    let seen = app.get(&uri, As::Cookie(&demo.admin)).await.json();
    assert_eq!(seen["online"], true);
    assert_eq!(seen["state"], "capturing");
    assert_eq!(seen["version"], "0.1.0");
    assert_eq!(seen["health"], health);
    let last_seen: DateTime<Utc> = seen["last_seen"].as_str().unwrap().parse().unwrap();
    assert!(Utc::now() - last_seen < Duration::seconds(10));

    // A heartbeat without a version keeps the one the box last named.
    let beat = json!({"state": "idle", "health": {}});
    app.post("/api/v1/agent/heartbeat", As::Bearer(AGENT_TOKEN), beat)
        .await;
    let seen = app.get(&uri, As::Cookie(&demo.admin)).await.json();
    assert_eq!(
        (seen["state"].as_str(), seen["version"].as_str()),
        (Some("idle"), Some("0.1.0"))
    );

    // Three intervals without a heartbeat and the box is offline.
    let store = app.state.store();
    let institute = store
        .ensure_institute(lectern_catalog::store::DEMO_INSTITUTE)
        .await
        .unwrap();
    let later = last_seen + AGENT_ONLINE_WITHIN + Duration::seconds(1);
    let agent = store.agent(&institute, &id, later).await.unwrap().unwrap();
    assert!(!agent.online);
    let listed = store
        .agents(&institute, Page::ALL, last_seen)
        .await
        .unwrap();
    assert!(listed[0].online);

    for (bad, expected) in [
        (
            json!({"state": "idle", "health": [1, 2]}),
            "health must be a JSON object",
        ),
        (json!({"state": "", "health": {}}), "state"),
        (json!({"state": "on fire", "health": {}}), "state"),
        (
            json!({"state": "idle", "version": "", "health": {}}),
            "version",
        ),
        (json!({"state": "idle", "mood": "fine"}), "mood"),
        (
            json!({"state": "idle", "health": {"log": "x".repeat(17 * 1024)}}),
            "at most 16384 bytes",
        ),
    ] {
        let answer = app
            .post(
                "/api/v1/agent/heartbeat",
                As::Bearer(AGENT_TOKEN),
                bad.clone(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            message(&answer).contains(expected),
            "{bad}: {}",
            answer.text()
        );
    }
}

on_both_databases!(
    schedules_are_created_read_listed_changed_and_deleted_with_an_audit_trail,
    bad_timings_are_400_saying_what_was_wrong,
    an_overlapping_schedule_in_the_same_room_is_409_naming_the_other,
    a_lecture_keeps_its_local_time_across_the_dst_change,
    a_recording_inside_an_occurrence_goes_to_the_schedule_s_course_else_the_room_s,
    the_box_s_schedule_has_an_etag_that_changes_only_with_its_content,
    a_heartbeat_is_recorded_and_admins_see_the_box_online,
);
