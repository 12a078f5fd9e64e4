//! The tests' PostgreSQL: one throwaway cluster per test binary ([`Cluster`], shared with the
//! benchmark), started by the first test that asks; every test gets its own database in it
//! ([`fresh_database_url`]). A missing or broken PostgreSQL fails the test, never skips it.

#[path = "../support/pg_cluster.rs"]
mod cluster;

use cluster::Cluster;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Lives until the test binary exits; the cluster's watchdog then stops the server.
static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database in the tests' cluster, starting the cluster first if
/// this is the binary's first PostgreSQL test. Panics (a failing test) when PostgreSQL is
/// not installed or does not start.
pub async fn fresh_database_url() -> String {
    let cluster = match CLUSTER.get_or_init(Cluster::start) {
        Ok(cluster) => cluster,
        Err(message) => panic!("{message}"),
    };
    let name = format!(
        "lectern_test_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    match cluster.create_database(&name).await {
        Ok(url) => url,
        Err(message) => panic!("{message}"),
    }
}
