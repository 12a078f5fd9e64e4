//! The demo data a newcomer meets: one institute, an admin, an instructor, an enrolled
//! student and a student of the same institute who is not enrolled, one course, one room
//! with a capture box, one worker. Seeding twice changes nothing (tokens are updated).

use lectern_wire::api::{AgeBand, Role};

use super::database::{Database, NewUser};
use super::{new_id, Store, StoreError};

/// What the demo seed needs from outside the store.
pub struct DemoSeed<'a> {
    /// SHA-256 (hex) of the demo capture box's token.
    pub agent_token_hash: String,
    /// SHA-256 (hex) of the demo worker's token.
    pub worker_token_hash: String,
    /// Hashes the demo password; called only for users that do not exist yet.
    pub hash_password: &'a (dyn Fn() -> Result<String, StoreError> + Sync),
}

/// The demo institute's name.
pub const INSTITUTE: &str = "Demo University";
/// Everyone's demo password.
pub const PASSWORD: &str = "lectern-demo";
/// The demo course's code.
pub const COURSE_CODE: &str = "LEC101";

/// The demo course's title and term.
const COURSE_TITLE: &str = "Introduction to Lecture Capture";
const COURSE_TERM: &str = "2026 Autumn";

/// Email, name, institute role and role in the demo course (if enrolled).
const USERS: [(&str, &str, Role, Option<Role>); 4] = [
    ("admin@demo.lectern.test", "Ada Admin", Role::Admin, None),
    (
        "instructor@demo.lectern.test",
        "Ines Instructor",
        Role::Instructor,
        Some(Role::Instructor),
    ),
    (
        "student@demo.lectern.test",
        "Sam Student",
        Role::Student,
        Some(Role::Student),
    ),
    (
        "outsider@demo.lectern.test",
        "Olle Outsider",
        Role::Student,
        None,
    ),
];

impl Store {
    /// Seeds the demo data (idempotent).
    #[tracing::instrument(skip_all)]
    pub async fn seed_demo(&self, seed: &DemoSeed<'_>) -> Result<(), StoreError> {
        let institute = on_backend!(self, db => db.ensure_institute(&new_id(), INSTITUTE))?;
        let course = on_backend!(self, db => db.ensure_course(
            &new_id(),
            &institute,
            COURSE_CODE,
            COURSE_TITLE,
            COURSE_TERM
        ))?;
        for (email, name, role, enrolment) in USERS {
            let user_id = match on_backend!(self, db => db.user_id_by_email(email))? {
                Some(id) => id,
                None => {
                    let id = new_id();
                    let user = NewUser {
                        id: &id,
                        institute_id: &institute,
                        email,
                        name,
                        password_hash: &(seed.hash_password)()?,
                        role,
                        age_band: AgeBand::Adult,
                    };
                    on_backend!(self, db => db.insert_user(&user))?;
                    id
                }
            };
            if let Some(as_role) = enrolment {
                on_backend!(self, db => db.ensure_enrolment(&course, &user_id, as_role))?;
            }
        }
        let room =
            on_backend!(self, db => db.ensure_room(&new_id(), &institute, "Demo Hall", &course))?;
        on_backend!(self, db => db.upsert_agent(
            &new_id(),
            "demo-hall-box",
            &room,
            &seed.agent_token_hash
        ))?;
        on_backend!(self, db => db.upsert_worker(&new_id(), "demo-worker", &seed.worker_token_hash))?;
        tracing::info!("demo data seeded");
        Ok(())
    }
}
