//! The demo data a newcomer meets: one institute, an admin, an instructor, an enrolled
//! student and a student of the same institute who is not enrolled, one course, one room
//! with a capture box, one worker. Seeding twice changes nothing (tokens are updated).

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

const USERS: [(&str, &str, &str, Option<&str>); 4] = [
    ("admin@demo.lectern.test", "Ada Admin", "admin", None),
    (
        "instructor@demo.lectern.test",
        "Ines Instructor",
        "instructor",
        Some("instructor"),
    ),
    (
        "student@demo.lectern.test",
        "Sam Student",
        "student",
        Some("student"),
    ),
    (
        "outsider@demo.lectern.test",
        "Olle Outsider",
        "student",
        None,
    ),
];

impl Store {
    /// Seeds the demo data (idempotent).
    #[tracing::instrument(skip_all)]
    pub async fn seed_demo(&self, seed: &DemoSeed<'_>) -> Result<(), StoreError> {
        let institute = self
            .upsert_id(
                "INSERT INTO institutes (id, name) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                &[INSTITUTE],
                "SELECT id FROM institutes WHERE name = ?1",
                &[INSTITUTE],
            )
            .await?;
        let course = self.upsert_id(
            "INSERT INTO courses (id, institute_id, code, title, term) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (institute_id, code, term) DO NOTHING",
            &[&institute, COURSE_CODE, "Introduction to Lecture Capture", "2026 Autumn"],
            "SELECT id FROM courses WHERE institute_id = ?1 AND code = ?2 AND term = ?3",
            &[&institute, COURSE_CODE, "2026 Autumn"],
        )
        .await?;
        for (email, name, role, enrolment) in USERS {
            let existing: Option<(String,)> =
                sqlx::query_as("SELECT id FROM users WHERE email = ?1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?;
            let user_id = match existing {
                Some((id,)) => id,
                None => {
                    let id = new_id();
                    sqlx::query(
                        "INSERT INTO users (id, institute_id, email, name, password_hash, role) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .bind(&id)
                    .bind(&institute)
                    .bind(email)
                    .bind(name)
                    .bind((seed.hash_password)()?)
                    .bind(role)
                    .execute(&self.pool)
                    .await?;
                    id
                }
            };
            if let Some(as_role) = enrolment {
                sqlx::query(
                    "INSERT INTO enrolments (course_id, user_id, role) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&course)
                .bind(&user_id)
                .bind(as_role)
                .execute(&self.pool)
                .await?;
            }
        }
        let room = self.upsert_id(
            "INSERT INTO rooms (id, institute_id, name, default_course_id) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (institute_id, name) DO UPDATE SET default_course_id = excluded.default_course_id",
            &[&institute, "Demo Hall", &course],
            "SELECT id FROM rooms WHERE institute_id = ?1 AND name = ?2",
            &[&institute, "Demo Hall"],
        )
        .await?;
        sqlx::query(
            "INSERT INTO agents (id, name, room_id, token_hash) VALUES (?1, 'demo-hall-box', ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET room_id = excluded.room_id, token_hash = excluded.token_hash",
        )
        .bind(new_id())
        .bind(&room)
        .bind(&seed.agent_token_hash)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "INSERT INTO workers (id, name, token_hash) VALUES (?1, 'demo-worker', ?2) \
             ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash",
        )
        .bind(new_id())
        .bind(&seed.worker_token_hash)
        .execute(&self.pool)
        .await?;
        tracing::info!("demo data seeded");
        Ok(())
    }

    /// Runs `insert` with a new id as `?1` and `args` as `?2…`, then returns the id that
    /// `select` finds with `keys` (the new row or the one already there).
    async fn upsert_id(
        &self,
        insert: &str,
        args: &[&str],
        select: &str,
        keys: &[&str],
    ) -> Result<String, StoreError> {
        let mut query = sqlx::query(insert).bind(new_id());
        for arg in args {
            query = query.bind(*arg);
        }
        query.execute(&self.pool).await?;
        let mut query = sqlx::query_as::<_, (String,)>(select);
        for key in keys {
            query = query.bind(*key);
        }
        Ok(query.fetch_one(&self.pool).await?.0)
    }
}
