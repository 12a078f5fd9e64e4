//! The seeded catalog's shape, drawn from a seeded RNG so both databases get the same rows:
//! courses spread over institutes, students enrolled in 5 to 10 courses of their own
//! institute (about 100 per course at the default sizes), one instructor for every two
//! courses, lectures spread evenly over the courses. It also picks who the benchmark logs in
//! and which lectures carry a full playlist.

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

/// How big the catalog is and what the benchmark samples from it.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub institutes: usize,
    pub courses: usize,
    /// Student and instructor enrolments together.
    pub enrolments: usize,
    pub lectures: usize,
    /// Segments of an ordinary lecture's one rendition.
    pub segments_per_lecture: u32,
    /// Students the benchmark logs in and samples from.
    pub bench_students: usize,
    /// Lectures whose media playlists the playlist test serves.
    pub playlist_lectures: usize,
    /// Segments (2 s each) of those lectures.
    pub playlist_segments: u32,
}

pub struct Course {
    pub id: String,
    pub institute: usize,
    pub number: usize,
    /// The first of this course's lectures in [`Shape::lectures`] (they are contiguous).
    pub first_lecture: usize,
    pub lecture_count: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Instructor,
    Student,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Instructor => "instructor",
            Role::Student => "student",
        }
    }
}

pub struct User {
    pub id: String,
    pub institute: usize,
    pub email: String,
    pub role: Role,
}

pub struct Enrolment {
    pub course: u32,
    pub user: u32,
}

pub struct Lecture {
    pub id: String,
    pub course: u32,
    /// 0 for the course's first lecture of the term.
    pub number: u32,
    pub segments: u32,
}

/// A student the benchmark logs in, with the courses they are enrolled in.
pub struct BenchStudent {
    pub user: u32,
    pub courses: Vec<u32>,
}

/// A lecture of the playlist test and the bench student who asks for its playback.
pub struct PlaylistLecture {
    pub lecture: u32,
    pub student: usize,
}

pub struct Shape {
    pub sizes: Sizes,
    pub courses: Vec<Course>,
    pub users: Vec<User>,
    pub enrolments: Vec<Enrolment>,
    pub lectures: Vec<Lecture>,
    pub bench_students: Vec<BenchStudent>,
    pub playlist_lectures: Vec<PlaylistLecture>,
}

/// A random UUID v4 from `rng`, as the catalog stores ids (text).
fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

impl Shape {
    pub fn generate(sizes: &Sizes, seed: u64) -> Shape {
        let mut rng = StdRng::seed_from_u64(seed);
        let institutes = sizes.institutes.max(1);
        let per_course = sizes.lectures / sizes.courses.max(1);
        let extra = sizes.lectures % sizes.courses.max(1);
        let mut courses = Vec::with_capacity(sizes.courses);
        let mut by_institute: Vec<Vec<u32>> = vec![Vec::new(); institutes];
        let mut first_lecture = 0;
        for number in 0..sizes.courses {
            let lecture_count = per_course + usize::from(number < extra);
            by_institute[number % institutes].push(number as u32);
            courses.push(Course {
                id: uuid(&mut rng),
                institute: number % institutes,
                number,
                first_lecture,
                lecture_count,
            });
            first_lecture += lecture_count;
        }

        let mut users = Vec::new();
        let mut enrolments = Vec::with_capacity(sizes.enrolments);
        // One instructor teaches two courses of one institute.
        for (institute, list) in by_institute.iter().enumerate() {
            for pair in list.chunks(2) {
                let user = users.len() as u32;
                users.push(User {
                    id: uuid(&mut rng),
                    institute,
                    email: format!("instructor{user}@i{institute}.bench.lectern.test"),
                    role: Role::Instructor,
                });
                enrolments.extend(pair.iter().map(|&course| Enrolment { course, user }));
            }
        }
        let mut next_institute = 0;
        while enrolments.len() < sizes.enrolments && sizes.courses > 0 {
            let institute = next_institute;
            next_institute = (next_institute + 1) % institutes;
            let list = &by_institute[institute];
            let wanted = rng.gen_range(5..=10).min(list.len());
            let count = wanted.min(sizes.enrolments - enrolments.len());
            if count == 0 {
                continue;
            }
            let user = users.len() as u32;
            users.push(User {
                id: uuid(&mut rng),
                institute,
                email: format!("student{user}@bench.lectern.test"),
                role: Role::Student,
            });
            for i in sample(&mut rng, list.len(), count) {
                enrolments.push(Enrolment {
                    course: list[i],
                    user,
                });
            }
        }

        let mut lectures = Vec::with_capacity(sizes.lectures);
        for (c, course) in courses.iter().enumerate() {
            for number in 0..course.lecture_count as u32 {
                lectures.push(Lecture {
                    id: uuid(&mut rng),
                    course: c as u32,
                    number,
                    segments: sizes.segments_per_lecture,
                });
            }
        }

        let students: Vec<u32> = (0..users.len() as u32)
            .filter(|&u| users[u as usize].role == Role::Student)
            .collect();
        let picked = sample(
            &mut rng,
            students.len(),
            sizes.bench_students.min(students.len()),
        );
        let mut courses_of: HashMap<u32, Vec<u32>> =
            picked.iter().map(|i| (students[i], Vec::new())).collect();
        for e in &enrolments {
            if let Some(list) = courses_of.get_mut(&e.user) {
                list.push(e.course);
            }
        }
        let bench_students: Vec<BenchStudent> = picked
            .iter()
            .map(|i| BenchStudent {
                user: students[i],
                courses: courses_of.remove(&students[i]).unwrap_or_default(),
            })
            .collect();

        let mut playlist_lectures = Vec::new();
        let mut picked_lectures = HashSet::new();
        for (student, bench) in bench_students.iter().enumerate() {
            if playlist_lectures.len() == sizes.playlist_lectures {
                break;
            }
            let course = &courses[bench.courses[rng.gen_range(0..bench.courses.len())] as usize];
            if course.lecture_count == 0 {
                continue;
            }
            let lecture = course.first_lecture + rng.gen_range(0..course.lecture_count);
            if !picked_lectures.insert(lecture) {
                continue; // already picked for another student
            }
            lectures[lecture].segments = sizes.playlist_segments;
            playlist_lectures.push(PlaylistLecture {
                lecture: lecture as u32,
                student,
            });
        }

        Shape {
            sizes: sizes.clone(),
            courses,
            users,
            enrolments,
            lectures,
            bench_students,
            playlist_lectures,
        }
    }

    pub fn students(&self) -> usize {
        self.users
            .iter()
            .filter(|u| u.role == Role::Student)
            .count()
    }

    pub fn segments(&self) -> u64 {
        self.lectures.iter().map(|l| u64::from(l.segments)).sum()
    }
}
