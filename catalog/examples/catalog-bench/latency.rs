//! Latency of the student's two list requests, one request at a time (no queueing in the
//! figure), each by a student picked at random among those logged in, every answer checked
//! against the seeded shape.

use anyhow::bail;
use rand::rngs::StdRng;
use rand::Rng;
use std::time::Duration;

use crate::api::Api;
use crate::shape::Shape;

/// Sorted request latencies.
pub struct Latency(Vec<Duration>);

impl Latency {
    /// The `p`-th percentile (0 < p ≤ 100), nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }
}

/// One request to time: by whom, and how many items the JSON array must hold.
struct Probe {
    path: String,
    student: usize,
    expected: usize,
}

/// `GET /api/v1/courses`: the student's own courses.
pub async fn my_courses(
    api: &Api,
    shape: &Shape,
    cookies: &[String],
    samples: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Latency> {
    measure(api, cookies, samples, rng, |rng| {
        let student = rng.gen_range(0..cookies.len());
        Probe {
            path: "/api/v1/courses".into(),
            student,
            expected: shape.bench_students[student].courses.len(),
        }
    })
    .await
}

/// `GET /api/v1/courses/{id}/lectures` of one of the student's courses.
pub async fn course_lectures(
    api: &Api,
    shape: &Shape,
    cookies: &[String],
    samples: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Latency> {
    measure(api, cookies, samples, rng, |rng| {
        let student = rng.gen_range(0..cookies.len());
        let courses = &shape.bench_students[student].courses;
        let course = &shape.courses[courses[rng.gen_range(0..courses.len())] as usize];
        Probe {
            path: format!("/api/v1/courses/{}/lectures", course.id),
            student,
            expected: course.lecture_count,
        }
    })
    .await
}

/// Times `samples` probes after a tenth as many untimed ones (connections, caches).
async fn measure(
    api: &Api,
    cookies: &[String],
    samples: usize,
    rng: &mut StdRng,
    mut next: impl FnMut(&mut StdRng) -> Probe,
) -> anyhow::Result<Latency> {
    let warm_up = samples / 10;
    let mut timed = Vec::with_capacity(samples);
    for i in 0..warm_up + samples.max(1) {
        let probe = next(rng);
        let answer = api.get(&probe.path, Some(&cookies[probe.student])).await?;
        let items = serde_json::from_slice::<Vec<serde_json::Value>>(&answer.body)
            .map(|items| items.len())
            .ok();
        if !answer.status.is_success() || items != Some(probe.expected) {
            bail!(
                "GET {} answered {} with {items:?} items, {} expected: {}",
                probe.path,
                answer.status,
                probe.expected,
                String::from_utf8_lossy(&answer.body)
            );
        }
        if i >= warm_up {
            timed.push(answer.elapsed);
        }
    }
    timed.sort();
    Ok(Latency(timed))
}
