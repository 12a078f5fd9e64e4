//! The catalog's API tests: each test gets a fresh database and storage directory, seeds
//! the demo and drives `lectern_catalog::app` in process (or `run` on a real port).
//!
//! Every test that touches a database runs twice, `<test>::on_sqlite` and
//! `<test>::on_postgres` (design decision 6): write it as `async fn <test>(db: Db)` and name
//! it in its file's `on_both_databases!`. A test fn left out of that list is dead code, which
//! clippy (`-D warnings`) refuses. PostgreSQL comes from [`pg_cluster`]: a throwaway cluster
//! this binary starts from the installed server binaries.

/// For each named `async fn(db: Db)`, a module of that name with two tests, `on_sqlite` and
/// `on_postgres`, that run it on a fresh database of each kind.
macro_rules! on_both_databases {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn on_sqlite() {
                    super::$test($crate::helpers::Db::Sqlite).await;
                }

                #[tokio::test]
                async fn on_postgres() {
                    super::$test($crate::helpers::Db::Postgres).await;
                }
            }
        )+
    };
}

mod access;
mod access_matrix;
mod agents_and_workers;
mod auth;
mod bad_input;
mod children;
mod config;
mod cross_site;
mod disclosure;
mod fixtures;
mod helpers;
mod imports;
mod job_completion;
mod jobs;
mod login_throttle;
mod management;
mod media;
mod media_pictures;
mod openapi;
mod ops;
mod pg_cluster;
mod planned_lectures;
mod playlist_cache;
mod policies;
mod privacy_registry;
mod privacy_rights;
mod raw_chunks;
mod resumable;
mod s3_media;
mod schedules;
mod store;
mod uploads;
mod users;
mod viewing;
mod web;
