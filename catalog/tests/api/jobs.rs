//! The job queue (design decision 6) on both databases: a job is queued once per key, handed
//! to one worker at a time under a lease that heartbeats extend, taken back when the lease
//! runs out, retried after a failure until its last attempt, and never handed out twice
//! however many workers claim at once. Time moves through the store's `now` arguments.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use lectern_catalog::auth::token_hash;
use lectern_catalog::store::{JobError, JobPolicy, NewJob, Store};
use lectern_wire::api::LectureState;
use lectern_wire::jobs::{Job, JobKind, JobState};
use serde_json::{json, Value};
use std::collections::HashSet;

use crate::fixtures::{METRICS_TOKEN, OTHER_WORKER_TOKEN};
use crate::helpers::{As, Db, TestApp, WORKER_TOKEN};

pub const INSTRUCTOR: &str = "instructor@demo.lectern.test";

/// The store's id of the worker with `token`.
pub async fn worker_id(store: &Store, token: &str) -> String {
    store
        .worker_by_token_hash(&token_hash(token))
        .await
        .unwrap()
        .expect("a worker with this token")
        .id
}

/// The demo worker's id and a second worker's (added with `OTHER_WORKER_TOKEN`).
pub async fn two_workers(store: &Store) -> (String, String) {
    store
        .upsert_worker("other-worker", &token_hash(OTHER_WORKER_TOKEN))
        .await
        .unwrap();
    (
        worker_id(store, WORKER_TOKEN).await,
        worker_id(store, OTHER_WORKER_TOKEN).await,
    )
}

/// A lecture the box recorded and stopped without live media: `processing`, waiting for
/// its transcode job.
pub async fn processing_lecture(app: &TestApp) -> String {
    let lecture = app.start_lecture().await.lecture_id;
    app.stop_recording(&lecture).await;
    let state = app.state.store().lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(state.state, LectureState::Processing);
    lecture
}

/// Queues a transcode job of `lecture` under `key` at `now`; returns its id.
pub async fn enqueue(store: &Store, lecture: &str, key: &str, now: DateTime<Utc>) -> String {
    let payload = json!({"recording": lecture});
    let job = NewJob {
        kind: JobKind::Transcode,
        lecture_id: lecture,
        payload: &payload,
        dedupe_key: key,
    };
    store.enqueue_job(&job, now).await.unwrap().unwrap().0
}

/// The lecture's jobs as its instructor sees them.
pub async fn jobs_seen_by_staff(app: &TestApp, lecture: &str) -> Vec<Value> {
    let instructor = app.login(INSTRUCTOR).await;
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/jobs"),
            As::Cookie(&instructor),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json().as_array().unwrap().clone()
}

/// Claims through the API: the job, or `None` on 204.
pub async fn claim(app: &TestApp, token: &str) -> Option<Job> {
    let answer = app
        .post("/api/v1/worker/jobs/claim", As::Bearer(token), json!({}))
        .await;
    match answer.status {
        StatusCode::OK => Some(serde_json::from_slice(&answer.body).unwrap()),
        StatusCode::NO_CONTENT => None,
        other => panic!("claim answered {other}: {}", answer.text()),
    }
}

async fn enqueueing_the_same_job_twice_gives_one_job(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let now = Utc::now();
    let payload = json!({"recording": lecture});
    let job = NewJob {
        kind: JobKind::Transcode,
        lecture_id: &lecture,
        payload: &payload,
        dedupe_key: "upload-1",
    };
    let (first, created) = store.enqueue_job(&job, now).await.unwrap().unwrap();
    assert!(created);
    let (again, created) = store.enqueue_job(&job, now).await.unwrap().unwrap();
    assert_eq!((again.as_str(), created), (first.as_str(), false));
    let other = NewJob {
        dedupe_key: "upload-2",
        ..job.clone()
    };
    let later = now + Duration::seconds(1);
    let (second, created) = store.enqueue_job(&other, later).await.unwrap().unwrap();
    assert!(created);
    assert_ne!(second, first);
    let unknown = NewJob {
        lecture_id: "00000000-0000-4000-8000-000000000000",
        ..job
    };
    assert_eq!(store.enqueue_job(&unknown, now).await.unwrap(), None);

    let jobs = jobs_seen_by_staff(&app, &lecture).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0]["id"], first.as_str());
    assert_eq!(jobs[0]["kind"], "transcode");
    assert_eq!(jobs[0]["state"], "queued");
    assert_eq!(jobs[0]["attempts"], 0);

    // A done job is still the job of its key: the same work is not queued again.
    let worker = worker_id(store, WORKER_TOKEN).await;
    let policy = JobPolicy::default();
    let claimed = store
        .claim_job(&worker, &policy, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, first);
    store
        .fail_job(
            &worker,
            &first,
            "gone",
            true,
            &JobPolicy {
                max_attempts: 1,
                ..policy
            },
            now,
        )
        .await
        .unwrap();
    let (again, created) = store
        .enqueue_job(
            &NewJob {
                dedupe_key: "upload-1",
                ..other
            },
            now,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.as_str(), created), (first.as_str(), false));
}

async fn a_claim_holds_the_oldest_job_under_a_lease_until_it_runs_out(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let policy = JobPolicy::default();
    let (w1, w2) = two_workers(store).await;
    let lecture = processing_lecture(&app).await;
    let t = Utc::now();
    let older = enqueue(store, &lecture, "a", t).await;
    let newer = enqueue(store, &lecture, "b", t + Duration::seconds(1)).await;

    let claimed = store
        .claim_job(&w1, &policy, t + Duration::seconds(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, older, "the oldest job goes first");
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.lease_expires_at, t + Duration::seconds(62));
    assert_eq!(claimed.payload, json!({"recording": lecture}));
    let claimed = store
        .claim_job(&w2, &policy, t + Duration::seconds(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, newer);
    // Both leased: nothing for anyone, even a second before the first lease runs out.
    for at in [4, 61] {
        let none = store
            .claim_job(&w2, &policy, t + Duration::seconds(at))
            .await
            .unwrap();
        assert_eq!(none, None, "at t+{at}");
    }

    // w1 went silent: once its lease ran out, w2 gets the job, as a second attempt.
    let taken = store
        .claim_job(&w2, &policy, t + Duration::seconds(62))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id.as_str(), taken.attempt), (older.as_str(), 2));

    // w1 comes back: its lease was lost, and the API tells it so.
    let refused = store
        .heartbeat_job(&w1, &older, 0.5, &policy, t + Duration::seconds(63))
        .await
        .unwrap_err();
    assert!(matches!(refused, JobError::LeaseLost), "{refused:?}");
    for (what, body) in [
        ("heartbeat", json!({"progress": 0.5})),
        ("complete", crate::job_completion::index(None, &[0])),
        ("fail", json!({"error": "too late"})),
    ] {
        let answer = app
            .post(
                &format!("/api/v1/worker/jobs/{older}/{what}"),
                As::Bearer(WORKER_TOKEN),
                body,
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{what}: {}",
            answer.text()
        );
        assert_eq!(answer.json()["error"]["code"], "conflict");
        assert!(
            answer.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("another worker"),
            "{}",
            answer.text()
        );
    }
    let jobs = jobs_seen_by_staff(&app, &lecture).await;
    assert_eq!(jobs[0]["state"], "running");
    assert_eq!(jobs[0]["attempts"], 2);
}

async fn a_heartbeat_extends_the_lease_and_records_progress(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let policy = JobPolicy::default();
    let (w1, w2) = two_workers(store).await;
    let lecture = processing_lecture(&app).await;
    let t = Utc::now();
    let job = enqueue(store, &lecture, "a", t).await;
    store.claim_job(&w1, &policy, t).await.unwrap().unwrap();

    let lease = store
        .heartbeat_job(&w1, &job, 0.4, &policy, t + Duration::seconds(50))
        .await
        .unwrap();
    assert_eq!(lease, t + Duration::seconds(110));
    let none = store
        .claim_job(&w2, &policy, t + Duration::seconds(100))
        .await
        .unwrap();
    assert_eq!(none, None, "the heartbeat moved the lease past t+60");
    let jobs = jobs_seen_by_staff(&app, &lecture).await;
    assert_eq!(jobs[0]["state"], "running");
    assert_eq!(jobs[0]["progress"], 0.4);
    assert_eq!(jobs[0]["error"], Value::Null);

    // A lease that ran out with nobody claiming the job meanwhile is still the holder's.
    store
        .heartbeat_job(&w1, &job, 0.6, &policy, t + Duration::seconds(115))
        .await
        .unwrap();
    let none = store
        .claim_job(&w2, &policy, t + Duration::seconds(170))
        .await
        .unwrap();
    assert_eq!(none, None);
    let taken = store
        .claim_job(&w2, &policy, t + Duration::seconds(175))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.attempt, 2);
    let jobs = jobs_seen_by_staff(&app, &lecture).await;
    assert_eq!(jobs[0]["progress"], 0.0, "a new attempt starts from 0");

    // Through the API, as the new holder; progress must be a fraction.
    let path = format!("/api/v1/worker/jobs/{job}/heartbeat");
    let answer = app
        .post(
            &path,
            As::Bearer(OTHER_WORKER_TOKEN),
            json!({"progress": 0.25}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert_eq!(
        jobs_seen_by_staff(&app, &lecture).await[0]["progress"],
        0.25
    );
    for bad in [
        json!({"progress": 1.5}),
        json!({"progress": -0.1}),
        json!({}),
    ] {
        let answer = app
            .post(&path, As::Bearer(OTHER_WORKER_TOKEN), bad.clone())
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

async fn failed_attempts_are_retried_then_the_job_and_its_lecture_fail_with_the_error(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "a", Utc::now()).await;
    let message = "The uploaded recording\n  could not be decoded.";

    for attempt in 1..=3u32 {
        let claimed = claim(&app, WORKER_TOKEN).await.expect("the job is queued");
        assert_eq!(
            (claimed.id.as_str(), claimed.attempt),
            (job.as_str(), attempt)
        );
        assert_eq!(claimed.kind, JobKind::Transcode);
        assert_eq!(claimed.lecture_id, lecture);
        assert_eq!(claimed.lease_seconds, 60);
        let answer = app
            .post(
                &format!("/api/v1/worker/jobs/{job}/fail"),
                As::Bearer(WORKER_TOKEN),
                json!({"error": message}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
        let seen = &jobs_seen_by_staff(&app, &lecture).await[0];
        assert_eq!(seen["attempts"], attempt);
        assert_eq!(
            seen["error"],
            "The uploaded recording could not be decoded."
        );
        let row = store.lecture(&lecture).await.unwrap().unwrap();
        if attempt < 3 {
            assert_eq!(seen["state"], "queued", "attempt {attempt}");
            assert_eq!(row.state, LectureState::Processing, "attempt {attempt}");
        } else {
            assert_eq!(seen["state"], "failed");
            assert_eq!(row.state, LectureState::Failed);
        }
    }
    let instructor = app.login(INSTRUCTOR).await;
    let shown = app
        .get(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
        )
        .await
        .json();
    assert_eq!(shown["state"], "failed");
    assert_eq!(
        shown["error"],
        "The uploaded recording could not be decoded."
    );
    assert_eq!(
        claim(&app, WORKER_TOKEN).await,
        None,
        "a failed job is not handed out"
    );

    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{job}/fail"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": "again"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text());
    assert!(
        answer.text().contains("failed, not running"),
        "{}",
        answer.text()
    );
    let missing = "00000000-0000-4000-8000-000000000000";
    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{missing}/fail"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": "x"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

/// A worker that finds the input at fault (not media, empty, an image, cut short) says no
/// attempt can succeed: the job and its lecture fail at once, with attempts to spare, and the
/// job is not handed out again. A failure that may pass (`retry` true, or left out as older
/// workers do) is queued again as before.
async fn a_final_failure_fails_the_job_and_its_lecture_at_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "a", Utc::now()).await;
    let path = format!("/api/v1/worker/jobs/{job}/fail");

    claim(&app, WORKER_TOKEN).await.expect("the job is queued");
    let answer = app
        .post(
            &path,
            As::Bearer(WORKER_TOKEN),
            json!({"error": "The storage did not answer.", "retry": true}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let seen = &jobs_seen_by_staff(&app, &lecture).await[0];
    assert_eq!(seen["state"], "queued", "{seen}");
    assert_eq!(seen["attempts"], 1);

    let claimed = claim(&app, WORKER_TOKEN).await.expect("queued again");
    assert_eq!(claimed.attempt, 2);
    let message = "The file is a still image, not a video or audio file.";
    let answer = app
        .post(
            &path,
            As::Bearer(WORKER_TOKEN),
            json!({"error": message, "retry": false}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let seen = &jobs_seen_by_staff(&app, &lecture).await[0];
    assert_eq!(seen["state"], "failed", "{seen}");
    assert_eq!(seen["attempts"], 2, "one attempt of the three was left");
    assert_eq!(seen["error"], message);
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.state, LectureState::Failed);
    assert_eq!(row.error.as_deref(), Some(message));
    assert_eq!(
        claim(&app, WORKER_TOKEN).await,
        None,
        "not handed out again"
    );

    // On a first attempt too, with the store's own call.
    let other = processing_lecture(&app).await;
    let job = enqueue(store, &other, "b", Utc::now()).await;
    let worker = worker_id(store, WORKER_TOKEN).await;
    let policy = JobPolicy::default();
    store
        .claim_job(&worker, &policy, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let outcome = store
        .fail_job(
            &worker,
            &job,
            "The file is empty.",
            false,
            &policy,
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, lectern_catalog::store::FailOutcome::Failed);
    let seen = &jobs_seen_by_staff(&app, &other).await[0];
    assert_eq!(
        (seen["state"].as_str(), seen["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    let row = store.lecture(&other).await.unwrap().unwrap();
    assert_eq!(row.state, LectureState::Failed);

    // A retry that is not a boolean is a bad request, and changes nothing.
    let third = processing_lecture(&app).await;
    let job = enqueue(store, &third, "c", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{job}/fail"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": "x", "retry": "no"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert_eq!(
        jobs_seen_by_staff(&app, &third).await[0]["state"],
        "running"
    );
}

async fn an_empty_error_is_refused_and_the_job_keeps_running(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = processing_lecture(&app).await;
    let job = enqueue(app.state.store(), &lecture, "a", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{job}/fail"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": " \n\t "}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert_eq!(
        jobs_seen_by_staff(&app, &lecture).await[0]["state"],
        "running"
    );
}

async fn a_worker_silent_on_the_last_attempt_fails_the_job_and_its_lecture(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let policy = JobPolicy {
        lease_seconds: 60,
        max_attempts: 2,
    };
    let (w1, w2) = two_workers(store).await;
    let lecture = processing_lecture(&app).await;
    let t = Utc::now();
    enqueue(store, &lecture, "a", t).await;
    store.claim_job(&w1, &policy, t).await.unwrap().unwrap();
    let second = store
        .claim_job(&w2, &policy, t + Duration::seconds(61))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.attempt, 2);
    // Both went silent: the next claim gives up on the job instead of a third attempt.
    let none = store
        .claim_job(&w1, &policy, t + Duration::seconds(122))
        .await
        .unwrap();
    assert_eq!(none, None);
    let jobs = jobs_seen_by_staff(&app, &lecture).await;
    assert_eq!(jobs[0]["state"], "failed");
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.state, LectureState::Failed);
    let error = row.error.unwrap();
    assert!(error.contains("stopped responding"), "{error}");
    assert_eq!(jobs[0]["error"], error.as_str());
}

/// Eight workers claim forty jobs as fast as they can, twice (the second time every lease
/// has run out): each job goes to exactly one of them each time.
async fn concurrent_claims_never_hand_out_a_job_twice(db: Db) {
    const WORKERS: usize = 8;
    const JOBS: usize = 40;
    let app = TestApp::spawn(db).await;
    let store = app.state.store().clone();
    let lecture = processing_lecture(&app).await;
    let t = Utc::now();
    let mut queued = HashSet::new();
    for n in 0..JOBS {
        queued.insert(enqueue(&store, &lecture, &format!("job-{n}"), t).await);
    }
    let mut workers = Vec::new();
    for n in 0..WORKERS {
        let token = format!("racing-worker-token-{n:02}-0123456789");
        store
            .upsert_worker(&format!("racing-worker-{n}"), &token_hash(&token))
            .await
            .unwrap();
        workers.push(worker_id(&store, &token).await);
    }

    for (round, now) in [(1, t), (2, t + Duration::seconds(61))] {
        let mut tasks = Vec::new();
        for worker in &workers {
            let (store, worker) = (store.clone(), worker.clone());
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(job) = store
                    .claim_job(&worker, &JobPolicy::default(), now)
                    .await
                    .unwrap()
                {
                    got.push((job.id, job.attempt));
                }
                got
            }));
        }
        let mut handed_out = Vec::new();
        for task in tasks {
            handed_out.extend(task.await.unwrap());
        }
        let ids: HashSet<&String> = handed_out.iter().map(|(id, _)| id).collect();
        assert_eq!(
            handed_out.len(),
            JOBS,
            "round {round}: {} claims for {JOBS} jobs",
            handed_out.len()
        );
        assert_eq!(ids.len(), JOBS, "round {round}: a job was handed out twice");
        assert!(ids.iter().all(|id| queued.contains(*id)));
        assert!(handed_out.iter().all(|(_, attempt)| *attempt == round));
    }
}

async fn metrics_count_jobs_by_state(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    for key in ["a", "b"] {
        enqueue(store, &lecture, key, Utc::now()).await;
    }
    claim(&app, WORKER_TOKEN).await.unwrap();
    let text = app.get("/metrics", As::Bearer(METRICS_TOKEN)).await.text();
    for line in [
        r#"lectern_jobs{state="queued"} 1"#,
        r#"lectern_jobs{state="running"} 1"#,
        r#"lectern_jobs{state="done"} 0"#,
        r#"lectern_jobs{state="failed"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}

/// Job states on the wire are the column's words, so a UI can show them as they come.
async fn a_lectures_jobs_show_their_state_words(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = processing_lecture(&app).await;
    enqueue(app.state.store(), &lecture, "a", Utc::now()).await;
    let jobs = jobs_seen_by_staff(&app, &lecture).await;
    let state: JobState = serde_json::from_value(jobs[0]["state"].clone()).unwrap();
    assert_eq!(state, JobState::Queued);
    for field in [
        "id",
        "kind",
        "progress",
        "attempts",
        "created_at",
        "updated_at",
    ] {
        assert!(!jobs[0][field].is_null(), "{field} missing: {}", jobs[0]);
    }
}

on_both_databases!(
    enqueueing_the_same_job_twice_gives_one_job,
    a_claim_holds_the_oldest_job_under_a_lease_until_it_runs_out,
    a_heartbeat_extends_the_lease_and_records_progress,
    failed_attempts_are_retried_then_the_job_and_its_lecture_fail_with_the_error,
    a_final_failure_fails_the_job_and_its_lecture_at_once,
    an_empty_error_is_refused_and_the_job_keeps_running,
    a_worker_silent_on_the_last_attempt_fails_the_job_and_its_lecture,
    concurrent_claims_never_hand_out_a_job_twice,
    metrics_count_jobs_by_state,
    a_lectures_jobs_show_their_state_words,
);
