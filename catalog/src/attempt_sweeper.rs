//! Deletes from storage what a job's unfinished attempts stored.
//!
//! Each attempt of a job writes its own media version (`keys::attempt_version`,
//! `<job>-a<attempt>`), so a re-run never mixes with what an earlier attempt left. When the
//! job ends, the versions of the attempts that did not complete it are dead: a worker killed
//! mid-job, an attempt that failed. Their workers may be gone for good, so the catalog, which
//! sees every job end, deletes them and records that it did (`jobs.swept_at`): a sweep cut
//! short by a restart or a store that was away is taken up again by the next pass.
//!
//! A pass runs when a job ends in this catalog, at start, and every [`PASS_EVERY`] (jobs ended
//! on other replicas, passes that failed). Replicas sweeping the same job at once do no harm:
//! deleting what is gone is nothing. A worker that learns it lost its lease deletes its own
//! attempt too, in case it wrote after the sweep.

use chrono::Utc;
use lectern_packager::{keys, Storage, StorageError};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

use crate::store::{Store, StoreError};

/// How often a pass runs without a job ending here.
const PASS_EVERY: Duration = Duration::from_secs(60);

/// Jobs read per query.
const BATCH: u32 = 100;

/// Why a pass stopped early; the jobs it did not reach wait for the next pass.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The sweeping task of one catalog; it stops when this is dropped.
#[derive(Debug)]
pub struct AttemptSweeper {
    task: JoinHandle<()>,
}

impl AttemptSweeper {
    /// Starts sweeping `store`'s ended jobs from `storage`.
    pub fn spawn(store: Store, storage: Arc<dyn Storage>) -> AttemptSweeper {
        let task = tokio::spawn(async move {
            loop {
                if let Err(error) = sweep(&store, storage.as_ref()).await {
                    tracing::warn!(%error, retry_in_seconds = PASS_EVERY.as_secs(), "could not delete the media of unfinished job attempts");
                }
                tokio::select! {
                    _ = store.job_ended() => {}
                    _ = tokio::time::sleep(PASS_EVERY) => {}
                }
            }
        });
        AttemptSweeper { task }
    }
}

impl Drop for AttemptSweeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One pass: deletes the dead attempts' media of every ended job not swept yet and marks
/// each swept; returns how many jobs it swept.
pub async fn sweep(store: &Store, storage: &dyn Storage) -> Result<u64, SweepError> {
    let mut swept = 0;
    loop {
        let jobs = store.unswept_jobs(BATCH).await?;
        for job in &jobs {
            let mut objects = 0;
            for attempt in job.dead_attempts() {
                let version = keys::attempt_version(&job.id, attempt);
                objects += storage
                    .delete_prefix(&keys::version_prefix(&job.lecture_id, &version))
                    .await?;
            }
            store.mark_job_swept(&job.id, Utc::now()).await?;
            if objects > 0 {
                tracing::info!(job = %job.id, lecture = %job.lecture_id, state = job.state.as_str(), objects, "deleted the media of the job's unfinished attempts");
            }
            swept += 1;
        }
        if jobs.len() < BATCH as usize {
            return Ok(swept);
        }
    }
}
